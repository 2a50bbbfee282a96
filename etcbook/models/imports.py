"""Importing 明細CSV files into the store: all or nothing, each trip exactly once.

Rows are streamed from the file into a temporary staging table in batches, then merged into
``trips`` with set-based SQL inside the same transaction, so memory stays flat and a file
with any bad row leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from etcbook import clock
from etcbook.importers.meisai import (
    MAX_REPORTED_ERRORS,
    STATUS_CONFIRMED,
    STATUS_PENDING,
    LineError,
    MeisaiReader,
    NotMeisaiError,
)
from etcbook.models.store import Store

BATCH_ROWS = 5000

_STAGING_COLUMNS = (
    "line",
    "card_last4",
    "trip_key",
    "entry_at",
    "exit_at",
    "entry_ic",
    "exit_ic",
    "toll_before_discount",
    "etc_discount",
    "toll",
    "rebate_applied",
    "deferred_toll",
    "vehicle_class",
    "vehicle_number",
    "remarks",
    "status",
    "flags",
    "morning_evening",
)
_AMOUNT_COLUMNS = (
    "entry_at",
    "exit_at",
    "toll_before_discount",
    "etc_discount",
    "toll",
    "rebate_applied",
    "deferred_toll",
    "vehicle_class",
    "vehicle_number",
    "remarks",
    "status",
    "flags",
    "morning_evening",
)
"""What a 確定 row replaces in its 確認中 version (the old values go to trip_history)."""


class ImportCancelled(Exception):
    """The user cancelled; the transaction was rolled back and nothing was stored."""


@dataclass
class FileResult:
    """What importing one file did (or would do, in a preview)."""

    file: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: list[LineError] = field(default_factory=list)
    problem: str | None = None
    """A whole-file problem (not a 明細CSV at all, unreadable); then ``errors`` is empty."""
    new_cards: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.problem is None

    def error_dicts(self) -> list[dict[str, object]]:
        if self.problem is not None:
            return [{"line": None, "message": self.problem}]
        return [{"line": e.line, "message": e.message} for e in self.errors]


@dataclass
class ImportResult:
    """What importing several files did; when any file failed, nothing at all was stored."""

    files: list[FileResult]
    committed: bool

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def new_cards(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.files:
            seen.update(dict.fromkeys(f.new_cards))
        return list(seen)

    def to_json(self) -> dict[str, object]:
        return {
            "files": [
                {
                    "file": f.file,
                    "rows": f.rows,
                    "inserted": f.inserted,
                    "updated": f.updated,
                    "duplicates": f.duplicates,
                    "errors": f.error_dicts(),
                }
                for f in self.files
            ],
            "inserted": self.inserted,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "new_cards": self.new_cards,
            "committed": self.committed,
        }


Progress = Callable[[int, int], None]
"""Called with (bytes read so far, total bytes) of the current file."""


def _now() -> str:
    return clock.now().isoformat()


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class _CountingReader:
    """A binary line iterator that reports progress and honours cancellation."""

    def __init__(self, handle, total: int, progress: Progress | None, cancelled) -> None:
        self.handle = handle
        self.total = total
        self.progress = progress
        self.cancelled = cancelled
        self.read = 0
        self.lines = 0

    def __iter__(self):
        for raw in self.handle:
            self.read += len(raw)
            self.lines += 1
            if self.lines % 2000 == 0:
                if self.cancelled is not None and self.cancelled():
                    raise ImportCancelled
                if self.progress is not None:
                    self.progress(self.read, self.total)
            yield raw


def _stage_file(
    db: sqlite3.Connection,
    path: Path,
    result: FileResult,
    *,
    card_last4: str | None,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    db.execute("DROP TABLE IF EXISTS temp.staging")
    db.execute(f"CREATE TEMP TABLE staging ({', '.join(_STAGING_COLUMNS)})")
    insert = f"INSERT INTO temp.staging VALUES ({', '.join('?' * len(_STAGING_COLUMNS))})"
    total = path.stat().st_size
    batch: list[tuple[object, ...]] = []
    more_errors = 0
    with open(path, "rb") as handle:
        reader = MeisaiReader(
            _CountingReader(handle, total, progress, cancelled),  # type: ignore[arg-type]
            path.name,
            card_last4=card_last4,
        )
        for item in reader:
            if isinstance(item, LineError):
                if len(result.errors) < MAX_REPORTED_ERRORS:
                    result.errors.append(item)
                else:
                    more_errors += 1
                continue
            if result.errors:
                continue  # the file will be rejected: stop staging, keep validating
            entry = item.entry_at.isoformat() if item.entry_at else None
            exit_ = item.exit_at.isoformat()
            batch.append(
                (
                    item.line,
                    item.card_last4,
                    f"{entry or ''}|{exit_}|{item.entry_ic or ''}|{item.exit_ic}",
                    entry,
                    exit_,
                    item.entry_ic,
                    item.exit_ic,
                    item.toll_before_discount,
                    item.etc_discount,
                    item.toll,
                    item.rebate_applied,
                    item.deferred_toll,
                    item.vehicle_class,
                    item.vehicle_number,
                    item.remarks,
                    item.status,
                    ";".join(item.flags),
                    item.morning_evening,
                )
            )
            if len(batch) >= BATCH_ROWS:
                db.executemany(insert, batch)
                batch.clear()
        if batch and not result.errors:
            db.executemany(insert, batch)
        result.rows = reader.rows_read
    if more_errors:
        result.errors.append(
            LineError(
                result.errors[-1].line, f"ほかに{more_errors:,}行のエラーがあります（表示を省略）"
            )
        )
    if progress is not None:
        progress(total, total)


def _merge_staged(db: sqlite3.Connection, path: Path, sha256: str, result: FileResult) -> None:
    now = _now()
    new_cards = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT card_last4 FROM temp.staging"
            " WHERE card_last4 NOT IN (SELECT last4 FROM cards) ORDER BY card_last4"
        )
    ]
    db.executemany(
        "INSERT INTO cards (last4, holder, driver, kind, auto_exchange, status, notes, created_at)"
        " VALUES (?, '', '', 'credit', 0, 'details_missing', '明細CSVの取込で自動作成', ?)",
        [(last4, now) for last4 in new_cards],
    )
    result.new_cards = new_cards
    batch_id = db.execute(
        "INSERT INTO import_batches (file_name, sha256, imported_at) VALUES (?, ?, ?)",
        (path.name, sha256, now),
    ).lastrowid
    db.execute("DROP TABLE IF EXISTS temp.staged")
    db.execute(
        "CREATE TEMP TABLE staged AS"
        " SELECT s.*, c.id AS card_id,"
        " ROW_NUMBER() OVER (PARTITION BY s.card_last4, s.trip_key ORDER BY s.line) - 1 AS seq"
        " FROM temp.staging s JOIN cards c ON c.last4 = s.card_last4"
    )
    db.execute("DROP TABLE temp.staging")
    db.execute("CREATE INDEX temp.ix_staged_identity ON staged (card_id, trip_key, seq)")

    replaces = (
        f"((t.status = '{STATUS_PENDING}' AND s.status = '{STATUS_CONFIRMED}')"
        " OR (t.rebate_applied IS NULL AND s.rebate_applied IS NOT NULL))"
    )
    join = "t.card_id = s.card_id AND t.trip_key = s.trip_key AND t.seq = s.seq"
    old_values = ", ".join(f"'{c}', t.{c}" for c in _AMOUNT_COLUMNS)
    db.execute(
        "INSERT INTO trip_history (trip_id, changed_at, batch_id, old_values)"
        f" SELECT t.id, ?, ?, json_object({old_values})"
        f" FROM trips t JOIN temp.staged s ON {join} WHERE {replaces}",
        (now, batch_id),
    )
    assignments = ", ".join(f"{c} = s.{c}" for c in _AMOUNT_COLUMNS)
    result.updated = db.execute(
        f"UPDATE trips AS t SET {assignments}, batch_id = ? FROM temp.staged s"
        f" WHERE {join} AND {replaces}",
        (batch_id,),
    ).rowcount

    has_rules = db.execute("SELECT EXISTS (SELECT 1 FROM route_rules)").fetchone()[0]
    if has_rules:
        rule = (
            "(SELECT r.{col} FROM route_rules r WHERE r.{col} IS NOT NULL"
            " AND s.exit_ic GLOB r.exit_pattern"
            " AND (r.entry_pattern IS NULL OR coalesce(s.entry_ic, '') GLOB r.entry_pattern)"
            " ORDER BY r.id DESC LIMIT 1)"
        )
        operator = f"coalesce({rule.format(col='operator')}, 'nexco')"
        morning_evening = (
            f"(s.morning_evening OR coalesce({rule.format(col='morning_evening')}, 0))"
        )
    else:
        operator, morning_evening = "'nexco'", "s.morning_evening"
    inserted_columns = [c for c in _STAGING_COLUMNS if c not in ("line", "card_last4")]
    result.inserted = db.execute(
        f"INSERT INTO trips (card_id, seq, batch_id, source, operator, {', '.join(inserted_columns)})"
        f" SELECT s.card_id, s.seq, ?, 'import', {operator},"
        f" {', '.join(morning_evening if c == 'morning_evening' else 's.' + c for c in inserted_columns)}"
        " FROM temp.staged s"
        f" WHERE NOT EXISTS (SELECT 1 FROM trips t WHERE {join})"
        " ORDER BY s.line",
        (batch_id,),
    ).rowcount
    result.duplicates = result.rows - result.inserted - result.updated
    db.execute(
        "UPDATE import_batches SET rows = ?, inserted = ?, updated = ?, duplicates = ? WHERE id = ?",
        (result.rows, result.inserted, result.updated, result.duplicates, batch_id),
    )
    db.execute("DROP TABLE temp.staged")


def import_files(
    store: Store,
    paths: Sequence[Path],
    *,
    card_last4: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportResult:
    """Import 明細CSV files in one transaction; any bad file means nothing is stored.

    ``dry_run`` computes the same counts (a preview) and rolls back.
    Raises ImportCancelled when ``cancelled()`` turns true; nothing is stored then either.
    """
    results: list[FileResult] = []
    with store.engine.connect() as connection:
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        transaction = connection.begin()
        try:
            db = connection.connection.driver_connection
            assert isinstance(db, sqlite3.Connection)
            for path in map(Path, paths):
                result = FileResult(file=str(path))
                results.append(result)
                try:
                    sha256 = _sha256(path)
                    _stage_file(
                        db,
                        path,
                        result,
                        card_last4=card_last4,
                        progress=progress,
                        cancelled=cancelled,
                    )
                except NotMeisaiError as exc:
                    result.problem = str(exc)
                    continue
                except OSError as exc:
                    result.problem = f"{path}: 読めません（{exc.strerror or exc}）。"
                    continue
                if result.ok:
                    _merge_staged(db, path, sha256, result)
            commit = not dry_run and all(r.ok for r in results)
            if commit:
                transaction.commit()
            else:
                transaction.rollback()
        except BaseException:
            transaction.rollback()
            raise
    return ImportResult(files=results, committed=commit)
