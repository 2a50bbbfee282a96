"""走行明細: every trip, fetched lazily; filters, inline and batch edits, route rules, totals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QSignalBlocker,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from etcbook.ui import formatting
from etcbook.ui.context import AppContext
from etcbook.ui.labels import OPERATOR_LABELS, operator_label
from etcbook.ui.lazy_model import LazyRecordModel
from etcbook.ui.messages import tell, told_refusal
from etcbook.ui.operations import Operation, Progress, failure_text
from etcbook.ui.page import Page, page_title
from etcbook.ui.style import never_cut
from etcbook.ui.tables import Column, RememberingTableView
from etcbook.ui.theme import alert_colours

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from etcbook.models.ui_queries import TripQuery, TripRow, TripTotals
    from etcbook.ui.mileage import Snapshot

AnyIndex = QModelIndex | QPersistentModelIndex


def _route(row: TripRow) -> str:
    return f"{row.entry_ic or '（本線）'} → {row.exit_ic or '（入口で課金）'}"


OPERATOR_GUESS_TIP = (
    "この事業者は推定です。ゲート名を知っているルールがないため、既定の「NEXCO」としています。"
    "ポイント・還元額は事業者ごとに違うため、正しい事業者を「事業者を設定」で指定するか、"
    "「この区間に今後も適用…」でルールにしてください。"
)
PASSAGE_TIP = (
    "通過: 料金所を通過した記録で、この行自体の料金はありません（明細の金額欄が「－」）。"
    "料金は同じ走行の別の行に含まれ、合計・ポイント・還元額・朝夕割・精算には数えません。"
)


def _exit_text(row: TripRow) -> str:
    """The exit date-time; a charge at an entry gate has none: its entry time, so marked."""
    if row.exit_at is None and row.entry_at is not None:
        return f"{formatting.date_time(row.entry_at)} 入口"
    return formatting.date_time(row.exit_at)


def _exit_tip(row: TripRow) -> str | None:
    if row.exit_at is None and row.entry_at is not None and not row.passage:
        return "入口で料金を払う走行（出口の記録なし）: 入口の日時の日・月の走行です"
    return None


def _operator_text(row: TripRow) -> str:
    label = operator_label(row.operator)
    return f"{label}（推定）" if row.operator_source == "default" else label


def _operator_tip(row: TripRow) -> str | None:
    return OPERATOR_GUESS_TIP if row.operator_source == "default" else None


def _journey_text(row: TripRow, *, when: bool = False) -> str:
    """A passage's note: the trip of its journey (its route and toll; its time with ``when``)."""
    journey = row.journey
    if journey is None:
        return "通過（料金は別の行）"
    route = f"{journey.entry_ic or '（本線）'}→{journey.exit_ic}"
    at = f"{formatting.date_time(journey.dated_at)} " if when and journey.dated_at else ""
    return f"通過: {at}{route} {formatting.yen(journey.toll)}の走行に含む"


def _remarks(row: TripRow) -> str:
    flags = "・".join(f for f in row.flags if f != "（朝夕）")
    if row.passage:
        return "・".join(part for part in (_journey_text(row), flags) if part)
    return flags


def _remarks_tip(row: TripRow) -> str | None:
    if row.passage:
        return f"{PASSAGE_TIP}\n{_journey_text(row, when=True)}"
    return None


TRIP_COLUMNS: list[Column[TripRow]] = [
    Column("出口日時", _exit_text, key="exit_at", tooltip=_exit_tip),
    Column("カード", lambda r: r.card, key="card"),
    Column("入口IC", lambda r: r.entry_ic or "", key="entry_ic"),
    Column("出口IC", lambda r: r.exit_ic, key="exit_ic", tooltip=_route),
    Column("事業者", _operator_text, key="operator", tooltip=_operator_tip),
    Column("通行料金", lambda r: r.toll, "yen", key="toll"),
    Column("還元額充当", lambda r: r.rebate_applied, "yen", key="rebate_applied"),
    Column("差引後", lambda r: r.billed, "yen", key="billed"),
    Column("ポイント", lambda r: r.points, "points", key="points"),
    Column("業務割合", lambda r: r.business_share, "percent", key="business_share"),
    Column("業務分", lambda r: r.business_amount, "yen", key="business_amount"),
    Column("用途・目的", lambda r: r.purpose, key="purpose", tooltip=lambda r: r.purpose or None),
    Column("朝夕割", lambda r: r.morning_evening, "bool", key="morning_evening"),
    Column("状態", lambda r: r.status or "", key="status"),
    Column("備考", _remarks, key="flags", tooltip=_remarks_tip),
    Column("入口日時", lambda r: r.entry_at, "datetime", key="entry_at"),
]
COLUMN = {column.key: number for number, column in enumerate(TRIP_COLUMNS)}
EDITABLE = ("purpose", "business_share", "operator", "morning_evening")
SYNC_EDIT_LIMIT = 200
"""Edits of more trips than this run off the GUI thread (each change is audited: ~0.6 ms)."""


class _TripDelegate(QStyledItemDelegate):
    """Editors for the editable cells: a 0–100 % spin box and the operator list."""

    def createEditor(  # Qt override
        self, parent: QWidget, option: QStyleOptionViewItem, index: AnyIndex
    ) -> QWidget:
        if index.column() == COLUMN["business_share"]:
            spin = QSpinBox(parent)
            spin.setRange(0, 100)
            spin.setSingleStep(10)
            spin.setSuffix("%")
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            return spin
        if index.column() == COLUMN["operator"]:
            combo = QComboBox(parent)
            for key, label in OPERATOR_LABELS.items():
                combo.addItem(label, key)
            return combo
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor: QWidget, index: AnyIndex) -> None:  # Qt override
        if isinstance(editor, QSpinBox):
            value = index.data(Qt.ItemDataRole.EditRole)
            editor.setValue(int(value or 0))
        elif isinstance(editor, QComboBox):
            record = index.model().record(index.row())  # type: ignore[attr-defined]
            editor.setCurrentIndex(max(0, editor.findData(record.operator if record else "")))
        else:
            super().setEditorData(editor, index)

    def setModelData(  # Qt override
        self, editor: QWidget, model: QAbstractItemModel, index: AnyIndex
    ) -> None:
        if isinstance(editor, QSpinBox):
            editor.interpretText()
            model.setData(index, editor.value())
        elif isinstance(editor, QComboBox):
            model.setData(index, editor.currentData())
        else:
            super().setModelData(editor, model, index)


MONEY_KINDS = frozenset({"yen", "points", "percent"})


def _guessed_operator(row: TripRow, column: int) -> bool:
    """The 事業者 cell of a trip whose operator is only a guess (marked in colour)."""
    return TRIP_COLUMNS[column].key == "operator" and row.operator_source == "default"


class TripTableModel(LazyRecordModel["TripRow"]):
    """The trips table: keys from :func:`trip_ids` (with passages: :func:`listed_ids`), rows
    from :func:`trip_rows` and :func:`passage_rows`. Passages are dimmed, show no amount
    (「－」), cannot be edited; a trip whose operator is only a guess is marked."""

    def __init__(self, context: AppContext, parent: Any = None) -> None:
        self.context = context
        self.figures: dict[int, tuple[int, int, int]] | None = None
        """The engine's (還元額充当, 差引後, points) per trip, once computed."""
        super().__init__(TRIP_COLUMNS, self._fetch_rows, parent)

    def _fetch_rows(self, keys: Sequence[int]) -> dict[int, TripRow]:
        with self.context.connection() as connection:
            return self.read_rows(connection, keys)

    def read_rows(self, connection: Connection, keys: Sequence[int]) -> dict[int, TripRow]:
        """The rows of ``keys`` (trips and passages), by key, on ``connection``."""
        from etcbook.models.passage_rows import is_passage_key, passage_rows
        from etcbook.models.ui_queries import trip_rows

        trips = [key for key in keys if not is_passage_key(key)]
        rows = trip_rows(connection=connection, ids=trips, figures=self.figures)
        if len(trips) < len(keys):
            rows.update(passage_rows(connection=connection, keys=keys))
        return rows

    def display_text(self, record: TripRow, column: int) -> str:
        if record.passage and TRIP_COLUMNS[column].kind in MONEY_KINDS:
            return "－"
        return super().display_text(record, column)

    def has_check_box(self, record: TripRow, column: int) -> bool:
        return not record.passage and super().has_check_box(record, column)

    def paint_roles(self, record: TripRow | None, column: int) -> dict[int, Any]:
        roles = super().paint_roles(record, column)
        if record is not None and (record.passage or _guessed_operator(record, column)):
            # colours from the palette, which can turn dark while the row is shown
            del roles[Qt.ItemDataRole.ForegroundRole], roles[Qt.ItemDataRole.BackgroundRole]
        return roles

    def live_data(self, index: AnyIndex, role: int) -> Any:
        record = self.record(index.row())
        if record is not None and record.passage:
            if role == Qt.ItemDataRole.ForegroundRole:
                return QPalette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            if role == Qt.ItemDataRole.ToolTipRole:
                return _remarks_tip(record)
        if (
            record is not None
            and role == Qt.ItemDataRole.BackgroundRole
            and _guessed_operator(record, index.column())
        ):
            return alert_colours(QPalette()).get("warning")
        return super().live_data(index, role)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        record = self.record(index.row()) if index.isValid() else None
        if record is not None and record.passage:
            flags &= ~(Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable)
        return flags


class RouteRuleDialog(QDialog):
    """「この区間に今後も適用」: remember the operator and 朝夕割 for a route."""

    def __init__(self, row: TripRow, later_trips: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("この区間に今後も適用")
        self.row = row
        text = QLabel(
            f"区間 <b>{_route(row)}</b> の走行に、次の設定を今後の取り込みでも自動で付けます。"
        )
        text.setWordWrap(True)
        self.operator = QCheckBox(f"事業者を「{operator_label(row.operator)}」にする")
        self.operator.setChecked(True)
        self.morning_evening = QCheckBox("平日朝夕割引の対象にする")
        self.morning_evening.setChecked(row.morning_evening)
        self.existing = QCheckBox(
            f"この走行以降に記録済みの同じ区間の走行（{later_trips}件）にも適用"
        )
        self.existing.setChecked(True)
        self.existing.setEnabled(later_trips > 0)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("ルールを作成")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("キャンセル")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (text, self.operator, self.morning_evening, self.existing, buttons):
            layout.addWidget(widget)


class TripsPage(Page):
    """走行明細."""

    totals_changed = Signal(object)
    figures_ready = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        from etcbook.models.ui_queries import TripQuery

        self.query = TripQuery(sort="exit_at", descending=True)
        self.totals: TripTotals | None = None
        self.passages = 0
        """How many passages the table lists beside the trips (never in the totals)."""
        self._computing = False
        self.last_refusal: QMessageBox | None = None
        """The box that told the last refused edit (a closed month, a bad value)."""
        self.model = TripTableModel(context, self)
        self.model.editor = self._edit_cells
        self.model.editable_columns = frozenset(COLUMN[key] for key in EDITABLE)

        self.view = RememberingTableView(context.settings, "trips", self)
        self.view.setModel(self.model)
        self.view.setItemDelegate(_TripDelegate(self.view))
        self.view.horizontalHeader().setSortIndicator(
            COLUMN["exit_at"], Qt.SortOrder.DescendingOrder
        )
        self.view.setSortingEnabled(True)
        triggers = QAbstractItemView.EditTrigger
        self.view.setEditTriggers(
            triggers.DoubleClicked | triggers.EditKeyPressed | triggers.AnyKeyPressed
        )
        if not self.view.restore_columns():
            self._default_widths()
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.doubleClicked.connect(self.open_for_editing)

        self._build_filters()
        self._build_edit_bar()
        self.totals_label = QLabel()
        self.totals_label.setObjectName("tripTotals")
        self.totals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.totals_label.font()
        font.setBold(True)
        self.totals_label.setFont(font)
        totals = QFrame()
        totals.setFrameShape(QFrame.Shape.StyledPanel)
        totals_layout = QHBoxLayout(totals)
        totals_layout.setContentsMargins(10, 6, 10, 6)
        totals_layout.addWidget(self.totals_label, 1)
        self.guesses_button = QPushButton()
        self.guesses_button.setObjectName("operatorGuesses")
        self.guesses_button.setToolTip(OPERATOR_GUESS_TIP)
        self.guesses_button.clicked.connect(self.fix_guesses)
        self.guesses_button.hide()
        totals_layout.addWidget(self.guesses_button)

        layout = QVBoxLayout(self)
        layout.addWidget(page_title("走行明細"))
        layout.addLayout(self.filters)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.edit_bar)
        layout.addWidget(totals)

        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(250)
        self._text_timer.timeout.connect(self.apply_filters)
        self.model.sorter = self._sort_by  # from now on, header clicks re-query

    # -- building ------------------------------------------------------------------------------

    def _build_filters(self) -> None:
        self.card_filter = QComboBox()
        never_cut(self.card_filter)
        self.month_from = QComboBox()
        self.month_to = QComboBox()
        for combo in (self.month_from, self.month_to):
            never_cut(combo)
        self.operator_filter = QComboBox()
        self.operator_filter.addItem("すべての事業者", None)
        for key, label in OPERATOR_LABELS.items():
            self.operator_filter.addItem(label, key)
        self.use_filter = QComboBox()
        for label, key in (
            ("すべての用途", "all"),
            ("業務のみ", "business"),
            ("私用のみ", "private"),
        ):
            self.use_filter.addItem(label, key)
        self.passages_shown = QCheckBox("通過も表示")
        self.passages_shown.setObjectName("showPassages")
        self.passages_shown.setChecked(True)
        self.passages_shown.setToolTip(
            "料金のない通過の行（明細の金額欄が「－」）も、薄い色で一覧に入れます"
        )
        self.passages_shown.toggled.connect(lambda _on: self.apply_filters())
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("IC名・用途・備考")
        self.text_filter.setToolTip("IC名・用途・備考の一部で検索します")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.setMinimumWidth(
            self.text_filter.fontMetrics().horizontalAdvance("IC名・用途・備考で検索") + 24
        )
        self.text_filter.textChanged.connect(lambda _text: self._text_timer.start())
        clear = QPushButton("条件をクリア")
        clear.clicked.connect(self.clear_filters)
        for combo in (
            self.card_filter,
            self.month_from,
            self.month_to,
            self.operator_filter,
            self.use_filter,
        ):
            combo.currentIndexChanged.connect(lambda _index: self.apply_filters())
        # Two rows, so that no choice is cut in a 1024-pixel window: what to list, then how.
        self.filters: QVBoxLayout = QVBoxLayout()
        self.filters.setSpacing(4)
        choices, search = QHBoxLayout(), QHBoxLayout()
        self.filters.addLayout(choices)
        self.filters.addLayout(search)
        choices.addWidget(QLabel("カード"))
        choices.addWidget(self.card_filter)
        choices.addWidget(QLabel("期間"))
        choices.addWidget(self.month_from)
        choices.addWidget(QLabel("〜"))
        choices.addWidget(self.month_to)
        choices.addWidget(self.operator_filter)
        choices.addWidget(self.use_filter)
        choices.addStretch(1)
        search.addWidget(self.passages_shown)
        search.addWidget(self.text_filter, 1)
        search.addWidget(clear)

    def _build_edit_bar(self) -> None:
        self.edit_bar = QFrame()
        self.edit_bar.setFrameShape(QFrame.Shape.StyledPanel)
        # Two rows, so that every button keeps its whole label in a 1024-pixel window.
        rows = QVBoxLayout(self.edit_bar)
        rows.setContentsMargins(8, 4, 8, 4)
        rows.setSpacing(4)
        first, second = QHBoxLayout(), QHBoxLayout()
        rows.addLayout(first)
        rows.addLayout(second)
        self.selection_label = QLabel("選択なし")
        self.share_edit = QSpinBox()
        self.share_edit.setRange(0, 100)
        self.share_edit.setSingleStep(10)
        self.share_edit.setSuffix("%")
        self.share_edit.setValue(100)
        share_button = QPushButton("業務割合を設定")
        share_button.clicked.connect(
            lambda: self.set_on_selection(business_share=self.share_edit.value())
        )
        self.purpose_edit = QLineEdit()
        self.purpose_edit.setPlaceholderText("用途・目的")
        purpose_button = QPushButton("用途を設定")
        purpose_button.clicked.connect(
            lambda: self.set_on_selection(purpose=self.purpose_edit.text())
        )
        self.operator_edit = QComboBox()
        for key, label in OPERATOR_LABELS.items():
            self.operator_edit.addItem(label, key)
        operator_button = QPushButton("事業者を設定")
        operator_button.clicked.connect(
            lambda: self.set_on_selection(operator=self.operator_edit.currentData())
        )
        me_on = QPushButton("朝夕割 対象")
        me_on.clicked.connect(lambda: self.set_on_selection(morning_evening=True))
        me_off = QPushButton("対象外")
        me_off.clicked.connect(lambda: self.set_on_selection(morning_evening=False))
        self.rule_button = QPushButton("この区間に今後も適用…")
        self.rule_button.setToolTip(
            "選択した走行の区間に、事業者と朝夕割の設定をルールとして保存します"
        )
        self.rule_button.clicked.connect(self.create_rule_from_current)
        self._selection_widgets = [
            share_button,
            purpose_button,
            operator_button,
            me_on,
            me_off,
            self.rule_button,
        ]
        widget: QWidget
        for widget in (
            self.selection_label,
            _separator(),
            self.share_edit,
            share_button,
            _separator(),
            self.purpose_edit,
            purpose_button,
        ):
            first.addWidget(widget, 1 if widget is self.purpose_edit else 0)
        for widget in (
            self.operator_edit,
            operator_button,
            _separator(),
            me_on,
            me_off,
            _separator(),
            self.rule_button,
        ):
            second.addWidget(widget)
        second.addStretch(1)
        self.purpose_edit.setMinimumWidth(140)
        self._selection_changed()

    def _default_widths(self) -> None:
        widths = {
            "exit_at": 160,  # a charge at an entry gate adds " 入口"
            "card": 54,
            "entry_ic": 90,
            "exit_ic": 90,
            "operator": 110,
            "toll": 82,
            "rebate_applied": 82,
            "billed": 82,
            "points": 64,
            "business_share": 68,
            "business_amount": 82,
            "purpose": 170,
            "morning_evening": 56,
            "status": 56,
            "flags": 90,
        }
        for key, width in widths.items():
            self.view.setColumnWidth(COLUMN[key], width)

    # -- data ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload filter choices, then the keys and totals (keeping the selection if it can);
        the engine's per-trip figures are recomputed off the GUI thread and shown when ready."""
        from etcbook.models.ui_queries import card_choices, guessed_trip_count, trip_months

        with self.context.connection() as connection:
            cards = card_choices(connection=connection)
            months = trip_months(connection=connection)
            guesses = guessed_trip_count(connection=connection)
        self.guesses_button.setText(f"事業者が推定の走行 {formatting.number(guesses)}件を直す…")
        self.guesses_button.setVisible(guesses > 0)
        cards = self.context.card_filter.narrow(cards, lambda choice: choice[2])
        with QSignalBlocker(self.card_filter):
            current = self.card_filter.currentData()
            self.card_filter.clear()
            everything = "絞り込み中のすべてのカード" if self.context.card_filter.active else ""
            self.card_filter.addItem(everything or "すべてのカード", None)
            # By card id: cards of a fleet may share their last 4 digits.
            for _last4, label, card_id in cards:
                self.card_filter.addItem(label, card_id)
            self.card_filter.setCurrentIndex(max(0, self.card_filter.findData(current)))
        for combo, blank in ((self.month_from, "最初から"), (self.month_to, "最後まで")):
            with QSignalBlocker(combo):
                current = combo.currentData()
                combo.clear()
                combo.addItem(blank, None)
                for month in months:
                    combo.addItem(month.replace("-", "/"), month)
                combo.setCurrentIndex(max(0, combo.findData(current)))
        self.apply_filters()
        self._compute_figures()

    def _compute_figures(self) -> None:
        self._computing = self.context.mileage.snapshot is None
        if self._computing:
            self._show_totals(self.totals or _empty_totals())
        self.context.mileage.request(self._snapshot_ready)

    def _snapshot_ready(self, snapshot: Snapshot) -> None:
        self._computing = False
        figures = snapshot.figures or None
        if figures is self.model.figures:
            self._show_totals(self.totals or _empty_totals())
            return
        self.model.figures = figures
        self.model.refetch()
        self.apply_filters()
        self.figures_ready.emit()

    def current_query(self) -> TripQuery:
        from etcbook.models.ui_queries import TripQuery

        card_id = self.card_filter.currentData()
        month_from = self.month_from.currentData()
        month_to = self.month_to.currentData()
        if month_from and month_to and month_from > month_to:
            month_from, month_to = month_to, month_from
        return TripQuery(
            card_ids=() if card_id is not None else self.context.card_filter.query_card_ids(),
            card_id=card_id,
            month_from=month_from,
            month_to=month_to,
            operator=self.operator_filter.currentData(),
            use=self.use_filter.currentData() or "all",
            text=self.text_filter.text(),
            sort=self.query.sort,
            descending=self.query.descending,
        )

    def apply_filters(self) -> None:
        """Re-query the keys and totals for the filters as they are now."""
        from etcbook.models.passage_rows import count_passages, listed_ids
        from etcbook.models.ui_queries import trip_ids_and_totals, trip_totals

        self._text_timer.stop()
        self.query = self.current_query()
        figures = self.model.figures
        with self.context.connection() as connection:  # one connection: one round of reads
            passages = 0
            if self.passages_shown.isChecked():
                passages = count_passages(connection=connection, query=self.query)
            if passages:
                keys = listed_ids(connection=connection, query=self.query)
                totals = trip_totals(connection=connection, query=self.query, figures=figures)
            else:
                keys, totals = trip_ids_and_totals(
                    connection=connection, query=self.query, figures=figures
                )
            same = keys == self.model.keys
            # the rows the table shows first (at the top, where a new list opens)
            first = None if same else self.model.read_rows(connection, keys[: self.model.page_size])
        self.passages = passages
        if same:
            self.model.refetch()  # same rows (an edit elsewhere): keep selection and scroll
        else:
            self.model.set_keys(keys, first_page=first)
        self._show_totals(totals)

    def set_month_range(self, month_from: str | None, month_to: str | None) -> None:
        """Filter to a month range (``YYYY-MM``); used by the dashboard and the benchmark."""
        with QSignalBlocker(self.month_from), QSignalBlocker(self.month_to):
            self.month_from.setCurrentIndex(max(0, self.month_from.findData(month_from)))
            self.month_to.setCurrentIndex(max(0, self.month_to.findData(month_to)))
        self.apply_filters()

    def clear_filters(self) -> None:
        widgets = (
            self.card_filter,
            self.month_from,
            self.month_to,
            self.operator_filter,
            self.use_filter,
            self.text_filter,
        )
        blockers = [QSignalBlocker(widget) for widget in widgets]
        for combo in widgets[:-1]:
            combo.setCurrentIndex(0)
        self.text_filter.clear()
        del blockers
        self.apply_filters()

    def _sort_by(self, column: int, order: Qt.SortOrder) -> None:
        from etcbook.models.ui_queries import SORT_KEYS

        key = TRIP_COLUMNS[column].key
        if key == "business_amount":
            key = "business_share"
        if key not in SORT_KEYS:  # e.g. the engine's points: keep the current order
            current = next(
                (i for i, column in enumerate(TRIP_COLUMNS) if column.key == self.query.sort), 0
            )
            order = (
                Qt.SortOrder.DescendingOrder
                if self.query.descending
                else Qt.SortOrder.AscendingOrder
            )
            header = self.view.horizontalHeader()
            with QSignalBlocker(header):
                header.setSortIndicator(current, order)
            return
        self.query = self.query.__class__(
            **{
                **self.query.__dict__,
                "sort": key,
                "descending": order == Qt.SortOrder.DescendingOrder,
            }
        )
        if self.context.is_open:
            self.apply_filters()

    def _show_totals(self, totals: TripTotals) -> None:
        self.totals = totals
        self.totals_label.setText(
            f"{formatting.number(totals.count)}件　"
            f"通行料金 {formatting.yen(totals.toll)}　"
            f"還元額充当 {formatting.yen(totals.rebate_applied)}　"
            f"差引後 {formatting.yen(totals.billed)}　"
            f"業務分 {formatting.yen(totals.business)}"
            + (
                f"　（ほかに通過 {formatting.number(self.passages)}件: 料金なし）"
                if self.passages
                else ""
            )
            + ("　（還元額充当を計算中…）" if self._computing else "")
        )
        self.totals_changed.emit(totals)

    # -- edits ---------------------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        """The selected trips (passages, which have nothing to edit, left out)."""
        from etcbook.models.passage_rows import is_passage_key

        rows = sorted({index.row() for index in self.view.selectionModel().selectedRows()})
        return [key for key in (self.model.key(row) for row in rows) if not is_passage_key(key)]

    def open_for_editing(self, index: QModelIndex) -> None:
        """A double-click on a cell that is not edited in place: the trip, selected alone, with
        its 用途, 業務割合 and 事業者 in the edit bar, ready to change (the cursor in 用途)."""
        if not index.isValid() or index.column() in self.model.editable_columns:
            return
        row = self.model.record(index.row())
        if row is None:
            return
        self.view.selectRow(index.row())
        self.purpose_edit.setText(row.purpose or "")
        self.share_edit.setValue(int(row.business_share or 0))
        operator = self.operator_edit.findData(row.operator)
        if operator >= 0:
            self.operator_edit.setCurrentIndex(operator)
        self.purpose_edit.setFocus()
        self.purpose_edit.selectAll()

    def _selection_changed(self, *_args: object) -> None:
        count = len(self.selected_ids()) if self.view.selectionModel() else 0
        self.selection_label.setText(f"{count:,}件選択" if count else "選択なし")
        for widget in self._selection_widgets:
            widget.setEnabled(count > 0)
        self.rule_button.setEnabled(count == 1)

    def _edit_cells(self, keys: list[int], column: int, value: Any) -> bool:
        """An inline edit of one cell: applied to the selected rows when the cell is among them."""
        key = TRIP_COLUMNS[column].key
        selected = self.selected_ids()
        targets = selected if keys[0] in selected and len(selected) > 1 else keys
        if key == "business_share":
            return self.set_trips(targets, business_share=int(value))
        if key == "purpose":
            return self.set_trips(targets, purpose=str(value))
        if key == "operator":
            return self.set_trips(targets, operator=str(value))
        if key == "morning_evening":
            return self.set_trips(targets, morning_evening=bool(value))
        return False

    def set_on_selection(self, **fields: Any) -> bool:
        """Set fields (purpose, business_share, operator, morning_evening) on the selected rows."""
        return self.set_trips(self.selected_ids(), **fields)

    def set_trips(self, ids: list[int], **fields: Any) -> bool:
        """Write ``fields`` to the trips ``ids`` (audited); large selections off the GUI thread.

        Returns ``True`` when the change was made (or, for a large selection, started).
        """
        from etcbook.models.ui_queries import update_trips
        from etcbook.models.versions import StaleEdit

        if not ids:
            return False
        versions = self.shown_versions(ids)
        if len(ids) > SYNC_EDIT_LIMIT:
            store = self.context.store

            def work(progress: Progress) -> int:
                done = 0
                with store.transaction() as connection:
                    for start in range(0, len(ids), 100):
                        part = ids[start : start + 100]
                        done += update_trips(
                            connection=connection, ids=part, versions=versions, **fields
                        )
                        progress.report(start + len(part), len(ids), f"{len(ids):,}件を更新中…")
                return done

            def failed(error: BaseException) -> None:
                tell(self, "走行明細", failure_text(error))
                if isinstance(error, StaleEdit):
                    self.reload_after_conflict()

            self.context.run(
                Operation(
                    work=work,
                    title="走行明細を更新しています",
                    on_success=lambda _count: self.model.refetch_keys(set(ids)),
                    on_failure=failed,
                    changes_ledger=True,
                    cancellable=True,
                    parent=self,
                )
            )
            return True
        try:
            with self.context.transaction() as connection:
                update_trips(connection=connection, ids=ids, versions=versions, **fields)
        except StaleEdit as stale:
            tell(self, "走行明細", str(stale))
            self.reload_after_conflict()
            return False
        except Exception as problem:  # a bad value, or the ledger's rules (a closed month)
            self.last_refusal = told_refusal(self, "走行明細", problem)
            if self.last_refusal is None:
                raise
            return False
        self.model.refetch_keys(set(ids))
        self.context.ledger_changed.emit()  # refreshes this page (keys, totals) and the others
        return True

    def shown_versions(self, ids: list[int]) -> dict[int, int]:
        """Trip id → the version of the row the table shows (rows it holds; passages left
        out): an edit of a trip changed since by another client is refused."""
        versions: dict[int, int] = {}
        for trip_id in ids:
            row = self.model.cached(trip_id)
            if row is not None and row.version is not None:
                versions[trip_id] = row.version
        return versions

    def reload_after_conflict(self) -> None:
        """Another client changed trips being edited: show the store as it is now."""
        self.model.refetch()
        self.context.ledger_changed.emit()

    def create_rule_from_current(self) -> None:
        from etcbook.models.ui_queries import create_route_rule, trip_route, trips_on_route

        ids = self.selected_ids()
        if len(ids) != 1:
            return
        row = self.model.record(self.model.keys.index(ids[0]))
        if row is None:
            return
        with self.context.connection() as connection:
            route = trip_route(connection=connection, trip_id=row.id)
            after = row.dated_at or row.exit_at or row.entry_at
            assert after is not None  # every trip has an exit or an entry
            later = trips_on_route(connection=connection, route=route, after=after)
        dialog = RouteRuleDialog(row, len(later), self)
        self._rule_dialog = dialog

        def create() -> None:
            operator = row.operator if dialog.operator.isChecked() else None
            morning_evening = dialog.morning_evening.isChecked()
            with self.context.transaction() as connection:
                create_route_rule(
                    connection=connection,
                    route=route,
                    operator=operator,
                    morning_evening=morning_evening,
                )
            if dialog.existing.isChecked() and later:
                self.set_trips(later, operator=operator, morning_evening=morning_evening)
            else:
                self.context.ledger_changed.emit()
            status = getattr(self.window(), "statusBar", None)
            if callable(status):
                status().showMessage(f"ルールを作成しました: {_route(row)}", 10_000)

        dialog.accepted.connect(create)
        dialog.open()

    def fix_guesses(self) -> QDialog:
        """The gates no rule knows among the stored trips, each with a one-click operator."""
        from etcbook.ui.gate_rules import StoredGuessesDialog

        dialog = StoredGuessesDialog(self.context, self)
        dialog.open()
        return dialog

    def save_settings(self) -> None:
        self.view.save_settings()


def _empty_totals() -> TripTotals:
    from etcbook.models.ui_queries import TripTotals

    return TripTotals()


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


def month_of(day: dt.date) -> str:
    """``YYYY-MM`` of a date (filter values)."""
    return f"{day.year:04d}-{day.month:02d}"
