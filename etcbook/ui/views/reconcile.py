"""Page 月次照合: etcbook's figures beside the site's and the card statement's, the findings
that explain each difference, marking a month reconciled, and the inquiry memo.

Thin: the figures and the findings come from :func:`etcbook.models.reconcile_facts.reconcile_month`
(run off the GUI thread); the page only collects what the user read and shows the result.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from etcbook.domain.reconcile import (
    DIFFERENCE_LABELS,
    FINDING_LABELS,
    Equation,
    Finding,
    FindingTrip,
    Reported,
    amount_text,
)
from etcbook.models.card_name import CardName
from etcbook.safeio import FileInUse
from etcbook.ui.formatting import card_title
from etcbook.ui.page import Page, page_title
from etcbook.ui.tables import Column, RecordTableModel, RememberingTableView

MEMO_FOLDER_SETTING = "reconcile/memo_folder"

if TYPE_CHECKING:
    from etcbook.models.reconcile_facts import MonthReport
    from etcbook.ui.context import AppContext


def _amount(value: int | None, unit: str) -> str:
    return "" if value is None else amount_text(value, unit)  # type: ignore[arg-type]


EQUATION_COLUMNS: list[Column[Equation]] = [
    Column("項目", lambda e: e.label),
    Column("etcbookの計算", lambda e: e.text),
    Column("etcbook", lambda e: _amount(e.computed, e.unit)),
    Column("サイト・請求", lambda e: _amount(e.reported, e.unit)),
    Column("差", lambda e: "" if e.reported is None else _amount(e.reported - e.computed, e.unit)),
]

FINDING_COLUMNS: list[Column[Finding]] = [
    Column("原因", lambda f: FINDING_LABELS[f.kind] + ("" if f.certain else "（可能性）")),
    Column(
        "差の項目",
        lambda f: DIFFERENCE_LABELS[f.difference] + (f"（{f.pool}）" if f.pool else ""),
    ),
    Column("説明する額", lambda f: amount_text(f.amount, f.unit)),
    Column("説明", lambda f: f.message, tooltip=lambda f: f.message),
]

TRIP_COLUMNS: list[Column[FindingTrip]] = [
    Column("ID", lambda t: t.trip_id, "int"),
    Column("カード", lambda t: t.card),
    Column("出口日時", lambda t: t.exit_at, "datetime"),
    Column("入口", lambda t: t.entry_ic or "（本線）"),
    Column("出口", lambda t: t.exit_ic),
    Column("請求額", lambda t: t.billed, "yen"),
    Column("関わる額", lambda t: t.amount, "int"),
]


def _parse_int(text: str) -> int | None:
    cleaned = text.strip().replace(",", "").replace("円", "").replace("P", "")
    if not cleaned:
        return None
    return int(cleaned)


class ReconcilePage(Page):
    """月次照合 page."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._cards: dict[int, CardName] = {}
        self.report: MonthReport | None = None
        self.loading = False
        self._points_edits: dict[str, QLineEdit] = {}

        self.card = QComboBox()
        self.card.setMinimumWidth(180)
        self.month = QComboBox()
        self.month.setMinimumWidth(110)
        self.card.currentIndexChanged.connect(self._card_changed)
        self.month.currentIndexChanged.connect(self._month_changed)
        self.as_of = QDateEdit()
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy/MM/dd")
        self.as_of.setToolTip(
            "サイト・カード請求の数字を読んだ日（20日前かどうかの判定に使います）"
        )
        self.run_button = QPushButton("照合する")
        self.run_button.clicked.connect(lambda: self.run_reconcile())
        self.mark_button = QPushButton("照合済みにする")
        self.mark_button.clicked.connect(lambda: self.mark_reconciled())
        self.memo_button = QPushButton("問い合わせメモ…")
        self.memo_button.clicked.connect(lambda: self.show_memo())
        top = QHBoxLayout()
        top.addWidget(QLabel("カード"))
        top.addWidget(self.card)
        top.addWidget(QLabel("月"))
        top.addWidget(self.month)
        top.addWidget(QLabel("数字を読んだ日"))
        top.addWidget(self.as_of)
        top.addStretch(1)
        top.addWidget(self.run_button)
        top.addWidget(self.mark_button)
        top.addWidget(self.memo_button)

        self.opening = QLineEdit()
        self.closing = QLineEdit()
        self.statement = QLineEdit()
        for edit, hint in (
            (self.opening, "サイトの還元額明細の月初残高"),
            (self.closing, "サイトの還元額明細の月末残高"),
            (self.statement, "カード利用明細のETC合計"),
        ):
            edit.setPlaceholderText("未入力")
            edit.setToolTip(hint)
            edit.returnPressed.connect(lambda: self.run_reconcile())
        self.figures = QGroupBox("サイト・カード請求の数字（わかるものだけ）")
        self.figures_form = QFormLayout(self.figures)
        self.figures_form.addRow("還元額 月初（円）", self.opening)
        self.figures_form.addRow("還元額 月末（円）", self.closing)
        self.figures_form.addRow("カード請求 ETC合計（円）", self.statement)

        self.equations: RecordTableModel[Equation] = RecordTableModel(EQUATION_COLUMNS, self)
        self.equations_view = RememberingTableView(context.settings, "reconcile/equations")
        self.equations_view.setModel(self.equations)
        self.equations_view.setWordWrap(True)
        # The figures stay in sight: the formula column takes what is left and wraps.
        equations_header = self.equations_view.horizontalHeader()
        equations_header.setStretchLastSection(False)
        equations_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        equations_header.setDefaultSectionSize(76)
        # Rows follow the widths once the header has laid every section out (not in between).
        self._rows_timer = QTimer(self)
        self._rows_timer.setSingleShot(True)
        self._rows_timer.setInterval(0)
        self._rows_timer.timeout.connect(self.equations_view.resizeRowsToContents)
        equations_header.sectionResized.connect(lambda *_: self._rows_timer.start())
        equations_header.geometriesChanged.connect(self._rows_timer.start)
        self.findings: RecordTableModel[Finding] = RecordTableModel(FINDING_COLUMNS, self)
        self.findings_view = RememberingTableView(context.settings, "reconcile/findings")
        self.findings_view.setModel(self.findings)
        self.findings_view.selectionModel().selectionChanged.connect(self._finding_selected)
        self.trips: RecordTableModel[FindingTrip] = RecordTableModel(TRIP_COLUMNS, self)
        self.trips_view = RememberingTableView(context.settings, "reconcile/trips")
        self.trips_view.setModel(self.trips)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.snapshot = QLabel()
        self.snapshot.setWordWrap(True)

        upper = QWidget()
        upper_layout = QHBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(self.figures)
        upper_layout.addWidget(self.equations_view, 1)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        trips_box = QWidget()
        trips_layout = QVBoxLayout(trips_box)
        trips_layout.setContentsMargins(0, 0, 0, 0)
        trips_layout.addWidget(self.detail)
        trips_layout.addWidget(self.trips_view, 1)
        lower = QSplitter(Qt.Orientation.Vertical)
        lower.addWidget(self.findings_view)
        lower.addWidget(trips_box)
        lower.setSizes([200, 200])
        if not self.findings_view.restore_columns():
            for column, width in enumerate((170, 170, 100)):
                self.findings_view.setColumnWidth(column, width)
        self.trips_view.restore_columns()
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(upper)
        body.addWidget(lower)
        body.setSizes([320, 280])

        layout = QVBoxLayout(self)
        layout.addWidget(page_title("月次照合"))
        layout.addLayout(top)
        layout.addWidget(body, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.snapshot)

    # -- loading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Fill the card and month choices, then reconcile the chosen month."""
        from etcbook import clock
        from etcbook.models.reconcile import trip_months

        with self.context.connection() as connection:
            from sqlalchemy import text

            cards = connection.execute(
                text(
                    "SELECT last4, holder, label, id FROM cards"
                    " ORDER BY household, holder, last4, id"
                )
            ).all()
            self._months = trip_months(connection=connection)
        if self.as_of.date() == QDate(2000, 1, 1):
            today = clock.today()
            self.as_of.setDate(QDate(today.year, today.month, today.day))
        cards = self.context.card_filter.narrow(cards, lambda row: row[3])
        current = self.card.currentData()
        self.card.blockSignals(True)
        self.card.clear()
        # By card id: cards of a fleet may share their last 4 digits.
        self._cards = {card_id: CardName.of(last4, card_id) for last4, _h, _l, card_id in cards}
        for last4, holder, label, card_id in cards:
            self.card.addItem(card_title(last4, label, holder), card_id)
        index = self.card.findData(current)
        self.card.setCurrentIndex(max(index, 0))
        self.card.blockSignals(False)
        self._card_changed()

    def chosen_card(self) -> CardName | None:
        """The card chosen: its last 4 digits carrying its id (what the models read)."""
        return self._cards.get(self.card.currentData())

    def select_card(self, card: int | str) -> None:
        """Choose a card by its id, or by its last 4 digits (the first card that has them)."""
        if isinstance(card, str):
            card = next((i for i, name in self._cards.items() if name == card), -1)
        self.card.setCurrentIndex(max(self.card.findData(card), 0))

    def _card_changed(self, *_args: object) -> None:
        card = self.chosen_card()
        current = self.month.currentData()
        card_id = None if card is None else card.id
        months = sorted(getattr(self, "_months", {}).get(card_id, ()), reverse=True)
        self.month.blockSignals(True)
        self.month.clear()
        for month in months:
            self.month.addItem(month.replace("-", "/"), month)  # 2026/10, as elsewhere
        index = self.month.findData(current)
        self.month.setCurrentIndex(max(index, 0))
        self.month.blockSignals(False)
        self._month_changed()

    def _month_changed(self, *_args: object) -> None:
        card, month = self.chosen_card(), self.month.currentData()
        if card is None or month is None:
            self._clear()
            return
        from etcbook.models.reconcile import load_reported

        with self.context.connection() as connection:
            saved = load_reported(connection=connection, card=card, month=month)
        self._show_reported(saved)
        self.run_reconcile(save=False)

    def _show_reported(self, reported: Reported) -> None:
        for edit, value in (
            (self.opening, reported.rebate_opening),
            (self.closing, reported.rebate_closing),
            (self.statement, reported.statement_total),
        ):
            edit.setText("" if value is None else f"{value:,}")
        self._saved_points = dict(reported.points)

    def _clear(self) -> None:
        self.report = None
        self.equations.set_records([])
        self.findings.set_records([])
        self.trips.set_records([])
        self.status.setText("走行のあるカードと月を選んでください。")
        self.snapshot.setText("")

    def entered(self) -> Reported:
        """The figures typed in the form (ValueError with a Japanese message when not numbers)."""
        values: dict[str, int | None] = {}
        for name, edit in (
            ("rebate_opening", self.opening),
            ("rebate_closing", self.closing),
            ("statement_total", self.statement),
        ):
            try:
                values[name] = _parse_int(edit.text())
            except ValueError:
                raise ValueError(f"「{edit.text()}」は金額ではありません") from None
        points: dict[str, int] = {}
        for pool, edit in self._points_edits.items():
            try:
                value = _parse_int(edit.text())
            except ValueError:
                raise ValueError(f"「{edit.text()}」はポイント数ではありません") from None
            if value is not None:
                points[pool] = value
        return Reported(
            rebate_opening=values["rebate_opening"],
            rebate_closing=values["rebate_closing"],
            statement_total=values["statement_total"],
            points=points,
        )

    def _as_of(self) -> dt.date:
        qdate = self.as_of.date()
        return dt.date(qdate.year(), qdate.month(), qdate.day())

    def run_reconcile(self, save: bool = True) -> None:
        """Reconcile the chosen card and month with the figures typed (kept for next time)."""
        card, month = self.chosen_card(), self.month.currentData()
        if card is None or month is None or not self.context.is_open:
            return
        if save:
            try:
                entered = self.entered()
            except ValueError as error:
                self.status.setText(str(error))
                return
            from etcbook.models.reconcile import load_reported, save_reported

            with self.context.transaction() as connection:
                # the form shows every saved figure: what it holds now replaces them all
                if entered != load_reported(connection=connection, card=card, month=month):
                    save_reported(connection=connection, card=card, month=month, reported=entered)
        as_of = self._as_of()
        first = dt.date(int(month[:4]), int(month[5:]), 1)
        self.loading = True
        self.status.setText("照合しています…")

        def work(connection: Any) -> MonthReport:
            from etcbook.models.reconcile_facts import reconcile_month

            return reconcile_month(connection=connection, card=card, month=first, as_of=as_of)

        self.context.run_in_background(work, self._show, parent=self, title="月次照合")

    # -- showing ------------------------------------------------------------------------------

    def _show(self, report: MonthReport) -> None:
        self.loading = False
        self.report = report
        result = report.result
        self._sync_points(result)
        self.equations.set_records(list(result.equations))
        if not self.equations_view.restore_columns():
            # 項目 wraps in a narrow column; the figures fit; the formula takes what is left.
            self.equations_view.setColumnWidth(
                0, self.equations_view.fontMetrics().horizontalAdvance("還元額（月末") + 12
            )
        self.equations_view.resizeRowsToContents()
        self.findings.set_records(list(result.findings))
        self.trips.set_records([])
        self.detail.setText("")
        if result.findings:
            self.findings_view.selectRow(0)
        left = [
            f"{DIFFERENCE_LABELS[d.key]}{f'（{d.pool}）' if d.pool else ''} "
            f"{amount_text(d.unexplained, d.unit)}"
            for d in result.differences
            if d.unexplained
        ]
        if left:
            self.status.setText("説明できない差: " + "、".join(left))
        elif result.differences:
            self.status.setText("差はすべて説明できました。")
        elif result.reported.empty:
            self.status.setText(
                "サイトの還元額・付与ポイントやカード請求の数字を入れると、etcbookの計算と突き合わせます。"
            )
        else:
            self.status.setText("etcbookの計算とサイト・カード請求の数字は一致しています。")
        if report.snapshot is None:
            self.snapshot.setText("この月はまだ照合済みではありません。")
        else:
            text_ = f"照合済み（{report.snapshot.marked_at:%Y/%m/%d %H:%M}）。"
            if report.changes:
                text_ += " 照合後の変更: " + " ".join(c.message for c in report.changes)
            self.snapshot.setText(text_)
        if len(report.cards) > 1:
            self.status.setText(self.status.text() + f"（登録カード: {' → '.join(report.cards)}）")

    def _sync_points(self, result: Any) -> None:
        """One field per pool the month earns in (and per pool already reported)."""
        pools = {pool.pool: pool.name for pool in result.facts.pools}
        for pool in result.reported.points:
            pools.setdefault(pool, pool)
        if set(pools) == set(self._points_edits):
            for pool, edit in self._points_edits.items():
                value = result.reported.points.get(pool)
                edit.setText("" if value is None else f"{value:,}")
            return
        for edit in self._points_edits.values():
            self.figures_form.removeRow(edit)
        self._points_edits = {}
        for pool, name in pools.items():
            edit = QLineEdit()
            edit.setPlaceholderText("未入力")
            edit.setToolTip(f"{name}: この月の走行分として翌月20日に付与されたポイント")
            value = result.reported.points.get(pool)
            edit.setText("" if value is None else f"{value:,}")
            edit.returnPressed.connect(lambda: self.run_reconcile())
            self._points_edits[pool] = edit
            self.figures_form.addRow(f"付与ポイント {name}", edit)

    def points_edit(self, pool: str) -> QLineEdit:
        """The field of ``pool``'s reported points."""
        return self._points_edits[pool]

    def _finding_selected(self, *_args: object) -> None:
        finding = self.selected_finding()
        self.trips.set_records([] if finding is None else list(finding.trips))
        self.detail.setText("" if finding is None else finding.message)

    def selected_finding(self) -> Finding | None:
        rows = self.findings_view.selectionModel().selectedRows()
        if not rows:
            return None
        return self.findings.record(rows[0].row())

    # -- actions ------------------------------------------------------------------------------

    def mark_reconciled(self) -> None:
        """Keep a snapshot of the reconciliation shown."""
        report = self.report
        if report is None:
            return
        from etcbook.domain.reconcile import reconciliation_json
        from etcbook.models.reconcile import save_snapshot

        result = report.result
        document: dict[str, Any] = reconciliation_json(result)
        document["registration"] = list(report.cards)
        with self.context.transaction() as connection:
            save_snapshot(
                connection=connection,
                card=result.card,
                month=f"{result.month:%Y-%m}",
                document=document,
                trips=result.facts.trips,
            )
        self.run_reconcile(save=False)

    def memo_text(self) -> str:
        """The inquiry memo of the month (the selected finding's, when one is selected)."""
        report = self.report
        if report is None:
            return ""
        from etcbook.domain.memo import memo_text
        from etcbook.models.reconcile_facts import build_memo

        result = report.result
        finding = self.selected_finding()
        number = None if finding is None else list(result.findings).index(finding) + 1
        with self.context.connection() as connection:
            memo = build_memo(
                connection=connection,
                card=result.card,
                as_of=self._as_of(),
                month=result.month,
                finding=number,
            )
        self._memo = memo
        return memo_text(memo)

    def show_memo(self) -> None:
        """Show the memo: copy it, or save it as a PDF."""
        text_ = self.memo_text()
        if not text_:
            return
        box = QMessageBox(self)
        box.setWindowTitle("問い合わせメモ")
        box.setText(text_)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        copy = box.addButton("コピー", QMessageBox.ButtonRole.ActionRole)
        pdf = box.addButton("PDFに保存…", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.exec()
        if box.clickedButton() is copy:
            QGuiApplication.clipboard().setText(text_)
        elif box.clickedButton() is pdf:
            self._ask_and_save_memo_pdf()

    def _ask_and_save_memo_pdf(self) -> None:
        from etcbook.ui.folders import remember_folder, start_folder

        settings = self.context.settings
        suggested = Path(start_folder(settings, MEMO_FOLDER_SETTING)) / "問い合わせメモ.pdf"
        name, _ = QFileDialog.getSaveFileName(
            self, "問い合わせメモを保存", str(suggested), "PDF (*.pdf)"
        )
        if not name:
            return
        remember_folder(settings, MEMO_FOLDER_SETTING, Path(name).parent)
        try:
            self.save_memo_pdf(Path(name))
        except OSError as error:  # FileInUse: the PDF is open in a viewer
            detail = str(error) if isinstance(error, FileInUse) else error.strerror or error
            QMessageBox.warning(self, "問い合わせメモ", f"保存できませんでした。\n{detail}")

    def save_memo_pdf(self, path: Path) -> Path:
        """Write the memo last made to ``path``."""
        from etcbook.export.memo_pdf import write_memo_pdf

        if getattr(self, "_memo", None) is None:
            self.memo_text()
        return write_memo_pdf(self._memo, path)

    def save_settings(self) -> None:
        for view in (self.equations_view, self.findings_view, self.trips_view):
            view.save_settings()
