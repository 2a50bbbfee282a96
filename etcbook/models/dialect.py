"""Where SQLite and PostgreSQL SQL differ: the few branches, in one place.

Everything else in ``etcbook.models`` is written once in the subset both databases share
(``ON CONFLICT``, ``RETURNING``, ``UPDATE … FROM``, ``IS NOT DISTINCT FROM``, named parameters
through ``sqlalchemy.text``). Raw SQL reads date-times back as ISO text on SQLite and as
``datetime`` on PostgreSQL: :func:`as_datetime` and :func:`as_date` take either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol


class _HasDialect(Protocol):
    @property
    def dialect(self) -> object: ...


def name_of(bind: _HasDialect) -> str:
    """``sqlite`` or ``postgresql`` for an engine, connection or session's bind."""
    return str(getattr(bind.dialect, "name", ""))


def is_postgresql(bind: _HasDialect) -> bool:
    return name_of(bind) == "postgresql"


def run(connection: Any, statement: str, parameters: Mapping[str, Any] | None = None) -> Any:
    """``statement`` with ``:name`` parameters, on a SQLAlchemy connection (through ``text``) or
    on a :class:`etcbook.models.server_reader.ServerReader`, which reads them itself: the reads a
    command makes without SQLAlchemy (``status`` on a server ledger) are the same SQL as
    everyone else's. The result answers ``first()``, ``scalar()`` and iteration over tuples."""
    own = getattr(connection, "run_named", None)
    if own is not None:
        return own(statement, parameters or {})
    from sqlalchemy import text

    return connection.execute(text(statement), parameters or {})


def month_of(column: str, bind: _HasDialect) -> str:
    """SQL for the ``YYYY-MM`` of a date-time column."""
    if is_postgresql(bind):
        return f"to_char({column}, 'YYYY-MM')"
    return f"substr({column}, 1, 7)"


def for_update(bind: _HasDialect) -> str:
    """`` FOR UPDATE`` on PostgreSQL (lock the rows read until the transaction ends); nothing on
    SQLite, whose write transactions (``BEGIN IMMEDIATE``) already shut out other writers."""
    return " FOR UPDATE" if is_postgresql(bind) else ""


def lock_for_transaction(connection: Any, *keys: str) -> None:
    """Serialise writers of the same ``keys`` until the transaction ends: PostgreSQL
    transaction advisory locks (taken in the order given); on SQLite nothing, its writers
    already take turns (BEGIN IMMEDIATE)."""
    if not is_postgresql(connection):
        return
    from sqlalchemy import text

    for key in keys:
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def contains(column: str, parameter: str) -> str:
    """SQL: ``column`` contains the ``LIKE`` pattern ``:parameter`` (escaped with ``\\``),
    ignoring ASCII case as SQLite's LIKE does (PostgreSQL's LIKE would not)."""
    return f"lower({column}) LIKE lower(:{parameter}) ESCAPE '\\'"


def as_datetime(value: object) -> dt.datetime:
    """A date-time read by raw SQL: ISO text (SQLite) or ``datetime`` (PostgreSQL)."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def as_date(value: object) -> dt.date:
    """A date read by raw SQL: ISO text (SQLite) or ``date`` (PostgreSQL)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
