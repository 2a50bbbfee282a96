"""カード・ID台帳: the cards, grouped by household or company, with their IDs and status."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from etcbook.models.card_name import CardName
from etcbook.ui import formatting
from etcbook.ui.card_dialog import CardDialog, status_label
from etcbook.ui.context import AppContext
from etcbook.ui.ledger_dialogs import CommutePassDialog, StopDialog, TripDialog
from etcbook.ui.page import Page
from etcbook.ui.theme import alert_colours

if TYPE_CHECKING:
    from etcbook.ui.card_fill_dialog import CardFillDialog

CARD_ROLE = Qt.ItemDataRole.UserRole + 10
CARD_ID_ROLE = Qt.ItemDataRole.UserRole + 11
"""The card's id beside its last 4 digits (CARD_ROLE): cards of a fleet may share the digits."""
"""The last 4 digits of the card a row shows (group rows: None)."""

HEADERS = (
    "カード",
    "名義",
    "利用者",
    "部署",
    "種別",
    "有効期限",
    "状態",
    "自動還元",
    "マイレージID",
    "ETC利用照会ID",
    "最終ログイン",
    "ID自動解約予定",
    "車載器管理番号",
    "車両番号",
)


def _masked_obu(number: str | None) -> str:
    if not number:
        return ""
    return f"{number[:4]}-…-{number[-4:]}"


class CardsModel(QStandardItemModel):
    """Cards under their group (世帯 or 法人), one row per card."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setHorizontalHeaderLabels(list(HEADERS))

    def fill(self, cards: list[Any], today: dt.date, colours: dict[str, QColor]) -> None:
        from etcbook.domain.cards import CARD_KIND_LABELS
        from etcbook.domain.reminders import (
            CARD_EXPIRY_DAYS,
            LOGIN_CANCEL_DAYS,
            LOGIN_WARNING_DAYS,
            URGENT_DAYS,
            card_expiry_date,
        )

        self.removeRows(0, self.rowCount())
        groups: dict[str, list[Any]] = {}
        for card in cards:
            groups.setdefault(card.household or card.holder or "（グループ未設定）", []).append(
                card
            )
        for name, members in groups.items():
            corporate = any(card.kind == "corporate" for card in members)
            group = QStandardItem(f"{name}（{'法人' if corporate else '世帯'}・{len(members)}枚）")
            group.setEditable(False)
            font = group.font()
            font.setBold(True)
            group.setFont(font)
            filler = [QStandardItem("") for _ in HEADERS[1:]]
            for item in filler:
                item.setEditable(False)
            self.appendRow([group, *filler])
            for card in members:
                expiry = ""
                expiry_colour = None
                if card.expires:
                    until = card_expiry_date(card.expires)
                    expiry = f"{card.expires.replace('-', '/')}"
                    left = (until - today).days
                    if left <= URGENT_DAYS:
                        expiry_colour = colours["danger"]
                    elif left <= CARD_EXPIRY_DAYS:
                        expiry_colour = colours["warning"]
                lapse = ""
                lapse_tip = ""
                lapse_colour = None
                if card.last_login_on:
                    lapse_day = card.last_login_on + dt.timedelta(days=LOGIN_CANCEL_DAYS)
                    left = (lapse_day - today).days
                    lapse = formatting.date(lapse_day) if left >= 0 else "期限切れ"
                    lapse_tip = f"あと{left}日" if left >= 0 else "自動解約の期限を過ぎています"
                    if left <= URGENT_DAYS:
                        lapse_colour = colours["danger"]
                    elif left <= LOGIN_CANCEL_DAYS - LOGIN_WARNING_DAYS:
                        lapse_colour = colours["warning"]
                status_colour = {
                    "details_missing": colours["warning"],
                    "stopped": colours["danger"],
                }.get(card.status)
                cells: list[tuple[str, QColor | None]] = [
                    (f"末尾 {card.last4}", None),
                    (card.holder or "（未入力）", None),
                    (card.driver or "", None),
                    (card.department or "", None),
                    (CARD_KIND_LABELS.get(card.kind, card.kind), None),
                    (expiry, expiry_colour),
                    (status_label(card.status), status_colour),
                    ("ON" if card.auto_exchange else "", None),
                    (card.mileage_id or "", None),
                    (card.login_id or "", None),
                    (formatting.date(card.last_login_on), None),
                    (lapse, lapse_colour),
                    (_masked_obu(card.obu_number), None),
                    (card.plate or "", None),
                ]
                row = []
                for text, colour in cells:
                    item = QStandardItem(text)
                    item.setEditable(False)
                    item.setData(card.last4, CARD_ROLE)
                    item.setData(card.id, CARD_ID_ROLE)
                    if colour is not None:
                        item.setBackground(colour)
                    row.append(item)
                row[HEADERS.index("ID自動解約予定")].setToolTip(lapse_tip)
                row[HEADERS.index("車載器管理番号")].setToolTip(card.obu_number or "")
                group.appendRow(row)


class CardsPage(Page):
    """カード・ID台帳."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.model = CardsModel(self)
        self.view = QTreeView()
        self.view.setObjectName("cardsTree")
        self.view.setModel(self.model)
        self.view.setAlternatingRowColors(True)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.doubleClicked.connect(self._edit_index)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)

        title = QLabel("カード・ID台帳")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        note = QLabel(
            "カード番号は末尾4桁だけを保存します。行をダブルクリックで編集。"
            "ETC利用照会サービスは450日ログインしないとIDが自動解約されます。"
        )
        note.setWordWrap(True)

        self.add_button = QPushButton("カードを登録…")
        self.add_button.clicked.connect(self.add_card)
        self.fill_button = QPushButton("一括入力…")
        self.fill_button.setToolTip(
            "表計算ソフトの一覧やCSVから、多くのカードの名義・利用者・部署をまとめて入力します"
        )
        self.fill_button.clicked.connect(self.fill_cards)
        if not context.may_manage_cards:
            # A driver's login may not add cards or fill their holders (the database refuses).
            from etcbook.ui.context import CARDS_BY_ACCOUNTS

            for button in (self.add_button, self.fill_button):
                button.setEnabled(False)
                button.setToolTip(CARDS_BY_ACCOUNTS)
        self.edit_button = QPushButton("編集…")
        self.edit_button.clicked.connect(self.edit_selected)
        self.login_button = QPushButton("今日ログインした")
        self.login_button.setToolTip("ETC利用照会サービスの最終ログイン日を今日にします")
        self.login_button.clicked.connect(self.record_login_today)
        self.stop_button = QPushButton("利用停止・再開…")
        self.stop_button.setToolTip("ETCマイレージの利用停止・利用再開を記録します")
        self.stop_button.clicked.connect(self.record_stop)
        self.commute_button = QPushButton("通勤パスの月…")
        self.commute_button.setToolTip("通勤パスを使った月（平日朝夕割引なし）を登録します")
        self.commute_button.clicked.connect(self.edit_commute_pass)
        self.trip_button = QPushButton("走行を追加…")
        self.trip_button.setToolTip("明細CSVにない走行を手で追加します")
        self.trip_button.clicked.connect(self.add_trip)
        self._card_buttons = (
            self.edit_button,
            self.login_button,
            self.stop_button,
            self.commute_button,
            self.trip_button,
        )
        for button in self._card_buttons:
            button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.fill_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.login_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.commute_button)
        buttons.addWidget(self.trip_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(note)
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)
        self._header_key = "tables/cards/header"
        self._cards: dict[str, Any] = {}
        self._cards_by_id: list[Any] = []

    def refresh(self) -> None:
        from etcbook import clock
        from etcbook.models.cards import list_cards

        with self.context.store.session() as session:
            cards = list_cards(session=session)
        cards = self.context.card_filter.narrow(cards, lambda card: card.id or card.last4)
        self._cards = {card.last4: card for card in cards}
        self._cards_by_id = list(cards)
        selected = self.selected_card()
        self.model.fill(cards, clock.today(), alert_colours(self.palette()))
        self.view.expandAll()
        for row in range(self.model.rowCount()):
            self.view.setFirstColumnSpanned(row, QModelIndex(), True)
        state = self.context.settings.value(self._header_key)
        if state is not None and not getattr(self, "_restored", False):
            self._restored = self.view.header().restoreState(state)
        # Never narrower than the content (widths remembered from an empty ledger were
        # the headers' widths).
        header = self.view.header()
        for column in range(self.model.columnCount()):
            needed = max(self.view.sizeHintForColumn(column), header.sectionSizeHint(column))
            if header.sectionSize(column) < needed:
                header.resizeSection(column, needed)
        if selected:
            self.select_card(selected)

    def save_settings(self) -> None:
        """Remember the columns (not from an empty ledger: its widths are the headers')."""
        if self._cards:
            self.context.settings.setValue(self._header_key, self.view.header().saveState())

    def selected_card(self) -> CardName | None:
        """The selected card's last 4 digits, carrying its id (what the models read)."""
        index = self.view.currentIndex()
        value = index.data(CARD_ROLE) if index.isValid() else None
        return CardName.of(str(value), index.data(CARD_ID_ROLE)) if value else None

    def select_card(self, last4: str) -> None:
        matches = self.model.match(
            self.model.index(0, 0),
            CARD_ROLE,
            last4,
            1,
            Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive,
        )
        if matches:
            self.view.setCurrentIndex(matches[0])

    def _selection_changed(self, *_args: object) -> None:
        has_card = self.selected_card() is not None
        for button in self._card_buttons:
            button.setEnabled(has_card)

    def add_card(self) -> CardDialog:
        dialog = CardDialog(self.context, parent=self)
        dialog.saved.connect(self.select_card)
        dialog.open()
        return dialog

    def fill_cards(self) -> CardFillDialog:
        """「一括入力」: 名義・利用者・部署 of many cards from a pasted table or a CSV."""
        from etcbook.ui.card_fill_dialog import CardFillDialog

        dialog = CardFillDialog(self.context, parent=self)
        dialog.open()
        return dialog

    def edit_selected(self) -> CardDialog | None:
        last4 = self.selected_card()
        if last4 is None:
            return None
        from etcbook.models.cards import get_card

        with self.context.store.session() as session:
            card = get_card(session=session, last4=last4, card_id=last4.id)
        dialog = CardDialog(self.context, card, parent=self)
        dialog.open()
        return dialog

    def _edit_index(self, index: QModelIndex | QPersistentModelIndex) -> None:
        if index.data(CARD_ROLE):
            self.edit_selected()

    def record_login_today(self) -> None:
        from etcbook import clock
        from etcbook.models.cards import update_card

        last4 = self.selected_card()
        if last4 is None:
            return
        with self.context.store.session(write=True) as session:
            update_card(session=session, last4=last4, card_id=last4.id, last_login_on=clock.today())
        self.context.ledger_changed.emit()

    # -- the mileage side of the selected card (dialogs of etcbook.ui.ledger_dialogs) ---------

    def record_stop(self) -> StopDialog | None:
        """利用停止・再開 of the selected card."""
        last4 = self.selected_card()
        if last4 is None:
            return None
        card = next((c for c in self._cards_by_id if c.id == last4.id), None)
        stopped = card is not None and card.status == "stopped"
        dialog = StopDialog(self.context, last4, stopped_now=stopped, parent=self)
        dialog.open()
        return dialog

    def edit_commute_pass(self) -> CommutePassDialog | None:
        """通勤パスの月 of the selected card."""
        last4 = self.selected_card()
        if last4 is None:
            return None
        dialog = CommutePassDialog(self.context, last4, parent=self)
        dialog.open()
        return dialog

    def add_trip(self) -> TripDialog | None:
        """A trip entered by hand, on the selected card by default."""
        last4 = self.selected_card()
        if last4 is None:
            return None
        cards = [
            (
                CardName.of(card.last4, card.id),
                f"{card.label}（{card.holder}）" if card.label else card.holder or "",
            )
            for card in self._cards_by_id
        ]
        dialog = TripDialog(self.context, cards, last4=last4, parent=self)
        dialog.open()
        return dialog
