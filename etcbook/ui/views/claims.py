"""経費精算: choose card, period and trips; preview the totals; export PDF, CSV and the bundle.

The totals come from :class:`etcbook.domain.claims.Claim`; the export runs as an operation off
the GUI thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QModelIndex, QPersistentModelIndex, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from etcbook import clock
from etcbook.domain.calendar import add_months
from etcbook.ui import formatting
from etcbook.ui.claim_records import claim_columns, status_label
from etcbook.ui.context import AppContext
from etcbook.ui.messages import told_refusal
from etcbook.ui.page import Page, page_title
from etcbook.ui.tables import Column, RecordTableModel, RememberingTableView
from etcbook.ui.workflow_role import WORKFLOW_ROLES, window_role

if TYPE_CHECKING:
    from etcbook.domain.claims import Claim, ClaimLine
    from etcbook.export.bundle import ClaimOutputs
    from etcbook.models.vault import DocumentRecord
    from etcbook.models.workflow import ClaimRecord
    from etcbook.ui.journal_dialog import JournalExportDialog

AnyIndex = QModelIndex | QPersistentModelIndex
EXPORT_FOLDER_SETTING = "claims/folder"

LINE_COLUMNS: list[Column[ClaimLine]] = [
    Column("精算", lambda ln: "", "text"),
    Column("出口日時", lambda ln: ln.exit_at, "datetime"),
    Column("区間", lambda ln: ln.route),
    Column("事業者", lambda ln: ln.operator),
    Column("目的", lambda ln: ln.purpose),
    Column("通行料金", lambda ln: ln.toll, "yen"),
    Column("還元額充当", lambda ln: ln.rebate_applied, "yen"),
    Column("請求額", lambda ln: ln.billed, "yen"),
    Column("業務割合", lambda ln: ln.business_share, "percent"),
    Column("精算額", lambda ln: ln.claimed, "yen"),
]


class ChoosableLines(RecordTableModel["ClaimLine"]):
    """Claim lines with a check box in the first column: which trips go on the claim."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(LINE_COLUMNS, parent)
        self._chosen: list[bool] = []

    def set_records(self, records: Any) -> None:
        records = list(records)
        self._chosen = [line.business_share > 0 for line in records]
        super().set_records(records)

    def chosen(self) -> list[ClaimLine]:
        return [line for line, keep in zip(self.records, self._chosen, strict=True) if keep]

    def chosen_rows(self) -> list[int]:
        """The rows ticked, in order."""
        return [row for row, keep in enumerate(self._chosen) if keep]

    def set_chosen(self, row: int, keep: bool) -> None:
        self.setData(
            self.index(row, 0),
            Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked,
            Qt.ItemDataRole.CheckStateRole,
        )

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == 0:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == 0 and role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if self._chosen[index.row()] else Qt.CheckState.Unchecked
        return super().data(index, role)

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if index.isValid() and index.column() == 0 and role == Qt.ItemDataRole.CheckStateRole:
            state = value.value if isinstance(value, Qt.CheckState) else int(value)
            self._chosen[index.row()] = state == Qt.CheckState.Checked.value
            self.dataChanged.emit(index, index, [role])
            return True
        return False


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


class ClaimsPage(Page):
    """経費精算 page."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._claim: Claim | None = None
        self._last4: dict[int, str] = {}  # the card combo's ids → last 4 digits
        self._labels: dict[int, str] = {}  # … → 呼び名
        self._shared: set[str] = set()  # digits several cards have
        self._documents: list[DocumentRecord] = []
        self.last_outputs: ClaimOutputs | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(page_title("経費精算"))

        box = QGroupBox("精算する走行")
        grid = QGridLayout(box)
        self.card = QComboBox()
        today = clock.today()
        last_month_end = today.replace(day=1) - dt.timedelta(days=1)
        self._period_is_default = True  # until the user sets a period
        self.date_from = QDateEdit(_qdate(last_month_end.replace(day=1)))
        self.date_to = QDateEdit(_qdate(last_month_end))
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy/MM/dd")
            edit.dateChanged.connect(self._period_set_by_user)
        self.claimant = QLineEdit()
        self.claimant.setPlaceholderText("申請者（空欄ならカード名義）")
        self.department = QLineEdit()
        self.department.setPlaceholderText("所属（空欄なら走行の部署）")
        self.basis = QLineEdit()
        self.basis.setPlaceholderText("除外の根拠（例: 業務日誌で按分）")
        self.basis.setToolTip("私用分を除外した根拠（例: 業務日誌により按分）")
        self.mileage_id = QCheckBox("ETCマイレージIDを載せる")
        self.mileage_id.setChecked(True)
        load = QPushButton("走行を表示")
        load.clicked.connect(self.load)
        widgets: list[tuple[str, QWidget]] = [
            ("カード", self.card),
            ("期間", self.date_from),
            ("～", self.date_to),
            ("申請者", self.claimant),
            ("所属", self.department),
            ("根拠", self.basis),
        ]
        for i, (label, widget) in enumerate(widgets):
            grid.addWidget(QLabel(label), i // 3, (i % 3) * 2)
            grid.addWidget(widget, i // 3, (i % 3) * 2 + 1)
        grid.addWidget(self.mileage_id, 2, 1)
        grid.addWidget(load, 2, 5)
        layout.addWidget(box)

        self.lines = ChoosableLines(self)
        self.lines.dataChanged.connect(self._update_totals)
        self._trip_ids: list[int] = []  # the lines' trips, row by row
        self.view = RememberingTableView(self.context.settings, "claims/lines")
        self.view.setModel(self.lines)
        self.view.restore_columns()
        self.workflow: ClaimWorkflowBox | None = None
        if window_role(context) in WORKFLOW_ROLES:
            # A shared ledger: the claim is submitted to the accounts desk and decided there.
            splitter = QSplitter(Qt.Orientation.Vertical)
            splitter.addWidget(self.view)
            self.workflow = ClaimWorkflowBox(self)
            splitter.addWidget(self.workflow)
            splitter.setStretchFactor(0, 3)
            splitter.setStretchFactor(1, 2)
            layout.addWidget(splitter, 1)
        else:
            layout.addWidget(self.view, 1)

        self.totals = QLabel("")
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.totals)
        row = QHBoxLayout()
        self.result = QLabel("")
        self.result.setWordWrap(True)
        row.addWidget(self.result, 1)
        self.export_button = QPushButton("書き出す（PDF・CSV・ZIP）…")
        self.export_button.clicked.connect(self._choose_folder_and_export)
        self.journal_button = QPushButton("会計ソフト用に書き出す…")
        self.journal_button.setToolTip(
            "弥生・freee・マネーフォワードに取り込む仕訳ファイルを書き出します"
        )
        self.journal_button.clicked.connect(self.open_journal_export)
        self.open_button = QPushButton("フォルダを開く")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_folder)
        row.addWidget(self.export_button)
        row.addWidget(self.journal_button)
        row.addWidget(self.open_button)
        layout.addLayout(row)

    # -- data ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        from sqlalchemy import text

        with self.context.connection() as connection:
            # By card id: cards of a fleet may share their last 4 digits.
            cards = connection.execute(
                text(
                    "SELECT c.last4, c.id, c.label, c.holder, count(t.id) AS n FROM cards c"
                    " LEFT JOIN trips t ON t.card_id = c.id AND t.business_share > 0"
                    " GROUP BY c.id, c.last4, c.label, c.holder ORDER BY n DESC, c.last4, c.id"
                )
            ).all()
        digits = [row[0] for row in cards]
        self._shared = {last4 for last4 in digits if digits.count(last4) > 1}
        cards = self.context.card_filter.narrow(cards, lambda row: row[1])
        current = self.card.currentData()
        self.card.blockSignals(True)
        self.card.clear()
        self._last4 = {}
        self._labels = {}
        for last4, card_id, label, holder, _n in cards:
            self._last4[card_id] = last4
            self._labels[card_id] = label or ""
            self.card.addItem(formatting.card_title(last4, label, holder), card_id)
        index = self.card.findData(current)
        self.card.setCurrentIndex(max(index, 0))
        self.card.blockSignals(False)
        if self._period_is_default:
            self._default_to_latest_business_month()
        self.load()
        if self.workflow is not None:
            self.workflow.refresh()

    def _period_set_by_user(self, *_args: Any) -> None:
        self._period_is_default = False

    def _default_to_latest_business_month(self) -> None:
        """While the user has not set a period: last month, or when the card has no business
        trip then, the latest month before it that has one (an empty page helps no one)."""
        from sqlalchemy import text

        card = self.card.currentData()
        date_from, date_to = _date(self.date_from.date()), _date(self.date_to.date())
        if card is None:
            return
        with self.context.connection() as connection:
            latest = connection.execute(
                text(
                    "SELECT max(t.dated_at) FROM trips t"
                    " WHERE t.card_id = :card AND t.business_share > 0 AND t.dated_at < :end"
                ),
                {"card": card, "end": (date_to + dt.timedelta(days=1)).isoformat()},
            ).scalar()
        if latest is None or latest >= date_from.isoformat():
            return
        first = dt.date.fromisoformat(latest[:10]).replace(day=1)
        last = add_months(first, 1) - dt.timedelta(days=1)
        for edit, day in ((self.date_from, first), (self.date_to, last)):
            edit.blockSignals(True)
            edit.setDate(_qdate(day))
            edit.blockSignals(False)

    def load(self) -> None:
        """Read every trip of the card and period; those with a business share are ticked."""
        from etcbook.models.claims import ClaimError, claim_from_store, line_of
        from etcbook.models.trips import TripFilter, list_trip_rows

        card_id = self.card.currentData()
        if card_id is None:
            self.lines.set_records([])
            self.totals.setText("カードが登録されていません。")
            return
        card = self._last4[card_id]
        date_from, date_to = _date(self.date_from.date()), _date(self.date_to.date())
        try:
            claim, documents = claim_from_store(
                store=self.context.store,
                card=card,
                card_id=card_id,
                date_from=date_from,
                date_to=date_to,
                claimant=self.claimant.text().strip() or None,
                department=self.department.text().strip() or None,
                include_mileage_id=self.mileage_id.isChecked(),
                private_use_basis=self.basis.text().strip(),
                prepared_on=clock.today(),
            )
        except ClaimError as exc:
            self.totals.setText(str(exc))
            return
        with self.context.connection() as connection:
            rows = list_trip_rows(
                connection=connection,
                trip_filter=TripFilter(card_id=card_id, date_from=date_from, date_to=date_to),
            )
        self._claim = claim
        self._documents = documents
        self._trip_ids = [int(row["id"]) for row in rows]
        self.lines.set_records([line_of(row) for row in rows])
        if not self.view.restore_columns():
            self.view.resizeColumnsToContents()
        self._update_totals()
        if not rows:
            self.totals.setText(
                f"{date_from:%Y/%m/%d}〜{date_to:%Y/%m/%d} に末尾{card}"
                + (f"（{self._labels[card_id]}）" if self._labels.get(card_id) else "")
                + "の走行はありません。"
                "期間を変えて「走行を表示」を押してください。"
            )

    def current_claim(self) -> Claim | None:
        """The claim as chosen on the page (the ticked trips)."""
        if self._claim is None:
            return None
        return dataclasses.replace(self._claim, lines=tuple(self.lines.chosen()))

    def chosen_trip_ids(self) -> list[int]:
        """The ids of the ticked trips (what a submitted claim freezes)."""
        return [self._trip_ids[row] for row in self.lines.chosen_rows()]

    def current_last4(self) -> str | None:
        """The last 4 digits of the card chosen."""
        return self._last4.get(self.card.currentData())

    def journal_card_key(self) -> str | None:
        """The card chosen as the journal settings name it (its digits, ``id:N`` when shared)."""
        card_id = self.card.currentData()
        last4 = self._last4.get(card_id)
        if last4 is None:
            return None
        return f"id:{card_id}" if last4 in self._shared else last4

    def select_card(self, card: int | str) -> None:
        """Choose a card by its id, or by its last 4 digits (the first card that has them)."""
        if isinstance(card, str):
            card = next((i for i, last4 in self._last4.items() if last4 == card), -1)
        index = self.card.findData(card)
        if index >= 0:
            self.card.setCurrentIndex(index)

    def show_claim_period(self, card: int | str, date_from: dt.date, date_to: dt.date) -> None:
        """Set the card (its id; or its last 4 digits, see :meth:`select_card`) and the period
        (a returned claim to correct) and list their trips."""
        self.select_card(card)
        for edit, day in ((self.date_from, date_from), (self.date_to, date_to)):
            edit.setDate(_qdate(day))
        self.load()

    def _update_totals(self, *_args: Any) -> None:
        claim = self.current_claim()
        if claim is None:
            return
        t = claim.totals
        self.totals.setText(
            f"走行 {t.trips:,}件　通行料金 {formatting.yen(t.toll)}　"
            f"還元額充当 {formatting.yen(t.rebate_applied)}　"
            f"請求額（差引後） {formatting.yen(t.billed)}　私用分 {formatting.yen(t.private_excluded)}　"
            f"精算額 {formatting.yen(t.claimed)}　添付する証憑 {len(self._documents)}件"
        )

    # -- export --------------------------------------------------------------------------------

    def _choose_folder_and_export(self) -> None:
        from etcbook.ui.folders import remember_folder, start_folder

        settings = self.context.settings
        folder = QFileDialog.getExistingDirectory(
            self, "書き出すフォルダ", start_folder(settings, EXPORT_FOLDER_SETTING)
        )
        if folder:
            remember_folder(settings, EXPORT_FOLDER_SETTING, folder)
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        """Write the claim into ``folder`` off the GUI thread."""
        from etcbook.export.bundle import write_claim_outputs
        from etcbook.models.vault import original_files
        from etcbook.ui.operations import Operation

        claim = self.current_claim()
        if claim is None:
            return
        originals = original_files(self.context.store, self._documents)
        self.export_button.setEnabled(False)

        def done(outputs: ClaimOutputs) -> None:
            self.last_outputs = outputs
            self.export_button.setEnabled(True)
            self.open_button.setEnabled(True)
            self.result.setText(
                f"書き出しました（精算額 {formatting.yen(outputs.claimed_total)}）: "
                f"{outputs.pdf.name}, {outputs.csv.name}, {outputs.bundle.name}"
            )

        def failed(error: BaseException) -> None:
            from etcbook.safeio import FileInUse
            from etcbook.ui.messages import tell

            self.export_button.setEnabled(True)
            self.result.setText(f"書き出せませんでした: {error}")
            if isinstance(error, FileInUse):
                # The previous PDF, CSV and ZIP are all still there, unchanged.
                self.in_use_box = tell(self, "経費精算", f"書き出せませんでした。\n{error}")

        self.context.run(
            Operation(
                work=lambda _progress: write_claim_outputs(claim, folder, originals),
                title="経費精算書を書き出しています",
                on_success=done,
                on_failure=failed,
                parent=self,
            )
        )

    def open_journal_export(self) -> JournalExportDialog:
        """「会計ソフト用に書き出す」 for the page's card and period."""
        from etcbook.ui.journal_dialog import JournalExportDialog

        dialog = JournalExportDialog(
            self.context,
            card=self.journal_card_key(),
            date_from=_date(self.date_from.date()),
            date_to=_date(self.date_to.date()),
            parent=self,
        )
        dialog.open()
        return dialog

    def save_settings(self) -> None:
        self.view.save_settings()
        if self.workflow is not None:
            self.workflow.save_settings()

    def open_folder(self) -> None:
        if self.last_outputs is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_outputs.pdf.parent)))


class ClaimWorkflowBox(QGroupBox):
    """申請 on a shared ledger: the user's claims with their status, the accounts desk's comment
    and decision; submit the page's card, period and ticked trips; reopen a returned claim to
    correct it and submit it again."""

    def __init__(self, page: ClaimsPage) -> None:
        super().__init__("経理への申請")
        self.page = page
        self.last_box: QMessageBox | None = None
        self.last_submitted: ClaimRecord | None = None
        layout = QVBoxLayout(self)
        self.claims = RecordTableModel["ClaimRecord"](claim_columns(desk=False), self)
        self.view = RememberingTableView(page.context.settings, "claims/workflow")
        self.view.setModel(self.claims)
        self.view.restore_columns()
        self.view.setSelectionBehavior(RememberingTableView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(RememberingTableView.SelectionMode.SingleSelection)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        layout.addWidget(self.view, 1)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.detail)
        row = QHBoxLayout()
        self.submit_button = QPushButton("この期間を申請する")
        self.submit_button.setToolTip(
            "上のカード・期間のチェックした走行を凍結し（PDF・CSV・ZIPとSHA-256）、経理に提出します"
        )
        self.submit_button.clicked.connect(self.submit)
        self.correct_button = QPushButton("差し戻しを直す")
        self.correct_button.setToolTip(
            "差し戻された申請のカードと期間を上に表示します。走行明細で用途・業務割合を直し、"
            "「この期間を申請する」で出し直します"
        )
        self.correct_button.clicked.connect(self.correct_selected)
        self.refresh_button = QPushButton("最新の状態に更新")
        self.refresh_button.setToolTip("経理の判断とコメントを読み直します")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.submit_button)
        row.addWidget(self.correct_button)
        row.addStretch(1)
        row.addWidget(self.refresh_button)
        layout.addLayout(row)
        self._selection_changed()

    def refresh(self) -> None:
        from etcbook.models.workflow import list_claims

        chosen = self.selected_claim()
        with self.page.context.connection() as connection:
            records = list(reversed(list_claims(connection)))  # newest first
        self.claims.set_records(records)
        if not self.view.restore_columns():
            self.view.resizeColumnsToContents()
        ids = [r.id for r in records]
        if chosen is not None and chosen.id in ids:
            self.view.selectRow(ids.index(chosen.id))
        self._selection_changed()

    def selected_claim(self) -> ClaimRecord | None:
        rows = self.view.selectionModel().selectedRows()
        return self.claims.record(rows[0].row()) if rows else None

    def select_claim(self, claim_id: int) -> bool:
        for row, record in enumerate(self.claims.records):
            if record.id == claim_id:
                self.view.selectRow(row)
                return True
        return False

    def _selection_changed(self, *_args: Any) -> None:
        record = self.selected_claim()
        self.correct_button.setEnabled(record is not None and record.status == "returned")
        if record is None:
            self.detail.setText(
                "申請すると、経理の判断（承認・差し戻し）とコメントがここに表示されます。"
                if not self.claims.records
                else ""
            )
            return
        decided = (
            f"　{record.decided_by}（{record.decided_at:%Y/%m/%d %H:%M}）"
            if record.decided_at is not None
            else ""
        )
        comment = f"　経理のコメント: {record.comment}" if record.comment else ""
        self.detail.setText(f"申請 {record.id}: {status_label(record.status)}{decided}{comment}")

    def correct_selected(self) -> None:
        record = self.selected_claim()
        if record is None or record.status != "returned":
            return
        self.page.show_claim_period(record.card_id, record.date_from, record.date_to)
        self.detail.setText(
            f"申請 {record.id} は差し戻されました（{record.comment}）。走行明細で直してから"
            "「この期間を申請する」を押してください。"
        )

    def submit(self) -> None:
        """Submit the page's card, period and ticked trips (off the GUI thread)."""
        from etcbook.models.workflow import submit_claim
        from etcbook.ui.operations import Operation, show_failure

        card_id = self.page.card.currentData()
        if card_id is None:
            return
        card = f"id:{card_id}"  # what the resolver reads: cards may share their last 4 digits
        date_from, date_to = _date(self.page.date_from.date()), _date(self.page.date_to.date())
        trip_ids = self.page.chosen_trip_ids()
        store = self.page.context.store
        self.submit_button.setEnabled(False)

        def done(result: tuple[ClaimRecord, Any]) -> None:
            self.submit_button.setEnabled(True)
            self.last_submitted = result[0]
            self.refresh()
            self.select_claim(result[0].id)

        def failed(error: BaseException) -> None:
            self.submit_button.setEnabled(True)
            self.last_box = told_refusal(self, "経理への申請", error) or show_failure(
                self, "経理への申請", error
            )

        self.page.context.run(
            Operation(
                work=lambda _progress: submit_claim(
                    store=store,
                    card=card,
                    date_from=date_from,
                    date_to=date_to,
                    trip_ids=trip_ids,
                ),
                title="申請を提出しています",
                on_success=done,
                on_failure=failed,
                changes_ledger=True,
                parent=self,
            )
        )

    def save_settings(self) -> None:
        self.view.save_settings()
