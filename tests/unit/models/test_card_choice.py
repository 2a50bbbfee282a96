"""Which card a 明細CSV's last 4 digits mean: shared digits are never guessed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from etcbook.models.cards import CardMatch, cards_for_file, describe_candidates

DIGITS = st.sampled_from(["1111", "2222", "3333"])


@st.composite
def ledgers(draw: st.DrawFn) -> list[CardMatch]:
    digits = draw(st.lists(DIGITS, max_size=6))
    return [
        CardMatch(
            id=i + 1, last4=d, label=None, holder=f"名義{i}", driver="", department="", shared=False
        )
        for i, d in enumerate(digits)
    ]


@given(ledgers(), st.lists(DIGITS, min_size=1, max_size=3), st.integers(0, 7) | st.none())
def test_shared_digits_are_never_guessed(
    cards: list[CardMatch], file_digits: list[str], chosen: int | None
) -> None:
    ids, missing, problem = cards_for_file("f.csv", file_digits, cards, chosen)
    by_id = {c.id: c for c in cards}
    if problem is None:
        assert set(ids) | set(missing) == set(file_digits)
        for last4, card_id in ids.items():
            assert by_id[card_id].last4 == last4
            sharing = [c for c in cards if c.last4 == last4]
            assert len(sharing) == 1 or card_id == chosen
        assert all(not any(c.last4 == d for c in cards) for d in missing)
    else:
        assert problem.startswith("f.csv: カード末尾")
        shared = [
            d
            for d in sorted(set(file_digits))
            if len([c for c in cards if c.last4 == d]) > 1
            and chosen not in [c.id for c in cards if c.last4 == d]
        ]
        assert shared, problem
        candidates = [c for c in cards if c.last4 == shared[0]]
        assert describe_candidates(candidates) in problem


def test_the_candidates_name_id_digits_label_or_holder_and_department() -> None:
    cards = [
        CardMatch(1, "1111", None, "山田", "", "営業部", True),
        CardMatch(2, "1111", "2号車", "山田", "鈴木", "", True),
    ]
    assert describe_candidates(cards) == "id:1（末尾1111 山田 営業部）、id:2（末尾1111 2号車）"
    assert cards_for_file("a.csv", ["1111"], cards, 2) == ({"1111": 2}, [], None)
