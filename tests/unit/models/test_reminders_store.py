"""dashboard_reminders over the demo store: with the window's precomputed card states, the
same reminders as when it replays the engine itself, and what the next 20th brings is what a
replay up to that 20th shows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from etcbook.domain.incidents import registration_segments
from etcbook.domain.reminders import next_twentieth
from etcbook.domain.rules import load_rules
from etcbook.models.card_links import load_links
from etcbook.models.mileage_inputs import card_states
from etcbook.models.reminders import dashboard_reminders, reminder_facts
from etcbook.models.store import open_store

RULES = load_rules()
# The demo's trips run from 2025-05 to 2026-10: dates inside have trips after them (the next
# 20th is replayed), dates after the last trip read it from the state.
DATES = [dt.date(2025, 5, 1) + dt.timedelta(days=23 * i) for i in range(26)] + [
    dt.date(2026, 10, 31),
    dt.date(2026, 11, 3),
    dt.date(2026, 11, 19),
    dt.date(2026, 11, 20),
    dt.date(2026, 12, 24),
]


pytestmark = pytest.mark.both_backends


@pytest.fixture
def connection(demo_store_target: Path | str):  # type: ignore[no-untyped-def]
    store = open_store(demo_store_target)
    with store.engine.connect() as connection:
        yield connection
    store.close()


def test_precomputed_states_give_the_same_reminders(connection) -> None:  # type: ignore[no-untyped-def]
    for as_of in DATES:
        states = {s.card: s for s in card_states(connection=connection, as_of=as_of, rules=RULES)}
        alone = dashboard_reminders(connection=connection, as_of=as_of, rules=RULES)
        given = dashboard_reminders(connection=connection, as_of=as_of, rules=RULES, states=states)
        assert given == alone, as_of


def test_the_next_twentieth_is_what_replaying_to_it_shows(connection) -> None:  # type: ignore[no-untyped-def]
    links = load_links(connection=connection)
    seen = 0
    for as_of in DATES:
        facts = reminder_facts(connection=connection, as_of=as_of, rules=RULES)
        on = next_twentieth(as_of)
        at = dt.datetime(on.year, on.month, on.day)
        ahead = {s.card: s for s in card_states(connection=connection, as_of=on, rules=RULES)}
        for fact in facts:
            if registration_segments(fact.card, links)[-1].card != fact.card:
                continue  # a replaced card: its registration is the new card's
            ledger = [entry for entry in ahead[fact.card].ledger if entry.at == at]
            granted: dict[str, int] = {}
            for entry in ledger:
                if entry.kind == "grant" and entry.pool is not None:
                    granted[entry.pool] = granted.get(entry.pool, 0) + entry.points
            credit = sum(e.rebate for e in ledger if e.kind == "morning_evening")
            assert {g.pool: g.points for g in fact.next_grants} == granted, (as_of, fact.card)
            assert fact.next_rebate_credit == credit, (as_of, fact.card)
            seen += bool(granted) + bool(credit)
    assert seen > 20


def test_with_the_states_after_the_last_trip_nothing_is_replayed(
    connection, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    as_of = dt.date(2026, 11, 3)
    states = {s.card: s for s in card_states(connection=connection, as_of=as_of, rules=RULES)}
    expected = dashboard_reminders(connection=connection, as_of=as_of, rules=RULES)

    def no_replay(*_args: object) -> None:
        raise AssertionError("replayed although the states were given")

    monkeypatch.setattr("etcbook.models.reminders.replay", no_replay)
    given = dashboard_reminders(connection=connection, as_of=as_of, rules=RULES, states=states)
    assert given == expected


def test_a_state_of_another_day_is_refused(connection) -> None:  # type: ignore[no-untyped-def]
    states = {
        s.card: s
        for s in card_states(connection=connection, as_of=dt.date(2026, 11, 2), rules=RULES)
    }
    with pytest.raises(ValueError, match="not the end of"):
        dashboard_reminders(
            connection=connection, as_of=dt.date(2026, 11, 3), rules=RULES, states=states
        )
