"""The store side: a card change at 23:50 in the store, the registration replayed through it,
month facts, suspicious trips, kept figures and snapshots."""

from __future__ import annotations

import datetime as dt

import pytest

from etcbook.domain.incidents import CardChangeRefused
from etcbook.domain.reconcile import Reported, TripLine
from etcbook.models.cards import create_card
from etcbook.models.imports import import_files
from etcbook.models.reconcile import (
    change_card,
    changes_since,
    load_reported,
    merge_reported,
    save_reported,
    suspicious_trip_list,
    trip_fingerprint,
)
from etcbook.models.reconcile_facts import month_facts, replay_registration

pytestmark = pytest.mark.both_backends

T = dt.datetime.fromisoformat


@pytest.fixture
def changed(store, write_meisai):  # type: ignore[no-untyped-def]
    with store.session(write=True) as session:
        create_card(session=session, last4="1234", holder="山田太郎", mileage_id="M1")
        create_card(session=session, last4="4321", holder="山田 太郎")
        create_card(session=session, last4="5678", holder="山田花子")
    old = write_meisai(
        "old.csv",
        "1234",
        [
            ("2025-05-12T10:00", "東京", "名古屋", 20_000, "確定"),
            ("2025-06-25T23:55", "厚木", "東京", 1_000, "確定"),
            ("2025-06-26T00:10", "東京", "川崎", 5_000, "確定"),
        ],
    )
    new = write_meisai(
        "new.csv",
        "4321",
        [
            ("2025-06-25T23:58", "東京", "横浜", 3_000, "確定"),
            ("2025-06-26T00:05", "川崎", "東京", 700, "確定"),
        ],
    )
    assert import_files(store, [old, new]).committed
    with store.transaction() as connection:
        link = change_card(
            connection=connection, old="1234", new="4321", registered_at=T("2025-06-25T23:50")
        )
    assert link.effective_at == T("2025-06-26T00:00")
    return store


def _by_exit(trips: tuple[TripLine, ...]) -> dict[str, TripLine]:
    return {f"{t.exit_at:%m-%d %H:%M}": t for t in trips}


def test_change_at_2350_leaves_2355_on_the_old_card_and_0005_on_the_new(changed) -> None:  # type: ignore[no-untyped-def]
    with changed.engine.connect() as connection:
        old = month_facts(
            connection=connection, card="1234", month=dt.date(2025, 6, 1), as_of=dt.date(2025, 8, 1)
        )
        new = month_facts(
            connection=connection, card="4321", month=dt.date(2025, 6, 1), as_of=dt.date(2025, 8, 1)
        )
    old_trips, new_trips = _by_exit(old.trips), _by_exit(new.trips)
    assert old_trips["06-25 23:55"].registered and old_trips["06-25 23:55"].points == 100
    assert not old_trips["06-26 00:10"].registered
    assert new_trips["06-26 00:05"].registered and new_trips["06-26 00:05"].points == 70
    assert not new_trips["06-25 23:58"].registered
    # one registration: June's grant is the old card's 23:55 trip and the new card's 00:05 one
    assert [(p.pool, p.total) for p in new.pools] == [("nexco", 170)]
    assert [(p.pool, p.total) for p in old.pools] == [("nexco", 170)]
    # each card statement is the card's own trips
    assert old.billed_total == 1_000 + 5_000 and new.billed_total == 3_000 + 700
    assert [(c.old_card, c.new_card) for c in new.card_changes] == [("1234", "4321")]


def test_points_move_to_the_new_card_keeping_their_dates(changed) -> None:  # type: ignore[no-untyped-def]
    from etcbook.domain.rules import load_rules

    with changed.engine.connect() as connection:
        registration = replay_registration(
            connection=connection, card="1234", until=T("2025-07-20T23:59"), rules=load_rules()
        )
    assert registration.cards == ("1234", "4321")
    assert registration.state.card == "4321"
    lots = registration.state.pools["nexco"].lots
    assert [(lot.granted_on, lot.expires_on, lot.remaining) for lot in lots] == [
        (dt.date(2025, 6, 20), dt.date(2027, 3, 31), 2000),
        (dt.date(2025, 7, 20), dt.date(2027, 3, 31), 170),
    ]


def test_old_card_trip_after_the_change_is_suspicious(changed) -> None:  # type: ignore[no-untyped-def]
    with changed.engine.connect() as connection:
        found = suspicious_trip_list(connection=connection)
    assert [(s.trip.card, f"{s.trip.exit_at:%m-%d %H:%M}") for s in found] == [
        ("1234", "06-26 00:10")
    ]


def test_different_holder_refused_in_the_store(changed) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CardChangeRefused, match="名義が違う"), changed.transaction() as connection:
        change_card(
            connection=connection, old="4321", new="5678", registered_at=T("2025-09-01T10:00")
        )
    with changed.engine.connect() as connection:
        status = connection.exec_driver_sql(
            "SELECT last4, status, mileage_id FROM cards ORDER BY last4"
        ).all()
    assert status == [
        ("1234", "replaced", "M1"),
        ("4321", "active", "M1"),
        ("5678", "active", None),
    ]


def test_reported_figures_are_kept_and_merged(store) -> None:  # type: ignore[no-untyped-def]
    with store.session(write=True) as session:
        create_card(session=session, last4="1234", holder="山田太郎")
    with store.transaction() as connection:
        save_reported(
            connection=connection,
            card="1234",
            month="2025-07",
            reported=Reported(rebate_closing=1795, points={"nexco": 1185}),
        )
    with store.engine.connect() as connection:
        saved = load_reported(connection=connection, card="1234", month="2025-07")
    assert saved == Reported(rebate_closing=1795, points={"nexco": 1185})
    merged = merge_reported(saved, Reported(statement_total=11254, points={"honshi": 3}))
    assert merged == Reported(
        rebate_closing=1795, statement_total=11254, points={"nexco": 1185, "honshi": 3}
    )


def test_changes_since_a_snapshot() -> None:
    def trip(trip_id: int, toll: int) -> TripLine:
        return TripLine(
            trip_id, "1234", T("2025-07-01T07:40"), None, "厚木", "横浜町田", toll, 0, toll
        )

    marked = {str(t.trip_id): trip_fingerprint(t) for t in (trip(1, 930), trip(2, 930))}
    changes = changes_since(marked, [trip(1, 1030), trip(3, 500)])
    assert [(c.trip_id, c.change) for c in changes] == [
        (1, "changed"),
        (2, "removed"),
        (3, "added"),
    ]
    assert "通行料金 930→1030" in changes[0].message
