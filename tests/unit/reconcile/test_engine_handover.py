"""The engine's one input for 登録カード変更: ``CardInput.handed_over_at``."""

from __future__ import annotations

import datetime as dt

from etcbook.domain.mileage import CardInput, ExchangeInput, TripInput, replay
from etcbook.domain.points import ExchangeUnit
from etcbook.domain.rules import load_rules

T = dt.datetime.fromisoformat


def test_a_handed_over_card_holds_nothing_from_the_handover_on() -> None:
    rules = load_rules()
    card = CardInput(
        card="1234",
        trips=(
            TripInput(1, T("2025-05-12T10:00"), 20_000),  # 2,000P on 2025-06-20
            TripInput(2, T("2025-06-21T09:00"), 600),  # takes the rebate below
            TripInput(3, T("2025-07-01T09:00"), 1_000),  # granted 2025-08-20: not on this card
        ),
        exchanges=(ExchangeInput(T("2025-06-20T12:00"), "nexco", (ExchangeUnit(1000, 500),)),),
        handed_over_at=T("2025-07-10T00:00"),
    )
    before = replay(card, rules, T("2025-07-09T23:59"))
    assert before.pools["nexco"].points == 1000 and before.rebate_balance == 0
    assert before.pools["nexco"].pending_points == 10 + 100  # June (7/20) and July (8/20)
    after = replay(card, rules, T("2025-09-01T00:00"))
    assert after.as_of == T("2025-09-01T00:00")
    assert after.pools["nexco"].points == 0 and after.pools["nexco"].pending_points == 0
    assert after.pools["nexco"].lots == () and after.rebate_balance == 0
    assert [(e.kind, e.pool, e.points) for e in after.ledger if e.kind == "handover"] == [
        ("handover", "nexco", -1000)
    ]
    assert [r.trip_id for r in after.trip_results] == [1, 2, 3]
    assert [e.month for e in after.earnings["nexco"]] == [dt.date(2025, 5, 1)]
    assert not [a for a in after.alerts if a.kind == "points_expiring"]
    # without the handover the same card keeps its points
    kept = replay(
        CardInput(card="1234", trips=card.trips, exchanges=card.exchanges),
        rules,
        T("2025-09-01T00:00"),
    )
    assert kept.pools["nexco"].points == 1110
