"""月次照合, pure: planted differences of each kind are found and explain the exact amount."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etcbook.domain.points import ExchangeUnit
from etcbook.domain.reconcile import (
    CardChange,
    ExchangeGrid,
    MonthFacts,
    MorningEveningCredit,
    PoolExpectation,
    RebateFlow,
    Reported,
    TripLine,
    cheapest_exchange,
    find_subset,
    near_month_edge,
    reconcile,
)

JULY = dt.date(2025, 7, 1)
NEXCO_GRID = (ExchangeUnit(1000, 500), ExchangeUnit(3000, 2500), ExchangeUnit(5000, 5000))


def trip(
    trip_id: int,
    exit_at: str,
    toll: int,
    *,
    applied: int = 0,
    card: str = "1234",
    entry: str | None = "厚木",
    exit_ic: str = "横浜町田",
    provisional: bool = False,
    pool: str | None = "nexco",
) -> TripLine:
    billed = toll - applied
    return TripLine(
        trip_id=trip_id,
        card=card,
        exit_at=dt.datetime.fromisoformat(exit_at),
        entry_at=None,
        entry_ic=entry,
        exit_ic=exit_ic,
        toll=toll,
        rebate_applied=applied,
        billed=billed,
        points=max(billed, 0) // 10 if pool else 0,
        pool=pool,
        yen_per_unit=10 if pool else 0,
        points_per_unit=1 if pool else 0,
        provisional=provisional,
    )


JULY_TRIPS = (
    trip(1, "2025-07-01T07:40", 930),
    trip(2, "2025-07-02T07:38", 930),
    trip(3, "2025-07-03T07:41", 930),
    trip(4, "2025-07-04T07:35", 930),
    trip(5, "2025-07-07T07:44", 930),
    trip(6, "2025-07-12T11:20", 2347, entry="東京", exit_ic="静岡"),
    trip(7, "2025-07-19T15:05", 1288, entry="静岡", exit_ic="浜松"),
    trip(8, "2025-07-26T10:10", 3569, entry="浜松", exit_ic="名古屋"),
)
"""Five counted 朝夕割 trips (930円 × 30 % = 279円 each) and three with yen below 10."""

ME_JULY = MorningEveningCredit(
    month=JULY,
    credit_on=dt.date(2025, 8, 20),
    percent=30,
    eligible=tuple((i, 930) for i in range(1, 6)),
    credits=tuple((i, 279) for i in range(1, 6)),
    trips=JULY_TRIPS[:5],
)


def july_facts(**changes: object) -> MonthFacts:
    billed = sum(t.billed for t in JULY_TRIPS)
    points = sum(t.points for t in JULY_TRIPS)
    facts = MonthFacts(
        card="1234",
        month=JULY,
        as_of=dt.date(2025, 9, 1),
        trips=JULY_TRIPS,
        rebate=RebateFlow(opening=0, closing=0),
        pools=(PoolExpectation("nexco", "NEXCO・宮城", points, 0, dt.date(2025, 8, 20)),),
        morning_evening=ME_JULY,
        grids=(ExchangeGrid("nexco", "NEXCO・宮城", NEXCO_GRID, 4_000),),
    )
    assert facts.billed_total == billed
    return replace(facts, **changes)  # type: ignore[arg-type]


def kinds(result: object) -> list[tuple[str, str, int]]:
    return [(f.kind, f.difference, f.amount) for f in result.findings]  # type: ignore[attr-defined]


def test_clean_month_reconciles_with_no_finding() -> None:
    facts = july_facts(rebate=RebateFlow(opening=1200, exchanged=0, applied=1200, closing=0))
    reported = Reported(
        rebate_opening=1200,
        rebate_closing=0,
        statement_total=facts.billed_total,
        points={"nexco": facts.pools[0].total},
    )
    result = reconcile(facts, reported)
    assert result.findings == ()
    assert result.differences == ()
    assert result.balanced
    assert [e.key for e in result.equations] == ["rebate", "statement", "points:nexco"]
    assert result.equations[1].computed == facts.billed_total == 11854


def test_nothing_reported_shows_the_equations_only() -> None:
    result = reconcile(july_facts(), Reported())
    assert result.findings == () and result.differences == ()
    assert "月末 0円" in result.equations[0].text


def test_morning_evening_credited_next_month_explains_the_closing() -> None:
    result = reconcile(july_facts(), Reported(rebate_closing=1395))
    assert kinds(result) == [("morning_evening_next_month", "rebate_closing", 1395)]
    finding = result.findings[0]
    assert [t.trip_id for t in finding.trips] == [1, 2, 3, 4, 5]
    assert {t.amount for t in finding.trips} == {279}
    assert "8月20日" in finding.message and "1,395円" in finding.message
    assert result.balanced


def test_morning_evening_expected_on_the_statement() -> None:
    facts = july_facts()
    result = reconcile(facts, Reported(statement_total=facts.billed_total - 1395))
    assert kinds(result) == [("morning_evening_next_month", "statement_total", -1395)]
    assert "その場の割引ではありません" in result.findings[0].message


def test_grant_not_reached_explains_missing_points() -> None:
    facts = july_facts(as_of=dt.date(2025, 8, 12))
    result = reconcile(facts, Reported(points={"nexco": 0}))
    assert kinds(result) == [("grant_pending", "points", -facts.pools[0].total)]
    assert "8月20日に付与" in result.findings[0].message
    assert result.balanced


def test_grant_shown_late_within_two_days() -> None:
    facts = july_facts(as_of=dt.date(2025, 8, 21))
    result = reconcile(facts, Reported(points={"nexco": 0}))
    assert kinds(result)[0][0] == "grant_pending"
    assert "遅れる" in result.findings[0].message
    late = reconcile(replace(facts, as_of=dt.date(2025, 8, 25)), Reported(points={"nexco": 0}))
    assert late.findings == ()
    assert late.unexplained("points", "nexco") == -facts.pools[0].total


def test_per_trip_rounding_explains_points_to_the_point() -> None:
    facts = july_facts()
    total_billed = facts.billed_total
    on_total = total_billed // 10  # 1,185
    expected = facts.pools[0].total  # Σ floor(billed / 10) = 1,183
    assert (on_total, expected) == (1185, 1183)
    result = reconcile(facts, Reported(points={"nexco": on_total}))
    assert kinds(result) == [("rounding", "points", 2)]
    finding = result.findings[0]
    assert {t.trip_id: t.amount for t in finding.trips} == {6: 7, 7: 8, 8: 9}
    assert finding.unit == "points"


def test_morning_evening_rounding_on_the_rebate() -> None:
    june = MorningEveningCredit(
        month=dt.date(2025, 6, 1),
        credit_on=dt.date(2025, 7, 20),
        percent=30,
        eligible=tuple((100 + i, 935) for i in range(5)),
        credits=tuple((100 + i, 280) for i in range(5)),
    )
    facts = july_facts(
        morning_evening_previous=june,
        rebate=RebateFlow(opening=0, morning_evening=1400, applied=1400, closing=0),
    )
    result = reconcile(facts, Reported(rebate_closing=2))
    assert kinds(result) == [("rounding", "rebate_closing", 2)]
    assert "1,402円" in result.findings[0].message


def test_month_end_midnight_trips_on_the_statement() -> None:
    first_night = trip(20, "2025-07-01T00:10", 1500, entry="静岡", exit_ic="東京")
    next_first = trip(21, "2025-08-01T00:20", 2400, entry="東京", exit_ic="静岡")
    trips = (first_night, *JULY_TRIPS)
    facts = july_facts(trips=trips, boundary_trips=(next_first,))
    assert near_month_edge(first_night.exit_at, JULY) and near_month_edge(next_first.exit_at, JULY)
    # the card booked the 1 July 00:10 trip in June, and the 1 August 00:20 one in July
    reported = Reported(statement_total=facts.billed_total - 1500 + 2400)
    result = reconcile(facts, reported)
    assert kinds(result) == [("month_boundary", "statement_total", 900)]
    assert {t.trip_id: t.amount for t in result.findings[0].trips} == {20: -1500, 21: 2400}
    assert result.balanced


def test_card_switch_night() -> None:
    change = CardChange(
        "1234",
        "4321",
        dt.datetime(2025, 7, 15, 23, 50),
        dt.datetime(2025, 7, 16),
    )
    # reconciling the new card: its 23:58 trip came before the change took effect, so etcbook
    # counts it nowhere; the site counted it (the change was processed at once)
    early = replace(
        trip(31, "2025-07-15T23:58", 700, card="4321", entry="東京", exit_ic="川崎"),
        registered=False,
    )
    old_night = trip(30, "2025-07-15T23:55", 1800, entry="厚木", exit_ic="東京")
    facts = july_facts(
        card="4321",
        trips=(*[replace(t, card="4321") for t in JULY_TRIPS], early),
        switch_trips=(old_night,),
        card_changes=(change,),
    )
    result = reconcile(facts, Reported(points={"nexco": facts.pools[0].total + 70}))
    assert kinds(result) == [("card_switch_night", "points", 70)]
    finding = result.findings[0]
    assert "翌日0:00" in finding.message and "登録外" in finding.message
    assert [(t.trip_id, t.amount) for t in finding.trips] == [(31, 70)]
    # the card statement of the old card included the new card's trip of that night
    statement = reconcile(
        replace(facts, card="1234", trips=JULY_TRIPS, switch_trips=(early,)),
        Reported(statement_total=facts.billed_total - 700 + 700),
    )
    assert [(f.kind, f.amount) for f in statement.findings] == [("card_switch_night", 700)]


def test_other_card_trip_mixed_into_the_statement() -> None:
    other = trip(40, "2025-07-20T13:00", 1320, card="5678", entry="東京", exit_ic="霞が関")
    other2 = trip(41, "2025-07-21T13:00", 650, card="5678", entry="東京", exit_ic="箱崎")
    facts = july_facts(other_trips=(other, other2))
    result = reconcile(facts, Reported(statement_total=facts.billed_total + 1320))
    assert kinds(result) == [("other_card", "statement_total", 1320)]
    assert [t.trip_id for t in result.findings[0].trips] == [40]
    assert "末尾5678" in result.findings[0].message


def test_provisional_amounts_may_explain_what_is_left() -> None:
    pending = trip(50, "2025-07-30T18:10", 1240, provisional=True, entry="横浜町田", exit_ic="厚木")
    facts = july_facts(trips=(*JULY_TRIPS, pending))
    result = reconcile(facts, Reported(statement_total=facts.billed_total - 110))
    assert kinds(result) == [("provisional", "statement_total", -110)]
    assert result.findings[0].certain is False
    assert "確認中" in result.findings[0].message


def test_unrecorded_exchange_alone() -> None:
    result = reconcile(july_facts(), Reported(rebate_closing=2500))
    (finding,) = result.findings
    assert (finding.kind, finding.amount) == ("unrecorded_exchange", 2500)
    assert "3,000P→2,500円" in finding.message and finding.certain


def test_unrecorded_exchange_beyond_recorded_points_is_uncertain() -> None:
    result = reconcile(july_facts(), Reported(rebate_closing=10_000))
    (finding,) = result.findings
    assert finding.kind == "unrecorded_exchange" and finding.certain is False
    assert "足りません" in finding.message


def test_inferred_credit_from_the_file_is_explained() -> None:
    facts = july_facts(
        inferred=((6, 800),),
        rebate=RebateFlow(opening=0, inferred=800, applied=800, closing=0),
    )
    result = reconcile(facts, Reported())
    assert kinds(result) == [("unrecorded_exchange", "rebate_inferred", 800)]
    # with the site's closing balance the exchange itself is found: 1,000円 = 800 used + 200 left
    result = reconcile(facts, Reported(rebate_closing=200))
    assert ("unrecorded_exchange", "rebate_closing", 200) in kinds(result)
    assert "1,000円" in result.findings[0].message
    assert result.balanced


def test_opening_difference_is_carried_to_the_closing() -> None:
    result = reconcile(july_facts(), Reported(rebate_opening=500, rebate_closing=500 + 1395))
    assert kinds(result) == [
        ("unrecorded_exchange", "rebate_opening", 500),
        ("opening_difference", "rebate_closing", 500),
        ("morning_evening_next_month", "rebate_closing", 1395),
    ]
    assert result.balanced


def test_what_no_finding_explains_is_unexplained() -> None:
    facts = july_facts()
    result = reconcile(
        facts, Reported(rebate_closing=1395 + 37, statement_total=facts.billed_total + 3)
    )
    assert kinds(result) == [("morning_evening_next_month", "rebate_closing", 1395)]
    assert result.unexplained("rebate_closing") == 37
    assert result.unexplained("statement_total") == 3
    assert not result.balanced


def test_planted_timing_rounding_and_unrecorded_exchange_each_to_the_yen() -> None:
    """The issue's "done when": 朝夕割 timing + rounding + an unrecorded exchange."""
    facts = july_facts()
    used = 600  # the site applied 600円 of the unrecorded 1,000円 exchange to later trips
    reported = Reported(
        rebate_closing=facts.rebate.closing + 1395 + 1000 - used,
        statement_total=facts.billed_total - used,
        points={"nexco": facts.pools[0].total + 2},
    )
    result = reconcile(facts, reported)
    assert kinds(result) == [
        ("morning_evening_next_month", "rebate_closing", 1395),
        ("unrecorded_exchange", "rebate_closing", 400),
        ("unrecorded_exchange", "statement_total", -600),
        ("rounding", "points", 2),
    ]
    assert result.balanced
    exchange = result.findings[1]
    assert "1,000P→500円×2" in exchange.message and "600円" in exchange.message


@pytest.mark.parametrize(
    ("items", "target", "expected"),
    [
        ([(0, 500), (1, 300), (2, 200)], 500, (0,)),
        ([(0, 300), (1, 200), (2, 250)], 550, (0, 2)),
        ([(0, -1500), (1, 2400)], 900, (0, 1)),
        ([(0, 300)], 301, None),
        ([], 5, None),
    ],
)
def test_find_subset(items: list[tuple[int, int]], target: int, expected: object) -> None:
    found = find_subset(items, target)
    assert (None if found is None else tuple(sorted(found))) == expected


def test_cheapest_exchange_on_the_nexco_grid() -> None:
    assert cheapest_exchange(1000, NEXCO_GRID) == (2000, (NEXCO_GRID[0], NEXCO_GRID[0]))
    assert cheapest_exchange(5500, NEXCO_GRID) == (6000, (NEXCO_GRID[2], NEXCO_GRID[0]))
    assert cheapest_exchange(750, NEXCO_GRID) is None
    assert cheapest_exchange(0, NEXCO_GRID) is None


@settings(max_examples=150, deadline=None)
@given(
    closing=st.none() | st.integers(-20_000, 20_000),
    opening=st.none() | st.integers(-5_000, 5_000),
    statement=st.none() | st.integers(0, 30_000),
    points=st.none() | st.integers(0, 3_000),
)
def test_findings_and_unexplained_always_add_up_to_each_difference(
    closing: int | None, opening: int | None, statement: int | None, points: int | None
) -> None:
    other = trip(40, "2025-07-20T13:00", 1320, card="5678", entry="東京", exit_ic="霞が関")
    facts = july_facts(other_trips=(other,), inferred=((6, 300),))
    reported = Reported(
        rebate_opening=opening,
        rebate_closing=closing,
        statement_total=statement,
        points={} if points is None else {"nexco": points},
    )
    result = reconcile(facts, reported)
    for difference in result.differences:
        explained = sum(
            f.amount
            for f in result.findings
            if f.difference == difference.key and f.pool == difference.pool
        )
        assert explained + difference.unexplained == difference.amount
    assert reconcile(facts, reported) == result  # pure: the same inputs, the same result
