"""Writes the golden 明細CSV files in this folder and, with ``--expected``, their expected JSON.

The CSV files are written from the text below, byte for byte (cp932 or UTF-8, CRLF); they are
committed, and the tests read the committed bytes. The expected JSON beside each file is what
the parser and ``trips --json`` must produce; ``--expected`` recomputes it from the current
code, for a human to review in the diff before committing. Tests never call this script.

    python tests/data/meisai/regenerate.py              # rewrite the CSV/PDF/XLSX inputs
    python tests/data/meisai/regenerate.py --expected   # also rewrite *.expected.json
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent

HEADER_13 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,車種,車両番号,ＥＴＣカード番号,備考"
)
HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)

# 15 columns, as downloaded: cp932, no quoting, CRLF, not sorted. Line numbers in comments.
ROWS_15 = [
    # 2: negative discount, 経路割引
    "24/11/05,08:54,24/11/05,10:51,静岡,仙台宮城,5730,-1150,4580,0,4580,1,1234,*******123456789,確定;経路割引",
    # 3: 髙 in an IC name, （朝夕）, part paid by rebate
    "24/11/04,06:18,24/11/04,08:40,髙崎,小牧,2190,-660,1530,300,1230,1,1234,*******123456789,確定;（朝夕）",
    # 4: a single mainline gate: entry date, time and IC blank; no vehicle number
    ",,24/11/03,08:05,,本線料金所,,,410,0,410,1,,*******123456789,確定",
    # 5: full-width minus, 確認中;深夜割引, crosses midnight
    "24/11/11,23:57,24/11/12,00:27,浜松,京都東,1520,－460,1060,0,1060,1,1234,*******123456789,確認中;深夜割引",
    # 6 and 7: two genuinely identical rows; ① in an IC name; another mask length
    "24/11/07,10:08,24/11/07,10:54,大宮①,神戸西,,,3740,0,3740,2,0815,********12345678,確定",
    "24/11/07,10:08,24/11/07,10:54,大宮①,神戸西,,,3740,0,3740,2,0815,********12345678,確定",
    # 8: an adjustment row with a negative toll
    "24/11/20,09:10,24/11/20,10:05,厚木,横浜町田,,,-1050,0,-1050,1,1234,*******123456789,確定",
    # 9: a full 16-digit card number (kept as its last 4 only); exit in the next month
    "24/10/31,23:40,24/11/01,00:20,髙松中央,善通寺,,,1100,0,1100,1,1234,4980123456780042,確定;深夜割引",
    # 10: paid entirely by rebate, （朝夕）
    "24/11/06,18:36,24/11/06,20:13,前橋,横浜町田,,,1000,1000,0,1,1234,*******123456789,確定;（朝夕）",
    # 11: 確認中 without flags
    "24/11/02,17:22,24/11/02,19:49,高崎,厚木,4690,-940,3750,0,3750,1,1234,*******123456789,確認中",
]

# The later, overlapping download: lines 5 and 11 of ROWS_15 are now 確定, one with new amounts;
# the rest repeat, and two new trips follow.
ROWS_15_LATER = [
    "24/11/05,08:54,24/11/05,10:51,静岡,仙台宮城,5730,-1150,4580,0,4580,1,1234,*******123456789,確定;経路割引",
    "24/11/04,06:18,24/11/04,08:40,髙崎,小牧,2190,-660,1530,300,1230,1,1234,*******123456789,確定;（朝夕）",
    ",,24/11/03,08:05,,本線料金所,,,410,0,410,1,,*******123456789,確定",
    "24/11/11,23:57,24/11/12,00:27,浜松,京都東,1520,-460,1060,500,560,1,1234,*******123456789,確定;深夜割引",
    "24/11/07,10:08,24/11/07,10:54,大宮①,神戸西,,,3740,0,3740,2,0815,********12345678,確定",
    "24/11/07,10:08,24/11/07,10:54,大宮①,神戸西,,,3740,0,3740,2,0815,********12345678,確定",
    "24/11/20,09:10,24/11/20,10:05,厚木,横浜町田,,,-1050,0,-1050,1,1234,*******123456789,確定",
    "24/10/31,23:40,24/11/01,00:20,髙松中央,善通寺,,,1100,0,1100,1,1234,4980123456780042,確定;深夜割引",
    "24/11/06,18:36,24/11/06,20:13,前橋,横浜町田,,,1000,1000,0,1,1234,*******123456789,確定;（朝夕）",
    "24/11/02,17:22,24/11/02,19:49,高崎,厚木,4690,-1400,3290,0,3290,1,1234,*******123456789,確定;休日割引",
    "24/11/25,07:40,24/11/25,08:15,厚木,横浜町田,,,930,0,930,1,1234,*******123456789,確認中;（朝夕）",
    "24/11/26,12:00,24/11/26,13:10,東京,静岡,4300,-1290,3010,0,3010,1,1234,*******123456789,確認中",
]

# 13 columns: 備考 holds discount names only (no status).
ROWS_13 = [
    "24/10/02,23:54,24/10/03,00:18,宝塚,広島,2290,-460,1830,1,1234,*******123456789,経路割引",
    "24/10/04,11:07,24/10/04,12:43,仙台宮城,名古屋,,,2570,1,1234,*******123456789,深夜割引",
    ",,24/10/12,08:05,,本線料金所,,,410,1,,*******123456789,",
    "24/10/10,20:49,24/10/10,21:47,仙台港北,京都東,2000,－600,1400,1,1234,*******123456789,休日割引",
    "24/10/07,18:45,24/10/07,20:25,松島海岸,御殿場,,,5050,1,1234,*******123456789,",
    "24/10/07,18:45,24/10/07,20:25,松島海岸,御殿場,,,5050,1,1234,*******123456789,",
    "24/10/15,06:45,24/10/15,08:26,厚木,横浜町田,,,930,1,1234,********12345678,",
    "24/10/20,10:00,24/10/20,10:30,髙崎,前橋,,,-420,1,1234,*******123456789,",
]

# The 13-column rows with the columns in another order (mapped by header name).
ORDER_13 = [11, 12, 5, 4, 8, 7, 6, 2, 3, 0, 1, 9, 10]


def _reorder(line: str) -> str:
    cells = line.split(",")
    return ",".join(cells[i] for i in ORDER_13)


def _spreadsheet(line: str) -> str:
    """What a spreadsheet makes of a row on re-saving: 4-digit years, H:MM, quoted text."""
    cells = line.split(",")
    out = []
    for i, cell in enumerate(cells):
        if i in (0, 2) and cell:
            cell = "20" + cell
        elif i in (1, 3) and cell:
            cell = str(int(cell[:2])) + cell[2:]
        elif i == 12 and cell:
            cell = str(int(cell))  # a leading zero is lost (0815 -> 815)
        if i in (4, 5, 13, 14) and cell:
            cell = f'"{cell}"'
        out.append(cell)
    return ",".join(out)


BAD_15 = [
    # 2: fine
    "24/11/05,08:54,24/11/05,10:51,静岡,仙台宮城,5730,-1150,4580,0,4580,1,1234,*******123456789,確定",
    # 3: a day that does not exist
    "25/02/28,22:00,25/02/30,23:00,静岡,浜松,,,1000,0,1000,1,1234,*******123456789,確定",
    # 4: an amount that is not an integer of yen
    "24/11/05,09:00,24/11/05,10:00,静岡,浜松,,,1e9,0,1e9,1,1234,*******123456789,確定",
    # 5: a column missing
    "24/11/05,09:00,24/11/05,10:00,静岡,浜松,,,1000,0,1000,1,*******123456789,確定",
    # 6: blank exit IC
    "24/11/05,09:00,24/11/05,10:00,静岡,,,,1000,0,1000,1,1234,*******123456789,確定",
    # 7: a card number without its last 4 digits
    "24/11/05,09:00,24/11/05,10:00,静岡,浜松,,,1000,0,1000,1,1234,****************,確定",
    # 8: fine
    "24/11/06,09:00,24/11/06,10:00,静岡,浜松,,,1000,0,1000,1,1234,*******123456789,確定",
    # 9: entry date without entry time
    "24/11/05,,24/11/05,10:00,静岡,浜松,,,1000,0,1000,1,1234,*******123456789,確定",
    # 10: a time that does not exist
    "24/11/05,09:00,24/11/05,24:30,静岡,浜松,,,1000,0,1000,1,1234,*******123456789,確定",
    # 11: blank toll
    "24/11/05,09:00,24/11/05,10:00,静岡,浜松,,,,0,,1,1234,*******123456789,確定",
]
BAD_15_UNDECODABLE_LINE = 12
"""Line 12 of bad_rows.csv: a cp932 lead byte cut off before its trail byte (added as bytes)."""


def crlf(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


def write_inputs() -> None:
    files: dict[str, bytes] = {
        "15col.csv": crlf([HEADER_15, *ROWS_15]).encode("cp932"),
        "15col_later.csv": crlf([HEADER_15, *ROWS_15_LATER]).encode("cp932"),
        "15col_utf8_bom.csv": b"\xef\xbb\xbf" + crlf([HEADER_15, *ROWS_15]).encode("utf-8"),
        "15col_utf8.csv": crlf([HEADER_15, *ROWS_15]).encode("utf-8"),
        "15col_spreadsheet.csv": crlf(
            [",".join(f'"{h}"' for h in HEADER_15.split(",")), *map(_spreadsheet, ROWS_15)]
        ).encode("cp932"),
        "13col.csv": crlf([HEADER_13, *ROWS_13]).encode("cp932"),
        "13col_reordered.csv": crlf([_reorder(HEADER_13), *map(_reorder, ROWS_13)]).encode("cp932"),
        "bad_rows.csv": crlf([HEADER_15, *BAD_15]).encode("cp932")
        + "24/11/07,09:00,24/11/07,10:00,静岡,浜".encode("cp932")
        + b"\x8f,,,1000,0,1000,1,1234,*******123456789,\x8a\x6d\x92\xe8\r\n",
        "empty.csv": b"",
        "unrelated.csv": crlf(
            ["日付,摘要,お引出し,お預入れ,残高", "2024/11/05,ＥＴＣ,4580,,120000"]
        ).encode("cp932"),
        "statement_pdf.pdf": b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n",
        "statement_xlsx.xlsx": _xlsx(),
    }
    for name, data in files.items():
        (HERE / name).write_bytes(data)


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("[Content_Types].xml", date_time=(2024, 11, 5, 0, 0, 0))
        archive.writestr(info, '<?xml version="1.0"?><Types/>')
    return buffer.getvalue()


GOLDEN_IMPORTS = {
    # file -> files imported before it into the same fresh store
    "15col.csv": [],
    "15col_utf8_bom.csv": [],
    "15col_utf8.csv": [],
    "15col_spreadsheet.csv": [],
    "15col_later.csv": ["15col.csv"],
    "13col.csv": [],
    "13col_reordered.csv": [],
    "bad_rows.csv": [],
    "empty.csv": [],
    "unrelated.csv": [],
    "statement_pdf.pdf": [],
    "statement_xlsx.xlsx": [],
}


def expected_for(name: str) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from etcbook.importers.meisai import NotMeisaiError, read_meisai_bytes
    from etcbook.models.imports import import_files
    from etcbook.models.store import open_store
    from etcbook.models.trips import TripFilter, list_trip_rows, trip_json

    data = (HERE / name).read_bytes()
    out: dict[str, object] = {"file": name}
    try:
        rows, errors = read_meisai_bytes(data, name)
    except NotMeisaiError as exc:
        out["problem"] = str(exc)
        return out
    out["rows"] = [row_json(r) for r in rows]
    out["errors"] = [{"line": e.line, "message": e.message} for e in errors]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "golden.sqlite3")
        try:
            before = GOLDEN_IMPORTS[name]
            if before:
                first = import_files(store, [HERE / b for b in before])
                assert first.ok, first.to_json()
                out["imported_before"] = before
            result = import_files(store, [HERE / name]).to_json()
            for file in result["files"]:  # type: ignore[union-attr]
                file["file"] = name
            out["import"] = result
            with store.engine.connect() as connection:
                out["trips"] = [
                    trip_json(r)
                    for r in list_trip_rows(connection=connection, trip_filter=TripFilter())
                ]
                out["history"] = [
                    {"trip_id": trip_id, "old_values": json.loads(old)}
                    for trip_id, old in connection.execute(
                        text("SELECT trip_id, old_values FROM trip_history ORDER BY id")
                    )
                ]
        finally:
            store.close()
    return out


def row_json(row: object) -> dict[str, object]:
    import dataclasses

    data = dataclasses.asdict(row)  # type: ignore[call-overload]
    for key in ("entry_at", "exit_at"):
        data[key] = data[key].isoformat() if data[key] else None
    data["flags"] = list(data["flags"])
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expected", action="store_true", help="also rewrite *.expected.json")
    args = parser.parse_args()
    write_inputs()
    if args.expected:
        for name in GOLDEN_IMPORTS:
            target = HERE / (name.rsplit(".", 1)[0] + ".expected.json")
            document = json.dumps(expected_for(name), ensure_ascii=False, indent=1)
            target.write_text(document + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
