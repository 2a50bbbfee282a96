"""Importing 明細CSV files into the store: all or nothing, each trip exactly once.

Rows are streamed from the file into a temporary staging table in batches, then merged into
``trips`` with set-based SQL inside the same transaction, so memory stays flat and a file
with any bad row leaves nothing behind.

Charged rows become ``trips``; passage rows (amounts a bare ``－``) become ``passages``, linked
to the trip of their journey where it can be told, and never money.

A trip is identified by its card, ``trip_key`` (entry and exit date-time and ICs) and ``seq``,
its order among rows of the file identical in all of these (passages are numbered apart). Most keys occur once, so ``seq``
is 0 unless a key repeats; a bit set in memory (a few MB whatever the file size) spots the
rows whose key may have occurred before, and only those keys are numbered in SQL.
"""

from __future__ import annotations

import gc
import hashlib
import re
import sqlite3
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
    Remarks,
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


def _one(value: int) -> tuple[int]:
    return (value,)


def _key_sql(alias: str, route: str = "ro") -> str:
    """SQL for the ``trip_key`` of a staged row ``alias`` joined to its ``route`` in
    temp.route_map (as etcbook.importers.meisai.trip_key)."""
    return (
        f"coalesce({alias}.entry_at, '') || '|' || coalesce({alias}.exit_at, '')"
        f" || {route}.key_suffix"
    )


@dataclass
class _Staged:
    """What streaming a file into temp.staging found out."""

    sha256: str
    cards: list[str]
    remarks: list[Remarks]
    candidates: bool
    passages: int
    """Passage rows read (toll NULL in the staging table)."""
    routes: list[tuple[str, str]]
    """The distinct (entry IC, exit IC) of the rows ('' for blank): a row's ``route`` indexes
    this list."""
    discounts: list[tuple[int | None, int | None]]
    """The distinct (割引前料金, ＥＴＣ割引額) of the rows: a row's ``discount`` indexes this list."""


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


def _stage_file(
    db: sqlite3.Connection,
    path: Path,
    result: FileResult,
    *,
    card_last4: str | None,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> _Staged:
    """Validate the file into temp.staging (rows) and temp.repeats (repeat candidates)."""
    for table in ("staging", "repeats"):
        db.execute(f"DROP TABLE IF EXISTS temp.{table}")
    db.execute(
        "CREATE TEMP TABLE staging (line INTEGER PRIMARY KEY,"
        f" {', '.join(RECORD_FIELDS[1:])}, seq INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE TEMP TABLE repeats (line INTEGER PRIMARY KEY)")
    insert = _StagingInsert(db)
    total = path.stat().st_size

    def report(read: int) -> None:
        if cancelled is not None and cancelled():
            raise ImportCancelled
        if progress is not None and read < total:
            progress(read, total)

    batch: list[Record] = []
    any_candidate = False
    more_errors = 0
    with open(path, "rb") as handle, cycle_collector_paused():
        hashing = _HashingReader(handle)
        reader = MeisaiReader(
            hashing,
            display_name(path.name),
            card_last4=card_last4,
            progress=report,
            size_hint=total,
        )
        candidates = reader.repeat_candidates
        errors_found = 0
        for items in reader.batches():
            if reader.errors_found != errors_found:  # a bad line among these
                errors_found = reader.errors_found
                for item in items:
                    if isinstance(item, LineError):
                        if len(result.errors) < MAX_REPORTED_ERRORS:
                            result.errors.append(item)
                        else:
                            more_errors += 1
                continue
            if result.errors:
                continue  # the file will be rejected: stop staging, keep validating
            batch.extend(cast(list[Record], items))  # no LineError among them
            if len(batch) >= BATCH_ROWS:
                insert(batch)
                batch.clear()
                if candidates:
                    db.executemany("INSERT INTO temp.repeats VALUES (?)", map(_one, candidates))
                    candidates.clear()
                    any_candidate = True
        if not result.errors:
            insert(batch)
            db.executemany("INSERT INTO temp.repeats VALUES (?)", map(_one, candidates))
            any_candidate = any_candidate or bool(candidates)
        result.rows = reader.rows_read
    if more_errors:
        result.errors.append(
            LineError(
                result.errors[-1].line, f"ほかに{more_errors:,}行のエラーがあります（表示を省略）"
            )
        )
    return _Staged(
        hashing.sha256.hexdigest(),
        reader.cards,
        reader.remarks,
        any_candidate,
        reader.passages,
        reader.routes,
        reader.discounts,
    )


def _number_repeats(db: sqlite3.Connection) -> None:
    """Set ``seq`` of rows whose (card, trip_key) occurred earlier in the file.

    Only rows sharing card and exit time with a candidate can be repeats; those are numbered
    by their full identity (the route standing for the two ICs of the key).
    """
    db.execute("DROP TABLE IF EXISTS temp.repeat_keys")
    db.execute(
        "CREATE TEMP TABLE repeat_keys (card, dated_at, PRIMARY KEY (card, dated_at)) WITHOUT ROWID"
    )
    db.execute(
        "INSERT OR IGNORE INTO temp.repeat_keys SELECT s.card, coalesce(s.exit_at, s.entry_at)"
        " FROM temp.repeats r JOIN temp.staging s USING (line)"
    )
    db.execute(
        "UPDATE temp.staging SET seq = q.seq FROM ("
        " SELECT s.line, ROW_NUMBER() OVER (PARTITION BY s.card, s.toll IS NULL,"
        " s.entry_at, s.exit_at, s.route ORDER BY s.line) - 1 AS seq FROM temp.repeat_keys k"
        " JOIN temp.staging s ON s.card = k.card"
        " AND coalesce(s.exit_at, s.entry_at) = k.dated_at"
        ") AS q WHERE staging.line = q.line AND q.seq > 0"
    )
    db.execute("DROP TABLE temp.repeat_keys")


def _route_rules(db: sqlite3.Connection, staged: _Staged) -> list[str]:
    """Resolve route rules once per distinct route of the staged rows into temp.route_map
    (ix = a row's ``route``; its ICs, NULL when blank, and the end of its rows' ``trip_key``;
    operator, its source and 朝夕割 from the rules). Returns the gates no rule knows."""
    resolved = resolve_route_list(db, staged.routes)
    db.execute("DROP TABLE IF EXISTS temp.route_map")
    db.execute(
        "CREATE TEMP TABLE route_map (ix INTEGER PRIMARY KEY, entry_ic, exit_ic, key_suffix,"
        " operator, source, morning_evening)"
    )
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
                zip(staged.routes, resolved, strict=True)
            )
        ],
    )
    unknown: set[str] = set()
    for (entry_ic, exit_ic), (operator, _) in zip(staged.routes, resolved, strict=True):
        if operator is None:
            unknown.update(gate for gate in (exit_ic or entry_ic, exit_ic and entry_ic) if gate)
    return sorted(unknown)


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


def _merge_staged(
    db: sqlite3.Connection,
    path: Path,
    staged: _Staged,
    result: FileResult,
    card_id: int | None = None,
) -> None:
    now = _now()
    known = _file_card_ids(db, path, staged.cards, result, card_id)
    if known is None:
        return
    for table in ("card_map", "remark_map", "discount_map", "matches"):
        db.execute(f"DROP TABLE IF EXISTS temp.{table}")
    db.execute("CREATE TEMP TABLE card_map (ix INTEGER PRIMARY KEY, card_id INTEGER NOT NULL)")
    db.executemany(
        "INSERT INTO temp.card_map VALUES (?, ?)",
        [(i, known[last4]) for i, last4 in enumerate(staged.cards)],
    )
    db.execute(
        "CREATE TEMP TABLE remark_map (ix INTEGER PRIMARY KEY, remarks, status, flags,"
        " morning_evening)"
    )
    db.executemany(
        "INSERT INTO temp.remark_map VALUES (?, ?, ?, ?, ?)",
        [(i, r.text, r.status, r.flags, r.morning_evening) for i, r in enumerate(staged.remarks)],
    )
    db.execute(
        "CREATE TEMP TABLE discount_map (ix INTEGER PRIMARY KEY, toll_before_discount,"
        " etc_discount)"
    )
    db.executemany(
        "INSERT INTO temp.discount_map VALUES (?, ?, ?)",
        [(i, before, discount) for i, (before, discount) in enumerate(staged.discounts)],
    )
    batch_id = db.execute(
        "INSERT INTO import_batches (file_name, sha256, imported_at) VALUES (?, ?, ?)",
        (display_name(path.name), staged.sha256, now),
    ).lastrowid
    assert batch_id is not None
    if staged.candidates:
        _number_repeats(db)
    result.unknown_gates = _route_rules(db, staged)
    route_join = " JOIN temp.route_map ro ON ro.ix = s.route"
    rule_morning_evening = "ro.morning_evening"
    maps = " JOIN temp.card_map cm ON cm.ix = s.card JOIN temp.remark_map rm ON rm.ix = s.remarks"
    rows = f"temp.staging s{maps}"
    discount_join = " JOIN temp.discount_map dm ON dm.ix = s.discount"
    charged = " AND s.toll IS NOT NULL"  # passage rows (toll NULL) go to passages, never trips

    # Staged rows already in the store, and whether each replaces the stored version.
    # Skipped when the store has no trip of the file's cards.
    card_ids = sorted({known[last4] for last4 in staged.cards})
    stored = any(
        db.execute("SELECT EXISTS (SELECT 1 FROM trips WHERE card_id = ?)", (card_id,)).fetchone()[
            0
        ]
        for card_id in card_ids
    )
    db.execute(
        "CREATE TEMP TABLE matches (line INTEGER PRIMARY KEY, trip_id INTEGER NOT NULL,"
        " replaces INTEGER NOT NULL)"
    )
    if stored:
        db.execute(
            "INSERT INTO temp.matches SELECT s.line, t.id,"
            f" (t.status IS '{STATUS_PENDING}' AND rm.status IS '{STATUS_CONFIRMED}')"
            " OR (t.rebate_applied IS NULL AND s.rebate_applied IS NOT NULL)"
            f" FROM {rows}{route_join} JOIN trips t ON t.card_id = cm.card_id"
            f" AND t.trip_key = {_key_sql('s')} AND t.seq = s.seq{charged}"
        )
    any_match = stored and db.execute("SELECT EXISTS (SELECT 1 FROM temp.matches)").fetchone()[0]
    if any_match:
        old_values = ", ".join(f"'{c}', t.{c}" for c in _REPLACED_COLUMNS)
        db.execute(
            "INSERT INTO trip_history (trip_id, changed_at, batch_id, old_values)"
            f" SELECT t.id, ?, ?, json_object({old_values})"
            " FROM temp.matches m JOIN trips t ON t.id = m.trip_id WHERE m.replaces"
            " ORDER BY m.line",
            (now, batch_id),
        )
        # 朝夕 eligibility: the new row's tag, a route rule, or a mark the stored trip had
        # that did not come from its own (now replaced) tag.
        result.updated = db.execute(
            "UPDATE trips AS t SET entry_at = n.entry_at, exit_at = n.exit_at,"
            " toll_before_discount = n.toll_before_discount, etc_discount = n.etc_discount,"
            " toll = n.toll, rebate_applied = n.rebate_applied, deferred_toll = n.deferred_toll,"
            " vehicle_class = n.vehicle_class, vehicle_number = n.vehicle_number,"
            " remarks = n.remarks, status = n.status, flags = n.flags, batch_id = ?,"
            " morning_evening = (n.morning_evening OR coalesce(n.rule_morning_evening, 0)"
            "  OR (t.morning_evening AND instr(t.flags, '（朝夕）') = 0))"
            " FROM (SELECT m.trip_id, s.entry_at, s.exit_at, dm.toll_before_discount,"
            "  dm.etc_discount, s.toll, s.rebate_applied, s.deferred_toll, s.vehicle_class,"
            "  s.vehicle_number, rm.remarks, rm.status, rm.flags, rm.morning_evening,"
            f"  {rule_morning_evening} AS rule_morning_evening"
            f"  FROM temp.matches m JOIN temp.staging s ON s.line = m.line{maps}{route_join}"
            f"{discount_join}"
            "  WHERE m.replaces) AS n"
            " WHERE t.id = n.trip_id",
            (batch_id,),
        ).rowcount

    deferred = _deferred_indexes(db, result.rows)
    with _closed_month_guards_lifted(db, "temp.staging s"):
        result.inserted = db.execute(
            "INSERT INTO trips (card_id, seq, batch_id, source, operator, operator_source,"
            " trip_key, entry_at, exit_at,"
            " entry_ic, exit_ic, toll_before_discount, etc_discount, toll, rebate_applied,"
            " deferred_toll, vehicle_class, vehicle_number, remarks, status, flags, morning_evening)"
            " SELECT cm.card_id, s.seq, ?, 'import', ro.operator, ro.source,"
            f" {_key_sql('s')}, s.entry_at, s.exit_at, ro.entry_ic, ro.exit_ic,"
            " dm.toll_before_discount, dm.etc_discount, s.toll, s.rebate_applied,"
            " s.deferred_toll, s.vehicle_class, s.vehicle_number, rm.remarks, rm.status, rm.flags,"
            f" (rm.morning_evening OR coalesce({rule_morning_evening}, 0))"
            f" FROM {rows}{route_join}{discount_join} WHERE TRUE{charged}"
            + (" AND s.line NOT IN (SELECT line FROM temp.matches)" if any_match else "")
            + " ORDER BY s.line",
            (batch_id,),
        ).rowcount
    for _, sql in deferred:
        db.execute(sql)
    if staged.passages:
        passages_updated, passages_inserted = _merge_passages(
            db, rows, route_join, batch_id, now, card_ids
        )
        result.updated += passages_updated
        result.inserted += passages_inserted
        result.passages = passages_inserted
    if result.inserted:
        link_passages(db, card_ids)
    result.duplicates = result.rows - result.inserted - result.updated
    db.execute(
        "UPDATE import_batches SET rows = ?, inserted = ?, updated = ?, duplicates = ? WHERE id = ?",
        (result.rows, result.inserted, result.updated, result.duplicates, batch_id),
    )
    for table in (
        "staging",
        "repeats",
        "matches",
        "route_map",
        "card_map",
        "remark_map",
        "discount_map",
    ):
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
                    staged = _stage_file(
                        db,
                        path,
                        result,
                        card_last4=card_last4,
                        progress=progress,
                        cancelled=cancelled,
                    )
                except NotMeisaiError as exc:
                    result.problem = str(exc)
                except OSError as exc:
                    result.problem = f"{display_name(path)}: 読めません（{exc.strerror or exc}）。"
                else:
                    if result.ok:
                        _merge_staged(db, path, staged, result, card_id)
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
