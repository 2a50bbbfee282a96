"""ポイント・還元額."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from etcbook.ui.context import AppContext
from etcbook.ui.page import Page


class PointsPage(Page):
    """ポイント・還元額 (built in phase 2, over the store and the engine)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("ポイント・還元額"))
