"""A quick read of a PostgreSQL ledger with psycopg alone (no SQLAlchemy, no Alembic).

``etcbook --db URL status`` is a whole process: importing SQLAlchemy and building its engine
took longer than connecting, reading one card and replaying it. A command that only reads
(``set_defaults(light_reads=True)``) is given a :class:`ServerReader` by
``cli.common.CliContext.reading`` instead of the store's engine: one psycopg connection, set up
as the engine's are (ISO dates, date-times read back as ISO text), that answers the few calls the
shared reads make of a SQLAlchemy ``Connection`` (``exec_driver_sql``,
:func:`etcbook.models.dialect.run`, ``connection.driver_connection``, ``dialect.name``).

Only a ledger that needs nothing done at open is read this way: one query checks that it is
stamped at the migrations' heads (:func:`etcbook.models.store_file.declared_heads`), the check
``open_store`` makes first. Anything else (an older or newer schema, no ``alembic_version``, a
connection that fails or needs a password nothing gave) gives ``None``: the command opens
the store as before, which upgrades it or words the problem. Reads run in one read-only
transaction; row-level security applies as to any session of the login.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from etcbook.models.server import ServerAddress, _read_dates_as_iso_text, connect
from etcbook.models.store_file import declared_heads

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
"""A ``:name`` parameter (not a ``::type`` cast, not inside a word)."""


_SESSION_OPTIONS = "-c DateStyle=ISO,YMD -c default_transaction_read_only=on"
"""ISO dates, as the engine sets them (``server.make_engine``); and nothing written."""


class Rows:
    """The rows of one statement, read as SQLAlchemy's result is (``first``, ``scalar``,
    iteration over tuples)."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def first(self) -> Any:
        return self._cursor.fetchone()

    def scalar(self) -> Any:
        row = self._cursor.fetchone()
        return None if row is None else row[0]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor.fetchall())


class _Dialect:
    name = "postgresql"


class _DriverConnection:
    """``connection.connection.driver_connection``, as SQLAlchemy's pooled connection has it."""

    def __init__(self, raw: Any) -> None:
        self.driver_connection = raw


class ServerReader:
    """One psycopg connection answering the reads the store's engine would."""

    dialect = _Dialect()

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.connection = _DriverConnection(raw)

    def exec_driver_sql(self, statement: str, parameters: Any = None, /) -> Rows:
        return Rows(self._raw.execute(statement, parameters))

    def run_named(self, statement: str, parameters: Mapping[str, Any]) -> Rows:
        """``statement`` with ``:name`` parameters (see :func:`etcbook.models.dialect.run`)."""
        return Rows(self._raw.execute(_NAMED.sub(r"%(\1)s", statement), dict(parameters)))

    def close(self) -> None:
        self._raw.close()


def open_reader(address: ServerAddress) -> ServerReader | None:
    """A reader of the ledger at ``address`` when it is at the migrations' heads, else None."""
    import psycopg

    # Set in the start-up packet: no round trip of their own.
    options = f"{address.parameters.get('options', '')} {_SESSION_OPTIONS}".strip()
    try:  # pgpass, the service file, else the keyring's password, as the engine connects
        raw = connect(address, options=options)
    except psycopg.Error:
        return None  # a password needed, a server down: the store's way words it
    _read_dates_as_iso_text(raw)
    try:
        stamped = {row[0] for row in raw.execute("SELECT version_num FROM alembic_version")}
    except psycopg.Error:
        raw.close()
        return None
    if stamped != declared_heads():
        raw.close()
        return None
    return ServerReader(raw)
