"""Hypothesis strategies for bad 明細CSV input, and the checks every outcome must pass.

A generated input is a file (bytes) plus what the test knows about it: which lines were
tampered with, and which of them must be reported as errors.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import robustkit
from hypothesis import strategies as st

from etcbook.importers.meisai import LineError, MeisaiRow

HEADERS = {
    15: robustkit.HEADER_15,
    13: robustkit.HEADER_13,
}
# Column positions in the 15-column layout.
ENTRY_DATE, ENTRY_TIME, EXIT_DATE, EXIT_TIME, ENTRY_IC, EXIT_IC = range(6)
BEFORE, DISCOUNT, TOLL, REBATE, DEFERRED, VEHICLE_CLASS, VEHICLE_NO, CARD, REMARKS = range(6, 15)

FOREIGN_HEADS = {
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "xlsx": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
    "zip": b"PK\x03\x04\n\x00\x00\x00\x00\x00meisai.csv",
    "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
    "utf16": "\ufeff利用年月日（自）,時分（自）".encode("utf-16-le"),
    "gzip": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
}

NASTY_VALUES = (
    "25/02/30",
    "25/13/01",
    "00/00/00",
    "99/99/99",
    "2025/02/29",
    "25-02-30",
    "令和7/02/01",
    "25/02",
    "24:00",
    "12:60",
    "9:5:5:5",
    "1e9",
    "1E3",
    "1.5",
    "NaN",
    "inf",
    "-",
    "--5",
    "－",
    "+100",
    "9999999999",
    "-9999999999",
    "１２３",
    "¥1,000",
    "1,000円",
    "²",
    "٢٥",
    "0x10",
    "",
    " ",
    "\u3000",
    '"',
    '""',
    '"a,b"',
    "a\x00b",
    "\t",
    "確定;;;",
    "（朝夕）",
    "****",
    "＊＊＊＊１２３４",
    "*******123456789",
    "4980123412341234",
    "4980-1234-1234-1234",
    "٢٣٤٥",
    "²³²³",
)


@dataclass
class FuzzInput:
    """One generated file and what we know about it."""

    data: bytes
    kind: str
    layout: int | None = None
    lines: int = 0
    tampered: set[int] = field(default_factory=set)
    """Line numbers (editor numbering, header = 1) that were changed in any way."""
    must_fail: dict[int, str] = field(default_factory=dict)
    """Line number -> a piece of text the error message must contain ("" for any error)."""


def _valid_rows(count: int, seed: int, layout: int) -> list[list[str]]:
    rows = [
        line.split(",")
        for line in robustkit.meisai_lines(count, seed=seed, start=dt.datetime(2025, 3, 1))
    ]
    if layout == 13:
        rows = [r[:REBATE] + r[VEHICLE_CLASS:] for r in rows]
        for r in rows:
            r[-1] = r[-1].removeprefix("確定;").removeprefix("確定")
    return rows


def _column(layout: int, index15: int) -> int:
    """Position of a 15-column field in ``layout``."""
    if layout == 15 or index15 < REBATE:
        return index15
    return index15 - 2


@st.composite
def tampered_files(draw: st.DrawFn) -> FuzzInput:
    """A real-format file whose rows are tampered with in ways a user's file can be."""
    layout = draw(st.sampled_from((15, 13)))
    encoding = draw(st.sampled_from(("cp932", "cp932", "utf-8", "utf-8-sig")))
    count = draw(st.integers(0, 25))
    rows = _valid_rows(count, draw(st.integers(0, 1000)), layout)
    lines: list[bytes] = [HEADERS[layout].encode(encoding)]
    lines += [",".join(r).encode("utf-8" if encoding == "utf-8-sig" else encoding) for r in rows]
    result = FuzzInput(b"", "tampered", layout)
    for _ in range(draw(st.integers(0, 6))):
        if count == 0:
            break
        index = draw(st.integers(1, count))
        number = index + 1
        if number in result.tampered:
            continue
        result.tampered.add(number)
        cells = rows[index - 1]
        how = draw(
            st.sampled_from(
                (
                    "value",
                    "value",
                    "impossible_exit_date",
                    "float_toll",
                    "drop_cell",
                    "extra_cell",
                    "truncate",
                    "bad_bytes",
                    "random_bytes",
                    "long_line",
                    "huge_field",
                    "blank",
                )
            )
        )
        line_encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        if how == "value":
            column = draw(st.integers(0, layout - 1))
            value = draw(
                st.one_of(
                    st.sampled_from(NASTY_VALUES),
                    st.text(max_size=12).map(lambda t: t.replace("\n", "").replace("\r", "")),
                )
            )
            cells = [*cells]
            cells[column] = value
            try:
                lines[index] = ",".join(cells).encode(line_encoding)
            except UnicodeEncodeError:
                lines[index] = ",".join(cells).encode(line_encoding, "replace")
        elif how == "impossible_exit_date":
            cells = [*cells]
            cells[EXIT_DATE] = "25/02/30"
            lines[index] = ",".join(cells).encode(line_encoding)
            result.must_fail[number] = "25/02/30"
        elif how == "float_toll":
            cells = [*cells]
            cells[_column(layout, TOLL)] = "1e9"
            lines[index] = ",".join(cells).encode(line_encoding)
            result.must_fail[number] = "1e9"
        elif how == "drop_cell":
            cells = [*cells]
            del cells[draw(st.integers(0, layout - 2))]
            lines[index] = ",".join(cells).encode(line_encoding)
            result.must_fail[number] = "列の数"
        elif how == "extra_cell":
            lines[index] = (",".join(cells) + ",余分").encode(line_encoding)
            result.must_fail[number] = "列の数"
        elif how == "truncate":
            raw = lines[index]
            lines[index] = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
        elif how == "bad_bytes":
            # A lead byte without its trail byte, at the start of a cell: invalid in cp932 and
            # in UTF-8 alike (0xFF alone is not: cp932 maps it to U+F8F3, as Windows does).
            parts = lines[index].split(b",")
            at = draw(st.integers(0, len(parts) - 1))
            parts[at] = b"\x81 " + parts[at]
            lines[index] = b",".join(parts)
            result.must_fail[number] = "文字コード"
        elif how == "random_bytes":
            noise = draw(st.binary(min_size=1, max_size=60)).replace(b"\n", b"").replace(b"\r", b"")
            raw = lines[index]
            at = draw(st.integers(0, len(raw)))
            lines[index] = raw[:at] + noise + raw[at:]
        elif how == "long_line":
            lines[index] = lines[index] + b"," + b"x" * draw(st.sampled_from((5_000, 1_048_576)))
            result.must_fail[number] = "行が長すぎます"
        elif how == "huge_field":
            cells = [*cells]
            cells[_column(layout, EXIT_IC)] = "大" * 3000
            lines[index] = ",".join(cells).encode(line_encoding)
            result.must_fail[number] = "行が長すぎます"
        elif how == "blank":
            lines[index] = b""
    ending = draw(st.sampled_from((b"\r\n", b"\r\n", b"\n")))
    result.data = ending.join(lines) + draw(st.sampled_from((ending, b"")))
    result.lines = len(lines)
    return result


@st.composite
def foreign_files(draw: st.DrawFn) -> FuzzInput:
    """Files that are not a 明細CSV at all: other formats, empty, blank, random bytes."""
    kind = draw(st.sampled_from((*FOREIGN_HEADS, "empty", "blank", "random", "header_like")))
    if kind in FOREIGN_HEADS:
        data = FOREIGN_HEADS[kind] + draw(st.binary(max_size=300))
    elif kind == "empty":
        data = b""
    elif kind == "blank":
        data = draw(st.sampled_from((b"\r\n", b"   \r\n\r\n", b"\t", b"\xef\xbb\xbf")))
    elif kind == "random":
        data = draw(st.binary(max_size=2000))
    else:  # a header with columns missing, renamed or repeated
        names = HEADERS[15].split(",")
        names = draw(st.lists(st.sampled_from(names), max_size=16))
        data = ",".join(names).encode("cp932") + b"\r\n" + draw(st.binary(max_size=200))
    return FuzzInput(data, kind, lines=data.count(b"\n") + 1)


def bad_inputs() -> st.SearchStrategy[FuzzInput]:
    return st.one_of(tampered_files(), tampered_files(), foreign_files())


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
_PYTHON_LEAKS = ("Traceback", "invalid literal", "Error", "object", "NoneType", "codec")


def check_message(message: str) -> None:
    """A message for the user: Japanese, and no Python internals leaking through."""
    assert message.strip(), "empty message"
    assert _JAPANESE.search(message), f"not a sentence for the user: {message!r}"
    for leak in _PYTHON_LEAKS:
        assert leak not in message, f"Python internals in {message!r}"


def check_parse(case: FuzzInput, rows: list[MeisaiRow], errors: list[LineError]) -> None:
    """What every parse of a generated file must satisfy."""
    for error in errors:
        assert isinstance(error.line, int) and 2 <= error.line <= max(case.lines, 2), error
        check_message(error.message)
        if case.kind == "tampered":
            assert error.line in case.tampered, f"untouched line {error.line} reported: {error}"
    reported = {e.line: e.message for e in errors}
    for line, text in case.must_fail.items():
        assert line in reported, f"line {line} should be an error ({text})"
        assert text in reported[line], f"line {line}: {reported[line]!r} should name {text!r}"
    for row in rows:
        assert re.fullmatch(r"[0-9]{4}", row.card_last4), row
        assert isinstance(row.dated_at, dt.datetime)
        assert row.exit_at is not None or row.entry_at is not None
        assert row.toll is None or -(10**9) < row.toll < 10**9
        assert row.vehicle_class is None or 0 <= row.vehicle_class < 100
