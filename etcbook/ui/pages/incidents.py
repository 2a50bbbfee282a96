"""Page 紛失・トラブル: see :mod:`etcbook.ui.views.incidents`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.incidents import IncidentsPage

    return IncidentsPage(context)


PAGE = PageSpec(key="incidents", title="紛失・トラブル", order=47, factory=_make)
