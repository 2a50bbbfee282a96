"""Input and output records of the exchange planner (交換計画): frozen, integer yen and points."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from etcbook.domain.points import ExchangeUnit, Lot


class PlannerInputError(ValueError):
    """The planner was asked something impossible (a trip before the as-of date, ...)."""


@dataclass(frozen=True, slots=True)
class EarningRule:
    """Base earning of a pool (ポイント付与率): every full ``yen`` 円 billed earns ``points`` P.

    Floored per trip. Monthly bonus tiers are not part of the planner's forecast.

    Attributes:
        yen: billed yen per step (NEXCO: 10, 名古屋: 100, 神戸: 50).
        points: points per step (NEXCO: 1, 阪神 8号京都線: 3).
    """

    yen: int
    points: int

    def points_for(self, billed: int) -> int:
        """Points one trip billed ``billed`` 円 earns, rounded down per trip."""
        if billed <= 0:
            return 0
        return billed // self.yen * self.points


@dataclass(frozen=True, slots=True)
class PoolState:
    """One point pool of the card as the planner sees it (ポイント残高 per operator group).

    Attributes:
        pool: the pool key (``nexco``, ``honshi``, ``nagoya``, ...).
        lots: the pool's points by grant, with expiry; lots granted after the as-of date are
            points already earned and not yet granted (付与予定), usable from their grant date.
        grid: the manual exchange units (交換単位).
        auto_unit: the auto-exchange unit (自動還元単位), if the pool has one.
        auto_exchange: whether ポイント自動還元 is switched on for this card.
        recent_monthly_points: points earned in each recent month (the forecast uses their mean).
        operators: operators whose billed tolls earn points into this pool.
        earning: base earning rule for those operators (None: the pool earns nothing new).
        label: the pool's name as the driver reads it (Japanese); defaults to a built-in name.
    """

    pool: str
    lots: tuple[Lot, ...]
    grid: tuple[ExchangeUnit, ...]
    auto_unit: ExchangeUnit | None = None
    auto_exchange: bool = False
    recent_monthly_points: tuple[int, ...] = ()
    operators: tuple[str, ...] = ()
    earning: EarningRule | None = None
    label: str = ""

    @property
    def monthly_points(self) -> int:
        """Mean of the recent monthly earnings, rounded down (0 when unknown)."""
        if not self.recent_monthly_points:
            return 0
        return max(0, sum(self.recent_monthly_points) // len(self.recent_monthly_points))


@dataclass(frozen=True, slots=True)
class Need:
    """必要額: about ``yen`` 円 of tolls to pay with rebate by ``by``, on ``operators``.

    Attributes:
        yen: the tolls expected (0: no trips planned, only expiry matters).
        by: the date by which the trips happen.
        operators: the operators the trips are on.
    """

    yen: int
    by: dt.date
    operators: tuple[str, ...] = ("nexco",)


@dataclass(frozen=True, slots=True)
class PlannedTrip:
    """予定走行: a trip the driver plans.

    Attributes:
        on: the (exit) date.
        operator: the operator key.
        toll: the expected toll (通行料金), yen.
    """

    on: dt.date
    operator: str
    toll: int


@dataclass(frozen=True, slots=True)
class PlannerInput:
    """Everything the planner needs about one card at a date, independent of the engine.

    Attributes:
        as_of: the date of the state (the plan starts on it).
        pools: the card's point pools.
        rebate_balance: 還元額残高 at the as-of date.
        rebate_operators: operators on which rebate pays tolls (others are billed in full).
        need: a need (必要額), or None when ``trips`` are given.
        trips: planned trips, in the order they are driven (same-day trips in exit order).
    """

    as_of: dt.date
    pools: tuple[PoolState, ...]
    rebate_balance: int
    rebate_operators: frozenset[str]
    need: Need | None = None
    trips: tuple[PlannedTrip, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedExchange:
    """One exchange of the plan (ポイント交換).

    Attributes:
        at: the day to exchange on (before that day's trips).
        pool: the pool key.
        units: the units, largest first (5,000P + 1,000P -> two units).
        points: points consumed.
        yen: rebate credited.
        purpose: ``need``, ``trips``, ``expiry`` (or several joined by ``+``), or ``auto``.
    """

    at: dt.date
    pool: str
    units: tuple[ExchangeUnit, ...]
    points: int
    yen: int
    purpose: str


@dataclass(frozen=True, slots=True)
class ExpiryLoss:
    """失効: points that expire under the plan.

    Attributes:
        on: the expiry date.
        pool: the pool key.
        points: points lost.
        reason: ``below_unit`` (no unit could take them) or ``auto_below_unit`` (auto-exchange
            on, below its unit, and not enough points for a manual unit either).
    """

    on: dt.date
    pool: str
    points: int
    reason: str


@dataclass(frozen=True, slots=True)
class Alternative:
    """An option the planner rejected, with its figures and why (in Japanese).

    Attributes:
        label: what the option is, e.g. ``1,000P→500円×3``.
        exchanges: the manual exchanges it would make.
        points: points it spends.
        yen: rebate it obtains.
        covered: yen of the need or planned trips it pays with rebate.
        shortfall: yen it leaves to the card.
        rebate_after: rebate left at the end.
        points_lost: points that expire under it.
        value: what it is worth overall, yen (rebate obtained + what the points left can still
            become − the points the leftover rebate will cost).
        reason: why it was not chosen.
    """

    label: str
    exchanges: tuple[PlannedExchange, ...]
    points: int
    yen: int
    covered: int
    shortfall: int
    rebate_after: int
    points_lost: int
    value: int
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """The planner's answer (交換計画).

    Attributes:
        as_of: the plan's start date.
        horizon_end: the last day the plan looks at.
        exchanges: what to exchange by hand, dated.
        auto_exchanges: what ポイント自動還元 will exchange on the 20ths, as simulated.
        demand: yen of tolls the rebate should pay (the need or the planned trips on rebate roads).
        covered: yen of them paid by rebate under the plan.
        shortfall: yen of them left to the card.
        rebate_after: rebate left after the planned trips (or after the need).
        points_lost: points that expire anyway under the plan, within the horizon.
        losses: those expiries, one per pool and date.
        forgone_points: points that the rebate left at the end will cost when it pays future
            tolls (rebate-paid tolls earn nothing), rounded down.
        value: the plan's worth in yen, as for alternatives.
        explanation: one short Japanese sentence per choice.
        alternatives: options it rejected, with their figures.
    """

    as_of: dt.date
    horizon_end: dt.date
    exchanges: tuple[PlannedExchange, ...]
    auto_exchanges: tuple[PlannedExchange, ...]
    demand: int
    covered: int
    shortfall: int
    rebate_after: int
    points_lost: int
    losses: tuple[ExpiryLoss, ...]
    forgone_points: int
    value: int
    explanation: tuple[str, ...]
    alternatives: tuple[Alternative, ...] = field(default=())
