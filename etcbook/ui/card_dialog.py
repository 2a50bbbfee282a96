"""Add or edit a card, with validation as you type."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QWidget

from etcbook.ui.context import AppContext


class CardDialog(QDialog):
    """カードの登録・編集."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("カードを登録")
