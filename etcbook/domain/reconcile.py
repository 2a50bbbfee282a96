"""月次照合 (monthly reconciliation): etcbook's figures beside the site's and the card's, and why
they differ.

For one card and one month (the month of the trips' exit times), :func:`reconcile` puts side by
side

- the rebate equation ``opening + exchanged + 朝夕割 + adjustments − applied = closing``
  (還元額, balance at 00:00 of the 1st and at the end of the month),
- the card equation ``Σ billed of the month's trips = card statement ETC total``,
- the points each pool should grant for the month's trips on the 20th of the next month,

with what the user read on the ETCマイレージ site and the card statement (each optional). Every
difference is then explained by findings, tried in the order of DOMAIN.md §6 / issue 7:

1. 朝夕割 credited next month (``morning_evening_next_month``),
2. the 20th not reached or shown late (``grant_pending``),
3. per-trip rounding (``rounding``),
4. trips within 30 minutes of midnight at a month end — the exit time decides (``month_boundary``),
5. the card-switch night (``card_switch_night``),
6. trips of another card (``other_card``),
7. 確認中 amounts that may still change (``provisional``),
8. an exchange not recorded (``unrecorded_exchange``).

A finding names the trips and amounts involved and how much of the difference it explains;
what no finding explains is reported as unexplained. When several combinations of findings
explain a difference exactly, the one relying least on 確認中 amounts is chosen, then the one
with fewest findings, then the one using the earliest causes in the order above. When none
explains it exactly, only findings of a fixed amount that fit inside the difference are kept.

Everything here is pure: the store and the mileage engine provide a :class:`MonthFacts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import gcd
from typing import Literal

from etcbook.domain.points import ExchangeUnit

BOUNDARY_MINUTES = 30
"""Trips exiting this close to midnight at a month end may be booked in the other month."""

GRANT_SHOWN_LATE_DAYS = 2
"""The site may show the 20th's grants and credits this many days late (DOMAIN.md §3)."""

MAX_SUBSET_ITEMS = 40
"""At most this many candidate trips are searched for a combination matching a difference."""

MAX_SUBSET_STATES = 200_000
"""Bound on the partial sums kept while searching trip combinations."""

FindingKind = Literal[
    "opening_difference",
    "morning_evening_next_month",
    "grant_pending",
    "rounding",
    "month_boundary",
    "card_switch_night",
    "other_card",
    "provisional",
    "unrecorded_exchange",
]

FINDING_ORDER: tuple[FindingKind, ...] = (
    "opening_difference",
    "morning_evening_next_month",
    "grant_pending",
    "rounding",
    "month_boundary",
    "card_switch_night",
    "other_card",
    "provisional",
    "unrecorded_exchange",
)
"""The order causes are tried in (``opening_difference`` is arithmetic: the opening's difference
carried into the closing)."""

FINDING_LABELS: Mapping[FindingKind, str] = {
    "opening_difference": "月初残高の差の持ち越し",
    "morning_evening_next_month": "朝夕割は翌月20日付与",
    "grant_pending": "20日前・反映遅れ",
    "rounding": "1走行ごとの端数切り捨て",
    "month_boundary": "月末0時前後の走行（出口時刻で判定）",
    "card_switch_night": "カード切替の夜",
    "other_card": "別カードの走行",
    "provisional": "確認中の金額",
    "unrecorded_exchange": "記録のないポイント交換",
}
"""Japanese label of each finding kind (window, memo)."""

DifferenceKey = Literal[
    "rebate_opening", "rebate_closing", "statement_total", "points", "rebate_inferred"
]

DIFFERENCE_LABELS: Mapping[DifferenceKey, str] = {
    "rebate_opening": "還元額の月初残高",
    "rebate_closing": "還元額の月末残高",
    "statement_total": "カード請求のETC合計",
    "points": "付与ポイント",
    "rebate_inferred": "明細から推定した記録外の還元額",
}

Unit = Literal["yen", "points"]


# --- facts -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TripLine:
    """走行 as reconciliation sees it: the stored trip with the engine's figures.

    Attributes:
        trip_id: store id.
        card: カード末尾4桁 of the card it was made with.
        exit_at: exit time (decides the day and month); the entry time for a charge at an
            entry gate, which has no exit.
        entry_at: entry time, None for a single mainline gate.
        entry_ic: entry IC name, None or empty for a mainline gate.
        exit_ic: exit IC (or gate) name.
        toll: 通行料金, yen.
        rebate_applied: 還元額充当, yen.
        billed: 差引後請求額 = toll − rebate applied.
        points: base points expected for the trip (floored per trip).
        pool: pool the trip earns into, None when it earns nothing.
        yen_per_unit: earning unit of the trip's operator (10 for NEXCO), 0 when it earns nothing.
        points_per_unit: points per full unit.
        provisional: the statement row is 確認中 (its amounts may still change).
        registered: the trip counts on the mileage registration (False for a new card's trip
            before its 登録カード変更 takes effect, or an old card's after it; ``points`` is
            then what it would have earned).
    """

    trip_id: int
    card: str
    exit_at: dt.datetime
    entry_at: dt.datetime | None
    entry_ic: str | None
    exit_ic: str
    toll: int
    rebate_applied: int
    billed: int
    points: int = 0
    pool: str | None = None
    yen_per_unit: int = 0
    points_per_unit: int = 0
    provisional: bool = False
    registered: bool = True


@dataclass(frozen=True, slots=True)
class RebateFlow:
    """The rebate (還元額) equation of one month, as etcbook computes it.

    Attributes:
        opening: balance at 00:00 of the 1st.
        exchanged: credited by manual and automatic exchanges.
        morning_evening: credited by 平日朝夕割引 (the previous month's, on the 20th).
        adjustments: signed manual rebate adjustments (campaigns, corrections).
        inferred: credits inferred from the file's 還元額適用料金 beyond the known balance.
        applied: used by trips.
        closing: balance at the end of the month.
    """

    opening: int = 0
    exchanged: int = 0
    morning_evening: int = 0
    adjustments: int = 0
    inferred: int = 0
    applied: int = 0
    closing: int = 0


@dataclass(frozen=True, slots=True)
class MorningEveningCredit:
    """平日朝夕割引 of one exit month, credited on the 20th of the next month.

    Attributes:
        month: first day of the exit month.
        credit_on: the 20th it is (or will be) credited on.
        percent: 0, 30 or 50.
        eligible: (trip id, eligible amount) of each counted trip, in exit order.
        credits: (trip id, yen) per counted trip, floored per trip.
        trips: the counted trips (to name them).
    """

    month: dt.date
    credit_on: dt.date
    percent: int
    eligible: tuple[tuple[int, int], ...] = ()
    credits: tuple[tuple[int, int], ...] = ()
    trips: tuple[TripLine, ...] = ()

    @property
    def total(self) -> int:
        """Rebate credited for the month."""
        return sum(yen for _, yen in self.credits)


@dataclass(frozen=True, slots=True)
class PoolExpectation:
    """Points one pool should grant for the month's trips.

    Attributes:
        pool: pool key.
        name: Japanese name of the pool.
        base: sum of the trips' base points.
        bonus: monthly bonus (加算ポイント).
        grant_on: the 20th of the next month.
    """

    pool: str
    name: str
    base: int
    bonus: int
    grant_on: dt.date

    @property
    def total(self) -> int:
        """Base plus bonus points."""
        return self.base + self.bonus


@dataclass(frozen=True, slots=True)
class ExchangeGrid:
    """A pool's manual exchange grid and how many points the card could have exchanged.

    Attributes:
        pool: pool key.
        name: Japanese name.
        units: manual exchange units (交換単位).
        points_available: the most points the pool held during the month (upper bound).
    """

    pool: str
    name: str
    units: tuple[ExchangeUnit, ...]
    points_available: int


@dataclass(frozen=True, slots=True)
class CardChange:
    """登録カード変更: from ``old_card`` to ``new_card``, taking effect at ``effective_at``.

    Attributes:
        old_card: カード末尾4桁 of the old card.
        new_card: カード末尾4桁 of the new card.
        registered_at: when the change was made (受付).
        effective_at: 00:00 of the next day.
    """

    old_card: str
    new_card: str
    registered_at: dt.datetime
    effective_at: dt.datetime


@dataclass(frozen=True, slots=True)
class MonthFacts:
    """Everything reconciliation needs about one card and month, from the store and the engine.

    Attributes:
        card: カード末尾4桁.
        month: first day of the month.
        as_of: the date the site and card figures were read (decides "the 20th not reached").
        trips: the card's trips exiting in the month, in exit order.
        boundary_trips: the card's trips of the adjacent months within
            :data:`BOUNDARY_MINUTES` of the month's edges.
        other_trips: trips of other cards in the month that could be mixed in (same holder,
            household or mileage ID first).
        switch_trips: trips of the card and of its linked cards around a card-switch night.
        card_changes: card changes involving the card.
        rebate: the computed rebate equation.
        pools: expected grants per pool for the month's trips.
        morning_evening: 朝夕割 of the month's trips (credited next month), None if none.
        morning_evening_previous: 朝夕割 of the previous month (credited on the 20th of this
            month), None if none.
        twentieth_credit: rebate credited on the 20th of the month (朝夕割 and auto-exchange).
        grids: exchange grids of the pools the card holds points in.
        inferred: (trip id, yen) rebate inferred from the file in the month.
    """

    card: str
    month: dt.date
    as_of: dt.date
    trips: tuple[TripLine, ...] = ()
    boundary_trips: tuple[TripLine, ...] = ()
    other_trips: tuple[TripLine, ...] = ()
    switch_trips: tuple[TripLine, ...] = ()
    card_changes: tuple[CardChange, ...] = ()
    rebate: RebateFlow = field(default_factory=RebateFlow)
    pools: tuple[PoolExpectation, ...] = ()
    morning_evening: MorningEveningCredit | None = None
    morning_evening_previous: MorningEveningCredit | None = None
    twentieth_credit: int = 0
    grids: tuple[ExchangeGrid, ...] = ()
    inferred: tuple[tuple[int, int], ...] = ()

    @property
    def billed_total(self) -> int:
        """Σ billed of the month's trips."""
        return sum(trip.billed for trip in self.trips)


@dataclass(frozen=True, slots=True)
class Reported:
    """What the user read on the site and the card statement; every figure is optional.

    Attributes:
        rebate_opening: 還元額 at the start of the month.
        rebate_closing: 還元額 at the end of the month.
        statement_total: the card statement's ETC total for the month.
        points: pool → points granted for the month's trips (on the 20th of the next month).
    """

    rebate_opening: int | None = None
    rebate_closing: int | None = None
    statement_total: int | None = None
    points: Mapping[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Nothing was reported."""
        return (
            self.rebate_opening is None
            and self.rebate_closing is None
            and self.statement_total is None
            and not self.points
        )


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingTrip:
    """A trip named by a finding, with its part of the finding's amount.

    Attributes:
        trip_id: store id.
        card: card it was made with.
        exit_at: exit time.
        entry_ic: entry IC, None for a mainline gate.
        exit_ic: exit IC.
        billed: its billed amount.
        amount: its contribution, in the finding's unit (signed like the finding); for
            ``rounding``, the yen below the earning unit that earned nothing.
    """

    trip_id: int
    card: str
    exit_at: dt.datetime
    entry_ic: str | None
    exit_ic: str
    billed: int
    amount: int


@dataclass(frozen=True, slots=True)
class Finding:
    """One explanation of (part of) a difference.

    Attributes:
        kind: the cause (see :data:`FINDING_ORDER`).
        difference: which difference it explains.
        pool: the pool, for a points difference.
        amount: the part of the difference it explains (signed like ``reported − computed``).
        unit: ``yen`` or ``points``.
        trips: the trips involved, with their parts.
        message: Japanese explanation naming trips and amounts.
        certain: False when it only may explain the difference (確認中 amounts, an exchange the
            recorded points could not have paid for).
    """

    kind: FindingKind
    difference: DifferenceKey
    pool: str | None
    amount: int
    unit: Unit
    trips: tuple[FindingTrip, ...]
    message: str
    certain: bool = True


@dataclass(frozen=True, slots=True)
class Difference:
    """``reported − computed`` of one figure, and what findings left unexplained.

    Attributes:
        key: which figure.
        pool: the pool, for points.
        reported: what the user read.
        computed: what etcbook computes.
        unit: ``yen`` or ``points``.
        unexplained: the part no finding explains.
    """

    key: DifferenceKey
    pool: str | None
    reported: int
    computed: int
    unit: Unit
    unexplained: int

    @property
    def amount(self) -> int:
        """``reported − computed``."""
        return self.reported - self.computed


@dataclass(frozen=True, slots=True)
class Equation:
    """One equation shown side by side: etcbook's terms and result, and the reported result.

    Attributes:
        key: ``rebate``, ``statement`` or ``points:<pool>``.
        label: Japanese title.
        text: the computed equation written out (``開始 … + 交換 … − 充当 … = 月末 …``).
        computed: the computed result.
        reported: the reported result, or None.
        unit: ``yen`` or ``points``.
    """

    key: str
    label: str
    text: str
    computed: int
    reported: int | None
    unit: Unit


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The reconciliation of one card and month.

    Attributes:
        card: カード末尾4桁.
        month: first day of the month.
        facts: the computed side.
        reported: the reported side.
        equations: the equations side by side.
        differences: every non-zero difference, in a fixed order.
        findings: explanations, grouped by difference, in the order causes are tried.
    """

    card: str
    month: dt.date
    facts: MonthFacts
    reported: Reported
    equations: tuple[Equation, ...]
    differences: tuple[Difference, ...]
    findings: tuple[Finding, ...]

    @property
    def balanced(self) -> bool:
        """Every difference is fully explained (or there is none)."""
        return all(d.unexplained == 0 for d in self.differences)

    def unexplained(self, key: DifferenceKey, pool: str | None = None) -> int:
        """The unexplained part of a difference (0 when there is none)."""
        for difference in self.differences:
            if difference.key == key and difference.pool == pool:
                return difference.unexplained
        return 0


# --- formatting ------------------------------------------------------------------------------


def yen_text(amount: int) -> str:
    """``1,234円`` / ``−1,234円`` (a true minus sign for negative amounts)."""
    return f"−{-amount:,}円" if amount < 0 else f"{amount:,}円"


def signed_yen_text(amount: int) -> str:
    """``+1,234円`` / ``−1,234円`` / ``0円``."""
    if amount > 0:
        return f"+{amount:,}円"
    return yen_text(amount)


def points_text(points: int) -> str:
    """``1,234P`` / ``−12P``."""
    return f"−{-points:,}P" if points < 0 else f"{points:,}P"


def amount_text(amount: int, unit: Unit) -> str:
    """An amount in its unit."""
    return yen_text(amount) if unit == "yen" else points_text(amount)


def month_text(month: dt.date) -> str:
    """``2025年7月``."""
    return f"{month.year}年{month.month}月"


def day_text(day: dt.date) -> str:
    """``7月20日``."""
    return f"{day.month}月{day.day}日"


def trip_label(trip: TripLine | FindingTrip) -> str:
    """``7/31 23:55 厚木→横浜町田``: short reference to a trip inside a message."""
    entry = trip.entry_ic or "本線"
    return f"{trip.exit_at:%m/%d %H:%M} {entry}→{trip.exit_ic}".lstrip("0")


def _trips_text(trips: Sequence[FindingTrip], unit: Unit, limit: int = 5) -> str:
    parts = [f"{trip_label(t)}（ID {t.trip_id}、{amount_text(t.amount, unit)}）" for t in trips]
    if len(parts) > limit:
        parts = [*parts[:limit], f"ほか{len(parts) - limit}件"]
    return "、".join(parts)


def _finding_trip(trip: TripLine, amount: int) -> FindingTrip:
    return FindingTrip(
        trip.trip_id, trip.card, trip.exit_at, trip.entry_ic, trip.exit_ic, trip.billed, amount
    )


# --- month helpers ---------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    """First day of ``day``'s month."""
    return dt.date(day.year, day.month, 1)


def add_months(month: dt.date, months: int) -> dt.date:
    """First day of the month ``months`` after ``month``'s month."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """00:00 of the 1st and 00:00 of the next month's 1st."""
    start = month_start(month)
    end = add_months(start, 1)
    return dt.datetime(start.year, start.month, 1), dt.datetime(end.year, end.month, 1)


def near_month_edge(exit_at: dt.datetime, month: dt.date) -> bool:
    """The exit is within :data:`BOUNDARY_MINUTES` of the start or the end of ``month``."""
    start, end = month_bounds(month)
    window = dt.timedelta(minutes=BOUNDARY_MINUTES)
    return any(abs(exit_at - edge) < window for edge in (start, end))


# --- the search ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kind:
    """The options one cause offers for one difference.

    ``fixed`` are findings of a known amount; ``solve(r)`` returns a finding explaining exactly
    ``r`` (a combination of trips, a possible exchange, ...) or None.
    """

    kind: FindingKind
    fixed: tuple[Finding, ...] = ()
    solve: Callable[[int], Finding | None] | None = None


@dataclass(frozen=True, slots=True)
class _Choice:
    findings: tuple[Finding, ...]
    remaining: int


def _score(choice: _Choice) -> tuple[int, int, tuple[int, ...]]:
    """Least reliance on uncertain findings, then fewest findings, then earliest causes."""
    uncertain = sum(abs(f.amount) for f in choice.findings if not f.certain)
    order = tuple(FINDING_ORDER.index(f.kind) for f in choice.findings)
    return (uncertain, len(choice.findings), order)


def _explain(difference: int, kinds: Sequence[_Kind]) -> _Choice:
    """The best combination of at most one option per cause explaining ``difference``."""
    if difference == 0:
        return _Choice((), 0)
    cache: dict[tuple[int, int], Finding | None] = {}
    exact: list[_Choice] = []
    partial: list[_Choice] = []
    sign = 1 if difference > 0 else -1

    def solve(index: int, remaining: int) -> Finding | None:
        key = (index, remaining)
        if key not in cache:
            solver = kinds[index].solve
            cache[key] = None if solver is None else solver(remaining)
        return cache[key]

    def walk(index: int, remaining: int, chosen: tuple[Finding, ...], fits: bool) -> None:
        if remaining == 0:
            exact.append(_Choice(chosen, 0))
            return
        if index == len(kinds):
            if fits and chosen:
                partial.append(_Choice(chosen, remaining))
            return
        kind = kinds[index]
        for option in kind.fixed:
            if option.amount == 0:
                continue
            left = remaining - option.amount
            still_fits = fits and option.certain and option.amount * sign > 0 and left * sign >= 0
            walk(index + 1, left, (*chosen, option), still_fits)
        if kind.solve is not None:
            found = solve(index, remaining)
            if found is not None:
                exact.append(_Choice((*chosen, found), 0))
        walk(index + 1, remaining, chosen, fits)

    walk(0, difference, (), True)
    if exact:
        return min(exact, key=_score)
    if partial:
        return min(partial, key=lambda c: (abs(c.remaining), *_score(c)))
    return _Choice((), difference)


def find_subset(items: Sequence[tuple[int, int]], target: int) -> tuple[int, ...] | None:
    """Indexes of the fewest ``items`` (index key, signed amount) whose amounts sum to ``target``.

    Items with a zero amount are ignored. At most :data:`MAX_SUBSET_ITEMS` items are searched
    (those given first); the search keeps at most :data:`MAX_SUBSET_STATES` partial sums and
    returns None when it finds no combination within those bounds.
    """
    if target == 0:
        return None
    usable = [(key, amount) for key, amount in items if amount != 0][:MAX_SUBSET_ITEMS]
    for key, amount in usable:
        if amount == target:
            return (key,)
    positive = all(amount > 0 for _, amount in usable)
    negative = all(amount < 0 for _, amount in usable)
    # partial sum -> the shortest tuple of keys reaching it
    states: dict[int, tuple[int, ...]] = {0: ()}
    for key, amount in usable:
        additions: dict[int, tuple[int, ...]] = {}
        for total, keys in states.items():
            new_total = total + amount
            if (positive and new_total > target > 0) or (negative and new_total < target < 0):
                continue
            known = states.get(new_total) or additions.get(new_total)
            if known is None or len(known) > len(keys) + 1:
                additions[new_total] = (*keys, key)
        states.update(additions)
        if len(states) > MAX_SUBSET_STATES:
            return states.get(target) or None
    return states.get(target) or None


def cheapest_exchange(
    yen: int, units: Sequence[ExchangeUnit]
) -> tuple[int, tuple[ExchangeUnit, ...]] | None:
    """The fewest points a combination of ``units`` worth exactly ``yen`` takes, and the units.

    None when no combination of the grid is worth exactly ``yen``.
    """
    grid = sorted({unit for unit in units if unit.yen > 0}, key=lambda u: (u.yen, u.points))
    if yen <= 0 or not grid:
        return None
    step = 0
    for unit in grid:
        step = gcd(step, unit.yen)
    if yen % step:
        return None
    size = yen // step
    best: list[int | None] = [None] * (size + 1)
    last: list[int] = [-1] * (size + 1)
    best[0] = 0
    for reached in range(1, size + 1):
        for i, unit in enumerate(grid):
            width = unit.yen // step
            if width > reached:
                continue
            before = best[reached - width]
            if before is None:
                continue
            candidate = before + unit.points
            current = best[reached]
            if current is None or candidate < current:
                best[reached] = candidate
                last[reached] = i
    points = best[size]
    if points is None:
        return None
    chosen: list[ExchangeUnit] = []
    reached = size
    while reached > 0:
        unit = grid[last[reached]]
        chosen.append(unit)
        reached -= unit.yen // step
    return points, tuple(sorted(chosen, key=lambda u: -u.points))


def _units_text(units: Sequence[ExchangeUnit]) -> str:
    counts: dict[ExchangeUnit, int] = {}
    for unit in units:
        counts[unit] = counts.get(unit, 0) + 1
    return "＋".join(
        f"{u.points:,}P→{u.yen:,}円" + (f"×{n}" if n > 1 else "") for u, n in counts.items()
    )


# --- causes ----------------------------------------------------------------------------------


class _Causes:
    """Builds each cause's options for each difference of one card and month."""

    def __init__(self, facts: MonthFacts) -> None:
        self.facts = facts
        self.month = facts.month
        self.month_name = month_text(facts.month)

    # 1. 朝夕割 credited next month ----------------------------------------------------------

    def morning_evening(self, key: DifferenceKey) -> _Kind:
        facts = self.facts
        options: list[Finding] = []
        this, previous = facts.morning_evening, facts.morning_evening_previous
        if key == "rebate_closing" and this is not None and this.total:
            options.append(
                self._me_finding(
                    key,
                    this,
                    this.total,
                    f"{self.month_name}の平日朝夕割引 {yen_text(this.total)}"
                    f"（{len(this.credits)}回・{this.percent}%）は{day_text(this.credit_on)}に"
                    "還元額として付与されます。サイトの月末残高はその付与後に読まれたため、"
                    "etcbookの月末残高より多くなっています。",
                )
            )
        if key == "rebate_opening" and previous is not None and previous.total:
            options.append(
                self._me_finding(
                    key,
                    previous,
                    previous.total,
                    f"{month_text(previous.month)}の平日朝夕割引 {yen_text(previous.total)}は"
                    f"{day_text(previous.credit_on)}の付与です。月初残高に含めて読まれたため、"
                    "etcbookの月初残高より多くなっています。",
                )
            )
        if key == "statement_total" and this is not None and this.total:
            options.append(
                self._me_finding(
                    key,
                    this,
                    -this.total,
                    f"平日朝夕割引はその場の割引ではありません。{self.month_name}分 "
                    f"{yen_text(this.total)}は{day_text(this.credit_on)}に還元額として付与され、"
                    "当月のカード請求は減りません。請求額から朝夕割を差し引いた数字と比べています。",
                )
            )
        return _Kind("morning_evening_next_month", tuple(options))

    def _me_finding(
        self, key: DifferenceKey, credit: MorningEveningCredit, amount: int, message: str
    ) -> Finding:
        trips = {trip.trip_id: trip for trip in self._all_trips()}
        sign = 1 if amount > 0 else -1
        named = tuple(
            _finding_trip(trips[trip_id], sign * yen)
            for trip_id, yen in credit.credits
            if trip_id in trips
        )
        return Finding("morning_evening_next_month", key, None, amount, "yen", named, message, True)

    def _all_trips(self) -> Iterable[TripLine]:
        facts = self.facts
        yield from facts.trips
        for credit in (facts.morning_evening, facts.morning_evening_previous):
            if credit is not None:
                yield from credit.trips

    # 2. the 20th not reached or shown late ---------------------------------------------------

    def grant_pending(self, key: DifferenceKey, pool: PoolExpectation | None) -> _Kind:
        facts = self.facts
        if key == "points" and pool is not None and pool.total > 0:
            if facts.as_of < pool.grant_on:
                why = (
                    f"{self.month_name}の走行分のポイントは{day_text(pool.grant_on)}に付与されます。"
                    f"照合日（{day_text(facts.as_of)}）にはまだ付与されていません。"
                )
            elif facts.as_of <= pool.grant_on + dt.timedelta(days=GRANT_SHOWN_LATE_DAYS):
                why = (
                    f"{self.month_name}の走行分のポイントは{day_text(pool.grant_on)}付与ですが、"
                    "サイトの表示は1〜2日遅れることがあります。"
                )
            else:
                return _Kind("grant_pending")
            trips = tuple(
                _finding_trip(t, -t.points)
                for t in facts.trips
                if t.registered and t.pool == pool.pool and t.points
            )
            message = (
                f"{why}{pool.name}の{points_text(pool.total)}（基本{points_text(pool.base)}"
                + (f"・加算{points_text(pool.bonus)}" if pool.bonus else "")
            )
            message += "）がサイトにまだありません。"
            return _Kind(
                "grant_pending",
                (Finding("grant_pending", key, pool.pool, -pool.total, "points", trips, message),),
            )
        if key == "rebate_closing" and facts.twentieth_credit:
            twentieth = facts.month.replace(day=20)
            if facts.as_of <= twentieth + dt.timedelta(days=GRANT_SHOWN_LATE_DAYS):
                message = (
                    f"{day_text(twentieth)}の還元額の付与（朝夕割・自動還元 "
                    f"{yen_text(facts.twentieth_credit)}）がサイトにまだ反映されていない時点の"
                    "残高です。"
                )
                return _Kind(
                    "grant_pending",
                    (
                        Finding(
                            "grant_pending", key, None, -facts.twentieth_credit, "yen", (), message
                        ),
                    ),
                )
        return _Kind("grant_pending")

    # 3. per-trip rounding ----------------------------------------------------------------------

    def rounding(self, key: DifferenceKey, pool: PoolExpectation | None) -> _Kind:
        options: list[Finding] = []
        if key == "points" and pool is not None:
            trips = [
                t for t in self.facts.trips if t.registered and t.pool == pool.pool and t.billed > 0
            ]
            options.extend(self._points_rounding(pool, trips))
        if key == "rebate_closing":
            previous = self.facts.morning_evening_previous
            if previous is not None and previous.percent:
                finding = self._morning_evening_rounding(previous)
                if finding is not None:
                    options.append(finding)
        return _Kind("rounding", tuple(options))

    def _points_rounding(self, pool: PoolExpectation, trips: Sequence[TripLine]) -> list[Finding]:
        found: list[Finding] = []
        by_rate: dict[tuple[int, int], list[TripLine]] = {}
        for trip in trips:
            if trip.yen_per_unit > 0:
                by_rate.setdefault((trip.yen_per_unit, trip.points_per_unit), []).append(trip)
        if not by_rate:
            return found
        # the month's billed total floored once, against the per-trip floors
        on_total = sum(
            sum(t.billed for t in group) // unit * per for (unit, per), group in by_rate.items()
        )
        per_trip = sum(t.points for t in trips)
        delta = on_total - per_trip
        if delta:
            named = tuple(
                _finding_trip(t, t.billed % t.yen_per_unit)
                for t in trips
                if t.yen_per_unit and t.billed % t.yen_per_unit
            )
            units = "、".join(f"{unit}円につき{per}P" for unit, per in sorted(by_rate))
            lost = sum(t.billed % t.yen_per_unit for t in trips if t.yen_per_unit)
            found.append(
                Finding(
                    "rounding",
                    "points",
                    pool.pool,
                    delta,
                    "points",
                    named,
                    f"{pool.name}のポイントは1走行ごとに切り捨てです（{units}）。"
                    f"{len(named)}件の端数 計{yen_text(lost)}にはポイントが付きません。"
                    f"月合計で計算した数字との差 {points_text(delta)}はこの端数です"
                    f"（{_trips_text(named, 'yen')}）。",
                )
            )
        # rows sharing one exit time (one trip crossing operators) floored together
        groups: dict[dt.datetime, list[TripLine]] = {}
        for trip in trips:
            groups.setdefault(trip.exit_at, []).append(trip)
        merged = 0
        involved: list[TripLine] = []
        for rows in groups.values():
            rates = {(t.yen_per_unit, t.points_per_unit) for t in rows}
            if len(rows) < 2 or len(rates) != 1:
                merged += sum(t.points for t in rows)
                continue
            (unit, per) = rates.pop()
            merged += sum(t.billed for t in rows) // unit * per
            involved.extend(rows)
        delta_rows = merged - per_trip
        if delta_rows and delta_rows != delta:
            named = tuple(_finding_trip(t, t.billed % t.yen_per_unit) for t in involved)
            found.append(
                Finding(
                    "rounding",
                    "points",
                    pool.pool,
                    delta_rows,
                    "points",
                    named,
                    f"同じ出口時刻の明細行（1回の走行）をまとめて切り捨てた数字との差 "
                    f"{points_text(delta_rows)}です。etcbookは明細1行ごとに切り捨てています"
                    f"（{_trips_text(named, 'yen')}）。",
                )
            )
        return found

    def _morning_evening_rounding(self, credit: MorningEveningCredit) -> Finding | None:
        eligible_total = sum(amount for _, amount in credit.eligible)
        on_total = eligible_total * credit.percent // 100
        delta = on_total - credit.total
        if not delta:
            return None
        trips = {t.trip_id: t for t in self._all_trips()}
        named = tuple(
            _finding_trip(trips[trip_id], amount * credit.percent % 100)
            for trip_id, amount in credit.eligible
            if trip_id in trips and amount * credit.percent % 100
        )
        return Finding(
            "rounding",
            "rebate_closing",
            None,
            delta,
            "yen",
            named,
            f"{month_text(credit.month)}の平日朝夕割引（{credit.percent}%）は1走行ごとに"
            f"円未満を切り捨てて{yen_text(credit.total)}です。対象額の合計"
            f"{yen_text(eligible_total)}から一度に計算すると{yen_text(on_total)}で、"
            f"差 {signed_yen_text(delta)}は端数の扱いの違いです。",
        )

    # 4. month-end midnight trips ---------------------------------------------------------------

    def month_boundary(self, key: DifferenceKey, pool: PoolExpectation | None) -> _Kind:
        if key not in ("statement_total", "points"):
            return _Kind("month_boundary")
        start, end = month_bounds(self.month)
        items: list[tuple[TripLine, int]] = []
        for trip in self.facts.trips:
            if near_month_edge(trip.exit_at, self.month):
                value = self._value(trip, key, pool)
                items.append((trip, -value))
        for trip in self.facts.boundary_trips:
            value = self._value(trip, key, pool)
            items.append((trip, value))
        if not items:
            return _Kind("month_boundary")
        month_name = self.month_name

        def describe(chosen: Sequence[tuple[TripLine, int]], unit: Unit) -> str:
            inside = [f for f, v in chosen if start <= f.exit_at < end]
            outside = [f for f, v in chosen if not start <= f.exit_at < end]
            parts = []
            if inside:
                parts.append(
                    "出口が"
                    + month_name
                    + "の走行"
                    + "、".join(f"{trip_label(t)}（ID {t.trip_id}）" for t in inside)
                    + "が隣の月に計上されています"
                )
            if outside:
                parts.append(
                    "出口が隣の月の走行"
                    + "、".join(f"{trip_label(t)}（ID {t.trip_id}）" for t in outside)
                    + f"が{month_name}に計上されています"
                )
            return "月末の0時前後の走行は出口の時刻で月が決まります。" + "。".join(parts) + "。"

        return _Kind(
            "month_boundary",
            solve=self._subset_solver("month_boundary", key, pool, items, describe),
        )

    def _value(self, trip: TripLine, key: DifferenceKey, pool: PoolExpectation | None) -> int:
        if key == "statement_total":
            return trip.billed
        if pool is not None and trip.pool == pool.pool:
            return trip.points
        return 0

    def _subset_solver(
        self,
        kind: FindingKind,
        key: DifferenceKey,
        pool: PoolExpectation | None,
        items: Sequence[tuple[TripLine, int]],
        describe: Callable[[Sequence[tuple[TripLine, int]], Unit], str],
        certain: bool = True,
    ) -> Callable[[int], Finding | None]:
        unit: Unit = "points" if key == "points" else "yen"
        indexed = [(i, value) for i, (_, value) in enumerate(items)]

        def solve(remaining: int) -> Finding | None:
            chosen = find_subset(indexed, remaining)
            if chosen is None:
                return None
            picked = [items[i] for i in chosen]
            picked.sort(key=lambda item: (item[0].exit_at, item[0].trip_id))
            trips = tuple(_finding_trip(trip, value) for trip, value in picked)
            message = describe(picked, unit)
            message += f"合わせて{amount_text(remaining, unit)}（{_trips_text(trips, unit)}）。"
            return Finding(
                kind,
                key,
                None if pool is None else pool.pool,
                remaining,
                unit,
                trips,
                message,
                certain,
            )

        return solve

    # 5. the card-switch night ----------------------------------------------------------------

    def card_switch_night(self, key: DifferenceKey, pool: PoolExpectation | None) -> _Kind:
        facts = self.facts
        if key not in ("statement_total", "points") or not facts.card_changes:
            return _Kind("card_switch_night")
        items: list[tuple[TripLine, int]] = []
        notes: list[str] = []
        seen: set[int] = set()
        start, end = month_bounds(self.month)
        for change in facts.card_changes:
            night_start = dt.datetime.combine(change.registered_at.date(), dt.time())
            night_end = change.effective_at + dt.timedelta(days=1)
            notes.append(
                f"登録カード変更（末尾{change.old_card}→{change.new_card}、"
                f"{change.registered_at:%m/%d %H:%M}受付、"
                f"{change.effective_at:%m/%d %H:%M}から新カード）"
            )
            for trip in (*facts.trips, *facts.switch_trips):
                if trip.trip_id in seen or not night_start <= trip.exit_at < night_end:
                    continue
                if not start <= trip.exit_at < end:
                    continue
                seen.add(trip.trip_id)
                value = self._value(trip, key, pool)
                if key == "points":
                    # etcbook counts the registered trips; the site may have counted otherwise
                    items.append((trip, -value if trip.registered else value))
                else:
                    # the statement is the card's own: the other card's trips may be on it
                    items.append((trip, -value if trip.card == facts.card else value))
        if not items:
            return _Kind("card_switch_night")
        head = "、".join(notes)

        def describe(chosen: Sequence[tuple[TripLine, int]], unit: Unit) -> str:
            def names(trips: Sequence[TripLine]) -> str:
                return "、".join(f"{trip_label(t)}（末尾{t.card}、ID {t.trip_id}）" for t in trips)

            parts = []
            if key == "points":
                counted = [t for t, _ in chosen if t.registered]
                missed = [t for t, _ in chosen if not t.registered]
                if counted:
                    parts.append(
                        f"etcbookが計上した走行{names(counted)}がサイトでは計上されていません"
                    )
                if missed:
                    parts.append(
                        f"登録外としてetcbookが計上しなかった走行{names(missed)}がサイトでは計上されています"
                    )
            else:
                mine = [t for t, _ in chosen if t.card == facts.card]
                theirs = [t for t, _ in chosen if t.card != facts.card]
                if mine:
                    parts.append(f"このカードの走行{names(mine)}が請求に含まれていません")
                if theirs:
                    parts.append(f"相手のカードの走行{names(theirs)}が請求に含まれています")
            return (
                f"{head}の夜は、変更翌日0:00までの走行が旧カードの扱いです。"
                + "。".join(parts)
                + "。"
            )

        return _Kind(
            "card_switch_night",
            solve=self._subset_solver("card_switch_night", key, pool, items, describe),
        )

    # 6. trips of another card ----------------------------------------------------------------

    def other_card(self, key: DifferenceKey, pool: PoolExpectation | None) -> _Kind:
        if key not in ("statement_total", "points") or not self.facts.other_trips:
            return _Kind("other_card")
        items = [
            (trip, self._value(trip, key, pool))
            for trip in self.facts.other_trips
            if self._value(trip, key, pool) > 0
        ]
        if not items:
            return _Kind("other_card")

        def describe(chosen: Sequence[tuple[TripLine, int]], unit: Unit) -> str:
            cards = sorted({t.card for t, _ in chosen})
            what = "カード請求" if key == "statement_total" else "サイトのポイント"
            return (
                f"{what}に別のカード（末尾{'・'.join(cards)}）の走行が含まれているようです。"
                "家族や別名義のカードは別の台帳です。"
            )

        return _Kind(
            "other_card", solve=self._subset_solver("other_card", key, pool, items, describe)
        )

    # 7. 確認中 amounts -----------------------------------------------------------------------

    def provisional(self, key: DifferenceKey, pool: PoolExpectation | None) -> _Kind:
        trips = [t for t in self.facts.trips if t.provisional]
        if key == "points" and pool is not None:
            trips = [t for t in trips if t.registered and t.pool == pool.pool]
            bound = sum(t.points for t in trips)
        elif key == "statement_total":
            bound = sum(abs(t.toll) for t in trips)
        elif key == "rebate_closing":
            trips = [t for t in trips if t.rebate_applied]
            bound = sum(t.rebate_applied for t in trips)
        else:
            return _Kind("provisional")
        if not trips or bound <= 0:
            return _Kind("provisional")
        unit: Unit = "points" if key == "points" else "yen"

        def solve(remaining: int) -> Finding | None:
            if abs(remaining) > bound:
                return None
            named = tuple(
                _finding_trip(
                    t,
                    t.points
                    if key == "points"
                    else t.rebate_applied
                    if key == "rebate_closing"
                    else t.toll,
                )
                for t in trips
            )
            message = (
                f"確認中の走行{len(trips)}件（{_trips_text(named, unit)}）の金額は確定時に"
                f"変わることがあります。差 {amount_text(remaining, unit)}はこの確定による変更の"
                "可能性があります。確定後の明細を取り込み直して確認してください。"
            )
            return Finding(
                "provisional",
                key,
                None if pool is None else pool.pool,
                remaining,
                unit,
                named,
                message,
                False,
            )

        return _Kind("provisional", solve=solve)

    # 8. an exchange not recorded -------------------------------------------------------------

    def exchange_for(
        self, yen: int
    ) -> tuple[ExchangeGrid, int, tuple[ExchangeUnit, ...], bool] | None:
        """The most plausible pool and units for an unrecorded exchange worth ``yen``."""
        best: tuple[ExchangeGrid, int, tuple[ExchangeUnit, ...], bool] | None = None
        for grid in self.facts.grids:
            found = cheapest_exchange(yen, grid.units)
            if found is None:
                continue
            points, units = found
            affordable = points <= grid.points_available
            candidate = (grid, points, units, affordable)
            if best is None or (affordable, -points) > (best[3], -best[1]):
                best = candidate
        return best

    def unrecorded_exchange(
        self, key: DifferenceKey, statement_left: int = 0, opening_left: int = 0
    ) -> _Kind:
        facts = self.facts
        inferred = sum(yen for _, yen in facts.inferred)
        if key not in ("rebate_closing", "rebate_opening"):
            return _Kind("unrecorded_exchange")
        extra_applied = -statement_left if statement_left < 0 and key == "rebate_closing" else 0
        carried = inferred if key == "rebate_closing" else 0

        def solve(remaining: int) -> Finding | None:
            yen = remaining + extra_applied + carried
            if yen <= 0:
                return None
            found = self.exchange_for(yen)
            if found is None:
                return None
            grid, points, units, affordable = found
            when = "この月" if key == "rebate_closing" else "前月以前"
            message = (
                f"{when}に記録されていないポイント交換があると考えられます: {grid.name} "
                f"{points:,}P→{yen_text(yen)}（{_units_text(units)}）。"
            )
            if extra_applied:
                message += (
                    f"その還元額のうち{yen_text(extra_applied)}はこの月の走行に充当され、"
                    "カード請求がその分少なくなっています。"
                )
            if carried:
                message += f"明細の還元額適用料金から推定した入金 {yen_text(carried)}もこの交換によるものです。"
            if not affordable:
                message += (
                    f"ただしetcbookの記録ではこの月の{grid.name}のポイントは最大"
                    f"{grid.points_available:,}Pで、交換には足りません（記録より前のポイントかもしれません）。"
                )
            message += "交換履歴の画面で確認し、etcbookにも交換を記録してください。"
            return Finding(
                "unrecorded_exchange", key, None, remaining, "yen", (), message, affordable
            )

        return _Kind("unrecorded_exchange", solve=solve)


# --- reconcile -------------------------------------------------------------------------------


def _rebate_equation(flow: RebateFlow, reported: Reported) -> Equation:
    text = (
        f"月初 {yen_text(flow.opening)} ＋ 交換 {yen_text(flow.exchanged)} ＋ 朝夕割 "
        f"{yen_text(flow.morning_evening)} ＋ 調整 {yen_text(flow.adjustments)}"
    )
    if flow.inferred:
        text += f" ＋ 推定入金 {yen_text(flow.inferred)}"
    text += f" − 充当 {yen_text(flow.applied)} ＝ 月末 {yen_text(flow.closing)}"
    return Equation(
        "rebate", "還元額（月末残高）", text, flow.closing, reported.rebate_closing, "yen"
    )


def _statement_equation(facts: MonthFacts, reported: Reported) -> Equation:
    toll = sum(t.toll for t in facts.trips)
    applied = sum(t.rebate_applied for t in facts.trips)
    text = (
        f"通行料金 {yen_text(toll)} − 還元額充当 {yen_text(applied)} ＝ 請求額合計 "
        f"{yen_text(facts.billed_total)}（{len(facts.trips)}件）"
    )
    return Equation(
        "statement",
        "カード請求（ETC合計）",
        text,
        facts.billed_total,
        reported.statement_total,
        "yen",
    )


def _points_equation(pool: PoolExpectation, reported: Reported) -> Equation:
    text = (
        f"基本 {points_text(pool.base)} ＋ 加算 {points_text(pool.bonus)} ＝ "
        f"{points_text(pool.total)}（{day_text(pool.grant_on)}付与）"
    )
    return Equation(
        f"points:{pool.pool}",
        f"ポイント（{pool.name}）",
        text,
        pool.total,
        reported.points.get(pool.pool),
        "points",
    )


def equations_for(facts: MonthFacts, reported: Reported) -> tuple[Equation, ...]:
    """The equations side by side: rebate, card statement, points per pool."""
    pools = {pool.pool: pool for pool in facts.pools}
    for key in reported.points:
        if key not in pools:
            pools[key] = PoolExpectation(key, key, 0, 0, add_months(facts.month, 1).replace(day=20))
    return (
        _rebate_equation(facts.rebate, reported),
        _statement_equation(facts, reported),
        *(_points_equation(pool, reported) for pool in pools.values()),
    )


def reconcile(
    facts: MonthFacts, reported: Reported, *, pool_names: Mapping[str, str] | None = None
) -> Reconciliation:
    """Compare ``reported`` with ``facts`` and explain every difference (see the module doc)."""
    causes = _Causes(facts)
    names = dict(pool_names or {})
    findings: list[Finding] = []
    differences: list[Difference] = []
    grant_on = add_months(facts.month, 1).replace(day=20)
    pools = {pool.pool: pool for pool in facts.pools}

    # points per pool
    for pool_key in sorted(set(reported.points), key=lambda k: (k not in pools, k)):
        pool = pools.get(pool_key) or PoolExpectation(
            pool_key, names.get(pool_key, pool_key), 0, 0, grant_on
        )
        value = reported.points[pool_key]
        if value == pool.total:
            continue
        kinds: tuple[_Kind, ...] = (
            causes.grant_pending("points", pool),
            causes.rounding("points", pool),
            causes.month_boundary("points", pool),
            causes.card_switch_night("points", pool),
            causes.other_card("points", pool),
            causes.provisional("points", pool),
        )
        choice = _explain(value - pool.total, kinds)
        findings.extend(choice.findings)
        differences.append(
            Difference("points", pool_key, value, pool.total, "points", choice.remaining)
        )

    # card statement
    statement_left = 0
    if reported.statement_total is not None and reported.statement_total != facts.billed_total:
        kinds = (
            causes.morning_evening("statement_total"),
            causes.month_boundary("statement_total", None),
            causes.card_switch_night("statement_total", None),
            causes.other_card("statement_total", None),
            causes.provisional("statement_total", None),
        )
        choice = _explain(reported.statement_total - facts.billed_total, kinds)
        findings.extend(choice.findings)
        statement_left = choice.remaining
        differences.append(
            Difference(
                "statement_total",
                None,
                reported.statement_total,
                facts.billed_total,
                "yen",
                choice.remaining,
            )
        )

    # rebate opening
    flow = facts.rebate
    opening_difference = 0
    if reported.rebate_opening is not None and reported.rebate_opening != flow.opening:
        opening_difference = reported.rebate_opening - flow.opening
        kinds = (
            causes.morning_evening("rebate_opening"),
            causes.unrecorded_exchange("rebate_opening"),
        )
        choice = _explain(opening_difference, kinds)
        findings.extend(choice.findings)
        differences.append(
            Difference(
                "rebate_opening",
                None,
                reported.rebate_opening,
                flow.opening,
                "yen",
                choice.remaining,
            )
        )

    # rebate closing
    inferred_explained = False
    if reported.rebate_closing is not None and reported.rebate_closing != flow.closing:
        difference = reported.rebate_closing - flow.closing
        carried: tuple[Finding, ...] = ()
        if opening_difference:
            carried = (
                Finding(
                    "opening_difference",
                    "rebate_closing",
                    None,
                    opening_difference,
                    "yen",
                    (),
                    f"月初残高の差 {signed_yen_text(opening_difference)}がそのまま月末残高に"
                    "残っています（月初の差の説明を参照）。",
                ),
            )
        kinds = (
            _Kind("opening_difference", carried),
            causes.morning_evening("rebate_closing"),
            causes.grant_pending("rebate_closing", None),
            causes.rounding("rebate_closing", None),
            causes.provisional("rebate_closing", None),
            causes.unrecorded_exchange("rebate_closing", statement_left),
        )
        choice = _explain(difference, kinds)
        findings.extend(choice.findings)
        exchange = next((f for f in choice.findings if f.kind == "unrecorded_exchange"), None)
        if exchange is not None:
            inferred_explained = bool(facts.inferred)
            if statement_left < 0:
                findings.append(
                    Finding(
                        "unrecorded_exchange",
                        "statement_total",
                        None,
                        statement_left,
                        "yen",
                        (),
                        f"記録されていない交換の還元額 {yen_text(-statement_left)}がこの月の走行に"
                        "充当されたため、カード請求がetcbookの計算より少なくなっています"
                        "（還元額の月末残高の説明を参照）。",
                        exchange.certain,
                    )
                )
                differences = [
                    Difference(d.key, d.pool, d.reported, d.computed, d.unit, 0)
                    if d.key == "statement_total"
                    else d
                    for d in differences
                ]
        differences.append(
            Difference(
                "rebate_closing",
                None,
                reported.rebate_closing,
                flow.closing,
                "yen",
                choice.remaining,
            )
        )

    # rebate the file shows was used, beyond what etcbook knew of
    inferred = sum(yen for _, yen in facts.inferred)
    if inferred:
        trips = {t.trip_id: t for t in facts.trips}
        named = tuple(
            _finding_trip(trips[trip_id], yen)
            for trip_id, yen in facts.inferred
            if trip_id in trips
        )
        if inferred_explained:
            message = (
                f"明細の還元額適用料金から推定した入金 {yen_text(inferred)}は、記録されていない"
                "交換によるものです（還元額の月末残高の説明を参照）。"
            )
        else:
            message = (
                f"明細の還元額適用料金（{_trips_text(named, 'yen')}）は、etcbookが知っている"
                f"残高より{yen_text(inferred)}多く充当されています。記録されていないポイント交換"
                "（またはキャンペーン等の入金）があると考えられます。交換履歴を確認して記録してください。"
            )
        findings.append(
            Finding("unrecorded_exchange", "rebate_inferred", None, inferred, "yen", named, message)
        )
        differences.append(Difference("rebate_inferred", None, inferred, 0, "yen", 0))

    order = {key: i for i, key in enumerate(DIFFERENCE_LABELS)}
    differences.sort(key=lambda d: (order[d.key], d.pool or ""))
    findings.sort(key=lambda f: (order[f.difference], f.pool or "", FINDING_ORDER.index(f.kind)))
    return Reconciliation(
        card=facts.card,
        month=facts.month,
        facts=facts,
        reported=reported,
        equations=equations_for(facts, reported),
        differences=tuple(differences),
        findings=tuple(findings),
    )


# --- JSON ------------------------------------------------------------------------------------


def _finding_json(finding: Finding) -> dict[str, object]:
    return {
        "kind": finding.kind,
        "label": FINDING_LABELS[finding.kind],
        "difference": finding.difference,
        "pool": finding.pool,
        "amount": finding.amount,
        "unit": finding.unit,
        "certain": finding.certain,
        "trips": [
            {
                "id": t.trip_id,
                "card": t.card,
                "exit_at": t.exit_at.isoformat(),
                "entry_ic": t.entry_ic,
                "exit_ic": t.exit_ic,
                "billed": t.billed,
                "amount": t.amount,
            }
            for t in finding.trips
        ],
        "message": finding.message,
    }


def _by_key(result: Reconciliation, value: Callable[[Difference], int]) -> dict[str, object]:
    reported = result.reported
    out: dict[str, object] = {
        "rebate_opening": None if reported.rebate_opening is None else 0,
        "rebate_closing": None if reported.rebate_closing is None else 0,
        "statement_total": None if reported.statement_total is None else 0,
        "points": {pool: 0 for pool in sorted(reported.points)},
        "rebate_inferred": 0,
    }
    points: dict[str, int] = {}
    for difference in result.differences:
        if difference.key == "points" and difference.pool is not None:
            points[difference.pool] = value(difference)
        else:
            out[difference.key] = value(difference)
    out["points"] = {pool: points.get(pool, 0) for pool in sorted(reported.points)}
    return out


def reconciliation_json(result: Reconciliation) -> dict[str, object]:
    """The JSON document of ``reconcile --json`` (issue 7 §6), without the store's additions.

    ``differences`` are ``reported − computed`` (None when not reported; ``rebate_inferred`` is
    the rebate the file shows was used beyond what etcbook knew of); ``unexplained`` has the
    same shape and gives what no finding explains.
    """
    facts, reported = result.facts, result.reported
    flow = facts.rebate
    this, previous = facts.morning_evening, facts.morning_evening_previous
    return {
        "card": result.card,
        "month": f"{result.month:%Y-%m}",
        "as_of": facts.as_of.isoformat(),
        "computed": {
            "rebate": {
                "opening": flow.opening,
                "exchanged": flow.exchanged,
                "morning_evening": flow.morning_evening,
                "adjustments": flow.adjustments,
                "inferred": flow.inferred,
                "applied": flow.applied,
                "closing": flow.closing,
            },
            "statement_total": facts.billed_total,
            "toll_total": sum(t.toll for t in facts.trips),
            "rebate_applied_total": sum(t.rebate_applied for t in facts.trips),
            "trips": len(facts.trips),
            "points": {
                pool.pool: {
                    "name": pool.name,
                    "base": pool.base,
                    "bonus": pool.bonus,
                    "total": pool.total,
                    "grant_on": pool.grant_on.isoformat(),
                }
                for pool in facts.pools
            },
            "morning_evening": {
                "this_month": None
                if this is None
                else {
                    "total": this.total,
                    "percent": this.percent,
                    "counted": len(this.credits),
                    "credit_on": this.credit_on.isoformat(),
                },
                "previous_month": None
                if previous is None
                else {
                    "total": previous.total,
                    "percent": previous.percent,
                    "counted": len(previous.credits),
                    "credit_on": previous.credit_on.isoformat(),
                },
            },
        },
        "reported": {
            "rebate_opening": reported.rebate_opening,
            "rebate_closing": reported.rebate_closing,
            "statement_total": reported.statement_total,
            "points": dict(sorted(reported.points.items())),
        },
        "equations": [
            {
                "key": e.key,
                "label": e.label,
                "text": e.text,
                "computed": e.computed,
                "reported": e.reported,
                "difference": None if e.reported is None else e.reported - e.computed,
                "unit": e.unit,
            }
            for e in result.equations
        ],
        "differences": _by_key(result, lambda d: d.amount),
        "findings": [_finding_json(f) for f in result.findings],
        "unexplained": _by_key(result, lambda d: d.unexplained),
        "balanced": result.balanced,
    }
