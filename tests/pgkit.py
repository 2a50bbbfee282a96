"""PostgreSQL databases for the tests: one per test, on the server scripts/test starts."""

from __future__ import annotations


def database_url(server_url: str, name: str) -> str:
    """The server's URL with another database name."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_database(server_url: str, *, template: str | None = None) -> str:
    """A new, uniquely named database on the server; returns its URL."""
    import uuid

    import psycopg

    name = f"etcbook_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return database_url(server_url, name)


def database_name(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")


def drop_database(server_url: str, url: str) -> None:
    import psycopg

    name = database_name(url)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run_sql(target: object, statement: str, **params: object) -> list[tuple[object, ...]]:
    """The rows ``statement`` (SQL both databases read alike, ``:name`` parameters) gives on
    the store at ``target`` (a SQLite file's path or a PostgreSQL ledger's URL), committed.

    Date-times come back as ISO text on SQLite and as ``datetime`` on PostgreSQL
    (etcbook.models.dialect.as_datetime reads either)."""
    from pathlib import Path

    from sqlalchemy import text

    from etcbook.models.store import open_store

    store = open_store(target if isinstance(target, str) else Path(str(target)))
    try:
        with store.engine.connect() as connection:
            result = connection.execute(text(statement), params)
            rows = [tuple(row) for row in result] if result.returns_rows else []
            connection.commit()
            return rows
    finally:
        store.close()
