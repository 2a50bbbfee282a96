"""Page 経費精算: see :mod:`etcbook.ui.views.claims`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.claims import ClaimsPage

    return ClaimsPage(context)


PAGE = PageSpec(key="claims", title="経費精算", order=60, factory=_make)
