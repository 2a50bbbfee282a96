"""From the mileage engine's state to the exchange planner's view of a card's pools."""

from __future__ import annotations

from etcbook.domain.calendar import expiry_for
from etcbook.domain.mileage import CardState
from etcbook.domain.planner_types import EarningRule, PoolState
from etcbook.domain.points import Lot
from etcbook.domain.rules import Rules

RECENT_MONTHS = 6
"""How many recent (granted) months of earnings the planner's forecast averages."""


def planner_pools(
    state: CardState, rules: Rules, *, auto_exchange: bool, recent_months: int = RECENT_MONTHS
) -> tuple[PoolState, ...]:
    """The planner's :class:`PoolState` of every pool of ``state``.

    Lots are the points held at the as-of time plus the grants trips already made will bring
    (付与予定, dated on their 20th); recent monthly points are the last ``recent_months``
    granted months (base plus bonus) of the pool, oldest first.
    """
    operators_of = rules.pools_of_operators()
    pools: list[PoolState] = []
    for key, pool_state in state.pools.items():
        rule = rules.pools.get(key)
        if rule is None:
            continue
        earnings = state.earnings.get(key, ())
        pending = tuple(
            Lot(key, e.grant_on, expiry_for(e.grant_on), e.points, e.points)
            for e in earnings
            if not e.granted and e.points > 0
        )
        granted = [e.points for e in earnings if e.granted]
        operators = operators_of.get(key, ())
        earning = None
        if operators:
            rate = rules.operators[operators[0]].earning
            if rate is not None:
                earning = EarningRule(yen=rate.yen_per_unit, points=rate.points_per_unit)
        pools.append(
            PoolState(
                pool=key,
                lots=(*pool_state.lots, *pending),
                grid=rule.manual_units,
                auto_unit=rule.auto_unit,
                auto_exchange=auto_exchange,
                recent_monthly_points=tuple(granted[-recent_months:]),
                operators=operators,
                earning=earning,
                label=rule.name,
            )
        )
    return tuple(pools)
