"""The window's handle on the store: open it (migrated), create the sample store.

The one place where the UI opens store files; pages get the open
:class:`etcbook.models.store.Store` from their context and never create engines.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from etcbook.models.server import ServerAddress
    from etcbook.models.store import Store
    from etcbook.ui.operations import Progress


def open_store(path: Path | ServerAddress) -> Store:
    """Open ``path`` (a file, or a PostgreSQL ledger's address), creating and migrating it as
    the foundation does (any thread)."""
    import gc

    # SQLAlchemy's import makes tens of thousands of long-lived objects: the cyclic collector
    # would walk them again and again (a tenth of the import) while the window waits.
    enabled = gc.isenabled()
    gc.disable()
    try:
        from etcbook.models.store import open_store as open_migrated
    finally:
        if enabled:
            gc.enable()
    return open_migrated(path)


def has_cards(store: Store) -> bool:
    """``True`` when the store holds at least one card (else the welcome page is shown)."""
    from etcbook.models.ui_queries import has_cards as query

    with store.engine.connect() as connection:
        return query(connection=connection)


def create_sample_store(path: Path, progress: Progress | None = None) -> Path:
    """Fill a new store at ``path`` with ``etcbook demo``'s sample; never touches another file.

    Built under a temporary name and renamed when complete, so an interrupted run leaves no
    half-filled sample behind.
    """
    from etcbook.models.demo import fill_demo
    from etcbook.models.store import open_store as open_migrated

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.creating{path.suffix}")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    if progress is not None:
        progress.report(0, 0, "サンプルデータを作成しています…")
    store = open_migrated(partial)
    try:
        fill_demo(store)
    finally:
        store.close()
    os.replace(partial, path)
    return path
