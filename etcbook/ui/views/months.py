"""月締め: the ledger's months with their state; close a month, reopen it with a reason; the
audit log's reopenings.

In a closed month no trip may be added, imported, edited or deleted by anyone (a database
trigger); reopening is recorded in the audit log with its reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from etcbook.ui.context import AppContext
from etcbook.ui.messages import tell, told_refusal
from etcbook.ui.page import Page, page_title
from etcbook.ui.tables import Column, RecordTableModel, RememberingTableView

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox

    from etcbook.models.workflow import MonthState, Reopening

MONTH_COLUMNS: list[Column[MonthState]] = [
    Column("月", lambda m: m.month.replace("-", "/")),
    Column("状態", lambda m: "締め済み" if m.closed else "未締め"),
    Column("走行", lambda m: m.trips, "int"),
    Column("締めた日時", lambda m: m.closed_at, "datetime"),
    Column("締めた担当", lambda m: m.closed_by or ""),
]

REOPENING_COLUMNS: list[Column[Reopening]] = [
    Column("解除した日時", lambda r: r.at, "datetime"),
    Column("月", lambda r: r.month.replace("-", "/")),
    Column("担当", lambda r: r.by),
    Column("理由", lambda r: r.reason, tooltip=lambda r: r.reason or None),
]


class MonthsPage(Page):
    """月締め page (the accounts desk)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.last_box: QMessageBox | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(page_title("月締め"))
        note = QLabel(
            "締めた月の走行は、だれも追加・取り込み・変更・削除できません。"
            "解除するときは理由を書きます（監査ログに残ります）。"
        )
        note.setWordWrap(True)
        layout.addWidget(note)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.months = RecordTableModel["MonthState"](MONTH_COLUMNS, self)
        self.view = RememberingTableView(self.context.settings, "months/months")
        self.view.setModel(self.months)
        self.view.restore_columns()
        self.view.setSelectionBehavior(RememberingTableView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(RememberingTableView.SelectionMode.SingleSelection)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        splitter.addWidget(self.view)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(QLabel("締めの解除（監査ログ）"))
        self.reopenings = RecordTableModel["Reopening"](REOPENING_COLUMNS, self)
        self.reopen_view = RememberingTableView(self.context.settings, "months/reopenings")
        self.reopen_view.setModel(self.reopenings)
        lower_layout.addWidget(self.reopen_view)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

        row = QHBoxLayout()
        self.close_button = QPushButton("この月を締める")
        self.close_button.clicked.connect(self.close_selected)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("解除の理由（必須）")
        self.reopen_button = QPushButton("締めを解除する")
        self.reopen_button.clicked.connect(self.reopen_selected)
        row.addWidget(self.close_button)
        row.addSpacing(24)
        row.addWidget(QLabel("理由"))
        row.addWidget(self.reason, 1)
        row.addWidget(self.reopen_button)
        layout.addLayout(row)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        self._selection_changed()

    def refresh(self) -> None:
        from etcbook.models.workflow import month_reopenings, month_states

        chosen = self.selected_month()
        with self.context.connection() as connection:
            states = month_states(connection)
            reopenings = month_reopenings(connection)
        self.months.set_records(states)
        self.reopenings.set_records(reopenings)
        for view in (self.view, self.reopen_view):
            if not view.restore_columns():
                view.resizeColumnsToContents()
        months = [m.month for m in states]
        if chosen is not None and chosen.month in months:
            self.view.selectRow(months.index(chosen.month))
        elif states:
            self.view.selectRow(0)
        if not states:
            self.result.setText("走行のある月はまだありません。")
        self._selection_changed()

    def selected_month(self) -> MonthState | None:
        rows = self.view.selectionModel().selectedRows()
        return self.months.record(rows[0].row()) if rows else None

    def select_month(self, month: str) -> bool:
        for row, state in enumerate(self.months.records):
            if state.month == month:
                self.view.selectRow(row)
                return True
        return False

    def _selection_changed(self, *_args: Any) -> None:
        state = self.selected_month()
        self.close_button.setEnabled(state is not None and not state.closed)
        self.reopen_button.setEnabled(state is not None and state.closed)
        self.reason.setEnabled(state is not None and state.closed)

    def close_selected(self) -> bool:
        from etcbook.models.workflow import close_month

        state = self.selected_month()
        if state is None:
            return False
        return self._change(lambda c: close_month(c, state.month), f"{state.month} を締めました。")

    def reopen_selected(self) -> bool:
        from etcbook.models.workflow import reopen_month

        state = self.selected_month()
        if state is None:
            return False
        reason = self.reason.text().strip()
        if not reason:
            self.last_box = tell(self, "月締め", "締めを解除する理由を書いてください。")
            self.reason.setFocus()
            return False
        done = self._change(
            lambda c: reopen_month(c, state.month, reason), f"{state.month} の締めを解除しました。"
        )
        if done:
            self.reason.clear()
        return done

    def _change(self, work: Any, said: str) -> bool:
        try:
            with self.context.transaction() as connection:
                work(connection)
        except Exception as error:
            self.last_box = told_refusal(self, "月締め", error)
            if self.last_box is None:
                raise
            return False
        self.result.setText(said)
        self.context.ledger_changed.emit()
        return True

    def save_settings(self) -> None:
        for view in (self.view, self.reopen_view):
            view.save_settings()
