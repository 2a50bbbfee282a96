"""Journal files for 弥生, freee and マネーフォワード クラウド from booked entries.

- 弥生インポート形式 (仕訳日記帳): no header, 25 fields (27 for 弥生会計 Next, with 借方/貸方取引先名),
  識別フラグ 2000, dates ``YYYY/MM/DD``, タイプ 0, 調整 ``no``; cp932 (弥生会計 Next also UTF-8).
- freee 取引インポート: the 21-column header of freee's sample; 収支区分 支出 (収入 for a reversal),
  決済 columns filled when the card's 決済口座 is set, empty for an unsettled 取引.
- マネーフォワード 仕訳帳インポート: the 27-column header (取引No … 最終更新者), one 取引No per entry.

Every file ends its lines with CRLF. A character the chosen encoding cannot carry is refused
(:class:`UnencodableText`, naming the trip and the field), never replaced. Formats and their
sources: the project's research note on accounting formats.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from etcbook.domain.journal import JournalEntry, JournalSettings, Side
from etcbook.safeio import write_bytes_atomically


class Product(StrEnum):
    """The accounting product a journal file is for."""

    YAYOI = "yayoi"
    FREEE = "freee"
    MF = "mf"


PRODUCT_LABELS: dict[Product, str] = {
    Product.YAYOI: "弥生会計・やよいの青色申告（弥生インポート形式）",
    Product.FREEE: "freee会計（取引インポート）",
    Product.MF: "マネーフォワード クラウド（仕訳帳インポート）",
}

ENCODINGS = ("cp932", "utf-8")


@dataclass(frozen=True, slots=True)
class JournalFormat:
    """Which file to write.

    Attributes:
        product: the accounting product.
        encoding: ``cp932`` or ``utf-8``.
        yayoi_next: 弥生会計 Next's 27-field variant (with 取引先名); only for 弥生.
    """

    product: Product
    encoding: str = "cp932"
    yayoi_next: bool = False

    def problem(self) -> str | None:
        """Why this combination cannot be written (a sentence), or ``None``."""
        if self.encoding not in ENCODINGS:
            return f"文字コードは {' / '.join(ENCODINGS)} のどちらかです: {self.encoding!r}"
        if self.yayoi_next and self.product is not Product.YAYOI:
            return "弥生会計 Next の形式は弥生でだけ選べます"
        if self.product is Product.YAYOI and self.encoding != "cp932" and not self.yayoi_next:
            return "弥生会計（デスクトップ版）は Shift-JIS（cp932）しか読めません。UTF-8 は弥生会計 Next の形式で選べます"
        return None

    @property
    def label(self) -> str:
        if self.product is Product.YAYOI and self.yayoi_next:
            return "弥生会計 Next（27項目）"
        return PRODUCT_LABELS[self.product]


YAYOI_NEXT_MAX_LINES = 1000
"""弥生会計 Next imports at most 1,000 detail lines per file (so do 弥生会計 オンライン and
やよいの青色申告 オンライン)."""


class TooManyLines(ValueError):
    """The product takes fewer lines per file than the entries need; nothing is written."""


class UnencodableText(ValueError):
    """A field holds a character the file's encoding cannot carry; nothing is written."""

    def __init__(self, *, trip_id: int, field: str, char: str, encoding: str) -> None:
        self.trip_id = trip_id
        self.field = field
        self.char = char
        self.encoding = encoding
        super().__init__(
            f"走行 {trip_id} の「{field}」に {encoding} で書けない文字「{char}」"
            f"（U+{ord(char):04X}）があります。設定か走行の目的を直すか、UTF-8 を選んでください"
        )


YAYOI_FIELDS: tuple[str, ...] = (
    "識別フラグ",
    "伝票No.",
    "決算",
    "取引日付",
    "借方勘定科目",
    "借方補助科目",
    "借方部門",
    "借方税区分",
    "借方金額",
    "借方税金額",
    "貸方勘定科目",
    "貸方補助科目",
    "貸方部門",
    "貸方税区分",
    "貸方金額",
    "貸方税金額",
    "摘要",
    "番号",
    "期日",
    "タイプ",
    "生成元",
    "仕訳メモ",
    "付箋1",
    "付箋2",
    "調整",
)
"""弥生インポート形式's 25 fields (the file has no header row)."""

YAYOI_NEXT_FIELDS = (*YAYOI_FIELDS, "借方取引先名", "貸方取引先名")

FREEE_HEADER: tuple[str, ...] = (
    "収支区分",
    "管理番号",
    "発生日",
    "決済期日",
    "取引先コード",
    "取引先",
    "勘定科目",
    "税区分",
    "金額",
    "税計算区分",
    "税額",
    "備考",
    "品目",
    "部門",
    "メモタグ（複数指定可、カンマ区切り）",
    "セグメント1",
    "セグメント2",
    "セグメント3",
    "決済日",
    "決済口座",
    "決済金額",
)
"""freee 取引インポート: the header row exactly as freee's sample file has it."""

MF_HEADER: tuple[str, ...] = (
    "取引No",
    "取引日",
    "借方勘定科目",
    "借方補助科目",
    "借方部門",
    "借方取引先",
    "借方税区分",
    "借方インボイス",
    "借方金額(円)",
    "借方税額",
    "貸方勘定科目",
    "貸方補助科目",
    "貸方部門",
    "貸方取引先",
    "貸方税区分",
    "貸方インボイス",
    "貸方金額(円)",
    "貸方税額",
    "摘要",
    "仕訳メモ",
    "タグ",
    "MF仕訳タイプ",
    "決算整理仕訳",
    "作成日時",
    "作成者",
    "最終更新日時",
    "最終更新者",
)
"""マネーフォワード 仕訳帳インポート: columns A–AA of MF's sample format."""

YAYOI_DESCRIPTION_WIDTH = 64
"""弥生's 摘要: 64 half-width bytes (32 full-width characters)."""
YAYOI_MEMO_WIDTH = 180
FREEE_DESCRIPTION_CHARS = 250
MF_DESCRIPTION_CHARS = 200


def byte_width(text: str) -> int:
    """Width in half-width units (the bytes the text takes in Shift-JIS): 1 for ASCII and
    half-width katakana, 2 for anything else."""
    return sum(1 if unicodedata.east_asian_width(c) in ("Na", "H") else 2 for c in text)


def cut_to_width(text: str, width: int) -> str:
    """``text`` cut so that it takes at most ``width`` half-width units (never mid-character)."""
    used = 0
    for i, char in enumerate(text):
        used += byte_width(char)
        if used > width:
            return text[:i]
    return text


def tax_rate_of(label: str) -> int:
    """The rate a tax label names: 10 for a ``10%`` label, 8 for an ``8%`` one, else 0."""
    if "10%" in label or "10％" in label:
        return 10
    if "8%" in label or "8％" in label:
        return 8
    return 0


def tax_included(amount: int, label: str) -> int:
    """The consumption tax inside a tax-inclusive amount, rounded down (切り捨て)."""
    rate = tax_rate_of(label)
    return amount * rate // (100 + rate)


Row = list[tuple[str, str]]
"""A row as (field name, value) pairs: the name is what an encoding error points at."""


def _yayoi_rows(
    entry: JournalEntry, settings: JournalSettings, fmt: JournalFormat
) -> Iterator[Row]:
    description = cut_to_width(entry.description, YAYOI_DESCRIPTION_WIDTH)
    memo = cut_to_width(entry.memo, YAYOI_MEMO_WIDTH)
    taxed = settings.yayoi_tax_label

    def side(s: Side, amount: int) -> tuple[str, str, str, str, str]:
        label = taxed if s.taxable else settings.yayoi_tax_none
        department = settings.department if s.taxable else ""
        tax = tax_included(amount, label) if s.taxable else 0
        return s.account, s.sub, department, label, str(tax)

    for posting in entry.postings:
        d_account, d_sub, d_dept, d_tax, d_tax_amount = side(posting.debit, posting.amount)
        c_account, c_sub, c_dept, c_tax, c_tax_amount = side(posting.credit, posting.amount)
        values = [
            "2000",
            "",
            "",
            entry.date.strftime("%Y/%m/%d"),
            d_account,
            d_sub,
            d_dept,
            d_tax,
            str(posting.amount),
            d_tax_amount,
            c_account,
            c_sub,
            c_dept,
            c_tax,
            str(posting.amount),
            c_tax_amount,
            description,
            "",
            "",
            "0",
            "",
            memo,
            "0",
            "0",
            "no",
        ]
        names = YAYOI_NEXT_FIELDS if fmt.yayoi_next else YAYOI_FIELDS
        if fmt.yayoi_next:
            values += ["", ""]
        yield list(zip(names, values, strict=True))


def _freee_rows(entry: JournalEntry, settings: JournalSettings) -> Iterator[Row]:
    sign = -1 if entry.reversed else 1
    travel = sign * (entry.claimed + entry.rebate_part)
    description = entry.description[:FREEE_DESCRIPTION_CHARS]
    wallet = entry.credit.wallet
    settled = bool(wallet) and entry.claimed != 0
    day = entry.date.strftime("%Y/%m/%d")
    lines = [(settings.debit_account, settings.freee_tax, travel, True)]
    if entry.rebate_part:
        lines.append(
            (settings.rebate_account, settings.freee_tax_none, -sign * entry.rebate_part, False)
        )
    for i, (account, label, amount, taxable) in enumerate(lines):
        first = i == 0
        values = {
            "収支区分": ("収入" if entry.reversed else "支出") if first else "",
            "管理番号": entry.memo.split(" ")[0] if first else "",
            "発生日": day if first else "",
            "決済期日": "",
            "取引先コード": "",
            "取引先": "",
            "勘定科目": account,
            "税区分": label,
            "金額": str(amount),
            "税計算区分": settings.freee_tax_calc,
            "税額": str(tax_included(amount, label) if taxable else 0),
            "備考": description,
            "品目": "",
            "部門": settings.department if taxable else "",
            "メモタグ（複数指定可、カンマ区切り）": "",
            "セグメント1": "",
            "セグメント2": "",
            "セグメント3": "",
            "決済日": day if first and settled else "",
            "決済口座": wallet if first and settled else "",
            "決済金額": str(abs(entry.claimed)) if first and settled else "",
        }
        yield [(name, values[name]) for name in FREEE_HEADER]


def _mf_side(side: Side, amount: int, settings: JournalSettings) -> list[str]:
    label = settings.mf_tax if side.taxable else settings.mf_tax_none
    return [
        side.account,
        side.sub,
        settings.department if side.taxable else "",
        "",
        label,
        settings.mf_invoice if side.taxable else "",
        str(amount),
        str(tax_included(amount, label) if side.taxable else 0),
    ]


def _mf_rows(entry: JournalEntry, settings: JournalSettings, number: int) -> Iterator[Row]:
    description = entry.description[:MF_DESCRIPTION_CHARS]
    for posting in entry.postings:
        values = [
            str(number),
            entry.date.strftime("%Y/%m/%d"),
            *_mf_side(posting.debit, posting.amount, settings),
            *_mf_side(posting.credit, posting.amount, settings),
            description,
            entry.memo,
            *[""] * 7,
        ]
        yield list(zip(MF_HEADER, values, strict=True))


def journal_rows(
    entries: Sequence[JournalEntry], settings: JournalSettings, fmt: JournalFormat
) -> Iterator[tuple[int | None, Row]]:
    """Every row of the file with the trip it belongs to (``None`` for the header row)."""
    if fmt.product is Product.FREEE:
        yield None, [(name, name) for name in FREEE_HEADER]
        for entry in entries:
            for row in _freee_rows(entry, settings):
                yield entry.trip_id, row
    elif fmt.product is Product.MF:
        yield None, [(name, name) for name in MF_HEADER]
        for number, entry in enumerate(entries, start=1):
            for row in _mf_rows(entry, settings, number):
                yield entry.trip_id, row
    else:
        for entry in entries:
            for row in _yayoi_rows(entry, settings, fmt):
                yield entry.trip_id, row


def _check_encodable(trip_id: int | None, row: Row, encoding: str) -> None:
    for name, value in row:
        try:
            value.encode(encoding)
        except UnicodeEncodeError as exc:
            raise UnencodableText(
                trip_id=trip_id or 0, field=name, char=value[exc.start], encoding=encoding
            ) from None


def render_journal(
    entries: Sequence[JournalEntry], settings: JournalSettings, fmt: JournalFormat
) -> bytes:
    """The file's bytes. Raises :class:`UnencodableText` before anything is produced."""
    problem = fmt.problem()
    if problem:
        raise ValueError(problem)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    lines = 0
    for trip_id, row in journal_rows(entries, settings, fmt):
        _check_encodable(trip_id, row, fmt.encoding)
        writer.writerow([value for _name, value in row])
        lines += 1
    if fmt.yayoi_next and lines > YAYOI_NEXT_MAX_LINES:
        raise TooManyLines(
            f"弥生会計 Next が1ファイルで取り込めるのは {YAYOI_NEXT_MAX_LINES:,} 行までです"
            f"（この期間は {lines:,} 行）。期間を分けて書き出してください"
        )
    text = buffer.getvalue()
    data = text.encode(fmt.encoding)
    if fmt.encoding == "utf-8" and fmt.product is Product.FREEE:
        data = "\ufeff".encode() + data  # freee's own sample file carries a BOM
    return data


def write_journal(
    path: Path,
    entries: Sequence[JournalEntry],
    settings: JournalSettings,
    fmt: JournalFormat,
) -> Path:
    """Render and write the file atomically (nothing is written when rendering fails)."""
    return write_bytes_atomically(path, render_journal(entries, settings, fmt))
