"""Card details validation (shared by the CLI and the window)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etcbook.domain.cards import check_expiry, check_last4, check_obu_number


def test_full_card_number_is_cut_to_last4() -> None:
    assert check_last4("4980 1234 5678 9012") == "9012"
    assert check_last4("*******123456789") == "6789"


def test_full_width_digits_typed_with_an_ime_are_read() -> None:
    assert check_last4("１２３４") == "1234"


@pytest.mark.parametrize("bad", ["", "12", "abcd", "12a4x", "123①", "12３²"])
def test_bad_last4_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="4桁"):
        check_last4(bad)


def test_obu_number_needs_19_digits() -> None:
    assert check_obu_number("1234-5678-9012-3456-789") == "1234567890123456789"
    with pytest.raises(ValueError, match="19桁"):
        check_obu_number("123456789012345678")


@pytest.mark.parametrize(("text", "expected"), [("2027-3", "2027-03"), ("08/29", "2029-08")])
def test_expiry_forms(text: str, expected: str) -> None:
    assert check_expiry(text) == expected


def test_expiry_month_out_of_range() -> None:
    with pytest.raises(ValueError, match="月"):
        check_expiry("2027-13")


@given(st.text(max_size=30))
def test_last4_never_returns_other_than_four_digits(text: str) -> None:
    try:
        value = check_last4(text)
    except ValueError:
        return
    # ASCII only: str.isdigit() would also pass "٢٣٤٥", "²" and full-width digits.
    assert re.fullmatch("[0-9]{4}", value), value
