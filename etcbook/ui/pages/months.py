"""Page 月締め (the accounts desk on a shared ledger): see :mod:`etcbook.ui.views.months`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.months import MonthsPage

    return MonthsPage(context)


PAGE = PageSpec(key="months", title="月締め", order=66, factory=_make, roles=("accounts",))
