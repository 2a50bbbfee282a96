"""Exchange grids (交換単位) and point valuation for the exchange planner.

Everything here is integer arithmetic. Values of points are kept as *scaled yen*: yen multiplied
by a per-plan scale chosen so that every exchange rate (yen per point) and every earning rate
(points per yen) is an exact integer after scaling. No float ever touches money.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import gcd, lcm

from etcbook.domain.points import ExchangeUnit


@lru_cache(maxsize=4096)
def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    first_next = first_of_next_month(day)
    return first_next - dt.timedelta(days=1)


def first_of_next_month(day: dt.date) -> dt.date:
    """The first day of the month after ``day``'s."""
    if day.month == 12:
        return dt.date(day.year + 1, 1, 1)
    return dt.date(day.year, day.month + 1, 1)


def twentieths_between(start: dt.date, end: dt.date) -> int:
    """How many 20ths of a month fall in ``(start, end]`` (grant days after ``start``)."""
    if end <= start:
        return 0
    months = (end.year * 12 + end.month) - (start.year * 12 + start.month)
    return months + (1 if end.day >= 20 else 0) - (1 if start.day >= 20 else 0)


def rate_text(unit: ExchangeUnit) -> str:
    """``1P=1円``, ``1P≈0.83円``: the yen one point is worth in ``unit``, for explanations."""
    hundredths, rest = divmod(unit.yen * 100, unit.points)
    whole, cents = divmod(hundredths, 100)
    if rest == 0 and cents == 0:
        return f"1P={whole}円"
    digits = f"{whole}.{cents:02d}".rstrip("0")
    return f"1P={digits}円" if rest == 0 else f"1P≈{digits}円"


def value_scale(units: Iterable[ExchangeUnit], earning_yen_steps: Iterable[int]) -> int:
    """A scale that makes every ``yen / points`` and ``points / yen`` rate an integer."""
    points_lcm = 1
    for unit in units:
        points_lcm = lcm(points_lcm, unit.points)
    yen_lcm = 1
    for step in earning_yen_steps:
        yen_lcm = lcm(yen_lcm, step)
    return points_lcm * yen_lcm


class Grid:
    """One pool's manual exchange grid, with the best combination of units for any points.

    ``exact(k)`` is the most yen that exactly ``k`` points make on the grid (the engine's rule:
    6,000P in the NEXCO pool = 5,000P + 1,000P = 5,500円). Tables grow on demand; the object is
    a private calculator, never a domain record.
    """

    def __init__(self, units: Sequence[ExchangeUnit], scale: int) -> None:
        if not units:
            raise ValueError("an exchange grid needs at least one unit")
        for unit in units:
            if unit.points <= 0 or unit.yen <= 0:
                raise ValueError(f"exchange unit must be positive: {unit}")
        self.units: tuple[ExchangeUnit, ...] = tuple(
            sorted(set(units), key=lambda u: (u.points, u.yen))
        )
        self.step = 0
        for unit in self.units:
            self.step = gcd(self.step, unit.points)
        self.min_unit = self.units[0]
        self.scale = scale
        first = self.min_unit
        self.single_rate = all(u.yen * first.points == first.yen * u.points for u in self.units)
        """Every unit pays the same yen per point (a fine grid: 100P→100円, 200P→100円)."""
        # best rate reachable with at least u.points available, ascending by points
        self._reach: list[tuple[int, int, ExchangeUnit]] = []
        best: ExchangeUnit | None = None
        for unit in self.units:
            if best is None or unit.yen * best.points > best.yen * unit.points:
                best = unit
            self._reach.append((unit.points, scale * best.yen // best.points, best))
        self._reach_points = [entry[0] for entry in self._reach]
        self._exact: list[int] = [0]
        self._last: list[int] = [-1]
        self._pareto_k: list[int] = [0]
        self._pareto_yen: list[int] = [0]
        self._pareto_upto = 0

    # -- combinations ---------------------------------------------------------------------
    def _grow(self, index: int) -> None:
        exact, last = self._exact, self._last
        steps = [(u.points // self.step, u.yen, i) for i, u in enumerate(self.units)]
        for i in range(len(exact), index + 1):
            best, pick = -1, -1
            for size, yen, unit_index in steps:
                if size <= i and exact[i - size] >= 0 and exact[i - size] + yen > best:
                    best, pick = exact[i - size] + yen, unit_index
            exact.append(best)
            last.append(pick)

    def exact(self, points: int) -> int:
        """Most yen from exactly ``points`` points, or -1 when no combination of units makes it."""
        if points < 0 or points % self.step:
            return -1
        index = points // self.step
        if index >= len(self._exact):
            self._grow(index)
        return self._exact[index]

    def decompose(self, points: int) -> tuple[ExchangeUnit, ...]:
        """The units of the best combination for exactly ``points`` points, largest first."""
        if self.exact(points) < 0:
            raise ValueError(f"{points}P cannot be made from {self.units}")
        picked: list[ExchangeUnit] = []
        index = points // self.step
        while index > 0:
            unit = self.units[self._last[index]]
            picked.append(unit)
            index -= unit.points // self.step
        picked.sort(key=lambda u: (-u.points, -u.yen))
        return tuple(picked)

    def best_within(self, points: int) -> int:
        """Most yen from at most ``points`` points (what a pool could still become)."""
        if points < self.min_unit.points:
            return 0
        self._extend_pareto(points)
        i = bisect_right(self._pareto_k, points) - 1
        return self._pareto_yen[i]

    def _extend_pareto(self, points: int) -> None:
        if points <= self._pareto_upto:
            return
        k = self._pareto_upto + self.step
        self.exact(points - points % self.step)
        best = self._pareto_yen[-1]
        while k <= points:
            yen = self._exact[k // self.step]
            if yen > best:
                self._pareto_k.append(k)
                self._pareto_yen.append(yen)
                best = yen
            k += self.step
        self._pareto_upto = points - points % self.step

    def options(self, usable: int, cap_yen: int) -> list[tuple[int, int]]:
        """Worthwhile exchanges ``(points, yen)`` with points <= usable and yen <= cap_yen.

        Only combinations where more points buy more yen are kept: 2 × 1,000P is never offered
        beside 3,000P alone when both cost the same points.
        """
        if usable < self.min_unit.points or cap_yen <= 0:
            return []
        self._extend_pareto(usable)
        end = bisect_right(self._pareto_k, usable)
        end_yen = bisect_right(self._pareto_yen, cap_yen, 0, end)
        return list(zip(self._pareto_k[1:end_yen], self._pareto_yen[1:end_yen], strict=True))

    # -- valuation ------------------------------------------------------------------------
    def reach(self, available: int) -> tuple[int, ExchangeUnit | None]:
        """Scaled yen per point of the best-rate unit that ``available`` points can make."""
        i = bisect_right(self._reach_points, available) - 1
        if i < 0:
            return 0, None
        _, rate, unit = self._reach[i]
        return rate, unit

    def best_rate_unit(self) -> ExchangeUnit:
        """The unit with the highest yen per point."""
        return self._reach[-1][2]


@dataclass(frozen=True, slots=True)
class Forecast:
    """Points a pool is expected to receive (見込み付与), for valuing what it holds.

    During the planned trips, the forecast is what those trips would earn if billed in full,
    granted on the 20th after each trip; after the last planned grant, the recent monthly
    earnings resume (the planned trips stand for the driver's driving while they last).

    Attributes:
        monthly: recent points per month.
        monthly_from: the day after which recent earnings count again.
        trip_days: days of the planned trips on the pool's operators, sorted.
        grant_days: their grant days (same order).
        cumulative: running total of their points, starting with 0.
    """

    monthly: int
    monthly_from: dt.date
    trip_days: tuple[dt.date, ...] = ()
    grant_days: tuple[dt.date, ...] = ()
    cumulative: tuple[int, ...] = (0,)

    def between(self, on: dt.date, until: dt.date) -> int:
        """Points expected to be granted after ``on`` and on or before ``until``, from trips
        made on or after ``on``."""
        recent = self.monthly * twentieths_between(max(on, self.monthly_from), until)
        if not self.trip_days:
            return recent
        start = bisect_left(self.trip_days, on)
        end = bisect_right(self.grant_days, until)
        planned = self.cumulative[end] - self.cumulative[start] if end > start else 0
        return recent + planned


def pool_value(
    groups: Sequence[tuple[dt.date, int]],
    *,
    grid: Grid,
    on: dt.date,
    forecast: Forecast,
) -> int:
    """Scaled yen the points in ``groups`` can still become, at the best rate they can reach.

    ``groups`` are ``(expires_on, points)`` in expiry order. Points expiring on a date are
    valued at the best unit the pool can make by then: what is held and not yet expired plus
    what the forecast brings until that date. Points that can reach no unit before they expire
    are worth nothing. When nothing more is expected, the total is capped by the best
    combination of the points held, so odd points that no unit can take are not counted.
    """
    total = 0
    suffix = 0
    for _, points in groups:
        suffix += points
    value = 0
    last = on
    coming = 0
    coming_until: dt.date | None = None
    for expires_on, points in groups:
        if points <= 0:
            continue
        if expires_on != coming_until:
            coming, coming_until = forecast.between(on, expires_on), expires_on
        available = suffix + coming
        rate, _ = grid.reach(available)
        value += points * rate
        total += points
        suffix -= points
        last = expires_on
    if (coming if coming_until == last else forecast.between(on, last)) <= 0:
        value = min(value, grid.best_within(total) * grid.scale)
    return value
