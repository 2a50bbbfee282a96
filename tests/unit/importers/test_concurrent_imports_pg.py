"""Several clients importing into one PostgreSQL ledger at the same moment (issue 15 §4).

Each client is a thread with its own store (its own connections), released together by a
barrier, so their transactions really overlap on the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from meisai_helpers import meisai, row15
from sqlalchemy import text

from etcbook.models.imports import ImportResult, import_files
from etcbook.models.store import open_store

CLIENTS = 8


def _row(i: int, *, card: str = "*******123456789", status: str = "確定", rebate: str = "0") -> str:
    day, minute = 1 + i // 600 % 28, i % 600
    return row15(
        entry=f"24/11/{day:02d} {minute // 60:02d}:{minute % 60:02d}",
        exit=f"24/11/{day:02d} {minute // 60 + 10:02d}:{minute % 60:02d}",
        toll=str(500 + i % 7 * 100),
        rebate=rebate,
        card=card,
        remarks=status,
    )


def _together(url: str, jobs: list[Path]) -> list[ImportResult | BaseException]:
    """Import ``jobs[i]`` from client i, all starting at once; each result or error."""
    results: list[ImportResult | BaseException] = [RuntimeError("not run")] * len(jobs)
    start = threading.Barrier(len(jobs))

    def client(i: int) -> None:
        store = open_store(url)
        try:
            start.wait()
            results[i] = import_files(store, [jobs[i]])
        except BaseException as exc:
            results[i] = exc
        finally:
            store.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _count(url: str, query: str) -> Any:
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            return connection.execute(text(query)).scalar()
    finally:
        store.close()


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, list[str]], Path]:
    def _write(name: str, rows: list[str]) -> Path:
        path = tmp_path / name
        path.write_bytes(meisai(rows))
        return path

    return _write


def test_overlapping_imports_store_each_trip_exactly_once(
    pg_url: str, write: Callable[[str, list[str]], Path]
) -> None:
    # Client i imports rows [i*300, i*300 + 1000): every row is in two to four files.
    jobs = [
        write(f"client{i}.csv", [_row(n) for n in range(i * 300, i * 300 + 1000)])
        for i in range(CLIENTS)
    ]
    distinct = (CLIENTS - 1) * 300 + 1000
    results = _together(pg_url, jobs)
    assert all(isinstance(r, ImportResult) and r.ok and r.committed for r in results), results
    done = [r for r in results if isinstance(r, ImportResult)]
    assert sum(r.inserted for r in done) == distinct
    assert sum(r.duplicates for r in done) == CLIENTS * 1000 - distinct
    assert _count(pg_url, "SELECT count(*) FROM trips") == distinct
    assert (
        _count(pg_url, "SELECT count(*) FROM (SELECT DISTINCT card_id, trip_key, seq FROM trips) d")
        == distinct
    )
    assert _count(pg_url, "SELECT count(*) FROM cards") == 1


def test_concurrent_pending_to_confirmed_replaces_each_trip_once(
    pg_url: str, write: Callable[[str, list[str]], Path]
) -> None:
    pending = write("pending.csv", [_row(n, status="確認中") for n in range(400)])
    store = open_store(pg_url)
    assert import_files(store, [pending]).inserted == 400
    store.close()
    # Every client brings the same 確定 rows (with the rebate applied): one replaces each trip,
    # the others find it already confirmed.
    confirmed = [
        write(f"confirmed{i}.csv", [_row(n, rebate="100") for n in range(400)])
        for i in range(CLIENTS)
    ]
    results = _together(pg_url, confirmed)
    done = [r for r in results if isinstance(r, ImportResult)]
    assert len(done) == CLIENTS and all(r.ok for r in done), results
    assert sum(r.updated for r in done) == 400
    assert _count(pg_url, "SELECT count(*) FROM trip_history") == 400
    assert _count(pg_url, "SELECT count(*) FROM trips WHERE status = '確定'") == 400
    assert _count(pg_url, "SELECT count(*) FROM trips") == 400


def test_two_imports_creating_the_same_new_card_do_not_collide(
    pg_url: str, write: Callable[[str, list[str]], Path]
) -> None:
    card = "*******123454321"
    jobs = [
        write("a.csv", [_row(n, card=card) for n in range(0, 300)]),
        write("b.csv", [_row(n, card=card) for n in range(200, 500)]),
    ]
    results = _together(pg_url, jobs)
    done = [r for r in results if isinstance(r, ImportResult)]
    assert len(done) == 2 and all(r.ok and r.committed for r in done), results
    assert sorted(card for r in done for card in r.new_cards) == ["4321"]
    assert _count(pg_url, "SELECT count(*) FROM cards WHERE last4 = '4321'") == 1
    assert _count(pg_url, "SELECT count(*) FROM trips") == 500


def test_a_trip_entered_by_hand_during_the_import_is_not_stored_twice(
    pg_url: str, write: Callable[[str, list[str]], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another client enters line 1's trip by hand after the import compared the card's trips
    but before it inserts them: the import stores the other rows once and that one not again."""
    import datetime as dt

    from etcbook.models import imports_pg
    from etcbook.models.mileage import create_manual_trip

    path = write("three.csv", [_row(i) for i in range(3)])
    store = open_store(pg_url)
    try:
        first = import_files(store, [write("seed.csv", [_row(100)])])
        assert first.committed
        with store.engine.connect() as connection:
            card_id = connection.execute(text("SELECT id FROM cards")).scalar_one()
        real_cursor = imports_pg._driver_cursor

        class EnteredMeanwhile:
            """The importer's cursor; a second client commits the hand-entered trip just
            before the import inserts its new trips."""

            def __init__(self, cursor: Any) -> None:
                self.cursor = cursor

            def __getattr__(self, name: str) -> Any:
                return getattr(self.cursor, name)

            def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                if query == "SAVEPOINT insert_trips":
                    other = open_store(pg_url)
                    try:
                        with other.engine.begin() as hand:
                            create_manual_trip(
                                connection=hand,
                                values={
                                    "card_id": card_id,
                                    "entry_at": dt.datetime(2024, 11, 1, 0, 0),
                                    "exit_at": dt.datetime(2024, 11, 1, 10, 0),
                                    "entry_ic": "静岡",
                                    "exit_ic": "浜松",
                                    "toll": 500,
                                },
                            )
                    finally:
                        other.close()
                return self.cursor.execute(query, *args, **kwargs)

        real_cursor = imports_pg._driver_cursor
        monkeypatch.setattr(
            imports_pg,
            "_driver_cursor",
            lambda connection: EnteredMeanwhile(real_cursor(connection)),
        )
        result = import_files(store, [path])
    finally:
        store.close()
    assert result.committed, result.to_json()
    assert (result.inserted, result.duplicates) == (2, 1)
    assert _count(pg_url, "SELECT count(*) FROM trips") == 4
    assert _count(pg_url, "SELECT count(*) FROM trips WHERE source = 'manual'") == 1
