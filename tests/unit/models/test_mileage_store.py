"""The mileage tables, their migration, and the adapter from the store to the engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import inspect, text

from etcbook.domain.mileage import Adjustment, ExchangeInput, StopEvent, TripInput
from etcbook.domain.points import ExchangeUnit
from etcbook.domain.rules import load_rules
from etcbook.models.mileage import (
    create_adjustment,
    create_exchange,
    create_manual_trip,
    create_stop,
    list_card_refs,
    set_commute_pass_month,
)
from etcbook.models.mileage_inputs import card_states, load_card_inputs, trip_results_for

pytestmark = pytest.mark.both_backends


def add_card(store: Any, last4: str, auto_exchange: bool = False) -> int:
    with store.transaction() as connection:
        result = connection.execute(
            text(
                "INSERT INTO cards (last4, holder, auto_exchange, created_at)"
                " VALUES (:last4, '山田太郎', :auto, '2025-01-01T00:00:00') RETURNING id"
            ),
            {"last4": last4, "auto": auto_exchange},
        )
        return int(result.scalar_one())


def test_migration_creates_the_mileage_tables_and_index(store: Any) -> None:
    from etcbook.models.store import _declared_heads

    with store.engine.connect() as connection:
        schema = inspect(connection)
        names = set(schema.get_table_names()) | {i["name"] for i in schema.get_indexes("trips")}
        heads = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    assert {"point_exchanges", "card_stops", "mileage_adjustments", "commute_pass_months"} <= names
    assert "ix_trips_mileage" in names
    assert heads == set(_declared_heads()) and len(heads) == 1  # one head since 0003


def test_adapter_reads_every_kind_of_record(store: Any) -> None:
    card_id = add_card(store, "1234", auto_exchange=True)
    other_id = add_card(store, "5678")
    with store.transaction() as connection:
        trip_id = create_manual_trip(
            connection=connection,
            values={
                "card_id": card_id,
                "entry_at": dt.datetime(2025, 6, 2, 7, 10),
                "exit_at": dt.datetime(2025, 6, 2, 7, 50),
                "entry_ic": "東京",
                "exit_ic": "厚木",
                "toll": 1320,
                "rebate_applied": 300,
                "deferred_toll": 1020,
                "operator": "nexco",
                "morning_evening": True,
            },
        )
        plain_id = create_manual_trip(
            connection=connection,
            values={
                "card_id": card_id,
                "entry_at": dt.datetime(2025, 6, 2, 11, 0),
                "exit_at": dt.datetime(2025, 6, 2, 11, 40),
                "exit_ic": "厚木",
                "toll": 800,
                "operator": "shutoko",
            },
        )
        create_manual_trip(
            connection=connection,
            values={
                "card_id": other_id,
                "exit_at": dt.datetime(2025, 6, 3, 9, 0),
                "exit_ic": "x",
                "toll": 100,
            },
        )
        exchange_id = create_exchange(
            connection=connection,
            card_id=card_id,
            at=dt.datetime(2025, 6, 1, 12, 0),
            pool="nexco",
            units=[ExchangeUnit(1000, 500)],
        )
        stop_id = create_stop(
            connection=connection, card_id=card_id, at=dt.datetime(2025, 7, 1, 9, 0), stopped=True
        )
        adjustment_id = create_adjustment(
            connection=connection,
            card_id=card_id,
            on=dt.date(2025, 5, 20),
            reason="キャンペーン",
            pool="nexco",
            points=1000,
        )
        set_commute_pass_month(
            connection=connection, card_id=card_id, month="2025-09", present=True
        )

    rules = load_rules()
    with store.engine.connect() as connection:
        cards = list_card_refs(connection=connection)
        inputs = load_card_inputs(connection=connection, cards=cards, rules=rules)
    card = inputs[card_id]
    assert card.card == "1234" and card.auto_exchange
    assert card.trips == (
        TripInput(
            trip_id,
            dt.datetime(2025, 6, 2, 7, 50),
            1320,
            "nexco",
            dt.datetime(2025, 6, 2, 7, 10),
            300,
            True,
            None,
        ),
        # the entry time is read only for 朝夕 trips
        TripInput(plain_id, dt.datetime(2025, 6, 2, 11, 40), 800, "shutoko", None, None, False),
    )
    assert card.exchanges == (
        ExchangeInput(
            dt.datetime(2025, 6, 1, 12, 0), "nexco", (ExchangeUnit(1000, 500),), exchange_id
        ),
    )
    assert card.stops == (StopEvent(dt.datetime(2025, 7, 1, 9, 0), True, stop_id),)
    assert card.adjustments == (
        Adjustment(dt.date(2025, 5, 20), "キャンペーン", "nexco", 1000, 0, adjustment_id),
    )
    assert card.commute_pass_months == frozenset({dt.date(2025, 9, 1)})
    assert len(inputs[other_id].trips) == 1


def test_card_states_and_trip_results_from_the_store(store: Any) -> None:
    card_id = add_card(store, "1234")
    with store.transaction() as connection:
        create_adjustment(
            connection=connection, card_id=card_id, on=dt.date(2025, 6, 1), reason="x", rebate=5000
        )
        ids = [
            create_manual_trip(
                connection=connection,
                values={"card_id": card_id, "exit_at": exit_at, "exit_ic": "厚木", "toll": toll},
            )
            for exit_at, toll in (
                (dt.datetime(2025, 6, 2, 10, 0), 2400),
                (dt.datetime(2025, 6, 2, 15, 0), 1300),
                (dt.datetime(2025, 6, 3, 9, 30), 2000),
            )
        ]
    with store.engine.connect() as connection:
        (state,) = card_states(connection=connection, as_of=dt.date(2025, 7, 20))
        results = trip_results_for(connection=connection, last4=["1234"], as_of=dt.date(2025, 6, 3))
    assert state.points("nexco") == 70
    assert [(results[i].billed, results[i].points) for i in ids] == [(0, 0), (0, 0), (700, 70)]


def test_a_trip_entered_twice_gets_the_next_seq(store: Any) -> None:
    card_id = add_card(store, "1234")
    values = {
        "card_id": card_id,
        "exit_at": dt.datetime(2025, 6, 2, 10, 0),
        "exit_ic": "厚木",
        "toll": 500,
    }
    with store.transaction() as connection:
        create_manual_trip(connection=connection, values=dict(values))
        create_manual_trip(connection=connection, values=dict(values))
        seqs = connection.execute(text("SELECT seq, trip_key, source FROM trips ORDER BY id")).all()
    assert [row[0] for row in seqs] == [0, 1]
    assert seqs[0][1] == "|2025-06-02T10:00:00||厚木"
    assert {row[2] for row in seqs} == {"manual"}
