"""A table of cards to fill in: text (pasted from a spreadsheet, or a CSV file) in, rows and
line errors out.

A company's first import creates its cards as 詳細未入力; their 名義, 利用者 and 部署 come from
its own list. This reads such a list:

- tab-separated (pasted from a spreadsheet) or comma-separated (a CSV file, UTF-8 or cp932);
- with a header naming the columns (カード / カード番号 / 末尾4桁, 名義, 利用者 / 運転者 / ドライバー,
  部署 / 所属), in any order; without one, the columns are card, 名義, 利用者, 部署;
- the card as its last 4 digits or as a (masked) card number: only the last 4 digits are kept;
- a blank cell leaves that field as it is (a column that is absent, too).

Every line with a problem is reported with its number; a card named twice is an error.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from etcbook.importers.meisai import LineError

FIELDS: Final = ("holder", "driver", "department")
FIELD_LABELS: Final = {"holder": "名義", "driver": "利用者", "department": "部署"}

_HEADERS: Final = {
    "card": (
        "カード",
        "カード番号",
        "カード末尾",
        "カード末尾4桁",
        "末尾4桁",
        "末尾",
        "ETCカード番号",
    ),
    "holder": ("名義", "名義人", "カード名義"),
    "driver": ("利用者", "運転者", "ドライバー", "使用者"),
    "department": ("部署", "所属", "部門", "部署名"),
}
_ORDER: Final = ("card", "holder", "driver", "department")
MAX_TEXT: Final = 100
"""A name or department longer than this is not one (a pasted paragraph)."""


@dataclass(frozen=True)
class CardFill:
    """One card's values to set; ``None`` leaves a field as it is.

    Attributes:
        line: the line of the table it came from (1-based).
        last4: カード末尾4桁.
        holder: 名義.
        driver: 利用者.
        department: 部署.
    """

    line: int
    last4: str
    holder: str | None = None
    driver: str | None = None
    department: str | None = None

    def values(self) -> dict[str, str]:
        """The fields to set."""
        return {name: value for name in FIELDS if (value := getattr(self, name)) is not None}


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "").replace("\u3000", "")


def decode(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without BOM), else cp932."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp932", errors="strict")


def _last4(cell: str) -> str:
    """The last 4 digits of a card given as them or as a (masked) card number."""
    compact = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", cell))
    if not compact:
        raise ValueError("カードが空です")
    if not re.fullmatch(r"\**\d{4,}", compact):
        raise ValueError(
            f"カード「{cell.strip()}」を読めません（末尾4桁か、*で隠したカード番号で書いてください）"
        )
    return compact[-4:]


def _header(cells: list[str]) -> dict[str, int] | None:
    """Column positions when ``cells`` is a header row, else ``None``."""
    found: dict[str, int] = {}
    for position, cell in enumerate(cells):
        name = _norm(cell)
        for key, spellings in _HEADERS.items():
            if name in {_norm(s) for s in spellings} and key not in found:
                found[key] = position
    return found if "card" in found else None


def parse_card_table(text: str) -> tuple[list[CardFill], list[LineError]]:
    """Read a pasted table or CSV text; returns the rows and the lines' errors."""
    lines = text.splitlines()
    delimiter = "\t" if any("\t" in line for line in lines[:5]) else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[CardFill] = []
    errors: list[LineError] = []
    columns: dict[str, int] | None = None
    seen: dict[str, int] = {}
    for number, cells in enumerate(reader, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if columns is None:
            columns = _header(cells)
            if columns is not None:
                continue
            columns = {key: i for i, key in enumerate(_ORDER)}
        try:
            last4 = _last4(cells[columns["card"]] if columns["card"] < len(cells) else "")
        except ValueError as problem:
            errors.append(LineError(number, str(problem)))
            continue
        values: dict[str, str | None] = {}
        problem_found = False
        for name in FIELDS:
            position = columns.get(name)
            cell = cells[position].strip() if position is not None and position < len(cells) else ""
            if len(cell) > MAX_TEXT:
                errors.append(
                    LineError(number, f"{FIELD_LABELS[name]}が長すぎます（{MAX_TEXT}文字まで）")
                )
                problem_found = True
            values[name] = cell or None
        if last4 in seen:
            errors.append(LineError(number, f"カード末尾{last4}は{seen[last4]}行目にもあります"))
            continue
        seen[last4] = number
        if problem_found:
            continue
        if not any(values.values()):
            errors.append(
                LineError(number, f"カード末尾{last4}に入れる名義・利用者・部署がありません")
            )
            continue
        rows.append(CardFill(number, last4, **values))
    if not rows and not errors:
        errors.append(LineError(0, "カードの行がありません"))
    return rows, errors
