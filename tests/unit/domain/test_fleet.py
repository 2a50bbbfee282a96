"""The fleet rules: the card filter, totals per pool, grouped reminders (issue 20, item 5)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from etcbook.domain.fleet import (
    UNSET,
    CardCriteria,
    CardFacet,
    CardPool,
    FleetCard,
    facet_values,
    fleet_rows,
    group_reminders,
    pool_totals,
    select_cards,
)
from etcbook.domain.reminders import Reminder

AS_OF = dt.date(2026, 12, 5)

FACETS = [
    CardFacet("1001", "みなと物流", "佐藤", "物流1課"),
    CardFacet("1002", "みなと物流", "鈴木", "物流2課"),
    CardFacet("1003", "みなと物流", "", "物流1課"),
    CardFacet("2001", "山田太郎", "山田太郎", ""),
]


def test_criteria_select_by_each_facet_and_by_blank() -> None:
    assert select_cards(FACETS, CardCriteria()) == ("1001", "1002", "1003", "2001")
    assert not CardCriteria().active
    assert select_cards(FACETS, CardCriteria(department="物流1課")) == ("1001", "1003")
    assert select_cards(FACETS, CardCriteria(holder="みなと物流", driver="鈴木")) == ("1002",)
    assert select_cards(FACETS, CardCriteria(driver=UNSET)) == ("1003",)
    assert select_cards(FACETS, CardCriteria(driver="佐藤", department="物流2課")) == ()
    assert facet_values(FACETS, "department") == (("物流1課", 2), ("物流2課", 1))


def _pool(key: str, points: int, **buckets: int) -> CardPool:
    return CardPool(key, key.upper(), points, 0, buckets)


def test_pool_totals_stay_per_pool_and_name_the_cards_that_matter() -> None:
    cards = [
        FleetCard("1001", "A", pools=(_pool("nexco", 5000, later=5000),)),
        FleetCard("1002", "B", pools=(_pool("nexco", 800, next_month=300, later=500),)),
        FleetCard("1003", "C", pools=(_pool("nexco", 1200, this_month=100, later=1100),)),
        FleetCard("1004", "D", pools=(_pool("nagoya", 900, later=900),)),
        FleetCard("1005", "E"),
    ]
    totals = pool_totals(cards, top=2)
    assert [t.pool for t in totals] == ["nexco", "nagoya"]
    nexco = totals[0]
    assert (nexco.cards, nexco.points) == (3, 7000)
    assert nexco.buckets["this_month"] == 100 and nexco.buckets["next_month"] == 300
    assert [c.last4 for c in nexco.expiring_first] == ["1003", "1002"]
    assert [c.last4 for c in nexco.most_points] == ["1001", "1003"]
    assert totals[1].points == 900 and totals[1].expiring_first == ()
    rows = fleet_rows(cards)
    assert [r.last4 for r in rows] == ["1001", "1002", "1003", "1004", "1005"]
    assert rows[-1].pool is None


@given(
    st.lists(
        st.tuples(st.sampled_from(["nexco", "nagoya", "kobe"]), st.integers(0, 10_000)),
        max_size=30,
    )
)
def test_a_pool_total_is_its_cards_points_and_nothing_else(entries: list[tuple[str, int]]) -> None:
    cards = [
        FleetCard(f"{i:04d}", pools=(_pool(k, p, later=p),)) for i, (k, p) in enumerate(entries)
    ]
    for total in pool_totals(cards):
        assert total.points == sum(p for k, p in entries if k == total.pool)
        assert total.cards == sum(1 for k, _p in entries if k == total.pool)


def _statement(card: str, months: tuple[str, ...]) -> Reminder:
    return Reminder(
        "statement_window",
        card,
        "warning",
        f"カード末尾{card}の明細は証憑庫にありません。",
        dt.date(2027, 1, 1),
        27,
        months=months,
    )


def test_the_same_reminder_for_many_cards_is_one_line_per_month() -> None:
    reminders = [_statement(f"{i:04d}", ("2025-09",)) for i in range(5)]
    reminders += [_statement("0100", ("2025-09", "2025-10"))]
    reminders += [_statement("0200", ("2025-10",))]
    reminders += [Reminder("suspicious_trips", "0300", "urgent", "カード末尾0300に不審な走行")]
    groups = group_reminders(reminders, as_of=AS_OF)
    assert groups[0].kind == "suspicious_trips" and not groups[0].grouped
    september = groups[1]
    assert september.grouped and len(september.cards) == 6
    assert september.message.startswith("6枚のカードで2025年9月の明細が証憑庫にありません。")
    assert september.days_left == (dt.date(2027, 1, 1) - AS_OF).days
    # Only two cards lack October: below the threshold, their own lines stay (once each).
    rest = [g.members[0].card for g in groups[2:]]
    assert rest == ["0100", "0200"]
    assert all(not g.grouped for g in groups[2:])


def test_two_cards_sharing_their_digits_count_as_two() -> None:
    from etcbook.models.card_name import CardName

    twins = [_statement(CardName.of("6789", card_id), ("2025-09",)) for card_id in (1, 2)]
    groups = group_reminders([*twins, _statement("1111", ("2025-09",))], as_of=AS_OF)
    (september,) = groups
    assert september.grouped and len(september.members) == 3
    assert len(september.cards) == 3  # the line's 「ダブルクリックで3枚の一覧」
    assert september.message.startswith("3枚のカードで2025年9月の明細が証憑庫にありません。")
    # two cards with the same digits and a third card: below the threshold of 3 without it
    alone = group_reminders(twins, as_of=AS_OF)
    assert [g.grouped for g in alone] == [False, False]
