"""The claim as CSV for Excel in Japan: UTF-8 with BOM, CRLF, formula injection neutralised.

One row per trip, the same rows and order as the PDF's table; amounts are plain integers so a
spreadsheet sums them. A text cell that a spreadsheet would read as a formula (it begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return, or the full-width ``＝＋－＠``) is prefixed
with an apostrophe, unless the whole cell is a number: ``-6550`` stays a number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from etcbook.domain.claims import Claim, ClaimLine
from etcbook.safeio import write_bytes_atomically as atomic_write_bytes

CSV_ENCODING = "utf-8-sig"
"""UTF-8 with a byte-order mark: Excel in Japan otherwise reads the file as Shift_JIS."""

HEADER: tuple[str, ...] = (
    "利用日時（出口）",
    "入口日時",
    "入口IC",
    "出口IC",
    "道路事業者",
    "車両",
    "目的",
    "通行料金",
    "還元額充当",
    "請求額（差引後）",
    "業務割合（%）",
    "精算額",
)

FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")
"""First characters that make a spreadsheet evaluate a cell (ASCII and full-width forms)."""

_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def neutralise_cell(value: str) -> str:
    """Defuse a cell against formula injection (CSV injection).

    A cell beginning with a formula trigger gets a leading apostrophe, which spreadsheets
    show as text; a plain number (``-6550``, ``+12``, ``3.5``) is left as it is.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell("-6550")
    '-6550'
    >>> neutralise_cell("＠営業")
    "'＠営業"
    """
    if value and value[0] in FORMULA_STARTS and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def row_of(line: ClaimLine) -> tuple[str | int, ...]:
    """The CSV cells of one trip (before neutralisation), in :data:`HEADER` order."""
    return (
        "" if line.charged_at_entry else _when(line.exit_at),  # no exit is ever invented
        _when(line.entry_at),
        line.entry_ic,
        line.exit_ic,
        line.operator,
        line.vehicle,
        line.purpose,
        line.toll,
        line.rebate_applied,
        line.billed,
        line.business_share,
        line.claimed,
    )


def csv_text(rows: Iterable[Sequence[str | int]]) -> str:
    """Rows as CSV text with CRLF line ends, every cell neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([neutralise_cell(str(cell)) for cell in row])
    return buffer.getvalue()


def claim_csv_bytes(claim: Claim) -> bytes:
    """The claim's trip table as CSV bytes (UTF-8 with BOM, CRLF)."""
    text = csv_text([HEADER, *(row_of(line) for line in claim.lines)])
    return text.encode(CSV_ENCODING)


def write_claim_csv(claim: Claim, path: Path | str) -> Path:
    """Write the claim CSV to ``path`` atomically; return the path."""
    return atomic_write_bytes(path, claim_csv_bytes(claim))
