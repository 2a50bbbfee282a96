"""Page 承認 (the accounts desk on a shared ledger): see :mod:`etcbook.ui.views.approvals`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.approvals import ApprovalsPage

    return ApprovalsPage(context)


PAGE = PageSpec(key="approvals", title="承認", order=65, factory=_make, roles=("accounts",))
