"""Importing 明細CSV files into a PostgreSQL ledger: COPY, then one merge per file.

The same contract as :mod:`etcbook.models.imports` (all files or nothing, each trip exactly
once, 確認中 → 確定 replaced with its old values kept in ``trip_history``), reached the way a
server does it fastest and safely with other clients importing at the same time:

1. The file's validated rows are streamed with ``COPY`` into a temporary staging table.
2. Cards the file names that the ledger lacks are created under a transaction advisory lock
   per last 4, taken in last-4 order, so two imports creating the same new card do not collide
   (the second waits for the first and then finds the card). Digits several cards share are
   never guessed (``etcbook.models.cards.cards_for_file``).
3. A transaction advisory lock per card (``pg_advisory_xact_lock``, taken in card order) lets one
   import at a time compare and replace a card's trips. Under READ COMMITTED each statement after
   the lock sees what the previous holder committed (REPEATABLE READ would not: its snapshot
   predates the lock). The insert still says ``ON CONFLICT DO NOTHING`` on the trip identity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import psycopg
from sqlalchemy import Connection

from etcbook import clock, phases
from etcbook.importers.meisai import (
    MAX_REPORTED_ERRORS,
    RECORD_FIELDS,
    STATUS_CONFIRMED,
    STATUS_PENDING,
    LineError,
    MeisaiReader,
    NotMeisaiError,
    Remarks,
)
from etcbook.models.imports import (
    _REPLACED_COLUMNS,
    FileResult,
    ImportCancelled,
    ImportResult,
    Progress,
    _HashingReader,
    cycle_collector_paused,
)
from etcbook.models.store import Store
from etcbook.safeio import display_name

IMPORT_LOCK = 0x45544349  # "ETCI": the advisory lock space of imports (the second key: card id)
CARD_LOCK_SPACE = 0x45544331  # "ETC1": creating a card of the file (second key: hash of its last 4)

_DISCOUNT = RECORD_FIELDS.index("discount")
_STAGING_COLUMNS = (
    *RECORD_FIELDS[:_DISCOUNT],
    "toll_before_discount",
    "etc_discount",
    *RECORD_FIELDS[_DISCOUNT + 1 :],
    "entry_ic",
    "exit_ic",
    "trip_key",
    "seq",
)
"""A record as staged: its ``discount`` as the two amounts, then its route's ICs and its key."""
_CARD = RECORD_FIELDS.index("card")
_TOLL = RECORD_FIELDS.index("toll")
assert RECORD_FIELDS[-1] == "route"  # read as item[-1] below (typed: an int)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """SQLite's GLOB pattern (``*``, ``?``, ``[…]``, ``[^…]``; case-sensitive) as a regex."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _stage_file(
    cursor: Any,
    path: Path,
    result: FileResult,
    *,
    card_last4: str | None,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> tuple[str, list[str], list[Remarks]]:
    """Validate the file and COPY its rows into the temporary table ``staging``."""
    cursor.execute("DROP TABLE IF EXISTS staging")
    cursor.execute(
        "CREATE TEMP TABLE staging (line integer PRIMARY KEY, card integer NOT NULL,"
        " entry_at text, exit_at text,"
        " toll_before_discount integer, etc_discount integer, toll integer,"
        " rebate_applied integer, deferred_toll integer, vehicle_class integer,"
        " vehicle_number text, remarks integer NOT NULL, route integer, entry_ic text,"
        " exit_ic text, trip_key text NOT NULL, seq integer NOT NULL) ON COMMIT DROP"
    )
    total = path.stat().st_size

    def report(read: int) -> None:
        if cancelled is not None and cancelled():
            raise ImportCancelled
        if progress is not None and read < total:
            progress(read, total)

    more_errors = 0
    # ``seq``: a row's order among the file's earlier rows of the same card, kind (trip or
    # passage) and trip_key, counted while streaming (rows arrive in line order).
    seen: dict[tuple[Any, bool, str], int] = {}
    with (
        open(path, "rb") as handle,
        cursor.copy(f"COPY staging ({', '.join(_STAGING_COLUMNS)}) FROM STDIN") as copy,
        cycle_collector_paused(),
    ):
        hashing = _HashingReader(handle)
        reader = MeisaiReader(
            hashing, display_name(path.name), card_last4=card_last4, progress=report
        )
        routes = reader.routes  # (entry IC, exit IC) of a record's route, '' when blank
        discounts = reader.discounts  # (割引前料金, ＥＴＣ割引額) of a record's discount
        for items in reader.batches():
            # seq is counted here, exactly: the reader's repeat candidates are not needed
            reader.repeat_candidates.clear()
            for item in items:
                if isinstance(item, LineError):
                    if len(result.errors) < MAX_REPORTED_ERRORS:
                        result.errors.append(item)
                    else:
                        more_errors += 1
                    continue
                if not result.errors:  # once the file is rejected, only validate
                    entry_ic, exit_ic = routes[item[-1]]  # route: a record's last field
                    # trip_key, as etcbook.models.imports computes it in SQL
                    key = f"{item[2] or ''}|{item[3] or ''}|{entry_ic}|{exit_ic}"
                    identity = (item[_CARD], item[_TOLL] is None, key)
                    seq = seen.get(identity, 0)
                    seen[identity] = seq + 1
                    copy.write_row(
                        (
                            *item[:_DISCOUNT],
                            *discounts[cast(int, item[_DISCOUNT])],
                            *item[_DISCOUNT + 1 :],
                            entry_ic or None,
                            exit_ic or None,
                            key,
                            seq,
                        )
                    )
        result.rows = reader.rows_read
    if more_errors:
        result.errors.append(
            LineError(
                result.errors[-1].line, f"ほかに{more_errors:,}行のエラーがあります（表示を省略）"
            )
        )
    return hashing.sha256.hexdigest(), reader.cards, reader.remarks


def _card_ids(
    cursor: Any, path: Path, cards: list[str], result: FileResult, now: object, card_id: int | None
) -> dict[str, int] | None:
    """The file's cards' ids, creating the missing ones under a transaction advisory lock per
    missing last 4 (taken in last-4 order; a second import creating the same new card waits,
    then finds it); None (``result.problem`` set) when several cards share digits of the file
    and ``card_id`` does not say which."""
    from etcbook.models.card_choice import FILE_CARD_COLUMNS, card_matches, cards_for_file

    wanted = sorted(set(cards))

    def look_up() -> tuple[dict[str, int], list[str], str | None]:
        cursor.execute(
            f"SELECT {FILE_CARD_COLUMNS} FROM cards WHERE last4 = ANY(%s) ORDER BY id", (wanted,)
        )
        found = card_matches(cursor.fetchall())
        return cards_for_file(display_name(path.name), wanted, found, card_id)

    known, result.new_cards, result.problem = look_up()
    if result.new_cards and result.problem is None:
        # Only digits no card has yet are locked, then looked up again (READ COMMITTED: the
        # statement after the lock sees a card another import created meanwhile).
        for last4 in result.new_cards:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (CARD_LOCK_SPACE, last4)
            )
        known, result.new_cards, result.problem = look_up()
    if result.problem is not None:
        return None
    for last4 in result.new_cards:
        cursor.execute(
            "INSERT INTO cards (last4, holder, driver, kind, auto_exchange, status, notes,"
            " created_at) VALUES (%s, '', '', 'credit', false, 'details_missing',"
            " '明細CSVの取込で自動作成', %s) RETURNING id",
            (last4, now),
        )
        known[last4] = int(cursor.fetchone()[0])
        # Originals kept under these digits before the card existed are its own.
        cursor.execute(
            "UPDATE documents SET card_id = %s WHERE card_id IS NULL AND card_last4 = %s",
            (known[last4], last4),
        )
    return known


def _routes(cursor: Any) -> None:
    """Resolve the staged rows' distinct routes once each (temporary ``routes``; '' for a
    blank IC), by the user's route rules and the default gate rules (etcbook.models.routes)."""
    from etcbook.models.routes import resolve_routes

    resolve_routes(
        cursor.connection,
        "SELECT DISTINCT coalesce(entry_ic, ''), coalesce(exit_ic, '') FROM staging",
    )


def _merge(
    cursor: Any,
    path: Path,
    sha256: str,
    cards: list[str],
    remarks: list[Remarks],
    result: FileResult,
    card_id: int | None = None,
) -> None:
    now = clock.now()
    known = _card_ids(cursor, path, cards, result, now, card_id)
    if known is None:
        return
    cursor.execute("DROP TABLE IF EXISTS card_map, remark_map, matches")
    cursor.execute(
        "CREATE TEMP TABLE card_map (ix integer PRIMARY KEY, card_id integer NOT NULL)"
        " ON COMMIT DROP"
    )
    with cursor.copy("COPY card_map FROM STDIN") as copy:
        for i, last4 in enumerate(cards):
            copy.write_row((i, known[last4]))
    cursor.execute(
        "CREATE TEMP TABLE remark_map (ix integer PRIMARY KEY, remarks text, status text,"
        " flags text, morning_evening boolean) ON COMMIT DROP"
    )
    with cursor.copy("COPY remark_map FROM STDIN") as copy:
        for i, r in enumerate(remarks):
            copy.write_row((i, r.text, r.status, r.flags, r.morning_evening))
    cursor.execute(
        "INSERT INTO import_batches (file_name, sha256, imported_at) VALUES (%s, %s, %s)"
        " RETURNING id",
        (display_name(path.name), sha256, now),
    )
    batch_id = cursor.fetchone()[0]
    _routes(cursor)
    cursor.execute("SELECT entry_ic, exit_ic FROM routes WHERE operator IS NULL")
    unknown: set[str] = set()
    for entry_ic, exit_ic in cursor.fetchall():
        unknown.update(gate for gate in (exit_ic or entry_ic, exit_ic and entry_ic) if gate)
    result.unknown_gates = sorted(unknown)
    # Temporary tables get no statistics from autovacuum: without these the planner guesses
    # their sizes and joins them row by row.
    # Only the columns the joins below use, from a small sample: a whole-table ANALYZE of a
    # 100,000-row staging table costs more than the plan it improves.
    cursor.execute("SET LOCAL default_statistics_target = 10")
    cursor.execute("ANALYZE staging (line, card, remarks, entry_ic, exit_ic, toll)")
    cursor.execute("ANALYZE routes, card_map, remark_map")
    cursor.execute("RESET default_statistics_target")
    route_join = (
        " LEFT JOIN routes ro ON ro.entry_ic = coalesce(s.entry_ic, '')"
        " AND ro.exit_ic = coalesce(s.exit_ic, '')"
    )
    rule_operator = "ro.operator"
    rule_morning_evening = "ro.morning_evening"
    maps = " JOIN card_map cm ON cm.ix = s.card JOIN remark_map rm ON rm.ix = s.remarks"
    rows = f"staging s{maps}"

    # One import at a time compares and replaces a card's trips (READ COMMITTED: each statement
    # below sees what an import that held the lock before committed).
    for card_id in sorted(set(known.values())):
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", (IMPORT_LOCK, card_id))

    cursor.execute(
        "CREATE TEMP TABLE matches ON COMMIT DROP AS SELECT s.line, t.id AS trip_id,"
        f" coalesce((t.status = '{STATUS_PENDING}' AND rm.status = '{STATUS_CONFIRMED}'), false)"
        " OR (t.rebate_applied IS NULL AND s.rebate_applied IS NOT NULL) AS replaces"
        f" FROM {rows} JOIN trips t ON t.card_id = cm.card_id"
        " AND t.trip_key = s.trip_key AND t.seq = s.seq WHERE s.toll IS NOT NULL"
    )
    old_values = ", ".join(
        f"'{c}', t.{c}::int" if c == "morning_evening" else f"'{c}', t.{c}"
        for c in _REPLACED_COLUMNS
    )
    cursor.execute(
        "INSERT INTO trip_history (trip_id, changed_at, batch_id, old_values)"
        f" SELECT t.id, %s, %s, json_build_object({old_values})::text"
        " FROM matches m JOIN trips t ON t.id = m.trip_id WHERE m.replaces ORDER BY m.line",
        (now, batch_id),
    )
    cursor.execute(
        "UPDATE trips AS t SET entry_at = n.entry_at::timestamp, exit_at = n.exit_at::timestamp,"
        " toll_before_discount = n.toll_before_discount, etc_discount = n.etc_discount,"
        " toll = n.toll, rebate_applied = n.rebate_applied, deferred_toll = n.deferred_toll,"
        " vehicle_class = n.vehicle_class, vehicle_number = n.vehicle_number,"
        " remarks = n.remarks, status = n.status, flags = n.flags, batch_id = %s,"
        " morning_evening = (n.morning_evening OR coalesce(n.rule_morning_evening, false)"
        "  OR (t.morning_evening AND strpos(t.flags, '（朝夕）') = 0))"
        " FROM (SELECT m.trip_id, s.entry_at, s.exit_at, s.toll_before_discount,"
        "  s.etc_discount, s.toll, s.rebate_applied, s.deferred_toll, s.vehicle_class,"
        "  s.vehicle_number, rm.remarks, rm.status, rm.flags, rm.morning_evening,"
        f"  {rule_morning_evening} AS rule_morning_evening"
        f"  FROM matches m JOIN staging s ON s.line = m.line{maps}{route_join}"
        "  WHERE m.replaces) AS n"
        " WHERE t.id = n.trip_id",
        (batch_id,),
    )
    result.updated = cursor.rowcount
    insert_trips = (
        "INSERT INTO trips (card_id, seq, batch_id, source, operator, operator_source,"
        " trip_key, entry_at, exit_at,"
        " entry_ic, exit_ic, toll_before_discount, etc_discount, toll, rebate_applied,"
        " deferred_toll, vehicle_class, vehicle_number, remarks, status, flags, morning_evening)"
        f" SELECT cm.card_id, s.seq, %s, 'import', coalesce({rule_operator}, 'nexco'),"
        f" CASE WHEN {rule_operator} IS NULL THEN 'default' ELSE 'rule' END,"
        " s.trip_key, s.entry_at::timestamp, s.exit_at::timestamp, s.entry_ic, s.exit_ic,"
        " s.toll_before_discount, s.etc_discount, s.toll, s.rebate_applied, s.deferred_toll,"
        " s.vehicle_class, s.vehicle_number, rm.remarks, rm.status, rm.flags,"
        f" (rm.morning_evening OR coalesce({rule_morning_evening}, false))"
        f" FROM {rows}{route_join}"
        " WHERE s.toll IS NOT NULL AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.line = s.line)"
        " ORDER BY s.line"
    )
    # Other imports wait for the card locks above, so only a trip entered by hand meanwhile can
    # already hold a row's identity: the plain INSERT (a third cheaper than ON CONFLICT's
    # speculative insertion) almost always succeeds, and the rare clash is redone row by row.
    cursor.execute("SAVEPOINT insert_trips")
    try:
        cursor.execute(insert_trips, (batch_id,))
        inserted = cursor.rowcount
    except psycopg.errors.UniqueViolation:
        cursor.execute("ROLLBACK TO SAVEPOINT insert_trips")
        cursor.execute(
            insert_trips + " ON CONFLICT (card_id, trip_key, seq) DO NOTHING", (batch_id,)
        )
        inserted = cursor.rowcount
    cursor.execute("RELEASE SAVEPOINT insert_trips")
    result.inserted = inserted
    cursor.execute("SELECT EXISTS (SELECT 1 FROM staging WHERE toll IS NULL)")
    if cursor.fetchone()[0]:
        passages_updated, passages_inserted = _merge_passages(
            cursor, rows, route_join, rule_operator, batch_id
        )
        result.updated += passages_updated
        result.inserted += passages_inserted
        result.passages = passages_inserted
    if result.inserted:
        link_passages(cursor, sorted(set(known.values())))
    result.duplicates = result.rows - result.inserted - result.updated
    cursor.execute(
        "UPDATE import_batches SET rows = %s, inserted = %s, updated = %s, duplicates = %s"
        " WHERE id = %s",
        (result.rows, result.inserted, result.updated, result.duplicates, batch_id),
    )
    cursor.execute("DROP TABLE IF EXISTS staging, routes, card_map, remark_map, matches")


def _merge_passages(
    cursor: Any, rows: str, route_join: str, rule_operator: str, batch_id: int
) -> tuple[int, int]:
    """Store the staged passage rows (toll NULL), as etcbook.models.imports does on SQLite:
    a passage already stored is a duplicate, or takes the later status. Returns (updated,
    inserted)."""
    cursor.execute(
        "CREATE TEMP TABLE passage_matches ON COMMIT DROP AS SELECT s.line, p.id AS passage_id,"
        f" coalesce(p.status = '{STATUS_PENDING}' AND rm.status = '{STATUS_CONFIRMED}', false)"
        f" AS replaces FROM {rows} JOIN passages p ON p.card_id = cm.card_id"
        " AND p.trip_key = s.trip_key AND p.seq = s.seq WHERE s.toll IS NULL"
    )
    cursor.execute(
        "UPDATE passages AS p SET remarks = n.remarks, status = n.status, flags = n.flags,"
        " batch_id = %s FROM (SELECT m.passage_id, rm.remarks, rm.status, rm.flags"
        " FROM passage_matches m JOIN staging s ON s.line = m.line"
        " JOIN remark_map rm ON rm.ix = s.remarks WHERE m.replaces) AS n"
        " WHERE p.id = n.passage_id",
        (batch_id,),
    )
    updated = cursor.rowcount
    cursor.execute(
        "INSERT INTO passages (card_id, entry_at, exit_at, dated_at, entry_ic, exit_ic,"
        " vehicle_class, vehicle_number, remarks, status, flags, operator, operator_source,"
        " trip_key, seq, batch_id)"
        " SELECT cm.card_id, s.entry_at::timestamp, s.exit_at::timestamp,"
        " coalesce(s.exit_at, s.entry_at)::timestamp, s.entry_ic,"
        " s.exit_ic, s.vehicle_class, s.vehicle_number, rm.remarks, rm.status, rm.flags,"
        f" coalesce({rule_operator}, 'nexco'),"
        f" CASE WHEN {rule_operator} IS NULL THEN 'default' ELSE 'rule' END,"
        f" s.trip_key, s.seq, %s FROM {rows}{route_join}"
        " WHERE s.toll IS NULL AND NOT EXISTS (SELECT 1 FROM passage_matches m"
        " WHERE m.line = s.line) ORDER BY s.line"
        " ON CONFLICT (card_id, trip_key, seq) DO NOTHING",
        (batch_id,),
    )
    inserted = cursor.rowcount
    cursor.execute("DROP TABLE passage_matches")
    return updated, inserted


def link_passages(cursor: Any, card_ids: Sequence[int]) -> int:
    """etcbook.models.imports.link_passages on PostgreSQL (interval arithmetic for the window
    and the trip's length)."""
    from etcbook.models.imports import LINK_WINDOW_DAYS

    window = (
        "t.card_id = passages.card_id AND t.dated_at >= passages.dated_at"
        f" AND t.dated_at < passages.dated_at + interval '{LINK_WINDOW_DAYS} days'"
    )
    linked = 0
    for card_id in card_ids:
        for condition, order in (
            (
                "t.entry_at = passages.entry_at"
                " AND t.entry_ic IS NOT DISTINCT FROM passages.entry_ic",
                "t.dated_at, t.id",
            ),
            ("t.entry_at <= passages.dated_at", "t.dated_at - t.entry_at, t.dated_at, t.id"),
        ):
            cursor.execute(
                f"UPDATE passages SET trip_id = (SELECT t.id FROM trips t WHERE {window}"
                f" AND {condition} ORDER BY {order} LIMIT 1)"
                " WHERE passages.card_id = %s AND passages.trip_id IS NULL"
                f" AND EXISTS (SELECT 1 FROM trips t WHERE {window} AND {condition})",
                (card_id,),
            )
            linked += cursor.rowcount
    return linked


RETRIES = 4
"""How many times an import that the server ended for a deadlock or a serialization failure is
run again, whole (nothing of the ended try was kept), before the failure reaches the caller (the
CLI: exit 75 with a sentence, etcbook.models.instance.store_problem)."""
RETRY_PAUSE_S = 0.2
"""The pause before a try again, doubled each time and drawn at random from its half to it, so
that two imports ended together do not meet again at once."""
_RETRYABLE = ("40001", "40P01")  # serialization failure, deadlock detected


def import_files_pg(
    store: Store,
    paths: Sequence[Path],
    *,
    card_last4: str | None = None,
    card_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportResult:
    """:func:`etcbook.models.imports.import_files` on a PostgreSQL ledger.

    Each file's merge locks its cards when it comes to them, so two imports of several files
    naming the same cards in another order (``import A B`` and ``import B A``) can each hold a
    card the other waits for; the server then ends one of them (deadlock). That one is run
    again, taking first, in one stable order, every lock its ended try took
    (:func:`_lock_cards_first`), and so waits for the other instead of meeting it again.
    """
    import random
    import time

    cards_seen: set[str] = set()
    for attempt in range(RETRIES + 1):
        lock_first = sorted(cards_seen)
        try:
            return _import_files_once(
                store,
                paths,
                card_last4=card_last4,
                card_id=card_id,
                dry_run=dry_run,
                progress=progress,
                cancelled=cancelled,
                lock_first=lock_first,
                cards_seen=cards_seen,
            )
        except Exception as exc:
            if attempt == RETRIES or not _retryable(exc):
                raise
        pause = RETRY_PAUSE_S * 2**attempt
        time.sleep(random.uniform(pause / 2, pause))
    raise AssertionError("unreachable")


def _retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure (psycopg's, or SQLAlchemy's wrapping it)."""
    error = getattr(exc, "orig", None) or exc
    return getattr(error, "sqlstate", None) in _RETRYABLE


def _lock_cards_first(cursor: Any, last4s: Sequence[str]) -> None:
    """Before any work, the advisory locks that the per-file merges take one file at a time, for
    every card of ``last4s``, in one stable order: the card-creation locks by last 4 digits, then
    the import locks by card id. The merges then take them again (advisory locks nest)."""
    wanted = sorted(set(last4s))
    for last4 in wanted:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (CARD_LOCK_SPACE, last4))
    cursor.execute("SELECT id FROM cards WHERE last4 = ANY(%s) ORDER BY id", (wanted,))
    for (card,) in cursor.fetchall():
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", (IMPORT_LOCK, card))


def _import_files_once(
    store: Store,
    paths: Sequence[Path],
    *,
    card_last4: str | None = None,
    card_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    lock_first: Sequence[str] = (),
    cards_seen: set[str] | None = None,
) -> ImportResult:
    """One try of :func:`import_files_pg`, in one transaction; adds the last 4 digits of the
    cards its files name to ``cards_seen``; locks ``lock_first``'s cards first."""
    results: list[FileResult] = []
    commit = False
    with store.engine.connect() as connection:
        transaction = connection.begin()
        phases.mark("import", "start")
        try:
            cursor = _driver_cursor(connection)
            if lock_first:
                _lock_cards_first(cursor, lock_first)
            for path in map(Path, paths):
                result = FileResult(file=display_name(path))
                results.append(result)
                # A file refused halfway through its COPY must not abort the other files' work.
                cursor.execute("SAVEPOINT staging_file")
                try:
                    sha256, cards, remarks = _stage_file(
                        cursor,
                        path,
                        result,
                        card_last4=card_last4,
                        progress=progress,
                        cancelled=cancelled,
                    )
                except NotMeisaiError as exc:
                    cursor.execute("ROLLBACK TO SAVEPOINT staging_file")
                    result.problem = str(exc)
                except OSError as exc:
                    cursor.execute("ROLLBACK TO SAVEPOINT staging_file")
                    result.problem = f"{display_name(path)}: 読めません（{exc.strerror or exc}）。"
                else:
                    if cards_seen is not None:
                        cards_seen.update(cards)
                    if result.ok:
                        _merge(cursor, path, sha256, cards, remarks, result, card_id)
                if progress is not None:
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
    return ImportResult(files=results, committed=commit)


def _driver_cursor(connection: Connection) -> Any:
    """A psycopg cursor on the SQLAlchemy connection's transaction (COPY needs the driver)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    return driver.cursor()
