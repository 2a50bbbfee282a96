"""紛失・盗難・破損, pure: the guide, the card change at midnight, holders, suspicious trips."""

from __future__ import annotations

import datetime as dt

import pytest

from etcbook.domain.incidents import (
    CardChangeRefused,
    CardFacts,
    CardLink,
    Incident,
    StepRecord,
    TripRef,
    check_card_change,
    check_step,
    current_card,
    effective_at,
    ledger_card_for,
    next_step,
    progress,
    registration_segments,
    same_holder,
    suspicious_trips,
)

T = dt.datetime.fromisoformat

OLD = CardFacts("1234", "山田太郎", "M001")
NEW = CardFacts("4321", "山田　太郎", None)
FAMILY = CardFacts("5678", "山田花子", "M001")


def test_card_change_at_2350_keeps_2355_on_the_old_card_and_0005_on_the_new() -> None:
    link = check_card_change(OLD, NEW, [], T("2026-03-20T23:50"))
    assert link.effective_at == T("2026-03-21T00:00")
    links = [link]
    assert ledger_card_for("1234", T("2026-03-20T23:55"), links) == "1234"
    assert ledger_card_for("4321", T("2026-03-21T00:05"), links) == "4321"
    # the other way round, neither card holds the registration
    assert ledger_card_for("4321", T("2026-03-20T23:55"), links) is None
    assert ledger_card_for("1234", T("2026-03-21T00:05"), links) is None
    assert current_card("1234", links) == "4321"


def test_different_holder_is_refused_with_the_reason() -> None:
    with pytest.raises(CardChangeRefused, match="名義が違う") as refused:
        check_card_change(OLD, FAMILY, [], T("2026-03-20T23:50"))
    assert "山田花子" in str(refused.value) and "別の台帳" in str(refused.value)


@pytest.mark.parametrize(
    ("new", "links", "reason"),
    [
        (CardFacts("1234", "山田太郎"), [], "同じカード"),
        (CardFacts("4321", ""), [], "名義が未入力"),
        (CardFacts("4321", "山田太郎", "M999"), [], "別のマイレージID"),
        (
            NEW,
            [CardLink("1234", "9999", T("2026-01-01T10:00"), T("2026-01-02T00:00"))],
            "すでに末尾9999へ変更済み",
        ),
        (
            NEW,
            [CardLink("7777", "4321", T("2026-01-01T10:00"), T("2026-01-02T00:00"))],
            "すでに末尾7777からの変更先",
        ),
    ],
)
def test_card_change_refusals(new: CardFacts, links: list[CardLink], reason: str) -> None:
    with pytest.raises(CardChangeRefused, match=reason):
        check_card_change(OLD, new, links, T("2026-03-20T23:50"))


def test_holder_comparison_ignores_spaces_and_width() -> None:
    assert same_holder("山田 太郎", "山田　太郎")
    assert same_holder("ＹＡＭＡＤＡ Taro", "yamada taro")
    assert not same_holder("", "")
    assert not same_holder("山田太郎", "山田花子")


def test_effective_at_is_midnight_next_day_even_at_month_end() -> None:
    assert effective_at(T("2026-03-31T23:59")) == T("2026-04-01T00:00")
    assert effective_at(T("2026-04-01T00:00")) == T("2026-04-02T00:00")


def test_registration_chain_of_two_changes() -> None:
    links = [
        CardLink("1234", "4321", T("2026-03-20T23:50"), T("2026-03-21T00:00")),
        CardLink("4321", "8888", T("2027-01-10T12:00"), T("2027-01-11T00:00")),
    ]
    segments = registration_segments("4321", links)
    assert [(s.card, s.start, s.end) for s in segments] == [
        ("1234", None, T("2026-03-21T00:00")),
        ("4321", T("2026-03-21T00:00"), T("2027-01-11T00:00")),
        ("8888", T("2027-01-11T00:00"), None),
    ]
    assert current_card("1234", links) == "8888"


def incident(*records: StepRecord, kind: str = "lost") -> Incident:
    return Incident("1234", kind, T("2026-03-10T08:00"), tuple(records), incident_id=7)  # type: ignore[arg-type]


def test_guide_progress_and_next_step() -> None:
    empty = incident()
    assert next_step(empty) is not None and next_step(empty).key == "issuer_stop"  # type: ignore[union-attr]
    done = incident(StepRecord("issuer_stop", T("2026-03-10T08:20"), desk="デスク"))
    states = {p.spec.key: p.state for p in progress(done)}
    assert states["issuer_stop"] == "done" and states["mileage_stop"] == "next"
    damaged = incident(kind="damaged")
    assert {p.spec.key: p.state for p in progress(damaged)}["police_report"] == "not_needed"


def test_step_checks() -> None:
    errors, _ = check_step(incident(), StepRecord("police_report", T("2026-03-10T10:00")))
    assert any("受理番号" in e for e in errors) and any("警察署" in e for e in errors)
    errors, _ = check_step(
        incident(kind="damaged"),
        StepRecord(
            "police_report",
            T("2026-03-10T10:00"),
            details={"police_station": "署", "accepted_number": "1", "accepted_on": "2026-03-10"},
        ),
    )
    assert any("必要ありません" in e for e in errors)
    errors, warnings = check_step(incident(), StepRecord("mileage_stop", T("2026-03-10T08:30")))
    assert errors == [] and any("カード発行元" in w for w in warnings)
    errors, _ = check_step(
        incident(),
        StepRecord(
            "police_report",
            T("2026-03-10T10:00"),
            details={"police_station": "署", "accepted_number": "1", "accepted_on": "10/3"},
        ),
    )
    assert any("受理年月日" in e for e in errors)


def test_suspicious_trips_after_stop_and_after_change() -> None:
    lost = incident(
        StepRecord("issuer_stop", T("2026-03-10T08:20"), desk="デスク"),
        StepRecord("mileage_stop", T("2026-03-10T08:30")),
    )
    assert lost.stop_at == T("2026-03-10T08:20")
    trips = [
        TripRef(1, "1234", T("2026-03-10T07:50"), "厚木", "横浜町田", 930),
        TripRef(2, "1234", T("2026-03-10T08:20"), "厚木", "横浜町田", 930),
        TripRef(3, "1234", T("2026-03-10T18:40"), "横浜町田", "厚木", 930),
        TripRef(4, "4321", T("2026-03-25T07:40"), "厚木", "横浜町田", 930),
    ]
    found = suspicious_trips(trips, [lost], [])
    assert [s.trip.trip_id for s in found] == [3]
    assert "利用停止" in found[0].reason and found[0].incident_id == 7

    link = CardLink("5678", "9999", T("2026-04-01T21:00"), T("2026-04-02T00:00"))
    trips = [
        TripRef(5, "5678", T("2026-04-01T23:55"), "東京", "川崎", 500),
        TripRef(6, "5678", T("2026-04-02T00:00"), "東京", "川崎", 500),
    ]
    found = suspicious_trips(trips, [], [link])
    assert [s.trip.trip_id for s in found] == [6]
    assert "登録カード変更" in found[0].reason


def test_registration_moves_points_and_rebate_to_the_new_card_keeping_dates() -> None:
    from etcbook.domain.incidents import registration_input
    from etcbook.domain.mileage import CardInput, StopEvent, TripInput, replay
    from etcbook.domain.rules import load_rules

    rules = load_rules()
    old = CardInput(
        card="1234",
        trips=(
            TripInput(1, T("2025-05-12T10:00"), 20_000),  # 2,000P granted 2025-06-20
            TripInput(2, T("2025-06-25T23:55"), 1_000),  # the change night: old card
            TripInput(3, T("2025-06-26T00:10"), 5_000),  # old card after the change: out
        ),
        stops=(StopEvent(T("2025-06-20T08:00"), stopped=True),),
    )
    new = CardInput(
        card="4321",
        trips=(
            TripInput(4, T("2025-06-25T23:58"), 3_000),  # new card before the change: out
            TripInput(5, T("2025-06-26T00:05"), 700),  # new card after the change: counts
        ),
    )
    link = check_card_change(OLD, NEW, [], T("2025-06-25T23:50"))
    chained = registration_input("4321", {"1234": old, "4321": new}, [link])
    assert chained.card == "4321"
    assert [t.trip_id for t in chained.trips] == [1, 2, 5]
    state = replay(chained, rules, T("2025-07-20T23:59"))
    results = {r.trip_id: r for r in state.trip_results}
    assert results[2].stopped and results[2].points == 0  # stopped since 08:00 on the 20th
    assert not results[5].stopped and results[5].points == 70  # resumed by the change
    nexco = state.pools["nexco"]
    assert [(lot.granted_on, lot.expires_on, lot.remaining) for lot in nexco.lots] == [
        (dt.date(2025, 6, 20), dt.date(2027, 3, 31), 2000),
        (dt.date(2025, 7, 20), dt.date(2027, 3, 31), 70),
    ]
    assert registration_input("9999", {}, []) == CardInput(card="9999")

    # the old card, seen by itself: the registration up to the change, then nothing
    handed = registration_input("1234", {"1234": old, "4321": new}, [link])
    assert handed.handed_over_at == T("2025-06-26T00:00")
    before = replay(handed, rules, T("2025-06-25T23:59"))
    assert before.pools["nexco"].points == 2000 and before.pools["nexco"].pending_points == 0
    after = replay(handed, rules, T("2025-07-20T23:59"))
    assert after.pools["nexco"].points == 0 and after.rebate_balance == 0
    assert [(e.kind, e.points) for e in after.ledger if e.kind == "handover"] == [
        ("handover", -2000)
    ]
    assert [r.trip_id for r in after.trip_results] == [1, 2]
