"""Importing 明細CSV files into the store: all or nothing, each trip exactly once.

Rows are streamed from the file into a temporary staging table a chunk at a time and merged
into ``trips`` with set-based SQL inside the same transaction, so memory stays flat and a file
with any bad row leaves nothing behind; while SQLite merges one chunk, a second thread reads
and validates the next (:class:`_ChunkReader`).

Charged rows become ``trips``; passage rows (amounts a bare ``－``) become ``passages``, linked
to the trip of their journey where it can be told, and never money.

A trip is identified by its card, ``trip_key`` (entry and exit date-time and ICs) and ``seq``,
its order among rows of the file identical in all of these (passages are numbered apart). Most keys occur once, so ``seq``
is 0 unless a key repeats; the reader's filter (the first line of each hash slot, at most
32 MiB whatever the file size) spots the rows whose key may have occurred before, and only
those are numbered in SQL, among the rows of their slot.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import queue
import re
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import BinaryIO, cast

from etcbook import clock, phases
from etcbook.importers.meisai import (
    MAX_REPORTED_ERRORS,
    RECORD_FIELDS,
    STATUS_CONFIRMED,
    STATUS_PENDING,
    LineError,
    MeisaiReader,
    NotMeisaiError,
    Record,
)
from etcbook.models.card_choice import FILE_CARD_COLUMNS, card_matches, cards_for_file
from etcbook.models.routes import resolve_route_list
from etcbook.models.store import Store
from etcbook.safeio import display_name

BATCH_ROWS = 5000
"""Rows sent to SQLite per executemany."""

ROWS_PER_INSERT = 64
"""Staged rows per INSERT statement (one VALUES list of this many rows: SQLite binds the same
parameters but steps and resets a statement once per this many rows, not once per row)."""

IMPORT_CACHE_KIB = 64 * 1024
"""SQLite page cache for the store while importing (restored after). A file of about 150,000
rows and its trips indexes fit: beyond the cache, SQLite writes pages to the WAL before the
commit (and, while an index is built, to a statement journal as well)."""

STAGING_CACHE_KIB = 32 * 1024
"""SQLite page cache for the staging tables while importing (restored after)."""

_REPLACED_COLUMNS = (
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
    passages: int = 0
    """Of ``inserted``: passage rows (no charge of their own, never money)."""
    unknown_gates: list[str] = field(default_factory=list)
    """Gates of the file's rows that no route rule knows (their operator stays a guess,
    ``nexco``): for the import preview, which offers to make each one a rule
    (:func:`etcbook.models.routes.add_gate_rule`)."""

    @property
    def ok(self) -> bool:
        return not self.errors and self.problem is None

    def error_dicts(self) -> list[dict[str, object]]:
        if self.problem is not None:
            return [{"line": None, "message": self.problem}]
        return [{"line": e.line, "message": e.message} for e in self.errors]


@dataclass
class ImportResult:
    """What importing several files did; when any file failed, nothing at all was stored.

    ``committed`` tells whether the counts and new cards were stored (False for a preview
    or when a file failed: they are then what the import would have done).
    """

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
                    "passages": f.passages,
                    "unknown_gates": f.unknown_gates,
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
"""Called with (bytes read so far, total bytes) of the current file; (total, total) once at
the end of each file."""


def _now() -> str:
    return clock.now().isoformat()


class _HashingReader:
    """The file's bytes as read, hashed on the way (SHA-256 of the whole file at the end)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.sha256.update(chunk)
        return chunk


def _first(pair: tuple[int, int]) -> int:
    return pair[0]


def _key_sql(alias: str, route: str = "ro") -> str:
    """SQL for the ``trip_key`` of a staged row ``alias`` joined to its ``route`` in
    temp.route_map (as etcbook.importers.meisai.trip_key)."""
    return (
        f"coalesce({alias}.entry_at, '') || '|' || coalesce({alias}.exit_at, '')"
        f" || {route}.key_suffix"
    )


class _StagingInsert:
    """Inserts records into temp.staging, :data:`ROWS_PER_INSERT` rows per statement."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        into = f"INSERT INTO temp.staging ({', '.join(RECORD_FIELDS)}) VALUES "
        one = f"({', '.join('?' * len(RECORD_FIELDS))})"
        self.single = into + one
        self.multiple = into + ", ".join([one] * ROWS_PER_INSERT)

    def __call__(self, batch: Sequence[Record]) -> None:
        whole = len(batch) - len(batch) % ROWS_PER_INSERT
        if whole:
            flat = chain.from_iterable
            self.db.executemany(
                self.multiple,
                [
                    tuple(flat(batch[i : i + ROWS_PER_INSERT]))
                    for i in range(0, whole, ROWS_PER_INSERT)
                ],
            )
        if whole < len(batch):
            self.db.executemany(self.single, batch[whole:])


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a file is read and staged: reading makes
    hundreds of thousands of small tuples and strings, none in a reference cycle (reference
    counting frees each batch), and the collector's passes over them cost about 5 % of an
    import. Garbage in cycles made meanwhile (by any thread) waits for the next pass."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


CHUNK_ROWS = 16_384
"""Rows read, staged and merged into the store at a time. While SQLite merges one chunk (it
does not hold Python's lock meanwhile), a second thread reads and validates the next: the two
take about as long, so a big import waits for little more than the longer of them."""

SWITCH_SECONDS = 0.0005
"""Python's thread switch interval while a file is imported (5 ms by default): when one of a
chunk's statements ends, the importing thread gets Python's lock back from the reading thread
after this long at most."""


@dataclass
class _Chunk:
    """The next rows of a file as the reading thread validated them."""

    records: list[Record]
    """Its valid rows (none once the file has had a bad row: it will be refused)."""
    errors: list[LineError]
    candidates: list[tuple[int, int]]
    """Its rows that may repeat an earlier row's identity: (line, the first line of the same
    hash slot), as MeisaiReader.repeat_candidates."""
    cards: int
    remarks: int
    discounts: int
    routes: int
    """How many cards, remarks, discounts and routes the reader knew after these rows: its
    records index the first ones of each list."""


_END = object()
"""After a file's last chunk."""


class _ChunkReader:
    """Reads and validates a 明細CSV on a thread of its own and hands it over a chunk at a time
    (:attr:`chunks`: :class:`_Chunk` values, then ``_END``, or the exception that stopped the
    reading). After each chunk it waits for :meth:`read_on` before it reads the next, so that
    it reads while the importing thread merges (in SQLite, without Python's lock) and not while
    that thread binds rows (with it). Once the file has had a bad row it reads on to the end
    without waiting: its errors are all that is left to report."""

    def __init__(
        self,
        path: Path,
        *,
        card_last4: str | None,
        progress: Callable[[int], None],
    ) -> None:
        self.path = path
        self.card_last4 = card_last4
        self.progress = progress
        self.chunks: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.reader: MeisaiReader | None = None
        self.sha256 = ""
        """The file's SHA-256, once it is read to the end."""
        self._allowed = threading.Semaphore(0)
        self._stopped = False
        self._thread = threading.Thread(
            target=self._read, name="etcbook-import-reader", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def read_on(self) -> None:
        """Let the reading thread read the next chunk."""
        self._allowed.release()

    def stop(self) -> None:
        """Stop the reading (wherever it is) and wait for its thread to end."""
        self._stopped = True
        self._allowed.release()
        self._thread.join()

    def _read(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                hashing = _HashingReader(handle)
                reader = MeisaiReader(
                    hashing,
                    display_name(self.path.name),
                    card_last4=self.card_last4,
                    progress=self.progress,
                    size_hint=self.path.stat().st_size,
                )
                self.reader = reader
                records: list[Record] = []
                errors: list[LineError] = []
                handed = 0  # rows read when the last chunk of errors was handed over
                for items in reader.batches():
                    if self._stopped:
                        return
                    if reader.errors_found:  # the file will be refused: its errors only
                        records.clear()
                        errors.extend(item for item in items if isinstance(item, LineError))
                        if reader.rows_read - handed >= CHUNK_ROWS:
                            self._hand_over(reader, [], errors)
                            errors, handed = [], reader.rows_read
                        continue
                    records.extend(cast(list[Record], items))  # no LineError among them
                    while len(records) >= CHUNK_ROWS:
                        self._hand_over(reader, records[:CHUNK_ROWS], [])
                        del records[:CHUNK_ROWS]
                        self._allowed.acquire()
                        if self._stopped:
                            return
                if self._stopped:
                    return
                self._hand_over(reader, records, errors)
                self.sha256 = hashing.sha256.hexdigest()
            self.chunks.put(_END)
        except BaseException as exc:  # handed to the importing thread, which raises it
            self.chunks.put(exc)

    def _hand_over(
        self, reader: MeisaiReader, records: list[Record], errors: list[LineError]
    ) -> None:
        # the candidates among these rows (in file order, as the reader noted them)
        noted = reader.repeat_candidates
        last = records[-1][0] if records else None
        taken = len(noted) if last is None else bisect.bisect_right(noted, last, key=_first)
        candidates = noted[:taken]
        del noted[:taken]
        self.chunks.put(
            _Chunk(
                records,
                errors,
                candidates,
                len(reader.cards),
                len(reader.remarks),
                len(reader.discounts),
                len(reader.routes),
            )
        )


@contextmanager
def _switching_often() -> Iterator[None]:
    """Python's thread switch interval at :data:`SWITCH_SECONDS` at most, as it was after."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_SECONDS))
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def _import_file(
    db: sqlite3.Connection,
    path: Path,
    result: FileResult,
    *,
    card_last4: str | None,
    card_id: int | None,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    """Read, validate and merge one file into the store, inside the caller's transaction,
    filling ``result``: chunk by chunk, the next chunk read while one is merged. A file with a
    bad row (or whose cards cannot be told) leaves the store as it found it. Raises
    NotMeisaiError, OSError (the file cannot be read) and ImportCancelled."""
    for table in ("staging", "repeats"):
        db.execute(f"DROP TABLE IF EXISTS temp.{table}")
    db.execute(
        "CREATE TEMP TABLE staging (line INTEGER PRIMARY KEY,"
        f" {', '.join(RECORD_FIELDS[1:])}, seq INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE TEMP TABLE repeats (line INTEGER PRIMARY KEY, first INTEGER NOT NULL)")
    insert = _StagingInsert(db)
    total = path.stat().st_size

    def report(read: int) -> None:
        if cancelled is not None and cancelled():
            raise ImportCancelled
        if progress is not None and read < total:
            progress(read, total)

    chunks = _ChunkReader(path, card_last4=card_last4, progress=report)
    merge = _FileMerge(db, path, result, card_id, total)
    more_errors = 0
    db.execute("SAVEPOINT import_file")
    try:
        with cycle_collector_paused(), _switching_often():
            chunks.start()
            try:
                while (item := chunks.chunks.get()) is not _END:
                    if isinstance(item, BaseException):
                        raise item
                    chunk = cast(_Chunk, item)
                    for error in chunk.errors:
                        if len(result.errors) < MAX_REPORTED_ERRORS:
                            result.errors.append(error)
                        else:
                            more_errors += 1
                    if not result.ok:  # the file will be refused: only its errors are read
                        chunks.read_on()
                        continue
                    insert(chunk.records)
                    if chunk.candidates:
                        db.executemany("INSERT INTO temp.repeats VALUES (?, ?)", chunk.candidates)
                    chunks.read_on()  # the next chunk is read while this one is merged
                    assert chunks.reader is not None  # set before the first chunk
                    merge.chunk(chunk, chunks.reader)
            finally:
                chunks.stop()
        assert chunks.reader is not None
        result.rows = chunks.reader.rows_read
        if more_errors:
            result.errors.append(
                LineError(
                    result.errors[-1].line,
                    f"ほかに{more_errors:,}行のエラーがあります（表示を省略）",
                )
            )
        if result.ok:
            merge.finish(chunks.reader, chunks.sha256)
        else:  # as if nothing of the file had been merged
            db.execute("ROLLBACK TO import_file")
            result.inserted = result.updated = result.duplicates = result.passages = 0
            result.new_cards, result.unknown_gates = [], []
    except BaseException:
        db.execute("ROLLBACK TO import_file")
        db.execute("RELEASE import_file")
        raise
    db.execute("RELEASE import_file")


def _number_repeats(db: sqlite3.Connection, first_line: int) -> None:
    """Set ``seq`` of the staged rows from ``first_line`` on (a chunk's) whose (card,
    trip_key) occurred earlier in the file.

    Only the rows of a candidate's hash slot can share its identity: the slot's first row and
    its later candidates (temp.repeats: line, first). Those of the chunk's candidates' slots
    are numbered by their full identity (the route standing for the two ICs of the key),
    whichever chunk they came in.
    """
    db.execute("DROP TABLE IF EXISTS temp.repeat_rows")
    db.execute("CREATE TEMP TABLE repeat_rows (line INTEGER PRIMARY KEY)")
    db.execute(
        "INSERT OR IGNORE INTO temp.repeat_rows SELECT first FROM temp.repeats WHERE line >= ?"
        " UNION SELECT r.line FROM temp.repeats r WHERE r.first IN"
        " (SELECT first FROM temp.repeats WHERE line >= ?)",
        (first_line, first_line),
    )
    db.execute(
        "UPDATE temp.staging SET seq = q.seq FROM ("
        " SELECT s.line, ROW_NUMBER() OVER (PARTITION BY s.card, s.toll IS NULL,"
        " s.entry_at, s.exit_at, s.route ORDER BY s.line) - 1 AS seq FROM temp.repeat_rows x"
        " JOIN temp.staging s ON s.line = x.line"
        ") AS q WHERE staging.line = q.line AND q.seq > 0 AND q.line >= ?",
        (first_line,),
    )
    db.execute("DROP TABLE temp.repeat_rows")


def _add_routes(db: sqlite3.Connection, routes: Sequence[tuple[str, str]], first: int) -> set[str]:
    """Resolve route rules once per route (the reader's routes from index ``first`` on) into
    temp.route_map (ix = a row's ``route``; its ICs, NULL when blank, and the end of its rows'
    ``trip_key``; operator, its source and 朝夕割 from the rules). Returns the gates no rule
    knows."""
    resolved = resolve_route_list(db, routes)
    db.executemany(
        "INSERT INTO temp.route_map VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i,
                entry_ic or None,
                exit_ic or None,
                f"|{entry_ic}|{exit_ic}",
                operator or "nexco",
                "rule" if operator else "default",
                morning_evening,
            )
            for i, ((entry_ic, exit_ic), (operator, morning_evening)) in enumerate(
                zip(routes, resolved, strict=True), start=first
            )
        ],
    )
    unknown: set[str] = set()
    for (entry_ic, exit_ic), (operator, _) in zip(routes, resolved, strict=True):
        if operator is None:
            unknown.update(gate for gate in (exit_ic or entry_ic, exit_ic and entry_ic) if gate)
    return unknown


def _deferred_indexes(db: sqlite3.Connection, rows: int) -> list[tuple[str, str]]:
    """Drop the plain (non-unique) indexes of trips when this import adds more rows than the
    store holds: building an index once after the insert is cheaper than growing it row by
    row. Returns (name, CREATE statement) to rebuild them, in this transaction."""
    if rows < 10_000 or rows <= (db.execute("SELECT max(id) FROM trips").fetchone()[0] or 0):
        return []
    indexes = [
        (name, sql)
        for name, sql in db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'trips'"
            " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
        )
    ]
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    return indexes


_CLOSED_MONTH_INSERT_TRIGGER = re.compile(r"trips_closed(?:_(\d{4})_(\d{2}))?_insert")
"""The INSERT triggers on trips that refuse a closed month: the migration's own (without the
month) and the one etcbook.models.workflow adds per closed month (naming it)."""

_CLOSED_MONTH_OF_NEW = "substr(coalesce(NEW.exit_at, NEW.entry_at), 1, 7)"
"""The month those triggers test (the check before lifting them tests the same)."""

_TRIGGER_EVENT = re.compile(r"\b(?:BEFORE|AFTER|INSTEAD\s+OF)\s+(INSERT|UPDATE|DELETE)\b", re.I)


@contextmanager
def _closed_month_guards_lifted(db: sqlite3.Connection, rows: str) -> Iterator[None]:
    """Inside this transaction, lift the closed-month INSERT triggers of trips while the staged
    ``rows`` are inserted, when none of them lies in a closed month, and put them back after.

    A trigger runs a program per inserted row (about a third of the insert's time, even with no
    month closed). When every staged row passes the triggers' condition (its month, that of
    ``coalesce(exit_at, entry_at)``, is not closed), they would refuse nothing; they are
    dropped and created again from their own SQL, in their order (the order SQLite runs them
    in), before the transaction ends: the committed store always has them, and other
    connections never see them gone (the import holds the write lock; readers keep their
    snapshot). When a staged row lies in a closed month, or trips has an INSERT trigger of
    another kind, nothing is lifted and the triggers refuse as always, with their own message."""
    triggers = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'trips'"
        " ORDER BY rowid"
    ).fetchall()
    lifted: list[tuple[str, str]] = []
    months: set[str] = set()
    for name, sql in triggers:
        event = _TRIGGER_EVENT.search(sql or "")
        if event is not None and event.group(1).upper() != "INSERT":
            continue
        known = _CLOSED_MONTH_INSERT_TRIGGER.fullmatch(name)
        if event is None or known is None or _CLOSED_MONTH_OF_NEW not in sql:
            yield  # a trigger this function does not know: it runs as always
            return
        if known.group(1):
            months.add(f"{known.group(1)}-{known.group(2)}")
        lifted.append((name, sql))
    months.update(month for (month,) in db.execute("SELECT month FROM closed_months"))
    if months:
        marks = ", ".join("?" * len(months))
        if db.execute(
            f"SELECT EXISTS (SELECT 1 FROM {rows} WHERE s.toll IS NOT NULL"
            f" AND {_CLOSED_MONTH_OF_NEW.replace('NEW.', 's.')} IN ({marks}))",
            sorted(months),
        ).fetchone()[0]:
            yield  # the triggers refuse the import, naming the month
            return
    for name, _ in lifted:
        db.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        for _, sql in lifted:
            db.execute(sql)


def _file_card_ids(
    db: sqlite3.Connection, path: Path, cards: list[str], result: FileResult, card_id: int | None
) -> dict[str, int] | None:
    """The file's cards' ids by last 4, creating the missing ones; None (``result.problem``
    set) when several cards share digits of the file and ``card_id`` does not say which."""
    wanted = sorted(set(cards))
    found = card_matches(
        db.execute(
            f"SELECT {FILE_CARD_COLUMNS} FROM cards"
            f" WHERE last4 IN ({', '.join('?' * len(wanted))}) ORDER BY id",
            wanted,
        )
    )
    known, result.new_cards, result.problem = cards_for_file(
        display_name(path.name), wanted, found, card_id
    )
    if result.problem is not None:
        return None
    for last4 in result.new_cards:
        created = db.execute(
            "INSERT INTO cards (last4, holder, driver, kind, auto_exchange, status, notes,"
            " created_at) VALUES (?, '', '', 'credit', 0, 'details_missing',"
            " '明細CSVの取込で自動作成', ?) RETURNING id",
            (last4, _now()),
        ).fetchone()
        known[last4] = int(created[0])
        # Originals kept under these digits before the card existed are its own.
        db.execute(
            "UPDATE documents SET card_id = ? WHERE card_id IS NULL AND card_last4 = ?",
            (known[last4], last4),
        )
    return known


_ROUTE_JOIN = " JOIN temp.route_map ro ON ro.ix = s.route"
_MAPS = " JOIN temp.card_map cm ON cm.ix = s.card JOIN temp.remark_map rm ON rm.ix = s.remarks"
_ROWS = f"temp.staging s{_MAPS}"
_DISCOUNT_JOIN = " JOIN temp.discount_map dm ON dm.ix = s.discount"
_CHARGED = " AND s.toll IS NOT NULL"  # passage rows (toll NULL) go to passages, never trips
_MAP_TABLES = ("card_map", "remark_map", "discount_map", "route_map", "matches")


class _FileMerge:
    """Merges a file's staged rows into the store a chunk at a time (:meth:`chunk`, in file
    order), then its passages, indexes and counts (:meth:`finish`).

    A chunk's rows are merged among all the rows staged before them: a repeat is numbered
    after its earlier rows whichever chunk they came in, and a row matches the trip the store
    held before this file (a file's own rows never match each other: their identities differ).
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        path: Path,
        result: FileResult,
        card_id: int | None,
        file_bytes: int,
    ) -> None:
        self.db = db
        self.path = path
        self.result = result
        self.card_id = card_id
        self.file_bytes = file_bytes
        self.now = _now()
        self.batch_id: int | None = None
        self.deferred: list[tuple[str, str]] = []
        self.card_ids: list[int] = []
        """The id of the reader's card of each index."""
        self.stored: set[int] = set()
        """The file's cards that had trips before this file: its rows may be among them."""
        self.known = {"remarks": 0, "discounts": 0, "routes": 0}
        """How many of the reader's remarks, discounts and routes the maps hold."""
        self.new_cards: list[str] = []
        self.unknown: set[str] = set()
        for table in _MAP_TABLES:
            db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        db.execute("CREATE TEMP TABLE card_map (ix INTEGER PRIMARY KEY, card_id INTEGER NOT NULL)")
        db.execute(
            "CREATE TEMP TABLE remark_map (ix INTEGER PRIMARY KEY, remarks, status, flags,"
            " morning_evening)"
        )
        db.execute(
            "CREATE TEMP TABLE discount_map (ix INTEGER PRIMARY KEY, toll_before_discount,"
            " etc_discount)"
        )
        db.execute(
            "CREATE TEMP TABLE route_map (ix INTEGER PRIMARY KEY, entry_ic, exit_ic, key_suffix,"
            " operator, source, morning_evening)"
        )
        db.execute(
            "CREATE TEMP TABLE matches (line INTEGER PRIMARY KEY, trip_id INTEGER NOT NULL,"
            " replaces INTEGER NOT NULL)"
        )

    def _maps(self, reader: MeisaiReader, chunk: _Chunk) -> bool:
        """Add the cards, remarks, discounts and routes first seen in ``chunk`` to the maps
        (creating the file's new cards). False when the file's cards cannot be told apart
        (``result.problem`` set)."""
        db, result = self.db, self.result
        if chunk.cards > len(self.card_ids):
            known = _file_card_ids(db, self.path, reader.cards[: chunk.cards], result, self.card_id)
            if known is None:
                return False
            self.new_cards += result.new_cards
            for i in range(len(self.card_ids), chunk.cards):
                card_id = known[reader.cards[i]]
                self.card_ids.append(card_id)
                db.execute("INSERT INTO temp.card_map VALUES (?, ?)", (i, card_id))
                if db.execute(
                    "SELECT EXISTS (SELECT 1 FROM trips WHERE card_id = ?)", (card_id,)
                ).fetchone()[0]:
                    self.stored.add(card_id)
        first = self.known["remarks"]
        db.executemany(
            "INSERT INTO temp.remark_map VALUES (?, ?, ?, ?, ?)",
            [
                (i, r.text, r.status, r.flags, r.morning_evening)
                for i, r in enumerate(reader.remarks[first : chunk.remarks], start=first)
            ],
        )
        first = self.known["discounts"]
        db.executemany(
            "INSERT INTO temp.discount_map VALUES (?, ?, ?)",
            [
                (i, before, discount)
                for i, (before, discount) in enumerate(
                    reader.discounts[first : chunk.discounts], start=first
                )
            ],
        )
        first = self.known["routes"]
        if chunk.routes > first:
            self.unknown |= _add_routes(db, reader.routes[first : chunk.routes], first)
        self.known = {
            "remarks": chunk.remarks,
            "discounts": chunk.discounts,
            "routes": chunk.routes,
        }
        return True

    def _begin(self) -> int:
        """The file's import batch (its SHA-256 is set by :meth:`finish`); before the first
        chunk is merged, the plain indexes of trips are dropped when the file looks bigger
        than the store (rebuilt by :meth:`finish`)."""
        if self.batch_id is None:
            self.batch_id = self.db.execute(
                "INSERT INTO import_batches (file_name, sha256, imported_at) VALUES (?, '', ?)",
                (display_name(self.path.name), self.now),
            ).lastrowid
            assert self.batch_id is not None
            # about 100 bytes a row
            self.deferred = _deferred_indexes(self.db, self.file_bytes // 100)
        return self.batch_id

    def chunk(self, chunk: _Chunk, reader: MeisaiReader) -> None:
        """Merge the rows of ``chunk`` (staged, with its repeat candidates)."""
        db, result = self.db, self.result
        if not self._maps(reader, chunk) or not chunk.records:
            return
        batch_id = self._begin()
        first_line = chunk.records[0][0]
        if chunk.candidates:
            _number_repeats(db, first_line)
        in_chunk = f" AND s.line >= {int(first_line)}"

        # The chunk's rows already in the store, and whether each replaces the stored version:
        # only rows of cards that had trips before this file can be.
        any_match = False
        if self.stored:
            cards = ", ".join(map(str, sorted(self.stored)))
            any_match = (
                db.execute(
                    "INSERT INTO temp.matches SELECT s.line, t.id,"
                    f" (t.status IS '{STATUS_PENDING}' AND rm.status IS '{STATUS_CONFIRMED}')"
                    " OR (t.rebate_applied IS NULL AND s.rebate_applied IS NOT NULL)"
                    f" FROM {_ROWS}{_ROUTE_JOIN} JOIN trips t ON t.card_id = cm.card_id"
                    f" AND t.trip_key = {_key_sql('s')} AND t.seq = s.seq{_CHARGED}"
                    f" WHERE cm.card_id IN ({cards}){in_chunk}"
                ).rowcount
                > 0
            )
        if any_match:
            old_values = ", ".join(f"'{c}', t.{c}" for c in _REPLACED_COLUMNS)
            db.execute(
                "INSERT INTO trip_history (trip_id, changed_at, batch_id, old_values)"
                f" SELECT t.id, ?, ?, json_object({old_values})"
                " FROM temp.matches m JOIN trips t ON t.id = m.trip_id"
                " WHERE m.replaces AND m.line >= ? ORDER BY m.line",
                (self.now, batch_id, first_line),
            )
            # 朝夕 eligibility: the new row's tag, a route rule, or a mark the stored trip had
            # that did not come from its own (now replaced) tag.
            result.updated += db.execute(
                "UPDATE trips AS t SET entry_at = n.entry_at, exit_at = n.exit_at,"
                " toll_before_discount = n.toll_before_discount, etc_discount = n.etc_discount,"
                " toll = n.toll, rebate_applied = n.rebate_applied,"
                " deferred_toll = n.deferred_toll,"
                " vehicle_class = n.vehicle_class, vehicle_number = n.vehicle_number,"
                " remarks = n.remarks, status = n.status, flags = n.flags, batch_id = ?,"
                " morning_evening = (n.morning_evening OR coalesce(n.rule_morning_evening, 0)"
                "  OR (t.morning_evening AND instr(t.flags, '（朝夕）') = 0))"
                " FROM (SELECT m.trip_id, s.entry_at, s.exit_at, dm.toll_before_discount,"
                "  dm.etc_discount, s.toll, s.rebate_applied, s.deferred_toll, s.vehicle_class,"
                "  s.vehicle_number, rm.remarks, rm.status, rm.flags, rm.morning_evening,"
                "  ro.morning_evening AS rule_morning_evening"
                f"  FROM temp.matches m JOIN temp.staging s ON s.line = m.line{_MAPS}"
                f"{_ROUTE_JOIN}{_DISCOUNT_JOIN}"
                "  WHERE m.replaces AND m.line >= ?) AS n"
                " WHERE t.id = n.trip_id",
                (batch_id, first_line),
            ).rowcount

        chunk_rows = f"(SELECT * FROM temp.staging WHERE line >= {int(first_line)}) s"
        with _closed_month_guards_lifted(db, chunk_rows):
            result.inserted += db.execute(
                "INSERT INTO trips (card_id, seq, batch_id, source, operator, operator_source,"
                " trip_key, entry_at, exit_at,"
                " entry_ic, exit_ic, toll_before_discount, etc_discount, toll, rebate_applied,"
                " deferred_toll, vehicle_class, vehicle_number, remarks, status, flags,"
                " morning_evening)"
                " SELECT cm.card_id, s.seq, ?, 'import', ro.operator, ro.source,"
                f" {_key_sql('s')}, s.entry_at, s.exit_at, ro.entry_ic, ro.exit_ic,"
                " dm.toll_before_discount, dm.etc_discount, s.toll, s.rebate_applied,"
                " s.deferred_toll, s.vehicle_class, s.vehicle_number, rm.remarks, rm.status,"
                " rm.flags, (rm.morning_evening OR coalesce(ro.morning_evening, 0))"
                f" FROM {_ROWS}{_ROUTE_JOIN}{_DISCOUNT_JOIN} WHERE TRUE{_CHARGED}{in_chunk}"
                + (
                    f" AND s.line NOT IN (SELECT line FROM temp.matches WHERE line >= {int(first_line)})"
                    if any_match
                    else ""
                )
                + " ORDER BY s.line",
                (batch_id,),
            ).rowcount

    def finish(self, reader: MeisaiReader, sha256: str) -> None:
        """After the last chunk: the plain indexes rebuilt, the passages merged and linked, the
        file's counts and its import batch."""
        db, result = self.db, self.result
        batch_id = self._begin()
        for _, sql in self.deferred:
            db.execute(sql)
        if reader.passages:
            passages_updated, passages_inserted = _merge_passages(
                db, _ROWS, _ROUTE_JOIN, batch_id, self.now, sorted(set(self.card_ids))
            )
            result.updated += passages_updated
            result.inserted += passages_inserted
            result.passages = passages_inserted
        if result.inserted:
            link_passages(db, sorted(set(self.card_ids)))
        result.duplicates = result.rows - result.inserted - result.updated
        result.new_cards = self.new_cards
        result.unknown_gates = sorted(self.unknown)
        db.execute(
            "UPDATE import_batches SET sha256 = ?, rows = ?, inserted = ?, updated = ?,"
            " duplicates = ? WHERE id = ?",
            (sha256, result.rows, result.inserted, result.updated, result.duplicates, batch_id),
        )
        for table in ("staging", "repeats", *_MAP_TABLES):
            db.execute(f"DROP TABLE IF EXISTS temp.{table}")


def _merge_passages(
    db: sqlite3.Connection,
    rows: str,
    route_join: str,
    batch_id: int,
    now: str,
    card_ids: Sequence[int],
) -> tuple[int, int]:
    """Store the staged passage rows (toll NULL): a passage already stored is a duplicate,
    or takes the later status (確認中 → 確定; passages carry no amounts to keep in history).
    Returns (updated, inserted)."""
    key = _key_sql("s")
    db.execute("DROP TABLE IF EXISTS temp.passage_matches")
    db.execute(
        "CREATE TEMP TABLE passage_matches (line INTEGER PRIMARY KEY, passage_id INTEGER NOT NULL,"
        " replaces INTEGER NOT NULL)"
    )
    db.execute(
        "INSERT INTO temp.passage_matches SELECT s.line, p.id,"
        f" (p.status IS '{STATUS_PENDING}' AND rm.status IS '{STATUS_CONFIRMED}')"
        f" FROM {rows}{route_join} JOIN passages p ON p.card_id = cm.card_id"
        f" AND p.trip_key = {key}"
        " AND p.seq = s.seq WHERE s.toll IS NULL"
    )
    updated = db.execute(
        "UPDATE passages AS p SET remarks = n.remarks, status = n.status, flags = n.flags,"
        " batch_id = ? FROM (SELECT m.passage_id, rm.remarks, rm.status, rm.flags"
        " FROM temp.passage_matches m JOIN temp.staging s ON s.line = m.line"
        " JOIN temp.remark_map rm ON rm.ix = s.remarks WHERE m.replaces) AS n"
        " WHERE p.id = n.passage_id",
        (batch_id,),
    ).rowcount
    inserted = db.execute(
        "INSERT INTO passages (card_id, entry_at, exit_at, dated_at, entry_ic, exit_ic,"
        " vehicle_class, vehicle_number, remarks, status, flags, operator, operator_source,"
        " trip_key, seq, batch_id)"
        " SELECT cm.card_id, s.entry_at, s.exit_at, coalesce(s.exit_at, s.entry_at), ro.entry_ic,"
        " ro.exit_ic, s.vehicle_class, s.vehicle_number, rm.remarks, rm.status, rm.flags,"
        " ro.operator, ro.source,"
        f" {key}, s.seq, ? FROM {rows}{route_join}"
        " WHERE s.toll IS NULL AND s.line NOT IN (SELECT line FROM temp.passage_matches)"
        " ORDER BY s.line",
        (batch_id,),
    ).rowcount
    db.execute("DROP TABLE temp.passage_matches")
    return updated, inserted


LINK_WINDOW_DAYS = 1
"""A passage is linked only to a trip dated within this many days after it."""


def link_passages(db: sqlite3.Connection, card_ids: Sequence[int]) -> int:
    """Link the unlinked passages of these cards to the trip of their journey, where it can be
    told: a charged trip of the same card that shares the passage's entry (date-time and IC),
    or whose span from entry to exit contains the passage's time (a charge at an entry gate:
    its entry time). Among several, a shared entry first, then the shortest trip, then the
    earliest. Returns how many passages were linked."""
    window = (
        "t.card_id = passages.card_id AND t.dated_at >= passages.dated_at"
        f" AND t.dated_at < datetime(passages.dated_at, '+{LINK_WINDOW_DAYS} days')"
    )
    linked = 0
    for card_id in card_ids:
        for condition, order in (
            # the same journey's charged row: same entry gate and time
            (
                "t.entry_at = passages.entry_at AND t.entry_ic IS passages.entry_ic",
                "t.dated_at, t.id",
            ),
            # a trip whose span contains the passage's time: the shortest
            (
                "t.entry_at <= passages.dated_at",
                "julianday(t.dated_at) - julianday(t.entry_at), t.dated_at, t.id",
            ),
        ):
            linked += db.execute(
                f"UPDATE passages SET trip_id = (SELECT t.id FROM trips t WHERE {window}"
                f" AND {condition} ORDER BY {order} LIMIT 1)"
                " WHERE passages.card_id = ? AND passages.trip_id IS NULL"
                f" AND EXISTS (SELECT 1 FROM trips t WHERE {window} AND {condition})",
                (card_id,),
            ).rowcount
    return linked


def import_files(
    store: Store,
    paths: Sequence[Path],
    *,
    card_last4: str | None = None,
    card_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportResult:
    """Import 明細CSV files in one transaction; any bad file means nothing is stored.

    ``card_last4`` fills rows without a card number and refuses rows of other cards;
    ``card_id`` says which card they are when several share those digits (without it a file
    naming digits several cards share is refused whole: never a guess).
    ``dry_run`` computes the same counts (a preview) and rolls back.
    Raises ImportCancelled when ``cancelled()`` turns true; nothing is stored then either.
    """
    if store.on_server:
        from etcbook.models.imports_pg import import_files_pg

        return import_files_pg(
            store,
            paths,
            card_last4=card_last4,
            card_id=card_id,
            dry_run=dry_run,
            progress=progress,
            cancelled=cancelled,
        )
    results: list[FileResult] = []
    commit = False
    with store.engine.connect() as connection:
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        db = connection.connection.driver_connection
        assert isinstance(db, sqlite3.Connection)
        cache = db.execute("PRAGMA cache_size").fetchone()[0]
        temp_cache = db.execute("PRAGMA temp.cache_size").fetchone()[0]
        db.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
        db.execute(f"PRAGMA temp.cache_size = -{STAGING_CACHE_KIB}")
        # Where SQLite is built with SECURE_DELETE (Debian, Ubuntu), dropping the staging table
        # would overwrite its pages in the temporary file (as many bytes again as the file):
        # the temporary file is deleted when the connection closes, and the rows are the store's.
        temp_secure_delete = db.execute("PRAGMA temp.secure_delete").fetchone()[0]
        db.execute("PRAGMA temp.secure_delete = OFF")
        # Every key the import writes is one it has just read or created in this transaction
        # (the file's cards, its import batch, the trips it links passages to): SQLite's
        # foreign-key lookups, two per inserted row, cannot fail here and cost about 4 % of a
        # big import. The pragma only takes effect outside a transaction: set before BEGIN and
        # restored after the transaction ends (a connection still inside one is discarded).
        foreign_keys = db.execute("PRAGMA foreign_keys").fetchone()[0]
        db.execute("PRAGMA foreign_keys = OFF")
        try:
            transaction = connection.begin()
        except BaseException:
            db.execute(f"PRAGMA foreign_keys = {foreign_keys}")
            raise
        phases.mark("import", "start")
        try:
            for path in map(Path, paths):
                result = FileResult(file=display_name(path))
                results.append(result)
                try:
                    _import_file(
                        db,
                        path,
                        result,
                        card_last4=card_last4,
                        card_id=card_id,
                        progress=progress,
                        cancelled=cancelled,
                    )
                except NotMeisaiError as exc:
                    result.problem = str(exc)
                except OSError as exc:
                    result.problem = f"{display_name(path)}: 読めません（{exc.strerror or exc}）。"
                if progress is not None:  # once per file, whatever became of it
                    size = path.stat().st_size if path.is_file() else 0
                    progress(size, size)
            commit = not dry_run and all(r.ok for r in results)
            if commit:
                phases.mark("import", "commit")
                transaction.commit()
            else:
                transaction.rollback()
        except BaseException:
            transaction.rollback()
            raise
        finally:
            phases.mark("import", "end")
            if db.in_transaction:  # the rollback failed: never pooled with the pragma off
                connection.invalidate()
            else:
                db.execute(f"PRAGMA foreign_keys = {foreign_keys}")
                db.execute(f"PRAGMA cache_size = {cache}")
                db.execute(f"PRAGMA temp.cache_size = {temp_cache}")
                db.execute("DROP TABLE IF EXISTS temp.staging")
                db.execute("DROP TABLE IF EXISTS temp.repeats")
                db.execute(f"PRAGMA temp.secure_delete = {temp_secure_delete}")
    return ImportResult(files=results, committed=commit)
