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
from pgkit import create_database, database_name, drop_database

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where a fresh, not yet created store goes."""
    return tmp_path / "store" / "etcbook.sqlite3"


PG_URL = os.environ.get("ETCBOOK_TEST_PG_URL", "")
"""A PostgreSQL server's URL for the tests (scripts/test starts a throwaway one)."""
PG_REQUIRED = os.environ.get("ETCBOOK_TEST_PG_REQUIRED") == "1"
"""CI: a missing server fails the PostgreSQL tests instead of skipping them."""
BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_backends`` run once on SQLite and once on PostgreSQL."""
    marked = metafunc.definition.get_closest_marker("both_backends")
    if (
        marked
        and "backend" in metafunc.fixturenames
        and not (metafunc.definition.get_closest_marker("sqlite_only"))
    ):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


def _no_server(reason: str) -> None:
    if PG_REQUIRED:
        pytest.fail(f"PostgreSQL is required here (ETCBOOK_TEST_PG_REQUIRED=1): {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server's URL (its maintenance database); skipped (or failed in CI) without."""
    if not PG_URL:
        _no_server(
            "ETCBOOK_TEST_PG_URL is not set (scripts/test starts a server when PostgreSQL 15 "
            "is installed, or installs it when run as root)"
        )
    import psycopg

    try:
        psycopg.connect(PG_URL, connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        _no_server(f"cannot connect to ETCBOOK_TEST_PG_URL: {exc}")
    return PG_URL


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    """A migrated, empty etcbook database, copied for each test (CREATE DATABASE … TEMPLATE)."""
    from etcbook.models.store import open_store

    url = create_database(pg_server)
    open_store(url).close()
    yield database_name(url)
    drop_database(pg_server, url)


@pytest.fixture
def pg_url(
    pg_server: str, pg_template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, migrated PostgreSQL ledger for one test (its URL), dropped afterwards.

    What the ledger keeps on this computer (the vault's folder) goes under the test's tmp_path.
    """
    monkeypatch.setenv("ETCBOOK_SERVER_FILES", str(tmp_path / "server-files"))
    url = create_database(pg_server, template=pg_template)
    yield url
    drop_database(pg_server, url)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless the test is marked ``both_backends`` (then both, one after the other)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def store_target(backend: str, store_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where the test's fresh store is: a file path (SQLite) or a server URL (PostgreSQL)."""
    if backend == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return store_path


@pytest.fixture
def store(store_target: Path | str) -> Iterator[object]:
    """A fresh, migrated store (etcbook.models.store.Store) on the test's backend."""
    from etcbook.models.store import open_store

    opened = open_store(store_target)
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


@pytest.fixture(scope="session")
def pg_demo_template(pg_server: str, pg_template: str) -> Iterator[str]:
    """The demo ledger on the server, built once per session (its originals in the database);
    copied for each test by ``demo_target``."""
    from etcbook.models.demo import fill_demo
    from etcbook.models.store import open_store

    url = create_database(pg_server, template=pg_template)
    opened = open_store(url)
    fill_demo(opened)
    opened.close()
    yield database_name(url)
    drop_database(pg_server, url)


@pytest.fixture
def demo_target(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path | str]:
    """A private copy of the demo store on the test's backend: a file (``demo_store_path``) or
    a PostgreSQL ledger copied from ``pg_demo_template`` (its URL), dropped afterwards."""
    if backend != "postgresql":
        yield request.getfixturevalue("demo_store_path")
        return
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_demo_template")
    monkeypatch.setenv("ETCBOOK_SERVER_FILES", str(tmp_path / "server-files"))
    url = create_database(server, template=template)
    yield url
    drop_database(server, url)


def copy_to_server(source: Path, url: str) -> str:
    """The SQLite store ``source`` and its originals copied into the empty ledger at ``url``
    (etcbook.models.copy_store, as ``etcbook copy-store`` does); ``url``."""
    from etcbook.models.copy_store import copy_store
    from etcbook.models.store import open_store

    opened_source, opened_target = open_store(source), open_store(url)
    try:
        copy_store(source=opened_source, target=opened_target)
    finally:
        opened_source.close()
        opened_target.close()
    return url


@pytest.fixture
def demo_store_target(backend: str, request: pytest.FixtureRequest) -> Path | str:
    """The demo store on the test's backend, private to the test: a copy of the file
    (``demo_store_path``), or copied into the test's PostgreSQL ledger (``pg_url``)."""
    source = request.getfixturevalue("demo_store_path")
    if backend == "postgresql":
        return copy_to_server(source, str(request.getfixturevalue("pg_url")))
    return Path(source)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


class Cli:
    """Runs ``python -m etcbook --db STORE …`` in a subprocess, as a user's script would."""

    def __init__(self, db: Path | str) -> None:
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


def add_two_cards_sharing_6789(cli: Cli) -> None:
    """Cards id:1 ****6789 (山田, 営業部) and id:2 ****6789 (呼び名 2号車, 山田, 配送部): a fleet's
    two cards with the same last 4 digits, as the tests of shared digits start."""
    cli("card", "add", "--last4", "6789", "--holder", "山田", "--department", "営業部", check=True)
    cli(
        "card",
        "add",
        "--last4",
        "6789",
        "--holder",
        "山田",
        "--label",
        "2号車",
        "--department",
        "配送部",
        check=True,
    )


@pytest.fixture
def cli(store_target: Path | str) -> Cli:
    """The CLI on a fresh store (created by the first command; a migrated database on PG)."""
    if isinstance(store_target, Path):
        store_target.parent.mkdir(parents=True, exist_ok=True)
    return Cli(store_target)


@pytest.fixture
def cli_for() -> type[Cli]:
    """``cli_for(db)``: the CLI on a store of the test's choosing (a path or a server URL)."""
    return Cli


MEISAI = DATA / "meisai"
"""Golden 明細CSV files and their expected output (see tests/data/meisai/regenerate.py)."""


STORE_TABLES = ("cards", "trips", "passages", "trip_history", "import_batches", "route_rules")


def store_content(path: Path | str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the store's data tables, in a stable order: compare before and after.

    ``path`` is a SQLite file or a PostgreSQL ledger's URL (the ``store_target`` fixture)."""
    if isinstance(path, str) and path.startswith("postgresql:"):
        import psycopg

        with psycopg.connect(path) as server:
            return {
                table: server.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                for table in STORE_TABLES
            }
    import sqlite3

    from etcbook.models.store import sqlite_uri

    db = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
    try:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in STORE_TABLES
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
