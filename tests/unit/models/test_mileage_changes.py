"""Checked changes of the mileage ledger (shared by the CLI and the window): each refusal
says why in Japanese and leaves the store as it was."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text

from etcbook.domain.rules import load_rules
from etcbook.models.mileage_changes import (
    ChangeRefused,
    UnknownCard,
    add_trip_by_hand,
    record_adjustment,
    record_stop,
    set_commute_pass,
)

pytestmark = pytest.mark.both_backends

RULES = load_rules()
AT = dt.datetime(2025, 6, 4, 9, 0)
ON = dt.date(2025, 6, 1)


@pytest.fixture
def card(store: Any) -> Any:
    with store.transaction() as connection:
        connection.execute(
            text(
                "INSERT INTO cards (last4, holder, created_at)"
                " VALUES ('1234', '山田太郎', '2025-01-01T00:00:00')"
            )
        )
    return store


def rows(store: Any, table: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def refused(store: Any, change: Any, match: str) -> None:
    with pytest.raises(ChangeRefused, match=match), store.transaction() as connection:
        change(connection)


def test_stop_then_resume_and_their_refusals(card: Any) -> None:
    with card.transaction() as connection:
        stop = record_stop(connection=connection, last4="1234", at=AT, stopped=True, note=" 窓口 ")
    assert (stop.card, stop.stopped, stop.at) == ("1234", True, AT)
    later = AT + dt.timedelta(days=1)
    refused(
        card,
        lambda c: record_stop(connection=c, last4="1234", at=later, stopped=True),
        "すでに利用停止中",
    )
    refused(
        card,
        lambda c: record_stop(
            connection=c, last4="1234", at=AT - dt.timedelta(hours=1), stopped=False
        ),
        "利用停止されていません",
    )
    with pytest.raises(UnknownCard, match="末尾9999"), card.transaction() as connection:
        record_stop(connection=connection, last4="9999", at=AT, stopped=True)
    assert rows(card, "card_stops") == 1
    with card.engine.connect() as connection:
        status = connection.execute(text("SELECT status FROM cards")).scalar_one()
    assert status == "stopped"
    with card.transaction() as connection:
        record_stop(connection=connection, last4="1234", at=later, stopped=False)
    assert rows(card, "card_stops") == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reason": " ", "rebate": 100}, "理由を書いてください"),
        ({"reason": "x"}, "0は調整になりません"),
        ({"reason": "x", "points": 5, "rebate": 5, "pool": "nexco"}, "別々に"),
        ({"reason": "x", "points": 5}, "プールの指定が必要"),
        ({"reason": "x", "points": 5, "pool": "mars"}, "プール「mars」はありません"),
        ({"reason": "x", "rebate": 5, "pool": "nexco"}, "プールは指定しません"),
        ({"reason": "訂正", "rebate": -500}, r"減らす量（500円）がその日の残高を超えています"),
        ({"reason": "訂正", "points": -10, "pool": "nexco"}, r"減らす量（10P）"),
    ],
)
def test_adjustment_refusals_record_nothing(
    card: Any, kwargs: dict[str, Any], message: str
) -> None:
    refused(
        card,
        lambda c: record_adjustment(connection=c, rules=RULES, last4="1234", on=ON, **kwargs),
        message,
    )
    assert rows(card, "mileage_adjustments") == 0


def test_adjustment_recorded_and_a_later_one_protected(card: Any) -> None:
    with card.transaction() as connection:
        credit = record_adjustment(
            connection=connection,
            rules=RULES,
            last4="1234",
            on=ON,
            reason=" キャンペーン ",
            rebate=500,
        )
        record_adjustment(
            connection=connection,
            rules=RULES,
            last4="1234",
            on=ON + dt.timedelta(days=10),
            reason="サイトに合わせる",
            rebate=-500,
        )
    assert (credit.reason, credit.rebate, credit.pool) == ("キャンペーン", 500, None)
    # A debit before the later one would leave it without a balance: refused.
    refused(
        card,
        lambda c: record_adjustment(
            connection=c,
            rules=RULES,
            last4="1234",
            on=ON + dt.timedelta(days=5),
            reason="x",
            rebate=-100,
        ),
        "後の記録が成り立たなくなります",
    )
    assert rows(card, "mileage_adjustments") == 2


def test_commute_pass_months(card: Any) -> None:
    with card.transaction() as connection:
        assert set_commute_pass(connection=connection, last4="1234", month="2025-09") == ["2025-09"]
        set_commute_pass(connection=connection, last4="1234", month="2025-07")
        assert set_commute_pass(connection=connection, last4="1234") == ["2025-07", "2025-09"]
        removed = set_commute_pass(
            connection=connection, last4="1234", month="2025-09", present=False
        )
    assert removed == ["2025-07"]
    refused(card, lambda c: set_commute_pass(connection=c, last4="1234", month="2025/9"), "YYYY-MM")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operator": "mars"}, "事業者キー「mars」は使えません"),
        ({"entry_at": AT + dt.timedelta(minutes=5)}, "入口の日時が出口の日時より後"),
        ({"exit_ic": "  "}, "出口ICを指定してください"),
        ({"rebate_applied": 1200}, "還元額適用料金は0から通行料金まで"),
    ],
)
def test_trip_refusals_record_nothing(card: Any, kwargs: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"last4": "1234", "exit_at": AT, "exit_ic": "厚木", "toll": 1000}
    values.update(kwargs)
    refused(card, lambda c: add_trip_by_hand(connection=c, **values), message)
    assert rows(card, "trips") == 0


def test_trip_by_hand(card: Any) -> None:
    with card.transaction() as connection:
        trip_id = add_trip_by_hand(
            connection=connection,
            last4="1234",
            exit_at=AT,
            entry_at=AT - dt.timedelta(minutes=30),
            entry_ic=" 東京 ",
            exit_ic=" 厚木 ",
            toll=1320,
            morning_evening=True,
        )
    with card.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT entry_ic, exit_ic, toll, operator, morning_evening, source FROM trips WHERE id = :id"
            ),
            {"id": trip_id},
        ).one()
    assert tuple(row) == ("東京", "厚木", 1320, "nexco", 1, "manual")
