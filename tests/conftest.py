"""Shared fixtures: a fresh store per test, the demo store, running the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where a fresh, not yet created store goes."""
    return tmp_path / "store" / "etcbook.sqlite3"


@pytest.fixture
def store(store_path: Path) -> Iterator[object]:
    """A fresh, migrated store (etcbook.models.store.Store)."""
    from etcbook.models.store import open_store

    opened = open_store(store_path)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def demo_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store, built once per session; copy it with ``demo_store`` before changing it."""
    from etcbook.models.demo import fill_demo
    from etcbook.models.store import open_store

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    opened = open_store(path)
    fill_demo(opened)
    opened.close()
    return path


@pytest.fixture
def demo_store_path(demo_store_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo store and its vault (``demo.etc`` beside it) for one test."""
    from etcbook.models.store import backup_copy
    from etcbook.models.vault import vault_path_for

    copy = backup_copy(demo_store_template, "copy")
    target = tmp_path / "demo.sqlite3"
    copy.rename(target)
    shutil.copytree(vault_path_for(demo_store_template), vault_path_for(target))
    return target


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


class Cli:
    """Runs ``python -m etcbook --db STORE …`` in a subprocess, as a user's script would."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def __call__(self, *args: str, check: bool = False, timeout: float = 120) -> CliResult:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ETCBOOK_DB": ""}
        done = subprocess.run(
            [sys.executable, "-m", "etcbook", "--db", str(self.db), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=ROOT,
            timeout=timeout,
        )
        result = CliResult(done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(
                f"etcbook {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
            )
        return result


@pytest.fixture
def cli(store_path: Path) -> Cli:
    """The CLI on a fresh store (created by the first command)."""
    store_path.parent.mkdir(parents=True, exist_ok=True)
    return Cli(store_path)


MEISAI = DATA / "meisai"
"""Golden 明細CSV files and their expected output (see tests/data/meisai/regenerate.py)."""


def store_content(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the store's data tables, in a stable order: compare before and after."""
    import sqlite3

    from etcbook.models.store import sqlite_uri

    db = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
    try:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in (
                "cards",
                "trips",
                "passages",
                "trip_history",
                "import_batches",
                "route_rules",
            )
        }
    finally:
        db.close()


@pytest.fixture
def meisai_dir() -> Path:
    """The folder of golden 明細CSV files (read-only: copy a file before changing it)."""
    return MEISAI


@pytest.fixture
def snapshot() -> object:
    """``snapshot(store_path)``: all rows of the data tables, for before/after comparisons."""
    return store_content


# --- counts reported at the end of the run (tests/tally.py) -----------------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its counts to the controller (which merges them below)."""
    import tally

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["etcbook_tally"] = tally.dump()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """The controller adds up what each worker counted."""
    import tally

    data = getattr(node, "workeroutput", {}).get("etcbook_tally")
    if data:
        tally.merge(data)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    import tally

    lines = tally.summary()
    if lines:
        terminalreporter.section("counts")
        for line in lines:
            terminalreporter.write_line(line)
