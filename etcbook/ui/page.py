"""Base class of the main window's pages: refresh when the ledger changed, lazily."""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

from etcbook.ui.context import AppContext


class Page(QWidget):
    """A page that refreshes itself from the store.

    ``refresh()`` runs the first time the page is shown, and again after each "ledger
    changed" or change of the card filter (``context.card_filter``): at once when the page is visible, otherwise the next time it is shown, so that a
    hidden page costs nothing while the user imports or edits elsewhere.
    """

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._stale = True
        context.ledger_changed.connect(self._ledger_changed)
        context.card_filter.changed.connect(self._card_filter_changed)

    def refresh(self) -> None:
        """Reload what the page shows; subclasses override."""

    def mark_stale(self) -> None:
        """Refresh at the next show (or now, when visible)."""
        self._ledger_changed()

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        if self._stale and self.context.is_open:
            self._stale = False
            self.refresh()

    def _card_filter_changed(self) -> None:
        """The card filter selects other cards: refresh like after a change of the ledger."""
        self._ledger_changed()

    def _ledger_changed(self) -> None:
        if self.isVisible() and self.context.is_open:
            self._stale = False
            self.refresh()
        else:
            self._stale = True
