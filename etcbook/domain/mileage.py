"""The mileage engine: replay one card's timeline and return what the ETCマイレージ site shows.

:func:`replay` takes a card's trips, exchanges, stops, manual adjustments and 通勤パス months
(:class:`CardInput`) and returns its :class:`CardState` at a date-time: points per pool with
their lots and expiry, the rebate (還元額) balance, what each trip was really billed and earns,
what was lost, and the alerts the user should see.

Rules (DOMAIN.md §2–§4, issue 3):

- Events happen in time order. At the same instant: lots expiring (the end of 31 March) first,
  then adjustments (00:00 of their date), then the steps of the 20th — points for the previous
  month's trips are granted, the previous month's 平日朝夕割引 rebate is credited, then
  auto-exchange runs — then stops/resumes, manual exchanges, and last the trips (in exit order,
  then by id). Rebate credited at a time is usable by trips exiting at or after it.
- Rebate is applied to each trip on an operator that takes rebate, up to its toll. When the
  file gave the real 還元額適用料金, that figure is used; if it exceeds the balance the engine
  knows of, the difference is booked as an inferred credit (never a negative balance).
- Points per trip are floored per trip on the billed amount; the monthly bonus per bonus group
  is computed on the month's billed total like tax brackets; all are granted on the 20th of the
  next month. Trips while the card is stopped take no rebate, earn nothing and do not count
  for 朝夕割. A trip on an operator outside its programme period earns nothing, takes no rebate.
- Points expire at the end of 31 March of the fiscal year after their grant; exchanges take the
  soonest-expiring points first; expired points are recorded as lost.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Literal, NamedTuple, overload

from etcbook.domain.alerts import Alert, card_alerts
from etcbook.domain.calendar import (
    GRANT_DAY,
    end_of_day,
    expiry_for,
    month_from_index,
    month_index,
    start_of_day,
)
from etcbook.domain.discounts import (
    MorningEveningMonth,
    MorningEveningTrip,
    morning_evening_for_month,
)
from etcbook.domain.money import exchange_totals, monthly_bonus_points
from etcbook.domain.points import DEFAULT_OPERATOR, ExchangeUnit, Lot
from etcbook.domain.rules import BonusRule, Rules

# --- inputs ----------------------------------------------------------------------------------


class TripInput(NamedTuple):
    """走行: one trip as the engine needs it.

    A named tuple, not a frozen dataclass: ``status`` builds one per stored trip (100,000 and
    more), and a frozen dataclass costs five times as much to construct (benchmarks/status.py).

    Attributes:
        trip_id: the trip's id (unique within the card).
        exit_at: exit time; the trip belongs to this day and month. For a charge at an entry
            gate (no exit) the adapters give its entry time, which dates it (trips.dated_at).
        toll: 通行料金 (after ETC discounts), yen; may be negative for an adjustment row.
        operator: operator key (道路事業者).
        entry_at: entry time, None for a single mainline gate.
        rebate_applied_from_file: 還元額適用料金 given by the 15-column CSV, None when unknown.
        morning_evening: eligible for 平日朝夕割引 (CSV flag （朝夕） or marked by the user).
        eligible_amount: amount 朝夕割 is computed on; None means the toll.
    """

    trip_id: int
    exit_at: dt.datetime
    toll: int
    operator: str = DEFAULT_OPERATOR
    entry_at: dt.datetime | None = None
    rebate_applied_from_file: int | None = None
    morning_evening: bool = False
    eligible_amount: int | None = None


@dataclass(frozen=True, slots=True)
class ExchangeInput:
    """ポイント交換 made by hand: a list of units of one pool's grid at a date-time.

    Attributes:
        at: when the exchange was made; the rebate is usable from then.
        pool: pool key (an operator key of the pool is accepted too).
        units: the grid units exchanged.
        exchange_id: store id, None when not stored (yet).
    """

    at: dt.datetime
    pool: str
    units: tuple[ExchangeUnit, ...]
    exchange_id: int | None = None


@dataclass(frozen=True, slots=True)
class StopEvent:
    """ETCマイレージ 利用停止 (``stopped=True``) or its 再開 (``stopped=False``) at a date-time.

    Attributes:
        at: when it takes effect.
        stopped: True for a stop, False for a resume.
        event_id: store id, or None.
    """

    at: dt.datetime
    stopped: bool
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A manual correction at 00:00 of ``on``: points of one pool, or rebate yen.

    A positive points adjustment is a grant on that date (same expiry rule); a negative one
    removes the soonest-expiring points. A rebate adjustment credits or debits the balance.
    Campaign bonuses (キャンペーン加算) are entered as positive points adjustments.

    Attributes:
        on: the date it takes effect (00:00, before that day's 20th steps).
        reason: why (campaign, correction from the site, ...).
        pool: pool key for a points adjustment, None for rebate.
        points: signed points (0 for a rebate adjustment).
        rebate: signed yen of rebate (0 for a points adjustment).
        adjustment_id: store id, or None.
    """

    on: dt.date
    reason: str
    pool: str | None = None
    points: int = 0
    rebate: int = 0
    adjustment_id: int | None = None


@dataclass(frozen=True, slots=True)
class CardInput:
    """Everything the engine needs about one card.

    Attributes:
        card: the card's label (カード末尾4桁).
        trips: its trips, in any order.
        exchanges: manual exchanges.
        stops: 利用停止 / 再開 events.
        adjustments: manual point or rebate adjustments.
        commute_pass_months: first days of the months with a 通勤パス (no 朝夕割 then).
        auto_exchange: ポイント自動還元 is on for the card.
        handed_over_at: 登録カード変更 — from this instant (00:00 after the change) the card no
            longer holds the mileage registration: its points (with their dates), rebate and
            pending grants belong to the new card, whose input continues the same timeline
            (:func:`etcbook.domain.incidents.registration_input`). Nothing at or after it is
            replayed for this card; its state from then on holds nothing. None: never.
        card_id: the store's id of the card (cards of a fleet may share their last 4 digits),
            carried to its :class:`CardState`; None when the caller has no store.
    """

    card: str
    trips: Sequence[TripInput] = ()
    exchanges: Sequence[ExchangeInput] = ()
    stops: Sequence[StopEvent] = ()
    adjustments: Sequence[Adjustment] = ()
    commute_pass_months: frozenset[dt.date] = frozenset()
    auto_exchange: bool = False
    handed_over_at: dt.datetime | None = None
    card_id: int | None = None


# --- outputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TripResult:
    """What one trip really cost and earns.

    Attributes:
        trip_id: the trip.
        rebate_applied: 還元額充当, yen (from the file when it gave it).
        billed: 差引後請求額 = toll − rebate applied.
        points: base points expected for the trip (floored per trip; the monthly bonus is not
            attributed to trips).
        inferred_credit: rebate the file's 還元額適用料金 implies beyond the known balance.
        stopped: the card was stopped at the trip's exit time.
        morning_evening_credit: 平日朝夕割引 rebate credited for the trip (0 until credited).
    """

    trip_id: int
    rebate_applied: int
    billed: int
    points: int
    inferred_credit: int
    stopped: bool
    morning_evening_credit: int


_TripRow = tuple[int, int, int, int, int, bool]


class TripResults(Sequence[TripResult]):
    """Per-trip results in replay order (exit time, then id), immutable.

    Stored compactly and turned into :class:`TripResult` on access, so that a card with
    100,000 trips costs no 100,000 objects unless they are asked for.
    """

    __slots__ = ("_index", "_me_credits", "_rows")

    def __init__(self, rows: Sequence[_TripRow], me_credits: Mapping[int, int]) -> None:
        self._rows = tuple(rows)
        self._me_credits = dict(me_credits)
        self._index: dict[int, int] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, position: int) -> TripResult: ...

    @overload
    def __getitem__(self, position: slice) -> Sequence[TripResult]: ...

    def __getitem__(self, position: int | slice) -> TripResult | Sequence[TripResult]:
        if isinstance(position, slice):
            return tuple(self._make(row) for row in self._rows[position])
        return self._make(self._rows[position])

    def __iter__(self) -> Iterator[TripResult]:
        for row in self._rows:
            yield self._make(row)

    def _make(self, row: _TripRow) -> TripResult:
        trip_id, applied, billed, points, inferred, stopped = row
        return TripResult(
            trip_id, applied, billed, points, inferred, stopped, self._me_credits.get(trip_id, 0)
        )

    def get(self, trip_id: int) -> TripResult | None:
        """The result of ``trip_id``, or None when the trip was not replayed."""
        if self._index is None:
            self._index = {row[0]: i for i, row in enumerate(self._rows)}
        position = self._index.get(trip_id)
        return None if position is None else self._make(self._rows[position])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TripResults):
            return NotImplemented
        return self._rows == other._rows and self._me_credits == other._me_credits

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TripResults({len(self._rows)} trips)"

    def rows(self) -> tuple[_TripRow, ...]:
        """Raw rows ``(trip_id, rebate_applied, billed, points, inferred_credit, stopped)``."""
        return self._rows


@dataclass(frozen=True, slots=True)
class ExpiryBuckets:
    """失効バケット: points by the month they expire in, relative to the as-of month.

    Attributes:
        this_month: expiring this month (exchange now, even a small amount).
        next_month: expiring next month.
        month_after: expiring the month after.
        later: expiring later.
    """

    this_month: int = 0
    next_month: int = 0
    month_after: int = 0
    later: int = 0


@dataclass(frozen=True, slots=True)
class PoolState:
    """One pool of one card at the as-of time.

    Attributes:
        pool: pool key.
        points: points the site shows (granted, not exchanged, expired or removed).
        pending_points: points trips already made will bring at their grant, with the bonus of
            their month so far.
        buckets: ``points`` by expiry month.
        lots: the lots still holding points, soonest-expiring first.
    """

    pool: str
    points: int
    pending_points: int
    buckets: ExpiryBuckets
    lots: tuple[Lot, ...]


LossReason = Literal["expired"]


@dataclass(frozen=True, slots=True)
class LossEvent:
    """Points lost.

    Attributes:
        pool: pool key.
        at: when they were gone (00:00 after the expiry day).
        expires_on: the last day they were usable.
        granted_on: grant date of the lot.
        points: points lost.
        reason: ``expired``.
    """

    pool: str
    at: dt.datetime
    expires_on: dt.date
    granted_on: dt.date
    points: int
    reason: LossReason = "expired"


@dataclass(frozen=True, slots=True)
class InferredCredit:
    """Rebate the file shows was used but the engine did not know of (booked, reported).

    Attributes:
        trip_id: the trip whose 還元額適用料金 exceeded the known balance.
        at: the trip's exit time.
        yen: the missing rebate, credited just before the trip.
    """

    trip_id: int
    at: dt.datetime
    yen: int


LedgerKind = Literal[
    "grant",
    "morning_evening",
    "auto_exchange",
    "exchange",
    "adjustment",
    "expiry",
    "inferred_credit",
    "handover",
]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A change of points or rebate other than a trip's rebate use.

    Attributes:
        at: when.
        kind: grant, morning_evening, auto_exchange, exchange, adjustment, expiry,
            inferred_credit.
        pool: pool key for points changes, None for rebate-only changes.
        points: signed change of the pool's points.
        rebate: signed change of the rebate balance, yen.
        note: the adjustment's reason or a short description.
    """

    at: dt.datetime
    kind: LedgerKind
    pool: str | None
    points: int
    rebate: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class MonthlyEarning:
    """Points a pool earns for one month's trips (the planner's "recent monthly earnings").

    Attributes:
        month: first day of the exit month.
        pool: pool key.
        billed: billed total of the pool's earning trips in the month.
        base_points: sum of the trips' base points.
        bonus_points: monthly bonus (so far, when not granted yet).
        grant_on: the 20th of the next month.
        granted: the grant has happened at the as-of time.
    """

    month: dt.date
    pool: str
    billed: int
    base_points: int
    bonus_points: int
    grant_on: dt.date
    granted: bool

    @property
    def points(self) -> int:
        """Base plus bonus points."""
        return self.base_points + self.bonus_points


@dataclass(frozen=True, slots=True)
class RebateMonth:
    """Rebate movements of one calendar month (for 月次照合: opening + credits − applied = closing).

    Attributes:
        month: first day of the month.
        opening: balance at 00:00 of the 1st.
        exchanged: credited by manual and automatic exchanges.
        morning_evening: credited by 平日朝夕割引.
        adjusted: signed manual rebate adjustments.
        inferred: inferred credits.
        applied: used by trips (signed: a refund row gives rebate back).
        closing: balance at the end of the month.
    """

    month: dt.date
    opening: int
    exchanged: int
    morning_evening: int
    adjusted: int
    inferred: int
    applied: int
    closing: int


@dataclass(frozen=True, slots=True)
class CardState:
    """A card at the end of a replay.

    Attributes:
        card: the card's label.
        as_of: the instant the state is taken at (events at or before it are included).
        pools: pool key → state, for every pool the card ever earned in or holds points of.
        rebate_balance: 還元額 balance, yen.
        points_lost_total: points lost to expiry, all pools.
        losses: each lot's expiry with points left.
        inferred_credits: rebate booked because the file showed it was used.
        trip_results: per trip, in replay order.
        alerts: what to tell the user (Japanese messages).
        earnings: per pool, monthly earnings oldest first (granted and pending months).
        morning_evening: 平日朝夕割引 months credited so far.
        pending_rebate: 朝夕割 rebate the trips of not yet credited months will bring (so far).
        rebate_months: monthly rebate movements.
        ledger: every change of points or rebate except trips' rebate use, in time order.
        stopped: the card is stopped at ``as_of``.
        last_change_at: last change of points or rebate (for the 730-day rule), or None.
        pending_morning_evening: 平日朝夕割引 of the months not yet credited, as their trips so
            far give it (``pending_rebate`` is the sum of their totals).
        card_id: the store's id of the card (:attr:`CardInput.card_id`).
    """

    card: str
    as_of: dt.datetime
    pools: Mapping[str, PoolState]
    rebate_balance: int
    points_lost_total: int
    losses: tuple[LossEvent, ...]
    inferred_credits: tuple[InferredCredit, ...]
    trip_results: TripResults
    alerts: tuple[Alert, ...]
    earnings: Mapping[str, tuple[MonthlyEarning, ...]]
    morning_evening: tuple[MorningEveningMonth, ...]
    pending_rebate: int
    rebate_months: tuple[RebateMonth, ...]
    ledger: tuple[LedgerEntry, ...]
    stopped: bool
    last_change_at: dt.datetime | None
    pending_morning_evening: tuple[MorningEveningMonth, ...] = ()
    card_id: int | None = None

    def points(self, pool: str) -> int:
        """Points of ``pool`` (0 when the card has none there)."""
        state = self.pools.get(pool)
        return 0 if state is None else state.points

    def pending_points(self, pool: str) -> int:
        """Pending points of ``pool`` (0 when none)."""
        state = self.pools.get(pool)
        return 0 if state is None else state.pending_points


# --- the replay ------------------------------------------------------------------------------

# Order of events at the same instant (trips come after all of them).
_EXPIRY = 0
_ADJUSTMENT = 1
_TWENTIETH = 2
_STOP = 3
_EXCHANGE = 4


class _LiveLot:
    """A lot while replaying (mutable; turned into :class:`Lot` at the end)."""

    __slots__ = ("expires_on", "granted", "granted_on", "remaining")

    def __init__(self, granted_on: dt.date, expires_on: dt.date, granted: int) -> None:
        self.granted_on = granted_on
        self.expires_on = expires_on
        self.granted = granted
        self.remaining = granted


class _Month:
    """Accumulators of one exit month until its grant (per operator; pools and bonus groups
    are summed at the grant, so that a trip costs two dictionary updates)."""

    __slots__ = ("base", "billed", "morning_evening")

    def __init__(self) -> None:
        self.base: dict[str, int] = {}
        self.billed: dict[str, int] = {}
        self.morning_evening: list[MorningEveningTrip] = []


class _RebateMonthAcc:
    __slots__ = ("adjusted", "applied", "exchanged", "inferred", "morning_evening", "opening")

    def __init__(self, opening: int) -> None:
        self.opening = opening
        self.exchanged = 0
        self.morning_evening = 0
        self.adjusted = 0
        self.inferred = 0
        self.applied = 0


@dataclass(slots=True)
class _Operator:
    """Per-operator facts the trip loop needs, precomputed."""

    pool: str | None
    group: str | None
    yen_per_unit: int
    points_per_unit: int
    morning_evening: bool
    earns: bool
    usable: bool
    # (first instant, first instant after, earns, usable) when terms depend on the date
    periods: tuple[tuple[dt.datetime | None, dt.datetime | None, bool, bool], ...] | None = None

    def terms_at(self, at: dt.datetime) -> tuple[bool, bool]:
        if self.periods is None:
            return self.earns, self.usable
        for start, end, earns, usable in self.periods:
            if (start is None or start <= at) and (end is None or at < end):
                return earns, usable
        return False, False


@dataclass
class _Replay:
    card: CardInput
    rules: Rules
    until: dt.datetime
    lots: dict[str, deque[_LiveLot]] = field(default_factory=dict)
    all_pools: set[str] = field(default_factory=set)
    balances: dict[str, int] = field(default_factory=dict)
    rebate: int = 0
    stopped: bool = False
    stopped_since: dt.datetime | None = None
    stopped_trips: int = 0
    first_stopped_trip: dt.datetime | None = None
    months: dict[int, _Month] = field(default_factory=dict)
    rebate_months: dict[int, _RebateMonthAcc] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    losses: list[LossEvent] = field(default_factory=list)
    inferred: list[InferredCredit] = field(default_factory=list)
    findings: list[Alert] = field(default_factory=list)
    earnings: list[MonthlyEarning] = field(default_factory=list)
    morning_evening: list[MorningEveningMonth] = field(default_factory=list)
    me_credits: dict[int, int] = field(default_factory=dict)
    last_change_at: dt.datetime | None = None

    # -- helpers ------------------------------------------------------------------------------

    def _rebate_month(self, at: dt.datetime) -> _RebateMonthAcc:
        index = at.year * 12 + at.month - 1
        acc = self.rebate_months.get(index)
        if acc is None:
            acc = self.rebate_months[index] = _RebateMonthAcc(self.rebate)
        return acc

    def _changed(self, at: dt.datetime) -> None:
        self.last_change_at = at

    def _pool_key(self, key: str) -> str | None:
        try:
            return self.rules.pool(key).key
        except KeyError:
            return None

    def _add_lot(self, pool: str, granted_on: dt.date, points: int) -> None:
        lots = self.lots.get(pool)
        if lots is None:
            lots = self.lots[pool] = deque()
        lots.append(_LiveLot(granted_on, expiry_for(granted_on), points))
        self.balances[pool] = self.balances.get(pool, 0) + points
        self.all_pools.add(pool)

    def _take(self, pool: str, points: int) -> None:
        """Remove ``points`` (at most the balance) from ``pool``, soonest-expiring first."""
        lots = self.lots[pool]
        left = points
        while left > 0:
            lot = lots[0]
            used = lot.remaining if lot.remaining <= left else left
            lot.remaining -= used
            left -= used
            if lot.remaining == 0:
                lots.popleft()
        self.balances[pool] -= points

    # -- events -------------------------------------------------------------------------------

    def _expire(self, at: dt.datetime) -> None:
        cutoff = at.date() - dt.timedelta(days=1)
        for pool, lots in self.lots.items():
            while lots and lots[0].expires_on <= cutoff:
                lot = lots.popleft()
                if lot.remaining > 0:
                    self.balances[pool] -= lot.remaining
                    self.losses.append(
                        LossEvent(pool, at, lot.expires_on, lot.granted_on, lot.remaining)
                    )
                    self.ledger.append(
                        LedgerEntry(at, "expiry", pool, -lot.remaining, 0, "有効期限切れ")
                    )
                    lot.remaining = 0

    def _adjust(self, at: dt.datetime, adjustment: Adjustment) -> None:
        if adjustment.points:
            pool = None if adjustment.pool is None else self._pool_key(adjustment.pool)
            if pool is None:
                self.findings.append(
                    Alert(
                        "adjustment_clamped",
                        f"{at.date().isoformat()}のポイント調整のプール"
                        f"「{adjustment.pool}」が不明なため無視しました。",
                        on=at.date(),
                        points=adjustment.points,
                        ref=adjustment.adjustment_id,
                    )
                )
            elif adjustment.points > 0:
                self._add_lot(pool, at.date(), adjustment.points)
                self.ledger.append(
                    LedgerEntry(at, "adjustment", pool, adjustment.points, 0, adjustment.reason)
                )
                self._changed(at)
            else:
                held = self.balances.get(pool, 0)
                wanted = -adjustment.points
                taken = wanted if wanted <= held else held
                if taken:
                    self._take(pool, taken)
                    self.ledger.append(
                        LedgerEntry(at, "adjustment", pool, -taken, 0, adjustment.reason)
                    )
                    self._changed(at)
                if taken < wanted:
                    self.findings.append(
                        Alert(
                            "adjustment_clamped",
                            f"{at.date().isoformat()}のポイント調整（{adjustment.points:,}P）は"
                            f"残高{held:,}Pを超えるため、{taken:,}Pだけ減らしました。",
                            pool=pool,
                            points=adjustment.points,
                            on=at.date(),
                            ref=adjustment.adjustment_id,
                        )
                    )
        if adjustment.rebate:
            change = adjustment.rebate
            if change < 0 and -change > self.rebate:
                self.findings.append(
                    Alert(
                        "adjustment_clamped",
                        f"{at.date().isoformat()}の還元額調整（{change:,}円）は残高"
                        f"{self.rebate:,}円を超えるため、残高を0円にしました。",
                        yen=change,
                        on=at.date(),
                        ref=adjustment.adjustment_id,
                    )
                )
                change = -self.rebate
            if change:
                self._rebate_month(at).adjusted += change
                self.rebate += change
                self.ledger.append(
                    LedgerEntry(at, "adjustment", None, 0, change, adjustment.reason)
                )
                self._changed(at)

    def _twentieth(self, at: dt.datetime) -> None:
        index = at.year * 12 + at.month - 1
        month = self.months.pop(index - 1, None)
        if month is not None:
            self._grant(at, index - 1, month)
            self._credit_morning_evening(at, index - 1, month)
        if self.card.auto_exchange:
            self._auto_exchange(at)

    def _grant(self, at: dt.datetime, index: int, month: _Month) -> None:
        points = _month_points(month, self.rules)
        exit_month = month_from_index(index)
        for pool in sorted(points):
            billed, base, bonus = points[pool]
            self.earnings.append(
                MonthlyEarning(exit_month, pool, billed, base, bonus, at.date(), True)
            )
            total = base + bonus
            self.all_pools.add(pool)
            if total > 0:
                self._add_lot(pool, at.date(), total)
                self.ledger.append(
                    LedgerEntry(at, "grant", pool, total, 0, f"{exit_month:%Y-%m}走行分")
                )
                self._changed(at)

    def _credit_morning_evening(self, at: dt.datetime, index: int, month: _Month) -> None:
        if not month.morning_evening:
            return
        result = morning_evening_for_month(month_from_index(index), month.morning_evening)
        self.morning_evening.append(result)
        for trip_id, yen in result.credits:
            self.me_credits[trip_id] = self.me_credits.get(trip_id, 0) + yen
        if result.total > 0:
            self._rebate_month(at).morning_evening += result.total
            self.rebate += result.total
            self.ledger.append(
                LedgerEntry(
                    at,
                    "morning_evening",
                    None,
                    0,
                    result.total,
                    f"{result.month:%Y-%m}平日朝夕割引（{len(result.counted)}回・{result.percent}%）",
                )
            )
            self._changed(at)

    def _auto_exchange(self, at: dt.datetime) -> None:
        for pool in sorted(self.lots):
            unit = self.rules.pools[pool].auto_unit
            count = self.balances.get(pool, 0) // unit.points
            if count <= 0:
                continue
            points = count * unit.points
            yen = count * unit.yen
            self._take(pool, points)
            self._rebate_month(at).exchanged += yen
            self.rebate += yen
            self.ledger.append(
                LedgerEntry(at, "auto_exchange", pool, -points, yen, f"自動還元 {count}口")
            )
            self._changed(at)

    def _stop(self, at: dt.datetime, event: StopEvent) -> None:
        if event.stopped and not self.stopped:
            self.stopped = True
            self.stopped_since = at
        elif not event.stopped:
            self.stopped = False
            self.stopped_since = None

    def _exchange(self, at: dt.datetime, exchange: ExchangeInput) -> None:
        pool = self._pool_key(exchange.pool)
        if pool is None:
            self._refuse(at, exchange, f"プール「{exchange.pool}」は不明です。")
            return
        rule = self.rules.pools[pool]
        grid = set(rule.manual_units)
        if not exchange.units or any(unit not in grid for unit in exchange.units):
            self._refuse(at, exchange, f"{rule.name}の交換単位にない交換です。", pool=pool)
            return
        points, yen = exchange_totals(exchange.units)
        held = self.balances.get(pool, 0)
        if points > held:
            self._refuse(
                at,
                exchange,
                f"{rule.name}のポイントが足りません（必要 {points:,}P、残高 {held:,}P）。",
                pool=pool,
                points=points,
            )
            return
        self._take(pool, points)
        self._rebate_month(at).exchanged += yen
        self.rebate += yen
        self.ledger.append(
            LedgerEntry(at, "exchange", pool, -points, yen, f"{points:,}P→{yen:,}円")
        )
        self._changed(at)

    def _refuse(
        self,
        at: dt.datetime,
        exchange: ExchangeInput,
        why: str,
        *,
        pool: str | None = None,
        points: int | None = None,
    ) -> None:
        self.findings.append(
            Alert(
                "exchange_refused",
                f"{at:%Y-%m-%d %H:%M}のポイント交換は記録できません: {why}",
                pool=pool,
                points=points,
                on=at.date(),
                ref=exchange.exchange_id,
            )
        )

    # -- the run ------------------------------------------------------------------------------

    def _schedule(self, trips: Sequence[TripInput]) -> list[tuple[dt.datetime, int, int, object]]:
        card = self.card
        events: list[tuple[dt.datetime, int, int, object]] = []
        seq = 0
        for adjustment in card.adjustments:
            events.append((start_of_day(adjustment.on), _ADJUSTMENT, seq, adjustment))
            seq += 1
        for stop in card.stops:
            events.append((stop.at, _STOP, seq, stop))
            seq += 1
        for exchange in card.exchanges:
            events.append((exchange.at, _EXCHANGE, seq, exchange))
            seq += 1
        starts = [event[0] for event in events]
        if trips:
            starts.append(trips[0].exit_at)
        if not starts:
            return []
        first = min(starts)
        until = self.until
        for index in range(month_index(first), month_index(until) + 1):
            month = month_from_index(index)
            at = dt.datetime(month.year, month.month, GRANT_DAY)
            if first <= at <= until:
                events.append((at, _TWENTIETH, seq, None))
                seq += 1
        for year in range(first.year, until.year + 1):
            at = dt.datetime(year, 4, 1)
            if first <= at <= until:
                events.append((at, _EXPIRY, seq, None))
                seq += 1
        events.sort(key=lambda event: (event[0], event[1], event[2]))
        return events

    def _run_event(self, event: tuple[dt.datetime, int, int, object]) -> None:
        at, kind, _, payload = event
        if kind == _EXPIRY:
            self._expire(at)
        elif kind == _ADJUSTMENT:
            assert isinstance(payload, Adjustment)
            self._adjust(at, payload)
        elif kind == _TWENTIETH:
            self._twentieth(at)
        elif kind == _STOP:
            assert isinstance(payload, StopEvent)
            self._stop(at, payload)
        else:
            assert isinstance(payload, ExchangeInput)
            self._exchange(at, payload)

    def _operators(self) -> dict[str, _Operator]:
        found: dict[str, _Operator] = {}
        for key, rule in self.rules.operators.items():
            periods = None
            earns = usable = False
            if (
                len(rule.periods) == 1
                and rule.periods[0].start is None
                and (rule.periods[0].end is None)
            ):
                earns = rule.periods[0].earns_points
                usable = rule.periods[0].rebate_usable
            else:
                periods = tuple(
                    (
                        None if p.start is None else start_of_day(p.start),
                        None if p.end is None else start_of_day(p.end + dt.timedelta(days=1)),
                        p.earns_points,
                        p.rebate_usable,
                    )
                    for p in rule.periods
                )
            earning = rule.earning
            found[key] = _Operator(
                pool=rule.pool,
                group=rule.bonus_group,
                yen_per_unit=1 if earning is None else earning.yen_per_unit,
                points_per_unit=0 if earning is None else earning.points_per_unit,
                morning_evening=rule.morning_evening,
                earns=earns,
                usable=usable,
                periods=periods,
            )
        return found

    def run(self) -> CardState:
        card = self.card
        until = self.until
        trips = sorted(card.trips, key=_TRIP_ORDER)
        events = self._schedule(trips)
        event_count = len(events)
        next_event = 0
        never = dt.datetime.max
        next_event_at = events[0][0] if events else never
        operators = self._operators()
        unknown = _Operator(None, None, 1, 0, False, False, False)
        unknown_keys: set[str] = set()
        commute = {month_index(month) for month in card.commute_pass_months}
        rows: list[_TripRow] = []
        append_row = rows.append

        rebate = 0
        stopped = False
        index = -1
        month_end = dt.datetime.min  # first instant of the month after the current trip's
        month = _Month()
        base: dict[str, int] = month.base
        billed_by_operator: dict[str, int] = month.billed
        rebate_acc = _RebateMonthAcc(0)
        # Unpacked rather than read field by field: this loop runs for every trip.
        for trip_id, at, toll, key, entry_at, from_file, flagged, eligible in trips:
            if at > until:
                break
            if at >= next_event_at:
                self.rebate = rebate
                while next_event < event_count and events[next_event][0] <= at:
                    self._run_event(events[next_event])
                    next_event += 1
                next_event_at = events[next_event][0] if next_event < event_count else never
                rebate = self.rebate
                stopped = self.stopped
            if at >= month_end:
                index = at.year * 12 + at.month - 1
                month_end = dt.datetime(at.year + at.month // 12, at.month % 12 + 1, 1)
                existing = self.months.get(index)
                if existing is None:
                    existing = self.months[index] = _Month()
                month = existing
                base = month.base
                billed_by_operator = month.billed
                self.rebate = rebate
                rebate_acc = self._rebate_month(at)
            operator = operators.get(key)
            if operator is None:
                operator = unknown
                unknown_keys.add(key)
            if operator.periods is None:
                earns = operator.earns
                usable = operator.usable
            else:
                earns, usable = operator.terms_at(at)
            inferred = 0
            if from_file is not None:
                applied = from_file
                if applied > rebate:
                    inferred = applied - rebate
                    rebate = applied
                    rebate_acc.inferred += inferred
                    self.inferred.append(InferredCredit(trip_id, at, inferred))
                    self.ledger.append(
                        LedgerEntry(
                            at, "inferred_credit", None, 0, inferred, "明細の還元額適用料金"
                        )
                    )
                rebate -= applied
            elif stopped or not usable or toll <= 0 or rebate <= 0:
                applied = 0
            else:
                applied = toll if toll < rebate else rebate
                rebate -= applied
            if applied:
                rebate_acc.applied += applied
                self.last_change_at = at
            billed = toll - applied
            points = 0
            if stopped:
                self.stopped_trips += 1
                if self.first_stopped_trip is None:
                    self.first_stopped_trip = at
            elif earns:
                if billed > 0:
                    points = billed // operator.yen_per_unit * operator.points_per_unit
                base[key] = base.get(key, 0) + points
                billed_by_operator[key] = billed_by_operator.get(key, 0) + billed
            if (
                flagged
                and operator.morning_evening
                and not stopped
                and index not in commute
                and (usable or earns)
            ):
                month.morning_evening.append(
                    MorningEveningTrip(
                        trip_id, at, entry_at, toll if eligible is None else eligible
                    )
                )
            append_row((trip_id, applied, billed, points, inferred, stopped))
        self.rebate = rebate
        while next_event < event_count and events[next_event][0] <= until:
            self._run_event(events[next_event])
            next_event += 1
        for key in sorted(unknown_keys):
            self.findings.append(
                Alert(
                    "unknown_operator",
                    f"道路事業者「{key}」は規則にないため、ポイントも還元額も計算していません。",
                )
            )
        return self._state(rows)

    # -- the result ---------------------------------------------------------------------------

    def _state(self, rows: list[_TripRow]) -> CardState:
        until = self.until
        as_of = until.date()
        pending_by_pool: dict[str, int] = {}
        pending_grants: dict[str, list[tuple[dt.date, int]]] = {}
        pending_morning_evening: list[MorningEveningMonth] = []
        earnings = list(self.earnings)
        for index in sorted(self.months):
            month = self.months[index]
            exit_month = month_from_index(index)
            grant_on = month_from_index(index + 1).replace(day=GRANT_DAY)
            points = _month_points(month, self.rules)
            for pool in sorted(points):
                billed, base, bonus = points[pool]
                earnings.append(
                    MonthlyEarning(exit_month, pool, billed, base, bonus, grant_on, False)
                )
                self.all_pools.add(pool)
                if base + bonus:
                    pending_by_pool[pool] = pending_by_pool.get(pool, 0) + base + bonus
                    pending_grants.setdefault(pool, []).append((grant_on, base + bonus))
            if month.morning_evening:
                pending_morning_evening.append(
                    morning_evening_for_month(exit_month, month.morning_evening)
                )
        by_pool_earnings: dict[str, list[MonthlyEarning]] = {}
        for earning in sorted(earnings, key=lambda e: (e.pool, e.month)):
            by_pool_earnings.setdefault(earning.pool, []).append(earning)

        order = {key: i for i, key in enumerate(self.rules.pools)}
        pools: dict[str, PoolState] = {}
        for pool in sorted(self.all_pools, key=lambda key: order.get(key, len(order))):
            live = tuple(
                Lot(pool, lot.granted_on, lot.expires_on, lot.granted, lot.remaining)
                for lot in self.lots.get(pool, ())
                if lot.remaining > 0
            )
            pools[pool] = PoolState(
                pool=pool,
                points=self.balances.get(pool, 0),
                pending_points=pending_by_pool.get(pool, 0),
                buckets=expiry_buckets(live, as_of),
                lots=live,
            )

        rebate_months = []
        for index in sorted(self.rebate_months):
            acc = self.rebate_months[index]
            closing = (
                acc.opening
                + acc.exchanged
                + acc.morning_evening
                + acc.adjusted
                + acc.inferred
                - acc.applied
            )
            rebate_months.append(
                RebateMonth(
                    month_from_index(index),
                    acc.opening,
                    acc.exchanged,
                    acc.morning_evening,
                    acc.adjusted,
                    acc.inferred,
                    acc.applied,
                    closing,
                )
            )

        alerts = card_alerts(
            as_of=as_of,
            rules=self.rules,
            lots_by_pool={pool: state.lots for pool, state in pools.items()},
            pending_grants=pending_grants,
            auto_exchange=self.card.auto_exchange,
            last_change_at=self.last_change_at,
            stopped_since=self.stopped_since if self.stopped else None,
            stopped_trips=self.stopped_trips,
            first_stopped_trip=self.first_stopped_trip,
        )
        ledger = sorted(self.ledger, key=lambda entry: entry.at)
        return CardState(
            card=self.card.card,
            card_id=self.card.card_id,
            as_of=until,
            pools=pools,
            rebate_balance=self.rebate,
            points_lost_total=sum(loss.points for loss in self.losses),
            losses=tuple(self.losses),
            inferred_credits=tuple(self.inferred),
            trip_results=TripResults(rows, self.me_credits),
            alerts=(*alerts, *self.findings),
            earnings={pool: tuple(items) for pool, items in by_pool_earnings.items()},
            morning_evening=tuple(self.morning_evening),
            pending_rebate=sum(month.total for month in pending_morning_evening),
            rebate_months=tuple(rebate_months),
            ledger=tuple(ledger),
            stopped=self.stopped,
            last_change_at=self.last_change_at,
            pending_morning_evening=tuple(pending_morning_evening),
        )


_TRIP_ORDER = attrgetter("exit_at", "trip_id")
"""Replay order of trips: exit time, then id."""


def _month_points(month: _Month, rules: Rules) -> dict[str, tuple[int, int, int]]:
    """Pool → (billed, base points, bonus points) of one month's earning trips."""
    billed_by_pool: dict[str, int] = {}
    base_by_pool: dict[str, int] = {}
    billed_by_group: dict[str, int] = {}
    bonus_of_group: dict[str, tuple[str, BonusRule | None]] = {}
    for key, billed in month.billed.items():
        operator = rules.operators[key]
        pool = operator.pool
        assert pool is not None
        billed_by_pool[pool] = billed_by_pool.get(pool, 0) + billed
        base_by_pool[pool] = base_by_pool.get(pool, 0) + month.base.get(key, 0)
        group = operator.bonus_group
        if group is not None:
            billed_by_group[group] = billed_by_group.get(group, 0) + billed
            bonus_of_group.setdefault(group, (pool, operator.bonus))
    bonus_by_pool: dict[str, int] = {}
    for group, billed in billed_by_group.items():
        pool, bonus = bonus_of_group[group]
        if bonus is not None:
            bonus_by_pool[pool] = bonus_by_pool.get(pool, 0) + monthly_bonus_points(billed, bonus)
    return {
        pool: (billed, base_by_pool.get(pool, 0), bonus_by_pool.get(pool, 0))
        for pool, billed in billed_by_pool.items()
    }


def expiry_buckets(lots: Sequence[Lot], as_of: dt.date) -> ExpiryBuckets:
    """失効バケット of ``lots`` relative to the month of ``as_of``."""
    this = month_index(as_of)
    sums = [0, 0, 0, 0]
    for lot in lots:
        offset = month_index(lot.expires_on) - this
        sums[min(max(offset, 0), 3)] += lot.remaining
    return ExpiryBuckets(*sums)


def replay(card: CardInput, rules: Rules, until: dt.datetime) -> CardState:
    """Replay ``card``'s timeline up to and including ``until`` and return its state then.

    Pure: the same inputs give the same state. Costs O(n log n) in the number of trips
    (one sort; the rest is linear). A card handed over to a new one (``handed_over_at``) is
    replayed up to the handover; from then on it holds nothing (:func:`_handed_over`).
    """
    handover = card.handed_over_at
    if handover is None or until < handover:
        return _Replay(card, rules, until).run()
    before = _Replay(card, rules, handover - dt.timedelta(microseconds=1)).run()
    return _handed_over(before, handover, until)


_KEPT_AFTER_HANDOVER = frozenset({"card_stopped", "stopped_card_trips"})


def _handed_over(state: CardState, at: dt.datetime, until: dt.datetime) -> CardState:
    """``state`` (taken just before ``at``) after the registration left the card at ``at``.

    The points and the rebate leave with ledger entries of kind ``handover``; grants not made
    yet are the new card's (its earnings are dropped here); alerts about points go too. The
    trips' results, the granted earnings and the ledger up to the handover stay as history.
    """
    note = "登録カード変更で新カードへ引き継ぎ"
    ledger = list(state.ledger)
    for key, pool in state.pools.items():
        if pool.points:
            ledger.append(LedgerEntry(at, "handover", key, -pool.points, 0, note))
    if state.rebate_balance:
        ledger.append(LedgerEntry(at, "handover", None, 0, -state.rebate_balance, note))
    return CardState(
        card=state.card,
        card_id=state.card_id,
        as_of=until,
        pools={key: PoolState(key, 0, 0, ExpiryBuckets(), ()) for key in state.pools},
        rebate_balance=0,
        points_lost_total=state.points_lost_total,
        losses=state.losses,
        inferred_credits=state.inferred_credits,
        trip_results=state.trip_results,
        alerts=tuple(a for a in state.alerts if a.kind in _KEPT_AFTER_HANDOVER),
        earnings={
            key: tuple(e for e in items if e.granted) for key, items in state.earnings.items()
        },
        morning_evening=state.morning_evening,
        pending_rebate=0,
        rebate_months=state.rebate_months,
        ledger=tuple(ledger),
        stopped=state.stopped,
        last_change_at=state.last_change_at,
    )


@dataclass(frozen=True, slots=True)
class DueOnTwentieth:
    """What one 20th brings a card: points granted per pool and 平日朝夕割引 rebate credited.

    Attributes:
        on: the 20th.
        points: pool key → points granted then (pools with none are left out).
        rebate: 朝夕割 rebate credited then, yen.
    """

    on: dt.date
    points: Mapping[str, int]
    rebate: int


def due_on_twentieth(state: CardState, on: dt.date) -> DueOnTwentieth:
    """What the 20th ``on`` (after ``state.as_of``) brings for the trips replayed in ``state``.

    The grant and the 朝夕割 credit of a month depend only on its trips, so this is what a
    replay up to ``on`` shows at 00:00 that day — as long as no trip of the month before ``on``
    exits after ``state.as_of`` (such a trip is not in the state).
    """
    points: dict[str, int] = {}
    for pool, earnings in state.earnings.items():
        for earning in earnings:
            if not earning.granted and earning.grant_on == on and earning.points > 0:
                points[pool] = points.get(pool, 0) + earning.points
    rebate = sum(month.total for month in state.pending_morning_evening if month.credit_on == on)
    return DueOnTwentieth(on, points, rebate)


def state_at_end_of(card: CardInput, rules: Rules, as_of: dt.date) -> CardState:
    """The card's state at the end of the day ``as_of`` (what the site shows that night)."""
    return replay(card, rules, end_of_day(as_of))
