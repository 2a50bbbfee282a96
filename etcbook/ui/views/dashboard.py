"""ダッシュボード."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from etcbook.ui.context import AppContext
from etcbook.ui.page import Page


class DashboardPage(Page):
    """ダッシュボード (built in phase 2, over the store and the engine)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("ダッシュボード"))
