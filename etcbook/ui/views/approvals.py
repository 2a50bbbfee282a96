"""承認: the accounts desk's queue of claims, the claim's PDF, approve or return with a comment,
and the month's totals per department and per driver.

The rules (only the desk decides, a return needs its reason, an approved claim never changes)
are the database's and :mod:`etcbook.models.workflow`'s; a refusal is told in a message box.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from etcbook import clock
from etcbook.ui import formatting
from etcbook.ui.claim_records import STATUS_LABELS, claim_columns, status_label
from etcbook.ui.context import AppContext
from etcbook.ui.messages import tell, told_refusal
from etcbook.ui.page import Page, page_title
from etcbook.ui.style import never_cut
from etcbook.ui.tables import Column, RecordTableModel, RememberingTableView

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox

    from etcbook.models.workflow import ClaimRecord, ClaimTotal

PREVIEW_WIDTH = 300
ALL = ""


def _total_columns(title: str) -> list[Column[ClaimTotal]]:
    return [
        Column(title, lambda t: t.name or "（未設定）"),
        Column("件数", lambda t: t.claims, "int"),
        Column("提出済み", lambda t: t.submitted, "yen"),
        Column("承認済み", lambda t: t.approved, "yen"),
        Column("合計", lambda t: t.total, "yen"),
    ]


def _month_text(month: str) -> str:
    return month.replace("-", "/")


class ApprovalsPage(Page):
    """承認 page (the accounts desk)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.last_box: QMessageBox | None = None
        self.preview_is_frozen: bool | None = None
        self.last_approved_pdf: Path | None = None
        """The PDF with the approver in the 承認者 box, written by the last approval."""
        self._pdf_data: tuple[int, bytes] | None = None  # the claim shown, its PDF
        layout = QVBoxLayout(self)
        layout.addWidget(page_title("承認"))
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_queue_tab(), "申請の一覧")
        self.tabs.addTab(self._build_totals_tab(), "月の集計")
        layout.addWidget(self.tabs, 1)

    # -- the queue -------------------------------------------------------------------------------

    def _build_queue_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        filters = QHBoxLayout()
        self.status = QComboBox()
        for status in ("submitted", "returned", "approved", "withdrawn"):
            self.status.addItem(STATUS_LABELS[status], status)
        self.status.addItem("すべての状態", ALL)
        self.month = QComboBox()
        self.department = QComboBox()
        self.driver = QComboBox()
        for label, combo in (
            ("状態", self.status),
            ("月", self.month),
            ("部署", self.department),
            ("申請者", self.driver),
        ):
            never_cut(combo)
            filters.addWidget(QLabel(label))
            filters.addWidget(combo)
            combo.currentIndexChanged.connect(self.load_queue)
        filters.addStretch(1)
        layout.addLayout(filters)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.queue = RecordTableModel["ClaimRecord"](claim_columns(desk=True), self)
        self.view = RememberingTableView(self.context.settings, "approvals/queue")
        self.view.setModel(self.queue)
        self.view.restore_columns()
        self.view.setSelectionBehavior(RememberingTableView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(RememberingTableView.SelectionMode.SingleSelection)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        splitter.addWidget(self.view)
        self.preview = QLabel("申請を選ぶとPDFをここに表示します")
        self.preview.setWordWrap(True)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.preview_pages = QWidget()
        self.preview_layout = QVBoxLayout(self.preview_pages)
        self.preview_layout.addWidget(self.preview)
        self.preview_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(self.preview_pages)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(PREVIEW_WIDTH + 30)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

        source_row = QHBoxLayout()
        self.source = QLabel("")
        self.source.setWordWrap(True)
        self.open_pdf_button = QPushButton("PDFを開く")
        self.open_pdf_button.setToolTip("PDFを既定のアプリで大きく表示します")
        self.open_pdf_button.clicked.connect(self.open_pdf)
        self.refresh_button = QPushButton("最新の状態に更新")
        self.refresh_button.setToolTip("ほかの人が提出・判断した申請を読み直します")
        self.refresh_button.clicked.connect(self.refresh)
        source_row.addWidget(self.source, 1)
        source_row.addWidget(self.open_pdf_button)
        source_row.addWidget(self.refresh_button)
        layout.addLayout(source_row)
        decide = QHBoxLayout()
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("コメント（差し戻しには理由が必要です）")
        self.approve_button = QPushButton("承認する")
        self.approve_button.clicked.connect(lambda: self.decide(approve=True))
        self.return_button = QPushButton("差し戻す")
        self.return_button.clicked.connect(lambda: self.decide(approve=False))
        decide.addWidget(QLabel("コメント"))
        decide.addWidget(self.comment, 1)
        decide.addWidget(self.approve_button)
        decide.addWidget(self.return_button)
        layout.addLayout(decide)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        self._selection_changed()
        return tab

    def refresh(self) -> None:
        from etcbook.models.workflow import claim_departments_and_drivers, list_claims

        with self.context.connection() as connection:
            departments, drivers = claim_departments_and_drivers(connection)
            everything = list_claims(connection)
        months = sorted({f"{r.date_from:%Y-%m}" for r in everything}, reverse=True)
        _refill(self.month, [("すべての月", ALL), *((_month_text(m), m) for m in months)])
        _refill(
            self.department,
            [("すべての部署", ALL), *((d or "（未設定）", d) for d in departments)],
        )
        _refill(self.driver, [("すべての申請者", ALL), *((d, d) for d in drivers)])
        default = months[0] if months else clock.today().strftime("%Y-%m")
        _refill(self.totals_month, [(_month_text(m), m) for m in months or [default]])
        self.load_queue()
        self.load_totals()

    def load_queue(self, *_args: Any) -> None:
        """List the claims the filters select; keep the selected claim when it is still there."""
        from etcbook.models.workflow import list_claims

        chosen = self.selected_claim()
        with self.context.connection() as connection:
            records = list_claims(
                connection,
                self.status.currentData() or None,
                month=self.month.currentData() or None,
                department=_chosen(self.department),
                driver=_chosen(self.driver),
            )
        self.queue.set_records(records)
        if not self.view.restore_columns():
            self.view.resizeColumnsToContents()
        ids = [r.id for r in records]
        if chosen is not None and chosen.id in ids:
            self.view.selectRow(ids.index(chosen.id))
        elif records:
            self.view.selectRow(0)
        else:
            self._selection_changed()
            self.result.setText("この条件の申請はありません。")

    def selected_claim(self) -> ClaimRecord | None:
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        return self.queue.record(rows[0].row()) if rows else None

    def select_claim(self, claim_id: int) -> bool:
        """Select the claim ``claim_id`` in the list (when the filters show it)."""
        for row, record in enumerate(self.queue.records):
            if record.id == claim_id:
                self.view.selectRow(row)
                return True
        return False

    def _selection_changed(self, *_args: Any) -> None:
        record = self.selected_claim()
        waiting = record is not None and record.status == "submitted"
        self._pdf_data = None
        self.open_pdf_button.setEnabled(False)
        self.approve_button.setEnabled(waiting)
        self.return_button.setEnabled(waiting)
        self.comment.setEnabled(waiting)
        if record is None:
            self._show_pages([], "申請を選ぶとPDFをここに表示します")
            self.source.setText("")
            return
        self.result.setText(
            f"申請 {record.id}: {status_label(record.status)}"
            + (f"（{record.comment}）" if record.comment else "")
        )
        self.show_pdf(record)

    def show_pdf(self, record: ClaimRecord) -> None:
        """Draw the claim's PDF: the frozen file when this computer has it, else drawn again."""
        from etcbook.models.workflow import claim_pdf_for_review
        from etcbook.ui.pdf_pages import render_pdf_pages

        try:
            data, frozen = claim_pdf_for_review(store=self.context.store, record=record)
        except Exception as error:  # a claim whose card or trips are gone: say so, keep going
            self.preview_is_frozen = None
            self._show_pages([], f"PDFを表示できません: {error}")
            self.source.setText("")
            return
        self.preview_is_frozen = frozen
        self._pdf_data = (record.id, data)
        self.open_pdf_button.setEnabled(True)
        self.source.setText(
            f"申請 {record.id} の保管したPDFです（SHA-256 が記録と一致）。"
            if frozen
            else f"申請 {record.id} のPDFは保管されていないため、凍結した走行から作り直して"
            "表示しています（内容は提出時と同じ走行・金額です）。"
        )
        ratio = self.devicePixelRatioF()
        self._show_pages(render_pdf_pages(data, PREVIEW_WIDTH, ratio), "")

    def open_pdf(self) -> Path | None:
        """Write the shown claim's PDF into this computer's claims folder (``review/``) and open
        it with the default app; return its path."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        from etcbook.models.workflow import claims_folder
        from etcbook.safeio import FileInUse, write_bytes_atomically

        if self._pdf_data is None:
            return None
        claim_id, data = self._pdf_data
        path = claims_folder(self.context.store) / "review" / f"申請{claim_id}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_bytes_atomically(path, data)
        except FileInUse as error:
            self.last_box = tell(self, "承認", str(error))
            return None
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        return path

    def _show_pages(self, pictures: list[Any], text: str) -> None:
        while self.preview_layout.count() > 2:
            item = self.preview_layout.takeAt(1)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.preview.setText(text)
        self.preview.setVisible(bool(text))
        for position, picture in enumerate(pictures, start=1):
            page = QLabel()
            page.setPixmap(picture)
            page.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.preview_layout.insertWidget(position, page)

    @property
    def shown_pdf_pages(self) -> int:
        """How many PDF pages the preview shows (tests)."""
        return self.preview_layout.count() - 2

    def decide(self, *, approve: bool) -> bool:
        """Approve or return the selected claim with the comment; ``True`` when done."""
        from etcbook.models.workflow import decide_claim

        record = self.selected_claim()
        if record is None:
            return False
        comment = self.comment.text().strip()
        if not approve and not comment:
            self.last_box = tell(self, "承認", "差し戻すときは、理由をコメントに書いてください。")
            self.comment.setFocus()
            return False
        try:
            decided, pdf = decide_claim(
                store=self.context.store, claim_id=record.id, approve=approve, comment=comment
            )
        except Exception as error:
            self.last_box = told_refusal(self, "承認", error)
            if self.last_box is None:
                raise
            self.load_queue()
            return False
        self.comment.clear()
        self.last_approved_pdf = pdf
        self.context.ledger_changed.emit()
        self.result.setText(
            f"申請 {decided.id}（{decided.driver}、{formatting.yen(decided.total)}）を"
            + (f"承認しました。承認者欄入りのPDF: {pdf}" if pdf else "差し戻しました。")
        )
        return True

    # -- the month's totals ---------------------------------------------------------------------

    def _build_totals_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        self.totals_month = QComboBox()
        never_cut(self.totals_month)
        self.totals_month.currentIndexChanged.connect(self.load_totals)
        row.addWidget(QLabel("月"))
        row.addWidget(self.totals_month)
        note = QLabel("提出済みと承認済みの申請を、期間の始まる月で集計します。")
        note.setWordWrap(True)
        row.addWidget(note, 1)
        layout.addLayout(row)
        grid = QGridLayout()
        self.by_department = RecordTableModel["ClaimTotal"](_total_columns("部署"), self)
        self.by_driver = RecordTableModel["ClaimTotal"](_total_columns("申請者"), self)
        self.department_view = RememberingTableView(self.context.settings, "approvals/depts")
        self.driver_view = RememberingTableView(self.context.settings, "approvals/drivers")
        for column, (title, model, view) in enumerate(
            (
                ("部署別", self.by_department, self.department_view),
                ("申請者別", self.by_driver, self.driver_view),
            )
        ):
            view.setModel(model)
            grid.addWidget(QLabel(title), 0, column)
            grid.addWidget(view, 1, column)
        layout.addLayout(grid, 1)
        self.totals_text = QLabel("")
        layout.addWidget(self.totals_text)
        return tab

    def load_totals(self, *_args: Any) -> None:
        from etcbook.models.workflow import month_claim_totals

        month = self.totals_month.currentData()
        if not month:
            return
        with self.context.connection() as connection:
            departments, drivers = month_claim_totals(connection, month)
        self.by_department.set_records(departments)
        self.by_driver.set_records(drivers)
        for view in (self.department_view, self.driver_view):
            if not view.restore_columns():
                view.resizeColumnsToContents()
        self.totals_text.setText(
            f"{_month_text(month)}: 提出済み {formatting.yen(sum(t.submitted for t in drivers))}"
            f"　承認済み {formatting.yen(sum(t.approved for t in drivers))}"
            f"　{sum(t.claims for t in drivers):,}件"
        )

    def save_settings(self) -> None:
        for view in (self.view, self.department_view, self.driver_view):
            view.save_settings()


def _refill(combo: QComboBox, items: list[tuple[str, str]]) -> None:
    """Replace a combo box's items, keeping the chosen value when it is still there."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for label, value in items:
        combo.addItem(label, value)
    combo.setCurrentIndex(max(combo.findData(current), 0))
    combo.blockSignals(False)


def _chosen(combo: QComboBox) -> str | None:
    """The combo's value, ``None`` for "all" (the first item)."""
    return None if combo.currentIndex() <= 0 else str(combo.currentData())
