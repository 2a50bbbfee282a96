"""The vault's bytes as a test sees them, on either backend: read them raw, alter them as an
intruder with the rights to the files or the database would (bypassing etcbook's rules)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import text


def _file(store: Any, document: Any) -> Path:
    from etcbook.models.vault import stored_file

    file = stored_file(store, document).file
    assert file is not None
    return Path(file)


def stored_bytes(store: Any, document: Any) -> bytes | None:
    """The bytes kept for ``document`` as they are (unchecked), or None when there are none."""
    if store.on_server:
        with store.engine.connect() as connection:
            chunks = connection.execute(
                text("SELECT data FROM document_chunks WHERE document_id = :i ORDER BY seq"),
                {"i": document.id},
            ).scalars()
            parts = [bytes(c) for c in chunks]
        return b"".join(parts) if parts else None
    file = _file(store, document)
    return file.read_bytes() if file.is_file() else None


def tamper(store: Any, document: Any, data: bytes | None) -> None:
    """Replace the kept bytes of ``document`` with ``data`` (None: delete them), as someone
    with the files' or the database's owner rights could: on PostgreSQL as a superuser
    switching the refusing triggers off for the transaction."""
    if store.on_server:
        with store.engine.connect() as connection, connection.begin():
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            connection.execute(
                text("DELETE FROM document_chunks WHERE document_id = :i"), {"i": document.id}
            )
            if data is not None:
                connection.execute(
                    text("INSERT INTO document_chunks (document_id, seq, data) VALUES (:i, 0, :d)"),
                    {"i": document.id, "d": data},
                )
        return
    file = _file(store, document)
    os.chmod(file, 0o644)
    if data is None:
        file.unlink()
    else:
        file.write_bytes(data)


def tamper_at(target: Path | str, document: dict[str, Any], data: bytes | None) -> None:
    """:func:`tamper` for a store named by its ``--db`` target and a document of
    ``evidence … --json``."""
    from etcbook.models.store import open_store
    from etcbook.models.vault import get_document

    store = open_store(target)
    try:
        tamper(store, get_document(store=store, document_id=document["id"]), data)
    finally:
        store.close()


def bytes_at(target: Path | str, document_id: int) -> bytes | None:
    """:func:`stored_bytes` for a store named by its ``--db`` target."""
    from etcbook.models.store import open_store
    from etcbook.models.vault import get_document

    store = open_store(target)
    try:
        return stored_bytes(store, get_document(store=store, document_id=document_id))
    finally:
        store.close()
