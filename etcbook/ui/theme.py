"""Light or dark, as the system says; colours that pages and charts derive from the palette."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def system_prefers_dark() -> bool:
    """``True`` when the platform reports a dark colour scheme."""
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def palette_is_dark(palette: QPalette) -> bool:
    """``True`` when the palette's window colour is dark (whatever the platform claims)."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    """A dark palette for styles that do not provide one themselves (Fusion on bare Linux)."""
    palette = QPalette()
    window = QColor(37, 37, 38)
    base = QColor(30, 30, 30)
    text = QColor(230, 230, 230)
    disabled = QColor(128, 128, 128)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(45, 45, 48),
        QPalette.ColorRole.ToolTipBase: QColor(60, 60, 60),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(51, 51, 55),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Light: QColor(70, 70, 74),
        QPalette.ColorRole.Midlight: QColor(60, 60, 64),
        QPalette.ColorRole.Mid: QColor(45, 45, 48),
        QPalette.ColorRole.Dark: QColor(25, 25, 26),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
        QPalette.ColorRole.Highlight: QColor(38, 110, 190),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(100, 170, 255),
        QPalette.ColorRole.LinkVisited: QColor(170, 140, 255),
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


LIGHT_ONLY_STYLES = frozenset({"windowsvista", "windows"})
"""Styles that draw buttons with the system's light colours whatever the palette (Windows 10):
in dark mode they give light text on light buttons, so Fusion is used instead."""


def apply_system_palette(app: QApplication) -> None:
    """Follow the system's light or dark scheme, now and when it changes.

    Native styles (Windows 11, macOS, a themed Linux desktop) already switch their palette; only
    when the platform says "dark" and the style still gives a light palette is a dark palette
    set. Going back to light restores the style's own palette.
    """

    def follow() -> None:
        if system_prefers_dark():
            standard = app.style().standardPalette()
            if not palette_is_dark(app.palette()) and not palette_is_dark(standard):
                if app.style().name().lower() in LIGHT_ONLY_STYLES:
                    app.setStyle("Fusion")
                app.setPalette(dark_palette())
        elif palette_is_dark(app.palette()):
            app.setPalette(app.style().standardPalette())

    follow()
    QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: follow())


def alert_colours(palette: QPalette) -> dict[str, QColor]:
    """Background colours for alert levels that read well on the palette (light or dark)."""
    if palette_is_dark(palette):
        return {
            "danger": QColor(110, 35, 35),
            "warning": QColor(105, 80, 20),
            "info": QColor(30, 60, 100),
        }
    return {
        "danger": QColor(253, 226, 226),
        "warning": QColor(255, 243, 205),
        "info": QColor(222, 235, 252),
    }
