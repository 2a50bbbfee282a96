"""Page 証憑: see :mod:`etcbook.ui.views.evidence`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.ui.pages import PageSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from etcbook.ui.context import AppContext


def _make(context: AppContext) -> QWidget:
    from etcbook.ui.views.evidence import EvidencePage

    return EvidencePage(context)


PAGE = PageSpec(key="evidence", title="証憑", order=50, factory=_make)
