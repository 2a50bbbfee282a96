"""The card filter every page honours: 名義, 利用者, 部署 (one object per open store).

:class:`CardFilter` lives in the :class:`~etcbook.ui.context.AppContext`; the window shows its
bar (:class:`CardFilterBar`) above the pages. Pages never filter cards by themselves: they ask
:meth:`CardFilter.allows` or :attr:`CardFilter.cards` (``None`` while nothing is filtered), and
:class:`~etcbook.ui.page.Page` refreshes them when the filter changes. Which cards a criterion
selects is :func:`etcbook.domain.fleet.select_cards`; the cards' facets come from
:func:`etcbook.models.ui_queries.card_facets`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from etcbook.domain.fleet import CardCriteria, CardFacet

# etcbook.domain.fleet is imported where it is used: the filter is made before the window is
# shown, its rules are needed once the store's cards are known.

T = TypeVar("T")

FACET_LABELS = {"holder": "名義", "driver": "利用者", "department": "部署"}
BAR_FROM_CARDS = 4
"""The bar is shown from this many cards on (or while a filter is set)."""


class CardFilter(QObject):
    """Which cards the pages show. ``changed`` is emitted when the selection changes."""

    changed = Signal()
    facets_loaded = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._criteria: CardCriteria | None = None
        """``None`` until a criterion is first set: nothing filtered."""
        self._facets: tuple[CardFacet, ...] = ()
        self._by_card: dict[str, CardFacet] = {}
        self._cards: tuple[str, ...] | None = None

    @property
    def criteria(self) -> CardCriteria:
        from etcbook.domain.fleet import CardCriteria

        return self._criteria if self._criteria is not None else CardCriteria()

    @property
    def facets(self) -> tuple[CardFacet, ...]:
        """Every card of the store with its 名義, 利用者 and 部署."""
        return self._facets

    @property
    def cards(self) -> tuple[str, ...] | None:
        """The last-4s selected, or ``None`` when the filter selects every card."""
        return self._cards

    @property
    def active(self) -> bool:
        return self._cards is not None

    def query_cards(self) -> tuple[str, ...]:
        """The cards for a query's ``cards`` (empty = every card): when the filter selects no
        card at all, a last-4 no card has (``""``), so that the query matches nothing."""
        if self._cards is None:
            return ()
        return self._cards or ("",)

    def allows(self, last4: str) -> bool:
        return self._cards is None or last4 in self._cards

    def narrow(self, items: Iterable[T], last4: Callable[[T], str]) -> list[T]:
        """The items whose card the filter selects (``last4`` reads an item's card)."""
        return [item for item in items if self.allows(last4(item))]

    def facet(self, last4: str) -> CardFacet:
        """The card's facets (blank ones for a card the filter has not loaded)."""
        from etcbook.domain.fleet import CardFacet

        return self._by_card.get(last4) or CardFacet(last4)

    def set_criteria(self, criteria: CardCriteria) -> None:
        if criteria == self.criteria:
            return
        self._criteria = criteria
        self._select()

    def clear(self) -> None:
        from etcbook.domain.fleet import CardCriteria

        self.set_criteria(CardCriteria())

    def load(self, connection: Connection) -> None:
        """Read the cards' facets again (the store changed); emit ``changed`` if the selection did."""
        from etcbook.models.ui_queries import card_facets

        self.set_facets(card_facets(connection=connection))

    def set_facets(self, facets: Iterable[CardFacet]) -> None:
        """Take ``facets`` as every card of the store (read by :meth:`load`, or before the store
        opened); emit ``changed`` if the selection changed."""
        self._facets = tuple(facets)
        self._by_card = {facet.last4: facet for facet in self._facets}
        self.facets_loaded.emit()
        self._select()

    def _select(self) -> None:
        from etcbook.domain.fleet import select_cards

        criteria = self._criteria
        cards = select_cards(self._facets, criteria) if criteria and criteria.active else None
        if cards != self._cards:
            self._cards = cards
            self.changed.emit()


class CardFilterBar(QWidget):
    """「カードの絞り込み」: a choice per facet, how many cards are shown, and 解除."""

    def __init__(self, card_filter: CardFilter, parent: QWidget | None = None) -> None:
        from etcbook.domain.fleet import FACET_FIELDS

        super().__init__(parent)
        self.setObjectName("cardFilterBar")
        self.card_filter = card_filter
        self.combos: dict[str, QComboBox] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.addWidget(QLabel("カードの絞り込み"))
        for name in FACET_FIELDS:
            combo = QComboBox()
            combo.setObjectName(f"cardFilter_{name}")
            combo.setMinimumContentsLength(8)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.currentIndexChanged.connect(self._chosen)
            layout.addWidget(QLabel(FACET_LABELS[name]))
            layout.addWidget(combo, 1)
            self.combos[name] = combo
        self.count_label = QLabel()
        self.clear_button = QPushButton("解除")
        self.clear_button.setToolTip("すべてのカードを表示します")
        self.clear_button.clicked.connect(card_filter.clear)
        layout.addWidget(self.count_label)
        layout.addWidget(self.clear_button)
        layout.addStretch(0)
        card_filter.facets_loaded.connect(self._fill)
        card_filter.changed.connect(self._fill)
        self._fill()

    def _fill(self) -> None:
        from etcbook.domain.fleet import UNSET, blank_count, facet_values

        facets = self.card_filter.facets
        criteria = self.card_filter.criteria
        for name, combo in self.combos.items():
            with QSignalBlocker(combo):
                combo.clear()
                combo.addItem("すべて", None)
                for value, count in facet_values(facets, name):
                    combo.addItem(f"{value}（{count}枚）", value)
                blanks = blank_count(facets, name)
                if blanks:
                    combo.addItem(f"（未入力）（{blanks}枚）", UNSET)
                combo.setCurrentIndex(max(0, combo.findData(getattr(criteria, name))))
        shown = len(self.card_filter.cards or facets)
        self.count_label.setText(f"{len(facets)}枚中 {shown}枚を表示")
        self.clear_button.setEnabled(self.card_filter.active or criteria.active)
        self.setVisible(len(facets) >= BAR_FROM_CARDS or criteria.active)

    def _chosen(self, *_args: object) -> None:
        from etcbook.domain.fleet import CardCriteria

        values = {name: combo.currentData() for name, combo in self.combos.items()}
        self.card_filter.set_criteria(CardCriteria(**values))
