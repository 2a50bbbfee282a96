"""Exchange planner properties (issue 4 §4), checked by an independent replay of each plan.

The replay below re-implements the rules it needs (soonest-expiry consumption, rebate applied in
trip order, points floored per trip and granted on the 20th of the next month, fiscal-year
expiry) without using the planner's code, then checks the plan against it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etcbook.domain.planner import (
    EarningRule,
    Need,
    Plan,
    PlannedTrip,
    PlannerInput,
    PoolState,
    plan_exchanges,
)
from etcbook.domain.points import ExchangeUnit, Lot

D = dt.date
AS_OF_MIN = D(2024, 4, 1)
NEXCO_GRID = (ExchangeUnit(1000, 500), ExchangeUnit(3000, 2500), ExchangeUnit(5000, 5000))
GRIDS = {
    "nexco": (NEXCO_GRID, ExchangeUnit(5000, 5000), EarningRule(10, 1)),
    "honshi": (NEXCO_GRID, ExchangeUnit(5000, 5000), EarningRule(10, 1)),
    "nagoya": ((ExchangeUnit(100, 100),), ExchangeUnit(1000, 1000), EarningRule(100, 1)),
    "kobe": ((ExchangeUnit(200, 100),), ExchangeUnit(1000, 500), EarningRule(50, 3)),
    "hanshin_kyoto": ((ExchangeUnit(100, 100),), ExchangeUnit(1000, 1000), EarningRule(100, 3)),
}
OPERATORS = ("nexco", "honshi", "nagoya", "kobe", "hanshin_kyoto", "shutoko", "other_rebate")
REBATE = frozenset(OPERATORS) - {"shutoko"}


def fiscal_expiry(granted_on: dt.date) -> dt.date:
    year = granted_on.year if granted_on.month >= 4 else granted_on.year - 1
    return D(year + 2, 3, 31)


def next_twentieth(day: dt.date) -> dt.date:
    return D(day.year + day.month // 12, day.month % 12 + 1, 20)


@st.composite
def lots_for(draw: st.DrawFn, pool: str, as_of: dt.date) -> tuple[Lot, ...]:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        months_back = draw(st.integers(-2, 26))  # negative: granted after as_of (pending)
        index = as_of.year * 12 + as_of.month - 1 - months_back
        granted = D(index // 12, index % 12 + 1, 20)
        expires = fiscal_expiry(granted)
        if expires < as_of:
            continue
        points = draw(
            st.sampled_from(
                [0, 50, 99, 100, 450, 800, 1000, 1800, 2999, 3000, 4200, 5000, 6000, 12_345]
            )
        )
        out.append(Lot(pool, granted, expires, points, points))
    return tuple(out)


@st.composite
def requests(draw: st.DrawFn, *, with_trips: bool) -> PlannerInput:
    as_of = AS_OF_MIN + dt.timedelta(days=draw(st.integers(0, 800)))
    pools = []
    for key in draw(st.lists(st.sampled_from(sorted(GRIDS)), min_size=1, max_size=3, unique=True)):
        grid, auto, earning = GRIDS[key]
        pools.append(
            PoolState(
                pool=key,
                lots=draw(lots_for(key, as_of)),
                grid=grid,
                auto_unit=auto,
                auto_exchange=draw(st.booleans()),
                recent_monthly_points=tuple(draw(st.lists(st.integers(0, 3000), max_size=3))),
                operators=(key,),
                earning=earning,
            )
        )
    balance = draw(st.sampled_from([0, 0, 80, 700, 2600]))
    if with_trips:
        trips = sorted(
            (
                PlannedTrip(
                    as_of + dt.timedelta(days=draw(st.integers(0, 200))),
                    draw(st.sampled_from(OPERATORS)),
                    draw(st.integers(0, 60)) * 50 + draw(st.sampled_from([0, 20, 70])),
                )
                for _ in range(draw(st.integers(1, 10)))
            ),
            key=lambda t: t.on,
        )
        return PlannerInput(as_of, tuple(pools), balance, REBATE, trips=tuple(trips))
    need = Need(
        draw(st.integers(0, 400)) * 50 + draw(st.sampled_from([0, 30])),
        as_of + dt.timedelta(days=draw(st.integers(0, 90))),
        (draw(st.sampled_from(OPERATORS)),),
    )
    return PlannerInput(as_of, tuple(pools), balance, REBATE, need=need)


@dataclass
class Replayed:
    covered: int
    balance: int
    losses: list[tuple[str, dt.date, int]]
    saveable_losses: list[tuple[str, dt.date, int, int]]  # pool, day, lost, usable that day
    overdrawn: list[str]


@dataclass
class HeldLot:
    granted_on: dt.date
    expires_on: dt.date
    remaining: int


def replay(request: PlannerInput, plan: Plan) -> Replayed:
    """Walk the plan day by day with the rules, independently of the planner."""
    lots = {
        p.pool: [HeldLot(x.granted_on, x.expires_on, x.remaining) for x in p.lots if x.remaining]
        for p in request.pools
    }
    specs = {p.pool: p for p in request.pools}
    earns_into = {op: p.pool for p in request.pools for op in p.operators}
    balance = request.rebate_balance
    covered = 0
    out = Replayed(0, 0, [], [], [])

    def usable(pool: str, day: dt.date) -> int:
        return sum(x.remaining for x in lots[pool] if x.granted_on <= day <= x.expires_on)

    def take(pool: str, day: dt.date, points: int, what: str) -> None:
        if points > usable(pool, day):
            out.overdrawn.append(f"{what} {pool} {day} {points}P > {usable(pool, day)}P")
            return
        left = points
        for x in sorted(lots[pool], key=lambda x: (x.expires_on, x.granted_on)):
            if left and x.granted_on <= day <= x.expires_on:
                n = min(left, x.remaining)
                x.remaining -= n
                left -= n

    exchanges = sorted(
        [*plan.auto_exchanges, *plan.exchanges], key=lambda e: (e.at, e.purpose != "auto")
    )
    day = request.as_of
    while day <= plan.horizon_end:
        for ex in (e for e in exchanges if e.at == day):
            take(ex.pool, day, ex.points, ex.purpose)
            balance += ex.yen
        need = request.need
        if day == request.as_of and need and set(need.operators) & request.rebate_operators:
            applied = min(balance, need.yen)
            balance -= applied
            covered += applied
        for trip in (t for t in request.trips if t.on == day):
            billed = trip.toll
            if trip.operator in request.rebate_operators:
                applied = min(balance, trip.toll)
                balance -= applied
                covered += applied
                billed -= applied
            pool = earns_into.get(trip.operator)
            rule = specs[pool].earning if pool else None
            if pool and rule and billed >= rule.yen:
                granted = next_twentieth(day)
                points = billed // rule.yen * rule.points
                lots[pool].append(HeldLot(granted, fiscal_expiry(granted), points))
        for pool, held in lots.items():
            lost = sum(x.remaining for x in held if x.expires_on == day)
            if lost:
                out.losses.append((pool, day, lost))
                if usable(pool, day) >= min(u.points for u in specs[pool].grid):
                    out.saveable_losses.append((pool, day, lost, usable(pool, day)))
            lots[pool] = [x for x in held if x.expires_on != day and x.remaining > 0]
        day += dt.timedelta(days=1)
    out.covered = covered
    out.balance = balance
    return out


def best_yen(grid: tuple[ExchangeUnit, ...], points: int) -> int:
    """Most yen from at most ``points`` points, by brute force."""
    best = [0] * (points + 1)
    for p in range(1, points + 1):
        best[p] = best[p - 1]
        for unit in grid:
            if unit.points <= p:
                best[p] = max(best[p], best[p - unit.points] + unit.yen)
    return best[points]


def check_common(request: PlannerInput, plan: Plan) -> Replayed:
    grids = {p.pool: p for p in request.pools}
    for ex in plan.exchanges:
        assert set(ex.units) <= set(grids[ex.pool].grid), f"off-grid unit in {ex}"
        assert ex.points == sum(u.points for u in ex.units)
        assert ex.yen == sum(u.yen for u in ex.units)
        assert ex.points > 0
    for ex in plan.auto_exchanges:
        assert set(ex.units) == {grids[ex.pool].auto_unit}
    replayed = replay(request, plan)
    assert replayed.overdrawn == [], "spends more points than exist"
    assert replayed.saveable_losses == [], "points expired although a unit could save them"
    assert sorted(replayed.losses) == sorted((x.pool, x.on, x.points) for x in plan.losses)
    assert plan.points_lost == sum(x.points for x in plan.losses)
    assert (replayed.covered, replayed.balance) == (plan.covered, plan.rebate_after)
    assert plan.covered + plan.shortfall == plan.demand
    assert plan.rebate_after >= 0 and plan.shortfall >= 0
    assert plan.explanation and all(isinstance(line, str) and line for line in plan.explanation)
    return replayed


SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(requests(with_trips=False))
def test_need_plans_stay_on_the_grid_within_the_points_and_save_what_units_can(
    request: PlannerInput,
) -> None:
    plan = plan_exchanges(request)

    check_common(request, plan)


@SETTINGS
@given(requests(with_trips=False))
def test_need_is_covered_whenever_a_covering_plan_exists(request: PlannerInput) -> None:
    plan = plan_exchanges(request)

    need = request.need
    assert need is not None
    if not any(op in request.rebate_operators for op in need.operators):
        assert plan.covered == 0
        return
    reachable = request.rebate_balance + sum(
        best_yen(
            p.grid,
            sum(
                lot.remaining for lot in p.lots if lot.granted_on <= request.as_of <= lot.expires_on
            ),
        )
        for p in request.pools
    )
    if reachable >= need.yen:
        assert plan.covered == need.yen, (reachable, plan.exchanges)
    else:
        assert plan.shortfall > 0


@SETTINGS
@given(requests(with_trips=True))
def test_trip_plans_stay_on_the_grid_within_the_points_and_save_what_units_can(
    request: PlannerInput,
) -> None:
    plan = plan_exchanges(request)

    check_common(request, plan)
    for ex in plan.exchanges:
        if "trips" in ex.purpose:
            assert any(t.on == ex.at for t in request.trips), "top-up not on a trip day"
