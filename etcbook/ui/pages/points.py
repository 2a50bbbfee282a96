"""Page ポイント・還元額: see :mod:`etcbook.ui.views.points`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.points import PointsPage

    return PointsPage(context)


PAGE = PageSpec(key="points", title="ポイント・還元額", order=40, factory=_make)
