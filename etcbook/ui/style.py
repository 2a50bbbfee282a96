"""A few touches of style on top of the platform's: navigation spacing, list padding."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QSizePolicy

STYLE_SHEET = """
QListWidget#navigation { padding-top: 6px; }
QListWidget#navigation::item { padding: 4px 14px; }
QListWidget#alerts::item { padding: 4px 0px; }
QTreeView#cardsTree::item { padding: 3px 2px; }
QListWidget#planExplanation::item { padding: 4px 0px; }
"""
"""Applied to the main window (not the application, so dialogs keep the native look).

No side padding on items of word-wrapped lists: Qt wraps their text to the full item width,
so side padding would cut (elide) a line that just fits; the lists set a spacing instead."""


def never_cut(combo: QComboBox) -> None:
    """As wide as its longest choice, and never squeezed narrower by the layout."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
