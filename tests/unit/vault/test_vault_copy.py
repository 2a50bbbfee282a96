"""Copying originals between stores through the vault's API (what a copy of a whole ledger does):
read checked (``iter_original``), write the row, then the bytes (``put_original``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from etcbook.models.store import Store, open_store
from etcbook.models.vault import (
    VaultError,
    add_document,
    discard_original,
    get_document,
    iter_original,
    put_original,
    read_original,
    remove_document,
    search_documents,
    verify_vault,
)

COLUMNS = (
    "id, path, original_name, sha256, size, kind, card_last4, month, doc_date, amount,"
    " counterparty, vehicle, version, supersedes_id, added_at, added_by, removed_at,"
    " removed_by, removed_reason, trash_path"
)


@pytest.fixture
def both(store_path: Path, pg_url: str) -> Iterator[tuple[Store, Store]]:
    """A SQLite store and a PostgreSQL ledger."""
    store_path.parent.mkdir(parents=True, exist_ok=True)
    sqlite, server = open_store(store_path), open_store(pg_url)
    yield sqlite, server
    sqlite.close()
    server.close()


def _fill(store: Store, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for n, (kind, size) in enumerate((("statement", 3 << 20), ("certificate", 10), ("other", 0))):
        source = folder / f"{kind}.pdf"
        source.write_bytes(bytes([n + 1]) * size)
        add_document(
            store=store,
            source=source,
            kind=kind,
            card="1234",
            month="2026-03",
            date=dt.date(2026, 4, 10),
            amount=1000 * n,
        )
    fixed = folder / "statement_v2.pdf"
    fixed.write_bytes(b"%PDF corrected")
    v2 = add_document(store=store, source=fixed, kind="statement", card="1234", month="2026-03")
    remove_document(store=store, document_id=v2.id, reason="取り違え")


def _copy(source: Store, target: Store) -> None:
    with source.engine.connect() as reading:
        query = text(f"SELECT {COLUMNS} FROM documents ORDER BY id")
        rows = [dict(r) for r in reading.execute(query).mappings()]
    for row in rows:
        with target.transaction() as connection:
            connection.execute(
                text(
                    f"INSERT INTO documents ({COLUMNS}) VALUES ("
                    + ", ".join(f":{c.strip()}" for c in COLUMNS.split(","))
                    + ")"
                ),
                row,
            )
            document = get_document(store=source, document_id=row["id"])
            put_original(
                store=target,
                connection=connection,
                document_id=row["id"],
                chunks=iter_original(store=source, document=document),
            )


@pytest.mark.parametrize("direction", ["sqlite_to_postgresql", "postgresql_to_sqlite"])
def test_originals_copied_through_the_api_are_the_same_bytes(
    both: tuple[Store, Store], tmp_path: Path, direction: str
) -> None:
    sqlite, server = both
    source, target = (sqlite, server) if direction == "sqlite_to_postgresql" else (server, sqlite)
    _fill(source, tmp_path / "in")
    _copy(source, target)
    assert verify_vault(store=target).intact
    copied: list[Any] = search_documents(store=target)
    everything = {
        d.id: read_original(store=source, document=d)
        for d in [*search_documents(store=source), get_document(store=source, document_id=4)]
        # the last: the removed one, in the trash
    }
    for document_id, data in everything.items():
        document = get_document(store=target, document_id=document_id)
        assert read_original(store=target, document=document) == data
    assert [d.relpath for d in copied] == [d.relpath for d in search_documents(store=source)]
    removed = get_document(store=target, document_id=4)
    assert removed.removed_at is not None and removed.trash_path is not None


def test_bytes_that_differ_from_the_row_are_refused_and_nothing_is_kept(
    both: tuple[Store, Store], tmp_path: Path
) -> None:
    sqlite, server = both
    _fill(sqlite, tmp_path / "in")
    row_source = get_document(store=sqlite, document_id=2)
    fresh = open_store(tmp_path / "fresh" / "t.sqlite3")
    for target in (server, fresh):
        with target.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM documents")).scalar() == 0
        with pytest.raises(VaultError, match="一致しません"), target.transaction() as connection:
            connection.execute(
                text(
                    "INSERT INTO documents (id, path, original_name, sha256, size, kind,"
                    " card_last4, month, added_at) VALUES (:id, :path, 'x', :sha, :size,"
                    " 'certificate', '1234', '2026-03', '2026-04-01T00:00:00')"
                ),
                {
                    "id": row_source.id,
                    "path": row_source.relpath,
                    "sha": row_source.sha256,
                    "size": row_source.size,
                },
            )
            put_original(
                store=target, connection=connection, document_id=2, chunks=[b"other bytes"]
            )
        with target.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM documents")).scalar() == 0
            assert connection.execute(text("SELECT count(*) FROM document_chunks")).scalar() == 0
    root = tmp_path / "fresh" / "t.etc"
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]
    fresh.close()
    # on SQLite a file written for a transaction that failed later is removed again
    other = tmp_path / "other.sqlite3"
    copy = open_store(other)
    try:
        with pytest.raises(RuntimeError), copy.transaction() as connection:
            connection.execute(
                text(
                    "INSERT INTO documents (id, path, original_name, sha256, size, kind,"
                    " card_last4, month, added_at) VALUES (2, :path, 'x', :sha, :size,"
                    " 'certificate', '1234', '2026-03', '2026-04-01T00:00:00')"
                ),
                {"path": row_source.relpath, "sha": row_source.sha256, "size": row_source.size},
            )
            written = put_original(
                store=copy,
                connection=connection,
                document_id=2,
                chunks=iter_original(store=sqlite, document=row_source),
            )
            assert written.path is not None and written.path.is_file()
            discard_original(store=copy, document=written)
            raise RuntimeError("the copy failed later")
        assert written.path is not None and not written.path.exists()
    finally:
        copy.close()
