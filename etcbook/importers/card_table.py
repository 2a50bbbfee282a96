"""A table of card details (pasted from a spreadsheet, or a CSV/TSV file): bytes in, rows and
line errors out.

One row per card: a column naming the card (its last 4 digits, or a masked or full card number
of which only the last 4 digits are read) and any of 名義, 利用者, 部署 and a few other details.
Columns are found by header name (Japanese or English, see :data:`HEADER_NAMES`); a blank cell
leaves the card's field as it is; columns of other names are ignored and reported.
Tab-separated when the header line holds a tab (a spreadsheet's copy), else comma-separated;
UTF-8 (with or without BOM) or cp932.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from typing import Final

from etcbook.importers.meisai import LineError

HEADER_NAMES: Final = {
    "card": (
        "カード",
        "カード末尾",
        "カード末尾4桁",
        "末尾",
        "末尾4桁",
        "カード番号",
        "ETCカード番号",
        "ＥＴＣカード番号",
        "last4",
        "card",
        "id",
    ),
    "holder": ("名義", "名義人", "holder"),
    "driver": ("利用者", "運転者", "使用者", "driver"),
    "department": ("部署", "部門", "所属", "department", "dept"),
    "plate": ("車両番号", "車両", "plate"),
    "household": ("グループ", "世帯", "household"),
    "notes": ("メモ", "notes"),
}
"""Field -> the header spellings that name it (compared after NFKC folding, case-insensitive)."""

DETAIL_FIELDS: Final = ("holder", "driver", "department", "plate", "household", "notes")

FIELD_LABELS: Final = {
    "card": "カード",
    "holder": "名義",
    "driver": "利用者",
    "department": "部署",
    "plate": "車両番号",
    "household": "グループ",
    "notes": "メモ",
}

MAX_CELL: Final = 200
"""Longest detail accepted (a longer cell is not a name or a department)."""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "").replace("　", "")


_FIELD_OF: Final = {_fold(name): f for f, names in HEADER_NAMES.items() for name in names}


@dataclass(frozen=True)
class CardDetails:
    """One row of the table: the card (last 4 digits) and the details it sets (blank: unset).

    Attributes:
        line: the line number in the file (the header is line 1 unless blank lines precede it).
        last4: カード末尾4桁.
        values: field -> new value, only for non-blank cells.
    """

    line: int
    last4: str
    values: dict[str, str]


@dataclass
class CardTable:
    """What reading a card table found."""

    rows: list[CardDetails] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp932")


def _last4(text: str) -> str | None:
    digits = "".join(c for c in unicodedata.normalize("NFKC", text) if c.isdigit())
    tail = digits[-4:]
    return tail if len(tail) == 4 and tail.isascii() else None


def read_card_table(data: bytes) -> CardTable:
    """Parse a card table; errors name the line (``LineError``). Raises ValueError (a sentence
    for the user) when the bytes are not a table of cards at all."""
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        raise ValueError(
            "文字コードが読めません（UTF-8 か Shift_JIS の表にしてください）"
        ) from None
    lines = text.splitlines()
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise ValueError("空のファイルです")
    delimiter = "\t" if "\t" in lines[header_at] else ","
    records = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    header = records[header_at]
    columns: list[str | None] = []
    table = CardTable()
    for name in header:
        found = _FIELD_OF.get(_fold(name))
        if found is None or found in columns:
            columns.append(None)
            if name.strip():
                table.ignored_columns.append(name.strip())
        else:
            columns.append(found)
    if "card" not in columns:
        raise ValueError(
            f"{header_at + 1}行目にカードの列（{'・'.join(HEADER_NAMES['card'][:4])} など）がありません"
        )
    if not any(c in DETAIL_FIELDS for c in columns):
        raise ValueError(
            f"{header_at + 1}行目に名義・利用者・部署などの列がありません（見出しの行が必要です）"
        )
    seen: dict[str, int] = {}
    for index in range(header_at + 1, len(records)):
        cells = records[index]
        number = index + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            table.errors.append(
                LineError(number, f"列の数が{len(cells)}です（見出しは{len(columns)}列）")
            )
            continue
        values: dict[str, str] = {}
        last4: str | None = None
        problem = None
        for column, cell in zip(columns, cells, strict=False):
            cell = cell.strip()
            if column is None or not cell:
                continue
            if column == "card":
                last4 = _last4(cell)
                if last4 is None:
                    problem = "カードの末尾4桁が読めません"
            elif len(cell) > MAX_CELL:
                problem = f"{FIELD_LABELS[column]}が長すぎます（{len(cell)}文字）"
            else:
                values[column] = cell
        if problem is None and last4 is None:
            problem = "カードの列が空です"
        if problem is None and last4 in seen:
            problem = f"カード末尾{last4}は{seen[last4]}行目にもあります"
        if problem is not None or last4 is None:
            table.errors.append(LineError(number, problem or "カードの列が空です"))
            continue
        seen[last4] = number
        table.rows.append(CardDetails(number, last4, values))
    return table
