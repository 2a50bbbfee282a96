"""Build ``v0001.sqlite3``: a store written by the first release of etcbook (migration head 0001).

Not run by the tests; kept so the fixture can be rebuilt and checked. The first release is
commit af5f0aa; run this with that release's code first on the path:

    git archive af5f0aa | tar -x -C /tmp/release1
    PYTHONPATH=/tmp/release1 python tests/data/stores/make_v0001.py /tmp/release1

It writes ``v0001.sqlite3`` (one file, no WAL), the files it imported (``v0001_inputs/``) and
``v0001.expected.json`` (what the first release's ``trips --json`` and ``card list --json``
printed for it) beside this script.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = Path("/work/shared/samples")


def etcbook(release: Path, db: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "etcbook", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(release), "ETCBOOK_DB": ""},
        cwd=release,
        check=True,
    )
    return done.stdout


def later_version(sample: Path, target: Path) -> Path:
    """The 15-column sample downloaded again three weeks later: 確認中 rows now 確定, one amount
    corrected (so the store gets trip_history rows)."""
    lines = sample.read_bytes().decode("cp932").split("\r\n")
    out = []
    corrected = False
    for line in lines:
        if "確認中" in line:
            cells = line.split(",")
            cells[-1] = cells[-1].replace("確認中", "確定")
            if not corrected:  # the first one's amount changed when it was confirmed
                cells[8] = str(int(cells[8]) - 100)  # 通行料金
                cells[10] = str(int(cells[10]) - 100)  # 後納料金
                corrected = True
            line = ",".join(cells)
        out.append(line)
    target.write_bytes("\r\n".join(out).encode("cp932"))
    return target


def other_card(sample: Path, target: Path) -> Path:
    """Three rows of another card (末尾5678), not yet in the ledger."""
    lines = sample.read_bytes().decode("cp932").split("\r\n")
    rows = [lines[0]] + [line.replace("87650042", "43215678") for line in lines[1:4]]
    target.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp932"))
    return target


def main(release: Path) -> None:
    db = HERE / "v0001.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    etcbook(
        release, db, "card", "add", "--holder", "山田太郎", "--last4", "0042", "--kind", "credit",
        "--driver", "山田太郎", "--expires", "2027-03", "--mileage-id", "M0012345678",
        "--login-id", "yamada.taro", "--last-login", "2026-10-03", "--plate", "品川 300 あ 12-34",
        "--obu", "1234567890123456789", "--household", "山田家", "--auto-exchange",
    )  # fmt: skip
    connection = sqlite3.connect(db)
    connection.execute(
        "INSERT INTO route_rules (entry_pattern, exit_pattern, operator, morning_evening,"
        " created_at) VALUES (NULL, '神戸西', 'kobe', NULL, '2026-11-22T10:00:00')"
    )
    connection.commit()
    connection.close()
    inputs = HERE / "v0001_inputs"
    inputs.mkdir(exist_ok=True)
    sample15 = SAMPLES / "meisai_15col_sample.csv"
    files = [
        shutil.copyfile(SAMPLES / "meisai_13col_sample.csv", inputs / "1_13col.csv"),
        shutil.copyfile(sample15, inputs / "2_15col.csv"),
        later_version(sample15, inputs / "3_15col_later.csv"),
        other_card(sample15, inputs / "4_other_card.csv"),
    ]
    for file in files:
        etcbook(release, db, "import", str(file))
    connection = sqlite3.connect(db)
    connection.execute(
        "UPDATE trips SET purpose = '顧客訪問', business_share = 100, department = '営業1課'"
        " WHERE id IN (2, 5, 9)"
    )
    connection.execute("UPDATE trips SET purpose = '出張', business_share = 80 WHERE id = 12")
    connection.commit()
    connection.close()
    expected = {
        "trips": json.loads(etcbook(release, db, "trips", "--json"))["trips"],
        "cards": json.loads(etcbook(release, db, "card", "list", "--json"))["cards"],
    }
    (HERE / "v0001.expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    connection = sqlite3.connect(db)  # one self-contained file: no WAL
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.execute("VACUUM")
    connection.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
