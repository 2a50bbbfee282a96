"""The Japanese font of every PDF: IPAexGothic, shipped by matplotlib-fontja, embedded as a subset.

The .ttf is located through the package's import spec, without importing matplotlib.
reportlab embeds TrueType fonts as subsets (only the glyphs used, as FontFile2 streams).
"""

from __future__ import annotations

import functools
from pathlib import Path

from etcbook.paths import FONT_PACKAGE, ipaexgothic_path

FONT_NAME = "IPAexGothic"
"""The name the font is registered under with reportlab."""

MONO_FONT = "Courier"
"""A standard PDF font for hex digests (ASCII only; needs no embedding)."""


class FontNotFound(RuntimeError):
    """IPAexGothic could not be found (is matplotlib-fontja installed?)."""


def ipaex_gothic_path() -> Path:
    """Path of ``ipaexg.ttf`` inside the installed matplotlib-fontja package."""
    path = ipaexgothic_path()
    if path is None:
        raise FontNotFound(
            f"ipaexg.ttf not found: is {FONT_PACKAGE} installed? It provides the font"
        )
    return path


@functools.cache
def register_japanese_font() -> str:
    """Register IPAexGothic with reportlab (once per process) and return its font name.

    The font has no bold or italic faces; the family maps them all to the regular face so
    ``<b>`` in a Paragraph does not fall back to a font without Japanese glyphs.
    """
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(ipaex_gothic_path())))
        for bold in (0, 1):
            for italic in (0, 1):
                addMapping(FONT_NAME, bold, italic, FONT_NAME)
    return FONT_NAME
