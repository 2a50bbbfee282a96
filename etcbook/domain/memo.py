"""問い合わせメモ (inquiry memo): the one-page summary the service desk asks for.

IDs, the card's last 4 digits, the trips as "○月○日○時、入口××→出口△△、請求額□□円", expected and
actual points or rebate with the difference, and recent card or address changes — as plain
text to copy, or laid out as a PDF by :mod:`etcbook.export.memo_pdf`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

MemoUnit = Literal["yen", "points"]


@dataclass(frozen=True, slots=True)
class MemoCard:
    """Who is asking: the identifiers the desk checks.

    Attributes:
        last4: カード末尾4桁.
        holder: 名義.
        mileage_id: マイレージID.
        obu_number: 車載器管理番号 (19 digits).
        plate: 車両番号.
        login_id: ETC利用照会サービスID.
    """

    last4: str
    holder: str = ""
    mileage_id: str | None = None
    obu_number: str | None = None
    plate: str | None = None
    login_id: str | None = None


@dataclass(frozen=True, slots=True)
class MemoTrip:
    """A trip as the desk wants it read out.

    Attributes:
        trip_id: store id.
        exit_at: exit time (the trip's date); the entry time for a charge at an entry gate.
        entry_ic: entry IC, None or empty for a mainline gate.
        exit_ic: exit IC.
        toll: 通行料金.
        rebate_applied: 還元額充当.
        billed: 請求額 (after rebate).
        points: points expected for the trip, or None.
    """

    trip_id: int
    exit_at: dt.datetime
    entry_ic: str | None
    exit_ic: str
    toll: int
    rebate_applied: int
    billed: int
    points: int | None = None


@dataclass(frozen=True, slots=True)
class MemoFigure:
    """An expected figure against the actual one.

    Attributes:
        label: what it is (``ポイント（NEXCO）``, ``還元額の月末残高``).
        expected: what etcbook computes.
        actual: what the site or the card shows, None when not known.
        unit: ``yen`` or ``points``.
    """

    label: str
    expected: int
    actual: int | None
    unit: MemoUnit

    @property
    def difference(self) -> int | None:
        """``actual − expected``, None when the actual figure is unknown."""
        return None if self.actual is None else self.actual - self.expected


@dataclass(frozen=True, slots=True)
class MemoChange:
    """A recent change of the card or the registration.

    Attributes:
        on: when.
        text: what (Japanese).
    """

    on: dt.date
    text: str


@dataclass(frozen=True, slots=True)
class Memo:
    """The memo's content, laid out by :func:`memo_text` or the PDF writer.

    Attributes:
        created_on: the day it was written.
        subject: one line saying what the inquiry is about.
        card: identifiers.
        trips: the trips concerned.
        figures: expected against actual.
        notes: explanations already found (reconciliation findings), Japanese.
        changes: recent card or address changes.
    """

    created_on: dt.date
    subject: str
    card: MemoCard
    trips: tuple[MemoTrip, ...]
    figures: tuple[MemoFigure, ...] = ()
    notes: tuple[str, ...] = ()
    changes: tuple[MemoChange, ...] = ()


def _amount(value: int, unit: MemoUnit) -> str:
    sign = "−" if value < 0 else ""
    return f"{sign}{abs(value):,}" + ("円" if unit == "yen" else "P")


def _signed(value: int, unit: MemoUnit) -> str:
    return ("+" if value > 0 else "") + _amount(value, unit)


def trip_sentence(trip: MemoTrip) -> str:
    """``7月3日7時、入口厚木→出口横浜町田、請求額930円`` — the form the desk's template asks for."""
    entry = trip.entry_ic or "（本線料金所）"
    return (
        f"{trip.exit_at.month}月{trip.exit_at.day}日{trip.exit_at.hour}時、"
        f"入口{entry}→出口{trip.exit_ic}、請求額{trip.billed:,}円"
    )


def trip_detail(trip: MemoTrip) -> str:
    """The precise facts after the sentence: exit time, toll, rebate, points, id."""
    parts = [f"出口 {trip.exit_at:%Y-%m-%d %H:%M}", f"通行料金 {trip.toll:,}円"]
    if trip.rebate_applied:
        parts.append(f"還元額充当 {trip.rebate_applied:,}円")
    if trip.points is not None:
        parts.append(f"期待ポイント {trip.points:,}P")
    parts.append(f"走行ID {trip.trip_id}")
    return "（" + "、".join(parts) + "）"


def identity_lines(card: MemoCard) -> list[str]:
    """The identifiers, one per line (absent ones are left out)."""
    lines = [f"カード末尾4桁: {card.last4}" + (f"（名義 {card.holder}）" if card.holder else "")]
    if card.mileage_id:
        lines.append(f"マイレージID: {card.mileage_id}")
    if card.login_id:
        lines.append(f"ETC利用照会サービスID: {card.login_id}")
    if card.obu_number:
        lines.append(f"車載器管理番号: {card.obu_number}")
    if card.plate:
        lines.append(f"車両番号: {card.plate}")
    return lines


def figure_line(figure: MemoFigure) -> str:
    """``ポイント（NEXCO）: 期待 1,234P ／ 実績 1,200P ／ 差 −34P``."""
    text = f"{figure.label}: 期待 {_amount(figure.expected, figure.unit)}"
    if figure.actual is None:
        return text + " ／ 実績 未確認"
    difference = figure.difference
    assert difference is not None
    return (
        text
        + f" ／ 実績 {_amount(figure.actual, figure.unit)} ／ 差 {_signed(difference, figure.unit)}"
    )


def memo_sections(memo: Memo) -> list[tuple[str, list[str]]]:
    """The memo as (heading, lines) sections, shared by the text and the PDF."""
    sections: list[tuple[str, list[str]]] = [("会員・カード", identity_lines(memo.card))]
    trips = sorted(memo.trips, key=lambda t: (t.exit_at, t.trip_id))
    lines = []
    for number, trip in enumerate(trips, 1):
        lines.append(f"{number}. {trip_sentence(trip)}")
        lines.append(f"   {trip_detail(trip)}")
    if trips:
        total = sum(t.billed for t in trips)
        lines.append(f"計 {len(trips)}件、請求額合計 {total:,}円")
    sections.append(("走行（請求額は還元額充当後）", lines or ["（走行の指定なし）"]))
    if memo.figures:
        sections.append(("期待と実績", [figure_line(f) for f in memo.figures]))
    if memo.notes:
        sections.append(("確認済みのこと", [f"・{note}" for note in memo.notes]))
    changes = [f"{c.on.year}年{c.on.month}月{c.on.day}日 {c.text}" for c in memo.changes]
    sections.append(("最近のカード・住所の変更", changes or ["なし"]))
    return sections


def memo_title(memo: Memo) -> str:
    """The memo's heading."""
    return "ETCマイレージ お問い合わせメモ"


def memo_text(memo: Memo) -> str:
    """The memo as plain text to copy (ends with a newline)."""
    day = memo.created_on
    out = [
        f"{memo_title(memo)}（{day.year}年{day.month}月{day.day}日作成）",
        f"用件: {memo.subject}",
    ]
    for heading, lines in memo_sections(memo):
        out.append("")
        out.append(f"■ {heading}")
        out.extend(lines)
    return "\n".join(out) + "\n"


def subject_for(trips: Sequence[MemoTrip], figures: Sequence[MemoFigure]) -> str:
    """A default subject: what differs, or the trips to check."""
    for figure in figures:
        difference = figure.difference
        if difference:
            return f"{figure.label}が期待と{_amount(abs(difference), figure.unit)}違います"
    if trips:
        return f"走行{len(trips)}件のポイント・請求の確認"
    return "ポイント・還元額の確認"
