"""A new store is created from the schema script, not by replaying the migrations; both give the
same store (etcbook.models.store.SCHEMA_SCRIPT)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from etcbook.models import store as store_module
from etcbook.models.store import SCHEMA_SCRIPT, open_store, schema_script


def described(path: Path) -> dict[str, object]:
    """Everything the schema says: sqlite_master (SQL with whitespace normalised), every table's
    columns, foreign keys and indexes, every index's columns, and the rows of the migrations."""
    db = sqlite3.connect(path)
    try:
        master = sorted(
            (kind, name, table, re.sub(r"\s+", " ", sql or "").strip())
            for kind, name, table, sql in db.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
            )
        )
        tables = [name for kind, name, _table, _sql in master if kind == "table"]
        indexes = [name for kind, name, _table, _sql in master if kind == "index"]
        return {
            "master": master,
            "columns": {t: db.execute(f'PRAGMA table_xinfo("{t}")').fetchall() for t in tables},
            "foreign_keys": {
                t: db.execute(f'PRAGMA foreign_key_list("{t}")').fetchall() for t in tables
            },
            "table_indexes": {
                t: db.execute(f'PRAGMA index_list("{t}")').fetchall() for t in tables
            },
            "indexes": {i: db.execute(f'PRAGMA index_xinfo("{i}")').fetchall() for i in indexes},
            "alembic_version": db.execute("SELECT * FROM alembic_version").fetchall(),
            # One row; its number only ever grows (creating the store is a change too).
            "data_version": db.execute("SELECT id FROM data_version").fetchall(),
        }
    finally:
        db.close()


def test_the_script_and_the_migrations_give_the_same_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_script = tmp_path / "script.sqlite3"
    open_store(from_script).close()

    monkeypatch.setattr(store_module, "SCHEMA_SCRIPT", tmp_path / "missing.sql")
    replayed = tmp_path / "migrations.sqlite3"
    open_store(replayed).close()

    script, migrations = described(from_script), described(replayed)
    assert script["master"], "no schema"
    assert any(kind == "trigger" for kind, *_rest in script["master"])  # triggers too
    assert script == migrations


def test_the_script_is_current() -> None:
    """A migration added or changed: run ``python -m etcbook.models.store`` to write it again."""
    assert SCHEMA_SCRIPT.read_text(encoding="utf-8") == schema_script()


def test_a_script_for_other_heads_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "schema.sql"
    text = SCHEMA_SCRIPT.read_text(encoding="utf-8")
    stale.write_text(
        text.replace("-- heads:", "-- heads: 0000_older", 1)
        + "CREATE TABLE not_in_migrations (x);\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(store_module, "SCHEMA_SCRIPT", stale)
    path = tmp_path / "new.sqlite3"
    open_store(path).close()
    db = sqlite3.connect(path)
    try:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    finally:
        db.close()
    assert "trips" in names and "not_in_migrations" not in names
