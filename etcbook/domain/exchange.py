"""Manual exchange (ポイント交換) on a pool's unit grid: choosing units, checking a request."""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd

from etcbook.domain.money import exchange_totals
from etcbook.domain.points import ExchangeUnit
from etcbook.domain.rules import PoolRule


class ExchangeRefused(ValueError):
    """An exchange that cannot be made; nothing is recorded. The message is Japanese.

    Attributes:
        pool: the pool key.
        needed: points the exchange needs.
        available: points the pool holds at that time.
    """

    def __init__(self, message: str, *, pool: str, needed: int, available: int) -> None:
        super().__init__(message)
        self.pool = pool
        self.needed = needed
        self.available = available


def best_units_for(points: int, grid: Sequence[ExchangeUnit]) -> tuple[ExchangeUnit, ...]:
    """The combination of grid units worth the most yen using at most ``points`` points.

    Ties go to the combination using fewer points, then fewer units. Returned largest unit
    first; empty when ``points`` is below the smallest unit.

    >>> nexco = (ExchangeUnit(1000, 500), ExchangeUnit(3000, 2500), ExchangeUnit(5000, 5000))
    >>> best_units_for(2000, nexco)
    (ExchangeUnit(points=1000, yen=500), ExchangeUnit(points=1000, yen=500))
    >>> [u.points for u in best_units_for(6000, nexco)]
    [5000, 1000]
    """
    units = sorted(set(grid), key=lambda unit: (unit.points, unit.yen))
    if points <= 0 or not units:
        return ()
    step = 0
    for unit in units:
        step = gcd(step, unit.points)
    sizes = [unit.points // step for unit in units]
    budget = points // step
    # Far from the budget's edge the unit with the best yen per point is always part of an
    # optimal choice (exchange argument: fewer than `size` other units can always be kept), so
    # only a bounded remainder needs the exact search.
    best = 0
    for i in range(1, len(units)):
        # yen per step compared exactly: units[i].yen / sizes[i] >= units[best].yen / sizes[best]
        if units[i].yen * sizes[best] >= units[best].yen * sizes[i]:
            best = i
    limit = sizes[best] * (max(sizes) + 1)
    bulk = 0
    if budget > limit:
        bulk = (budget - limit) // sizes[best]
        budget -= bulk * sizes[best]
    chosen = _search(budget, units, sizes)
    chosen.extend([best] * bulk)
    return tuple(sorted((units[i] for i in chosen), key=lambda unit: -unit.points))


def _search(budget: int, units: Sequence[ExchangeUnit], sizes: Sequence[int]) -> list[int]:
    """Exact unbounded knapsack over ``budget`` steps: indexes of the chosen units."""
    unreachable = -1
    yen = [unreachable] * (budget + 1)
    count = [0] * (budget + 1)
    last = [-1] * (budget + 1)
    yen[0] = 0
    for used in range(1, budget + 1):
        for i, size in enumerate(sizes):
            if size > used or yen[used - size] == unreachable:
                continue
            candidate = yen[used - size] + units[i].yen
            if candidate > yen[used] or (
                candidate == yen[used] and count[used - size] + 1 < count[used]
            ):
                yen[used] = candidate
                count[used] = count[used - size] + 1
                last[used] = i
    best_used = 0
    for used in range(budget + 1):
        if yen[used] > yen[best_used]:
            best_used = used
    chosen: list[int] = []
    while best_used > 0:
        i = last[best_used]
        chosen.append(i)
        best_used -= sizes[i]
    return chosen


def units_for_request(
    pool: PoolRule,
    *,
    points: int | None = None,
    unit_points: Sequence[int] | None = None,
) -> tuple[ExchangeUnit, ...]:
    """The units of a manual exchange asked either as a number of points or as unit sizes.

    Raises:
        ValueError: neither or both given, a unit not on the pool's grid, or fewer points than
            the smallest unit (message in Japanese).
    """
    if (points is None) == (unit_points is None):
        raise ValueError("交換するポイント数か交換単位のどちらか一方を指定してください")
    if points is not None:
        units = best_units_for(points, pool.manual_units)
        if not units:
            smallest = pool.manual_units[0].points
            raise ValueError(f"{pool.name}の交換単位は{smallest:,}Pからです（指定: {points:,}P）")
        return units
    assert unit_points is not None
    by_points = {unit.points: unit for unit in pool.manual_units}
    chosen: list[ExchangeUnit] = []
    for size in unit_points:
        unit = by_points.get(size)
        if unit is None:
            grid = "、".join(f"{u.points:,}P→{u.yen:,}円" for u in pool.manual_units)
            raise ValueError(f"{size:,}Pは{pool.name}の交換単位にありません（{grid}）")
        chosen.append(unit)
    if not chosen:
        raise ValueError("交換単位を1つ以上指定してください")
    return tuple(chosen)


def refusal_for(pool: PoolRule, units: Sequence[ExchangeUnit], available: int) -> ExchangeRefused:
    """The refusal of exchanging ``units`` when the pool holds only ``available`` points."""
    needed, _ = exchange_totals(units)
    return ExchangeRefused(
        f"{pool.name}のポイントが足りません（必要 {needed:,}P、残高 {available:,}P）",
        pool=pool.key,
        needed=needed,
        available=available,
    )
