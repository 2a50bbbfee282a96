"""What the journal books and what it leaves out, and the settings' checks (no files, no store)."""

from __future__ import annotations

import dataclasses

import pytest

from etcbook.domain.journal import (
    CreditKind,
    JournalSettings,
    JournalTrip,
    Treatment,
    book,
    check_setting,
    credit_side_from,
    settings_from,
    settings_values,
)
from tests.unit.export.journal_cases import CARD, TRIPS, credit, line

CREDITS = {CARD: credit(CreditKind.COMPANY)}


def reasons(**options: bool) -> dict[int, str]:
    booking = book(TRIPS, JournalSettings(), CREDITS, **options)
    return {s.trip_id: s.reason for s in booking.skipped}


def test_left_out_trips_and_their_reasons() -> None:
    booking = book(TRIPS, JournalSettings(), CREDITS)
    assert [e.trip_id for e in booking.entries] == [101, 102, 103, 104, 105, 107, 108]
    left_out = reasons()
    assert set(left_out) == {106, 109, 111}  # private 110 and private passage 112: not candidates
    assert left_out[106].startswith("精算額 0 円（全額が還元額")
    assert left_out[109].startswith("確認中")
    assert "通過記録" in left_out[111]
    with_provisional = book(TRIPS, JournalSettings(), CREDITS, include_provisional=True)
    assert 109 in {e.trip_id for e in with_provisional.entries}


def test_a_business_part_below_one_yen_is_left_out_with_its_reason() -> None:
    tiny = JournalTrip(trip_id=1, card=CARD, status="確定", line=line(1, "A", "B", 1, share=50))
    assert (
        book([tiny], JournalSettings(), CREDITS).skipped[0].reason
        == "精算額 0 円（業務分が1円未満）"
    )


def test_exported_trips_are_left_out_unless_again_and_a_changed_amount_is_said() -> None:
    first = dataclasses.replace(
        TRIPS[0], exported="2025-10-01 10:00 yayoi a.csv", exported_amount=1320
    )
    changed = dataclasses.replace(
        TRIPS[1], exported="2025-10-01 10:00 yayoi a.csv", exported_amount=2000
    )
    booking = book([first, changed], JournalSettings(), CREDITS)
    assert booking.entries == ()
    said = {s.trip_id: s.reason for s in booking.skipped}
    assert said[101] == "書き出し済み（2025-10-01 10:00 yayoi a.csv）"
    assert "2,000 円から 2,488 円" in said[102]
    again = book([first, changed], JournalSettings(), CREDITS, again=True)
    assert [e.claimed for e in again.entries] == [1320, 2488]


def test_negative_rows_are_reversed_and_income_treatment_splits_the_rebate() -> None:
    booking = book(TRIPS, JournalSettings(treatment=Treatment.INCOME), CREDITS)
    by_trip = {e.trip_id: e for e in booking.entries}
    negative = by_trip[105]
    assert negative.reversed and negative.claimed == -1050
    (posting,) = negative.postings
    assert (posting.debit.account, posting.credit.account, posting.amount) == (
        "未払金",
        "旅費交通費",
        1050,
    )
    rebated = by_trip[103]
    assert [(p.debit.account, p.credit.account, p.amount) for p in rebated.postings] == [
        ("旅費交通費", "未払金", 1230),
        ("旅費交通費", "雑収入", 300),
    ]
    assert by_trip[106].postings[0].amount == 800 and by_trip[106].claimed == 0
    net = book(TRIPS, JournalSettings(), CREDITS)
    assert {e.trip_id: e.memo for e in net.entries}[103] == "etcbook:trip-103 還元額300円控除"
    billed = book(TRIPS, JournalSettings(treatment=Treatment.BILLED), CREDITS)
    assert {e.trip_id: e.memo for e in billed.entries}[103] == "etcbook:trip-103"
    assert billed.total == net.total == booking.total


def test_credit_side_defaults_follow_the_card() -> None:
    corporate = credit_side_from({}, card_last4="9012", card_kind="corporate", holder="山田")
    assert (corporate.kind, corporate.account, corporate.sub, corporate.wallet) == (
        CreditKind.COMPANY,
        "未払金",
        "ETCカード9012",
        "",
    )
    private = credit_side_from({}, card_last4="1234", card_kind="credit", holder="山田")
    assert (private.account, private.wallet) == ("事業主借", "プライベート資金")
    employee = credit_side_from(
        {"credit": "employee", "credit_account": "未払費用"},
        card_last4="1234",
        card_kind="credit",
        holder="佐藤",
    )
    assert (employee.account, employee.sub) == ("未払費用", "佐藤")


def test_settings_round_trip_and_checks() -> None:
    settings = settings_from({"accounting": "税抜", "rebate_treatment": "income", "mf.invoice": ""})
    assert settings.yayoi_tax_label == "課対仕入内10%適格"
    assert JournalSettings().yayoi_tax_label == "課対仕入込10%適格"
    assert settings_from(settings_values(settings)) == settings
    assert check_setting("debit_account", "車両費", per_card=False) is None
    assert check_setting("mf.invoice", "", per_card=False) is None
    for key, value, per_card in (
        ("debit_account", "", False),
        ("accounting", "内税", False),
        ("rebate_treatment", "gross", False),
        ("credit", "friend", True),
        ("credit", "company", False),
        ("debit_account", "車両費", True),
        ("debit_account", " 旅費交通費", False),
        ("nothing", "x", False),
    ):
        assert check_setting(key, value, per_card=per_card), (key, value)


@pytest.mark.parametrize("share", [0, 1, 50, 100])
def test_passages_are_listed_only_when_marked_as_business(share: int) -> None:
    passage = JournalTrip(
        trip_id=7, card=CARD, status="確定", line=None, flags=(), business_share=share
    )
    booking = book([passage], JournalSettings(), CREDITS)
    assert booking.entries == ()
    assert [s.trip_id for s in booking.skipped] == ([7] if share else [])
