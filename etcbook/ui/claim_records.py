"""How the window shows workflow claims (:class:`etcbook.models.workflow.ClaimRecord`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QColor

from etcbook.ui.tables import Column

if TYPE_CHECKING:
    from etcbook.models.workflow import ClaimRecord

STATUS_LABELS = {
    "submitted": "提出済み",
    "approved": "承認済み",
    "returned": "差し戻し",
    "withdrawn": "再提出済み",
}
"""The claim's status in words; ``withdrawn`` is a returned claim replaced by a new one."""

_STATUS_COLOURS = {
    "approved": QColor("#e3f4e1"),
    "returned": QColor("#fde8e4"),
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def _period(record: ClaimRecord) -> str:
    return f"{record.date_from:%Y/%m/%d}～{record.date_to:%Y/%m/%d}"


def _decided(record: ClaimRecord) -> str:
    if record.decided_at is None:
        return ""
    return f"{record.decided_by or ''} {record.decided_at:%Y/%m/%d %H:%M}".strip()


def claim_columns(*, desk: bool) -> list[Column[ClaimRecord]]:
    """The columns of a claims table: the desk's queue (who, which department) or a driver's
    own claims (the desk's comment and decision)."""
    colour = lambda r: _STATUS_COLOURS.get(r.status)  # noqa: E731
    first: list[Column[ClaimRecord]] = [
        Column("番号", lambda r: r.id, "int", colour=colour),
        Column("状態", lambda r: status_label(r.status), colour=colour),
    ]
    if desk:  # who and how much first: the desk's list is narrowed by the PDF beside it
        first += [
            Column("申請者", lambda r: r.driver),
            Column("部署", lambda r: r.department),
            Column("精算額", lambda r: r.total, "yen"),
        ]
    return [
        *first,
        Column("カード", lambda r: f"末尾 {r.card}"),
        Column("期間", _period),
        *([] if desk else [Column("精算額", lambda r: r.total, "yen")]),
        Column("提出日時", lambda r: r.submitted_at, "datetime"),
        Column("判断（担当・日時）", _decided),
        Column("経理のコメント", lambda r: r.comment, tooltip=lambda r: r.comment or None),
    ]
