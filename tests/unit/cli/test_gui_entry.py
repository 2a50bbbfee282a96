"""``etcbook-gui``: the gui-script entry point runs without a console (pythonw: no std streams)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_gui_main_works_without_standard_streams(tmp_path: Path) -> None:
    store = tmp_path / "ストア" / "etcbook.sqlite3"
    store.parent.mkdir()
    code = (
        "import sys\n"
        "from etcbook.cli import gui_main\n"
        "sys.stdout = sys.stderr = None  # as under pythonw.exe\n"
        f"sys.argv = ['etcbook-gui', '--db', {str(store)!r}, 'card', 'add', '--holder', '山田太郎',"
        " '--last4', '1234', '--kind', 'credit', '--expires', '2027-03']\n"
        "status = gui_main()\n"
        "assert sys.stdout is not None and sys.stderr is not None\n"
        "sys.stderr.write('a message nobody sees\\n')\n"
        "raise SystemExit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # everything went to the null device
    listed = subprocess.run(
        [sys.executable, "-m", "etcbook", "--db", str(store), "card", "list", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=True,
    )
    assert '"last4": "1234"' in listed.stdout
