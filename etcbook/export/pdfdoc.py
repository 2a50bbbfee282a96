"""A4 documents of one flowing story (the memo, the sample originals): reportlab set-up shared.

The claim PDF has its own margins and a numbering canvas, so it builds its document itself.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.platypus import Flowable, SimpleDocTemplate

PageDecorator = Callable[[Any, Any], None]
"""Draws on each page's canvas: ``decorate(canvas, document)``."""


def a4_pdf_bytes(
    story: Sequence[Flowable],
    *,
    margin: float,
    title: str,
    decorate: PageDecorator | None = None,
    **info: Any,
) -> bytes:
    """``story`` laid out on A4 with ``margin`` on every side, as PDF bytes.

    ``decorate`` draws on every page (a stamp, a footer); ``info`` goes to the document's
    metadata (``subject``, ``invariant`` …). The author is etcbook.
    """
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author="etcbook",
        **info,
    )
    if decorate is None:
        document.build(list(story))
    else:
        document.build(list(story), onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
