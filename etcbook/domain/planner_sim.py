"""The planner's timeline: pools, rebate and planned trips day by day, and the exchange choices.

The simulation keeps private mutable copies of the pools while it walks the days; everything it
hands back is frozen. Order on a day: grants (the 20th), ポイント自動還元 (the 20th), the manual
exchange decided for the day, the day's trips (or the need, on the as-of day), then expiry at the
end of the day.
"""

from __future__ import annotations

import datetime as dt
from bisect import insort
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from etcbook.domain.calendar import expiry_for, grant_date_for
from etcbook.domain.planner_grid import Forecast, Grid, month_end, pool_value
from etcbook.domain.planner_types import (
    EarningRule,
    ExpiryLoss,
    PlannedExchange,
    PlannedTrip,
    PlannerInput,
    PoolState,
)
from etcbook.domain.points import ExchangeUnit

MARGIN_PERCENT = 5
"""Margin added to an estimated need on fine grids (見積り+5%), within the overshoot bound."""


@dataclass(slots=True)
class _LotRun:
    """A lot while the timeline is walked (private, mutable)."""

    expires_on: dt.date
    granted_on: dt.date
    remaining: int


def _lot_order(lot: _LotRun) -> tuple[dt.date, dt.date]:
    return (lot.expires_on, lot.granted_on)


RANKED_KEPT = 12
"""How many of the other totals a decision keeps, best first, for explanations."""


class PoolRun:
    """A pool's lots while the timeline is walked (private, mutable)."""

    __slots__ = ("auto_unit", "forecast", "grid", "index", "lots", "spec")

    def __init__(self, index: int, spec: PoolState, grid: Grid, forecast: Forecast) -> None:
        self.index = index
        self.spec = spec
        self.grid = grid
        self.forecast = forecast
        self.auto_unit: ExchangeUnit | None = spec.auto_unit if spec.auto_exchange else None
        self.lots: list[_LotRun] = []  # soonest expiry first
        for lot in spec.lots:
            if lot.remaining > 0:
                self.add_grant(lot.granted_on, lot.remaining, lot.expires_on)

    def add_grant(self, granted_on: dt.date, points: int, expires_on: dt.date) -> None:
        """Add points granted on ``granted_on`` (merged with a lot of the same dates)."""
        for lot in self.lots:
            if lot.expires_on == expires_on and lot.granted_on == granted_on:
                lot.remaining += points
                return
        insort(self.lots, _LotRun(expires_on, granted_on, points), key=_lot_order)

    def usable(self, on: dt.date) -> int:
        """Points that can be exchanged on ``on`` (granted, not expired)."""
        if not self.lots:
            return 0
        return sum(lot.remaining for lot in self.lots if lot.granted_on <= on <= lot.expires_on)

    def soonest_expiry(self, on: dt.date) -> dt.date | None:
        """Expiry of the soonest usable lot."""
        for lot in self.lots:
            if lot.remaining > 0 and lot.granted_on <= on <= lot.expires_on:
                return lot.expires_on
        return None

    def expiring_by(self, on: dt.date, last_day: dt.date) -> int:
        """Usable points on ``on`` that expire on or before ``last_day``."""
        return sum(
            lot.remaining for lot in self.lots if lot.granted_on <= on <= lot.expires_on <= last_day
        )

    def consume(self, on: dt.date, points: int) -> None:
        """Take ``points`` usable points, soonest expiry first."""
        left = points
        for lot in self.lots:
            if left == 0:
                break
            if lot.granted_on <= on <= lot.expires_on:
                take = min(left, lot.remaining)
                lot.remaining -= take
                left -= take
        if left:
            raise AssertionError(f"pool {self.spec.pool}: {points}P asked, {left}P missing")
        self.lots = [lot for lot in self.lots if lot.remaining > 0]

    def expire(self, on: dt.date) -> int:
        """Drop the lots whose last day is ``on`` or earlier; return the points lost."""
        if not self.lots or self.lots[0].expires_on > on:
            return 0
        lost = sum(lot.remaining for lot in self.lots if lot.expires_on <= on)
        if lost:
            self.lots = [lot for lot in self.lots if lot.expires_on > on]
        return lost

    def groups(self) -> list[tuple[dt.date, int]]:
        """``(expires_on, points)`` of every lot, soonest first."""
        return [(lot.expires_on, lot.remaining) for lot in self.lots if lot.remaining > 0]

    def value(self, on: dt.date) -> int:
        """Scaled yen the pool's points can still become (see ``pool_value``)."""
        return pool_value(self.groups(), grid=self.grid, on=on, forecast=self.forecast)

    def value_after(self, on: dt.date, points: int) -> tuple[int, int]:
        """Value left and expiry weight if ``points`` were exchanged on ``on``.

        The expiry weight is Σ points × days to their expiry: lower means sooner-expiring
        points are used (ties between pools go to the soonest expiry).
        """
        left = points
        weight = 0
        groups: list[tuple[dt.date, int]] = []
        for lot in self.lots:
            remaining = lot.remaining
            if left and lot.granted_on <= on <= lot.expires_on:
                take = min(left, remaining)
                left -= take
                remaining -= take
                weight += take * (lot.expires_on - on).days
            if remaining:
                groups.append((lot.expires_on, remaining))
        value = pool_value(groups, grid=self.grid, on=on, forecast=self.forecast)
        return value, weight


@dataclass(frozen=True, slots=True)
class Context:
    """What stays fixed while plans are simulated (private)."""

    request: PlannerInput
    grids: tuple[Grid, ...]
    forecasts: tuple[Forecast, ...]
    scale: int
    operator_pool: Mapping[str, int]
    cost_rate: int
    forgone_rule: EarningRule | None
    horizon_end: dt.date
    dates: tuple[dt.date, ...]
    trips_by_day: Mapping[dt.date, tuple[PlannedTrip, ...]]
    future_use: Mapping[dt.date, int]
    need_yen: int
    max_unit_yen: int


@dataclass(frozen=True, slots=True)
class Situation:
    """A day on which an exchange may be needed."""

    on: dt.date
    balance: int
    demand: int
    future_use: int
    at_risk: tuple[int, ...]
    usable: tuple[int, ...]
    trips: tuple[PlannedTrip, ...]
    need: bool
    risk_expiry: tuple[dt.date | None, ...]


@dataclass(frozen=True, slots=True)
class Pick:
    """Part of a choice: ``points`` of pool number ``pool`` as ``units`` (empty until the
    choice is kept: the grid's best combination for those points)."""

    pool: int
    points: int
    yen: int
    units: tuple[ExchangeUnit, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to answer a situation, with what makes it better or worse."""

    picks: tuple[Pick, ...]
    yen: int
    saved: int
    covered: int
    leftover: int
    value: int
    cost: int
    weight: int
    cover_first: bool = True

    @property
    def net(self) -> int:
        """Scaled yen: rebate obtained + change in what the points can still become − the
        points the rebate left over after the planned use will cost."""
        return self.value - self.cost

    @property
    def key(self) -> tuple[int, ...]:
        """Save expiring points. For a need: cover it, then keep the most value. For planned
        trips: keep the value of the points (no exchange at a worse rate than they can reach),
        then cover the day, then avoid rebate left over. Then keep the rebate low, then use
        the soonest-expiring points."""
        if self.cover_first:
            return (self.saved, self.covered, self.net, -self.leftover, -self.weight)
        return (self.saved, self.value, self.covered, -self.cost, -self.leftover, -self.weight)

    @property
    def points(self) -> int:
        return sum(p.points for p in self.picks)


@dataclass(frozen=True, slots=True)
class Decision:
    """The choice made for a situation, and the best of the other totals, best first."""

    situation: Situation
    chosen: Candidate
    ranked: tuple[Candidate, ...]
    margin: int = 0


Decider = Callable[[Context, Sequence[PoolRun], Situation], Decision | None]


def solve(
    ctx: Context, runs: Sequence[PoolRun], sit: Situation, *, margin: bool = False
) -> Decision | None:
    """The best exchange for a situation: a knapsack over pools on the yen obtained."""
    short = max(0, sit.demand - sit.balance)
    rescue_caps: list[int] = []
    for run in runs:
        x = sit.at_risk[run.index]
        if x > 0:
            reach = min(sit.usable[run.index], x + run.grid.units[-1].points)
            rescue_caps.append(run.grid.best_within(reach))
        else:
            rescue_caps.append(0)
    if short == 0 and not any(rescue_caps):
        return None
    cap = (short + 2 * ctx.max_unit_yen if short else 0) + sum(rescue_caps)
    scale = ctx.scale
    # state: total yen -> (saved, score, -weight, picks)
    states: dict[int, tuple[int, int, int, tuple[Pick, ...]]] = {0: (0, 0, 0, ())}
    for run in runs:
        usable = sit.usable[run.index]
        pool_cap = cap if short else rescue_caps[run.index]
        options = run.grid.options(usable, pool_cap)
        if not options:
            continue
        base_value = run.value(sit.on)
        at_risk = sit.at_risk[run.index]
        scored: list[tuple[int, int, int, int, Pick]] = []
        for points, yen in options:
            after, weight = run.value_after(sit.on, points)
            pick = Pick(run.index, points, yen, ())
            scored.append(
                (yen, min(points, at_risk), yen * scale + after - base_value, weight, pick)
            )
        merged = dict(states)
        for total, (saved, score, neg_weight, picks) in states.items():
            for yen, saved_p, score_p, weight_p, pick in scored:
                new_total = total + yen
                if new_total > cap:
                    break
                cand = (saved + saved_p, score + score_p, neg_weight - weight_p)
                current = merged.get(new_total)
                if current is None or cand > current[:3]:
                    merged[new_total] = (*cand, (*picks, pick))
        states = merged

    candidates: list[Candidate] = []
    for total, (saved, score, neg_weight, picks) in states.items():
        candidates.append(_candidate(ctx, sit, total, saved, score, -neg_weight, picks))
    candidates.sort(key=lambda c: c.key, reverse=True)
    chosen = candidates[0]
    added = 0
    if margin:
        chosen, added = _with_margin(ctx, runs, sit, chosen)
    chosen = _with_units(runs, chosen)
    ranked = tuple(candidates[1:RANKED_KEPT])
    return Decision(sit, chosen, ranked, added)


def _candidate(
    ctx: Context,
    sit: Situation,
    total: int,
    saved: int,
    score: int,
    weight: int,
    picks: tuple[Pick, ...],
) -> Candidate:
    available = sit.balance + total
    covered = min(available, sit.demand)
    leftover = available - covered
    overshoot = max(0, leftover - sit.future_use)
    cost = overshoot * ctx.cost_rate
    cover_first = sit.need or sit.demand <= 0
    return Candidate(picks, total, saved, covered, leftover, score, cost, weight, cover_first)


def _with_units(runs: Sequence[PoolRun], cand: Candidate) -> Candidate:
    if all(p.units for p in cand.picks):
        return cand
    return replace(cand, picks=tuple(with_units(runs[p.pool].grid, p) for p in cand.picks))


def with_units(grid: Grid, pick: Pick) -> Pick:
    """``pick`` with its units filled in from the grid when missing."""
    if pick.units:
        return pick
    return Pick(pick.pool, pick.points, pick.yen, grid.decompose(pick.points))


def _with_margin(
    ctx: Context, runs: Sequence[PoolRun], sit: Situation, chosen: Candidate
) -> tuple[Candidate, int]:
    """Add fine-grid units for the estimate's margin (+5%), keeping the overshoot at most one
    unit or 10 % of the need, whichever is larger."""
    if not chosen.picks or sit.demand <= 0:
        return chosen, 0
    target = sit.demand + (sit.demand * MARGIN_PERCENT + 99) // 100
    short = target - (sit.balance + chosen.yen)
    if short <= 0:
        return chosen, 0
    order = sorted(
        chosen.picks,
        key=lambda p: runs[p.pool].soonest_expiry(sit.on) or dt.date.max,
    )
    for pick in order:
        grid = runs[pick.pool].grid
        if not grid.single_rate:
            continue
        unit = grid.min_unit
        count = -(-short // unit.yen)
        extra_points = count * unit.points
        overshoot = sit.balance + chosen.yen + count * unit.yen - sit.demand
        if overshoot > max(unit.yen, sit.demand // 10):
            continue
        if pick.points + extra_points > sit.usable[pick.pool]:
            continue
        grown = Pick(pick.pool, pick.points + extra_points, pick.yen + count * unit.yen, ())
        picks = tuple(grown if p is pick else p for p in chosen.picks)
        leftover = chosen.leftover + count * unit.yen
        return replace(
            chosen, picks=picks, yen=chosen.yen + count * unit.yen, leftover=leftover
        ), count * unit.yen
    return chosen, 0


def decide_best(ctx: Context, runs: Sequence[PoolRun], sit: Situation) -> Decision | None:
    """The planner's own policy."""
    return solve(ctx, runs, sit, margin=sit.need)


def decide_naive(ctx: Context, runs: Sequence[PoolRun], sit: Situation) -> Decision | None:
    """What a hurried driver does: the smallest unit, just enough, soonest-expiring pool first;
    no eye on expiry. Used as an alternative and as the benchmark's baseline."""
    short = sit.demand - sit.balance
    if short <= 0:
        return None
    order = sorted(
        (r for r in runs if sit.usable[r.index] >= r.grid.min_unit.points),
        key=lambda r: r.soonest_expiry(sit.on) or dt.date.max,
    )
    picks: list[Pick] = []
    for run in order:
        unit = run.grid.min_unit
        count = min(-(-short // unit.yen), sit.usable[run.index] // unit.points)
        if count <= 0:
            continue
        picks.append(Pick(run.index, count * unit.points, count * unit.yen, (unit,) * count))
        short -= count * unit.yen
        if short <= 0:
            break
    if not picks:
        return None
    total = sum(p.yen for p in picks)
    return Decision(sit, _candidate(ctx, sit, total, 0, 0, 0, tuple(picks)), ())


def decide_nothing(ctx: Context, runs: Sequence[PoolRun], sit: Situation) -> Decision | None:
    """Never exchange by hand."""
    return None


def decide_upfront(ctx: Context, runs: Sequence[PoolRun], sit: Situation) -> Decision | None:
    """Exchange for every planned trip on the first day, then only what expiry demands."""
    if sit.on == ctx.request.as_of:
        sit = replace(sit, demand=sit.demand + sit.future_use, future_use=0)
    else:
        sit = replace(sit, demand=0)
    return solve(ctx, runs, sit)


def decide_first(first: tuple[Pick, ...] | None) -> Decider:
    """The planner's policy, except on the as-of day: exchange ``first`` then (units are
    completed from the grid when missing), or only what expiry demands when ``first`` is None."""

    def decide(ctx: Context, runs: Sequence[PoolRun], sit: Situation) -> Decision | None:
        if sit.on != ctx.request.as_of:
            return decide_best(ctx, runs, sit)
        if first is None:
            return solve(ctx, runs, replace(sit, demand=0))
        total = sum(p.yen for p in first)
        cand = _with_units(runs, _candidate(ctx, sit, total, 0, 0, 0, first))
        return Decision(sit, cand, ())

    return decide


def decide_naive_first(ctx: Context, runs: Sequence[PoolRun], sit: Situation) -> Decision | None:
    """Naive on the as-of day, the planner's policy afterwards."""
    if sit.on == ctx.request.as_of:
        return decide_naive(ctx, runs, sit)
    return decide_best(ctx, runs, sit)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A simulated plan."""

    exchanges: tuple[PlannedExchange, ...]
    auto_exchanges: tuple[PlannedExchange, ...]
    losses: tuple[ExpiryLoss, ...]
    decisions: tuple[Decision, ...]
    demand: int
    covered: int
    rebate_after: int
    value: int
    end_groups: tuple[tuple[tuple[dt.date, int], ...], ...]

    @property
    def points_lost(self) -> int:
        return sum(loss.points for loss in self.losses)

    @property
    def shortfall(self) -> int:
        return self.demand - self.covered

    @property
    def points(self) -> int:
        return sum(e.points for e in self.exchanges)

    @property
    def yen(self) -> int:
        return sum(e.yen for e in self.exchanges)


def _at_risk(run: PoolRun, on: dt.date, as_of: dt.date) -> int:
    """Points of the pool that expire this month and that a unit could still save now.

    With auto-exchange on, the check waits for the month's 20th when the pool will by then hold
    a full auto unit: the auto exchange takes the soonest-expiring points first.
    """
    if not run.lots or run.lots[0].expires_on > month_end(on):
        return 0
    if run.usable(on) < run.grid.min_unit.points:
        return 0
    at_risk = run.expiring_by(on, month_end(on))
    if not at_risk:
        return 0
    auto = run.auto_unit
    if auto is not None and on.day < 20:
        twentieth = on.replace(day=20)
        soonest = run.soonest_expiry(on)
        if (
            twentieth > as_of
            and soonest is not None
            and soonest >= twentieth
            and run.usable(twentieth) >= auto.points
        ):
            return 0
    return at_risk


def simulate(ctx: Context, decide: Decider, *, consult_first: bool = False) -> Outcome:
    """Walk the horizon day by day under a policy.

    The policy is asked on days where the rebate cannot pay the day's demand or points expire
    this month; with ``consult_first`` also on the as-of day whatever happens.
    """
    req = ctx.request
    runs = [
        PoolRun(i, spec, grid, forecast)
        for i, (spec, grid, forecast) in enumerate(
            zip(req.pools, ctx.grids, ctx.forecasts, strict=True)
        )
    ]
    balance = req.rebate_balance
    exchanges: list[PlannedExchange] = []
    autos: list[PlannedExchange] = []
    losses: list[ExpiryLoss] = []
    decisions: list[Decision] = []
    covered = 0
    demand_total = ctx.need_yen
    obtained = 0
    rebate_ops = req.rebate_operators

    for day in ctx.dates:
        if day.day == 20 and day > req.as_of:
            for run in runs:
                auto = run.auto_unit
                if auto is None:
                    continue
                count = run.usable(day) // auto.points
                if count:
                    run.consume(day, count * auto.points)
                    balance += count * auto.yen
                    obtained += count * auto.yen
                    autos.append(
                        PlannedExchange(
                            day,
                            run.spec.pool,
                            (auto,) * count,
                            count * auto.points,
                            count * auto.yen,
                            "auto",
                        )
                    )
        trips = ctx.trips_by_day.get(day, ())
        trip_demand = sum(t.toll for t in trips if t.operator in rebate_ops)
        is_need_day = day == req.as_of and ctx.need_yen > 0
        demand = trip_demand + (ctx.need_yen if is_need_day else 0)
        at_risk = tuple(_at_risk(run, day, req.as_of) for run in runs)
        if demand > balance or any(at_risk) or (consult_first and day == req.as_of):
            usable = tuple(run.usable(day) for run in runs)
            sit = Situation(
                on=day,
                balance=balance,
                demand=demand,
                future_use=ctx.future_use.get(day, 0),
                at_risk=at_risk,
                usable=usable,
                trips=trips,
                need=is_need_day,
                risk_expiry=tuple(
                    runs[i].soonest_expiry(day) if at_risk[i] else None for i in range(len(runs))
                ),
            )
            decision = decide(ctx, runs, sit)
            if decision is None and demand > balance:
                empty = _candidate(ctx, sit, 0, 0, 0, 0, ())
                decision = Decision(sit, empty, ())
            if decision is not None and (decision.chosen.picks or demand > balance):
                decisions.append(decision)
                for pick in decision.chosen.picks:
                    run = runs[pick.pool]
                    run.consume(day, pick.points)
                    balance += pick.yen
                    obtained += pick.yen
                    exchanges.append(
                        PlannedExchange(
                            day,
                            run.spec.pool,
                            pick.units,
                            pick.points,
                            pick.yen,
                            _purpose(sit, pick),
                        )
                    )
        if is_need_day:
            applied = min(balance, ctx.need_yen)
            balance -= applied
            covered += applied
        for trip in trips:
            billed = trip.toll
            if trip.operator in rebate_ops:
                applied = min(balance, trip.toll)
                balance -= applied
                covered += applied
                demand_total += trip.toll
                billed -= applied
            pool_index = ctx.operator_pool.get(trip.operator)
            if pool_index is not None:
                rule = req.pools[pool_index].earning
                earned = rule.points_for(billed) if rule is not None else 0
                if earned:
                    granted = grant_date_for(trip.on)
                    runs[pool_index].add_grant(granted, earned, expiry_for(granted))
        for run in runs:
            lost = run.expire(day)
            if lost:
                reason = "below_unit"
                if run.auto_unit is not None:
                    reason = "auto_below_unit"
                losses.append(ExpiryLoss(day, run.spec.pool, lost, reason))

    end = ctx.horizon_end
    value = obtained * ctx.scale + sum(run.value(end) for run in runs)
    value -= balance * ctx.cost_rate
    return Outcome(
        exchanges=tuple(exchanges),
        auto_exchanges=tuple(autos),
        losses=tuple(losses),
        decisions=tuple(decisions),
        demand=demand_total,
        covered=covered,
        rebate_after=balance,
        value=value // ctx.scale,
        end_groups=tuple(tuple(run.groups()) for run in runs),
    )


def _purpose(sit: Situation, pick: Pick) -> str:
    parts: list[str] = []
    if sit.demand > sit.balance:
        parts.append("need" if sit.need else "trips")
    if sit.at_risk[pick.pool]:
        parts.append("expiry")
    return "+".join(parts) or "expiry"
