"""Page ダッシュボード: see :mod:`etcbook.ui.views.dashboard`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.dashboard import DashboardPage

    return DashboardPage(context)


def _first_look(path: Path) -> object | None:
    from etcbook.ui.views.dashboard import first_look

    return first_look(path)


PAGE = PageSpec(
    key="dashboard", title="ダッシュボード", order=10, factory=_make, first_look=_first_look
)
