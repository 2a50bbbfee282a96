"""Exchange planner (issue 4 §2): every behaviour of a good plan, as a named test."""

from __future__ import annotations

import datetime as dt

import pytest

from etcbook.domain.planner import (
    EarningRule,
    Need,
    Plan,
    PlannedTrip,
    PlannerInput,
    PlannerInputError,
    PoolState,
    plan_exchanges,
)
from etcbook.domain.points import ExchangeUnit, Lot

D = dt.date
NEXCO_GRID = (ExchangeUnit(1000, 500), ExchangeUnit(3000, 2500), ExchangeUnit(5000, 5000))
NEXCO_AUTO = ExchangeUnit(5000, 5000)
FINE_GRID = (ExchangeUnit(100, 100),)
KOBE_GRID = (ExchangeUnit(200, 100),)
REBATE_OPERATORS = frozenset(
    {
        "nexco",
        "miyagi",
        "honshi",
        "nagoya",
        "aichi",
        "kobe",
        "hanshin_kyoto",
        "hanshin",
        "other_rebate",
    }
)
AS_OF = D(2025, 6, 10)
FAR = D(2027, 3, 31)


def lot(
    pool: str, points: int, expires_on: dt.date = FAR, granted_on: dt.date | None = None
) -> Lot:
    granted = granted_on or D(expires_on.year - 2, 5, 20)
    return Lot(pool, granted, expires_on, points, points)


def nexco(
    *lots: Lot, monthly: tuple[int, ...] = (), auto: bool = False, pool: str = "nexco"
) -> PoolState:
    return PoolState(
        pool=pool,
        lots=lots,
        grid=NEXCO_GRID,
        auto_unit=NEXCO_AUTO,
        auto_exchange=auto,
        recent_monthly_points=monthly,
        operators=("nexco", "miyagi") if pool == "nexco" else (pool,),
        earning=EarningRule(10, 1),
    )


def fine(
    pool: str, *lots: Lot, grid: tuple[ExchangeUnit, ...] = FINE_GRID, monthly: tuple[int, ...] = ()
) -> PoolState:
    return PoolState(
        pool=pool,
        lots=lots,
        grid=grid,
        auto_unit=ExchangeUnit(1000, 1000),
        auto_exchange=False,
        recent_monthly_points=monthly,
        operators=(pool,),
        earning=EarningRule(100, 1),
    )


def need_plan(
    *pools: PoolState,
    yen: int,
    operators: tuple[str, ...] = ("nexco",),
    balance: int = 0,
    as_of: dt.date = AS_OF,
    by: dt.date | None = None,
) -> Plan:
    return plan_exchanges(
        PlannerInput(
            as_of=as_of,
            pools=pools,
            rebate_balance=balance,
            rebate_operators=REBATE_OPERATORS,
            need=Need(yen, by or as_of + dt.timedelta(days=20), operators),
        )
    )


def trips_plan(
    *pools: PoolState, trips: tuple[PlannedTrip, ...], balance: int = 0, as_of: dt.date = AS_OF
) -> Plan:
    return plan_exchanges(
        PlannerInput(
            as_of=as_of,
            pools=pools,
            rebate_balance=balance,
            rebate_operators=REBATE_OPERATORS,
            trips=trips,
        )
    )


def units(plan: Plan) -> list[list[int]]:
    return [[u.points for u in e.units] for e in plan.exchanges]


# -- coarse grids (NEXCO, 本四) ---------------------------------------------------------------


def test_need_1200_with_3000p_exchanges_3000p_for_2500_not_three_1000p() -> None:
    plan = need_plan(nexco(lot("nexco", 3000), monthly=(500,)), yen=1200)

    assert units(plan) == [[3000]]
    assert (plan.exchanges[0].points, plan.exchanges[0].yen) == (3000, 2500)
    assert (plan.covered, plan.shortfall, plan.rebate_after) == (1200, 0, 1300)
    three_small = [a for a in plan.alternatives if a.label == "NEXCOで1,000P→500円×3"]
    assert three_small, [a.label for a in plan.alternatives]
    assert (three_small[0].points, three_small[0].yen) == (3000, 1500)
    assert three_small[0].value < plan.value
    assert "1P=0.5円" in plan.explanation[1] and "1P≈0.83円" in plan.explanation[1]


def test_need_3000_with_6000p_prefers_5000p_over_3000p_plus_1000p() -> None:
    plan = need_plan(nexco(lot("nexco", 6000)), yen=3000)

    assert units(plan) == [[5000]]
    assert (plan.covered, plan.rebate_after) == (3000, 2000)
    rival = next(a for a in plan.alternatives if "3,000P→2,500円＋1,000P→500円" in a.label)
    assert (rival.points, rival.yen, rival.covered, rival.rebate_after) == (4000, 3000, 3000, 0)
    assert rival.value < plan.value
    assert "3,000P→2,500円＋1,000P→500円（3,000円）" in plan.explanation[1]


def test_no_need_and_no_expiry_in_sight_waits_for_5000p() -> None:
    plan = need_plan(nexco(lot("nexco", 3000), monthly=(600,)), yen=0)

    assert plan.exchanges == ()
    assert plan.points_lost == 0
    text = "".join(plan.explanation)
    assert "5,000Pに届き" in text and "待つのがお得" in text
    assert "500円相当損" in text
    now = plan.alternatives[0]
    assert (now.points, now.yen) == (3000, 2500) and now.value < plan.value


def test_coarse_points_are_valued_at_the_rate_recent_earnings_can_reach() -> None:
    trip = (PlannedTrip(AS_OF + dt.timedelta(days=10), "other_rebate", 1200),)

    idle = trips_plan(nexco(lot("nexco", 3000)), trips=trip)
    earning = trips_plan(nexco(lot("nexco", 3000), monthly=(500,)), trips=trip)

    # nothing more will come: 3,000P -> 2,500円 is the best these points can ever do
    assert units(idle) == [[3000]] and idle.covered == 1200
    # 500P a month reach 5,000P long before expiry: 3,000P -> 2,500円 would waste 500円
    assert earning.exchanges == () and earning.shortfall == 1200


def test_over_exchanged_rebate_counts_the_points_it_will_cost() -> None:
    plan = need_plan(nexco(lot("nexco", 3000)), yen=1200)

    assert plan.rebate_after == 1300
    assert plan.forgone_points == 130  # NEXCO: 10円 -> 1P, rebate-paid tolls earn nothing
    assert "約130Pが付かなくなります" in plan.explanation[1]


def test_rebate_balance_that_covers_the_need_means_no_exchange() -> None:
    plan = need_plan(nexco(lot("nexco", 6000)), yen=1200, balance=1500)

    assert plan.exchanges == ()
    assert (plan.covered, plan.rebate_after) == (1200, 300)


# -- fine grids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "need"),
    [
        (FINE_GRID, 1200),
        (FINE_GRID, 990),
        (FINE_GRID, 1234),
        (FINE_GRID, 1950),
        (FINE_GRID, 10_000),
        (FINE_GRID, 37),
        (KOBE_GRID, 1200),
        (KOBE_GRID, 990),
        (KOBE_GRID, 55_550),
    ],
)
def test_fine_grid_overshoot_is_at_most_one_unit_or_ten_percent(
    grid: tuple[ExchangeUnit, ...], need: int
) -> None:
    plan = need_plan(
        fine("nagoya", lot("nagoya", 200_000), grid=grid), yen=need, operators=("nagoya",)
    )

    assert plan.covered == need
    overshoot = sum(e.yen for e in plan.exchanges) - need
    assert 0 <= overshoot <= max(grid[0].yen, need // 10)


def test_fine_grid_adds_the_sources_margin_1200_becomes_1300() -> None:
    plan = need_plan(fine("nagoya", lot("nagoya", 5000)), yen=1200, operators=("nagoya",))

    assert [(e.points, e.yen) for e in plan.exchanges] == [(1300, 1300)]
    assert "100円の余裕" in plan.explanation[1]


def test_several_pools_spend_the_soonest_expiring_points_first() -> None:
    later = fine("aichi", lot("aichi", 1500, D(2027, 3, 31)))
    sooner = fine("nagoya", lot("nagoya", 1500, D(2026, 3, 31)))

    plan = need_plan(later, sooner, yen=1000)

    assert {e.pool for e in plan.exchanges} == {"nagoya"}
    assert plan.covered == 1000


def test_several_pools_combine_when_one_is_not_enough() -> None:
    plan = need_plan(
        fine("nagoya", lot("nagoya", 600, D(2026, 3, 31))),
        fine("aichi", lot("aichi", 1500, D(2027, 3, 31))),
        yen=1000,
    )

    by_pool = {e.pool: e.points for e in plan.exchanges}
    assert by_pool["nagoya"] == 600
    assert plan.covered == 1000


# -- expiry ------------------------------------------------------------------------------------


def test_this_month_bucket_is_exchanged_without_any_need() -> None:
    as_of = D(2026, 3, 5)
    plan = need_plan(
        nexco(lot("nexco", 2000, D(2026, 3, 31)), lot("nexco", 4000, D(2027, 3, 31))),
        yen=0,
        as_of=as_of,
    )

    assert [e.at for e in plan.exchanges] == [as_of]
    assert sum(e.points for e in plan.exchanges) >= 2000
    assert plan.points_lost == 0
    assert "2026年3月31日に失効" in plan.explanation[1]


def test_this_month_bucket_is_exchanged_even_for_a_small_amount() -> None:
    plan = need_plan(fine("nagoya", lot("nagoya", 450, D(2026, 3, 31))), yen=0, as_of=D(2026, 3, 5))

    assert [(e.points, e.yen) for e in plan.exchanges] == [(400, 400)]
    assert plan.points_lost == 50
    assert any("50Pが失効" in line for line in plan.explanation)


def test_points_that_make_no_unit_are_reported_lost_with_the_amount() -> None:
    honshi = nexco(lot("honshi", 600, D(2026, 3, 31)), pool="honshi")

    plan = need_plan(honshi, yen=0, as_of=D(2026, 3, 5))

    assert plan.exchanges == ()
    assert plan.points_lost == 600
    assert [(x.pool, x.on, x.points) for x in plan.losses] == [("honshi", D(2026, 3, 31), 600)]
    assert any("本四高速: 2026年3月31日に600Pが失効" in line for line in plan.explanation)
    assert any("最小単位1,000P" in line for line in plan.explanation)


def test_unit_saves_what_it_can_and_reports_the_rest_lost() -> None:
    plan = need_plan(nexco(lot("nexco", 1800, D(2026, 3, 31))), yen=0, as_of=D(2026, 3, 5))

    assert units(plan) == [[1000]]
    assert plan.points_lost == 800


def test_next_months_expiry_is_planned_for_the_start_of_that_month() -> None:
    plan = need_plan(nexco(lot("nexco", 3000, D(2026, 3, 31))), yen=0, as_of=D(2026, 1, 15))

    assert [(e.at, e.points, e.yen) for e in plan.exchanges] == [(D(2026, 3, 1), 3000, 2500)]
    assert plan.points_lost == 0


def test_auto_exchange_on_warns_and_plans_a_manual_exchange_before_expiry() -> None:
    pool = nexco(
        lot("nexco", 800, D(2026, 3, 31), D(2024, 6, 20)),
        lot("nexco", 3400, D(2027, 3, 31), D(2025, 5, 20)),
        auto=True,
    )

    plan = need_plan(pool, yen=0)

    assert len(plan.exchanges) == 1
    exchange = plan.exchanges[0]
    assert exchange.at < D(2026, 3, 31)
    assert exchange.points >= 800 and exchange.purpose == "expiry"
    assert plan.points_lost == 0
    warning = next(line for line in plan.explanation if "自動還元" in line)
    assert "5,000P単位" in warning and "800P" in warning and "2026年3月31日" in warning


def test_auto_exchange_that_will_take_the_expiring_points_needs_no_manual_exchange() -> None:
    pool = nexco(
        lot("nexco", 800, D(2026, 3, 31), D(2024, 6, 20)),
        lot("nexco", 4500, D(2027, 3, 31), D(2025, 5, 20)),
        auto=True,
        monthly=(600,),
    )

    plan = need_plan(pool, yen=0, as_of=D(2026, 3, 5))

    assert plan.exchanges == ()
    assert [(e.at, e.points) for e in plan.auto_exchanges] == [(D(2026, 3, 20), 5000)]
    assert plan.points_lost == 0


def test_auto_exchange_below_unit_with_no_manual_unit_either_is_lost() -> None:
    plan = need_plan(
        nexco(lot("nexco", 700, D(2026, 3, 31)), auto=True), yen=0, as_of=D(2026, 3, 5)
    )

    assert plan.points_lost == 700
    assert plan.losses[0].reason == "auto_below_unit"
    assert any("自動還元は5,000P単位" in line for line in plan.explanation)


# -- planned trips: the staircase ------------------------------------------------------------


def test_staircase_1000_yen_of_rebate_for_620_and_380_leaves_exactly_zero() -> None:
    day = D(2025, 6, 12)
    trips = (PlannedTrip(day, "nagoya", 620), PlannedTrip(day, "nagoya", 380))

    plan = trips_plan(fine("nagoya", lot("nagoya", 1500)), trips=trips)

    assert [(e.at, e.points, e.yen) for e in plan.exchanges] == [(day, 1000, 1000)]
    assert (plan.covered, plan.shortfall, plan.rebate_after) == (1000, 0, 0)


def test_staircase_on_nexco_2000p_for_620_and_380_leaves_exactly_zero() -> None:
    trips = (PlannedTrip(D(2025, 6, 12), "nexco", 620), PlannedTrip(D(2025, 6, 13), "nexco", 380))

    plan = trips_plan(nexco(lot("nexco", 2000)), trips=trips)

    assert units(plan) == [[1000, 1000]]
    assert (plan.covered, plan.rebate_after) == (1000, 0)


def test_staircase_tops_up_just_before_the_trips_that_need_it() -> None:
    trips = (
        PlannedTrip(D(2025, 6, 12), "nagoya", 620),
        PlannedTrip(D(2025, 6, 20), "nagoya", 380),
        PlannedTrip(D(2025, 7, 3), "nagoya", 1450),
    )

    plan = trips_plan(fine("nagoya", lot("nagoya", 5000)), trips=trips)

    assert [e.at for e in plan.exchanges] == [t.on for t in trips]
    assert plan.covered == 2450 and plan.rebate_after <= 100
    assert all("走行後の還元額" in line for line in plan.explanation[1:4])


def test_staircase_on_nexco_waits_for_5000p_units_when_earnings_reach_them() -> None:
    trips = tuple(
        PlannedTrip(AS_OF + dt.timedelta(days=3 * i), "nexco", 1800) for i in range(1, 60)
    )

    plan = trips_plan(nexco(lot("nexco", 4200)), trips=trips)

    assert plan.exchanges
    assert all(u.points == 5000 for e in plan.exchanges for u in e.units)
    assert plan.points_lost == 0


def test_points_earned_by_planned_trips_are_usable_after_their_grant_day() -> None:
    trips = (
        PlannedTrip(D(2025, 6, 15), "nagoya", 10_000),  # billed in full: 100P on 7/20
        PlannedTrip(D(2025, 7, 25), "nagoya", 100),
    )

    plan = trips_plan(fine("nagoya"), trips=trips)

    assert [(e.at, e.points) for e in plan.exchanges] == [(D(2025, 7, 25), 100)]
    assert plan.covered == 100


def test_trips_on_roads_without_rebate_are_not_covered() -> None:
    trips = (PlannedTrip(D(2025, 6, 12), "shutoko", 1300),)

    plan = trips_plan(nexco(lot("nexco", 6000)), trips=trips)

    assert plan.exchanges == () and plan.demand == 0


# -- shortfall, inputs, explanation ----------------------------------------------------------


def test_shortfall_is_reported_when_the_pools_cannot_cover() -> None:
    plan = need_plan(nexco(lot("nexco", 2400)), yen=5000)

    assert plan.covered == 1000 and plan.shortfall == 4000
    assert any("4,000円は還元額で払えません" in line for line in plan.explanation)


def test_a_need_on_a_road_without_rebate_cannot_be_covered() -> None:
    plan = need_plan(nexco(lot("nexco", 6000)), yen=1200, operators=("shutoko",))

    assert plan.exchanges == ()
    assert (plan.covered, plan.shortfall) == (0, 1200)
    assert any("首都高速では還元額が使えない" in line for line in plan.explanation)


def test_every_exchange_is_explained_in_japanese() -> None:
    plan = need_plan(
        nexco(lot("nexco", 6000)),
        fine("nagoya", lot("nagoya", 450, D(2025, 6, 30))),
        yen=3000,
    )

    assert len(plan.exchanges) == 2
    body = "\n".join(plan.explanation)
    for exchange in plan.exchanges:
        assert f"{exchange.at.year}年{exchange.at.month}月{exchange.at.day}日" in body
    assert "名古屋高速の450Pが2025年6月30日に失効" in body


@pytest.mark.parametrize(
    "request_",
    [
        PlannerInput(AS_OF, (), 0, REBATE_OPERATORS, need=Need(100, AS_OF - dt.timedelta(days=1))),
        PlannerInput(AS_OF, (), 0, REBATE_OPERATORS, need=Need(-1, AS_OF)),
        PlannerInput(
            AS_OF,
            (),
            0,
            REBATE_OPERATORS,
            trips=(PlannedTrip(AS_OF - dt.timedelta(days=1), "nexco", 100),),
        ),
        PlannerInput(AS_OF, (), 0, REBATE_OPERATORS, trips=(PlannedTrip(AS_OF, "nexco", -5),)),
        PlannerInput(AS_OF, (), -1, REBATE_OPERATORS),
        PlannerInput(
            AS_OF,
            (),
            0,
            REBATE_OPERATORS,
            need=Need(1, AS_OF),
            trips=(PlannedTrip(AS_OF, "nexco", 5),),
        ),
        PlannerInput(AS_OF, (nexco(lot("nexco", 1)), nexco()), 0, REBATE_OPERATORS),
        PlannerInput(AS_OF, (nexco(lot("honshi", 1)),), 0, REBATE_OPERATORS),
    ],
)
def test_impossible_requests_are_refused(request_: PlannerInput) -> None:
    with pytest.raises(PlannerInputError):
        plan_exchanges(request_)
