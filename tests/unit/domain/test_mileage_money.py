"""Rounding rules: points floored per trip, bonus like tax brackets, 朝夕割 rates."""

from __future__ import annotations

import pytest

from etcbook.domain.money import (
    monthly_bonus_points,
    morning_evening_credit,
    morning_evening_percent,
    points_for_billed,
    rebate_to_apply,
)
from etcbook.domain.rules import BonusRule, EarningRate, Rules


def bonus_of(rules: Rules, operator: str) -> BonusRule:
    bonus = rules.operator(operator).bonus
    assert bonus is not None
    return bonus


def test_nexco_earns_one_point_per_ten_yen_floored() -> None:
    assert points_for_billed(700, EarningRate(10, 1)) == 70
    assert points_for_billed(709, EarningRate(10, 1)) == 70


def test_fractions_of_an_earning_unit_earn_nothing() -> None:
    # 阪神高速8号京都線: 100円につき3P, 100円に満たない端数にはポイントが付かない.
    assert points_for_billed(250, EarningRate(100, 3)) == 6
    assert points_for_billed(99, EarningRate(100, 3)) == 0
    # 神戸: 50円につき3P.
    assert points_for_billed(120, EarningRate(50, 3)) == 6


def test_no_points_on_zero_or_negative_billed() -> None:
    assert points_for_billed(0, EarningRate(10, 1)) == 0
    assert points_for_billed(-1050, EarningRate(10, 1)) == 0


def test_nagoya_bonus_on_12000_yen_is_270_points(rules: Rules) -> None:
    # 5,000円 × 3P/100円 + 2,000円 × 6P/100円 = 150 + 120.
    assert monthly_bonus_points(12_000, bonus_of(rules, "nagoya")) == 270


@pytest.mark.parametrize(
    ("total", "bonus"),
    [
        (0, 0),
        (5_000, 0),
        (5_100, 3),
        (10_000, 150),
        (20_000, 150 + 600),
        (30_000, 150 + 600 + 1_200),
        (40_000, 150 + 600 + 1_200 + 1_900),
    ],
)
def test_nagoya_bonus_brackets(rules: Rules, total: int, bonus: int) -> None:
    assert monthly_bonus_points(total, bonus_of(rules, "nagoya")) == bonus


def test_aichi_bonus_brackets(rules: Rules) -> None:
    # 5,000 × 4 + 10,000 × 8 + 2,000 × 12 per 100円.
    assert monthly_bonus_points(22_000, bonus_of(rules, "aichi")) == 200 + 800 + 240


def test_hanshin_kyoto_bonus_starts_above_10000_yen(rules: Rules) -> None:
    assert monthly_bonus_points(10_000, bonus_of(rules, "hanshin_kyoto")) == 0
    assert monthly_bonus_points(36_000, bonus_of(rules, "hanshin_kyoto")) == 750 + 50


def test_kobe_bonus_is_per_50_yen(rules: Rules) -> None:
    assert monthly_bonus_points(11_000, bonus_of(rules, "kobe")) == 60


def test_bonus_counts_only_full_units_inside_the_top_bracket(rules: Rules) -> None:
    assert monthly_bonus_points(5_099, bonus_of(rules, "nagoya")) == 0
    assert monthly_bonus_points(12_050, bonus_of(rules, "nagoya")) == 270


@pytest.mark.parametrize(
    ("counted", "percent"), [(0, 0), (4, 0), (5, 30), (9, 30), (10, 50), (22, 50)]
)
def test_morning_evening_rate_by_counted_trips(counted: int, percent: int) -> None:
    assert morning_evening_percent(counted) == percent


def test_morning_evening_credit_is_floored_per_trip() -> None:
    assert morning_evening_credit(1_234, 30) == 370
    assert morning_evening_credit(1_235, 50) == 617
    assert morning_evening_credit(0, 50) == 0


def test_rebate_applied_up_to_the_toll_and_the_balance() -> None:
    assert rebate_to_apply(3_000, 2_000) == 2_000
    assert rebate_to_apply(2_400, 5_000) == 2_400
    assert rebate_to_apply(-1_050, 5_000) == 0
    assert rebate_to_apply(1_000, 0) == 0
