"""Numbers on the command line: ASCII or full-width digits (as an IME types them), nothing else.

``int()`` alone also reads other scripts' digits (``٢٣٤٥`` is 2345 to it) and ``1_000``; an
amount or id typed that way is refused with a usage error instead of being taken at face value.
"""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etcbook.cli.common import parse_int, parse_yen, whole_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1200", 1200),
        ("-1050", -1050),
        ("1,200円", 1200),
        ("１２００", 1200),
        ("－５", -5),
        (" 7 ", 7),
    ],
)
def test_yen_amounts_typed_as_people_type_them(text: str, expected: int) -> None:
    assert parse_yen(text) == expected


@pytest.mark.parametrize("text", ["٢٣٤٥", "1_000", "1e3", "12.5", "", "-", "²", "१२"])
def test_yen_amounts_in_other_forms_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="整数の円"):
        parse_yen(text)


@pytest.mark.parametrize("text", ["٢٣٤٥", "1_000", "1,000", "", "x"])
def test_ids_and_counts_in_other_forms_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="整数"):
        parse_int(text)


def test_ids_in_ascii_or_full_width_digits() -> None:
    assert parse_int("42") == 42
    assert parse_int("４２") == 42


@given(st.text(max_size=12))
def test_a_whole_number_is_only_ever_read_from_ascii_or_full_width_digits(text: str) -> None:
    try:
        value = whole_number(text, ignore=",")
    except ValueError:
        return
    folded = text.translate(str.maketrans("０１２３４５６７８９－＋", "0123456789-+"))
    digits = [c for c in folded if c.isdigit()]
    assert digits and all(c in "0123456789" for c in digits)
    assert str(abs(value)) == "".join(digits).lstrip("0") or value == 0
