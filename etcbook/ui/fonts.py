"""The IPAexGothic font shipped in matplotlib-fontja, registered with Qt.

Without it, a machine with no Japanese system font (this one, many minimal Linux installs)
shows every Japanese character as an empty box. The file is found through
:func:`etcbook.paths.ipaexgothic_path`, without importing matplotlib at start-up.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from etcbook.paths import ipaexgothic_path

FONT_FAMILY = "IPAexGothic"
"""Family name Qt reports for ``ipaexg.ttf``."""

_registered_family: str | None = None


def register_japanese_font() -> str | None:
    """Register IPAexGothic with Qt once; return its family name, or ``None`` if unavailable."""
    global _registered_family  # registration is process-wide in Qt itself
    if _registered_family is not None:
        return _registered_family
    path = ipaexgothic_path()
    if path is None:
        return None
    font_id = QFontDatabase.addApplicationFont(str(path))
    if font_id < 0:
        return None
    families = QFontDatabase.applicationFontFamilies(font_id)
    _registered_family = families[0] if families else FONT_FAMILY
    return _registered_family


SYSTEM_UI_FAMILIES = ("Yu Gothic UI", "Meiryo UI", "Hiragino Sans", "ヒラギノ角ゴシック")
"""Japanese UI fonts of Windows and macOS, hinted for the screen; preferred where present."""


def system_ui_family(available: list[str], platform: str = sys.platform) -> str | None:
    """The Japanese UI font of Windows or macOS among ``available`` families, else None.

    Elsewhere (Linux) IPAexGothic is used, as it is for PDFs and charts on every system.
    """
    if platform not in ("win32", "darwin"):
        return None
    return next((family for family in SYSTEM_UI_FAMILIES if family in available), None)


def apply_application_font(app: QApplication) -> str | None:
    """Make the window's font Japanese, keeping the platform's point size.

    Windows and macOS use their own Japanese UI font (Yu Gothic UI, Meiryo UI, Hiragino Sans)
    with IPAexGothic behind it; other systems use IPAexGothic. Returns the first family.
    """
    family = register_japanese_font()
    system = system_ui_family(QFontDatabase.families())
    families = [f for f in (system, family) if f is not None]
    if not families:
        return None
    font = QFont(app.font())
    font.setFamilies(families)
    app.setFont(font)
    return families[0]


def monospace_digits_font(base: QFont) -> QFont:
    """``base`` with tabular (fixed-width) figures, so that amounts line up in columns."""
    font = QFont(base)
    font.setFeature(QFont.Tag("tnum"), 1)
    return font
