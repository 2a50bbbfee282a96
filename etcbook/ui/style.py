"""A few touches of style on top of the platform's: navigation spacing, list padding."""

from __future__ import annotations

STYLE_SHEET = """
QListWidget#navigation { padding-top: 6px; }
QListWidget#navigation::item { padding: 4px 14px; }
QListWidget#alerts::item { padding: 4px 6px; }
QTreeView#cardsTree::item { padding: 3px 2px; }
QListWidget#planExplanation::item { padding: 4px 4px; }
"""
"""Applied to the main window (not the application, so dialogs keep the native look)."""
