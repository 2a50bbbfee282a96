"""The claim as a PDF (経費精算書): A4 portrait, IPAexGothic embedded as a subset.

Contents, in order: title and seal boxes (承認者・申請者), the claimant block, the claimed total,
the trip table (its header row repeated on every page), totals, notes (rebate-paid amounts,
朝夕割 timing, exit-time dating), the basis of the excluded private part, and the attached
originals with their SHA-256. Every page carries "n / N" and the claim's name in its footer.

Text cells are wrapped by measuring glyph widths, so nothing is clipped; plain strings are
used rather than Paragraphs in the trip table, which keeps a 1,000-trip claim fast.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CellStyle,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from etcbook.domain.claims import Claim, ClaimLine, ClaimTotals, share_groups
from etcbook.domain.evidence import kind_label
from etcbook.export.fonts import MONO_FONT, register_japanese_font
from etcbook.safeio import write_bytes_atomically as atomic_write_bytes

PAGE_SIZE = A4
MARGIN_X = 12 * mm
MARGIN_TOP = 12 * mm
MARGIN_BOTTOM = 16 * mm
CONTENT_WIDTH = PAGE_SIZE[0] - 2 * MARGIN_X

TABLE_FONT_SIZE = 7.0
TABLE_PAD = 2.0

TRIP_COLUMNS: tuple[tuple[str, float], ...] = (
    ("利用日時（出口）", 68),
    ("区間（入口IC → 出口IC）", 114),
    ("道路事業者", 50),
    ("車両", 34),
    ("目的", 73),
    ("通行料金", 40),
    ("還元額\n充当", 36),
    ("請求額\n（差引後）", 40),
    ("業務\n割合", 30),
    ("精算額", 42),
)
"""Header label and width (pt) of each trip-table column; widths sum to the content width."""

NUMERIC_FROM = 5
"""Index of the first right-aligned (amount) column."""

HEADER_FILL = colors.HexColor("#dfe6ee")
STRIPE_FILL = colors.HexColor("#f4f6f8")
GRID = colors.HexColor("#7a8794")


def yen(amount: int) -> str:
    """``12,345`` (no unit): integer yen with thousands separators."""
    return f"{amount:,}"


def _date_jp(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


_NO_LINE_START = frozenset("）)」』】〕］]、。，．,.・ー々ゝゞぁぃぅぇぉっゃゅょァィゥェォッャュョ")
"""Characters that must not begin a line (行頭禁則)."""


class _Wrapper:
    """Greedy character wrapping of plain text to a width, with cached glyph widths."""

    def __init__(self, font: str, size: float) -> None:
        self.font = font
        self.size = size
        self._widths: dict[str, float] = {}
        self._wrapped: dict[tuple[str, float], str] = {}

    def width(self, text: str) -> float:
        total = 0.0
        widths = self._widths
        for char in text:
            w = widths.get(char)
            if w is None:
                w = widths[char] = stringWidth(char, self.font, self.size)
            total += w
        return total

    def lines(self, text: str, width: float) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (explicit newlines kept)."""
        out: list[str] = []
        for part in text.split("\n"):
            if self.width(part) <= width:
                out.append(part)
                continue
            current = ""
            used = 0.0
            for char in part:
                w = self.width(char)
                if current and used + w > width:
                    if char == " ":
                        out.append(current)
                        current, used = "", 0.0
                        continue
                    if char in _NO_LINE_START and len(current) > 1:
                        # 禁則: a closing bracket or mark never starts a line; take one
                        # character down with it.
                        out.append(current[:-1])
                        current = current[-1]
                        used = self.width(current)
                    else:
                        out.append(current)
                        current, used = "", 0.0
                current += char
                used += w
            out.append(current)
        return out

    def wrap(self, text: str, width: float) -> str:
        """``text`` wrapped to ``width``; repeated routes and purposes are wrapped once."""
        key = (text, width)
        wrapped = self._wrapped.get(key)
        if wrapped is None:
            wrapped = self._wrapped[key] = "\n".join(self.lines(text, width))
        return wrapped


def _route_cell(line: ClaimLine, wrapper: _Wrapper, width: float) -> str:
    """The route; when it does not fit, the break goes before the arrow first."""
    if wrapper.width(line.route) <= width or not line.entry_ic or line.charged_at_entry:
        return wrapper.wrap(line.route, width)
    return wrapper.wrap(f"{line.entry_ic}\n→ {line.exit_ic}", width)


def trip_rows(claim: Claim, wrapper: _Wrapper) -> list[list[str]]:
    """The trip table's rows as display strings (header row first), wrapped to their columns."""
    inner = [width - 2 * TABLE_PAD for _, width in TRIP_COLUMNS]
    rows = [[wrapper.wrap(label, inner[i]) for i, (label, _) in enumerate(TRIP_COLUMNS)]]
    for line in claim.lines:
        rows.append(
            [
                line.exit_at.strftime("%Y/%m/%d %H:%M"),
                _route_cell(line, wrapper, inner[1]),
                wrapper.wrap(line.operator, inner[2]),
                wrapper.wrap(line.vehicle, inner[3]),
                wrapper.wrap(line.purpose, inner[4]),
                yen(line.toll),
                yen(line.rebate_applied),
                yen(line.billed),
                f"{line.business_share}%",
                yen(line.claimed),
            ]
        )
    return rows


def _cell_style(name: str, font: str, alignment: Literal["LEFT", "CENTER", "RIGHT"]) -> CellStyle:
    style = CellStyle(name)
    style.fontname = font
    style.fontsize = TABLE_FONT_SIZE
    style.leading = TABLE_FONT_SIZE + 1.5
    style.leftPadding = style.rightPadding = TABLE_PAD
    style.topPadding = 1.5
    style.bottomPadding = 2.0
    style.alignment = alignment
    style.valign = "MIDDLE"
    return style


def trip_table(rows: list[list[str]], font: str) -> Table:
    """The styled trip table; its header row repeats on every page.

    Cell styles are built once and shared by every row (reportlab's ``cellStyles`` argument)
    instead of being applied by style commands cell by cell: on a 1,000-trip claim that is
    most of the table's set-up time. No cell-style command may be added to this table, as it
    would change the shared styles of all rows; line and background commands are fine.
    """
    text = _cell_style("trip-text", font, "LEFT")
    number = _cell_style("trip-number", font, "RIGHT")
    header = _cell_style("trip-header", font, "CENTER")
    body_row = [text] * NUMERIC_FROM + [number] * (len(TRIP_COLUMNS) - NUMERIC_FROM)
    cell_styles = [[header] * len(TRIP_COLUMNS)] + [body_row] * (len(rows) - 1)
    table = Table(
        rows,
        colWidths=[width for _, width in TRIP_COLUMNS],
        repeatRows=1,
        cellStyles=cell_styles,
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("GRID", (0, 0), (-1, -1), 0.35, GRID),
            ]
        )
    )
    return table


class _FontKeywords(TypedDict):
    """The ParagraphStyle keywords every style of the claim shares."""

    fontName: str
    bulletFontName: str
    wordWrap: str


class _Styles:
    def __init__(self, font: str) -> None:
        base: _FontKeywords = {"fontName": font, "bulletFontName": font, "wordWrap": "CJK"}
        self.title = ParagraphStyle("title", fontSize=18, leading=22, **base)
        self.subtitle = ParagraphStyle("subtitle", fontSize=9.5, leading=13, **base)
        self.heading = ParagraphStyle(
            "heading", fontSize=10.5, leading=14, spaceBefore=8, spaceAfter=3, **base
        )
        self.body = ParagraphStyle("body", fontSize=8.5, leading=12, **base)
        self.note = ParagraphStyle(
            "note", fontSize=8, leading=11.5, leftIndent=10, bulletIndent=0, **base
        )
        self.total = ParagraphStyle("total", fontSize=13, leading=17, **base)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _seal_boxes(font: str, claim: Claim | None = None) -> Table:
    """承認者 and 申請者 boxes for seals or signatures (approver left, applicant right); an
    approved claim shows its approver and the day in the 承認者 box."""
    box = 21 * mm
    approval = ""
    header = claim.header if claim is not None else None
    if header is not None and header.approved_by:
        wrapper = _Wrapper(font, 6.5)
        approval = wrapper.wrap(header.approved_by, box - 4)
        if header.approved_on is not None:
            approval += "\n" + header.approved_on.strftime("%Y/%m/%d") + "\n承認"
    table = Table(
        [["承認者", "申請者"], [approval, ""]], colWidths=[box, box], rowHeights=[6 * mm, box]
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8),
                ("FONT", (0, 1), (0, 1), font, 6.5),
                ("LEADING", (0, 1), (0, 1), 8),
                ("ALIGN", (0, 1), (0, 1), "CENTER"),
                ("VALIGN", (0, 1), (0, 1), "MIDDLE"),
                ("TEXTCOLOR", (0, 1), (0, 1), colors.HexColor("#b00000")),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
            ]
        )
    )
    return table


def _title_block(claim: Claim, styles: _Styles, font: str) -> Table:
    left = [
        Paragraph("経費精算書", styles.title),
        Paragraph("高速道路通行料金（ETC）", styles.subtitle),
    ]
    seals = _seal_boxes(font, claim)
    table = Table([[left, seals]], colWidths=[CONTENT_WIDTH - 44 * mm, 44 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _claimant_block(claim: Claim, styles: _Styles, font: str) -> Table:
    head = claim.header
    pairs: list[tuple[str, str]] = [
        ("申請者", head.claimant),
        ("所属", head.department),
        ("カード名義", head.holder),
        ("ETCカード", f"末尾 {head.card_last4}"),
    ]
    if head.mileage_id:
        pairs.append(("ETCマイレージID", head.mileage_id))
    pairs.append(("対象期間", f"{_date_jp(head.period_start)} ～ {_date_jp(head.period_end)}"))
    if head.prepared_on is not None:
        pairs.append(("作成日", _date_jp(head.prepared_on)))
    if len(pairs) % 2:
        pairs.append(("", ""))
    label_w, value_w = 30 * mm, CONTENT_WIDTH / 2 - 30 * mm
    rows = [
        [
            pairs[i][0],
            Paragraph(_escape(pairs[i][1]), styles.body),
            pairs[i + 1][0],
            Paragraph(_escape(pairs[i + 1][1]), styles.body),
        ]
        for i in range(0, len(pairs), 2)
    ]
    table = Table(rows, colWidths=[label_w, value_w, label_w, value_w])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8.5),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (0, -1), HEADER_FILL),
                ("BACKGROUND", (2, 0), (2, -1), HEADER_FILL),
                ("GRID", (0, 0), (-1, -1), 0.35, GRID),
            ]
        )
    )
    return table


def _totals_table(t: ClaimTotals, font: str) -> Table:
    rows = [
        ["件数", f"{t.trips:,} 件"],
        ["通行料金 合計", f"{yen(t.toll)} 円"],
        ["還元額充当 合計（カード請求なし）", f"{yen(t.rebate_applied)} 円"],
        ["請求額（差引後）合計", f"{yen(t.billed)} 円"],
        ["私用分（精算対象外）", f"{yen(t.private_excluded)} 円"],
        ["精算額 合計", f"{yen(t.claimed)} 円"],
    ]
    table = Table(rows, colWidths=[62 * mm, 34 * mm], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8.5),
                ("FONT", (0, -1), (-1, -1), font, 10.5),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("BACKGROUND", (0, 0), (0, -1), HEADER_FILL),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#fff4d6")),
                ("GRID", (0, 0), (-1, -1), 0.35, GRID),
                ("LINEABOVE", (0, -1), (-1, -1), 1.0, colors.black),
            ]
        )
    )
    return table


def notes_text(claim: Claim, totals: ClaimTotals | None = None) -> list[str]:
    """The 備考 lines: what the amounts are and why 朝夕割 is not in them."""
    t = claim.totals if totals is None else totals
    return [
        "金額は円単位の税込額です。「請求額（差引後）」は通行料金からETCマイレージの還元額で"
        "支払われた分（還元額充当）を差し引いた額で、カード会社から実際に請求される額（後納料金）です。",
        f"「還元額充当」（本精算書の合計 {yen(t.rebate_applied)} 円）はポイントを交換した還元額で"
        "支払われており、カード請求がないため精算額に含めていません。",
        "平日朝夕割引の還元は、走行した月の翌月20日に還元額として付与され、その日以降の走行に"
        "充当されます。本精算書の金額は付与前の請求額であり、朝夕割引の還元は翌月以降の"
        "還元額充当として現れます。",
        "利用日時は出口料金所の通過時刻です。日付や月をまたぐ走行は出口の日・月に計上しています。",
        *(
            [
                "「入口で課金」の走行（出口のない都市高速の料金）は、入口の通過時刻を利用日時としています。"
            ]
            if any(line.charged_at_entry for line in claim.lines)
            else []
        ),
        "精算額は走行ごとに「請求額（差引後）× 業務割合」を計算し、1円未満を切り捨てています。",
    ]


def private_use_text(claim: Claim, totals: ClaimTotals | None = None) -> list[str]:
    """The basis of the excluded private part, one line per business share."""
    lines: list[str] = []
    if claim.header.private_use_basis:
        lines.append(f"根拠：{claim.header.private_use_basis}")
    for group in share_groups(claim.lines):
        if group.business_share == 100:
            lines.append(
                f"業務割合 100% の走行 {group.trips:,} 件："
                f"請求額 {yen(group.billed)} 円を全額精算。"
            )
        else:
            lines.append(
                f"業務割合 {group.business_share}% の走行 {group.trips:,} 件："
                f"請求額 {yen(group.billed)} 円のうち {yen(group.claimed)} 円を精算し、"
                f"私用分 {yen(group.private_excluded)} 円を除外。"
            )
    excluded = (claim.totals if totals is None else totals).private_excluded
    lines.append(f"除外した私用分の合計：{yen(excluded)} 円。")
    return lines


def _attachments_table(claim: Claim, styles: _Styles, font: str) -> Table | Paragraph:
    if not claim.attachments:
        return Paragraph("添付書類はありません。", styles.body)
    widths = [8 * mm, 50 * mm, 24 * mm, 16 * mm, CONTENT_WIDTH - 98 * mm]
    wrapper = _Wrapper(font, 7.5)
    rows: list[list[Any]] = [["No.", "ファイル名", "種類", "サイズ", "SHA-256"]]
    for number, original in enumerate(claim.attachments, start=1):
        rows.append(
            [
                str(number),
                wrapper.wrap(original.file_name, widths[1] - 4),
                wrapper.wrap(kind_label(original.kind), widths[2] - 4),
                f"{original.size:,} B",
                original.sha256,
            ]
        )
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 7.5, 9.5),
                ("FONT", (4, 1), (4, -1), MONO_FONT, 6.3, 9.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (3, 1), (3, -1), "RIGHT"),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("GRID", (0, 0), (-1, -1), 0.35, GRID),
            ]
        )
    )
    return table


def _footer_label(claim: Claim) -> str:
    return f"{pdf_title(claim)} {claim.header.claimant}"


def _numbered_canvas(label: str, font: str) -> type[Canvas]:
    """A canvas that holds pages back until the end so each can print "n / N"."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held_pages.append(dict(self.__dict__))
            # reportlab's own page reset, which its stubs leave out.
            self._startPage()  # type: ignore[attr-defined]

        def save(self) -> None:
            total = len(self._held_pages)
            for number, state in enumerate(self._held_pages, start=1):
                self.__dict__.update(state)
                self._draw_footer(number, total)
                super().showPage()
            super().save()

        def _draw_footer(self, number: int, total: int) -> None:
            self.saveState()
            self.setFont(font, 7.5)
            self.setFillColor(colors.HexColor("#444444"))
            y = MARGIN_BOTTOM / 2
            self.drawString(MARGIN_X, y, label)
            self.drawRightString(PAGE_SIZE[0] - MARGIN_X, y, f"{number} / {total}")
            self.restoreState()

    return NumberedCanvas


def story_of(claim: Claim, font: str) -> list[Any]:
    """The flowables of the claim, in reading order."""
    styles = _Styles(font)
    t = claim.totals
    wrapper = _Wrapper(font, TABLE_FONT_SIZE)
    story: list[Any] = [
        _title_block(claim, styles, font),
        Spacer(1, 4 * mm),
        _claimant_block(claim, styles, font),
        Spacer(1, 4 * mm),
        Paragraph(
            f"精算金額 {yen(t.claimed)} 円"
            f"（走行 {t.trips:,} 件、請求額（差引後）{yen(t.billed)} 円）",
            styles.total,
        ),
        Paragraph("走行明細", styles.heading),
    ]
    if claim.lines:
        story.append(trip_table(trip_rows(claim, wrapper), font))
    else:
        story.append(Paragraph("対象期間に精算する走行はありません。", styles.body))
    story += [Spacer(1, 3 * mm), KeepTogether([_totals_table(t, font)])]
    story.append(
        KeepTogether(
            [
                Paragraph("備考", styles.heading),
                *(
                    Paragraph(_escape(text), styles.note, bulletText="・")
                    for text in notes_text(claim, t)
                ),
            ]
        )
    )
    story.append(
        KeepTogether(
            [
                Paragraph("私用分の除外について", styles.heading),
                *(
                    Paragraph(_escape(text), styles.note, bulletText="・")
                    for text in private_use_text(claim, t)
                ),
            ]
        )
    )
    story += [
        Paragraph("添付書類（電子原本）", styles.heading),
        Paragraph(
            "添付した電子原本の SHA-256 ハッシュ値です。"
            "同じ値が再計算できれば、ファイルが改変されていないことを確認できます。",
            styles.body,
        ),
        Spacer(1, 1.5 * mm),
        _attachments_table(claim, styles, font),
    ]
    return story


def pdf_title(claim: Claim) -> str:
    """The PDF's document title (metadata)."""
    return f"経費精算書 {claim.month_label} ETCカード末尾{claim.header.card_last4}"


def claim_pdf_bytes(claim: Claim) -> bytes:
    """Render the claim to PDF bytes."""
    font = register_japanese_font()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=pdf_title(claim),
        author=claim.header.claimant,
        subject="高速道路通行料金（ETC）の経費精算",
        creator="etcbook",
        keywords=["経費精算", "ETC", claim.month_label],  # joined with ", " by reportlab
        lang="ja-JP",
    )
    doc.build(story_of(claim, font), canvasmaker=_numbered_canvas(_footer_label(claim), font))
    return buffer.getvalue()


def write_claim_pdf(claim: Claim, path: Path | str) -> Path:
    """Write the claim PDF to ``path`` atomically; return the path."""
    return atomic_write_bytes(path, claim_pdf_bytes(claim))


__all__: Sequence[str] = (
    "claim_pdf_bytes",
    "notes_text",
    "private_use_text",
    "trip_rows",
    "write_claim_pdf",
    "yen",
)
