"""Properties of the replay over random timelines: conservation, no negative balance, purity."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etcbook.domain.calendar import end_of_day
from etcbook.domain.mileage import (
    Adjustment,
    CardInput,
    CardState,
    ExchangeInput,
    StopEvent,
    TripInput,
    due_on_twentieth,
    replay,
)
from etcbook.domain.reminders import next_twentieth
from etcbook.domain.rules import Rules, load_rules

RULES: Rules = load_rules()
START = dt.datetime(2016, 1, 1)
SPAN_MINUTES = 3 * 365 * 24 * 60
END = START + dt.timedelta(days=4 * 365)
OPERATORS = [
    "nexco",
    "nexco",
    "nexco",
    "nexco",
    "nexco",
    "nexco",
    "miyagi",
    "honshi",
    "nagoya",
    "aichi",
    "kobe",
    "fukuoka",
    "kitakyushu",
    "hanshin",
    "shutoko",
    "other_rebate",
]
POOLS = ["nexco", "honshi", "aichi", "kobe", "fukuoka"]

minutes = st.integers(min_value=0, max_value=SPAN_MINUTES)
DAY = 24 * 60


@st.composite
def moments(draw: st.DrawFn) -> st.SearchStrategy[int]:
    """Minutes from START, concentrated in a random stretch (one month to three years) so that
    months get enough trips for 朝夕割 and pools enough points for exchanges."""
    length = draw(st.sampled_from([31 * DAY, 31 * DAY, 92 * DAY, 365 * DAY, SPAN_MINUTES]))
    first = draw(st.integers(0, SPAN_MINUTES - length))
    return st.integers(first, first + length)


@st.composite
def trips(draw: st.DrawFn, when: st.SearchStrategy[int]) -> list[TripInput]:
    rows = draw(
        st.lists(
            st.tuples(
                when,
                st.sampled_from([None, None, None, 6, 7, 8, 17, 18, 19]),  # often a 朝夕 hour
                st.one_of(st.integers(-1200, 0), st.integers(1, 60_000)),
                st.one_of(st.none(), st.floats(0, 1)),  # share of the toll the file says
                st.sampled_from(OPERATORS),
                st.integers(0, 300),
                st.integers(0, 3),
            ),
            max_size=80,
        )
    )
    found = []
    for trip_id, (moment, hour, toll, share, operator, drive, flag) in enumerate(rows):
        exit_at = START + dt.timedelta(minutes=moment)
        if hour is not None:
            exit_at = exit_at.replace(hour=hour)
        found.append(
            TripInput(
                trip_id=trip_id,
                exit_at=exit_at,
                toll=toll,
                operator=operator,
                entry_at=exit_at - dt.timedelta(minutes=drive),
                rebate_applied_from_file=None if share is None else int(max(toll, 0) * share),
                morning_evening=flag > 0,
            )
        )
    return found


@st.composite
def commute(draw: st.DrawFn, first_id: int) -> list[TripInput]:
    """A commuter's month: a 朝夕 trip on each of its first weekdays (enough to earn 30–50 %)."""
    month = draw(st.integers(0, 35))
    first = dt.datetime(2016 + month // 12, month % 12 + 1, 1, 7, 30)
    days = [first + dt.timedelta(days=i) for i in range(28)]
    weekdays = [d for d in days if d.weekday() < 5][: draw(st.integers(3, 14))]
    toll = draw(st.integers(500, 3000))
    return [
        TripInput(
            first_id + i, d, toll, entry_at=d - dt.timedelta(minutes=40), morning_evening=True
        )
        for i, d in enumerate(weekdays)
    ]


@st.composite
def exchanges(draw: st.DrawFn, when: st.SearchStrategy[int]) -> list[ExchangeInput]:
    found = []
    for _ in range(draw(st.integers(0, 8))):
        pool = draw(st.sampled_from(POOLS))
        grid = RULES.pools[pool].manual_units
        units = tuple(draw(st.lists(st.sampled_from(grid), min_size=1, max_size=3)))
        moment = draw(when) + draw(st.integers(0, 200 * DAY))
        found.append(ExchangeInput(START + dt.timedelta(minutes=moment), pool, units))
    return found


@st.composite
def adjustments(draw: st.DrawFn) -> list[Adjustment]:
    found = []
    for _ in range(draw(st.integers(0, 6))):
        on = (START + dt.timedelta(minutes=draw(minutes))).date()
        amount = draw(st.integers(-4000, 8000).filter(lambda value: value != 0))
        if draw(st.booleans()):
            found.append(Adjustment(on, "test", pool=draw(st.sampled_from(POOLS)), points=amount))
        else:
            found.append(Adjustment(on, "test", rebate=amount))
    return found


@st.composite
def cards(draw: st.DrawFn) -> CardInput:
    when = draw(moments())
    stops = [
        StopEvent(START + dt.timedelta(minutes=draw(minutes)), draw(st.booleans()))
        for _ in range(draw(st.integers(0, 4)))
    ]
    months = draw(st.sets(st.integers(0, 35), max_size=4))
    return CardInput(
        card="1234",
        trips=(*draw(trips(when)), *(draw(commute(1000)) if draw(st.booleans()) else ())),
        exchanges=tuple(draw(exchanges(when))),
        stops=tuple(stops),
        adjustments=tuple(draw(adjustments())),
        commute_pass_months=frozenset(dt.date(2016 + m // 12, m % 12 + 1, 1) for m in months),
        auto_exchange=draw(st.booleans()),
    )


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ledger_points(state: CardState, pool: str, kinds: set[str], sign: int) -> int:
    return sum(
        entry.points
        for entry in state.ledger
        if entry.pool == pool and entry.kind in kinds and entry.points * sign > 0
    )


@SETTINGS
@given(card=cards())
def test_points_granted_equal_exchanged_plus_expired_plus_removed_plus_balance(
    card: CardInput,
) -> None:
    state = replay(card, RULES, END)
    for pool, pool_state in state.pools.items():
        granted = ledger_points(state, pool, {"grant", "adjustment"}, +1)
        exchanged = -ledger_points(state, pool, {"exchange", "auto_exchange"}, -1)
        expired = sum(loss.points for loss in state.losses if loss.pool == pool)
        removed = -ledger_points(state, pool, {"adjustment"}, -1)
        assert granted == exchanged + expired + removed + pool_state.points
        assert sum(lot.remaining for lot in pool_state.lots) == pool_state.points
        granted_by_trips = sum(
            earning.points for earning in state.earnings.get(pool, ()) if earning.granted
        )
        assert granted_by_trips == ledger_points(state, pool, {"grant"}, +1)
    assert state.points_lost_total == sum(loss.points for loss in state.losses)


@SETTINGS
@given(card=cards())
def test_rebate_credited_equals_applied_plus_debited_plus_balance(card: CardInput) -> None:
    state = replay(card, RULES, END)
    credited = sum(entry.rebate for entry in state.ledger if entry.rebate > 0)
    debited = -sum(entry.rebate for entry in state.ledger if entry.rebate < 0)
    applied = sum(result.rebate_applied for result in state.trip_results)
    assert credited == applied + debited + state.rebate_balance
    inferred = sum(credit.yen for credit in state.inferred_credits)
    assert inferred == sum(e.rebate for e in state.ledger if e.kind == "inferred_credit")
    if state.rebate_months:
        assert state.rebate_months[-1].closing == state.rebate_balance


@SETTINGS
@given(card=cards(), cuts=st.lists(minutes, min_size=1, max_size=4))
def test_no_balance_is_ever_negative(card: CardInput, cuts: list[int]) -> None:
    tolls = {trip.trip_id: trip for trip in card.trips}
    for cut in [*cuts, SPAN_MINUTES + 2 * 365 * 24 * 60]:
        state = replay(card, RULES, START + dt.timedelta(minutes=cut))
        assert state.rebate_balance >= 0
        for pool_state in state.pools.values():
            assert pool_state.points >= 0
            assert pool_state.pending_points >= 0
            assert all(lot.remaining > 0 for lot in pool_state.lots)
        for result in state.trip_results:
            trip = tolls[result.trip_id]
            assert result.points >= 0
            assert result.billed + result.rebate_applied == trip.toll
            if trip.rebate_applied_from_file is None:  # simulated: up to the toll and balance
                assert 0 <= result.rebate_applied <= max(trip.toll, 0)
            if result.stopped:
                assert result.points == 0
                assert trip.rebate_applied_from_file is not None or result.rebate_applied == 0


@SETTINGS
@given(card=cards(), seed=st.integers(0, 2**32 - 1))
def test_replaying_twice_or_shuffled_gives_the_same_state(card: CardInput, seed: int) -> None:
    first = replay(card, RULES, END)
    assert replay(card, RULES, END) == first
    shuffled = list(card.trips)
    random.Random(seed).shuffle(shuffled)
    assert replay(replace(card, trips=tuple(shuffled)), RULES, END) == first


@SETTINGS
@given(card=cards(), data=st.data())
def test_what_the_next_twentieth_brings_is_what_replaying_to_it_shows(
    card: CardInput, data: st.DataObject
) -> None:
    """due_on_twentieth on the state at the end of a day equals the replay up to that 20th,
    when no trip exits in between (the 20th pays only for trips already made)."""
    exits = sorted(trip.exit_at for trip in card.trips) or [START]
    after = data.draw(st.sampled_from(exits)).date()  # a day with trips, then up to 45 days on
    as_of = after + dt.timedelta(days=data.draw(st.integers(0, 45)))
    end = end_of_day(as_of)
    card = replace(card, trips=tuple(trip for trip in card.trips if trip.exit_at <= end))
    state = replay(card, RULES, end)
    assert state.pending_rebate == sum(m.total for m in state.pending_morning_evening)
    twentieth = next_twentieth(as_of)
    ahead = replay(card, RULES, end_of_day(twentieth))
    at = dt.datetime(twentieth.year, twentieth.month, twentieth.day)
    granted: dict[str, int] = {}
    for entry in ahead.ledger:
        if entry.at == at and entry.kind == "grant" and entry.pool is not None:
            granted[entry.pool] = granted.get(entry.pool, 0) + entry.points
    credited = sum(e.rebate for e in ahead.ledger if e.at == at and e.kind == "morning_evening")
    due = due_on_twentieth(state, twentieth)
    assert (due.on, dict(due.points), due.rebate) == (twentieth, granted, credited)
