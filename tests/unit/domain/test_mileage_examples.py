"""Worked examples of DOMAIN.md and the source articles, replayed by the engine."""

from __future__ import annotations

import datetime as dt

from mileage_helpers import at, day, trip

from etcbook.domain.mileage import (
    Adjustment,
    CardInput,
    CardState,
    ExchangeInput,
    StopEvent,
    TripResult,
    replay,
    state_at_end_of,
)
from etcbook.domain.points import ExchangeUnit, Lot
from etcbook.domain.rules import Rules

K1 = ExchangeUnit(1000, 500)
K5 = ExchangeUnit(5000, 5000)


def result(state: CardState, trip_id: int) -> TripResult:
    found = state.trip_results.get(trip_id)
    assert found is not None
    return found


def rebate(yen: int, on: str) -> Adjustment:
    return Adjustment(day(on), "テスト用の還元額", rebate=yen)


def points(pool: str, amount: int, on: str) -> Adjustment:
    return Adjustment(day(on), "テスト用のポイント", pool=pool, points=amount)


# --- DOMAIN.md §2 and the 請求書 article ------------------------------------------------------


def test_rebate_5000_trips_a_b_then_c_bills_700_and_earns_70_points(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(
            trip(1, "2025-06-02 10:00", 2400),  # A
            trip(2, "2025-06-02 15:00", 1300),  # B, same day
            trip(3, "2025-06-03 09:30", 2000),  # C, next day
        ),
        adjustments=(rebate(5000, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-30"))
    assert (result(state, 1).rebate_applied, result(state, 1).billed) == (2400, 0)
    assert (result(state, 2).rebate_applied, result(state, 2).billed) == (1300, 0)
    assert (result(state, 3).rebate_applied, result(state, 3).billed) == (1300, 700)
    assert state.rebate_balance == 0
    assert [result(state, i).points for i in (1, 2, 3)] == [0, 0, 70]
    assert state.pending_points("nexco") == 70
    granted = state_at_end_of(card, rules, day("2025-07-20"))
    assert granted.points("nexco") == 70
    assert granted.pending_points("nexco") == 0


def test_same_day_trips_take_rebate_in_exit_time_order(rules: Rules) -> None:
    # B exits before A although listed after it.
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-02 15:00", 2400), trip(2, "2025-06-02 10:00", 1300)),
        adjustments=(rebate(2000, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-02"))
    assert result(state, 2).rebate_applied == 1300
    assert result(state, 1).rebate_applied == 700
    assert [r.trip_id for r in state.trip_results] == [2, 1]


def test_rebate_2000_on_a_3000_toll_bills_1000(rules: Rules) -> None:
    # "E超過通行料": 3,000円のうち2,000円が還元額から充当、1,000円がカード請求.
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-02 10:00", 3000),),
        adjustments=(rebate(2000, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-02"))
    assert (result(state, 1).rebate_applied, result(state, 1).billed) == (2000, 1000)
    assert result(state, 1).points == 100


def test_rebate_1000_on_a_2400_toll_bills_1400(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-02 10:00", 2400),),
        adjustments=(rebate(1000, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-02"))
    assert result(state, 1).billed == 1400
    assert result(state, 1).points == 140


def test_rebate_5000_on_a_4800_toll_bills_nothing_and_earns_nothing(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-02 10:00", 4800),),
        adjustments=(rebate(5000, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert result(state, 1).billed == 0
    assert state.points("nexco") == 0
    assert state.rebate_balance == 200


def test_points_on_the_discounted_toll_minus_rebate(rules: Rules) -> None:
    # 料金1,000円、割引200円 → 通行料金800円、還元額200円充当 → 600円 → NEXCO 60P.
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-02 10:00", 800),),
        adjustments=(rebate(200, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-02"))
    assert result(state, 1).billed == 600
    assert result(state, 1).points == 60


# --- just-in-time exchange (§8, the 紛失 and 付与 articles) -----------------------------------


def test_2000_points_to_1000_yen_then_620_and_380_leave_zero(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-03 07:50", 620), trip(2, "2025-06-03 18:20", 380)),
        exchanges=(ExchangeInput(at("2025-06-02 21:00"), "nexco", (K1, K1)),),
        adjustments=(points("nexco", 2000, "2025-05-20"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-03"))
    assert result(state, 1).rebate_applied == 620
    assert result(state, 2).rebate_applied == 380
    assert state.rebate_balance == 0
    assert state.points("nexco") == 0


def test_an_exchange_serves_trips_from_its_time_on(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-02 20:59", 500), trip(2, "2025-06-02 21:00", 500)),
        exchanges=(ExchangeInput(at("2025-06-02 21:00"), "nexco", (K1,)),),
        adjustments=(points("nexco", 1000, "2025-05-20"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-02"))
    assert result(state, 1).rebate_applied == 0
    assert result(state, 2).rebate_applied == 500


def test_exchange_without_enough_points_is_refused_and_changes_nothing(rules: Rules) -> None:
    card = CardInput(
        "1234",
        exchanges=(ExchangeInput(at("2025-06-02 21:00"), "nexco", (K5, K1), exchange_id=7),),
        adjustments=(points("nexco", 5500, "2025-05-20"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-02"))
    assert state.points("nexco") == 5500
    assert state.rebate_balance == 0
    refused = [alert for alert in state.alerts if alert.kind == "exchange_refused"]
    assert len(refused) == 1
    assert refused[0].ref == 7
    assert "ポイントが足りません（必要 6,000P、残高 5,500P）" in refused[0].message


def test_exchange_off_the_grid_is_refused(rules: Rules) -> None:
    card = CardInput(
        "1234",
        exchanges=(ExchangeInput(at("2025-06-02 21:00"), "nexco", (ExchangeUnit(2000, 1000),)),),
        adjustments=(points("nexco", 5000, "2025-05-20"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-02"))
    assert state.points("nexco") == 5000
    assert any(alert.kind == "exchange_refused" for alert in state.alerts)


def test_exchange_takes_the_soonest_expiring_points_first(rules: Rules) -> None:
    card = CardInput(
        "1234",
        exchanges=(ExchangeInput(at("2025-04-25 12:00"), "nexco", (K1,)),),
        adjustments=(points("nexco", 800, "2025-03-20"), points("nexco", 900, "2025-04-20")),
    )
    state = state_at_end_of(card, rules, day("2025-04-25"))
    assert state.pools["nexco"].lots == (
        Lot("nexco", day("2025-04-20"), day("2027-03-31"), 900, 700),
    )


def test_exchange_pool_may_be_named_by_an_operator_key(rules: Rules) -> None:
    card = CardInput(
        "1234",
        exchanges=(ExchangeInput(at("2025-06-02 21:00"), "miyagi", (K1,)),),
        adjustments=(points("nexco", 1000, "2025-05-20"),),
    )
    assert state_at_end_of(card, rules, day("2025-06-02")).rebate_balance == 500


# --- grants, bonus, expiry ------------------------------------------------------------------


def test_nagoya_12000_yen_in_a_month_brings_120_plus_270_points(rules: Rules) -> None:
    trips = tuple(
        trip(i + 1, f"2019-06-{i + 3:02d} 10:00", 1200, operator="nagoya") for i in range(10)
    )
    card = CardInput("1234", trips=trips)
    pending = state_at_end_of(card, rules, day("2019-06-30"))
    assert pending.pending_points("nagoya") == 120 + 270
    granted = state_at_end_of(card, rules, day("2019-07-20"))
    assert granted.points("nagoya") == 390
    (earning,) = granted.earnings["nagoya"]
    assert (earning.billed, earning.base_points, earning.bonus_points) == (12000, 120, 270)


def test_fukuoka_and_kitakyushu_bonuses_are_computed_separately(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(
            trip(1, "2024-06-03 10:00", 6000, operator="fukuoka"),
            trip(2, "2024-06-04 10:00", 6000, operator="kitakyushu"),
        ),
    )
    state = state_at_end_of(card, rules, day("2024-07-20"))
    # each network: 60 base + 1,000円 × 3P/100円 = 30 bonus; one pool.
    assert state.points("fukuoka") == 2 * (60 + 30)
    assert "kitakyushu" not in state.pools


def test_nexco_and_miyagi_points_are_one_pool(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(
            trip(1, "2025-06-03 10:00", 1000),
            trip(2, "2025-06-04 10:00", 500, operator="miyagi"),
        ),
    )
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert state.points("nexco") == 150
    assert set(state.pools) == {"nexco"}


def test_points_are_never_combined_across_pools(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(
            trip(1, "2025-06-03 10:00", 1000),
            trip(2, "2025-06-04 10:00", 1000, operator="honshi"),
        ),
    )
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert state.points("nexco") == 100
    assert state.points("honshi") == 100


def test_grant_happens_at_00_00_on_the_20th(rules: Rules) -> None:
    card = CardInput("1234", trips=(trip(1, "2025-06-03 10:00", 1000),))
    assert replay(card, rules, at("2025-07-19 23:59")).points("nexco") == 0
    assert replay(card, rules, at("2025-07-20 00:00")).points("nexco") == 100


def test_points_granted_2017_03_20_expire_after_2018_03_31(rules: Rules) -> None:
    card = CardInput("1234", trips=(trip(1, "2017-02-10 10:00", 3000),))
    state = state_at_end_of(card, rules, day("2018-03-31"))
    assert state.pools["nexco"].lots == (
        Lot("nexco", day("2017-03-20"), day("2018-03-31"), 300, 300),
    )
    assert state.pools["nexco"].buckets.this_month == 300
    gone = state_at_end_of(card, rules, day("2018-04-01"))
    assert gone.points("nexco") == 0
    assert gone.points_lost_total == 300
    (loss,) = gone.losses
    assert (loss.pool, loss.expires_on, loss.points, loss.at) == (
        "nexco",
        day("2018-03-31"),
        300,
        at("2018-04-01 00:00"),
    )


def test_points_granted_2017_05_20_last_until_2019_03_31(rules: Rules) -> None:
    card = CardInput("1234", trips=(trip(1, "2017-04-10 10:00", 3000),))
    assert state_at_end_of(card, rules, day("2019-03-31")).points("nexco") == 300
    assert state_at_end_of(card, rules, day("2019-04-01")).points("nexco") == 0


def test_expiry_buckets_this_next_after_later(rules: Rules) -> None:
    card = CardInput(
        "1234",
        adjustments=(
            points("nexco", 100, "2024-03-20"),  # expires 2025-03-31
            points("nexco", 200, "2024-04-20"),  # expires 2026-03-31
        ),
    )
    buckets = state_at_end_of(card, rules, day("2025-01-15")).pools["nexco"].buckets
    assert (buckets.this_month, buckets.next_month, buckets.month_after, buckets.later) == (
        0,
        0,
        100,
        200,
    )
    buckets = state_at_end_of(card, rules, day("2025-03-01")).pools["nexco"].buckets
    assert (buckets.this_month, buckets.later) == (100, 200)


# --- auto exchange --------------------------------------------------------------------------


def test_auto_exchange_on_the_20th_after_the_grant(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-03 10:00", 52_340), trip(2, "2025-07-20 00:00", 3000)),
        auto_exchange=True,
    )
    state = state_at_end_of(card, rules, day("2025-07-20"))
    # 5,234P granted at 00:00, 5,000P auto-exchanged to 5,000円, used by the trip at 00:00.
    assert state.points("nexco") == 234
    assert result(state, 2).rebate_applied == 3000
    assert state.rebate_balance == 2000
    kinds = [entry.kind for entry in state.ledger]
    assert kinds.index("grant") < kinds.index("auto_exchange")


def test_auto_exchange_off_keeps_the_points(rules: Rules) -> None:
    card = CardInput("1234", trips=(trip(1, "2025-06-03 10:00", 52_340),))
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert state.points("nexco") == 5234
    assert state.rebate_balance == 0


def test_auto_exchange_takes_every_full_unit(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-03 10:00", 3_000, operator="aichi"),),
        adjustments=(points("aichi", 2_950, "2025-06-01"),),
        auto_exchange=True,
    )
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert state.points("aichi") == 2_950 + 30 - 2_000
    assert state.rebate_balance == 2_000


# --- the file's 還元額適用料金 -----------------------------------------------------------------


def test_file_rebate_overrides_the_simulation(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-02 10:00", 2000, from_file=500),),
        adjustments=(rebate(5000, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-02"))
    assert (result(state, 1).rebate_applied, result(state, 1).billed) == (500, 1500)
    assert state.rebate_balance == 4500
    assert state.inferred_credits == ()


def test_file_rebate_beyond_the_known_balance_is_an_inferred_credit(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(
            trip(1, "2025-06-02 10:00", 2000, from_file=1200),
            trip(2, "2025-06-03 10:00", 700),
        ),
        adjustments=(rebate(500, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-06-03"))
    assert state.rebate_balance == 0
    (credit,) = state.inferred_credits
    assert (credit.trip_id, credit.yen) == (1, 700)
    assert result(state, 1).inferred_credit == 700
    assert result(state, 2).rebate_applied == 0


# --- stops, adjustments, operators out of the programme ---------------------------------------


def test_stopped_card_gets_no_rebate_and_no_points(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(
            trip(1, "2025-06-02 10:00", 1000),
            trip(2, "2025-06-05 10:00", 1000),
            trip(3, "2025-06-12 10:00", 1000),
        ),
        stops=(
            StopEvent(at("2025-06-04 09:00"), stopped=True),
            StopEvent(at("2025-06-10 00:00"), stopped=False),
        ),
        adjustments=(rebate(600, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert result(state, 1).rebate_applied == 600
    assert (result(state, 2).rebate_applied, result(state, 2).points) == (0, 0)
    assert result(state, 2).stopped
    assert result(state, 3).points == 100
    assert state.points("nexco") == 40 + 100
    flagged = [alert for alert in state.alerts if alert.kind == "stopped_card_trips"]
    assert flagged[0].count == 1


def test_card_still_stopped_is_reported(rules: Rules) -> None:
    card = CardInput("1234", stops=(StopEvent(at("2025-06-04 09:00"), stopped=True),))
    state = state_at_end_of(card, rules, day("2025-06-05"))
    assert state.stopped
    assert [alert.kind for alert in state.alerts] == ["card_stopped"]


def test_adjustment_acts_at_00_00_before_the_20th_steps(rules: Rules) -> None:
    # 4,500P held + 500P adjustment at 00:00 on the 20th → auto exchange finds 5,000P.
    card = CardInput(
        "1234",
        adjustments=(points("nexco", 4500, "2025-05-20"), points("nexco", 500, "2025-06-20")),
        auto_exchange=True,
    )
    state = state_at_end_of(card, rules, day("2025-06-20"))
    assert state.points("nexco") == 0
    assert state.rebate_balance == 5000


def test_negative_adjustment_removes_the_soonest_expiring_points(rules: Rules) -> None:
    card = CardInput(
        "1234",
        adjustments=(
            points("nexco", 300, "2025-03-20"),
            points("nexco", 400, "2025-04-20"),
            Adjustment(day("2025-05-01"), "サイトの表示に合わせる", pool="nexco", points=-500),
        ),
    )
    state = state_at_end_of(card, rules, day("2025-05-01"))
    assert state.pools["nexco"].lots == (
        Lot("nexco", day("2025-04-20"), day("2027-03-31"), 400, 200),
    )


def test_adjustment_beyond_the_balance_is_clamped_and_reported(rules: Rules) -> None:
    card = CardInput(
        "1234",
        adjustments=(
            rebate(300, "2025-05-01"),
            Adjustment(day("2025-05-02"), "誤り", rebate=-500),
        ),
    )
    state = state_at_end_of(card, rules, day("2025-05-02"))
    assert state.rebate_balance == 0
    assert [alert.kind for alert in state.alerts] == ["adjustment_clamped"]


def test_campaign_bonus_as_an_adjustment_expires_like_a_grant(rules: Rules) -> None:
    card = CardInput("1234", adjustments=(points("nexco", 500, "2025-06-20"),))
    (lot,) = state_at_end_of(card, rules, day("2025-06-20")).pools["nexco"].lots
    assert lot.expires_on == day("2027-03-31")


def test_shutoko_takes_no_rebate_and_earns_nothing(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-02 10:00", 1320, operator="shutoko"),),
        adjustments=(rebate(5000, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert (result(state, 1).rebate_applied, result(state, 1).billed) == (0, 1320)
    assert state.pools == {}


def test_other_rebate_roads_take_rebate_but_earn_nothing(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-02 10:00", 1320, operator="other_rebate"),),
        adjustments=(rebate(5000, "2025-06-01"),),
    )
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert result(state, 1).rebate_applied == 1320
    assert result(state, 1).points == 0


def test_nagoya_after_its_exit_earns_nothing_but_takes_rebate(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(
            trip(1, "2021-04-30 23:00", 1000, operator="nagoya"),
            trip(2, "2021-05-01 08:00", 1000, operator="nagoya"),
        ),
        adjustments=(rebate(500, "2021-05-01"),),
    )
    state = state_at_end_of(card, rules, day("2021-06-20"))
    assert result(state, 1).points == 10
    assert result(state, 2).rebate_applied == 500
    assert result(state, 2).points == 0


def test_month_end_and_midnight_trips_belong_to_the_exit_month(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(
            trip(1, "2025-06-30 23:59", 1000, entry_at="2025-06-30 22:30"),
            trip(2, "2025-07-01 00:01", 1000, entry_at="2025-06-30 23:00"),
        ),
    )
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert state.points("nexco") == 100
    assert state.pending_points("nexco") == 100
    assert [(e.month, e.granted) for e in state.earnings["nexco"]] == [
        (day("2025-06-01"), True),
        (day("2025-07-01"), False),
    ]


def test_pending_points_include_the_month_bonus_so_far(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(
            trip(1, "2019-06-28 10:00", 7000, operator="nagoya"),
            trip(2, "2019-07-02 10:00", 6000, operator="nagoya"),
        ),
    )
    state = state_at_end_of(card, rules, day("2019-07-05"))
    # June: 70 + 2,000円 × 3P = 130; July so far: 60 + 1,000円 × 3P = 90.
    assert state.pending_points("nagoya") == 130 + 90
    assert state.points("nagoya") == 0


def test_state_before_any_event_is_empty(rules: Rules) -> None:
    card = CardInput("1234", trips=(trip(1, "2025-06-03 10:00", 1000),))
    state = replay(card, rules, at("2025-06-01 00:00"))
    assert state.pools == {}
    assert len(state.trip_results) == 0
    assert state.trip_results.get(1) is None


def test_monthly_rebate_reconciles(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2025-06-03 10:00", 1200), trip(2, "2025-07-03 10:00", 900)),
        exchanges=(ExchangeInput(at("2025-06-02 12:00"), "nexco", (K1, K1)),),
        adjustments=(points("nexco", 2000, "2025-05-20"),),
    )
    state = state_at_end_of(card, rules, day("2025-07-31"))
    june, july = state.rebate_months
    assert (june.opening, june.exchanged, june.applied, june.closing) == (0, 1000, 1000, 0)
    assert july.opening == june.closing
    assert july.closing == state.rebate_balance


def test_unknown_operator_is_reported_and_ignored(rules: Rules) -> None:
    card = CardInput("1234", trips=(trip(1, "2025-06-03 10:00", 1000, operator="nexo"),))
    state = state_at_end_of(card, rules, day("2025-07-20"))
    assert state.pools == {}
    assert [alert.kind for alert in state.alerts] == ["unknown_operator"]


def test_trips_are_replayed_in_exit_order_whatever_the_input_order(rules: Rules) -> None:
    trips = [trip(i, f"2025-06-{i:02d} 10:00", 1000 + i) for i in range(1, 20)]
    forward = CardInput("1234", trips=tuple(trips), adjustments=(rebate(7000, "2025-06-01"),))
    backward = CardInput(
        "1234", trips=tuple(reversed(trips)), adjustments=(rebate(7000, "2025-06-01"),)
    )
    until = at("2025-08-01 00:00")
    assert replay(forward, rules, until) == replay(backward, rules, until)


def test_as_of_date_includes_the_whole_day(rules: Rules) -> None:
    card = CardInput("1234", trips=(trip(1, "2025-06-03 23:59", 1000),))
    state = state_at_end_of(card, rules, day("2025-06-03"))
    assert len(state.trip_results) == 1
    assert state.as_of == dt.datetime(2025, 6, 3, 23, 59, 59, 999999)


def test_planner_view_of_the_pools(rules: Rules) -> None:
    from etcbook.domain.mileage_planner import planner_pools

    card = CardInput(
        "1234",
        trips=(
            trip(1, "2025-04-03 10:00", 3000),
            trip(2, "2025-05-03 10:00", 5000),
            trip(3, "2025-06-03 10:00", 2000),
        ),
    )
    state = state_at_end_of(card, rules, day("2025-06-25"))
    (nexco,) = planner_pools(state, rules, auto_exchange=False)
    assert nexco.pool == "nexco"
    assert nexco.recent_monthly_points == (300, 500)
    assert [(lot.granted_on, lot.remaining) for lot in nexco.lots] == [
        (day("2025-05-20"), 300),
        (day("2025-06-20"), 500),
        (day("2025-07-20"), 200),  # 付与予定
    ]
    assert nexco.operators == ("nexco", "miyagi")
    assert nexco.earning is not None and nexco.earning.points_for(1234) == 123
    assert nexco.grid == rules.pool("nexco").manual_units
