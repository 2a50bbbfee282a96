"""Copying a whole ledger into another, empty one: SQLite → PostgreSQL, back, or file to file.

Every table of the schema is copied row by row with its ids, except those on :data:`SKIPPED`
(each with its reason). The tables are not listed here: they are read from the source and target
databases themselves (SQLAlchemy reflection), so a table a later migration adds is copied without
a change here; a test fails when a table is neither copied nor skipped.

How the copy keeps the ledger exact:

- **One transaction on the target.** Every row, the sequence positions and the provenance entry
  of the audit log are committed together; any failure rolls the target back to the empty,
  migrated ledger it was (on SQLite the originals' files written so far are removed).
- **Foreign-key order.** Tables are filled parent first (the target's own dependency order),
  rows in id order (a document's correction comes after the document it corrects),
  ``closed_months`` last.
- **Values as stored.** Rows are read and written through the drivers, not the ORM types: on
  SQLite date-times are ISO text and on PostgreSQL the engine reads ``timestamp``/``date`` back as
  the same ISO text (:mod:`etcbook.models.server`), which PostgreSQL's ``COPY`` reads into its
  typed columns. SQLite → PostgreSQL → SQLite gives every value back as it was.
- **Triggers and indexes while loading.** The target's user triggers are dropped (SQLite) or
  disabled (PostgreSQL, ``ALTER TABLE … DISABLE TRIGGER USER``: needs the tables' owner, the role
  that migrated the target), its secondary indexes and, on PostgreSQL, its foreign keys dropped
  (re-adding one checks every row in one query), then all are put back before the
  commit (:func:`_bulk_loading`): DDL in the same transaction, so a failure rolls them back too.
  The triggers only refuse UPDATE/DELETE on the append-only audit log and changes to closed months
  or approved claims (the copy only inserts rows the source admitted), or, on PostgreSQL, stamp a
  new audit entry's ``db_user`` with the current role (``audit_log_login``): so every copied
  entry keeps who wrote it. One entry is then appended, with the triggers back (entity
  ``store``, action ``copy``), saying where the ledger was copied from.
- **Data version.** ``data_version`` is the target's own counter (its commit bumps it), not copied.
- **Sequences.** On PostgreSQL each id sequence is set past the largest copied id.
- **Originals and claim files.** Their bytes are never copied as rows (``document_chunks``,
  ``claim_file_chunks`` are on :data:`SKIPPED`): each document's original (removed ones too) and
  each claim's frozen file is read from the source through the vault's API, checked against the
  SHA-256 and size its row records (:func:`etcbook.models.vault.iter_original`,
  :func:`etcbook.models.workflow.iter_claim_file`), and written into the target's own storage in
  the same transaction, checked again (:func:`~etcbook.models.vault.put_original`,
  :func:`~etcbook.models.workflow.put_claim_file`): rows on PostgreSQL, read-only files on
  SQLite, whichever the source used. A damaged or missing one refuses the copy with a sentence.
  On a SQLite target the claims' folders become the target's own
  (:func:`~etcbook.models.workflow.adopt_claim_folders`). Only
  :mod:`etcbook.models.vault_storage` knows where bytes live.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, MetaData, Table, text

from etcbook.models.audit import append_audit
from etcbook.models.dialect import is_postgresql
from etcbook.models.store import Store
from etcbook.models.vault_storage import VaultError

if TYPE_CHECKING:
    from etcbook.models.vault import DocumentRecord
    from etcbook.models.workflow import ClaimFile

SKIPPED: dict[str, str] = {
    "alembic_version": "the target is migrated to the same heads when it is opened",
    "data_version": "the target's own change counter, bumped by its commit",
    "engine_cache": "kept results of the engine, computed again on demand",
    "document_chunks": "the originals' bytes on PostgreSQL: each original is read (checked) from"
    " the source and written into the target's own storage (rows or files) by the vault",
    "claim_file_chunks": "a claim's frozen files' bytes on PostgreSQL: copied like the originals",
}
"""Tables of the schema that are not copied, with the reason."""
LAST: tuple[str, ...] = ("closed_months",)
"""Tables filled after all others: their rows make triggers refuse inserts into other tables."""
CHUNK = 5_000
"""Rows read and written at a time."""
PROGRESS_EVERY = 20_000
"""A table of more rows reports its progress every so many rows."""

Progress = Callable[[str, int, int], None]
"""``progress(table, rows_done, rows_total)``."""


class CopyRefused(ValueError):
    """The copy was refused and the target left as it was; the message is for the user."""


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What :func:`copy_store` copied.

    Attributes:
        tables: rows copied per table, in the order they were filled.
        originals: vault originals copied (removed ones too; bytes checked against their
            SHA-256 when read and when written).
        claim_files: claims' frozen files copied (PDF, CSV, bundle, approved PDF), checked alike.
        skipped: tables of the schema not copied as rows, with the reason.
        seconds: how long the copy took.
    """

    tables: dict[str, int]
    originals: int
    claim_files: int = 0
    skipped: dict[str, str] = field(default_factory=lambda: dict(SKIPPED))
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "tables": self.tables,
            "rows": sum(self.tables.values()),
            "originals": self.originals,
            "claim_files": self.claim_files,
            "skipped": sorted(self.skipped),
            "seconds": round(self.seconds, 3),
        }


def schema_tables(connection: Connection) -> MetaData:
    """The database's own tables (reflected: what its migrations built)."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    return metadata


def copied_tables(metadata: MetaData) -> list[Table]:
    """The tables to copy, in the order to fill them (parents first, :data:`LAST` at the end)."""
    tables = [table for table in metadata.sorted_tables if table.name not in SKIPPED]
    return [table for table in tables if table.name not in LAST] + [
        table for table in tables if table.name in LAST
    ]


def _insertable(table: Table) -> list[str]:
    """Column names a row is written with: all but generated ones (``trips.dated_at``)."""
    return [column.name for column in table.columns if column.computed is None]


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _order_by(connection: Connection, table: Table) -> str:
    columns = list(table.primary_key.columns) or list(table.columns)
    return ", ".join(_quoted(connection, column.name) for column in columns)


def _non_empty(connection: Connection, tables: Sequence[Table]) -> str | None:
    for table in tables:
        row = connection.exec_driver_sql(
            f"SELECT 1 FROM {_quoted(connection, table.name)} LIMIT 1"
        ).first()
        if row is not None:
            return table.name
    return None


def _rows(connection: Connection, table: Table, columns: Sequence[str]) -> Iterator[list[Any]]:
    names = ", ".join(_quoted(connection, name) for name in columns)
    result = connection.execution_options(stream_results=True).exec_driver_sql(
        f"SELECT {names} FROM {_quoted(connection, table.name)}"
        f" ORDER BY {_order_by(connection, table)}"
    )
    for chunk in result.partitions(CHUNK):
        yield [tuple(row) for row in chunk]


def _write(connection: Connection, table: Table, columns: Sequence[str], rows: list[Any]) -> None:
    names = ", ".join(_quoted(connection, name) for name in columns)
    quoted_table = _quoted(connection, table.name)
    driver = connection.connection.driver_connection
    if is_postgresql(connection):
        with (
            driver.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(f"COPY {quoted_table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    driver.executemany(  # type: ignore[union-attr]
        f"INSERT INTO {quoted_table} ({names}) VALUES ({marks})", rows
    )


def _reset_sequences(connection: Connection, tables: Sequence[Table]) -> None:
    """PostgreSQL: each id sequence continues after the largest copied id."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": _quoted(connection, table.name), "column": column.name},
            ).scalar()
            if sequence is None:
                continue
            connection.execute(
                text(
                    f"SELECT setval(:sequence, coalesce(max({_quoted(connection, column.name)}),"
                    f" 0) + 1, false) FROM {_quoted(connection, table.name)}"
                ),
                {"sequence": sequence},
            )


@contextlib.contextmanager
def _bulk_loading(connection: Connection, tables: Sequence[Table]) -> Iterator[None]:
    """While the empty target is filled: its user triggers off, its secondary indexes (and on
    PostgreSQL its foreign keys, checked row by row by system triggers) built after.

    The triggers only refuse changes (append-only audit log, closed months, approved claims) or,
    on PostgreSQL, stamp a new audit entry's ``db_user`` with the copying role
    (``audit_log_login``): the copied rows were admitted by the source's, and each entry keeps
    who wrote it. Indexes not backing a constraint are built once over all rows instead of row
    by row. Both come back as they were before the commit; being DDL inside the same
    transaction, a failed copy rolls them back with the rows.
    """
    names = [table.name for table in tables]
    if is_postgresql(connection):
        indexes = connection.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i"
                " WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables)"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
            ),
            {"tables": names},
        ).all()
        foreign_keys = connection.execute(
            text(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
                " FROM pg_constraint c WHERE c.contype = 'f'"
                " AND c.conrelid::regclass::text = ANY(:tables) ORDER BY 1, 2"
            ),
            {"tables": [_quoted(connection, name) for name in names]},
        ).all()
        for name in names:
            connection.exec_driver_sql(
                f"ALTER TABLE {_quoted(connection, name)} DISABLE TRIGGER USER"
            )
        for table, constraint, _definition in foreign_keys:
            connection.exec_driver_sql(
                f"ALTER TABLE {table} DROP CONSTRAINT {_quoted(connection, constraint)}"
            )
        for index, _definition in indexes:
            connection.exec_driver_sql(f"DROP INDEX {_quoted(connection, index)}")
        yield
        for _index, definition in indexes:
            connection.exec_driver_sql(definition)
        for table, constraint, definition in foreign_keys:
            connection.exec_driver_sql(
                f"ALTER TABLE {table} ADD CONSTRAINT {_quoted(connection, constraint)} {definition}"
            )
        for name in names:
            connection.exec_driver_sql(
                f"ALTER TABLE {_quoted(connection, name)} ENABLE TRIGGER USER"
            )
        return
    marks = ", ".join(f":t{i}" for i in range(len(names)))
    objects = connection.execute(
        text(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'index')"
            f" AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY type, name"
        ),
        {f"t{i}": name for i, name in enumerate(names)},
    ).all()
    for kind, name, _sql in objects:
        connection.exec_driver_sql(f"DROP {kind.upper()} {_quoted(connection, name)}")
    yield
    for _kind, _name, sql in objects:
        connection.exec_driver_sql(sql)


def copy_store(*, source: Store, target: Store, progress: Progress | None = None) -> CopyReport:
    """Copy every row of ``source`` and its originals into the empty ledger ``target``.

    Both are open (migrated to the same heads). Raises :class:`CopyRefused` when the target
    holds data or an original or a claim's file cannot be read intact; that and any other
    failure roll the target back to empty (files written on SQLite are removed).
    """
    started = time.perf_counter()
    if source.name == target.name:
        raise CopyRefused(f"{target.name}: コピー元とコピー先が同じです。")
    counts: dict[str, int] = {}
    put = _PutFiles(source=source, target=target)
    reading_options: dict[str, Any] = (
        {"isolation_level": "REPEATABLE READ"} if source.on_server else {}
    )
    try:
        with source.engine.connect() as reading:
            reading = reading.execution_options(**reading_options)
            with reading.begin(), target.transaction() as writing:
                _check_sees_everything(source, reading)
                source_meta = schema_tables(reading)
                tables = copied_tables(schema_tables(writing))
                _check_same_tables(source, target, source_meta, tables)
                filled = _non_empty(writing, tables)
                if filled is not None:
                    raise CopyRefused(
                        f"{target.name}: コピー先が空ではありません（表 {filled} にデータがあります）。"
                        "空のデータベースか新しいファイルを指定してください。何も変更していません。"
                    )
                with _bulk_loading(writing, tables):
                    for table in tables:
                        counts[table.name] = _copy_table(reading, writing, table, progress)
                    put.all(reading, writing)
                if is_postgresql(writing):
                    _reset_sequences(writing, tables)
                append_audit(
                    connection=writing,
                    entity="store",
                    entity_id=0,
                    action="copy",
                    old={"from": source.name},
                    new={
                        "rows": sum(counts.values()),
                        "originals": len(put.documents),
                        "claim_files": len(put.claim_files),
                    },
                    reason="台帳をコピーしました（copy-store）",
                )
    except BaseException:
        put.discard()
        raise
    return CopyReport(
        tables=counts,
        originals=len(put.documents),
        claim_files=len(put.claim_files),
        seconds=time.perf_counter() - started,
    )


@dataclass
class _PutFiles:
    """The originals' and claim files' bytes, read verified from the source and put into the
    target's own storage through the vault's API (:mod:`etcbook.models.vault_storage` alone
    knows where they live); what was put, to undo it when the copy fails."""

    source: Store
    target: Store
    documents: list[DocumentRecord] = field(default_factory=list)
    claim_files: list[ClaimFile] = field(default_factory=list)

    def all(self, reading: Connection, writing: Connection) -> None:
        """Every document's original (removed ones too) and every claim's frozen file, written
        in ``writing``'s transaction after the rows that record them."""
        from etcbook.models.vault import (
            DocumentSearch,
            iter_original,
            put_original,
            search_documents,
        )
        from etcbook.models.workflow import (
            adopt_claim_folders,
            claim_files,
            iter_claim_file,
            put_claim_file,
        )

        documents = search_documents(
            store=self.source, search=DocumentSearch(include_removed=True), connection=reading
        )
        adopt_claim_folders(store=self.target, connection=writing)
        try:
            for document in sorted(documents, key=lambda d: d.id):
                chunks = iter_original(store=self.source, document=document, connection=reading)
                self.documents.append(
                    put_original(
                        store=self.target,
                        connection=writing,
                        document_id=document.id,
                        chunks=chunks,
                    )
                )
            for claim_file in claim_files(reading):
                chunks = iter_claim_file(
                    store=self.source, claim_file=claim_file, connection=reading
                )
                self.claim_files.append(
                    put_claim_file(
                        store=self.target,
                        connection=writing,
                        claim_file_id=claim_file.id,
                        chunks=chunks,
                    )
                )
        except VaultError as exc:
            raise CopyRefused(
                f"{self.source.name}: {str(exc).rstrip('。')}。何もコピーしていません。"
            ) from None

    def discard(self) -> None:
        """Remove what was put (files on SQLite; rows go with the rolled-back transaction)."""
        from etcbook.models.vault import discard_original
        from etcbook.models.workflow import discard_claim_file

        for document in self.documents:  # the copy's own error is the one to report
            with contextlib.suppress(OSError):
                discard_original(store=self.target, document=document)
        for claim_file in self.claim_files:
            with contextlib.suppress(OSError):
                discard_claim_file(store=self.target, claim_file=claim_file)
        self.documents.clear()
        self.claim_files.clear()


def _check_sees_everything(source: Store, reading: Connection) -> None:
    """A driver's login sees only its cards' rows (row-level security): its copy would lack the
    others'. Refused; the accounts desk or the owner copies a company ledger."""
    if not is_postgresql(reading):
        return
    from etcbook.models.roles import DRIVER

    is_driver = reading.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM pg_roles me, pg_roles driver"
            " WHERE me.rolname = current_user AND driver.rolname = :role"
            " AND NOT me.rolsuper AND NOT me.rolbypassrls"  # a superuser 'has' every role
            " AND pg_has_role(me.oid, driver.oid, 'MEMBER'))"
        ),
        {"role": DRIVER},
    ).scalar()
    if is_driver:
        raise CopyRefused(
            f"{source.name}: 運転者のロールには担当カードの行しか見えないため、台帳をコピーできません。"
            "経理担当かデータベースの所有者のロールでコピーしてください。何も変更していません。"
        )


def _check_same_tables(
    source: Store, target: Store, source_meta: MetaData, tables: Sequence[Table]
) -> None:
    for table in tables:
        there = source_meta.tables.get(table.name)
        missing = set(_insertable(table)) - set(there.columns.keys() if there is not None else ())
        if missing:
            raise CopyRefused(
                f"{source.name} と {target.name} の表の形が違います（{table.name}: "
                f"{', '.join(sorted(missing))}）。同じ版の etcbook で開いてください。"
            )


def _copy_table(
    reading: Connection, writing: Connection, table: Table, progress: Progress | None
) -> int:
    columns = _insertable(table)
    total = 0
    expected = reading.exec_driver_sql(
        f"SELECT count(*) FROM {_quoted(reading, table.name)}"
    ).scalar_one()
    for rows in _rows(reading, table, columns):
        _write(writing, table, columns, rows)
        before, total = total, total + len(rows)
        crossed = total // PROGRESS_EVERY > before // PROGRESS_EVERY or total == expected
        if progress is not None and expected >= PROGRESS_EVERY and crossed:
            progress(table.name, total, expected)
    return total
