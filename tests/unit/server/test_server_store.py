"""A ledger on PostgreSQL: where it is (URLs, passwords), opening and migrating, one schema."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from etcbook.models.server import PASSWORD_REFUSED, ServerAddress, parse_address
from etcbook.models.store import Store, StoreError, _declared_heads, open_store, store_target


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://clerk@db.example.jp:5433/ledger?sslmode=verify-full",
        "postgresql://clerk@/ledger?host=/var/run/postgresql",
        "postgresql:///?service=etcbook",
        "postgres://clerk@db.example.jp/ledger",
    ],
)
def test_libpq_urls_name_a_server(url: str) -> None:
    assert store_target(url) == ServerAddress(url)


def test_paths_stay_paths(tmp_path: Path) -> None:
    odd = tmp_path / "帳簿 #1 100%" / "etcbook.sqlite3"
    assert store_target(str(odd)) == odd


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://clerk:secret@db.example.jp/ledger",
        "postgresql://clerk@db.example.jp/ledger?password=secret",
    ],
)
def test_a_password_in_the_url_is_refused_with_a_sentence(url: str) -> None:
    with pytest.raises(StoreError) as refused:
        open_store(url)
    assert str(refused.value) == PASSWORD_REFUSED
    assert "secret" not in str(refused.value)


def test_keyring_name_names_user_host_port_and_database() -> None:
    address = parse_address("postgresql://clerk@db.example.jp:5433/ledger")
    assert address.keyring_name() == "clerk@db.example.jp:5433/ledger"
    assert parse_address("postgresql:///?service=fleet").keyring_name() == "service=fleet"


def test_unreachable_server_is_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="PostgreSQL に接続できません"):
        open_store(f"postgresql://nobody@/nothing?host={tmp_path}&connect_timeout=2")


def test_a_new_database_is_migrated_at_open(pg_server: str) -> None:
    from pgkit import create_database, drop_database

    url = create_database(pg_server)
    try:
        store = open_store(url)
        assert store.on_server and store.name == url
        with store.engine.connect() as connection:
            tables = set(
                connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
            )
        assert {"cards", "trips", "trip_history", "audit_log", "documents"} <= tables
        store.close()
        # Opening again finds it up to date.
        again = open_store(url)
        assert again.upgraded_from == _declared_heads()
        again.close()
    finally:
        drop_database(pg_server, url)


def test_models_and_migrations_agree_on_postgresql(pg_url: str) -> None:
    """The migrated PostgreSQL schema is what the models declare (types, nullability)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    from etcbook.models import register_all_tables

    register_all_tables()
    store = open_store(pg_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        modelled = set(SQLModel.metadata.tables)
        differences = [
            str(d)
            for d in compare_metadata(context, SQLModel.metadata)
            # Tables that only raw SQL reads and writes (no model) are the migrations' alone.
            if _table_of(d) in modelled
        ]
    store.close()
    assert differences == []


def _table_of(difference: Any) -> str:
    """The table a compare_metadata difference is about (modify_* come as lists)."""
    if isinstance(difference, list):
        difference = difference[0]
    kind, item = difference[0], difference[1]
    if kind.startswith("modify_"):
        return str(difference[2])
    if kind.endswith("_table"):
        return str(item.name)
    if kind.endswith("_column"):
        return str(difference[2])
    return str(item.table.name)


@pytest.mark.both_backends
def test_naive_datetimes_round_trip(store: Store) -> None:
    from sqlmodel import select

    from etcbook.models.tables import Card

    created = dt.datetime(2026, 11, 1, 8, 0, 5)
    with store.session(write=True) as session:
        session.add(Card(last4="1234", created_at=created))
        session.commit()
    with store.session() as session:
        card = session.exec(select(Card)).one()
    assert card.created_at == created and card.created_at.tzinfo is None


@pytest.mark.both_backends
def test_the_audit_log_is_append_only_in_the_database(store: Store) -> None:
    from sqlalchemy.exc import DBAPIError

    with store.transaction() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_log (at, os_user, entity, entity_id, action)"
                " VALUES (:at, 'u', 'trip', 1, 'edit')"
            ),
            {"at": dt.datetime(2026, 11, 1, 8, 0)},
        )
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), store.transaction() as connection:
            connection.execute(text(statement))
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1


def test_a_role_that_may_not_upgrade_is_told_who_must(pg_server: str) -> None:
    """Opening an old ledger as a role without rights names the owner who must upgrade it."""
    import psycopg
    from pgkit import create_database, database_url, drop_database

    url = create_database(pg_server)
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS etcbook_clerk")
        admin.execute("CREATE ROLE etcbook_clerk LOGIN")
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    clerk = url.replace("postgresql://postgres@", "postgresql://etcbook_clerk@")
    try:
        with pytest.raises(StoreError, match="ロール postgres"):
            open_store(clerk)
    finally:
        drop_database(pg_server, url)
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute("DROP ROLE IF EXISTS etcbook_clerk")
    assert database_url(pg_server, "x").endswith("x?" + pg_server.split("?", 1)[1])


def test_the_command_line_refuses_a_password_in_db_or_etcbook_db(cli_for: type) -> None:
    url = "postgresql://clerk:secret@db.example.jp/ledger"
    given = cli_for(url)("status", "--json")
    assert given.returncode == 2 and PASSWORD_REFUSED in given.stderr and given.stdout == ""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-m", "etcbook", "status", "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONPATH": str(root), "ETCBOOK_DB": url},
        cwd=root,
        timeout=120,
    )
    assert done.returncode == 3 and PASSWORD_REFUSED in done.stderr and "secret" not in done.stderr
