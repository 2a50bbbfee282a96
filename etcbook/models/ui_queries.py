"""Queries the desktop window needs: paged trips, filter choices, totals, quick edits.

Keyword-only, like the rest of :mod:`etcbook.models`. The 走行明細 page shows a lazily fetched
table: :func:`trip_ids` returns the ordered ids a filter matches (one indexed query, one
integer per row) and :func:`trip_rows` reads one page of them; :func:`trip_totals` sums what
the filter shows in SQL, so no widget ever adds yen up itself.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import Connection, text

from etcbook import clock
from etcbook.domain.points import OPERATOR_KEYS
from etcbook.models.dialect import as_datetime, contains, month_of
from etcbook.models.first_look import card_facets as card_facets  # the card filter's cards
from etcbook.models.first_look import has_cards as has_cards

Use = Literal["all", "business", "private"]

SORT_KEYS: Final = {
    "exit_at": "t.dated_at",
    "entry_at": "t.entry_at",
    "card": "t.card_id",
    "entry_ic": "t.entry_ic",
    "exit_ic": "t.exit_ic",
    "toll": "t.toll",
    "rebate_applied": "coalesce(t.rebate_applied, 0)",
    "billed": "t.toll - coalesce(t.rebate_applied, 0)",
    "operator": "t.operator",
    "status": "t.status",
    "purpose": "t.purpose",
    "business_share": "t.business_share",
    "morning_evening": "t.morning_evening",
}
"""Columns the trips table can be sorted by (the id breaks ties, keeping the order stable)."""

BILLED_SQL: Final = "(t.toll - coalesce(t.rebate_applied, 0))"
"""差引後 (billed): the toll less the rebate applied to it, as the store knows it."""

_SHARED_SQL: Final = f"({BILLED_SQL} * t.business_share)"
BUSINESS_SQL: Final = f"(({_SHARED_SQL} - ({_SHARED_SQL} % 100 + 100) % 100) / 100)"
"""業務分: billed × business share %, rounded down per trip toward minus infinity, in integer
arithmetic — the rule of :func:`etcbook.domain.claims.claimed_amount` (SQLite's ``/`` alone
would round a refund toward zero)."""


def _month_start(month: str) -> dt.date:
    year, mon = (int(part) for part in month.split("-"))
    return dt.date(year, mon, 1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class TripQuery:
    """What the 走行明細 page shows: a filter and an order. A trip's month is its exit's.

    Attributes:
        cards: last-4s to show; empty means every card.
        card_ids: the cards to show by id (they win over ``cards``: cards may share their last
            4 digits); empty means every card.
        card_id: one card to show (it wins over both).
        month_from: first month shown (``YYYY-MM``), inclusive; ``None`` = from the start.
        month_to: last month shown (``YYYY-MM``), inclusive; ``None`` = to the end.
        operator: an operator key, or ``None`` for all.
        use: ``business`` (share > 0), ``private`` (share 0) or ``all``.
        text: free text matched in the ICs, purpose, 備考 and department code.
        sort: a key of :data:`SORT_KEYS`.
        descending: newest (largest) first.
    """

    cards: tuple[str, ...] = ()
    card_ids: tuple[int, ...] = ()
    card_id: int | None = None
    month_from: str | None = None
    month_to: str | None = None
    operator: str | None = None
    use: Use = "all"
    text: str = ""
    sort: str = "exit_at"
    descending: bool = False

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if self.card_id is not None:
            clauses.append("t.card_id = :card_id")
            params["card_id"] = self.card_id
        elif self.card_ids:
            names = [f"card_id{i}" for i in range(len(self.card_ids))]
            clauses.append(f"t.card_id IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, self.card_ids, strict=True))
        elif self.cards:
            names = [f"card{i}" for i in range(len(self.cards))]
            clauses.append(
                "t.card_id IN (SELECT id FROM cards WHERE last4 IN"
                f" ({', '.join(':' + n for n in names)}))"
            )
            params.update(zip(names, self.cards, strict=True))
        if self.month_from:
            clauses.append("t.dated_at >= :month_from")
            params["month_from"] = _month_start(self.month_from).isoformat()
        if self.month_to:
            clauses.append("t.dated_at < :month_to")
            params["month_to"] = _next_month(_month_start(self.month_to)).isoformat()
        if self.operator:
            clauses.append("t.operator = :operator")
            params["operator"] = self.operator
        if self.use == "business":
            clauses.append("t.business_share > 0")
        elif self.use == "private":
            clauses.append("t.business_share = 0")
        words = self.text.split()
        for i, word in enumerate(words):
            name = f"text{i}"
            columns = ("t.entry_ic", "t.exit_ic", "t.purpose", "t.remarks", "t.department")
            clauses.append("(" + " OR ".join(contains(c, name) for c in columns) + ")")
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params[name] = f"%{escaped}%"
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def order_by(self) -> str:
        column = SORT_KEYS.get(self.sort, SORT_KEYS["exit_at"])
        direction = "DESC" if self.descending else "ASC"
        return f" ORDER BY {column} {direction}, t.id {direction}"


@dataclass(frozen=True)
class Journey:
    """The trip a passage belongs to: its id, route, date-time and toll."""

    trip_id: int
    entry_ic: str | None
    exit_ic: str
    dated_at: dt.datetime | None
    toll: int


@dataclass(frozen=True)
class TripRow:
    """One row of the 走行明細 table.

    Attributes:
        id: the trip's id.
        card: the card's last 4 digits.
        entry_at: entry date-time, ``None`` at a single mainline gate.
        exit_at: exit date-time, ``None`` for a charge at an entry gate.
        entry_ic: entry IC, ``None`` when blank.
        exit_ic: exit IC or toll gate, ``None`` for a charge at an entry gate.
        toll: 通行料金.
        rebate_applied: 還元額充当 as the store knows it (the file's figure, else 0).
        billed: 差引後 = toll − rebate_applied.
        business_amount: 業務分 = billed × business share, rounded down.
        operator: operator key.
        status: 確定 / 確認中 / ``None``.
        flags: 備考 flags (e.g. ``深夜割引``, ``（朝夕）``).
        morning_evening: counted for 平日朝夕割引.
        purpose: 用途・目的.
        business_share: 業務割合 in percent.
        department: 部署・案件コード.
        source: ``import`` or ``manual``.
        points: points the engine expects for the trip (``None`` before the engine ran).
        dated_at: the time that decides the trip's day and month (its exit, else its entry).
        operator_source: ``default`` (a guess: no route rule knew the gates), ``rule``, ``hand``.
        passage: a passage (通過, no amount of its own), listed beside the trips
            (:mod:`etcbook.models.passage_rows`); its money fields are 0 and mean nothing.
        journey: for a passage, the trip of its journey where the import could tell it.
        version: the trip's row version when it was read (an edit carries it:
            :mod:`etcbook.models.versions`); ``None`` for a passage.
    """

    id: int
    card: str
    entry_at: dt.datetime | None
    exit_at: dt.datetime | None
    entry_ic: str | None
    exit_ic: str | None
    toll: int
    rebate_applied: int
    billed: int
    business_amount: int
    operator: str
    status: str | None
    flags: tuple[str, ...]
    morning_evening: bool
    purpose: str
    business_share: int
    department: str
    source: str
    points: int | None = None
    dated_at: dt.datetime | None = None
    operator_source: str = "rule"
    passage: bool = False
    journey: Journey | None = None
    version: int | None = None


EngineFigures = Mapping[int, tuple[int, int, int]]
"""Trip id → (還元額充当, 差引後, points) as the mileage engine computed them."""


@dataclass(frozen=True)
class TripTotals:
    """The totals line of what a filter shows (integer yen)."""

    count: int = 0
    toll: int = 0
    rebate_applied: int = 0
    billed: int = 0
    business: int = 0


def _datetime(value: str | None) -> dt.datetime | None:
    return as_datetime(value) if value else None


def trip_ids(*, connection: Connection, query: TripQuery) -> array[int]:
    """The ids of the trips ``query`` matches, in its order."""
    where, params = query.where()
    result = connection.execute(text(f"SELECT t.id FROM trips t{where}{query.order_by()}"), params)
    return array("q", (row[0] for row in result))


_ROW_SQL: Final = (
    "SELECT t.id, c.last4, t.entry_at, t.exit_at, t.entry_ic, t.exit_ic, t.toll,"
    f" coalesce(t.rebate_applied, 0), {BILLED_SQL}, {BUSINESS_SQL}, t.operator, t.status,"
    " t.flags, t.morning_evening, t.purpose, t.business_share, t.department, t.source,"
    " t.dated_at, t.operator_source, t.version FROM trips t JOIN cards c ON c.id = t.card_id"
)


def trip_rows(
    *, connection: Connection, ids: Sequence[int], figures: EngineFigures | None = None
) -> dict[int, TripRow]:
    """The rows of the given trip ids (at most a few hundred at a time), keyed by id.

    With the engine's ``figures``, 還元額充当, 差引後 and points are the engine's and 業務分 is
    :func:`etcbook.domain.claims.claimed_amount` of its 差引後; without, the file's figures.
    """
    from etcbook.domain.claims import claimed_amount

    if not ids:
        return {}
    listed = ", ".join(str(int(i)) for i in ids)
    # text(), not exec_driver_sql: the SQL holds "%" (modulo), a placeholder to psycopg.
    result = connection.execute(text(f"{_ROW_SQL} WHERE t.id IN ({listed})"))
    rows: dict[int, TripRow] = {}
    for r in result:
        found = figures.get(r[0]) if figures else None
        if found is None:
            applied, billed, business, points = r[7], r[8], r[9], None
        else:
            applied, billed, points = found
            business = claimed_amount(billed, r[15])
        rows[r[0]] = TripRow(
            id=r[0],
            card=r[1],
            entry_at=_datetime(r[2]),
            exit_at=_datetime(r[3]),
            entry_ic=r[4] or None,
            exit_ic=r[5] or None,
            toll=r[6],
            rebate_applied=applied,
            billed=billed,
            business_amount=business,
            points=points,
            operator=r[10],
            status=r[11],
            flags=tuple(flag for flag in (r[12] or "").split(";") if flag),
            morning_evening=bool(r[13]),
            purpose=r[14] or "",
            business_share=r[15],
            department=r[16] or "",
            source=r[17],
            dated_at=_datetime(r[18]),
            operator_source=r[19],
            version=r[20],
        )
    return rows


def trip_totals(
    *, connection: Connection, query: TripQuery, figures: EngineFigures | None = None
) -> TripTotals:
    """Count, 通行料金, 還元額充当, 差引後 and 業務分 summed over what ``query`` matches.

    Without ``figures`` the sums are done in SQL on the file's figures; with the engine's, each
    trip's 差引後 is the engine's and its 業務分 :func:`~etcbook.domain.claims.claimed_amount`.
    """
    where, params = query.where()
    if figures:
        return _totals_with_figures(connection, where, params, figures)
    row = connection.execute(
        text(
            "SELECT count(*), coalesce(sum(t.toll), 0), coalesce(sum(t.rebate_applied), 0),"
            f" coalesce(sum({BILLED_SQL}), 0), coalesce(sum({BUSINESS_SQL}), 0)"
            f" FROM trips t{where}"
        ),
        params,
    ).one()
    return TripTotals(*(int(value) for value in row))


def trip_ids_and_totals(
    *, connection: Connection, query: TripQuery, figures: EngineFigures | None = None
) -> tuple[array[int], TripTotals]:
    """:func:`trip_ids` and :func:`trip_totals` of ``query``; with the engine's ``figures``
    both come from one read of the matching trips (the totals need every trip's row then)."""
    if not figures:
        ids = trip_ids(connection=connection, query=query)
        return ids, trip_totals(connection=connection, query=query)
    where, params = query.where()
    rows = connection.execute(
        text(
            "SELECT t.id, t.toll, coalesce(t.rebate_applied, 0), t.business_share"
            f" FROM trips t{where}{query.order_by()}"
        ),
        params,
    ).all()
    return array("q", (row[0] for row in rows)), _summed(rows, figures)


def _totals_with_figures(
    connection: Connection, where: str, params: dict[str, Any], figures: EngineFigures
) -> TripTotals:
    rows = connection.execute(
        text(
            "SELECT t.id, t.toll, coalesce(t.rebate_applied, 0), t.business_share"
            f" FROM trips t{where}"
        ),
        params,
    )
    return _summed(rows, figures)


def _summed(rows: Iterable[Sequence[Any]], figures: EngineFigures) -> TripTotals:
    """Totals of (id, toll, the file's 還元額充当, business share) rows, the engine's 差引後 first."""
    from etcbook.domain.claims import claimed_amount

    count = toll = applied = billed = business = 0
    for trip_id, trip_toll, file_applied, share in rows:
        found = figures.get(trip_id)
        trip_applied, trip_billed = (
            (found[0], found[1]) if found else (file_applied, trip_toll - file_applied)
        )
        count += 1
        toll += trip_toll
        applied += trip_applied
        billed += trip_billed
        business += claimed_amount(trip_billed, share)
    return TripTotals(count, toll, applied, billed, business)


def trip_months(*, connection: Connection) -> list[str]:
    """Every month (``YYYY-MM``) that has a trip, oldest first."""
    result = connection.exec_driver_sql(
        f"SELECT DISTINCT {month_of('dated_at', connection)} FROM trips ORDER BY 1"
    )
    return [row[0] for row in result]


def card_choices(*, connection: Connection) -> list[tuple[str, str, int]]:
    """(last4, label, id) of every card, for filters: ``1234 山田太郎``; a card whose digits
    another card shares adds its 呼び名: ``6789 2号車 山田太郎``."""
    result = connection.exec_driver_sql(
        "SELECT last4, holder, label, id,"
        " EXISTS (SELECT 1 FROM cards o WHERE o.last4 = c.last4 AND o.id <> c.id)"
        " FROM cards c ORDER BY household, holder, last4, id"
    )
    return [
        (last4, " ".join(p for p in (last4, label if shared else "", holder) if p), int(card_id))
        for last4, holder, label, card_id, shared in result
    ]


def update_trips(
    *,
    connection: Connection,
    ids: Sequence[int],
    purpose: str | None = None,
    business_share: int | None = None,
    operator: str | None = None,
    morning_evening: bool | None = None,
    reason: str = "走行明細の画面で編集",
    versions: Mapping[int, int] | None = None,
) -> int:
    """Set the given fields (``None`` = leave unchanged) on the trips ``ids``.

    Purpose and business share go through :func:`etcbook.models.audit.edit_trips`, so every
    change is in the audit log; operator and 朝夕割 eligibility are classifications, set
    directly. Runs in the caller's transaction. Returns how many trips changed.
    Raises ValueError (Japanese message) for a share outside 0–100 or an unknown operator, and
    :class:`etcbook.models.versions.StaleEdit` when a trip of ``versions`` (id → the version
    the user's view read) changed since: then nothing is written.
    """
    from etcbook.models.audit import append_audit, edit_trips
    from etcbook.models.versions import check_versions

    if not ids:
        return 0
    if versions:
        check_versions(connection, "trips", {i: versions[i] for i in ids if i in versions})
    changed: set[int] = set()
    audited: dict[str, Any] = {}
    if purpose is not None:
        audited["purpose"] = purpose.strip()
    if business_share is not None:
        audited["business_share"] = int(business_share)
    if audited:
        for trip_id in ids:
            if edit_trips(
                connection=connection, trip_ids=[trip_id], changes=audited, reason=reason
            ):
                changed.add(trip_id)
    assignments: list[str] = []
    params: dict[str, Any] = {}
    if operator is not None:
        if operator not in OPERATOR_KEYS:
            raise ValueError(f"事業者キー「{operator}」は使えません")
        assignments.append("operator = :operator")
        assignments.append("operator_source = 'hand'")  # route rules leave it alone from now
        params["operator"] = operator
    if morning_evening is not None:
        assignments.append("morning_evening = :morning_evening")
        params["morning_evening"] = bool(morning_evening)
    if assignments:
        differs = " OR ".join(
            f"{a.split(' = ')[0]} IS DISTINCT FROM {a.split(' = ')[1]}" for a in assignments
        )
        chunk = 500
        for start in range(0, len(ids), chunk):
            part = list(ids[start : start + chunk])
            names = {f"id{i}": value for i, value in enumerate(part)}
            marks = ", ".join(":" + name for name in names)
            classified = connection.execute(
                text(
                    "SELECT id, operator, morning_evening FROM trips"
                    f" WHERE id IN ({marks}) AND ({differs})"
                ),
                {**params, **names},
            ).all()
            for row in classified:
                changed.add(row.id)
                append_audit(
                    connection=connection,
                    entity="trip",
                    entity_id=row.id,
                    action="classify",
                    old={"operator": row.operator, "morning_evening": bool(row.morning_evening)},
                    new={k: v for k, v in params.items() if k in ("operator", "morning_evening")},
                    reason=reason,
                )
            connection.execute(
                text(f"UPDATE trips SET {', '.join(assignments)} WHERE id IN ({marks})"),
                {**params, **names},
            )
    return len(changed)


@dataclass(frozen=True)
class Route:
    """A route as route rules see it: entry IC (``None`` at a mainline gate) and exit IC (the
    charged gate: for a charge at an entry gate, its entry IC, with ``entry_ic`` None)."""

    entry_ic: str | None
    exit_ic: str


def trip_route(*, connection: Connection, trip_id: int) -> Route:
    """The route of one trip."""
    entry, exit_ = connection.execute(
        text("SELECT entry_ic, exit_ic FROM trips WHERE id = :id"), {"id": trip_id}
    ).one()
    if exit_ is None:  # a charge at an entry gate
        return Route(None, entry or "")
    return Route(entry or None, exit_)


def _glob_literal(name: str) -> str:
    """A GLOB pattern matching exactly ``name`` (its wildcard characters bracketed)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def trips_on_route(*, connection: Connection, route: Route, after: dt.datetime) -> list[int]:
    """Ids of the trips on ``route`` exiting at or after ``after``."""
    result = connection.execute(
        text(
            "SELECT id FROM trips WHERE coalesce(exit_ic, entry_ic) = :exit"
            " AND CASE WHEN exit_ic IS NULL THEN '' ELSE coalesce(entry_ic, '') END = :entry"
            " AND dated_at >= :after ORDER BY dated_at, id"
        ),
        {"exit": route.exit_ic, "entry": route.entry_ic or "", "after": after.isoformat()},
    )
    return [row[0] for row in result]


def create_route_rule(
    *,
    connection: Connection,
    route: Route,
    operator: str | None = None,
    morning_evening: bool | None = None,
) -> int:
    """Remember ``operator`` and/or 朝夕割 eligibility for trips on ``route`` imported from now on.

    Returns the new rule's id. The caller's connection commits.
    """
    if operator is None and morning_evening is None:
        raise ValueError("ルールにする項目（事業者・朝夕割）がありません")
    if operator is not None and operator not in OPERATOR_KEYS:
        raise ValueError(f"事業者キー「{operator}」は使えません")
    result = connection.execute(
        text(
            "INSERT INTO route_rules (entry_pattern, exit_pattern, operator, morning_evening,"
            " created_at) VALUES (:entry, :exit, :operator, :morning_evening, :created_at) RETURNING id"
        ),
        {
            "entry": _glob_literal(route.entry_ic) if route.entry_ic else "",
            "exit": _glob_literal(route.exit_ic),
            "operator": operator,
            "morning_evening": morning_evening,
            "created_at": clock.now().isoformat(),
        },
    )
    return int(result.scalar_one())


# -- dashboard: monthly tolls ------------------------------------------------------------------

_TOLL_BUSINESS_SQL: Final = (
    "((t.toll * t.business_share - ((t.toll * t.business_share) % 100 + 100) % 100) / 100)"
)
"""The business part of a trip's toll: toll × share %, rounded down per trip."""


@dataclass(frozen=True)
class MonthlyOperatorTolls:
    """通行料金 of one month on one operator, split into its business and private parts.

    Attributes:
        month: ``YYYY-MM`` (of the exit time).
        operator: operator key.
        toll: 通行料金 summed.
        business: the business part (toll × share %, rounded down per trip), summed.
        private: toll − business.
    """

    month: str
    operator: str
    toll: int
    business: int

    @property
    def private(self) -> int:
        return self.toll - self.business


def monthly_tolls(
    *,
    connection: Connection,
    month_from: str,
    month_to: str,
    cards: tuple[str, ...] = (),
    card_ids: tuple[int, ...] = (),
) -> list[MonthlyOperatorTolls]:
    """Tolls per month and operator between two months (``YYYY-MM``, inclusive), of the cards
    ``card_ids`` (or with the last 4 digits ``cards``; both empty: every card)."""
    query = TripQuery(cards=cards, card_ids=card_ids, month_from=month_from, month_to=month_to)
    where, params = query.where()
    result = connection.execute(
        text(
            f"SELECT {month_of('t.dated_at', connection)} AS month, t.operator, sum(t.toll),"
            f" sum({_TOLL_BUSINESS_SQL}) FROM trips t{where} GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        params,
    )
    return [
        MonthlyOperatorTolls(m, op, int(toll), int(business)) for m, op, toll, business in result
    ]


def latest_trip_month(*, connection: Connection) -> str | None:
    """The month (``YYYY-MM``) of the latest trip, or ``None`` in an empty store."""
    value = connection.exec_driver_sql("SELECT max(dated_at) FROM trips").scalar()
    return str(value)[:7] if value else None


# -- cards for the mileage views ----------------------------------------------------------------


@dataclass(frozen=True)
class CardRow:
    """A card as the mileage views need it: last 4, holder, auto-exchange, id, 呼び名."""

    last4: str
    holder: str
    auto_exchange: bool
    card_id: int | None = None
    label: str = ""


def engine_cards(*, connection: Connection) -> list[CardRow]:
    """Every card, for the mileage views."""
    return [
        CardRow(last4, holder or "", bool(auto), int(card_id), label or "")
        for last4, holder, auto, card_id, label in connection.exec_driver_sql(
            "SELECT last4, holder, auto_exchange, id, label FROM cards"
            " ORDER BY household, holder, last4, id"
        )
    ]


def guessed_trip_count(*, connection: Connection) -> int:
    """How many trips have an operator that is only a guess (no route rule knew their gates)."""
    value = connection.exec_driver_sql(
        "SELECT count(*) FROM trips WHERE operator_source = 'default'"
    ).scalar()
    return int(value or 0)
