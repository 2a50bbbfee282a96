"""Manual exchange: the most yen on a pool's grid; requests by points or by units."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etcbook.domain.exchange import best_units_for, units_for_request
from etcbook.domain.money import exchange_totals
from etcbook.domain.points import ExchangeUnit
from etcbook.domain.rules import Rules

NEXCO = (ExchangeUnit(1000, 500), ExchangeUnit(3000, 2500), ExchangeUnit(5000, 5000))


def test_2000_nexco_points_are_two_1000_point_units_for_1000_yen() -> None:
    units = best_units_for(2000, NEXCO)
    assert units == (ExchangeUnit(1000, 500), ExchangeUnit(1000, 500))
    assert exchange_totals(units) == (2000, 1000)


def test_6000_nexco_points_are_5000_plus_1000_for_5500_yen() -> None:
    units = best_units_for(6000, NEXCO)
    assert units == (ExchangeUnit(5000, 5000), ExchangeUnit(1000, 500))
    assert exchange_totals(units) == (6000, 5500)


def test_points_below_the_smallest_unit_make_no_units() -> None:
    assert best_units_for(999, NEXCO) == ()
    assert best_units_for(0, NEXCO) == ()


def test_leftover_points_below_a_unit_stay_in_the_pool() -> None:
    assert exchange_totals(best_units_for(2500, NEXCO)) == (2000, 1000)
    assert exchange_totals(best_units_for(5999, NEXCO)) == (5000, 5000)


def test_large_amounts_use_the_best_unit() -> None:
    units = best_units_for(1_003_000, NEXCO)
    assert exchange_totals(units) == (1_003_000, 1_002_500)
    assert units.count(ExchangeUnit(5000, 5000)) == 200


def brute_force_yen(points: int, grid: tuple[ExchangeUnit, ...]) -> int:
    best = [0] * (points + 1)
    for used in range(1, points + 1):
        best[used] = best[used - 1]
        for unit in grid:
            if unit.points <= used:
                best[used] = max(best[used], best[used - unit.points] + unit.yen)
    return best[points]


@settings(max_examples=60, deadline=None)
@given(
    points=st.integers(min_value=0, max_value=400),
    grid=st.lists(
        st.builds(
            ExchangeUnit,
            points=st.integers(min_value=1, max_value=40),
            yen=st.integers(min_value=1, max_value=60),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_best_units_match_a_brute_force_search(points: int, grid: list[ExchangeUnit]) -> None:
    units = best_units_for(points, tuple(grid))
    used, yen = exchange_totals(units)
    assert used <= points
    assert all(unit in grid for unit in units)
    assert yen == brute_force_yen(points, tuple(grid))


def test_request_by_points_picks_the_best_units(rules: Rules) -> None:
    assert units_for_request(rules.pool("nexco"), points=6000) == (
        ExchangeUnit(5000, 5000),
        ExchangeUnit(1000, 500),
    )


def test_request_by_units_keeps_them_as_given(rules: Rules) -> None:
    assert units_for_request(rules.pool("nexco"), unit_points=[1000, 3000]) == (
        ExchangeUnit(1000, 500),
        ExchangeUnit(3000, 2500),
    )


def test_request_of_a_unit_off_the_grid_is_refused(rules: Rules) -> None:
    with pytest.raises(ValueError, match=r"2,000Pは.*交換単位にありません"):
        units_for_request(rules.pool("nexco"), unit_points=[2000])


def test_request_below_the_smallest_unit_is_refused(rules: Rules) -> None:
    with pytest.raises(ValueError, match="1,000Pから"):
        units_for_request(rules.pool("nexco"), points=500)


def test_request_needs_points_or_units_but_not_both(rules: Rules) -> None:
    with pytest.raises(ValueError):
        units_for_request(rules.pool("nexco"))
    with pytest.raises(ValueError):
        units_for_request(rules.pool("nexco"), points=1000, unit_points=[1000])
