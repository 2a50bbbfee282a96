"""Originals for the sample store: a card statement (請求書) and an ETC usage certificate
(利用証明書) of one card and month, each a PDF stamped 「サンプル」 on every page.

They stand in for the PDFs a user downloads from the card company and from ETC利用照会サービス,
so that the sample's 証憑 page, its missing-months view and its claim bundles show what kept
originals look like. The layout is etcbook's own; it copies neither site's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from etcbook.domain.calendar import add_months
from etcbook.export.fonts import register_japanese_font
from etcbook.export.pdfdoc import a4_pdf_bytes

MARGIN = 18 * mm
STAMP = "サンプル"
SITE = "ETC利用照会サービス"
COLUMNS = (("利用日時（出口）", 38 * mm), ("入口", 42 * mm), ("出口", 42 * mm), ("金額", 30 * mm))


@dataclass(frozen=True, slots=True)
class SampleLine:
    """One trip as a statement or certificate lists it.

    Attributes:
        exit_at: exit time.
        entry_ic: entry IC, empty for a single mainline gate.
        exit_ic: exit IC.
        amount: yen shown for the trip (billed on a statement, the toll on a certificate).
    """

    exit_at: dt.datetime
    entry_ic: str
    exit_ic: str
    amount: int


def statement_pdf_bytes(
    *, card_last4: str, holder: str, issuer: str, month: dt.date, lines: Sequence[SampleLine]
) -> bytes:
    """The card company's statement of ``month``'s ETC use (amounts as billed)."""
    billed_on = statement_date(month)
    return _document(
        title="ETCカード ご利用代金明細書",
        facts=[
            f"発行: {issuer}",
            f"カード: ＥＴＣカード（末尾{card_last4}）　会員名: {holder} 様",
            f"ご利用月: {month.year}年{month.month}月　お支払日: {_day(billed_on)}",
        ],
        lines=lines,
        total_label="ETCご利用合計",
    )


def certificate_pdf_bytes(
    *, card_last4: str, holder: str, month: dt.date, lines: Sequence[SampleLine]
) -> bytes:
    """ETC利用照会サービス's usage certificate of ``month`` (通行料金 per trip)."""
    issued_on = certificate_date(month)
    return _document(
        title="ETCカード利用証明書",
        facts=[
            f"発行: {SITE}",
            f"カード: ＥＴＣカード（末尾{card_last4}）　名義: {holder}",
            f"対象期間: {month.year}年{month.month}月1日〜{_day(add_months(month, 1) - dt.timedelta(days=1))}"
            f"　発行日: {_day(issued_on)}",
            "上記の期間に、下記のとおり有料道路をETCで利用したことを証明します。",
        ],
        lines=lines,
        total_label="通行料金合計",
    )


def _document(
    *, title: str, facts: list[str], lines: Sequence[SampleLine], total_label: str
) -> bytes:
    font = register_japanese_font()
    heading = ParagraphStyle("title", fontName=font, fontSize=16, leading=21, spaceAfter=6)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    total = sum(line.amount for line in lines)
    rows: list[list[Any]] = [[name for name, _ in COLUMNS]]
    for line in sorted(lines, key=lambda line: line.exit_at):
        rows.append(
            [
                line.exit_at.strftime("%Y/%m/%d %H:%M"),
                line.entry_ic or "（本線料金所）",
                line.exit_ic,
                f"{line.amount:,}円",
            ]
        )
    rows.append(["", "", total_label, f"{total:,}円"])
    table = Table(rows, colWidths=[width for _, width in COLUMNS], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8.5),
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                ("ALIGN", (2, -1), (2, -1), "RIGHT"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e9f0")),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
                ("GRID", (0, 0), (-1, -2), 0.3, colors.HexColor("#9aa5b1")),
            ]
        )
    )
    story: list[Flowable] = [Paragraph(title, heading)]
    story += [Paragraph(fact, body) for fact in facts]
    story += [Spacer(1, 5 * mm), table]

    def stamp(canvas: Any, _document: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(colors.HexColor("#c62828"))
        canvas.setStrokeColor(colors.HexColor("#c62828"))
        canvas.setFont(font, 13)
        width, height = A4
        canvas.roundRect(width - MARGIN - 30 * mm, height - MARGIN - 9 * mm, 30 * mm, 9 * mm, 2)
        canvas.drawCentredString(width - MARGIN - 15 * mm, height - MARGIN - 6.5 * mm, STAMP)
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(
            MARGIN, MARGIN / 2, "etcbook のサンプルデータです。実在の明細・証明書ではありません。"
        )
        canvas.restoreState()

    return a4_pdf_bytes(
        story,
        margin=MARGIN,
        title=f"{title}（{STAMP}）",
        decorate=stamp,
        # A fixed creation date: the same sample gives the same bytes (and vault hashes).
        invariant=True,
    )


def statement_date(month: dt.date) -> dt.date:
    """The payment day printed on ``month``'s statement: the 10th of the next month."""
    return add_months(month, 1).replace(day=10)


def certificate_date(month: dt.date) -> dt.date:
    """The issue day printed on ``month``'s certificate: the 5th of the next month."""
    return add_months(month, 1).replace(day=5)


def _day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
