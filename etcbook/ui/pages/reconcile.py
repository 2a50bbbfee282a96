"""Page 月次照合: see :mod:`etcbook.ui.views.reconcile`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.reconcile import ReconcilePage

    return ReconcilePage(context)


PAGE = PageSpec(key="reconcile", title="月次照合", order=45, factory=_make)
