"""`etcbook import` loads only what importing needs: no ORM, no charts, no PDF, no Qt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from meisai_helpers import meisai, row15

HEAVY = ("sqlmodel", "pydantic", "matplotlib", "reportlab", "PySide6", "alembic")

PROBE = """
import json, sys
from etcbook.cli import main
code = main(sys.argv[1:])
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.stdin.read())))
print(json.dumps({"code": code, "heavy": heavy}))
"""


def test_import_into_an_existing_store_loads_nothing_heavy(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite3"
    csv = tmp_path / "a.csv"
    csv.write_bytes(meisai([row15(exit="24/11/01 10:00"), row15(exit="24/11/02 10:00")]))

    def run(*args: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, "--db", str(store), *args],
            input=json.dumps(HEAVY),
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    run("card", "list")  # creates the store first: the import below opens an existing one
    assert run("import", "--json", str(csv)) == {"code": 0, "heavy": []}
