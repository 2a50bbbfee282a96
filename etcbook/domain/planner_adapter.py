"""The mileage engine's card state and rules, as the exchange planner's input (pure).

The planner does not depend on the engine; this module is the one place that knows both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from etcbook.domain.calendar import add_months, expiry_for, month_start
from etcbook.domain.mileage import CardState, MonthlyEarning
from etcbook.domain.planner_types import (
    EarningRule,
    Need,
    PlannedTrip,
    PlannerInput,
    PoolState,
)
from etcbook.domain.points import Lot
from etcbook.domain.rules import Rules

RECENT_MONTHS = 3
"""How many exit months before the as-of month make the "recent monthly earnings"."""


def planner_input(
    state: CardState,
    rules: Rules,
    *,
    auto_exchange: bool,
    need: Need | None = None,
    trips: Sequence[PlannedTrip] = (),
    as_of: dt.date | None = None,
    recent_months: int = RECENT_MONTHS,
) -> PlannerInput:
    """What the planner needs about a card, from its state at ``as_of`` (default: the state's
    date) and the rules in force that day.

    Every pool of the rules is given: its lots still holding points, plus the points earned by
    trips already made and not yet granted (付与予定) as lots usable from their grant day; its
    grids; the operators earning into it that day with their base earning rate; and its points
    per exit month over the ``recent_months`` months before the as-of month (counted from the
    card's first month with earnings when it is younger).
    """
    day = as_of if as_of is not None else state.as_of.date()
    first_month = _first_earning_month(state.earnings.values())
    earners = rules.pools_of_operators()
    pools: list[PoolState] = []
    for key, rule in rules.pools.items():
        held = state.pools.get(key)
        lots: list[Lot] = [lot for lot in (held.lots if held else ()) if lot.remaining > 0]
        for earning in state.earnings.get(key, ()):
            if not earning.granted and earning.grant_on > day and earning.points > 0:
                lots.append(
                    Lot(
                        key,
                        earning.grant_on,
                        expiry_for(earning.grant_on),
                        earning.points,
                        earning.points,
                    )
                )
        operators = tuple(
            op for op in earners.get(key, ()) if rules.operators[op].earns_points_on(day)
        )
        pools.append(
            PoolState(
                pool=key,
                lots=tuple(lots),
                grid=rule.manual_units,
                auto_unit=rule.auto_unit,
                auto_exchange=auto_exchange,
                recent_monthly_points=recent_monthly_points(
                    state.earnings.get(key, ()), day, months=recent_months, since=first_month
                ),
                operators=operators,
                earning=_earning_rule(rules, operators),
                label=rule.name,
            )
        )
    rebate_operators = frozenset(
        key for key, operator in rules.operators.items() if operator.rebate_usable_on(day)
    )
    return PlannerInput(
        as_of=day,
        pools=tuple(pools),
        rebate_balance=state.rebate_balance,
        rebate_operators=rebate_operators,
        need=need,
        trips=tuple(trips),
    )


def recent_monthly_points(
    earnings: Iterable[MonthlyEarning],
    as_of: dt.date,
    *,
    months: int = RECENT_MONTHS,
    since: dt.date | None = None,
) -> tuple[int, ...]:
    """Points (base + bonus) earned in each of the ``months`` exit months before ``as_of``'s
    month, oldest first; months without trips count as 0; months before ``since`` are left
    out (a young card is not averaged with months it did not exist)."""
    by_month = {e.month: e.points for e in earnings}
    current = month_start(as_of)
    out: list[int] = []
    for back in range(months, 0, -1):
        month = add_months(current, -back)
        if since is not None and month < since:
            continue
        out.append(by_month.get(month, 0))
    return tuple(out)


def _first_earning_month(earnings: Iterable[Iterable[MonthlyEarning]]) -> dt.date | None:
    months = [e.month for pool in earnings for e in pool]
    return min(months) if months else None


def _earning_rule(rules: Rules, operators: Iterable[str]) -> EarningRule | None:
    for key in operators:
        rate = rules.operators[key].earning
        if rate is not None:
            return EarningRule(rate.yen_per_unit, rate.points_per_unit)
    return None
