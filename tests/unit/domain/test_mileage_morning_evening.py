"""平日朝夕割引: which trips count, the rate, and when the rebate arrives."""

from __future__ import annotations

import datetime as dt

from mileage_helpers import at, day, trip

from etcbook.domain.discounts import MorningEveningTrip, morning_evening_for_month, window_of
from etcbook.domain.mileage import CardInput, replay, state_at_end_of
from etcbook.domain.rules import Rules

JUNE = day("2025-06-01")
# June 2025 weekdays without holidays
WEEKDAYS = [d for d in range(2, 31) if dt.date(2025, 6, d).weekday() < 5]


def morning(trip_id: int, on: int, toll: int = 1000, time: str = "07:30") -> MorningEveningTrip:
    exit_at = at(f"2025-06-{on:02d} {time}")
    return MorningEveningTrip(trip_id, exit_at, exit_at - dt.timedelta(minutes=20), toll)


def evening(trip_id: int, on: int, toll: int = 1000) -> MorningEveningTrip:
    exit_at = at(f"2025-06-{on:02d} 18:10")
    return MorningEveningTrip(trip_id, exit_at, exit_at - dt.timedelta(minutes=20), toll)


def test_four_counted_trips_bring_nothing() -> None:
    result = morning_evening_for_month(JUNE, [morning(i, d) for i, d in enumerate(WEEKDAYS[:4])])
    assert len(result.counted) == 4
    assert result.percent == 0
    assert result.total == 0


def test_five_counted_trips_bring_30_percent() -> None:
    result = morning_evening_for_month(JUNE, [morning(i, d) for i, d in enumerate(WEEKDAYS[:5])])
    assert result.percent == 30
    assert result.total == 5 * 300


def test_ten_counted_trips_bring_50_percent() -> None:
    trips = [morning(i, d, toll=1230) for i, d in enumerate(WEEKDAYS[:10])]
    result = morning_evening_for_month(JUNE, trips)
    assert result.percent == 50
    assert result.credits[0] == (0, 615)
    assert result.total == 10 * 615
    assert result.credit_on == day("2025-07-20")


def test_morning_and_evening_of_one_day_both_count() -> None:
    trips = [morning(1, 2), evening(2, 2), morning(3, 3), evening(4, 3), morning(5, 4)]
    assert len(morning_evening_for_month(JUNE, trips).counted) == 5


def test_a_second_morning_trip_the_same_day_does_not_count() -> None:
    trips = [morning(1, 2, time="06:30"), morning(2, 2, time="08:45"), morning(3, 3)]
    assert morning_evening_for_month(JUNE, trips).counted == (1, 3)


def test_a_holiday_does_not_count() -> None:
    # 2025-07-21 is 海の日 (Monday).
    holiday = MorningEveningTrip(1, at("2025-07-21 07:30"), at("2025-07-21 07:00"), 1000)
    workday = MorningEveningTrip(2, at("2025-07-22 07:30"), at("2025-07-22 07:00"), 1000)
    result = morning_evening_for_month(day("2025-07-01"), [holiday, workday])
    assert result.counted == (2,)


def test_weekend_does_not_count() -> None:
    saturday = MorningEveningTrip(1, at("2025-06-07 07:30"), at("2025-06-07 07:00"), 1000)
    assert morning_evening_for_month(JUNE, [saturday]).counted == ()


def test_judged_at_the_entry_or_the_exit_gate() -> None:
    # entry 08:40 (in the window), exit 09:30 (outside): counts in that morning.
    assert window_of(at("2025-06-02 08:40"), at("2025-06-02 09:30")) == (
        day("2025-06-02"),
        "morning",
    )
    # entry 16:30 (outside), exit 17:05 (inside): counts in that evening.
    assert window_of(at("2025-06-02 16:30"), at("2025-06-02 17:05")) == (
        day("2025-06-02"),
        "evening",
    )
    # neither gate in a window.
    assert window_of(at("2025-06-02 10:00"), at("2025-06-02 16:00")) is None
    # single mainline gate: the exit time decides.
    assert window_of(None, at("2025-06-02 06:10")) == (day("2025-06-02"), "morning")


def eligible_trips(count: int, toll: int = 1000) -> list:  # type: ignore[type-arg]
    return [
        trip(
            i + 1,
            f"2025-06-{d:02d} 07:40",
            toll,
            entry_at=f"2025-06-{d:02d} 07:10",
            morning_evening=True,
        )
        for i, d in enumerate(WEEKDAYS[:count])
    ]


def test_rebate_is_credited_on_the_20th_of_the_next_month(rules: Rules) -> None:
    card = CardInput("1234", trips=tuple(eligible_trips(10)))
    before = state_at_end_of(card, rules, day("2025-07-19"))
    assert before.rebate_balance == 0
    assert before.pending_rebate == 10 * 500
    after = replay(card, rules, at("2025-07-20 00:00"))
    assert after.rebate_balance == 10 * 500
    assert after.trip_results.get(1) is not None
    assert after.trip_results.get(1).morning_evening_credit == 500  # type: ignore[union-attr]


def test_morning_evening_rebate_is_used_from_00_00_on_the_20th(rules: Rules) -> None:
    trips = [
        *eligible_trips(5),
        trip(50, "2025-07-19 23:59", 800),
        trip(51, "2025-07-20 00:00", 800),
    ]
    state = state_at_end_of(CardInput("1234", trips=tuple(trips)), rules, day("2025-07-20"))
    assert state.trip_results.get(50).rebate_applied == 0  # type: ignore[union-attr]
    assert state.trip_results.get(51).rebate_applied == 800  # type: ignore[union-attr]
    assert state.rebate_balance == 5 * 300 - 800


def test_no_morning_evening_discount_in_a_commute_pass_month(rules: Rules) -> None:
    card = CardInput("1234", trips=tuple(eligible_trips(10)), commute_pass_months=frozenset({JUNE}))
    state = state_at_end_of(card, rules, day("2025-07-31"))
    assert state.rebate_balance == 0
    assert state.morning_evening == ()


def test_unmarked_trips_do_not_count(rules: Rules) -> None:
    trips = [
        trip(i + 1, f"2025-06-{d:02d} 07:40", 1000, entry_at=f"2025-06-{d:02d} 07:10")
        for i, d in enumerate(WEEKDAYS[:10])
    ]
    state = state_at_end_of(CardInput("1234", trips=tuple(trips)), rules, day("2025-07-31"))
    assert state.rebate_balance == 0


def test_marked_trips_off_nexco_do_not_count(rules: Rules) -> None:
    trips = [
        trip(i + 1, f"2025-06-{d:02d} 07:40", 1000, operator="shutoko", morning_evening=True)
        for i, d in enumerate(WEEKDAYS[:10])
    ]
    state = state_at_end_of(CardInput("1234", trips=tuple(trips)), rules, day("2025-07-31"))
    assert state.rebate_balance == 0


def test_eligible_amount_overrides_the_toll(rules: Rules) -> None:
    trips = [
        trip(i + 1, f"2025-06-{d:02d} 07:40", 3000, morning_evening=True, eligible=2000)
        for i, d in enumerate(WEEKDAYS[:5])
    ]
    state = state_at_end_of(CardInput("1234", trips=tuple(trips)), rules, day("2025-07-20"))
    assert state.rebate_balance == 5 * 600
