"""The engine's card state as planner input, and plans made from a replayed card."""

from __future__ import annotations

import datetime as dt

from etcbook.domain.mileage import CardInput, ExchangeInput, TripInput, state_at_end_of
from etcbook.domain.planner import Need, PlannedTrip, plan_exchanges
from etcbook.domain.planner_adapter import planner_input, recent_monthly_points
from etcbook.domain.points import ExchangeUnit
from etcbook.domain.rules import Rules

D = dt.date


def trip(trip_id: int, exit_at: str, toll: int, operator: str = "nexco") -> TripInput:
    return TripInput(trip_id, dt.datetime.fromisoformat(exit_at), toll, operator)


def card(*trips: TripInput, auto: bool = False, **more: object) -> CardInput:
    return CardInput(card="1234", trips=trips, auto_exchange=auto, **more)  # type: ignore[arg-type]


def test_pools_carry_lots_grids_auto_unit_operators_and_earning_from_the_rules(
    rules: Rules,
) -> None:
    state = state_at_end_of(card(trip(1, "2025-04-10 09:00", 30_000)), rules, D(2025, 6, 1))

    request = planner_input(state, rules, auto_exchange=True)

    assert request.as_of == D(2025, 6, 1)
    nexco = next(p for p in request.pools if p.pool == "nexco")
    assert [(x.granted_on, x.expires_on, x.remaining) for x in nexco.lots] == [
        (D(2025, 5, 20), D(2027, 3, 31), 3000)
    ]
    assert nexco.grid == rules.pools["nexco"].manual_units
    assert nexco.auto_unit == ExchangeUnit(5000, 5000) and nexco.auto_exchange
    assert {"nexco", "miyagi"} <= set(nexco.operators)
    assert nexco.earning is not None and (nexco.earning.yen, nexco.earning.points) == (10, 1)
    assert nexco.label == rules.pools["nexco"].name
    assert {p.pool for p in request.pools} == set(rules.pools)
    assert "shutoko" not in request.rebate_operators and "nexco" in request.rebate_operators


def test_points_not_yet_granted_become_lots_usable_from_their_grant_day(rules: Rules) -> None:
    state = state_at_end_of(
        card(trip(1, "2025-05-10 09:00", 20_000), trip(2, "2025-06-03 18:00", 15_000)),
        rules,
        D(2025, 6, 10),
    )

    nexco = next(
        p for p in planner_input(state, rules, auto_exchange=False).pools if p.pool == "nexco"
    )

    assert sorted((x.granted_on, x.remaining) for x in nexco.lots) == [
        (D(2025, 6, 20), 2000),
        (D(2025, 7, 20), 1500),
    ]


def test_recent_monthly_points_count_empty_months_but_not_months_before_the_card() -> None:
    from etcbook.domain.mileage import MonthlyEarning

    def month(m: int, points: int) -> MonthlyEarning:
        return MonthlyEarning(
            D(2025, m, 1), "nexco", points * 10, points, 0, D(2025, m + 1, 20), True
        )

    earnings = (month(2, 900), month(4, 1200))

    assert recent_monthly_points(earnings, D(2025, 5, 15)) == (900, 0, 1200)
    assert recent_monthly_points(earnings, D(2025, 5, 15), since=D(2025, 4, 1)) == (1200,)


def test_rebate_balance_and_exchanges_already_made_are_taken_into_account(rules: Rules) -> None:
    exchange = ExchangeInput(dt.datetime(2025, 6, 21, 8, 0), "nexco", (ExchangeUnit(1000, 500),))
    state = state_at_end_of(
        card(trip(1, "2025-05-10 09:00", 30_000), exchanges=(exchange,)), rules, D(2025, 6, 25)
    )

    request = planner_input(state, rules, auto_exchange=False)

    assert request.rebate_balance == 500
    nexco = next(p for p in request.pools if p.pool == "nexco")
    assert sum(x.remaining for x in nexco.lots) == 2000


def test_a_replayed_card_gets_a_plan_for_a_need(rules: Rules) -> None:
    state = state_at_end_of(card(trip(1, "2025-04-10 09:00", 30_000)), rules, D(2025, 6, 1))

    plan = plan_exchanges(
        planner_input(state, rules, auto_exchange=False, need=Need(1200, D(2025, 6, 30)))
    )

    assert [(e.pool, e.points, e.yen) for e in plan.exchanges] == [("nexco", 3000, 2500)]
    assert plan.covered == 1200
    assert rules.pools["nexco"].name in plan.explanation[1]


def test_a_replayed_card_gets_a_staircase_for_planned_trips(rules: Rules) -> None:
    # 愛知県道路公社, 30,000円 in April: 300P base + 2,200P monthly bonus, granted on 20 May
    state = state_at_end_of(
        card(trip(1, "2025-04-10 09:00", 30_000, "aichi")), rules, D(2025, 6, 1)
    )
    day = D(2025, 6, 12)
    trips = (PlannedTrip(day, "aichi", 620), PlannedTrip(day, "aichi", 380))

    request = planner_input(state, rules, auto_exchange=False, trips=trips)
    aichi = next(p for p in request.pools if p.pool == "aichi")
    assert sum(x.remaining for x in aichi.lots) == 2500
    plan = plan_exchanges(request)

    assert [(e.at, e.pool, e.points, e.yen) for e in plan.exchanges] == [(day, "aichi", 1000, 1000)]
    assert (plan.covered, plan.rebate_after) == (1000, 0)


def test_an_operator_out_of_the_programme_earns_nothing_in_the_plan(rules: Rules) -> None:
    # 名古屋高速 stopped granting points in 2021 (rules file); its rebate stays usable
    state = state_at_end_of(
        card(trip(1, "2025-04-10 09:00", 2_000, "nagoya")), rules, D(2025, 6, 1)
    )

    request = planner_input(state, rules, auto_exchange=False)

    nagoya = next(p for p in request.pools if p.pool == "nagoya")
    assert nagoya.lots == () and nagoya.operators == ()
    assert "nagoya" in request.rebate_operators
