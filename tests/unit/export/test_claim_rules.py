"""経費精算 rules: the claimed amount per trip, totals, and the excluded private part."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etcbook.domain.claims import (
    Claim,
    ClaimLine,
    claimable_lines,
    claimed_amount,
    share_groups,
    totals_of,
)
from etcbook.export.sample import sample_claim, sample_header

shares = st.integers(min_value=0, max_value=100)
amounts = st.integers(min_value=-100_000, max_value=10_000_000)


def line(toll: int, rebate: int = 0, share: int = 100, *, day: int = 1) -> ClaimLine:
    return ClaimLine(
        exit_at=dt.datetime(2025, 11, day, 9, 0),
        entry_ic="高崎",
        exit_ic="厚木",
        operator="NEXCO東日本",
        vehicle="CarA",
        purpose="顧客訪問",
        toll=toll,
        rebate_applied=rebate,
        business_share=share,
    )


@pytest.mark.parametrize(
    ("billed", "share", "claimed"),
    [
        (1530, 100, 1530),
        (1530, 80, 1224),
        (999, 33, 329),  # 329.67 -> 329
        (700, 50, 350),
        (1, 99, 0),
        (0, 80, 0),
        (3660, 0, 0),
        (-1050, 50, -525),
        (-1051, 50, -526),  # floor, never a yen more than the business part
    ],
)
def test_claimed_amount_examples(billed: int, share: int, claimed: int) -> None:
    assert claimed_amount(billed, share) == claimed


@given(billed=amounts, share=shares)
def test_claimed_amount_is_the_floor_of_billed_times_share(billed: int, share: int) -> None:
    claimed = claimed_amount(billed, share)
    assert isinstance(claimed, int)
    assert claimed * 100 <= billed * share < (claimed + 1) * 100


@given(billed=st.integers(min_value=0, max_value=10_000_000), share=shares)
def test_claimed_amount_stays_within_the_billed_amount(billed: int, share: int) -> None:
    assert 0 <= claimed_amount(billed, share) <= billed


@given(billed=amounts, low=shares, high=shares)
def test_claimed_amount_grows_with_the_share(billed: int, low: int, high: int) -> None:
    low, high = sorted((low, high))
    if billed >= 0:
        assert claimed_amount(billed, low) <= claimed_amount(billed, high)
    assert claimed_amount(billed, 100) == billed
    assert claimed_amount(billed, 0) == 0


@pytest.mark.parametrize("share", [-1, 101, 1000])
def test_a_share_outside_0_to_100_is_refused(share: int) -> None:
    with pytest.raises(ValueError):
        claimed_amount(1000, share)
    with pytest.raises(ValueError):
        line(1000, share=share)


@pytest.mark.parametrize("share", [80.0, True, "80"])
def test_a_share_must_be_an_int(share: object) -> None:
    with pytest.raises(TypeError):
        claimed_amount(1000, share)  # type: ignore[arg-type]


def test_billed_is_the_toll_less_the_rebate_applied() -> None:
    trip = line(2000, rebate=1300, share=80)
    assert trip.billed == 700
    assert trip.claimed == 560
    assert trip.private_excluded == 140


trip_lists = st.lists(
    st.builds(
        lambda toll, rebate_part, share: line(toll, rebate=min(toll, rebate_part), share=share),
        st.integers(min_value=0, max_value=50_000),
        st.integers(min_value=0, max_value=50_000),
        shares,
    ),
    max_size=40,
)


@given(lines=trip_lists)
def test_totals_add_up(lines: list[ClaimLine]) -> None:
    totals = totals_of(lines)
    assert totals.trips == len(lines)
    assert totals.claimed == sum(ln.claimed for ln in lines)
    assert totals.billed == totals.toll - totals.rebate_applied
    assert totals.claimed + totals.private_excluded == totals.billed
    groups = share_groups(lines)
    assert sum(g.claimed for g in groups) == totals.claimed
    assert sum(g.private_excluded for g in groups) == totals.private_excluded
    assert [g.business_share for g in groups] == sorted(
        {ln.business_share for ln in lines}, reverse=True
    )


def test_the_default_choice_is_trips_with_a_business_share_in_exit_order() -> None:
    late, private, early = line(100, share=50, day=3), line(100, share=0, day=2), line(100, day=1)
    assert claimable_lines([late, private, early]) == (early, late)


def test_header_checks_card_and_period() -> None:
    header = sample_header()
    with pytest.raises(ValueError):
        dataclasses.replace(header, card_last4="12345")
    with pytest.raises(ValueError):
        dataclasses.replace(header, card_last4="12a4")
    with pytest.raises(ValueError):
        dataclasses.replace(header, period_end=header.period_start - dt.timedelta(days=1))


def test_file_stem_names_month_and_card() -> None:
    claim = sample_claim(3)
    assert claim.file_stem == "2025-11_CARD1234_経費精算"
    spanning = Claim(
        header=dataclasses.replace(
            claim.header, period_start=dt.date(2025, 10, 1), period_end=dt.date(2025, 12, 31)
        ),
        lines=(),
    )
    assert spanning.file_stem == "2025-10_2025-12_CARD1234_経費精算"
    assert spanning.totals.claimed == 0
