"""明細CSV (detail CSV of ETC利用照会サービス): bytes in, validated rows and line errors out.

The importer reads the file as a stream of lines, so its memory does not grow with the file.
Columns are mapped by header name (both real layouts: 13 and 15 columns); the encoding is
cp932 (Shift_JIS with Microsoft's extensions) or UTF-8 with or without a BOM.
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO, Final

STATUS_CONFIRMED: Final = "確定"
STATUS_PENDING: Final = "確認中"
MORNING_EVENING_FLAG: Final = "（朝夕）"

MAX_REPORTED_ERRORS: Final = 200
"""Errors listed per file; further ones are counted in one closing message."""

MAX_LINE_BYTES: Final = 4096
"""A real row is about 120 bytes; a longer line is not a row of this format."""


def _norm(text: str) -> str:
    """Header spelling normalised: full-width letters and brackets folded (NFKC), no spaces."""
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "").replace("\u3000", "")


_COLUMNS: Final = (
    ("利用年月日（自）", "entry_date"),
    ("時分（自）", "entry_time"),
    ("利用年月日（至）", "exit_date"),
    ("時分（至）", "exit_time"),
    ("利用ＩＣ（自）", "entry_ic"),
    ("利用ＩＣ（至）", "exit_ic"),
    ("割引前料金", "toll_before_discount"),
    ("ＥＴＣ割引額", "etc_discount"),
    ("通行料金", "toll"),
    ("還元額適用料金", "rebate_applied"),
    ("後納料金", "deferred_toll"),
    ("車種", "vehicle_class"),
    ("車両番号", "vehicle_number"),
    ("ＥＴＣカード番号", "card_number"),
    ("備考", "remarks"),
)
"""The header names of the real files and the field each maps to."""

_HEADER_FIELDS: Final = {_norm(name): field for name, field in _COLUMNS}
_FIELD_LABEL: Final = {field: name for name, field in _COLUMNS}
_REQUIRED: Final = ("exit_date", "exit_time", "exit_ic", "toll", "card_number")


class NotMeisaiError(ValueError):
    """The file is not a 明細CSV at all (a PDF, a spreadsheet, an empty or unrelated file)."""


@dataclass(frozen=True, slots=True)
class MeisaiRow:
    """One trip row of a 明細CSV, validated.

    Attributes:
        line: line number in the file as a text editor shows it (the header is line 1).
        entry_at: entry date-time (利用年月日/時分（自）), None for a single mainline gate.
        exit_at: exit date-time (利用年月日/時分（至）); the trip belongs to its day and month.
        entry_ic: entry interchange, None when blank.
        exit_ic: exit interchange or toll gate.
        toll_before_discount: 割引前料金, None when blank (no discount).
        etc_discount: ＥＴＣ割引額 (negative), None when blank.
        toll: 通行料金 (may be negative for an adjustment row).
        rebate_applied: 還元額適用料金 (15-column files only).
        deferred_toll: 後納料金, the billed part (15-column files only).
        vehicle_class: 車種 (1-5), None when blank.
        vehicle_number: 車両番号 serial, None when blank.
        card_last4: the last four digits of the ETCカード番号; nothing more is kept.
        remarks: 備考 as written.
        status: 確定 / 確認中 in 15-column files, None otherwise.
        flags: the other parts of 備考 (discount names, （朝夕）).
    """

    line: int
    entry_at: dt.datetime | None
    exit_at: dt.datetime
    entry_ic: str | None
    exit_ic: str
    toll_before_discount: int | None
    etc_discount: int | None
    toll: int
    rebate_applied: int | None
    deferred_toll: int | None
    vehicle_class: int | None
    vehicle_number: str | None
    card_last4: str
    remarks: str
    status: str | None
    flags: tuple[str, ...]

    @property
    def morning_evening(self) -> bool:
        """True when 備考 tags the trip for 平日朝夕割引."""
        return MORNING_EVENING_FLAG in self.flags

    @property
    def trip_key(self) -> str:
        """What identifies the trip on its card, apart from its order among identical rows."""
        entry = self.entry_at.isoformat() if self.entry_at else ""
        return f"{entry}|{self.exit_at.isoformat()}|{self.entry_ic or ''}|{self.exit_ic}"


@dataclass(frozen=True, slots=True)
class LineError:
    """A problem found on one line of an imported file."""

    line: int
    message: str


_FULLWIDTH = str.maketrans("０１２３４５６７８９－−―‐／：", "0123456789----/:")


@lru_cache(maxsize=4096)
def _parse_date(text: str) -> dt.date:
    """``YY/MM/DD`` (Western two-digit year) or ``YYYY/MM/DD`` as re-saved by spreadsheets."""
    parts = text.translate(_FULLWIDTH).replace("-", "/").split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"「{text}」は日付ではありません（YY/MM/DD）")
    year, month, day = (int(p) for p in parts)
    if len(parts[0]) <= 2:
        year += 2000
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"「{text}」は存在しない日付です") from None


@lru_cache(maxsize=4096)
def _parse_time(text: str) -> dt.time:
    """``HH:MM`` (also ``H:MM`` and ``HH:MM:SS``)."""
    parts = text.translate(_FULLWIDTH).split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) <= 2 for p in parts):
        raise ValueError(f"「{text}」は時刻ではありません（HH:MM）")
    try:
        return dt.time(int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else 0)
    except ValueError:
        raise ValueError(f"「{text}」は存在しない時刻です") from None


@lru_cache(maxsize=16384)
def _parse_amount(text: str) -> int:
    """A yen amount: plain integer, possibly negative with an ASCII or full-width minus."""
    cleaned = text.translate(_FULLWIDTH).replace(",", "").replace("円", "").replace("¥", "")
    digits = cleaned[1:] if cleaned.startswith("-") else cleaned
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        raise ValueError(f"金額「{text}」は整数の円ではありません")
    return int(cleaned)


def _card_last4(text: str) -> str:
    digits = [c for c in text.translate(_FULLWIDTH) if c.isdigit()]
    tail = text.translate(_FULLWIDTH).rstrip()
    if len(digits) < 4 or not tail[-4:].isdigit():
        raise ValueError("ＥＴＣカード番号の末尾4桁が読めません")
    return tail[-4:]


def _sniff_not_meisai(head: bytes, filename: str) -> None:
    """Raise NotMeisaiError with one clear sentence when the bytes are clearly another format."""
    if not head.strip():
        raise NotMeisaiError(
            f"{filename}: 空のファイルです。ETC利用照会サービスの明細CSVを選んでください。"
        )
    if head.startswith(b"%PDF"):
        raise NotMeisaiError(
            f"{filename}: PDFファイルです。明細CSVではありません（PDFは証憑として保管できます）。"
        )
    if head.startswith(b"PK\x03\x04"):
        raise NotMeisaiError(
            f"{filename}: Excel（.xlsx）またはZIPファイルです。明細CSVをそのまま読み込んでください。"
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise NotMeisaiError(
            f"{filename}: Excel（.xls）ファイルです。明細CSVをそのまま読み込んでください。"
        )
    if b"\x00" in head[:1024]:
        raise NotMeisaiError(f"{filename}: テキストではないファイルです。明細CSVではありません。")


def _decode_header(raw: bytes, filename: str) -> tuple[str, str]:
    """Decode the header line and tell the file's encoding from it."""
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            raise NotMeisaiError(f"{filename}: 1行目の文字コードが読めません。") from None
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise NotMeisaiError(
        f"{filename}: 文字コードが読めません（Shift_JIS または UTF-8 の明細CSVを選んでください）。"
    )


def _split(text: str) -> list[str]:
    if '"' in text:
        return next(csv.reader([text]))
    return text.split(",")


class MeisaiReader:
    """Reads one 明細CSV as a stream of :class:`MeisaiRow` and :class:`LineError` values.

    ``card_last4`` supplies the card for rows whose card column is blank, and rejects rows
    naming another card (trips of another card must not be mixed in).
    """

    def __init__(self, stream: BinaryIO, filename: str, *, card_last4: str | None = None) -> None:
        self.stream = stream
        self.filename = filename
        self.card_last4 = card_last4
        self.encoding = ""
        self.columns: list[str | None] = []
        self.rows_read = 0
        self.errors_found = 0

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        for number, raw in enumerate(self.stream, start=1):
            yield number, raw.rstrip(b"\r\n")

    def _read_header(self, lines: Iterator[tuple[int, bytes]]) -> None:
        try:
            _, raw = next(lines)
        except StopIteration:
            raise NotMeisaiError(
                f"{self.filename}: 空のファイルです。ETC利用照会サービスの明細CSVを選んでください。"
            ) from None
        _sniff_not_meisai(raw[:2048], self.filename)
        text, self.encoding = _decode_header(raw, self.filename)
        names = [_norm(name.strip('"')) for name in _split(text)]
        self.columns = [_HEADER_FIELDS.get(name) for name in names]
        missing = [f for f in _REQUIRED if f not in self.columns]
        if missing:
            raise NotMeisaiError(
                f"{self.filename}: ETC利用照会サービスの明細CSVではありません"
                f"（1行目に「{'」「'.join(_FIELD_LABEL[f] for f in missing)}」の列がありません）。"
            )
        seen = [c for c in self.columns if c]
        if len(seen) != len(set(seen)):
            raise NotMeisaiError(f"{self.filename}: 1行目に同じ名前の列が2回あります。")

    def __iter__(self) -> Iterator[MeisaiRow | LineError]:
        lines = self._lines()
        self._read_header(lines)
        for number, raw in lines:
            if not raw.strip():
                continue
            self.rows_read += 1
            result = self._parse_line(number, raw)
            if isinstance(result, LineError):
                self.errors_found += 1
            yield result

    def _parse_line(self, number: int, raw: bytes) -> MeisaiRow | LineError:
        if len(raw) > MAX_LINE_BYTES:
            return LineError(
                number, f"行が長すぎます（{len(raw):,}バイト）。明細の行ではありません"
            )
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError:
            return LineError(number, f"文字コード（{self.encoding}）として読めないバイトがあります")
        if text.startswith("\ufeff"):
            text = text[1:]
        try:
            cells = _split(text)
        except csv.Error as exc:
            return LineError(number, f"CSVとして読めません: {exc}")
        expected = len(self.columns)
        if len(cells) > expected and not any(c.strip() for c in cells[expected:]):
            cells = cells[:expected]
        if len(cells) != expected:
            return LineError(number, f"列の数が{len(cells)}です（見出しは{expected}列）")
        values = {f: c.strip() for f, c in zip(self.columns, cells, strict=True) if f}
        try:
            return self._row(number, values)
        except ValueError as exc:
            return LineError(number, str(exc))

    def _row(self, number: int, v: dict[str, str]) -> MeisaiRow:
        def amount(field: str) -> int | None:
            text = v.get(field, "")
            if not text:
                return None
            try:
                return _parse_amount(text)
            except ValueError as exc:
                raise ValueError(f"{_FIELD_LABEL[field]}: {exc}") from None

        exit_date, exit_time = v["exit_date"], v["exit_time"]
        if not exit_date or not exit_time:
            raise ValueError("利用年月日（至）と時分（至）は必須です")
        exit_at = dt.datetime.combine(_parse_date(exit_date), _parse_time(exit_time))
        entry_date, entry_time = v.get("entry_date", ""), v.get("entry_time", "")
        entry_at = None
        if entry_date or entry_time:
            if not (entry_date and entry_time):
                raise ValueError("利用年月日（自）と時分（自）の片方だけが空です")
            entry_at = dt.datetime.combine(_parse_date(entry_date), _parse_time(entry_time))
        exit_ic = v["exit_ic"]
        if not exit_ic:
            raise ValueError("利用ＩＣ（至）が空です")
        toll = amount("toll")
        if toll is None:
            raise ValueError("通行料金が空です")
        card_text = v["card_number"]
        if card_text:
            last4 = _card_last4(card_text)
            if self.card_last4 and last4 != self.card_last4:
                raise ValueError(
                    f"カード末尾{last4}の行です（指定されたカードは末尾{self.card_last4}）"
                )
        elif self.card_last4:
            last4 = self.card_last4
        else:
            raise ValueError("ＥＴＣカード番号が空です（--card でカードを指定できます）")
        vehicle_class_text = v.get("vehicle_class", "").translate(_FULLWIDTH)
        if vehicle_class_text and not (
            vehicle_class_text.isdigit() and len(vehicle_class_text) <= 2
        ):
            raise ValueError(f"車種「{vehicle_class_text}」は数字ではありません")
        remarks = v.get("remarks", "")
        parts = tuple(p.strip() for p in remarks.split(";") if p.strip())
        status = None
        if parts and parts[0] in (STATUS_CONFIRMED, STATUS_PENDING):
            status, parts = parts[0], parts[1:]
        flags = tuple(MORNING_EVENING_FLAG if _norm(p) == "(朝夕)" else p for p in parts)
        return MeisaiRow(
            line=number,
            entry_at=entry_at,
            exit_at=exit_at,
            entry_ic=v.get("entry_ic") or None,
            exit_ic=exit_ic,
            toll_before_discount=amount("toll_before_discount"),
            etc_discount=amount("etc_discount"),
            toll=toll,
            rebate_applied=amount("rebate_applied"),
            deferred_toll=amount("deferred_toll"),
            vehicle_class=int(vehicle_class_text) if vehicle_class_text else None,
            vehicle_number=v.get("vehicle_number") or None,
            card_last4=last4,
            remarks=remarks,
            status=status,
            flags=flags,
        )


def read_meisai_bytes(
    data: bytes, filename: str = "<bytes>", *, card_last4: str | None = None
) -> tuple[list[MeisaiRow], list[LineError]]:
    """Parse a whole file held in memory: ``(rows, errors)``. Raises NotMeisaiError."""
    import io

    rows: list[MeisaiRow] = []
    errors: list[LineError] = []
    for item in MeisaiReader(io.BytesIO(data), filename, card_last4=card_last4):
        (errors if isinstance(item, LineError) else rows).append(item)  # type: ignore[arg-type]
    return rows, errors


def format_errors(filename: str, errors: Iterable[LineError]) -> list[str]:
    """``FILE:LINE: reason`` lines, as compilers and editors print them."""
    return [f"{filename}:{e.line}: {e.message}" for e in errors]
