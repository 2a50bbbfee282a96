"""The claim CSV: Excel-friendly encoding, the same rows as the PDF, formula injection defused."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etcbook.domain.claims import Claim
from etcbook.export.claim_csv import (
    HEADER,
    claim_csv_bytes,
    neutralise_cell,
    write_claim_csv,
)
from etcbook.export.sample import sample_claim

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "export" / "claim_2025-11.csv"
"""Committed; ``tests/data/export/regenerate.py`` rewrites it by hand after a reviewed change."""


def golden_claim() -> Claim:
    """12 invented trips plus one with hostile text and a negative adjustment."""
    claim = sample_claim(12)
    hostile = dataclasses.replace(
        claim.lines[0],
        purpose='=HYPERLINK("http://example.invalid","請求")',
        vehicle="＠車両",
        operator="+NEXCO",
        entry_ic="-1+1",
        exit_ic="@SUM(A1)",
        toll=-6550,
        rebate_applied=0,
        business_share=100,
    )
    return dataclasses.replace(claim, lines=(*claim.lines, hostile))


def parse(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_matches_the_golden_file() -> None:
    assert claim_csv_bytes(golden_claim()) == GOLDEN.read_bytes()


def test_is_utf8_with_bom_and_crlf() -> None:
    data = claim_csv_bytes(golden_claim())
    assert data[:3] == b"\xef\xbb\xbf"
    body = data[3:]
    assert body.count(b"\r\n") == len(golden_claim().lines) + 1
    assert b"\n" not in body.replace(b"\r\n", b"")
    body.decode("utf-8")


def test_round_trips_through_the_csv_module() -> None:
    claim = golden_claim()
    rows = parse(claim_csv_bytes(claim))
    assert tuple(rows[0]) == HEADER
    assert len(rows) == len(claim.lines) + 1
    claimed = [int(row[HEADER.index("精算額")]) for row in rows[1:]]
    assert claimed == [ln.claimed for ln in claim.lines]
    assert sum(claimed) == claim.totals.claimed
    first = rows[1]
    assert first[0] == claim.lines[0].exit_at.strftime("%Y-%m-%d %H:%M")
    assert first[HEADER.index("目的")] == claim.lines[0].purpose


def test_formula_cells_are_neutralised_and_negative_amounts_stay_numbers() -> None:
    last = parse(claim_csv_bytes(golden_claim()))[-1]
    row = dict(zip(HEADER, last, strict=True))
    assert row["目的"] == '\'=HYPERLINK("http://example.invalid","請求")'
    assert row["車両"] == "'＠車両"
    assert row["道路事業者"] == "'+NEXCO"
    assert row["入口IC"] == "'-1+1"
    assert row["出口IC"] == "'@SUM(A1)"
    assert row["通行料金"] == "-6550"
    assert int(row["精算額"]) == -6550


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+81-90", "'+81-90"),
        ("-", "'-"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("＝1+1", "'＝1+1"),
        ("＋1", "'＋1"),
        ("－6550", "'－6550"),
        ("＠x", "'＠x"),
        ("-6550", "-6550"),
        ("+12", "+12"),
        ("-3.5", "-3.5"),
        ("6550", "6550"),
        ("-٣", "'-٣"),  # a non-ASCII digit is not a number to a spreadsheet
        ("営業=会議", "営業=会議"),
        ("", ""),
    ],
)
def test_neutralise_cell(cell: str, expected: str) -> None:
    assert neutralise_cell(cell) == expected


@given(st.text())
def test_no_neutralised_cell_starts_a_formula_unless_it_is_a_number(text: str) -> None:
    cell = neutralise_cell(text)
    if cell and cell[0] in "=+-@\t\r＝＋－＠":
        assert re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", cell)  # only plain numbers
    assert cell in (text, "'" + text)


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "claim.csv"
    write_claim_csv(golden_claim(), target)
    assert target.read_bytes() == claim_csv_bytes(golden_claim())
    assert [p.name for p in tmp_path.iterdir()] == ["claim.csv"]
