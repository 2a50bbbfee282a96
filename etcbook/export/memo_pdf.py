"""The inquiry memo (問い合わせメモ) as a one-page A4 PDF, IPAexGothic embedded as a subset.

The same sections as the text (:func:`etcbook.domain.memo.memo_sections`): identifiers, the
trips in the desk's "○月○日○時、入口××→出口△△、請求額□□円" form, expected against actual, what
was already found, recent changes. Long lines wrap; a long list flows onto further pages.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from etcbook.domain.memo import Memo, memo_sections, memo_title
from etcbook.export.fonts import register_japanese_font
from etcbook.export.pdfdoc import a4_pdf_bytes
from etcbook.safeio import write_bytes_atomically as atomic_write_bytes

MARGIN = 16 * mm


def memo_pdf_bytes(memo: Memo) -> bytes:
    """The memo as PDF bytes."""
    font = register_japanese_font()
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20, spaceAfter=2)
    meta = ParagraphStyle("meta", fontName=font, fontSize=9, leading=12, textColor=colors.grey)
    heading = ParagraphStyle(
        "heading",
        fontName=font,
        fontSize=11,
        leading=15,
        spaceBefore=8,
        spaceAfter=3,
        textColor=colors.HexColor("#1f3a5f"),
    )
    body = ParagraphStyle(
        "body", fontName=font, fontSize=9.5, leading=13.5, wordWrap="CJK", leftIndent=4
    )
    day = memo.created_on
    story = [
        Paragraph(escape(memo_title(memo)), title),
        Paragraph(escape(f"{day.year}年{day.month}月{day.day}日作成"), meta),
        Spacer(1, 4),
        Paragraph(escape(f"用件: {memo.subject}"), body),
    ]
    for name, lines in memo_sections(memo):
        story.append(Paragraph(escape(f"■ {name}"), heading))
        for line in lines:
            story.append(Paragraph(escape(line).replace("   ", "&nbsp;" * 6), body))
    return a4_pdf_bytes(story, margin=MARGIN, title=memo_title(memo), subject=memo.subject)


def write_memo_pdf(memo: Memo, path: Path) -> Path:
    """Write the memo PDF to ``path`` atomically; returns the path."""
    atomic_write_bytes(path, memo_pdf_bytes(memo))
    return path
