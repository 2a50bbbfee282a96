"""Page カード・ID台帳: see :mod:`etcbook.ui.views.cards`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.cards import CardsPage

    return CardsPage(context)


PAGE = PageSpec(key="cards", title="カード・ID台帳", order=30, factory=_make)
