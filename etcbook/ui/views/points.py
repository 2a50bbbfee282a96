"""ポイント・還元額: lots, the history of points and rebate, rebate by month, the exchange planner.

The figures are the mileage engine's (:mod:`etcbook.ui.mileage`, on a worker thread); the plan
is :func:`etcbook.domain.planner.plan_exchanges`'. This page only shows them and collects the
user's need or planned trips.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QDate, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from etcbook import clock
from etcbook.ui import formatting
from etcbook.ui.context import AppContext
from etcbook.ui.labels import OPERATOR_LABELS
from etcbook.ui.messages import tell
from etcbook.ui.page import Page
from etcbook.ui.tables import Column, RecordTableModel, RememberingTableView

if TYPE_CHECKING:
    from etcbook.domain.mileage import CardState, LedgerEntry, RebateMonth
    from etcbook.domain.planner import Alternative, Plan, PlannedExchange
    from etcbook.domain.rules import Rules
    from etcbook.ui.ledger_dialogs import AdjustmentDialog
    from etcbook.ui.mileage import CardSummary, Snapshot

LEDGER_KINDS = {
    "grant": "ポイント付与",
    "morning_evening": "朝夕割の還元",
    "auto_exchange": "自動還元",
    "exchange": "ポイント交換",
    "adjustment": "調整",
    "expiry": "失効",
    "inferred_credit": "還元額（明細から推定）",
}
PURPOSES = {"need": "必要額", "trips": "予定の走行", "expiry": "失効回避", "auto": "自動還元"}


@dataclass(frozen=True)
class LotRow:
    """A row of the lots table: held points of one grant, or points not yet granted."""

    pool: str
    granted_on: dt.date
    expires_on: dt.date
    granted: int
    remaining: int
    pending: bool
    lost: int = 0
    """Points that expired from this grant (the row is then marked 失効)."""

    @property
    def status(self) -> str:
        if self.pending:
            return "付与予定"
        if self.lost:
            return f"失効（{formatting.points(self.lost)}）"
        return "保有"


def _units_text(units: tuple[Any, ...]) -> str:
    counts: dict[tuple[int, int], int] = {}
    for unit in units:
        counts[(unit.points, unit.yen)] = counts.get((unit.points, unit.yen), 0) + 1
    return "＋".join(
        f"{points:,}P→{yen:,}円" + (f"×{count}" if count > 1 else "")
        for (points, yen), count in sorted(counts.items(), reverse=True)
    )


def _purpose(text: str) -> str:
    return "・".join(PURPOSES.get(part, part) for part in text.split("+"))


def lot_columns(names: dict[str, str]) -> list[Column[LotRow]]:
    return [
        Column("プール", lambda r: names.get(r.pool, r.pool), header_tooltip=POOL_TIP),
        Column("付与日", lambda r: r.granted_on, "date"),
        Column("有効期限", lambda r: r.expires_on, "date"),
        Column("付与", lambda r: r.granted, "points"),
        Column("残り", lambda r: r.remaining, "points"),
        Column(
            "状態",
            lambda r: r.status,
            colour=lambda r: QColor(255, 225, 225) if r.lost else None,
        ),
    ]


def ledger_columns(names: dict[str, str]) -> list[Column[LedgerEntry]]:
    return [
        Column("日時", lambda e: e.at, "datetime"),
        Column("内容", lambda e: LEDGER_KINDS.get(e.kind, e.kind)),
        Column(
            "プール",
            lambda e: names.get(e.pool, e.pool) if e.pool else "",
            header_tooltip=POOL_TIP,
        ),
        Column("ポイント", lambda e: e.points or None, "points"),
        Column("還元額", lambda e: e.rebate or None, "yen"),
        Column("メモ", lambda e: e.note),
    ]


REBATE_COLUMNS: list[Column[RebateMonth]] = [
    Column("月", lambda m: m.month, "month"),
    Column("月初残高", lambda m: m.opening, "yen"),
    Column("交換", lambda m: m.exchanged, "yen"),
    Column("朝夕割", lambda m: m.morning_evening, "yen"),
    Column("調整", lambda m: m.adjusted, "yen"),
    Column("推定", lambda m: m.inferred, "yen"),
    Column("充当", lambda m: m.applied, "yen"),
    Column("月末残高", lambda m: m.closing, "yen"),
]


POOL_TIP = (
    "プール: ポイントが貯まる単位です。カードごと・事業者のグループごとに別々に貯まり、"
    "合算できません（NEXCO 東・中・西日本と宮城県道路公社は1つのプール）。"
)


def exchange_columns(names: dict[str, str]) -> list[Column[PlannedExchange]]:
    return [
        Column("日付", lambda x: x.at, "date"),
        Column("プール", lambda x: names.get(x.pool, x.pool), header_tooltip=POOL_TIP),
        Column("交換単位", lambda x: _units_text(x.units)),
        Column("ポイント", lambda x: x.points, "points"),
        Column("還元額", lambda x: x.yen, "yen"),
        Column("目的", lambda x: _purpose(x.purpose)),
    ]


ALTERNATIVE_COLUMNS: list[Column[Alternative]] = [
    Column("案", lambda a: a.label, tooltip=lambda a: a.label),
    Column("使うポイント", lambda a: a.points, "points"),
    Column("還元額", lambda a: a.yen, "yen"),
    Column("不足", lambda a: a.shortfall, "yen"),
    Column("残る還元額", lambda a: a.rebate_after, "yen"),
    Column("失効", lambda a: a.points_lost, "points"),
    Column(
        "選ばなかった理由",
        lambda a: a.reason,
        tooltip=lambda a: a.reason,
        header_tooltip=(
            "見込み価値: その案の値打ちを円で表したものです。交換で受け取る還元額に、残るポイントが"
            "この先まだ生む値打ち（失効する分は0円）を足し、余った還元額のせいで付かなくなる"
            "ポイントの分を引きます。"
        ),
    ),
]


def _heading(text: str, scale: float = 1.4) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    return label


def _table(model: RecordTableModel[Any], settings: Any, key: str) -> RememberingTableView:
    view = RememberingTableView(settings, key)
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    if not view.restore_columns():
        view.resizeColumnsToContents()
    return view


class PlannerPanel(QWidget):
    """交換プラン: a need or planned trips in, the plan, its explanation and alternatives out."""

    planned = Signal(object)

    def __init__(self, page: PointsPage) -> None:
        super().__init__()
        self.page = page
        self.plan: Plan | None = None

        self.need_mode = QRadioButton("必要額で計画")
        self.trips_mode = QRadioButton("予定の走行で計画")
        self.need_mode.setChecked(True)
        modes = QButtonGroup(self)
        modes.addButton(self.need_mode)
        modes.addButton(self.trips_mode)

        self.need_yen = QSpinBox()
        self.need_yen.setRange(0, 10_000_000)
        self.need_yen.setSingleStep(500)
        self.need_yen.setSuffix(" 円")
        self.need_yen.setGroupSeparatorShown(True)
        self.need_yen.setValue(3000)
        self.need_yen.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.need_by = QDateEdit()
        self.need_by.setCalendarPopup(True)
        self.need_by.setDisplayFormat("yyyy/MM/dd")
        self.need_operator = QComboBox()
        for key, label in OPERATOR_LABELS.items():
            self.need_operator.addItem(label, key)
        need_row = QHBoxLayout()
        need_row.addWidget(self.need_mode)
        need_row.addWidget(QLabel("通行料金 約"))
        need_row.addWidget(self.need_yen)
        need_row.addWidget(QLabel("を"))
        need_row.addWidget(self.need_by)
        need_row.addWidget(QLabel("までに"))
        need_row.addWidget(self.need_operator)
        need_row.addWidget(QLabel("で"))
        need_row.addStretch(1)

        self.trips_table = QTableWidget(0, 3)
        self.trips_table.setHorizontalHeaderLabels(["日付", "事業者", "通行料金（円）"])
        self.trips_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.trips_table.verticalHeader().setVisible(False)
        self.trips_table.setMaximumHeight(104)
        add_trip = QPushButton("走行を追加")
        add_trip.clicked.connect(lambda: self.add_trip())
        remove_trip = QPushButton("削除")
        remove_trip.clicked.connect(self._remove_trip)
        trips_buttons = QVBoxLayout()
        trips_buttons.addWidget(add_trip)
        trips_buttons.addWidget(remove_trip)
        trips_buttons.addStretch(1)
        trips_row = QHBoxLayout()
        trips_row.addWidget(self.trips_mode, 0, Qt.AlignmentFlag.AlignTop)
        trips_row.addWidget(self.trips_table, 1)
        trips_row.addLayout(trips_buttons)

        self.plan_button = QPushButton("計画する")
        self.plan_button.setDefault(True)
        self.plan_button.clicked.connect(self.make_plan)
        self.apply_button = QPushButton("この計画を交換として記録")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_plan)
        buttons = QHBoxLayout()
        buttons.addWidget(self.plan_button)
        buttons.addWidget(self.apply_button)
        buttons.addStretch(1)

        form = QGroupBox("何に使いますか")
        form_layout = QVBoxLayout(form)
        form_layout.addLayout(need_row)
        form_layout.addLayout(trips_row)
        form_layout.addLayout(buttons)

        self.summary = QLabel("カードと必要額を選んで「計画する」を押してください。")
        self.summary.setWordWrap(True)
        self.summary.setObjectName("planSummary")
        font = QFont(self.summary.font())
        font.setBold(True)
        self.summary.setFont(font)

        self.exchanges_model: RecordTableModel[PlannedExchange] = RecordTableModel([], self)
        self.exchanges_view = _table(self.exchanges_model, page.context.settings, "plan_exchanges")
        self.explanation = QListWidget()
        self.explanation.setWordWrap(True)
        self.explanation.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.explanation.setResizeMode(QListWidget.ResizeMode.Adjust)  # re-wrap on resize
        self.explanation.setSpacing(2)
        self.explanation.setObjectName("planExplanation")
        self.alternatives_model: RecordTableModel[Alternative] = RecordTableModel(
            ALTERNATIVE_COLUMNS, self
        )
        self.alternatives_view = _table(
            self.alternatives_model, page.context.settings, "plan_alternatives"
        )
        self.alternatives_view.setWordWrap(True)
        reason = self.alternatives_view.horizontalHeader()
        reason.setSectionResizeMode(len(ALTERNATIVE_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("交換する"))
        left_layout.addWidget(self.exchanges_view, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel("説明"))
        right_layout.addWidget(self.explanation, 1)
        plan = QSplitter(Qt.Orientation.Horizontal)
        plan.setObjectName("planResults")
        plan.addWidget(left)
        plan.addWidget(right)
        plan.setSizes([560, 440])
        # The alternatives take the whole width: their reason is the column that matters.
        alternatives = QWidget()
        alternatives_layout = QVBoxLayout(alternatives)
        alternatives_layout.setContentsMargins(0, 0, 0, 0)
        alternatives_layout.addWidget(QLabel("検討して選ばなかった案"))
        alternatives_layout.addWidget(self.alternatives_view, 1)
        results = QSplitter(Qt.Orientation.Vertical)
        results.setObjectName("planAndAlternatives")
        results.addWidget(plan)
        results.addWidget(alternatives)
        results.setSizes([300, 200])

        layout = QVBoxLayout(self)
        layout.addWidget(form)
        layout.addWidget(self.summary)
        layout.addWidget(results, 1)

        self.set_as_of(clock.today())

    def set_as_of(self, as_of: dt.date) -> None:
        target = as_of + dt.timedelta(days=14)
        self.need_by.setMinimumDate(QDate(as_of.year, as_of.month, as_of.day))
        self.need_by.setDate(QDate(target.year, target.month, target.day))

    def set_pool_names(self, names: dict[str, str]) -> None:
        self.exchanges_model.set_columns(exchange_columns(names))

    def add_trip(
        self, on: dt.date | None = None, operator: str = "nexco", toll: int = 1000
    ) -> None:
        row = self.trips_table.rowCount()
        self.trips_table.insertRow(row)
        day = on or self.page.as_of + dt.timedelta(days=7)
        editor = QDateEdit(QDate(day.year, day.month, day.day))
        editor.setCalendarPopup(True)
        editor.setDisplayFormat("yyyy/MM/dd")
        self.trips_table.setCellWidget(row, 0, editor)
        combo = QComboBox()
        for key, label in OPERATOR_LABELS.items():
            combo.addItem(label, key)
        combo.setCurrentIndex(max(0, combo.findData(operator)))
        self.trips_table.setCellWidget(row, 1, combo)
        spin = QSpinBox()
        spin.setRange(-1_000_000, 1_000_000)
        spin.setGroupSeparatorShown(True)
        spin.setValue(toll)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.trips_table.setCellWidget(row, 2, spin)
        self.trips_mode.setChecked(True)

    def _remove_trip(self) -> None:
        row = self.trips_table.currentRow()
        if row >= 0:
            self.trips_table.removeRow(row)

    def planned_trips(self) -> tuple[Any, ...]:
        from etcbook.domain.planner import PlannedTrip

        trips = []
        for row in range(self.trips_table.rowCount()):
            # The cell widgets add_trip put in the row.
            date = cast(QDateEdit, self.trips_table.cellWidget(row, 0)).date()
            operator = cast(QComboBox, self.trips_table.cellWidget(row, 1)).currentData()
            toll = cast(QSpinBox, self.trips_table.cellWidget(row, 2)).value()
            trips.append(
                PlannedTrip(dt.date(date.year(), date.month(), date.day()), operator, toll)
            )
        return tuple(sorted(trips, key=lambda trip: trip.on))

    def make_plan(self) -> Plan | None:
        """Plan for the selected card with the need or trips entered (fast: on the GUI thread)."""
        from etcbook.domain.planner import Need, PlannerInputError, plan_exchanges
        from etcbook.ui import mileage

        card = self.page.current_card()
        data = self.page.data
        if card is None or card.state is None or data is None or data.rules is None:
            return None
        need = None
        trips: tuple[Any, ...] = ()
        if self.need_mode.isChecked():
            by = self.need_by.date()
            need = Need(
                yen=self.need_yen.value(),
                by=dt.date(by.year(), by.month(), by.day()),
                operators=(self.need_operator.currentData(),),
            )
        else:
            trips = self.planned_trips()
        request = mileage.planner_input(
            card, data.rules, as_of=self.page.as_of, need=need, trips=trips
        )
        try:
            plan = plan_exchanges(request)
        except PlannerInputError as problem:
            self.summary.setText(f"計画できません: {problem}")
            return None
        self.show_plan(plan)
        return plan

    def show_plan(self, plan: Plan) -> None:
        self.plan = plan
        lines = [
            f"払う予定 {formatting.yen(plan.demand)}のうち還元額で {formatting.yen(plan.covered)}",
        ]
        if plan.shortfall:
            lines.append(f"不足 {formatting.yen(plan.shortfall)}（カードに請求）")
        lines.append(f"計画後の還元額 {formatting.yen(plan.rebate_after)}")
        if plan.points_lost:
            lines.append(f"それでも失効 {formatting.points(plan.points_lost)}")
        exchanged = sum(x.yen for x in plan.exchanges)
        if plan.exchanges:
            lines.insert(0, f"交換 {len(plan.exchanges)}回・{formatting.yen(exchanged)}")
        else:
            lines.insert(0, "今は交換しません")
        text = "　／　".join(lines)
        card = self.page.current_card()
        if plan.shortfall and card is not None and not any(p.points for p in card.pools):
            # Say why nothing can be exchanged, not only that it is not enough.
            why = (
                f"このカードのポイントはすべて失効しています（これまでの失効 "
                f"{formatting.points(card.points_lost_total)}）。"
                if card.points_lost_total
                else "このカードには交換できるポイントがまだありません。"
            )
            text = why + "\n" + text
        self.summary.setText(text)
        self.exchanges_model.set_records(plan.exchanges)
        self.alternatives_model.set_records(plan.alternatives)
        self.exchanges_view.resizeColumnsToContents()
        alternatives = self.alternatives_view
        alternatives.setWordWrap(False)  # measured unwrapped: the label's full width
        alternatives.resizeColumnsToContents()
        alternatives.setColumnWidth(0, min(alternatives.columnWidth(0) + 8, 480))
        alternatives.setWordWrap(True)
        alternatives.resizeRowsToContents()  # long labels and reasons wrap
        least = alternatives.verticalHeader().defaultSectionSize()
        for row in range(self.alternatives_model.rowCount()):
            alternatives.setRowHeight(row, max(least, alternatives.rowHeight(row) + 6))
        self.explanation.clear()
        for sentence in plan.explanation:
            self.explanation.addItem(sentence)
        self._update_apply()
        self.planned.emit(plan)

    def _update_apply(self) -> None:
        self.apply_button.setEnabled(bool(self.plan and self.plan.exchanges))

    def apply_plan(self) -> bool:
        """Record the plan's exchanges in one go (each at 09:00 of its day, or now for today)."""
        from etcbook import clock

        card = self.page.current_card()
        if self.plan is None or card is None or not self.plan.exchanges:
            return False
        now = clock.now()
        exchanges = []
        for exchange in self.plan.exchanges:
            at = now if exchange.at <= now.date() else dt.datetime.combine(exchange.at, dt.time(9))
            exchanges.append((at, exchange.pool, tuple(exchange.units)))
        if not self.confirm(_card_words(card)):
            return False
        recorded = self.page.record(card.name, exchanges)
        if recorded:
            self.summary.setText(
                f"記録しました: {len(exchanges)}回の交換（"
                + "、".join(
                    f"{formatting.date(x.at)} {_units_text(x.units)}" for x in self.plan.exchanges
                )
                + "）。ETCマイレージのサイトでも同じ交換をしてください。"
            )
            self.plan = None
            self.apply_button.setEnabled(False)
        return recorded

    def confirmation_text(self, card: str) -> str:
        """What 「この計画を交換として記録」 will record, in words."""
        assert self.plan is not None
        names = self.page.pool_names()
        lines = [
            f"・{formatting.date(x.at)}　{names.get(x.pool, x.pool)}　{_units_text(x.units)}"
            f"（{formatting.points(sum(u.points for u in x.units))} → "
            f"{formatting.yen(sum(u.yen for u in x.units))}）"
            for x in self.plan.exchanges
        ]
        return (
            f"カード{card}に次の交換を記録します。\n" + "\n".join(lines) + "\n\n"
            "記録はETCマイレージのサイトでの交換の代わりにはなりません。"
            "間違えたときは「記録を取り消す…」で取り消せます。"
        )

    def confirm(self, card: str) -> bool:
        """Ask before recording the plan's exchanges (tests answer through ``confirm_box``)."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("交換の記録")
        box.setText(self.confirmation_text(card))
        record = box.addButton("記録する", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("やめる", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(record)
        self.confirm_box: QMessageBox | None = box
        self.confirm_record_button = record
        box.exec()
        self.confirm_box = None
        return box.clickedButton() is record


class PointsPage(Page):
    """ポイント・還元額."""

    loaded = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.data: Snapshot | None = None
        self.as_of = clock.today()

        self.card_choice = QComboBox()
        self.card_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.card_choice.currentIndexChanged.connect(lambda _i: self._show_card())
        self.as_of_label = QLabel()
        header = QHBoxLayout()
        header.addWidget(_heading("ポイント・還元額"))
        header.addSpacing(20)
        header.addWidget(QLabel("カード"))
        header.addWidget(self.card_choice)
        self.exchange_button = QPushButton("交換を記録…")
        self.exchange_button.clicked.connect(self.record_exchange)
        header.addWidget(self.exchange_button)
        self.adjust_button = QPushButton("調整を記録…")
        self.adjust_button.setToolTip(
            "キャンペーンの加算やサイトに合わせた訂正など、ポイントか還元額を手で増減します"
        )
        self.adjust_button.clicked.connect(self.record_adjustment)
        header.addWidget(self.adjust_button)
        self.reverse_button = QPushButton("記録を取り消す…")
        self.reverse_button.setToolTip(
            "誤って記録した交換や調整を取り消します（記録は取消として履歴に残ります）"
        )
        self.reverse_button.clicked.connect(self.reverse_record)
        header.addWidget(self.reverse_button)
        header.addStretch(1)
        header.addWidget(self.as_of_label)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("pointsSummary")
        summary_frame = QFrame()
        summary_frame.setFrameShape(QFrame.Shape.StyledPanel)
        summary_layout = QHBoxLayout(summary_frame)
        summary_layout.setContentsMargins(10, 6, 10, 6)
        summary_layout.addWidget(self.summary)

        settings = context.settings
        self.lots_model: RecordTableModel[LotRow] = RecordTableModel(lot_columns({}), self)
        self.lots_view = _table(self.lots_model, settings, "lots")
        self.ledger_model: RecordTableModel[LedgerEntry] = RecordTableModel(
            ledger_columns({}), self
        )
        self.ledger_view = _table(self.ledger_model, settings, "ledger")
        self.rebate_model: RecordTableModel[RebateMonth] = RecordTableModel(REBATE_COLUMNS, self)
        self.rebate_view = _table(self.rebate_model, settings, "rebate_months")
        self.planner = PlannerPanel(self)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.planner, "交換プラン")
        self.tabs.addTab(self.lots_view, "ポイント（付与ごと）")
        self.tabs.addTab(self.ledger_view, "ポイント・還元額の履歴")
        self.tabs.addTab(self.rebate_view, "還元額の月次")

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(summary_frame)
        layout.addWidget(self.tabs, 1)

    def refresh(self) -> None:
        from etcbook import clock

        self.as_of = clock.today()
        self.planner.set_as_of(self.as_of)
        self.as_of_label.setText(f"{formatting.date_with_weekday(self.as_of)} 現在（計算中…）")
        self.context.mileage.request(self._loaded)

    def _loaded(self, data: Snapshot) -> None:
        self.data = data
        self.as_of = data.as_of
        self.as_of_label.setText(f"{formatting.date_with_weekday(data.as_of)} 現在")
        with QSignalBlocker(self.card_choice):
            current = self.card_choice.currentData()
            self.card_choice.clear()
            # Keyed by card id: cards of a fleet may share their last 4 digits.
            for card in self.context.card_filter.narrow(data.cards, lambda c: c.card_id or c.last4):
                self.card_choice.addItem(card.title, card.card_id)
            self.card_choice.setCurrentIndex(max(0, self.card_choice.findData(current)))
        if data.rules is not None:
            names = {key: pool.name for key, pool in data.rules.pools.items()}
            self.lots_model.set_columns(lot_columns(names))
            self.ledger_model.set_columns(ledger_columns(names))
            self.planner.set_pool_names(names)
        self._show_card()
        self.loaded.emit()

    def current_card(self) -> CardSummary | None:
        if self.data is None:
            return None
        card_id = self.card_choice.currentData()
        for card in self.data.cards:
            if card.card_id == card_id:
                return card
        return None

    def select_card(self, card: str | int) -> None:
        """Choose a card by its id, or by its last 4 digits (the first card that has them)."""
        if isinstance(card, str) and self.data is not None:
            card = next((c.card_id for c in self.data.cards if c.last4 == card), None) or -1
        self.card_choice.setCurrentIndex(max(0, self.card_choice.findData(card)))

    def _show_card(self) -> None:
        card = self.current_card()
        if card is None or card.state is None:
            problem = self.data.problem if self.data else None
            self.summary.setText(problem or "カードがありません。")
            for model in (self.lots_model, self.ledger_model, self.rebate_model):
                model.set_records([])
            return
        state: CardState = card.state
        parts = [f"還元額残高 {formatting.yen(card.rebate_balance)}"]
        if state.stopped:
            parts.insert(0, "利用停止中")
        for pool in card.pools:
            text = f"{pool.name} {formatting.points(pool.points)}"
            if pool.pending_points:
                text += f"（付与予定 {formatting.points(pool.pending_points)}）"
            parts.append(text)
        if card.pending_rebate:
            parts.append(f"朝夕割 還元待ち {formatting.yen(card.pending_rebate)}")
        if card.points_lost_total:
            parts.append(f"これまでの失効 {formatting.points(card.points_lost_total)}")
        self.summary.setText("　／　".join(parts))
        lots = [
            LotRow(key, lot.granted_on, lot.expires_on, lot.granted, lot.remaining, False)
            for key, pool in state.pools.items()
            for lot in pool.lots
        ]
        from etcbook.domain.calendar import expiry_for

        for key, earnings in state.earnings.items():
            for earning in earnings:
                if not earning.granted and earning.points:
                    lots.append(
                        LotRow(
                            key,
                            earning.grant_on,
                            expiry_for(earning.grant_on),
                            earning.points,
                            earning.points,
                            True,
                        )
                    )
        # Expired grants stay listed, marked 失効 (they were lost, not spent).
        lots.extend(
            LotRow(loss.pool, loss.granted_on, loss.expires_on, loss.points, 0, False, loss.points)
            for loss in state.losses
        )
        lots.sort(key=lambda row: (row.expires_on, row.granted_on, row.pool))
        self.lots_model.set_records(lots)
        self.ledger_model.set_records(list(reversed(state.ledger)))
        self.rebate_model.set_records(list(reversed(state.rebate_months)))
        for view in (self.lots_view, self.ledger_view, self.rebate_view):
            if not view._restored:
                view.resizeColumnsToContents()

    def record_exchange(self) -> ExchangeDialog | None:
        """Open the exchange dialog for the selected card (grid units only)."""
        card = self.current_card()
        if card is None or self.data is None or self.data.rules is None:
            return None
        dialog = ExchangeDialog(card, self.data.rules, self.as_of, parent=self)
        dialog.submitted.connect(
            lambda at, pool, units: self.record(card.name, [(at, pool, units)], dialog)
        )
        dialog.open()
        self._exchange_dialog = dialog
        return dialog

    def record_adjustment(self) -> AdjustmentDialog | None:
        """Open the adjustment dialog for the selected card (points of a pool, or rebate)."""
        from etcbook.ui.ledger_dialogs import AdjustmentDialog

        card = self.current_card()
        if card is None or self.data is None or self.data.rules is None:
            return None
        dialog = AdjustmentDialog(self.context, card.name, self.data.rules, parent=self)
        dialog.open()
        return dialog

    def record(
        self,
        last4: str,
        exchanges: list[tuple[dt.datetime, str, tuple[Any, ...]]],
        dialog: Any = None,
    ) -> bool:
        """Record exchanges of a card (checked by the engine first); the ledger then changes."""
        from etcbook.ui import mileage

        try:
            mileage.record_exchanges(self.context.store, last4, exchanges)
        except (mileage.ExchangeRefused, mileage.EngineUnavailable) as refused:
            if dialog is not None:
                dialog.show_problem(str(refused))
            else:
                tell(self, "ポイント交換", str(refused))
            return False
        if dialog is not None:
            dialog.accept()
        self.context.ledger_changed.emit()
        return True

    def pool_names(self) -> dict[str, str]:
        """Pool key → its name, once the rules are loaded."""
        if self.data is None or self.data.rules is None:
            return {}
        return {key: pool.name for key, pool in self.data.rules.pools.items()}

    def reverse_record(self) -> ReverseDialog | None:
        """Open the reversal dialog for the current card (window-modal; returned for tests)."""
        from etcbook.models.mileage_changes import reversible_records

        card = self.current_card()
        if card is None:
            return None
        with self.context.connection() as connection:
            records = reversible_records(connection=connection, last4=card.name)
        if not records:
            tell(
                self,
                "記録の取り消し",
                f"カード{_card_words(card)}に取り消せる交換・調整はありません。",
            )
            return None
        dialog = ReverseDialog(records, self)
        dialog.submitted.connect(lambda record, reason: self._reverse(record, reason, dialog))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _reverse(self, record: Any, reason: str, dialog: ReverseDialog) -> None:
        from etcbook.models.mileage_changes import ChangeRefused, reverse_record
        from etcbook.ui import mileage

        try:
            with self.context.store.transaction(wait_s=0) as connection:
                reverse_record(
                    connection=connection,
                    rules=mileage.load_rules(),
                    kind=record.kind,
                    record_id=record.id,
                    reason=reason,
                )
        except ChangeRefused as refused:
            dialog.show_problem(str(refused))
            return
        dialog.accept()
        self.context.ledger_changed.emit()

    def save_settings(self) -> None:
        for view in (
            self.lots_view,
            self.ledger_view,
            self.rebate_view,
            self.planner.exchanges_view,
            self.planner.alternatives_view,
        ):
            view.save_settings()


class ExchangeDialog(QDialog):
    """ポイント交換の記録: a pool, then how many of each grid unit (nothing else is offered).

    記録 emits ``submitted(at, pool, units)``; the page records it and closes the dialog, or
    shows why the engine refused it.
    """

    submitted = Signal(object, str, object)

    def __init__(
        self, card: CardSummary, rules: Rules, as_of: dt.date, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"ポイント交換を記録 — 末尾{card.last4}")
        self.card = card
        self.rules = rules
        self.pool = QComboBox()
        self.pool.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for pool in card.pools:
            if pool.pool in rules.pools:
                self.pool.addItem(f"{pool.name}（{formatting.points(pool.points)}）", pool.pool)
        self.pool.setMinimumWidth(self.pool.sizeHint().width() + 8)  # the name is never cut
        self.pool.currentIndexChanged.connect(lambda _i: self._fill_units())
        self.when = QDateTimeEdit(formatting.now_qdatetime())
        self.when.setDisplayFormat("yyyy/MM/dd HH:mm")
        self.when.setCalendarPopup(True)
        self.units_box = QGroupBox("交換単位（この事業者の交換単位だけを選べます）")
        self.units_layout = QFormLayout(self.units_box)
        self.spins: list[tuple[Any, QSpinBox]] = []
        self.total = QLabel()
        self.total.setObjectName("exchangeTotal")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("記録")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("キャンセル")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b;")
        self.problem.hide()
        note = QLabel(
            "記録する前に、これまでの走行・交換と合わせて計算し直し、その時点のポイントで"
            "交換できるか確かめます。ETCマイレージのサイトでも同じ交換をしてください。"
        )
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("プール", self.pool)
        self.pool.setToolTip(POOL_TIP)
        form.addRow("交換日時", self.when)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.units_box)
        layout.addWidget(self.total)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._fill_units()

    def at(self) -> dt.datetime:
        value = self.when.dateTime()
        day, time = value.date(), value.time()
        return dt.datetime(day.year(), day.month(), day.day(), time.hour(), time.minute())

    def _submit(self) -> None:
        units = self.units()
        if units:
            self.submitted.emit(self.at(), self.pool.currentData(), units)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def available(self) -> int:
        key = self.pool.currentData()
        return next((pool.points for pool in self.card.pools if pool.pool == key), 0)

    def _fill_units(self) -> None:
        while self.units_layout.rowCount():
            self.units_layout.removeRow(0)
        self.spins = []
        key = self.pool.currentData()
        if key is None:
            self._update_total()
            return
        for unit in self.rules.pools[key].manual_units:
            spin = QSpinBox()
            spin.setRange(0, 999)
            spin.setSuffix(" 口")
            spin.valueChanged.connect(lambda _v: self._update_total())
            self.units_layout.addRow(f"{unit.points:,}P → {unit.yen:,}円", spin)
            self.spins.append((unit, spin))
        self._update_total()

    def units(self) -> tuple[Any, ...]:
        """The chosen units, largest first."""
        chosen = [unit for unit, spin in self.spins for _ in range(spin.value())]
        return tuple(sorted(chosen, key=lambda unit: -unit.points))

    def _update_total(self) -> None:
        from etcbook.domain.money import exchange_totals

        points, yen = exchange_totals(self.units())
        available = self.available()
        text = f"合計 {formatting.points(points)} → {formatting.yen(yen)}（保有 {formatting.points(available)}）"
        ok = 0 < points <= available
        if points > available:
            text += "　ポイントが足りません"
        self.total.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ok)
        self.problem.hide()


class ReverseDialog(QDialog):
    """記録の取り消し: one of the card's exchanges or adjustments, and why.

    取り消す emits ``submitted(record, reason)``; the page reverses it and closes the dialog,
    or shows why it was refused. The record stays in the store, marked 取消.
    """

    submitted = Signal(object, str)

    def __init__(self, records: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("記録の取り消し")
        self.records = records
        self.choice = QComboBox()
        for record in records:
            self.choice.addItem(record.describe(), record)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("例: 記録の誤り、サイトでは交換していない")
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: palette(highlight);")
        self.problem.hide()
        note = QLabel(
            "取り消した記録は消さずに「取消」として残し、変更履歴にも記録します。"
            "ポイントと還元額は、その記録がなかったものとして計算し直します。"
        )
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("取り消す記録", self.choice)
        form.addRow("理由", self.reason)
        buttons = QDialogButtonBox()
        self.reverse_button = buttons.addButton("取り消す", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("やめる", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _submit(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self.show_problem("取り消す理由を書いてください。")
            return
        self.submitted.emit(self.choice.currentData(), reason)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()


def _card_words(card: CardSummary) -> str:
    """``末尾6789（2号車）``: the card in a sentence, told apart from a card with its digits."""
    name = card.label or card.holder
    return f"末尾{card.last4}" + (f"（{name}）" if name else "")
