"""The IPAexGothic font shipped in matplotlib-fontja, registered with Qt.

Without it, a machine with no Japanese system font (this one, many minimal Linux installs)
shows every Japanese character as an empty box. The file is found through
:func:`etcbook.paths.ipaexgothic_path`, without importing matplotlib at start-up.
"""

from __future__ import annotations

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


def apply_application_font(app: QApplication) -> str | None:
    """Make IPAexGothic the application font, keeping the platform's point size."""
    family = register_japanese_font()
    if family is None:
        return None
    font = QFont(app.font())
    font.setFamilies([family])
    app.setFont(font)
    return family


def monospace_digits_font(base: QFont) -> QFont:
    """``base`` with tabular (fixed-width) figures, so that amounts line up in columns."""
    font = QFont(base)
    font.setFeature(QFont.Tag("tnum"), 1)
    return font
