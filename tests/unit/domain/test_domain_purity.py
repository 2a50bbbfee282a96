"""etcbook.domain imports without Qt, SQLModel or SQLAlchemy (data flows one way)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import importlib, pkgutil, sys
for name in ("PySide6", "sqlmodel", "sqlalchemy", "alembic", "matplotlib"):
    sys.modules[name] = None  # any import of them now raises ImportError
import etcbook.domain
names = [m.name for m in pkgutil.walk_packages(etcbook.domain.__path__, "etcbook.domain.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_domain_imports_with_gui_and_sql_blocked() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 8
