"""The card filter every page honours: 名義, 利用者, 部署 (one object per open store).

:class:`CardFilter` lives in the :class:`~etcbook.ui.context.AppContext`; the window shows its
bar (:class:`CardFilterBar`) above the pages. Pages never filter cards by themselves: they ask
:meth:`CardFilter.allows` or :attr:`CardFilter.cards` (``None`` while nothing is filtered), by
card id wherever they have it (cards of a fleet may share their last 4 digits), and
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

CardKey = str | int
"""A card as pages name it to the filter: its id, or its last 4 digits (a
:class:`~etcbook.models.card_name.CardName` carrying its id counts as the id)."""


def _card_id(card: CardKey) -> int | None:
    if isinstance(card, int):
        return card
    return getattr(card, "id", None)


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
        self._by_id: dict[int, CardFacet] = {}
        self._cards: tuple[str, ...] | None = None
        self._ids: frozenset[int] | None = None

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
        """The last-4s selected, or ``None`` when the filter selects every card. Digits two
        cards share are here when either is selected: pages that know a card's id ask by id."""
        return self._cards

    @property
    def card_ids(self) -> frozenset[int] | None:
        """The ids of the cards selected, or ``None`` when the filter selects every card."""
        return self._ids

    @property
    def active(self) -> bool:
        return self._cards is not None

    def query_card_ids(self) -> tuple[int, ...]:
        """The cards for a query by id (empty = every card): when the filter selects no card
        at all, an id no card has (0), so that the query matches nothing."""
        if self._ids is None:
            return ()
        return tuple(sorted(self._ids)) or (0,)

    def allows(self, card: CardKey) -> bool:
        """Whether the filter selects the card: by id when ``card`` is or carries one, else by
        its last 4 digits."""
        if self._cards is None:
            return True
        card_id = _card_id(card)
        if card_id is not None and self._ids is not None and card_id in self._by_id:
            return card_id in self._ids
        return card in self._cards

    def narrow(self, items: Iterable[T], card: Callable[[T], CardKey]) -> list[T]:
        """The items whose card the filter selects (``card`` reads an item's card: its id, or
        its last 4 digits)."""
        return [item for item in items if self.allows(card(item))]

    def facet(self, card: CardKey) -> CardFacet:
        """The card's facets (blank ones for a card the filter has not loaded)."""
        from etcbook.domain.fleet import CardFacet

        card_id = _card_id(card)
        found = self._by_id.get(card_id) if card_id is not None else None
        if found is None and isinstance(card, str):
            found = self._by_card.get(card)
        return found or CardFacet(str(card) if isinstance(card, str) else "")

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
        self._by_id = {f.card_id: f for f in self._facets if f.card_id is not None}
        self.facets_loaded.emit()
        self._select()

    def _select(self) -> None:
        from etcbook.domain.fleet import select_card_ids, select_cards

        criteria = self._criteria
        if criteria and criteria.active:
            cards: tuple[str, ...] | None = select_cards(self._facets, criteria)
            ids: frozenset[int] | None = select_card_ids(self._facets, criteria)
        else:
            cards = ids = None
        if (cards, ids) != (self._cards, self._ids):
            self._cards, self._ids = cards, ids
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
        chosen = self.card_filter.cards
        shown = (
            len(facets)
            if chosen is None
            else sum(1 for facet in facets if self.card_filter.allows(facet.card_id or facet.last4))
        )
        self.count_label.setText(f"{len(facets)}枚中 {shown}枚を表示")
        self.clear_button.setEnabled(self.card_filter.active or criteria.active)
        self.setVisible(len(facets) >= BAR_FROM_CARDS or criteria.active)

    def _chosen(self, *_args: object) -> None:
        from etcbook.domain.fleet import CardCriteria

        values = {name: combo.currentData() for name, combo in self.combos.items()}
        self.card_filter.set_criteria(CardCriteria(**values))
