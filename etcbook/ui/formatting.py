"""How numbers and dates look in the window: ``12,345円``, ``1,200P``, ``2025/06/01``.

Formatting only: every figure shown was computed by the domain or read from the store.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QDateTime, Qt, QTime

AMOUNT_ALIGNMENT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
"""Alignment of every amount cell: right, so that digits line up."""

TEXT_ALIGNMENT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def number(value: int | None) -> str:
    """``1234567`` → ``1,234,567``; ``None`` → empty."""
    if value is None:
        return ""
    return f"{value:,}"


def yen(value: int | None) -> str:
    """``12345`` → ``12,345円``; negative amounts keep their sign: ``-1,050円``."""
    if value is None:
        return ""
    return f"{value:,}円"


def points(value: int | None) -> str:
    """``1200`` → ``1,200P``."""
    if value is None:
        return ""
    return f"{value:,}P"


def percent(value: int | None) -> str:
    """``80`` → ``80%``."""
    if value is None:
        return ""
    return f"{value}%"


def date(value: dt.date | dt.datetime | None) -> str:
    """``2025-06-01`` → ``2025/06/01``."""
    if value is None:
        return ""
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def date_time(value: dt.datetime | None) -> str:
    """``2025-06-01T07:05`` → ``2025/06/01 07:05``."""
    if value is None:
        return ""
    return f"{date(value)} {value.hour:02d}:{value.minute:02d}"


def month(value: dt.date | tuple[int, int] | None) -> str:
    """``2025-06`` → ``2025/06``."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        year, mon = value
    else:
        year, mon = value.year, value.month
    return f"{year:04d}/{mon:02d}"


WEEKDAYS_JA = ("月", "火", "水", "木", "金", "土", "日")


def date_with_weekday(value: dt.date) -> str:
    """``2025-06-20`` → ``2025/06/20（金）``."""
    return f"{date(value)}（{WEEKDAYS_JA[value.weekday()]}）"


def today_qdate() -> QDate:
    """Today in Japan as a QDate (QDate.currentDate() is the computer's own zone)."""
    from etcbook import clock

    day = clock.today()
    return QDate(day.year, day.month, day.day)


def now_qdatetime() -> QDateTime:
    """Now in Japan (to the minute) as a QDateTime, for editors' defaults."""
    from etcbook import clock

    now = clock.now()
    return QDateTime(QDate(now.year, now.month, now.day), QTime(now.hour, now.minute))


def card_digits(last4: str, label: str | None, *, shared: bool) -> str:
    """``6789（2号車）``: a card in a table's cell or a chart's row label, where room is short:
    its digits, with its 呼び名 when another card has the same digits (``shared``)."""
    return f"{last4}（{label}）" if shared and label else last4


def card_title(last4: str, label: str | None, holder: str | None) -> str:
    """``末尾 6789　2号車（山田）``: a card as a choice shows it. Cards of a fleet may share their
    last 4 digits; a second card with the same digits always has a 呼び名, which tells them apart."""
    name = f"{label}（{holder}）" if label and holder else (label or holder or "")
    return f"末尾 {last4}" + (f"　{name}" if name else "")
