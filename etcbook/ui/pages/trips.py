"""Page 走行明細: see :mod:`etcbook.ui.views.trips`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.trips import TripsPage

    return TripsPage(context)


PAGE = PageSpec(key="trips", title="走行明細", order=20, factory=_make)
