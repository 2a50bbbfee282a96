"""Money and points arithmetic: integer yen and points, one named function per rounding rule."""

from __future__ import annotations

from collections.abc import Iterable

from etcbook.domain.points import ExchangeUnit
from etcbook.domain.rules import BonusRule, EarningRate

MORNING_EVENING_LOW_COUNT = 5
"""平日朝夕割引: from this many counted trips in a month, ``MORNING_EVENING_LOW_PERCENT`` back."""

MORNING_EVENING_HIGH_COUNT = 10
"""平日朝夕割引: from this many counted trips in a month, ``MORNING_EVENING_HIGH_PERCENT`` back."""

MORNING_EVENING_LOW_PERCENT = 30
MORNING_EVENING_HIGH_PERCENT = 50


def rebate_to_apply(toll: int, balance: int) -> int:
    """還元額充当: rebate taken by a trip, up to its toll, never more than the balance."""
    if toll <= 0 or balance <= 0:
        return 0
    return toll if toll < balance else balance


def points_for_billed(billed: int, rate: EarningRate) -> int:
    """基本ポイント of one trip, floored per trip: every *full* unit of the billed amount earns.

    The part paid by rebate earns nothing, so ``billed`` is the toll minus the rebate applied.
    ``100円につき3P`` on 250円 gives 2 units, 6P (端数にはポイントが付かない).
    """
    if billed <= 0:
        return 0
    return billed // rate.yen_per_unit * rate.points_per_unit


def monthly_bonus_points(monthly_billed: int, bonus: BonusRule) -> int:
    """加算ポイント on a bonus group's monthly billed total, read like tax brackets, floored.

    Each tier's rate applies to the part of the total inside that tier, per *full* unit
    (名古屋, 12,000円: 5,000円 × 0 + 5,000円 × 3P/100円 + 2,000円 × 6P/100円 = 270P).
    """
    if monthly_billed <= 0:
        return 0
    unit = bonus.yen_per_unit
    tiers = bonus.tiers
    total = 0
    for i, tier in enumerate(tiers):
        if monthly_billed <= tier.above:
            break
        upper = tiers[i + 1].above if i + 1 < len(tiers) else monthly_billed
        part = min(monthly_billed, upper) - tier.above
        total += part // unit * tier.points_per_unit
    return total


def morning_evening_percent(counted_trips: int) -> int:
    """平日朝夕割引 rate for a month with ``counted_trips``: 0, 30 (5–9) or 50 (10 or more)."""
    if counted_trips >= MORNING_EVENING_HIGH_COUNT:
        return MORNING_EVENING_HIGH_PERCENT
    if counted_trips >= MORNING_EVENING_LOW_COUNT:
        return MORNING_EVENING_LOW_PERCENT
    return 0


def morning_evening_credit(eligible_amount: int, percent: int) -> int:
    """平日朝夕割引 rebate of one counted trip: ``percent`` of its eligible amount, floored."""
    if eligible_amount <= 0 or percent <= 0:
        return 0
    return eligible_amount * percent // 100


def exchange_totals(units: Iterable[ExchangeUnit]) -> tuple[int, int]:
    """(points, yen) of a list of exchange units."""
    points = 0
    yen = 0
    for unit in units:
        points += unit.points
        yen += unit.yen
    return points, yen
