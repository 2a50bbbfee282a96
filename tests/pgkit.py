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
