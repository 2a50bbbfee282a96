"""Upgrades: a store written by the first release opens in this version, a copy kept first,
with the same figures; every migration is run against that store.

The fixture ``tests/data/stores/v0001.sqlite3`` was written by the first release (commit
af5f0aa, migration head 0001); ``make_v0001.py`` beside it rebuilds it. A new migration is
picked up by ``test_each_migration_keeps_the_first_release_data`` without editing this file.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import robustkit
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from etcbook.cli import main
from etcbook.models.imports import import_files
from etcbook.models.store import _alembic_config, open_store, sqlite_uri

STORES = Path(__file__).resolve().parents[1] / "data" / "stores"
FIXTURE = STORES / "v0001.sqlite3"
INPUTS = sorted((STORES / "v0001_inputs").glob("*.csv"))
EXPECTED = json.loads((STORES / "v0001.expected.json").read_text(encoding="utf-8"))

FIRST_RELEASE_TABLES = {
    "cards": "id, last4, holder, driver, kind, expires, mileage_id, login_id, last_login_on,"
    " obu_number, plate, household, auto_exchange, status, notes, created_at",
    "import_batches": "id, file_name, sha256, imported_at, rows, inserted, updated, duplicates",
    "trips": "id, card_id, entry_at, exit_at, entry_ic, exit_ic, toll_before_discount,"
    " etc_discount, toll, rebate_applied, deferred_toll, vehicle_class, vehicle_number, remarks,"
    " status, flags, morning_evening, operator, purpose, business_share, department, trip_key,"
    " seq, batch_id, source",
    "trip_history": "id, trip_id, changed_at, batch_id, old_values",
    "route_rules": "id, entry_pattern, exit_pattern, operator, morning_evening, created_at",
}
"""The first release's tables and columns: what every later version must keep as it was."""


def first_release_data(path: Path) -> str:
    """SHA-256 over the first release's rows and columns."""
    db = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
    try:
        digest = hashlib.sha256()
        for table, columns in FIRST_RELEASE_TABLES.items():
            for row in db.execute(f"SELECT {columns} FROM {table} ORDER BY id"):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        db.close()


def schema(path: Path) -> dict[str, Any]:
    """Tables with their columns, indexes and foreign keys, in a comparable form."""
    db = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
    try:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                " ORDER BY name"
            )
        ]
        out: dict[str, Any] = {}
        for table in tables:
            columns = [
                (r[1], r[2].upper(), r[3], r[4], r[5])
                for r in db.execute(f'PRAGMA table_info("{table}")')
            ]
            indexes = sorted(
                (
                    tuple(i[2] for i in db.execute(f'PRAGMA index_info("{r[1]}")')),
                    r[2],
                )
                for r in db.execute(f'PRAGMA index_list("{table}")')
            )
            keys = sorted(
                (r[2], r[3], r[4], r[6]) for r in db.execute(f'PRAGMA foreign_key_list("{table}")')
            )
            out[table] = {"columns": sorted(columns), "indexes": indexes, "foreign_keys": keys}
        return out
    finally:
        db.close()


def copy_fixture(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "etcbook.sqlite3"
    shutil.copyfile(FIXTURE, target)
    return target


def cli_json(store: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> Any:
    assert main(["--db", str(store), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_fixture_is_a_first_release_store() -> None:
    db = sqlite3.connect(sqlite_uri(FIXTURE, read_only=True), uri=True)
    assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    counts = {
        t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in FIRST_RELEASE_TABLES
    }
    db.close()
    assert counts == {
        "cards": 2,
        "import_batches": 4,
        "trips": 34,
        "trip_history": 2,
        "route_rules": 1,
    }


def test_first_release_store_opens_with_a_copy_and_the_same_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = copy_fixture(tmp_path / "home")
    data_before = first_release_data(store)

    trips = cli_json(store, "trips", capsys=capsys)["trips"]
    err = capsys.readouterr().err
    kept = sorted(store.parent.glob("etcbook.before-upgrade-*.sqlite3"))
    assert len(kept) == 1, err
    # the copy is the first-release store exactly as it was
    assert robustkit.content_digest(kept[0]) == robustkit.content_digest(FIXTURE)

    # same figures: every field the first release printed is printed the same; the one addition
    # is the flag `operator_guess` on imported trips that no route rule knew (they were nexco
    # by default then, and are still: 0004 only says so)
    for t in trips:
        if "operator_guess" in t["flags"]:
            assert t["operator"] == "nexco" and t["source"] == "import"
            t["flags"].remove("operator_guess")
    assert [{k: t[k] for k in EXPECTED["trips"][0]} for t in trips] == EXPECTED["trips"]
    cards = cli_json(store, "card", "list", capsys=capsys)["cards"]
    assert [{k: c[k] for k in EXPECTED["cards"][0]} for c in cards] == EXPECTED["cards"]
    assert first_release_data(store) == data_before
    assert robustkit.integrity(store) == "ok"

    # the upgraded store works: balances, and re-importing the same downloads adds nothing
    status = cli_json(store, "status", capsys=capsys)
    assert {c["card"] for c in status["cards"]} >= {"0042"}
    opened = open_store(store)
    try:
        assert opened.backup is None  # already at the current revision: no second copy
        again = import_files(opened, INPUTS)
    finally:
        opened.close()
    assert again.ok and again.inserted == 0 and again.updated == 0


def test_upgraded_store_has_the_schema_of_a_new_one(tmp_path: Path) -> None:
    upgraded = copy_fixture(tmp_path / "old")
    open_store(upgraded).close()
    new = tmp_path / "new" / "etcbook.sqlite3"
    open_store(new).close()
    assert schema(upgraded) == schema(new)


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(_alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


@pytest.mark.parametrize("revision", _revisions())
def test_each_migration_keeps_the_first_release_data(tmp_path: Path, revision: str) -> None:
    """Upgrading the first-release store to each revision (with its ancestors) keeps every row."""
    store = copy_fixture(tmp_path)
    before = first_release_data(store)
    engine = create_engine(f"sqlite:///{store}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            command.upgrade(_alembic_config(connection), revision)
    finally:
        engine.dispose()
    assert robustkit.integrity(store) == "ok"
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()
    assert first_release_data(store) == before
    # and the store opens from there, reaching the heads
    opened = open_store(store)
    opened.close()
    assert first_release_data(store) == before


@pytest.mark.slow
def test_upgrade_killed_at_random_moments_is_all_or_nothing(tmp_path: Path) -> None:
    """SIGKILL while the first open upgrades the store: 0001 untouched, or fully upgraded."""
    heads = set(ScriptDirectory.from_config(_alembic_config()).get_heads())
    probe = copy_fixture(tmp_path / "probe")
    started = time.monotonic()
    process = robustkit.start_etcbook(probe, "card", "list")
    process.communicate(timeout=120)
    whole = time.monotonic() - started
    rng = random.Random(12)
    seen = {"0001": 0, "heads": 0}
    for kill in range(10):
        store = copy_fixture(tmp_path / f"k{kill}")
        process = robustkit.start_etcbook(store, "card", "list")
        time.sleep(rng.uniform(0.2, whole))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        assert robustkit.integrity(store) == "ok"
        db = sqlite3.connect(store)
        revisions = {r[0] for r in db.execute("SELECT version_num FROM alembic_version")}
        db.close()
        assert revisions in ({"0001"}, heads), revisions
        seen["0001" if revisions == {"0001"} else "heads"] += 1
        assert first_release_data(store) == first_release_data(FIXTURE)
        open_store(store).close()  # and it opens (and finishes the upgrade) afterwards
        assert first_release_data(store) == first_release_data(FIXTURE)
    print(f"\n10 kills during the upgrade: {seen}")
