"""Two processes, one store: writers wait for each other, nothing is lost, no traceback.

Also the single-instance claim the window uses to say "this store is already open elsewhere".
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import robustkit
from pgkit import run_sql

import etcbook.models.store as store_module
from etcbook.cli import main
from etcbook.cli.common import EXIT_BUSY
from etcbook.models.imports import import_files
from etcbook.models.instance import (
    claim_store,
    is_store_busy,
    lock_path_for,
    store_holder,
    store_problem,
)
from etcbook.models.store import open_store


@pytest.fixture(scope="module")
def card_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three 20,000-row files of three cards."""
    folder = tmp_path_factory.mktemp("cards")
    return [
        robustkit.write_meisai(folder / f"card{n}.csv", 20_000, card=f"********1111{n:04d}", seed=n)
        for n in range(1, 4)
    ]


def _no_traceback(stderr: bytes) -> str:
    text = stderr.decode("utf-8")
    assert "Traceback" not in text, text
    assert "database is locked" not in text, text
    return text


def _imports_at_once(path: Path | str, files: list[Path], sizes: list[int]) -> None:
    """Start one ``etcbook import`` per file at once, read while they run, check the sums
    (``path``: a SQLite file or a PostgreSQL ledger's URL)."""
    importers = [robustkit.start_etcbook(path, "import", str(f), "--json") for f in files]
    seen_counts = set()
    while any(p.poll() is None for p in importers):
        reader = robustkit.start_etcbook(path, "trips", "--month", "2025-01", "--json")
        _out, err = reader.communicate(timeout=120)
        _no_traceback(err)
        assert reader.returncode == 0
        seen_counts.add(robustkit.trip_count(path))
    for process in importers:
        _out, err = process.communicate(timeout=300)
        _no_traceback(err)
        assert process.returncode == 0
    assert robustkit.trip_count(path) == sum(sizes)
    if isinstance(path, Path):  # PostgreSQL has no integrity_check of a file
        assert robustkit.integrity(path) == "ok"
    # A reader only ever sees whole files: every count it saw is a sum of whole files.
    possible = {0}
    for size in sizes:
        possible |= {p + size for p in possible}
    assert seen_counts <= possible, seen_counts - possible


def _created(store_target: Path | str) -> Path | str:
    """The test's store, created (a file) or migrated already (a server ledger)."""
    open_store(store_target).close()
    return store_target


@pytest.mark.both_backends
def test_two_imports_and_a_reader_at_once_lose_nothing(
    store_target: Path | str, card_files: list[Path]
) -> None:
    _imports_at_once(_created(store_target), card_files[:2], [20_000, 20_000])


@pytest.mark.slow
@pytest.mark.both_backends
def test_four_large_imports_and_a_reader_at_once_lose_nothing(
    store_target: Path | str, big_meisai: Path, card_files: list[Path]
) -> None:
    path = _created(store_target)
    _imports_at_once(path, [big_meisai, *card_files], [100_000, 20_000, 20_000, 20_000])


# The tests below up to the single-instance claim are of SQLite's own mechanics (a new file
# created by two processes, BEGIN IMMEDIATE and its busy timeout, SQLite's error texts, its
# query_only pragma): they stay SQLite-only.


@pytest.mark.slow
def test_store_created_by_two_processes_at_once(tmp_path: Path) -> None:
    """Regression: open_store raced on a new file (FileExistsError, then 'database is locked').

    Both processes start, load everything, then wait on a start line so that they open the new
    store within the same millisecond; before the fix about 1 run in 20 failed.
    """
    files = [
        robustkit.write_meisai(tmp_path / f"r{n}.csv", 200, card=f"****{n}{n}{n}{n}", seed=n)
        for n in (1, 2)
    ]
    code = (
        "import os, sys, time\n"
        "from etcbook.cli import main\n"
        "import etcbook.models.imports, alembic.command, alembic.script\n"
        "print('ready', flush=True)\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.0002)\n"
        "sys.exit(main(sys.argv[2:]))\n"
    )
    for attempt in range(10):
        path = tmp_path / f"new{attempt}.sqlite3"
        go = tmp_path / f"go{attempt}"
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(go), "--db", str(path), "import", str(f)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=robustkit.etcbook_env(),
            )
            for f in files
        ]
        for racer in racers:
            assert racer.stdout is not None
            assert racer.stdout.readline().strip() == b"ready"
        go.touch()
        for racer in racers:
            _out, err = racer.communicate(timeout=120)
            _no_traceback(err)
            assert racer.returncode == 0, f"attempt {attempt}"
        assert robustkit.trip_count(path) == 400


def test_create_private_file_tolerates_a_file_created_a_moment_ago(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.touch()
    store_module._create_private_file(path)  # the other process won the race: no error
    assert path.exists()


def test_new_store_still_being_created_elsewhere_is_waited_for(tmp_path: Path) -> None:
    """Regression: switching a new file to WAL while another process holds it failed at once."""
    path = tmp_path / "s.sqlite3"
    path.touch()  # what _create_private_file leaves for the other process
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE being_created (x)")
    release = threading.Timer(0.4, lambda: other.execute("ROLLBACK"))
    release.start()
    try:
        store = open_store(path)
    finally:
        release.join()
        other.close()
    store.close()
    assert robustkit.integrity(path) == "ok"
    assert robustkit.trip_count(path) == 0


def test_writer_waits_through_several_busy_timeouts(
    tmp_path: Path, small_meisai: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queue of long imports: BEGIN IMMEDIATE is retried after each busy timeout."""
    path = tmp_path / "queue.sqlite3"
    open_store(path).close()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, holder.rollback)
    release.start()
    try:
        assert main(["--db", str(path), "import", str(small_meisai)]) == 0
    finally:
        release.join()
        holder.close()
    assert robustkit.trip_count(path) == 300


def test_writer_waiting_too_long_gets_a_sentence_and_exit_75(
    tmp_path: Path,
    small_meisai: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "busy.sqlite3"
    open_store(path).close()
    before = robustkit.content_digest(path)
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(store_module, "WRITER_WAIT_S", 0.5)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing for a long time
    try:
        for argv in (
            ["import", str(small_meisai)],
            ["card", "add", "--holder", "山田", "--last4", "4321"],
            ["demo"],
        ):
            status = main(["--db", str(path), *argv])
            err = capsys.readouterr().err
            assert status == EXIT_BUSY, (argv, err)
            assert "書き込み中" in err and "何も変更していません" in err
    finally:
        holder.rollback()
        holder.close()
    assert robustkit.content_digest(path) == before
    assert main(["--db", str(path), "import", str(small_meisai)]) == 0


def test_store_problem_names_each_sqlite_refusal(tmp_path: Path) -> None:
    def error(message: str) -> sqlite3.OperationalError:
        return sqlite3.OperationalError(message)

    assert is_store_busy(error("database is locked"))
    assert not is_store_busy(error("no such table: trips"))
    assert "読み取り専用" in str(store_problem(error("attempt to write a readonly database")))
    assert "ディスクがいっぱい" in str(store_problem(error("database or disk is full")))
    assert "restore" in str(
        store_problem(sqlite3.DatabaseError("database disk image is malformed"))
    )
    assert store_problem(ValueError("other")) is None
    assert store_problem(error("no such table: trips")) is None


def test_read_only_store_is_a_sentence(
    tmp_path: Path,
    small_meisai: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A store SQLite may not write (read-only medium, permissions): exit 3 and one sentence.

    Tests often run as root, which ignores file modes, so SQLite's ``query_only`` stands in.
    """
    path = tmp_path / "ro.sqlite3"
    open_store(path).close()
    before = robustkit.content_digest(path)
    make_engine = store_module._make_engine

    def read_only_engine(where: Path):  # type: ignore[no-untyped-def]
        engine = make_engine(where)

        @store_module.event.listens_for(engine, "connect")
        def _query_only(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            dbapi_connection.execute("PRAGMA query_only = 1")

        return engine

    monkeypatch.setattr(store_module, "_make_engine", read_only_engine)
    status = main(["--db", str(path), "import", str(small_meisai)])
    err = capsys.readouterr().err
    assert status == 3, err
    assert "読み取り専用" in err and "何も変更していません" in err
    assert robustkit.content_digest(path) == before


# --- single-instance claim ---------------------------------------------------------------
# A lock file beside the store file, for windows on a SQLite store: SQLite-only.


def test_second_claim_is_told_who_has_the_store(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    first = claim_store(path, program="etcbook ウィンドウ")
    assert first.acquired and first.message is None
    assert stat.S_IMODE(lock_path_for(path).stat().st_mode) == 0o600
    second = claim_store(path)
    assert not second.acquired
    assert second.other is not None and second.other.pid == os.getpid()
    assert "すでに別の場所で開かれています" in str(second.message)
    assert f"プロセス {os.getpid()}" in str(second.message)
    assert store_holder(path) == second.other
    first.release()
    assert store_holder(path) is None
    with claim_store(path) as third:
        assert third.acquired
    assert store_holder(path) is None


_HOLD = (
    "import sys, time\n"
    "from etcbook.models.instance import claim_store\n"
    "claim = claim_store(sys.argv[1], program='etcbook ウィンドウ')\n"
    "print('held' if claim.acquired else 'busy', flush=True)\n"
    "time.sleep(120)\n"
)


def test_claim_held_by_another_process_and_dropped_when_it_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)],
        stdout=subprocess.PIPE,
        env=robustkit.etcbook_env(),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        claim = claim_store(path)
        assert not claim.acquired
        assert claim.other is not None and claim.other.pid == holder.pid
        assert f"プロセス {holder.pid}" in str(claim.message)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)
    # A crashed window never leaves the store "open elsewhere".
    with claim_store(path) as claim:
        assert claim.acquired


def test_commands_keep_working_while_a_window_holds_the_store(
    tmp_path: Path, small_meisai: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The claim is for windows only: scripts may import while the window is open."""
    path = tmp_path / "s.sqlite3"
    with claim_store(path) as claim:
        assert claim.acquired
        assert main(["--db", str(path), "import", str(small_meisai)]) == 0
    assert robustkit.trip_count(path) == 300
    capsys.readouterr()


@pytest.mark.both_backends
def test_overlapping_downloads_imported_at_once_store_each_trip_once(
    tmp_path: Path, store_target: Path | str
) -> None:
    """Two imports of overlapping downloads at once: each trip once, whoever came first."""
    first = robustkit.write_meisai(tmp_path / "a.csv", 3000, seed=11)
    header, *rows = first.read_bytes().rstrip(b"\r\n").split(b"\r\n")
    later = robustkit.meisai_lines(500, seed=12, start=dt.datetime(2030, 1, 1))
    second = tmp_path / "b.csv"  # the second half again, re-downloaded with 500 newer trips
    second.write_bytes(
        b"\r\n".join([header, *rows[1500:], *(r.encode("cp932") for r in later)]) + b"\r\n"
    )
    path = _created(store_target)
    processes = [robustkit.start_etcbook(path, "import", str(f)) for f in (first, second)]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        _no_traceback(err)
        assert process.returncode == 0
    assert robustkit.trip_count(path) == 3000 + 500
    store = open_store(path)
    again = import_files(store, [first, second])
    store.close()
    assert again.inserted == 0 and again.duplicates == 3000 + 1500 + 500


@pytest.mark.parametrize("cards", ["existing", "new"])
def test_imports_of_two_files_in_opposite_order_both_succeed_on_postgresql(
    tmp_path: Path, pg_url: str, cards: str
) -> None:
    """``import A B`` and ``import B A`` at once, on a server ledger. Each import locks a card
    when it merges that card's file, so each can hold one card the other waits for: the server
    ends one of them with a deadlock. Both must still store everything (each trip once, each
    card once), or at worst exit 75 with a sentence; never a traceback.

    The collision is made certain, not left to timing: a third connection holds both cards'
    advisory locks until each import waits for its first one, then lets both go at once."""
    import json

    import psycopg

    from etcbook.models.imports_pg import CARD_LOCK_SPACE, IMPORT_LOCK

    numbers = {"0001": "********11110001", "0002": "********11110002"}
    files = {
        last4: robustkit.write_meisai(tmp_path / f"{last4}.csv", 300, card=number, seed=int(last4))
        for last4, number in numbers.items()
    }
    path = _created(pg_url)
    if cards == "existing":  # one earlier trip each, so the cards exist and have ids
        for last4, number in numbers.items():
            early = robustkit.write_meisai(
                tmp_path / f"early{last4}.csv", 1, card=number, start=dt.datetime(2020, 1, 1)
            )
            assert main(["--db", path, "import", str(early)]) == 0
    with psycopg.connect(pg_url) as holder:
        if cards == "existing":
            ids = [row[0] for row in holder.execute("SELECT id FROM cards ORDER BY id")]
            for card_id in ids:
                holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", (IMPORT_LOCK, card_id))
        else:
            for last4 in numbers:
                holder.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (CARD_LOCK_SPACE, last4)
                )
        orders = [[files["0001"], files["0002"]], [files["0002"], files["0001"]]]
        logs = [robustkit.PhaseLog(tmp_path / f"phases{n}.log") for n in range(2)]
        importers = [
            robustkit.start_etcbook(path, "import", *map(str, order), "--json", phases=log)
            for order, log in zip(orders, logs, strict=True)
        ]
        try:
            _wait_for_advisory_waiters(holder, importers, 2)
        except BaseException:
            for process in importers:
                process.kill()
                process.communicate()
            raise
        holder.commit()  # both go at once
    outcomes = []
    for process in importers:
        out, err = process.communicate(timeout=120)
        text = _no_traceback(err)
        outcomes.append((process.returncode, out, text))
    assert [code for code, _out, _err in outcomes] == [0, 0], outcomes
    # They did meet: the server ended one of them, which ran its transaction again.
    tries = sorted(sum(event == "start" for event, _at in log.marks("import")) for log in logs)
    assert tries == [1, 2]
    inserted = sum(
        file["inserted"] for _code, out, _err in outcomes for file in json.loads(out)["files"]
    )
    early = 2 if cards == "existing" else 0
    assert inserted == 600
    assert robustkit.trip_count(path) == 600 + early
    assert [row[0] for row in run_sql(path, "SELECT last4 FROM cards ORDER BY last4")] == [
        "0001",
        "0002",
    ]


def _wait_for_advisory_waiters(
    connection: object, processes: list[subprocess.Popen[bytes]], count: int
) -> None:
    """Wait until ``count`` sessions of the connection's database wait for an advisory lock
    (pg_locks is live; pg_stat_activity would be the snapshot of the connection's transaction)."""
    deadline = time.monotonic() + 60
    while True:
        waiting = connection.execute(  # type: ignore[attr-defined]
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
        if waiting[0] == count:
            return
        assert time.monotonic() < deadline, "the imports never reached their card locks"
        assert all(p.poll() is None for p in processes), "an import ended before its lock"
        time.sleep(0.05)
