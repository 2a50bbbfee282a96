"""明細CSV (detail CSV of ETC利用照会サービス): bytes in, validated rows and line errors out.

The importer reads the file as a stream of chunks, so its memory does not grow with the file.
Columns are mapped by header name (both real layouts: 13 and 15 columns); the encoding is
cp932 (Shift_JIS with Microsoft's extensions) or UTF-8 with or without a BOM.

Speed: a cell's text is converted once per distinct value (dates, times, amounts, card
numbers and remarks repeat a lot), through the same validating functions whatever the file
size; :meth:`MeisaiReader.records` yields plain tuples in :data:`RECORD_FIELDS` order for the
importer, and iterating the reader yields :class:`MeisaiRow` values built from them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Final, Generic, Protocol, TypeVar

from etcbook.privacy import mask_card_numbers

STATUS_CONFIRMED: Final = "確定"
STATUS_PENDING: Final = "確認中"
MORNING_EVENING_FLAG: Final = "（朝夕）"

MAX_REPORTED_ERRORS: Final = 200
"""Errors listed per file; further ones are counted in one closing message."""

MAX_LINE_BYTES: Final = 4096
"""A real row is about 120 bytes; a longer line is not a row of this format."""

CHUNK_BYTES: Final = 1 << 16
"""The file is read in chunks of this size (progress is reported after each)."""

_MEMO_LIMIT: Final = 1 << 16
"""Distinct values remembered per column and file (bounds memory on adversarial files)."""


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
"""The header names of the real files and the field each maps to, in the 15-column order."""

_HEADER_FIELDS: Final = {_norm(name): field for name, field in _COLUMNS}
_FIELD_LABEL: Final = {field: name for name, field in _COLUMNS}
_FIELDS: Final = tuple(field for _, field in _COLUMNS)
_REQUIRED: Final = ("exit_date", "exit_time", "exit_ic", "toll", "card_number")

PASSAGE_DASHES: Final = frozenset({"－", "−", "-"})
"""A bare dash in 通行料金 (and 還元額適用料金, 後納料金) marks a passage row: U+FF0D as
downloaded, U+2212 as some converters decode the same cp932 byte, ``-`` after NFKC folding."""

RECORD_FIELDS: Final = (
    "line",
    "card",
    "entry_at",
    "exit_at",
    "discount",
    "toll",
    "rebate_applied",
    "deferred_toll",
    "vehicle_class",
    "vehicle_number",
    "remarks",
    "route",
)
"""The fields of a :data:`Record`, in order. Values that repeat across rows come as small
integers: ``card`` indexes :attr:`MeisaiReader.cards` (last 4 digits), ``discount`` indexes
:attr:`MeisaiReader.discounts` (割引前料金 and ＥＴＣ割引額, both None on a row without a
discount), ``remarks`` indexes :attr:`MeisaiReader.remarks` (備考 parsed) and ``route`` indexes
:attr:`MeisaiReader.routes` (entry IC, exit IC, '' for a blank IC). The importer stages a
small integer where a row would otherwise bind two or three values, often NULLs (binding a
NULL costs Python's sqlite3 module about ten times an integer); date-times are ISO 8601
text."""

Record = tuple[
    int,  # line
    int,  # card: index into MeisaiReader.cards
    str | None,  # entry_at
    str | None,  # exit_at: None for a charge at an entry gate
    int,  # discount: index into MeisaiReader.discounts
    int | None,  # toll: None for a passage row (a bare －)
    int | None,  # rebate_applied
    int | None,  # deferred_toll
    int | None,  # vehicle_class
    str | None,  # vehicle_number
    int,  # remarks: index into MeisaiReader.remarks
    int,  # route: index into MeisaiReader.routes
]
"""One validated row as a plain tuple in :data:`RECORD_FIELDS` order (what the importer stages).

A passage row has ``toll`` None (and no other amount); a charge at an entry gate has
``exit_at`` None (and a blank exit IC in its route) and is dated by its entry. Every record has ``exit_at`` or
``entry_at``."""

NO_DISCOUNT: Final = 0
"""The ``discount`` of a row whose 割引前料金 and ＥＴＣ割引額 are blank (every passage row)."""


@dataclass(frozen=True, slots=True)
class Remarks:
    """備考 parsed.

    Attributes:
        text: 備考 as written (without surrounding spaces).
        status: 確定 / 確認中 (15-column files), None otherwise.
        flags: the other parts (discount names, （朝夕）), joined by ``;``.
        morning_evening: tagged （朝夕） for 平日朝夕割引.
    """

    text: str
    status: str | None
    flags: str
    morning_evening: bool


class NotMeisaiError(ValueError):
    """The file is not a 明細CSV at all (a PDF, a spreadsheet, an empty or unrelated file)."""


@dataclass(frozen=True, slots=True)
class MeisaiRow:
    """One row of a 明細CSV, validated (see docs/MEISAI_FORMAT.md for the shapes).

    Attributes:
        line: line number in the file as a text editor shows it (the header is line 1).
        entry_at: entry date-time (利用年月日/時分（自）), None for a single mainline gate.
        exit_at: exit date-time (利用年月日/時分（至）); the trip belongs to its day and month.
            None for a charge at an entry gate (then the entry decides; see ``dated_at``).
        entry_ic: entry interchange, None when blank.
        exit_ic: exit interchange or toll gate, None for a charge at an entry gate.
        toll_before_discount: 割引前料金, None when blank (no discount).
        etc_discount: ＥＴＣ割引額 (negative), None when blank.
        toll: 通行料金 (may be negative for an adjustment row); None for a passage row
            (a bare ``－``: passing a gate, charged on another row of the journey).
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
    exit_at: dt.datetime | None
    entry_ic: str | None
    exit_ic: str | None
    toll_before_discount: int | None
    etc_discount: int | None
    toll: int | None
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
    def passage(self) -> bool:
        """True for a passage row: amounts a bare ``－``, no charge of its own."""
        return self.toll is None

    @property
    def dated_at(self) -> dt.datetime:
        """The time the row is dated by: its exit, or its entry for a charge at an entry gate."""
        when = self.exit_at or self.entry_at
        assert when is not None  # the reader rejects a row with neither
        return when

    @property
    def trip_key(self) -> str:
        """What identifies the trip on its card, apart from its order among identical rows."""
        return trip_key(
            self.entry_at.isoformat() if self.entry_at else None,
            self.exit_at.isoformat() if self.exit_at else None,
            self.entry_ic,
            self.exit_ic,
        )


def trip_key(
    entry_at: str | None, exit_at: str | None, entry_ic: str | None, exit_ic: str | None
) -> str:
    """The identity of a trip (or passage) on its card, with its order among identical rows
    (``seq``). A charge at an entry gate is identified by its entry alone."""
    return f"{entry_at or ''}|{exit_at or ''}|{entry_ic or ''}|{exit_ic or ''}"


@dataclass(frozen=True, slots=True)
class LineError:
    """A problem found on one line of an imported file."""

    line: int
    message: str


# --- cell converters: text -> value, or ValueError with the message for the user ---------------

_FULLWIDTH = str.maketrans("０１２３４５６７８９－−―‐／：", "0123456789----/:")


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _date_iso(text: str) -> str | None:
    """``YY/MM/DD`` (Western two-digit year) or ``YYYY/MM/DD`` -> ``YYYY-MM-DDT``; blank -> None."""
    shown = text.strip()
    if not shown:
        return None
    parts = shown.translate(_FULLWIDTH).replace("-", "/").split("/")
    if (
        len(parts) != 3
        or not all(_ascii_digits(p) for p in parts)
        or len(parts[0]) not in (2, 4)
        or len(parts[1]) > 2
        or len(parts[2]) > 2
    ):
        raise ValueError(f"「{shown}」は日付ではありません（YY/MM/DD）")
    year = int(parts[0]) + (2000 if len(parts[0]) == 2 else 0)
    try:
        return dt.date(year, int(parts[1]), int(parts[2])).isoformat() + "T"
    except ValueError:
        raise ValueError(f"「{shown}」は存在しない日付です") from None


def _time_iso(text: str) -> str | None:
    """``HH:MM`` (also ``H:MM`` and ``HH:MM:SS``) -> ``HH:MM:SS``; blank -> None."""
    shown = text.strip()
    if not shown:
        return None
    parts = shown.translate(_FULLWIDTH).split(":")
    if len(parts) not in (2, 3) or not all(_ascii_digits(p) and len(p) <= 2 for p in parts):
        raise ValueError(f"「{shown}」は時刻ではありません（HH:MM）")
    try:
        seconds = int(parts[2]) if len(parts) == 3 else 0
        return dt.time(int(parts[0]), int(parts[1]), seconds).isoformat()
    except ValueError:
        raise ValueError(f"「{shown}」は存在しない時刻です") from None


def _amount(text: str) -> int | None:
    """A yen amount: plain integer, possibly negative with an ASCII or full-width minus."""
    shown = text.strip()
    if not shown:
        return None
    cleaned = shown.translate(_FULLWIDTH).replace(",", "").replace("円", "").replace("¥", "")
    digits = cleaned[1:] if cleaned.startswith("-") else cleaned
    if not _ascii_digits(digits) or len(digits) > 9:
        raise ValueError(f"金額「{shown}」は整数の円ではありません")
    return int(cleaned)


def _card_last4(text: str) -> str | None:
    """The last 4 digits of a (masked or full) card number; blank -> None."""
    shown = text.strip()
    if not shown:
        return None
    tail = shown.translate(_FULLWIDTH)[-4:]
    if len(tail) != 4 or not _ascii_digits(tail):
        raise ValueError("ＥＴＣカード番号の末尾4桁が読めません")
    return tail


def _vehicle_class(text: str) -> int | None:
    shown = text.strip().translate(_FULLWIDTH)
    if not shown:
        return None
    if not (_ascii_digits(shown) and len(shown) <= 2):
        raise ValueError(f"車種「{shown}」は数字ではありません")
    return int(shown)


def _labelled(field: str, exc: ValueError) -> ValueError:
    """``exc`` about a cell, its message prefixed with the cell's column."""
    return ValueError(f"{_FIELD_LABEL[field]}: {exc}")


def _remarks(text: str) -> Remarks:
    remarks = text.strip()
    parts = [p.strip() for p in remarks.split(";") if p.strip()]
    status = None
    if parts and parts[0] in (STATUS_CONFIRMED, STATUS_PENDING):
        status = parts.pop(0)
    flags = [MORNING_EVENING_FLAG if _norm(p) == "(朝夕)" else p for p in parts]
    return Remarks(remarks, status, ";".join(flags), MORNING_EVENING_FLAG in flags)


_K = TypeVar("_K")
_V = TypeVar("_V")


class _Memo(dict[_K, _V], Generic[_K, _V]):
    """``memo[text]`` converts a cell once per distinct text; errors are not remembered."""

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[_K], _V]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, key: _K) -> _V:
        value = self.convert(key)
        if len(self) < _MEMO_LIMIT:
            self[key] = value
        return value


# --- recognising the file -------------------------------------------------------------------


def _sniff_not_meisai(head: bytes, filename: str) -> None:
    """Raise NotMeisaiError with one clear sentence when the bytes are clearly another format."""
    if head.startswith(b"%PDF"):
        raise NotMeisaiError(
            f"{filename}: PDFファイルなので明細CSVとして読み込めません（PDFは証憑として保管できます）。"
        )
    if head.startswith(b"PK\x03\x04"):
        raise NotMeisaiError(
            f"{filename}: Excel（.xlsx）またはZIPのファイルなので、"
            "ダウンロードした明細CSVをそのまま選んでください。"
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise NotMeisaiError(
            f"{filename}: Excel（.xls）のファイルなので、"
            "ダウンロードした明細CSVをそのまま選んでください。"
        )
    first_line = head[: min(len(head), 4096)].split(b"\n", 1)[0].split(b"\r", 1)[0]
    if b"\x00" in first_line:
        raise NotMeisaiError(f"{filename}: テキストではないファイルなので明細CSVではありません。")


def _split(text: str) -> list[str]:
    if '"' in text:
        return next(csv.reader([text]))
    return text.split(",")


class _BadLine(str):
    """A line that cannot be a row (undecodable or overlong); the text is the message."""

    __slots__ = ()


class ByteStream(Protocol):
    """What :class:`MeisaiReader` needs of its input: ``read(size)``, ``b""`` at the end."""

    def read(self, size: int, /) -> bytes: ...


class _RepeatFilter:
    """Which records may repeat an earlier record's identity (card, kind, entry and exit
    date-time, route), for numbering the repeats (``seq``) without keeping every identity.

    Per hash slot of (card, the date-time a record is dated by), which the records of one
    identity share, the line of the first record in it: a record whose slot already holds a
    line is a candidate (a true repeat, another trip with the same card and time, or a hash
    collision), to be told apart exactly by its caller among the slot's records (that first
    one and the slot's later candidates). A record whose slot was empty is certainly the
    first of its identity. Memory follows the file's size (``size_hint``, bytes): 4 bytes a
    slot, at most 32 MiB.
    """

    __slots__ = ("lines", "mask")

    def __init__(self, size_hint: int) -> None:
        slots = 1 << 14
        while slots < size_hint // 4 and slots < (1 << 23):
            slots <<= 1
        self.mask = slots - 1
        self.lines = array("I", bytes(4 * slots))


class MeisaiReader:
    """Reads one 明細CSV as a stream of :class:`MeisaiRow` and :class:`LineError` values.

    ``card_last4`` supplies the card for rows whose card column is blank, and rejects rows
    naming another card (trips of another card must not be mixed in). ``progress`` is called
    with the number of bytes read so far after each chunk; an exception it raises (for
    example to cancel) stops the reading. ``size_hint`` (the file's size in bytes, when known)
    sizes the filter behind :attr:`repeat_candidates`.
    """

    def __init__(
        self,
        stream: ByteStream,
        filename: str,
        *,
        card_last4: str | None = None,
        progress: Callable[[int], None] | None = None,
        size_hint: int = 0,
    ) -> None:
        self.stream = stream
        self.filename = filename
        self.card_last4 = card_last4
        self.progress = progress
        self.encoding = ""
        self.columns: list[str | None] = []
        self.rows_read = 0
        self.errors_found = 0
        self.bytes_read = 0
        self.cards: list[str] = []
        """The card last-4s seen so far; a record's ``card`` indexes this list."""
        self.remarks: list[Remarks] = []
        """The distinct 備考 seen so far; a record's ``remarks`` indexes this list."""
        self.discounts: list[tuple[int | None, int | None]] = [(None, None)]
        """The distinct (割引前料金, ＥＴＣ割引額) seen so far, first :data:`NO_DISCOUNT` (both
        blank, as on every passage row); a record's ``discount`` indexes this list."""
        self.passages = 0
        """Passage rows (a bare －) read so far, errors included."""
        self.routes: list[tuple[str, str]] = []
        """The distinct (entry IC, exit IC) seen so far ('' for a blank IC); a record's
        ``route`` indexes this list (route rules resolve once per route, not per row)."""
        self.repeat_candidates: list[tuple[int, int]] = []
        """The records that may repeat an earlier record's identity (see
        :class:`_RepeatFilter`), in file order: (line, line of the first record of its hash
        slot); the caller may take and clear them."""
        self._repeats = _RepeatFilter(size_hint)

    # -- lines --

    def _chunks(self) -> Iterator[bytes]:
        read = self.stream.read
        while chunk := read(CHUNK_BYTES):
            self.bytes_read += len(chunk)
            if self.progress is not None:
                self.progress(self.bytes_read)
            yield chunk

    @staticmethod
    def _pieces(chunks: Iterator[bytes]) -> Iterator[bytes | int]:
        """The file as pieces of whole lines: ``bytes`` holding one or more lines separated by
        LF (a CRLF or a lone CR, as editors count them, has become LF), or an ``int``, the
        length of one line longer than MAX_LINE_BYTES that is not kept (memory stays flat).
        """
        pending = b""
        long_line = 0  # bytes of an overlong line seen so far
        for chunk in chunks:
            data = pending + chunk
            hold = data.endswith(b"\r")  # maybe the CR of a CRLF cut in two
            body = data[:-1] if hold else data
            if b"\r" in body:
                body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            cut = body.rfind(b"\n")
            pending = body[cut + 1 :] + (b"\r" if hold else b"")
            if cut >= 0:
                whole = body[:cut]
                if long_line:
                    end = whole.find(b"\n")
                    yield long_line + (len(whole) if end < 0 else end)
                    long_line = 0
                    if end >= 0:
                        yield whole[end + 1 :]
                else:
                    yield whole
            if len(pending) > MAX_LINE_BYTES:
                long_line += len(pending)
                pending = b""
        pending = pending.removesuffix(b"\r")
        if long_line or len(pending) > MAX_LINE_BYTES:
            yield long_line + len(pending)
        elif pending:
            yield pending

    def _texts(self, piece: bytes | int) -> list[str]:
        """The lines of a piece, decoded; a line that cannot be a row comes as a _BadLine."""
        encoding = self.encoding
        if isinstance(piece, int):
            return [_BadLine(f"行が長すぎます（{piece:,}バイト）。明細の行ではありません")]
        try:
            texts = piece.decode(encoding).split("\n")
        except UnicodeDecodeError:
            texts = []
            for raw in piece.split(b"\n"):
                try:
                    texts.append(raw.decode(encoding))
                except UnicodeDecodeError:
                    texts.append(
                        _BadLine(f"文字コード（{encoding}）として読めないバイトがあります")
                        if raw.strip()
                        else ""
                    )
        if max(map(len, texts)) > MAX_LINE_BYTES // 2:  # characters: maybe over in bytes
            for i, text in enumerate(texts):
                size = len(text.encode(encoding, errors="replace"))
                if size > MAX_LINE_BYTES and not isinstance(text, _BadLine):
                    texts[i] = _BadLine(f"行が長すぎます（{size:,}バイト）。明細の行ではありません")
        return texts

    # -- header --

    def _read_header(self, pieces: Iterator[bytes | int]) -> tuple[int, bytes | None]:
        """Read the header (the first line that is not blank).

        Returns its line number and the rest of its piece (the lines after it), if any.
        """
        number = 0
        for piece in pieces:
            if isinstance(piece, int):
                number += 1
                raise NotMeisaiError(
                    f"{self.filename}: {number}行目が長すぎるので、"
                    "ETC利用照会サービスの明細CSVではありません。"
                )
            lines = piece.split(b"\n")
            for i, raw in enumerate(lines):
                number += 1
                if raw.strip():
                    self._header(raw, number)
                    return number, b"\n".join(lines[i + 1 :]) if i + 1 < len(lines) else None
        raise NotMeisaiError(
            f"{self.filename}: 空のファイルなので、"
            "ETC利用照会サービスからダウンロードした明細CSVを選んでください。"
        )

    def _header(self, raw: bytes, number: int) -> None:
        where = f"{number}行目"
        candidates: tuple[str, ...] = ("utf-8", "cp932")
        if raw.startswith(b"\xef\xbb\xbf"):
            raw, candidates = raw[3:], ("utf-8",)
        for encoding in candidates:
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            self.encoding = encoding
            break
        else:
            raise NotMeisaiError(
                f"{self.filename}: 文字コードが読めないので、"
                "Shift_JIS または UTF-8 の明細CSVを選んでください。"
            )
        try:
            names = [_norm(name.strip('"')) for name in _split(text)]
        except csv.Error:
            raise NotMeisaiError(
                f"{self.filename}: {where}がCSVとして読めないので、明細CSVではありません。"
            ) from None
        self.columns = [_HEADER_FIELDS.get(name) for name in names]
        missing = [f for f in _REQUIRED if f not in self.columns]
        if missing:
            raise NotMeisaiError(
                f"{self.filename}: ETC利用照会サービスの明細CSVではありません"
                f"（{where}に「{'」「'.join(_FIELD_LABEL[f] for f in missing)}」の列がありません）。"
            )
        seen = [c for c in self.columns if c]
        if len(seen) != len(set(seen)):
            raise NotMeisaiError(f"{self.filename}: {where}に同じ名前の列が2回あります。")

    # -- rows --

    def __iter__(self) -> Iterator[MeisaiRow | LineError]:
        for item in self.records():
            yield item if isinstance(item, LineError) else self.row(item)

    def row(self, record: Record) -> MeisaiRow:
        """The :class:`MeisaiRow` of a record read by this reader."""
        remarks = self.remarks[record[10]]
        entry_ic, exit_ic = self.routes[record[11]]
        toll_before_discount, etc_discount = self.discounts[record[4]]
        return MeisaiRow(
            line=record[0],
            entry_at=dt.datetime.fromisoformat(record[2]) if record[2] else None,
            exit_at=dt.datetime.fromisoformat(record[3]) if record[3] else None,
            entry_ic=entry_ic or None,
            exit_ic=exit_ic or None,
            toll_before_discount=toll_before_discount,
            etc_discount=etc_discount,
            toll=record[5],
            rebate_applied=record[6],
            deferred_toll=record[7],
            vehicle_class=record[8],
            vehicle_number=record[9],
            card_last4=self.cards[record[1]],
            remarks=remarks.text,
            status=remarks.status,
            flags=tuple(remarks.flags.split(";")) if remarks.flags else (),
        )

    def records(self) -> Iterator[Record | LineError]:
        """Validated rows as :data:`Record` tuples, and line errors, in file order.

        Raises NotMeisaiError (before yielding anything) when the file is not a 明細CSV.
        """
        return chain.from_iterable(self.batches())

    def batches(self) -> Iterator[list[Record | LineError]]:
        """:meth:`records` in lists, one per piece of the file read (a few hundred rows): the
        same items in the same order, for a caller that handles rows in bulk.

        Raises NotMeisaiError (before yielding anything) when the file is not a 明細CSV.
        """
        chunks = self._chunks()
        first = next(chunks, b"")
        _sniff_not_meisai(first, self.filename)

        def all_chunks() -> Iterator[bytes]:
            yield first
            yield from chunks

        pieces = self._pieces(all_chunks())
        header_line, rest = self._read_header(pieces)
        return self._batches(pieces, header_line, rest)

    def _batches(
        self, pieces: Iterator[bytes | int], header_line: int, rest: bytes | None
    ) -> Iterator[list[Record | LineError]]:
        n = len(self.columns)
        index = {field: i for i, field in enumerate(self.columns) if field}
        pick = itemgetter(*(index.get(field, n) for field in _FIELDS))  # n: a blank cell
        in_order = tuple(self.columns) == _FIELDS  # the 15-column layout as downloaded
        dates: _Memo[str, str | None] = _Memo(_date_iso)
        times: _Memo[str, str | None] = _Memo(_time_iso)
        amounts: _Memo[str, int | None] = _Memo(_amount)
        cards: _Memo[str, int] = _Memo(self._card)
        classes: _Memo[str, int | None] = _Memo(_vehicle_class)
        remarks_index: _Memo[str, int] = _Memo(self._remarks)
        discount_index: _Memo[tuple[str, str], int] = _Memo(self._discount)
        discount_index[("", "")] = NO_DISCOUNT
        names: _Memo[str, str] = _Memo(str.strip)  # IC names: one object per name
        dashes = {
            f"{pad}{dash}{end}" for dash in PASSAGE_DASHES for pad in ("", " ") for end in ("", " ")
        }
        dashes_or_blank = dashes | {"", " "}
        route_ids: dict[tuple[str, str], int] = {}
        texts_of = self._texts
        first_lines, mask = self._repeats.lines, self._repeats.mask
        candidate = self.repeat_candidates.append

        def all_pieces() -> Iterator[bytes | int]:
            if rest is not None:
                yield rest
            yield from pieces

        number = header_line
        out: list[Record | LineError] = []
        emit = out.append
        for piece in all_pieces():
            for text in texts_of(piece):
                number += 1
                if text.__class__ is not str:
                    self.errors_found += 1
                    emit(LineError(number, str(text)))
                    continue
                if '"' in text:
                    try:
                        cells = next(csv.reader([text]), [])
                    except csv.Error as exc:
                        self.errors_found += 1
                        emit(LineError(number, f"CSVとして読めません: {exc}"))
                        continue
                else:
                    cells = text.split(",")
                if len(cells) != n:
                    if len(cells) == 1 and not cells[0].strip(" \t\ufeff"):
                        continue  # a blank line
                    if len(cells) < n or any(c.strip() for c in cells[n:]):
                        self.errors_found += 1
                        emit(LineError(number, f"列の数が{len(cells)}です（見出しは{n}列）"))
                        continue
                    del cells[n:]  # empty cells a spreadsheet added at the end
                if not in_order:
                    cells.append("")
                    cells = pick(cells)
                (
                    entry_d,
                    entry_t,
                    exit_d,
                    exit_t,
                    entry_ic,
                    exit_ic,
                    before,
                    discount,
                    toll_text,
                    rebate,
                    deferred,
                    vehicle_class,
                    vehicle_number,
                    card,
                    remarks,
                ) = cells
                # The checks in the order a person reads the row; the first problem is reported.
                try:
                    exit_day = dates[exit_d]
                    exit_time = times[exit_t]
                    entry_day = dates[entry_d]
                    entry_time = times[entry_t]
                    if entry_day is None and entry_time is None:
                        entry_at = None
                    elif entry_day is None or entry_time is None:
                        raise ValueError("利用年月日（自）と時分（自）の片方だけが空です")
                    else:
                        entry_at = entry_day + entry_time
                    exit_ic = names[exit_ic]
                    if exit_day is None and exit_time is None and not exit_ic:
                        # A charge at an entry gate: dated by its entry, no exit invented.
                        if entry_at is None:
                            raise ValueError(
                                "利用年月日（至）と時分（至）は必須です"
                                "（入口で課金された行は利用年月日（自）と時分（自）が必要です）"
                            )
                        exit_at = None
                        if not names[entry_ic]:
                            raise ValueError("出口がない行の利用ＩＣ（自）が空です")
                    elif exit_day is None or exit_time is None:
                        raise ValueError("利用年月日（至）と時分（至）は必須です")
                    else:
                        exit_at = exit_day + exit_time
                        if not exit_ic:
                            raise ValueError("利用ＩＣ（至）が空です")
                    if toll_text in dashes:
                        toll = None  # a passage row: its amounts are all a bare dash
                        self.passages += 1
                        if (before.strip() or discount.strip()) or not (
                            rebate in dashes_or_blank and deferred in dashes_or_blank
                        ):
                            raise ValueError(
                                "通行料金が「－」（通過の行）なのに、ほかの金額の列に値があります"
                            )
                    else:
                        try:
                            toll = amounts[toll_text]
                        except ValueError as exc:
                            raise _labelled("toll", exc) from None
                        if toll is None:
                            raise ValueError("通行料金が空です")
                    card_index = cards[card]
                    vclass = classes[vehicle_class]
                    remarks_at = remarks_index[remarks]
                    entry_name = names[entry_ic]
                    route_at = route_ids.get((entry_name, exit_ic))
                    if route_at is None:
                        route_at = route_ids[(entry_name, exit_ic)] = len(self.routes)
                        self.routes.append((entry_name, exit_ic))
                    if toll is None:
                        discount_at = NO_DISCOUNT
                        rebate_value = deferred_value = None
                    else:
                        discount_at = (
                            discount_index[(before, discount)]
                            if before or discount
                            else NO_DISCOUNT
                        )
                        try:
                            rebate_value = amounts[rebate]
                        except ValueError as exc:
                            raise _labelled("rebate_applied", exc) from None
                        try:
                            deferred_value = amounts[deferred]
                        except ValueError as exc:
                            raise _labelled("deferred_toll", exc) from None
                except ValueError as exc:
                    if not any(c.strip() for c in cells):
                        continue  # a row of empty cells, as spreadsheets write blank rows
                    self.errors_found += 1
                    # messages quote the cell: never a full card number
                    emit(LineError(number, mask_card_numbers(str(exc))))
                    continue
                # Same identity implies same card and date-time: a coarser key only adds
                # candidates.
                slot = (hash(exit_at or entry_at) + card_index) & mask
                first = first_lines[slot]
                if first:
                    candidate((number, first))
                else:
                    first_lines[slot] = number
                emit(
                    (
                        number,
                        card_index,
                        entry_at,
                        exit_at,
                        discount_at,
                        toll,
                        rebate_value,
                        deferred_value,
                        vclass,
                        vehicle_number.strip() or None,
                        remarks_at,
                        route_at,
                    )
                )
            if out:
                self.rows_read += len(out)  # each row read is a record or a line error
                yield out
                out = []
                emit = out.append

    def _card(self, text: str) -> int:
        last4 = _card_last4(text)
        if last4 is None:
            if not self.card_last4:
                raise ValueError("ＥＴＣカード番号が空です（--card でカードを指定できます）")
            last4 = self.card_last4
        elif self.card_last4 and last4 != self.card_last4:
            raise ValueError(
                f"カード末尾{last4}の行です（指定されたカードは末尾{self.card_last4}）"
            )
        if last4 not in self.cards:
            self.cards.append(last4)
        return self.cards.index(last4)

    def _discount(self, texts: tuple[str, str]) -> int:
        before, discount = texts
        try:
            before_value = _amount(before)
        except ValueError as exc:
            raise _labelled("toll_before_discount", exc) from None
        try:
            discount_value = _amount(discount)
        except ValueError as exc:
            raise _labelled("etc_discount", exc) from None
        self.discounts.append((before_value, discount_value))
        return len(self.discounts) - 1

    def _remarks(self, text: str) -> int:
        self.remarks.append(_remarks(text))
        return len(self.remarks) - 1


def read_meisai_bytes(
    data: bytes, filename: str = "<bytes>", *, card_last4: str | None = None
) -> tuple[list[MeisaiRow], list[LineError]]:
    """Parse a whole file held in memory: ``(rows, errors)``. Raises NotMeisaiError."""
    rows: list[MeisaiRow] = []
    errors: list[LineError] = []
    for item in MeisaiReader(io.BytesIO(data), filename, card_last4=card_last4):
        if isinstance(item, LineError):
            errors.append(item)
        else:
            rows.append(item)
    return rows, errors


def format_errors(filename: str, errors: Iterable[LineError]) -> list[str]:
    """``FILE:LINE: reason`` lines, as compilers and editors print them."""
    return [f"{filename}:{e.line}: {e.message}" for e in errors]
