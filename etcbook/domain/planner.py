"""Just-in-time exchange planner (必要額だけ交換): how many points to exchange, when, and why.

``plan_exchanges(PlannerInput) -> Plan``. The input is the card's state at a date (pools with
their lots, grids, auto-exchange, recent earnings; the rebate balance) and either a need
("about N円 of tolls by date D") or planned trips. The plan holds dated manual exchanges, what
auto-exchange will do, what is covered and what falls short, the rebate left, the points that
still expire, a Japanese sentence for every choice and the alternatives it rejected.

How a choice is made, on every day something must be decided (the need's day, a trip day whose
trips the rebate cannot pay, a month in which points expire):

1. save points expiring this month whenever a unit can take them (失効バケット「今月」);
2. cover the need / the day's trips as far as the pools can;
3. keep the most value: rebate obtained + what the points left can still become at the best
   rate they can reach before expiry given recent earnings (NEXCO: 0.5円/P for 1,000P units,
   1円/P for 5,000P) − the points that rebate left over after the planned trips will cost
   (rebate-paid tolls earn nothing: NEXCO 10円 → 1P);
4. keep the rebate balance low (the staircase), then use the soonest-expiring points.

The search on a day is a knapsack over pools on the yen obtained, each pool offering only the
unit combinations where more points buy more yen.
"""

from __future__ import annotations

import datetime as dt

from etcbook.domain.calendar import add_months, expiry_for, grant_date_for
from etcbook.domain.planner_grid import (
    Forecast,
    Grid,
    first_of_next_month,
    month_end,
    value_scale,
)
from etcbook.domain.planner_sim import (
    Candidate,
    Context,
    Decision,
    Outcome,
    Pick,
    decide_best,
    decide_first,
    decide_naive,
    decide_naive_first,
    decide_nothing,
    decide_upfront,
    simulate,
    with_units,
)
from etcbook.domain.planner_text import (
    alternative_label,
    explain,
    make_alternative,
)
from etcbook.domain.planner_types import (
    Alternative,
    EarningRule,
    ExpiryLoss,
    Need,
    Plan,
    PlannedExchange,
    PlannedTrip,
    PlannerInput,
    PlannerInputError,
    PoolState,
)
from etcbook.domain.points import ExchangeUnit

__all__ = [
    "Alternative",
    "EarningRule",
    "ExpiryLoss",
    "Need",
    "Plan",
    "PlannedExchange",
    "PlannedTrip",
    "PlannerInput",
    "PlannerInputError",
    "PoolState",
    "naive_plan",
    "plan_exchanges",
]

MAX_ALTERNATIVES = 4


def plan_exchanges(request: PlannerInput) -> Plan:
    """The exchange plan for ``request`` (see the module docstring for how it chooses)."""
    validate(request)
    ctx = build_context(request)
    best = simulate(ctx, decide_best)
    demand, uncoverable = _demand(request, best)
    shortfall = demand - best.covered
    alternatives = _alternatives(ctx, best, demand)
    explanation = explain(
        ctx, best, demand=demand, shortfall=shortfall, need_uncoverable=uncoverable
    )
    forgone_rule = ctx.forgone_rule
    return Plan(
        as_of=request.as_of,
        horizon_end=ctx.horizon_end,
        exchanges=best.exchanges,
        auto_exchanges=best.auto_exchanges,
        demand=demand,
        covered=best.covered,
        shortfall=shortfall,
        rebate_after=best.rebate_after,
        points_lost=best.points_lost,
        losses=best.losses,
        forgone_points=forgone_rule.points_for(best.rebate_after) if forgone_rule else 0,
        value=best.value,
        explanation=explanation,
        alternatives=alternatives,
    )


def naive_plan(request: PlannerInput) -> tuple[tuple[PlannedExchange, ...], int, int]:
    """Exchanges, covered yen and rebate left of the naive policy (smallest unit, just enough,
    no eye on expiry): the benchmark's baseline."""
    validate(request)
    ctx = build_context(request)
    outcome = simulate(ctx, decide_naive)
    return outcome.exchanges, outcome.covered, outcome.rebate_after


def _demand(request: PlannerInput, best: Outcome) -> tuple[int, bool]:
    need = request.need
    if need is not None:
        coverable = any(op in request.rebate_operators for op in need.operators)
        return need.yen, need.yen > 0 and not coverable
    return best.demand, False


# -- validation ------------------------------------------------------------------------------


def validate(request: PlannerInput) -> None:
    """Raise ``PlannerInputError`` for a request no plan can answer."""
    if request.rebate_balance < 0:
        raise PlannerInputError(f"rebate balance is negative: {request.rebate_balance}")
    if request.need is not None and request.trips:
        raise PlannerInputError("give either a need or planned trips, not both")
    seen: set[str] = set()
    earners: dict[str, str] = {}
    for spec in request.pools:
        if spec.pool in seen:
            raise PlannerInputError(f"pool {spec.pool!r} given twice")
        seen.add(spec.pool)
        if not spec.grid:
            raise PlannerInputError(f"pool {spec.pool!r} has no exchange units")
        for unit in (*spec.grid, *((spec.auto_unit,) if spec.auto_unit else ())):
            if unit.points <= 0 or unit.yen <= 0:
                raise PlannerInputError(f"pool {spec.pool!r}: exchange unit {unit} not positive")
        if spec.earning is not None and (spec.earning.yen <= 0 or spec.earning.points < 0):
            raise PlannerInputError(f"pool {spec.pool!r}: earning rule {spec.earning} invalid")
        for lot in spec.lots:
            if lot.pool != spec.pool:
                raise PlannerInputError(f"lot of pool {lot.pool!r} given in pool {spec.pool!r}")
            if lot.remaining < 0 or lot.granted < 0:
                raise PlannerInputError(f"pool {spec.pool!r}: negative points in {lot}")
            if lot.expires_on < lot.granted_on:
                raise PlannerInputError(f"pool {spec.pool!r}: lot expires before its grant")
        for op in spec.operators:
            if op in earners:
                raise PlannerInputError(
                    f"operator {op!r} earns into both {earners[op]!r} and {spec.pool!r}"
                )
            earners[op] = spec.pool
    need = request.need
    if need is not None:
        if need.yen < 0:
            raise PlannerInputError(f"need is negative: {need.yen}")
        if need.by < request.as_of:
            raise PlannerInputError(
                f"need date {need.by.isoformat()} is before {request.as_of.isoformat()}"
            )
    for i, trip in enumerate(request.trips, start=1):
        if trip.on < request.as_of:
            raise PlannerInputError(
                f"trip {i} on {trip.on.isoformat()} is before {request.as_of.isoformat()}"
            )
        if trip.toll < 0:
            raise PlannerInputError(f"trip {i} has a negative toll: {trip.toll}")


# -- context ---------------------------------------------------------------------------------


def build_context(request: PlannerInput) -> Context:
    """Everything fixed for the simulations of one request."""
    units = [u for spec in request.pools for u in spec.grid]
    units += [spec.auto_unit for spec in request.pools if spec.auto_unit is not None]
    earning_steps = [spec.earning.yen for spec in request.pools if spec.earning is not None]
    scale = value_scale(units, earning_steps)
    grids = tuple(Grid(spec.grid, scale) for spec in request.pools)
    operator_pool = {op: index for index, spec in enumerate(request.pools) for op in spec.operators}
    trips = tuple(sorted(request.trips, key=lambda t: t.on))
    trips_by_day: dict[dt.date, tuple[PlannedTrip, ...]] = {}
    for trip in trips:
        trips_by_day[trip.on] = (*trips_by_day.get(trip.on, ()), trip)
    forecasts = _forecasts(request, trips)
    horizon_end = _horizon_end(request, trips, forecasts)
    dates = _dates(request, trips, horizon_end)
    future_use: dict[dt.date, int] = {}
    after = 0
    for day in reversed(dates):
        future_use[day] = after
        after += sum(
            t.toll for t in trips_by_day.get(day, ()) if t.operator in request.rebate_operators
        )
    need = request.need
    need_yen = 0
    if need is not None and any(op in request.rebate_operators for op in need.operators):
        need_yen = need.yen
    weights = _operator_weights(request)
    cost_rate, forgone_rule = _forgone_cost(
        request, grids, forecasts, scale, operator_pool, weights
    )
    return Context(
        request=request,
        grids=grids,
        forecasts=forecasts,
        scale=scale,
        operator_pool=operator_pool,
        cost_rate=cost_rate,
        forgone_rule=forgone_rule,
        horizon_end=horizon_end,
        dates=dates,
        trips_by_day=trips_by_day,
        future_use=future_use,
        need_yen=need_yen,
        max_unit_yen=max((u.yen for spec in request.pools for u in spec.grid), default=0),
    )


def _forecasts(request: PlannerInput, trips: tuple[PlannedTrip, ...]) -> tuple[Forecast, ...]:
    """Per pool: the planned trips' points (billed in full) while they last, then the recent
    monthly earnings."""
    monthly_from = grant_date_for(trips[-1].on) if trips else request.as_of
    out: list[Forecast] = []
    for spec in request.pools:
        rule = spec.earning
        ops = set(spec.operators)
        mine = [t for t in trips if t.operator in ops] if rule is not None else []
        cumulative = [0]
        for trip in mine:
            assert rule is not None
            cumulative.append(cumulative[-1] + rule.points_for(trip.toll))
        out.append(
            Forecast(
                monthly=spec.monthly_points,
                monthly_from=monthly_from,
                trip_days=tuple(t.on for t in mine),
                grant_days=tuple(grant_date_for(t.on) for t in mine),
                cumulative=tuple(cumulative),
            )
        )
    return tuple(out)


def _horizon_end(
    request: PlannerInput, trips: tuple[PlannedTrip, ...], forecasts: tuple[Forecast, ...]
) -> dt.date:
    """The three expiry buckets (this month, next, the month after), the need's date or the
    last trip, and — for a pool with auto-exchange on whose points below the auto unit will
    expire — that expiry."""
    as_of = request.as_of
    end = month_end(add_months(as_of, 2))
    if request.need is not None:
        end = max(end, request.need.by)
    if trips:
        end = max(end, trips[-1].on)
    for spec, forecast in zip(request.pools, forecasts, strict=True):
        auto = spec.auto_unit
        if not spec.auto_exchange or auto is None:
            continue
        lots = sorted(
            (lot for lot in spec.lots if lot.remaining > 0 and lot.expires_on >= as_of),
            key=lambda lot: lot.expires_on,
        )
        held = sum(lot.remaining for lot in lots)
        expiring = 0
        for lot in lots:
            expiring += lot.remaining
            reach = held + forecast.between(as_of, lot.expires_on)
            if reach // auto.points * auto.points < expiring:
                end = max(end, lot.expires_on)
                break
    return end


def _dates(
    request: PlannerInput, trips: tuple[PlannedTrip, ...], horizon_end: dt.date
) -> tuple[dt.date, ...]:
    as_of = request.as_of
    days: set[dt.date] = {as_of, horizon_end}
    days.update(t.on for t in trips)
    month = first_of_next_month(as_of)
    while month <= horizon_end:
        days.add(month)
        days.add(month.replace(day=20))
        days.add(month_end(month))
        month = first_of_next_month(month)
    if as_of.day < 20:
        days.add(as_of.replace(day=20))
    days.add(month_end(as_of))
    for spec in request.pools:
        for lot in spec.lots:
            days.add(lot.expires_on)
            days.add(lot.granted_on)
    for trip in trips:
        days.add(expiry_for(trip.on))
    return tuple(sorted(d for d in days if as_of <= d <= horizon_end))


def _operator_weights(request: PlannerInput) -> dict[str, int]:
    weights: dict[str, int] = {}
    if request.need is not None:
        for op in request.need.operators:
            weights[op] = weights.get(op, 0) + 1
    for trip in request.trips:
        if trip.operator in request.rebate_operators:
            weights[trip.operator] = weights.get(trip.operator, 0) + trip.toll
    if not weights or not any(weights.values()):
        weights = {op: 1 for spec in request.pools for op in spec.operators[:1]}
    return weights


def _forgone_cost(
    request: PlannerInput,
    grids: tuple[Grid, ...],
    forecasts: tuple[Forecast, ...],
    scale: int,
    operator_pool: dict[str, int],
    weights: dict[str, int],
) -> tuple[int, EarningRule | None]:
    """Scaled yen that one yen of rebate costs when it pays a toll instead of the card: the
    points that toll would have earned, at the value a new point of that pool has."""
    total_weight = 0
    total_cost = 0
    heaviest: tuple[int, EarningRule | None] = (0, None)
    for op, weight in weights.items():
        total_weight += weight
        index = operator_pool.get(op)
        if index is None or op not in request.rebate_operators:
            continue
        spec = request.pools[index]
        rule = spec.earning
        if rule is None or rule.points == 0:
            continue
        grid = grids[index]
        held = sum(lot.remaining for lot in spec.lots if lot.expires_on >= request.as_of)
        year_later = request.as_of + dt.timedelta(days=365)
        rate, unit = grid.reach(held + forecasts[index].between(request.as_of, year_later))
        if unit is None:
            rate = scale * grid.min_unit.yen // grid.min_unit.points
        total_cost += weight * (rate * rule.points // rule.yen)
        if weight > heaviest[0]:
            heaviest = (weight, rule)
    if total_weight == 0:
        return 0, None
    return total_cost // total_weight, heaviest[1]


# -- alternatives ----------------------------------------------------------------------------


def _signature(outcome: Outcome) -> tuple[tuple[dt.date, str, int, int], ...]:
    return tuple((e.at, e.pool, e.points, e.yen) for e in outcome.exchanges)


def _alternatives(ctx: Context, best: Outcome, demand: int) -> tuple[Alternative, ...]:
    """Other plans, simulated to the end of the horizon so their figures compare."""
    request = ctx.request
    tried: list[tuple[str, Outcome]] = []
    first = _first_decision(best, request.as_of)
    if request.trips:
        tried.append(("毎回、最小単位で必要額だけ交換", simulate(ctx, decide_naive)))
        tried.append(("今日まとめて交換", simulate(ctx, decide_upfront, consult_first=True)))
        tried.append(("手動では交換しない", simulate(ctx, decide_nothing)))
    elif first is not None and first.situation.demand > first.situation.balance:
        for rival in _distinct_rivals(ctx, first):
            outcome = simulate(ctx, decide_first(rival.picks))
            tried.append((_first_label(ctx, outcome), outcome))
        naive = simulate(ctx, decide_naive_first)
        tried.append((_first_label(ctx, naive), naive))
        wait = simulate(ctx, decide_first(None))
        tried.append(("今は交換しない", wait))
    else:
        for index, spec in enumerate(request.pools):
            grid = ctx.grids[index]
            usable = sum(
                lot.remaining
                for lot in spec.lots
                if lot.granted_on <= request.as_of <= lot.expires_on
            )
            options = grid.options(usable, grid.best_within(usable))
            if not options:
                continue
            points, yen = options[-1]
            outcome = simulate(
                ctx, decide_first((Pick(index, points, yen, ()),)), consult_first=True
            )
            tried.append((_first_label(ctx, outcome) + "（今すぐ）", outcome))
    margin = first.margin if first is not None else 0
    seen = {_signature(best)}
    chosen: list[Alternative] = []
    for label, outcome in tried:
        signature = _signature(outcome)
        if signature in seen:
            continue
        seen.add(signature)
        chosen.append(make_alternative(label, outcome, best, ctx, demand=demand, margin=margin))
    return tuple(chosen[:MAX_ALTERNATIVES])


def _shape(
    ctx: Context, cand: Candidate, demand: int
) -> tuple[frozenset[tuple[int, ExchangeUnit]], bool]:
    """What kind of choice a candidate is: which units of which pools, and whether it covers.
    13 and 14 units of 100P→100円 are the same kind of choice."""
    units = frozenset(
        (p.pool, u) for p in cand.picks for u in with_units(ctx.grids[p.pool], p).units
    )
    return units, cand.covered >= demand


def _distinct_rivals(ctx: Context, first: Decision, limit: int = 2) -> list[Candidate]:
    demand = first.situation.demand
    seen = {_shape(ctx, first.chosen, demand)}
    rivals: list[Candidate] = []
    for rival in first.ranked:
        shape = _shape(ctx, rival, demand)
        if shape in seen or not rival.picks:
            continue
        seen.add(shape)
        rivals.append(rival)
        if len(rivals) == limit:
            break
    return rivals


def _first_decision(best: Outcome, as_of: dt.date) -> Decision | None:
    for decision in best.decisions:
        if decision.situation.on == as_of:
            return decision
    return None


def _first_label(ctx: Context, outcome: Outcome) -> str:
    first = [e for e in outcome.exchanges if e.at == ctx.request.as_of]
    return alternative_label(first, ctx.request.pools)
