"""Opening the store: pragmas, migrations at open, a backup copy before an upgrade."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from etcbook.models.store import StoreError, open_store


def test_new_store_is_migrated_with_wal_and_foreign_keys(store_path: Path) -> None:
    store = open_store(store_path)
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        tables = set(
            connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
        )
    store.close()
    assert {"cards", "trips", "trip_history", "import_batches", "route_rules"} <= tables
    assert store.backup is None


def test_store_file_is_private(store_path: Path) -> None:
    open_store(store_path).close()
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600


def test_store_from_a_newer_version_is_refused(store_path: Path) -> None:
    open_store(store_path).close()
    db = sqlite3.connect(store_path)
    # One row per migration branch head: a newer etcbook adds a revision this code doesn't know.
    db.execute("INSERT INTO alembic_version (version_num) VALUES ('not-a-revision')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="新しい etcbook"):
        open_store(store_path)


def test_pre_migration_file_gets_backup(store_path: Path) -> None:
    store_path.parent.mkdir(parents=True)
    db = sqlite3.connect(store_path)
    db.execute("CREATE TABLE notes (x)")
    db.commit()
    db.close()
    store = open_store(store_path)
    store.close()
    assert store.backup is not None and store.backup.exists()
    kept = sqlite3.connect(store.backup)
    assert kept.execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]
    kept.close()


def test_foreign_file_is_refused(store_path: Path) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_bytes(b"%PDF-1.7 not a store")
    with pytest.raises(StoreError, match="ストア"):
        open_store(store_path)


def test_store_at_the_first_revision_is_upgraded_after_a_copy(store_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from etcbook.models.store import _alembic_config

    store_path.parent.mkdir(parents=True)
    engine = create_engine(f"sqlite:///{store_path}")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
        connection.execute(
            text("INSERT INTO cards (last4, created_at) VALUES ('1234', '2025-01-01T00:00:00')")
        )
    engine.dispose()
    store = open_store(store_path)
    with store.engine.connect() as connection:
        last4 = connection.execute(text("SELECT last4 FROM cards")).scalars().all()
    store.close()
    assert last4 == ["1234"]
    if store.upgraded_from != {"0001"} or store.backup is None:
        raise AssertionError(f"expected an upgrade from 0001 with a copy: {store}")
    kept = sqlite3.connect(store.backup)
    assert kept.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    kept.close()


def test_declared_heads_agree_with_alembic_and_are_one(store_path: Path) -> None:
    """The fast open path reads the heads from the revision files; Alembic must agree, and
    0003 merged the branches into a single head."""
    from alembic.script import ScriptDirectory

    from etcbook.models.store import _alembic_config, _declared_heads

    script = ScriptDirectory.from_config(_alembic_config())
    heads = frozenset(script.get_heads())
    assert _declared_heads() == heads and len(heads) == 1
    store = open_store(store_path)
    with store.engine.connect() as connection:
        names = {row[0] for row in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
        stored = {
            row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        }
    store.close()
    assert stored == heads
    assert "ix_trips_card_exit" not in names and "ix_trips_mileage" in names


@pytest.mark.parametrize(
    "query",
    [
        # the mileage engine (etcbook.models.mileage_inputs)
        "SELECT id, dated_at, toll, operator, CASE WHEN morning_evening THEN entry_at END,"
        " rebate_applied, morning_evening FROM trips WHERE card_id = 1"
        " ORDER BY card_id, dated_at, id",
        # the trips page (etcbook.models.ui_queries.TripQuery) by card, and by card and month
        "SELECT t.id FROM trips t WHERE t.card_id IN (SELECT id FROM cards WHERE last4 IN"
        " ('1234')) ORDER BY t.dated_at ASC, t.id ASC",
        "SELECT t.id FROM trips t WHERE t.card_id IN (SELECT id FROM cards WHERE last4 IN"
        " ('1234')) AND t.dated_at >= '2025-01-01' AND t.dated_at < '2025-02-01'"
        " ORDER BY t.dated_at ASC, t.id ASC",
        # `etcbook trips --card` (etcbook.models.trips)
        "SELECT t.id FROM trips t JOIN cards c ON c.id = t.card_id WHERE c.last4 = '1234'"
        " ORDER BY t.dated_at, t.id",
        "SELECT t.id FROM trips t WHERE t.dated_at >= '2025-01-01' AND t.dated_at < '2025-02-01'"
        " ORDER BY t.dated_at, t.id",
    ],
)
def test_trip_queries_keep_an_index_without_ix_trips_card_exit(
    store_path: Path, query: str
) -> None:
    """0003 dropped ix_trips_card_exit: ix_trips_mileage (and ix_trips_dated, which replaced
    ix_trips_exit in 0004) serve its queries, now on dated_at."""
    store = open_store(store_path)
    with store.engine.connect() as connection:
        plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")]
    store.close()
    trips_steps = [step for step in plan if " t " in f" {step} " or "trips" in step]
    assert trips_steps and all("INDEX" in step for step in trips_steps), plan
