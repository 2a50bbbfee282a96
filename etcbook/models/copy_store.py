"""Copying a whole ledger into another, empty one: SQLite → PostgreSQL, back, or file to file.

Every table of the schema is copied row by row with its ids, except those on :data:`SKIPPED`
(each with its reason). The tables are not listed here: they are read from the source and target
databases themselves (SQLAlchemy reflection), so a table a later migration adds is copied without
a change here; a test fails when a table is neither copied nor skipped.

How the copy keeps the ledger exact:

- **One transaction on the target.** Every row, the sequence positions and the provenance entry
  of the audit log are committed together; any failure rolls the target back to the empty,
  migrated ledger it was (the originals are assembled in a staging folder and put in place only
  after the commit).
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
- **Originals.** The vault's files are read from the source's vault and checked against the
  SHA-256 each document recorded, then written into the target's vault
  (:class:`VaultOriginals`, the one place that knows where originals' bytes live).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, MetaData, Table, text

from etcbook.models.audit import append_audit
from etcbook.models.dialect import is_postgresql
from etcbook.models.store import Store
from etcbook.privacy import make_private_dir
from etcbook.safeio import fsync_fully, open_binary_fd

SKIPPED: dict[str, str] = {
    "alembic_version": "the target is migrated to the same heads when it is opened",
    "data_version": "the target's own change counter, bumped by its commit",
    "engine_cache": "kept results of the engine, computed again on demand",
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
    """The copy was refused before anything was written; the message is for the user."""


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What :func:`copy_store` copied.

    Attributes:
        tables: rows copied per table, in the order they were filled.
        originals: vault files copied (bytes checked against their SHA-256).
        skipped: tables of the schema not copied, with the reason.
        seconds: how long the copy took.
    """

    tables: dict[str, int]
    originals: int
    skipped: dict[str, str] = field(default_factory=lambda: dict(SKIPPED))
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "tables": self.tables,
            "rows": sum(self.tables.values()),
            "originals": self.originals,
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


@dataclass(frozen=True, slots=True)
class _Original:
    relpath: str
    sha256: str


class VaultOriginals:
    """Where a store's originals' bytes are: its vault (``models.vault.vault_root``).

    The copy reads and writes originals only through this class, so a vault that keeps them
    elsewhere (the database) is one change here.
    """

    def __init__(self, store: Store) -> None:
        from etcbook.models.vault import vault_root

        self.store = store
        self.root = vault_root(store)

    def listed(self, connection: Connection) -> list[_Original]:
        """Every original the store's documents reference (removed ones: in the vault's trash)."""
        rows = connection.execute(
            text("SELECT path, sha256, removed_at, trash_path FROM documents ORDER BY id")
        ).all()
        originals = []
        for path, sha256, removed_at, trash_path in rows:
            relpath = trash_path if removed_at is not None else path
            if relpath:
                originals.append(_Original(relpath=str(relpath), sha256=str(sha256)))
        return originals

    def read(self, original: _Original) -> bytes:
        """The original's bytes, checked against its recorded SHA-256."""
        location = self.root / PurePosixPath(original.relpath)
        try:
            data = location.read_bytes()
        except OSError as exc:
            raise CopyRefused(
                f"{self.store.name}: 証憑の原本 {original.relpath} を読めません"
                f"（{exc.strerror or exc}）。何もコピーしていません。"
            ) from None
        if hashlib.sha256(data).hexdigest() != original.sha256:
            raise CopyRefused(
                f"{self.store.name}: 証憑の原本 {original.relpath} が記録された SHA-256 と"
                "一致しません（`etcbook evidence verify` で確かめてください）。何もコピーしていません。"
            )
        return data

    def holds_any(self) -> bool:
        """True when the vault already keeps a file."""
        return self.root.is_dir() and any(path.is_file() for path in self.root.rglob("*"))

    def staging(self) -> _Staging:
        """A folder beside the vault to write the copied originals into, put in place as the
        vault once the rows are committed (:meth:`_Staging.place`)."""
        return _Staging(self.root)


class _Staging:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root.with_name(f".{root.name}.copying")
        if self.folder.exists():  # an interrupted copy's
            _remove_tree(self.folder)
        make_private_dir(self.folder)

    def write(self, original: _Original, data: bytes) -> None:
        target = self.folder / PurePosixPath(original.relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = open_binary_fd(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            fsync_fully(out.fileno())
        os.chmod(target, stat.S_IRUSR)

    def place(self) -> None:
        if self.root.exists():  # an empty folder (VaultOriginals.holds_any was checked)
            shutil.rmtree(self.root)
        os.replace(self.folder, self.root)

    def discard(self) -> None:
        if self.folder.exists():
            _remove_tree(self.folder)


def _remove_tree(folder: Path) -> None:
    """Remove a folder of read-only files."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir():
            path.rmdir()
        else:
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
            path.unlink()
    folder.rmdir()


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

    Both are open (migrated to the same heads). Raises :class:`CopyRefused` before writing
    anything when the target holds data or an original cannot be read intact; any other failure
    rolls the target back to empty.
    """
    started = time.perf_counter()
    if source.name == target.name:
        raise CopyRefused(f"{target.name}: コピー元とコピー先が同じです。")
    source_vault, target_vault = VaultOriginals(source), VaultOriginals(target)
    counts: dict[str, int] = {}
    staging: _Staging | None = None
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
                if filled is not None or target_vault.holds_any():
                    where = f"表 {filled} " if filled is not None else "証憑フォルダ"
                    raise CopyRefused(
                        f"{target.name}: コピー先が空ではありません（{where}にデータがあります）。"
                        "空のデータベースか新しいファイルを指定してください。何も変更していません。"
                    )
                originals = source_vault.listed(reading)
                staging = target_vault.staging()
                for original in originals:
                    staging.write(original, source_vault.read(original))
                with _bulk_loading(writing, tables):
                    for table in tables:
                        counts[table.name] = _copy_table(reading, writing, table, progress)
                if is_postgresql(writing):
                    _reset_sequences(writing, tables)
                append_audit(
                    connection=writing,
                    entity="store",
                    entity_id=0,
                    action="copy",
                    old={"from": source.name},
                    new={"rows": sum(counts.values()), "originals": len(originals)},
                    reason="台帳をコピーしました（copy-store）",
                )
    except BaseException:
        if staging is not None:
            staging.discard()
        raise
    staging.place()
    return CopyReport(
        tables=counts, originals=len(originals), seconds=time.perf_counter() - started
    )


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
