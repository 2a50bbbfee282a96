"""Queries the desktop window needs: paged trips, filter choices, totals, quick edits.

Keyword-only, like the rest of :mod:`etcbook.models`. The 走行明細 page shows a lazily fetched
table: :func:`trip_ids` returns the ordered ids a filter matches (one indexed query, one
integer per row) and :func:`trip_rows` reads one page of them; :func:`trip_totals` sums what
the filter shows in SQL, so no widget ever adds yen up itself.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import Connection, text

from etcbook import clock
from etcbook.domain.points import OPERATOR_KEYS

Use = Literal["all", "business", "private"]

SORT_KEYS: Final = {
    "exit_at": "t.exit_at",
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
        month_from: first month shown (``YYYY-MM``), inclusive; ``None`` = from the start.
        month_to: last month shown (``YYYY-MM``), inclusive; ``None`` = to the end.
        operator: an operator key, or ``None`` for all.
        use: ``business`` (share > 0), ``private`` (share 0) or ``all``.
        text: free text matched in the ICs, purpose, 備考 and department code.
        sort: a key of :data:`SORT_KEYS`.
        descending: newest (largest) first.
    """

    cards: tuple[str, ...] = ()
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
        if self.cards:
            names = [f"card{i}" for i in range(len(self.cards))]
            clauses.append(
                "t.card_id IN (SELECT id FROM cards WHERE last4 IN"
                f" ({', '.join(':' + n for n in names)}))"
            )
            params.update(zip(names, self.cards, strict=True))
        if self.month_from:
            clauses.append("t.exit_at >= :month_from")
            params["month_from"] = _month_start(self.month_from).isoformat()
        if self.month_to:
            clauses.append("t.exit_at < :month_to")
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
            clauses.append(
                f"(t.entry_ic LIKE :{name} ESCAPE '\\' OR t.exit_ic LIKE :{name} ESCAPE '\\'"
                f" OR t.purpose LIKE :{name} ESCAPE '\\' OR t.remarks LIKE :{name} ESCAPE '\\'"
                f" OR t.department LIKE :{name} ESCAPE '\\')"
            )
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params[name] = f"%{escaped}%"
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def order_by(self) -> str:
        column = SORT_KEYS.get(self.sort, SORT_KEYS["exit_at"])
        direction = "DESC" if self.descending else "ASC"
        return f" ORDER BY {column} {direction}, t.id {direction}"


@dataclass(frozen=True)
class TripRow:
    """One row of the 走行明細 table.

    Attributes:
        id: the trip's id.
        card: the card's last 4 digits.
        entry_at: entry date-time, ``None`` at a single mainline gate.
        exit_at: exit date-time (the trip's day and month).
        entry_ic: entry IC, ``None`` when blank.
        exit_ic: exit IC or toll gate.
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
    """

    id: int
    card: str
    entry_at: dt.datetime | None
    exit_at: dt.datetime
    entry_ic: str | None
    exit_ic: str
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


@dataclass(frozen=True)
class TripTotals:
    """The totals line of what a filter shows (integer yen)."""

    count: int = 0
    toll: int = 0
    rebate_applied: int = 0
    billed: int = 0
    business: int = 0


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def has_cards(*, connection: Connection) -> bool:
    """``True`` when the store holds at least one card."""
    return bool(connection.execute(text("SELECT EXISTS (SELECT 1 FROM cards)")).scalar())


def trip_ids(*, connection: Connection, query: TripQuery) -> array[int]:
    """The ids of the trips ``query`` matches, in its order."""
    where, params = query.where()
    result = connection.execute(text(f"SELECT t.id FROM trips t{where}{query.order_by()}"), params)
    return array("q", (row[0] for row in result))


_ROW_SQL: Final = (
    "SELECT t.id, c.last4, t.entry_at, t.exit_at, t.entry_ic, t.exit_ic, t.toll,"
    f" coalesce(t.rebate_applied, 0), {BILLED_SQL}, {BUSINESS_SQL}, t.operator, t.status,"
    " t.flags, t.morning_evening, t.purpose, t.business_share, t.department, t.source"
    " FROM trips t JOIN cards c ON c.id = t.card_id"
)


def trip_rows(*, connection: Connection, ids: Sequence[int]) -> dict[int, TripRow]:
    """The rows of the given trip ids (at most a few hundred at a time), keyed by id."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    result = connection.exec_driver_sql(f"{_ROW_SQL} WHERE t.id IN ({marks})", tuple(ids))
    rows: dict[int, TripRow] = {}
    for r in result:
        rows[r[0]] = TripRow(
            id=r[0],
            card=r[1],
            entry_at=_datetime(r[2]),
            exit_at=dt.datetime.fromisoformat(r[3]),
            entry_ic=r[4] or None,
            exit_ic=r[5],
            toll=r[6],
            rebate_applied=r[7],
            billed=r[8],
            business_amount=r[9],
            operator=r[10],
            status=r[11],
            flags=tuple(flag for flag in (r[12] or "").split(";") if flag),
            morning_evening=bool(r[13]),
            purpose=r[14] or "",
            business_share=r[15],
            department=r[16] or "",
            source=r[17],
        )
    return rows


def trip_totals(*, connection: Connection, query: TripQuery) -> TripTotals:
    """Count, 通行料金, 還元額充当, 差引後 and 業務分 summed over what ``query`` matches."""
    where, params = query.where()
    row = connection.execute(
        text(
            "SELECT count(*), coalesce(sum(t.toll), 0), coalesce(sum(t.rebate_applied), 0),"
            f" coalesce(sum({BILLED_SQL}), 0), coalesce(sum({BUSINESS_SQL}), 0)"
            f" FROM trips t{where}"
        ),
        params,
    ).one()
    return TripTotals(*(int(value) for value in row))


def trip_months(*, connection: Connection) -> list[str]:
    """Every month (``YYYY-MM``) that has a trip, oldest first."""
    result = connection.exec_driver_sql(
        "SELECT DISTINCT substr(exit_at, 1, 7) FROM trips ORDER BY 1"
    )
    return [row[0] for row in result]


def card_choices(*, connection: Connection) -> list[tuple[str, str]]:
    """(last4, label) of every card, for filters: ``1234 山田太郎``."""
    result = connection.exec_driver_sql(
        "SELECT last4, holder FROM cards ORDER BY household, holder, last4"
    )
    return [(last4, f"{last4} {holder}".strip()) for last4, holder in result]


def update_trips(
    *,
    connection: Connection,
    ids: Sequence[int],
    purpose: str | None = None,
    business_share: int | None = None,
    operator: str | None = None,
    morning_evening: bool | None = None,
) -> int:
    """Set the given fields (``None`` = leave unchanged) on the trips ``ids``; return the count.

    Raises ValueError (Japanese message) for a share outside 0–100 or an unknown operator.
    The caller's connection commits.
    """
    assignments: list[str] = []
    params: dict[str, Any] = {}
    if purpose is not None:
        assignments.append("purpose = :purpose")
        params["purpose"] = purpose.strip()
    if business_share is not None:
        if not 0 <= int(business_share) <= 100:
            raise ValueError("業務割合は0〜100%で入力してください")
        assignments.append("business_share = :business_share")
        params["business_share"] = int(business_share)
    if operator is not None:
        if operator not in OPERATOR_KEYS:
            raise ValueError(f"事業者キー「{operator}」は使えません")
        assignments.append("operator = :operator")
        params["operator"] = operator
    if morning_evening is not None:
        assignments.append("morning_evening = :morning_evening")
        params["morning_evening"] = bool(morning_evening)
    if not assignments or not ids:
        return 0
    changed = 0
    chunk = 500
    for start in range(0, len(ids), chunk):
        part = list(ids[start : start + chunk])
        names = {f"id{i}": value for i, value in enumerate(part)}
        result = connection.execute(
            text(
                f"UPDATE trips SET {', '.join(assignments)}"
                f" WHERE id IN ({', '.join(':' + name for name in names)})"
            ),
            {**params, **names},
        )
        changed += result.rowcount
    return changed


@dataclass(frozen=True)
class Route:
    """A route as route rules see it: entry IC (``None`` at a mainline gate) and exit IC."""

    entry_ic: str | None
    exit_ic: str


def trip_route(*, connection: Connection, trip_id: int) -> Route:
    """The route of one trip."""
    entry, exit_ = connection.execute(
        text("SELECT entry_ic, exit_ic FROM trips WHERE id = :id"), {"id": trip_id}
    ).one()
    return Route(entry or None, exit_)


def _glob_literal(name: str) -> str:
    """A GLOB pattern matching exactly ``name`` (its wildcard characters bracketed)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def trips_on_route(*, connection: Connection, route: Route, after: dt.datetime) -> list[int]:
    """Ids of the trips on ``route`` exiting at or after ``after``."""
    result = connection.execute(
        text(
            "SELECT id FROM trips WHERE exit_ic = :exit AND coalesce(entry_ic, '') = :entry"
            " AND exit_at >= :after ORDER BY exit_at, id"
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
            " created_at) VALUES (:entry, :exit, :operator, :morning_evening, :created_at)"
        ),
        {
            "entry": _glob_literal(route.entry_ic) if route.entry_ic else "",
            "exit": _glob_literal(route.exit_ic),
            "operator": operator,
            "morning_evening": morning_evening,
            "created_at": clock.now().isoformat(),
        },
    )
    return int(result.lastrowid or 0)


# -- card reminders (dashboard alerts that are about the card, not about points) ---------------

LOGIN_LAPSE_DAYS: Final = 450
"""ETC利用照会サービス IDs are cancelled after 450 days without a login."""

STATEMENT_WINDOW_MONTHS: Final = 15
"""Statements can be downloaded for about 15 months after the month of use."""

REMINDER_HORIZON_DAYS: Final = 90
"""How far ahead card expiry and login lapse are announced."""

_INACTIVE_STATUSES: Final = ("replaced", "retired")


@dataclass(frozen=True)
class CardReminder:
    """A dated reminder about a card's paperwork.

    Attributes:
        card: the card's last 4 digits.
        kind: ``card_expiry``, ``login_lapse``, ``login_unknown`` or ``statement_window``.
        level: ``danger`` (overdue or within 30 days), ``warning`` or ``info``.
        due: the date it is about (expiry, lapse, last download day).
        message: Japanese, one sentence or two.
    """

    card: str
    kind: str
    level: str
    due: dt.date | None
    message: str


def login_lapses_on(last_login: dt.date) -> dt.date:
    """The day an ETC利用照会 ID is cancelled when nobody logs in after ``last_login``."""
    return last_login + dt.timedelta(days=LOGIN_LAPSE_DAYS)


def card_valid_until(expires: str) -> dt.date:
    """The last day a card with expiry ``YYYY-MM`` can be used (the end of that month)."""
    return _next_month(_month_start(expires)) - dt.timedelta(days=1)


def statement_last_download_day(month: dt.date) -> dt.date:
    """About the last day the statement of ``month`` can be downloaded (15 months on)."""
    start = dt.date(month.year, month.month, 1)
    for _ in range(STATEMENT_WINDOW_MONTHS):
        start = _next_month(start)
    return _next_month(start) - dt.timedelta(days=1)


def _level(days_left: int) -> str:
    return "danger" if days_left <= 30 else "warning"


def card_reminders(*, connection: Connection, today: dt.date) -> list[CardReminder]:
    """Card expiry, ETC利用照会 login lapse and statements leaving the download window."""
    reminders: list[CardReminder] = []
    cards = connection.exec_driver_sql(
        "SELECT id, last4, expires, login_id, last_login_on, status FROM cards ORDER BY last4"
    )
    leaving = dt.date(today.year, today.month, 1)
    for _ in range(STATEMENT_WINDOW_MONTHS):
        leaving = dt.date(leaving.year - (leaving.month == 1), (leaving.month - 2) % 12 + 1, 1)
    last_day = statement_last_download_day(leaving)
    for card_id, last4, expires, login_id, last_login, status in cards:
        if status in _INACTIVE_STATUSES:
            continue
        if expires:
            until = card_valid_until(expires)
            days = (until - today).days
            if days < 0:
                reminders.append(
                    CardReminder(
                        last4,
                        "card_expiry",
                        "danger",
                        until,
                        f"カード末尾{last4}の有効期限（{until:%Y/%m}）が過ぎています。"
                        "新しいカードの有効期限を登録してください。",
                    )
                )
            elif days <= REMINDER_HORIZON_DAYS:
                reminders.append(
                    CardReminder(
                        last4,
                        "card_expiry",
                        _level(days),
                        until,
                        f"カード末尾{last4}は{until:%Y/%m/%d}で有効期限が切れます（あと{days}日）。"
                        "番号が変わる再発行なら、ETCマイレージの登録カード変更も必要です。",
                    )
                )
        if last_login:
            lapse = login_lapses_on(dt.date.fromisoformat(last_login))
            days = (lapse - today).days
            if days <= REMINDER_HORIZON_DAYS:
                reminders.append(
                    CardReminder(
                        last4,
                        "login_lapse",
                        "danger" if days <= 30 else "warning",
                        lapse,
                        f"カード末尾{last4}のETC利用照会サービスに{last_login.replace('-', '/')}から"
                        f"ログインしていません。{lapse:%Y/%m/%d}に自動解約されます"
                        f"{'（期限切れ）' if days < 0 else f'（あと{days}日）'}。"
                        "ログインしたら「カード・ID台帳」で日付を更新してください。",
                    )
                )
        elif login_id:
            reminders.append(
                CardReminder(
                    last4,
                    "login_unknown",
                    "info",
                    None,
                    f"カード末尾{last4}のETC利用照会の最終ログイン日が未記録です"
                    "（450日ログインしないとIDが自動解約されます）。",
                )
            )
        stored = connection.exec_driver_sql(
            "SELECT count(*) FROM trips WHERE card_id = ? AND exit_at >= ? AND exit_at < ?",
            (card_id, leaving.isoformat(), _next_month(leaving).isoformat()),
        ).scalar()
        days = (last_day - today).days
        if not stored and days >= 0:
            reminders.append(
                CardReminder(
                    last4,
                    "statement_window",
                    _level(days),
                    last_day,
                    f"カード末尾{last4}の{leaving:%Y年%m月}分の明細は{last_day:%Y/%m/%d}ごろに"
                    "ダウンロードできなくなります（未取込）。利用があれば今のうちに保存してください。",
                )
            )
    order = {"danger": 0, "warning": 1, "info": 2}
    reminders.sort(key=lambda r: (order[r.level], r.due or dt.date.max, r.card))
    return reminders


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
) -> list[MonthlyOperatorTolls]:
    """Tolls per month and operator between two months (``YYYY-MM``, inclusive)."""
    query = TripQuery(cards=cards, month_from=month_from, month_to=month_to)
    where, params = query.where()
    result = connection.execute(
        text(
            "SELECT substr(t.exit_at, 1, 7) AS month, t.operator, sum(t.toll),"
            f" sum({_TOLL_BUSINESS_SQL}) FROM trips t{where} GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        params,
    )
    return [
        MonthlyOperatorTolls(m, op, int(toll), int(business)) for m, op, toll, business in result
    ]


def latest_trip_month(*, connection: Connection) -> str | None:
    """The month (``YYYY-MM``) of the latest trip, or ``None`` in an empty store."""
    value = connection.exec_driver_sql("SELECT max(exit_at) FROM trips").scalar()
    return str(value)[:7] if value else None
