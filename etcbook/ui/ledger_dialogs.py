"""Small dialogs that change the mileage ledger: 利用停止・再開, a manual adjustment of points
or rebate, 通勤パス months, a trip entered by hand.

Thin: each collects input and calls :mod:`etcbook.models.mileage_changes` (the functions the
``etcbook`` commands use) in one write transaction. A refusal is shown in the dialog with the
same reason the command line gives, and nothing is recorded; a change recorded emits the
context's "ledger changed", so every page (and the engine's shared run) refreshes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from etcbook.ui import formatting
from etcbook.ui.context import AppContext
from etcbook.ui.labels import operator_label

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from etcbook.domain.rules import Rules

PROBLEM_STYLE = "color: #c0392b;"
MONTH_ROLE = Qt.ItemDataRole.UserRole
"""The ``YYYY-MM`` of a month in the 通勤パス list."""
AMOUNT_LIMIT = 100_000_000


def _qdatetime(value: dt.datetime) -> QDateTime:
    return QDateTime(QDate(value.year, value.month, value.day), QTime(value.hour, value.minute))


def _qdate(value: dt.date) -> QDate:
    return QDate(value.year, value.month, value.day)


def _datetime(edit: QDateTimeEdit) -> dt.datetime:
    value = edit.dateTime()
    day, time = value.date(), value.time()
    return dt.datetime(day.year(), day.month(), day.day(), time.hour(), time.minute())


def _date(edit: QDateEdit) -> dt.date:
    day = edit.date()
    return dt.date(day.year(), day.month(), day.day())


def _datetime_edit(value: dt.datetime) -> QDateTimeEdit:
    edit = QDateTimeEdit(_qdatetime(value))
    edit.setDisplayFormat("yyyy/MM/dd HH:mm")
    edit.setCalendarPopup(True)
    return edit


def _date_edit(value: dt.date, display: str = "yyyy/MM/dd") -> QDateEdit:
    edit = QDateEdit(_qdate(value))
    edit.setDisplayFormat(display)
    edit.setCalendarPopup(True)
    return edit


def _amount_spin(suffix: str, minimum: int = -AMOUNT_LIMIT) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, AMOUNT_LIMIT)
    spin.setGroupSeparatorShown(True)
    spin.setSuffix(suffix)
    return spin


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class LedgerChangeDialog(QDialog):
    """A form, a place for the refusal, and 記録 / キャンセル.

    Subclasses build the form and implement :meth:`change` (runs in a write transaction;
    raises ChangeRefused). :meth:`submit` records it, or shows the reason and keeps the
    dialog open. ``recorded(result)`` is emitted after "ledger changed".
    """

    recorded = Signal(object)

    def __init__(self, context: AppContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(PROBLEM_STYLE)
        self.problem.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button.setText("記録")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("キャンセル")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.body = QVBoxLayout(self)
        self.body.addLayout(self.form)

    def finish_layout(self, *notes: str) -> None:
        """Add the notes, the problem line and the buttons under the form."""
        for text in notes:
            self.body.addWidget(_note(text))
        self.body.addWidget(self.problem)
        self.body.addWidget(self.buttons)

    @property
    def save_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def change(self, connection: Connection) -> Any:
        """Record the change (raise ChangeRefused to refuse it); return what was recorded."""
        raise NotImplementedError

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def submit(self) -> bool:
        """Record the change; ``False`` (and the reason shown) when it is refused."""
        from etcbook.models.mileage_changes import ChangeRefused

        try:
            with self.context.transaction() as connection:
                result = self.change(connection)
        except ChangeRefused as refused:
            self.show_problem(str(refused))
            return False
        self.problem.hide()
        self.context.ledger_changed.emit()
        self.recorded.emit(result)
        self.accept()
        return True


# --- 利用停止・再開 ----------------------------------------------------------------------------


class StopDialog(LedgerChangeDialog):
    """ETCマイレージの利用停止・利用再開を記録 (``etcbook card stop`` / ``card resume``)."""

    def __init__(
        self,
        context: AppContext,
        last4: str,
        *,
        stopped_now: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        from etcbook import clock

        super().__init__(context, f"利用停止・再開を記録 — 末尾{last4}", parent)
        self.last4 = last4
        self.stop_choice = QRadioButton("利用停止")
        self.resume_choice = QRadioButton("利用再開")
        self._choices = QButtonGroup(self)
        self._choices.addButton(self.stop_choice)
        self._choices.addButton(self.resume_choice)
        (self.resume_choice if stopped_now else self.stop_choice).setChecked(True)
        choice_row = QHBoxLayout()
        choice_row.addWidget(self.stop_choice)
        choice_row.addWidget(self.resume_choice)
        choice_row.addStretch(1)
        self.when = _datetime_edit(clock.now())
        self.note = QLineEdit()
        self.note.setPlaceholderText("窓口、担当者、受付番号など")
        self.form.addRow("記録すること", choice_row)
        self.form.addRow("日時", self.when)
        self.form.addRow("メモ", self.note)
        self.finish_layout(
            "利用停止のあいだの走行には、ポイントも還元額の充当もありません。"
            "ETCマイレージのサイト（または窓口）で手続きした日時を記録してください。"
        )

    def set_stopped(self, stopped: bool) -> None:
        (self.stop_choice if stopped else self.resume_choice).setChecked(True)

    def set_at(self, at: dt.datetime) -> None:
        self.when.setDateTime(_qdatetime(at))

    def change(self, connection: Connection) -> Any:
        from etcbook.models.mileage_changes import record_stop

        return record_stop(
            connection=connection,
            last4=self.last4,
            at=_datetime(self.when),
            stopped=self.stop_choice.isChecked(),
            note=self.note.text(),
        )


# --- 調整 ----------------------------------------------------------------------------------------


class AdjustmentDialog(LedgerChangeDialog):
    """ポイントか還元額の手入力の調整 (``etcbook adjust``): campaign credits, corrections."""

    def __init__(
        self,
        context: AppContext,
        last4: str,
        rules: Rules,
        *,
        on: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        from etcbook import clock
        from etcbook.models.mileage_changes import REASON_EXAMPLES

        super().__init__(context, f"ポイント・還元額の調整を記録 — 末尾{last4}", parent)
        self.last4 = last4
        self.rules = rules
        self.points_choice = QRadioButton("ポイント")
        self.rebate_choice = QRadioButton("還元額")
        self._kinds = QButtonGroup(self)
        self._kinds.addButton(self.points_choice)
        self._kinds.addButton(self.rebate_choice)
        self.points_choice.setChecked(True)
        kind_row = QHBoxLayout()
        kind_row.addWidget(self.points_choice)
        kind_row.addWidget(self.rebate_choice)
        kind_row.addStretch(1)
        self.pool = QComboBox()
        for key, pool in rules.pools.items():
            self.pool.addItem(pool.name, key)
        self.amount = _amount_spin(" P")
        self.on = _date_edit(on or clock.today())
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(f"例: {REASON_EXAMPLES}")
        self.form.addRow("調整するもの", kind_row)
        self.form.addRow("プール", self.pool)
        self.form.addRow("増減", self.amount)
        self.form.addRow("反映する日", self.on)
        self.form.addRow("理由", self.reason)
        self.points_choice.toggled.connect(self._kind_changed)
        self.finish_layout(
            "減らすときは負の数を入れます。調整はその日の0時に反映されます。"
            "記録する前に、これまでの記録と合わせて計算し直して確かめます。"
        )

    def _kind_changed(self, points: bool) -> None:
        self.pool.setEnabled(points)
        self.amount.setSuffix(" P" if points else " 円")

    def set_values(
        self,
        *,
        points: int | None = None,
        rebate: int | None = None,
        pool: str | None = None,
        reason: str | None = None,
        on: dt.date | None = None,
    ) -> None:
        """Fill the form (tests, a suggestion from another page)."""
        if rebate is not None:
            self.rebate_choice.setChecked(True)
            self.amount.setValue(rebate)
        elif points is not None:
            self.points_choice.setChecked(True)
            self.amount.setValue(points)
        if pool is not None:
            self.pool.setCurrentIndex(max(0, self.pool.findData(pool)))
        if reason is not None:
            self.reason.setText(reason)
        if on is not None:
            self.on.setDate(_qdate(on))

    def change(self, connection: Connection) -> Any:
        from etcbook.models.mileage_changes import record_adjustment

        points = self.points_choice.isChecked()
        return record_adjustment(
            connection=connection,
            rules=self.rules,
            last4=self.last4,
            on=_date(self.on),
            reason=self.reason.text(),
            pool=self.pool.currentData() if points else None,
            points=self.amount.value() if points else 0,
            rebate=0 if points else self.amount.value(),
        )


# --- 通勤パス -----------------------------------------------------------------------------------


class CommutePassDialog(QDialog):
    """通勤パスの月 of a card (``etcbook commute-pass``): a month with a 通勤パス has no
    平日朝夕割引. Adding or removing a month is recorded at once."""

    def __init__(self, context: AppContext, last4: str, parent: QWidget | None = None) -> None:
        from etcbook import clock

        super().__init__(parent)
        self.context = context
        self.last4 = last4
        self.setWindowTitle(f"通勤パスの月 — 末尾{last4}")
        self.setMinimumWidth(420)
        self.months = QListWidget()
        self.months.setObjectName("commuteMonths")
        today = clock.today()
        self.month = _date_edit(today.replace(day=1), "yyyy/MM")
        self.add_button = QPushButton("この月を追加")
        self.add_button.clicked.connect(self.add_month)
        self.remove_button = QPushButton("選んだ月を外す")
        self.remove_button.clicked.connect(self.remove_selected)
        self.remove_button.setEnabled(False)
        self.months.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.months.selectedItems()))
        )
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(PROBLEM_STYLE)
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("閉じる")
        buttons.rejected.connect(self.reject)
        add_row = QHBoxLayout()
        add_row.addWidget(self.month)
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(
            _note(
                "通勤パスを使った月は平日朝夕割引の対象になりません。"
                "登録した月の朝夕割は計算から外れます。"
            )
        )
        layout.addWidget(self.months)
        layout.addLayout(add_row)
        layout.addWidget(self.remove_button)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self._apply(None, True)

    def month_keys(self) -> list[str]:
        """The listed months, ``YYYY-MM``."""
        return [str(self.months.item(i).data(MONTH_ROLE)) for i in range(self.months.count())]

    def add_month(self) -> bool:
        day = self.month.date()
        return self._apply(f"{day.year():04d}-{day.month():02d}", True)

    def remove_selected(self) -> bool:
        items = self.months.selectedItems()
        if not items:
            return False
        return self._apply(str(items[0].data(MONTH_ROLE)), False)

    def _apply(self, month: str | None, present: bool) -> bool:
        from etcbook.models.mileage_changes import ChangeRefused, set_commute_pass

        try:
            with self.context.transaction() as connection:
                months = set_commute_pass(
                    connection=connection, last4=self.last4, month=month, present=present
                )
        except ChangeRefused as refused:
            self.problem.setText(str(refused))
            self.problem.show()
            return False
        self.problem.hide()
        self.months.clear()
        for key in months:
            year, number = (int(part) for part in key.split("-"))
            self.months.addItem(formatting.month((year, number)))
            self.months.item(self.months.count() - 1).setData(MONTH_ROLE, key)
        if month is not None:
            self.context.ledger_changed.emit()
        return True


# --- 走行を手で追加 ------------------------------------------------------------------------------


class TripDialog(LedgerChangeDialog):
    """走行を手で追加 (``etcbook trip add``): a trip not in a 明細CSV, or not imported yet."""

    def __init__(
        self,
        context: AppContext,
        cards: Sequence[tuple[str, str]],
        *,
        last4: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        from etcbook import clock
        from etcbook.domain.points import DEFAULT_OPERATOR, OPERATOR_KEYS

        super().__init__(context, "走行を追加", parent)
        self.card = QComboBox()
        # Keyed by card id where the caller gives CardName values (cards may share their digits).
        self._cards: dict[object, str] = {}
        for number, holder in cards:
            key = _card_key(number)
            self._cards[key] = number
            self.card.addItem(f"末尾 {number}　{holder}", key)
        if last4 is not None:
            self.card.setCurrentIndex(max(0, self.card.findData(_card_key(last4))))
        now = clock.now()
        self.exit_at = _datetime_edit(now)
        self.entry_known = QCheckBox("記録する")
        self.entry_at = _datetime_edit(now - dt.timedelta(minutes=30))
        self.entry_at.setEnabled(False)
        self.entry_known.toggled.connect(self.entry_at.setEnabled)
        entry_row = QHBoxLayout()
        entry_row.addWidget(self.entry_known)
        entry_row.addWidget(self.entry_at, 1)
        self.entry_ic = QLineEdit()
        self.entry_ic.setPlaceholderText("本線料金所だけのときは空欄")
        self.exit_ic = QLineEdit()
        self.exit_ic.setPlaceholderText("例: 厚木")
        self.toll = _amount_spin(" 円")
        self.operator = QComboBox()
        for key in OPERATOR_KEYS:
            self.operator.addItem(operator_label(key), key)
        self.operator.setCurrentIndex(max(0, self.operator.findData(DEFAULT_OPERATOR)))
        self.morning_evening = QCheckBox("平日朝夕割引の対象")
        self.rebate_known = QCheckBox("明細の還元額適用料金を入れる")
        self.rebate = _amount_spin(" 円")
        self.rebate.setEnabled(False)
        self.rebate_known.toggled.connect(self.rebate.setEnabled)
        rebate_row = QHBoxLayout()
        rebate_row.addWidget(self.rebate_known)
        rebate_row.addWidget(self.rebate, 1)
        self.form.addRow("カード", self.card)
        self.form.addRow("出口の日時", self.exit_at)
        self.form.addRow("入口の日時", entry_row)
        self.form.addRow("入口IC", self.entry_ic)
        self.form.addRow("出口IC", self.exit_ic)
        self.form.addRow("通行料金", self.toll)
        self.form.addRow("道路事業者", self.operator)
        self.form.addRow("", self.morning_evening)
        self.form.addRow("還元額適用料金", rebate_row)
        self.save_button.setEnabled(self.card.count() > 0)
        self.finish_layout(
            "還元額の充当・請求額・ポイントはマイレージエンジンが計算します。"
            "あとで同じ走行を含む明細CSVを取り込んでも、二重には登録されません。"
        )

    def set_values(self, **values: Any) -> None:
        """Fill the form: ``exit_at``, ``entry_at``, ``entry_ic``, ``exit_ic``, ``toll``,
        ``operator``, ``morning_evening``, ``rebate_applied`` (tests)."""
        setters: dict[str, Callable[[Any], None]] = {
            "exit_at": lambda v: self.exit_at.setDateTime(_qdatetime(v)),
            "entry_ic": self.entry_ic.setText,
            "exit_ic": self.exit_ic.setText,
            "toll": self.toll.setValue,
            "operator": lambda v: self.operator.setCurrentIndex(self.operator.findData(v)),
            "morning_evening": self.morning_evening.setChecked,
        }
        for name, value in values.items():
            if name == "entry_at":
                self.entry_known.setChecked(value is not None)
                if value is not None:
                    self.entry_at.setDateTime(_qdatetime(value))
            elif name == "rebate_applied":
                self.rebate_known.setChecked(value is not None)
                self.rebate.setValue(value or 0)
            else:
                setters[name](value)

    def change(self, connection: Connection) -> Any:
        from etcbook.models.mileage_changes import add_trip_by_hand

        return add_trip_by_hand(
            connection=connection,
            last4=self._cards[self.card.currentData()],
            exit_at=_datetime(self.exit_at),
            exit_ic=self.exit_ic.text(),
            toll=self.toll.value(),
            entry_at=_datetime(self.entry_at) if self.entry_known.isChecked() else None,
            entry_ic=self.entry_ic.text(),
            operator=self.operator.currentData(),
            morning_evening=self.morning_evening.isChecked(),
            rebate_applied=self.rebate.value() if self.rebate_known.isChecked() else None,
        )


def _card_key(card: str) -> object:
    """A card choice's data: the id a CardName carries, else its digits."""
    card_id = getattr(card, "id", None)
    return str(card) if card_id is None else card_id
