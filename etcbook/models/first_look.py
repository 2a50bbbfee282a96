"""A first look at a store file before it opens, with sqlite3 alone (no SQLAlchemy, no Alembic).

Opening the store loads SQLAlchemy, which takes longer than everything the window's first page
needs to show its numbers when the store's kept results are current
(:mod:`etcbook.models.engine_cache`). The window therefore reads, off the GUI thread and before
the store opens, the cards, whether there are any, and one kept result under the key of the
data as they are now; the page shows them, and reads everything again once the store is open.

Only a store that needs nothing done at open is looked at: an existing SQLite file stamped at
the migrations' heads (:func:`etcbook.models.store_file.declared_heads`). Everything is read in
one read transaction, so the data version in the key and the rows read are the same snapshot:
a kept result made before another process changed the store is not found under it. Anything
unusual (no file, an older or newer schema, a busy, locked or damaged file) gives ``None``, and
the store opens as before; the look never writes and never creates a file.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from etcbook.domain.fleet import CardFacet
from etcbook.models.store_file import declared_heads, sqlite_uri

LOOK_TIMEOUT_S = 0.5
"""How long the look waits for a lock; a store busy for longer is simply opened as usual."""


class DriverConnection(Protocol):
    """What the reads shared with the open store need of a connection: SQLAlchemy's
    ``Connection.exec_driver_sql`` (SQLite's ``?`` placeholders), or :class:`SqliteReader`'s."""

    def exec_driver_sql(self, statement: str, parameters: Any = ..., /) -> Any: ...


class Rows:
    """The rows of one statement, read as SQLAlchemy's result is (``first``, ``scalar``, rows)."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def first(self) -> Any:
        return self._cursor.fetchone()

    def scalar(self) -> Any:
        row = self._cursor.fetchone()
        return None if row is None else row[0]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


class SqliteReader:
    """A sqlite3 connection with the one method the shared reads call (``exec_driver_sql``)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def exec_driver_sql(self, statement: str, parameters: Any = (), /) -> Rows:
        return Rows(self._connection.execute(statement, parameters))


def card_facets(*, connection: DriverConnection) -> list[CardFacet]:
    """Every card with what the card filter selects by (名義, 利用者, 部署), in ledger order."""
    return [
        CardFacet(last4, holder or "", driver or "", department or "", int(card_id))
        for last4, holder, driver, department, card_id in connection.exec_driver_sql(
            "SELECT last4, holder, driver, department, id FROM cards"
            " ORDER BY household, holder, last4, id"
        )
    ]


def has_cards(*, connection: DriverConnection) -> bool:
    """``True`` when the store holds at least one card."""
    return bool(connection.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM cards)").scalar())


@dataclass(frozen=True)
class FirstLook:
    """What the first page can show before the store opens.

    Attributes:
        as_of: the day the kept result is for.
        key: its cache key (the data version read with everything else).
        facets: every card (the card filter's choices).
        kept: the value kept under the name asked for, for exactly this data.
    """

    as_of: dt.date
    key: str
    facets: tuple[CardFacet, ...]
    kept: Any


def first_look(
    path: Path,
    *,
    as_of: dt.date,
    rules_path: Path,
    name: str,
    modules: tuple[str, ...] = (),
) -> FirstLook | None:
    """The cards and the result kept under ``name`` for the store's current data at ``path``
    (any thread); ``None`` when the store needs opening first, has no card, or nothing is kept
    for its data as they are now."""
    from etcbook.models.engine_cache import current_key, read_cached

    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        connection = sqlite3.connect(
            sqlite_uri(path) + "?mode=rw",  # never creates a file; closes as any reader
            uri=True,
            timeout=LOOK_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
    except (OSError, sqlite3.Error):
        return None
    try:
        connection.execute("BEGIN")  # one snapshot for the version and every row read
        reader = SqliteReader(connection)
        stamped = {
            row[0] for row in reader.exec_driver_sql("SELECT version_num FROM alembic_version")
        }
        if stamped != declared_heads() or not has_cards(connection=reader):
            return None
        key = current_key(connection=reader, as_of=as_of, rules_path=rules_path)
        if key is None:
            return None
        kept = read_cached(connection=reader, name=name, key=key, modules=modules)
        if kept is None:
            return None
        return FirstLook(as_of, key, tuple(card_facets(connection=reader)), kept)
    except sqlite3.Error:  # no such table (not an etcbook store), locked, damaged
        return None
    finally:
        connection.close()
