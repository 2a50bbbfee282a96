"""「会計ソフト用に書き出す」: the journal export dialog and its settings dialog.

The export dialog previews what will be booked and what will be left out (and why) as the
choices change; the file itself is written by an operation off the GUI thread. The settings
dialog edits the account names, tax labels, the credit side of each card and how the rebate
is booked, all stored in the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from etcbook.domain.journal import (
    CREDIT_LABELS,
    GLOBAL_KEYS,
    TAX_ADVICE,
    TREATMENT_LABELS,
    Booking,
    CreditKind,
    CreditSide,
    credit_side_values,
    settings_values,
)
from etcbook.export.journal import JournalFormat, Product
from etcbook.ui import formatting
from etcbook.ui.context import AppContext

FORMATS: list[tuple[str, JournalFormat]] = [
    ("弥生会計・やよいの青色申告（デスクトップ版）", JournalFormat(Product.YAYOI)),
    ("弥生会計 Next（27項目）", JournalFormat(Product.YAYOI, yayoi_next=True)),
    ("freee会計（取引インポート）", JournalFormat(Product.FREEE)),
    ("マネーフォワード クラウド（仕訳帳インポート）", JournalFormat(Product.MF)),
]

FILE_WORDS = {Product.YAYOI: "弥生", Product.FREEE: "freee", Product.MF: "MF"}

PROBLEM_STYLE = "color: #b00020;"


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class JournalSettingsDialog(QDialog):
    """Accounts, tax labels, the credit side per card and the rebate treatment."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        from etcbook.models.journal import card_holders, card_names, load_settings

        super().__init__(parent)
        self.context = context
        self.setWindowTitle("仕訳の設定")
        self.setMinimumWidth(900)
        with context.connection() as connection:
            settings, credits = load_settings(connection=connection)
            self._holders = card_holders(connection=connection)
            self._names = card_names(connection=connection)
        values = settings_values(settings)
        layout = QVBoxLayout(self)

        accounts = QGroupBox("勘定科目と税区分（会計ソフトに登録されている名前に合わせてください）")
        form = QFormLayout(accounts)
        self.edits: dict[str, QLineEdit] = {}
        self.accounting = QComboBox()
        self.accounting.addItems(["税込", "税抜"])
        self.accounting.setCurrentText(settings.accounting)
        self.treatment = QComboBox()
        for treatment, label in TREATMENT_LABELS.items():
            self.treatment.addItem(label, str(treatment))
        self.treatment.setCurrentIndex(self.treatment.findData(str(settings.treatment)))
        for key, label in GLOBAL_KEYS.items():
            if key == "accounting":
                form.addRow("経理方式", self.accounting)
                continue
            if key == "rebate_treatment":
                continue
            edit = QLineEdit(values[key])
            if key == "yayoi.tax":
                edit.setPlaceholderText(f"空欄なら {settings.yayoi_tax_label}（経理方式から）")
            self.edits[key] = edit
            form.addRow(label, edit)
        layout.addWidget(accounts)

        rebate = QGroupBox("ETCマイレージ 還元額")
        rebate_form = QFormLayout(rebate)
        rebate_form.addRow("処理", self.treatment)
        rebate_form.addRow(_note(TAX_ADVICE))
        layout.addWidget(rebate)

        cards = QGroupBox("カードごとの貸方（支払い方）")
        grid = QGridLayout(cards)
        for column, title in enumerate(
            ["カード", "支払い方", "貸方勘定科目", "貸方補助科目", "freee 決済口座"]
        ):
            grid.addWidget(QLabel(title), 0, column)
        self.card_rows: dict[str, tuple[QComboBox, QLineEdit, QLineEdit, QLineEdit]] = {}
        for row, (card, side) in enumerate(credits.items(), start=1):
            kind = QComboBox()
            for credit_kind, label in CREDIT_LABELS.items():
                kind.addItem(label, str(credit_kind))
            kind.setCurrentIndex(kind.findData(str(side.kind)))
            account, sub, wallet = (
                QLineEdit(side.account),
                QLineEdit(side.sub),
                QLineEdit(side.wallet),
            )
            wallet.setPlaceholderText("空欄なら未決済")
            kind.currentIndexChanged.connect(lambda _i, c=card: self._kind_changed(c))
            grid.addWidget(QLabel(key_title(card, self._names)), row, 0)
            for column, widget in enumerate((kind, account, sub, wallet), start=1):
                grid.addWidget(widget, row, column)
            self.card_rows[card] = (kind, account, sub, wallet)
        for column in (2, 3, 4):
            grid.setColumnStretch(column, 1)
        layout.addWidget(cards)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(PROBLEM_STYLE)
        self.problem.hide()
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("キャンセル")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _kind_changed(self, card: str) -> None:
        """A new way of paying brings that way's default accounts (still editable)."""
        from etcbook.domain.journal import credit_side_from

        kind, account, sub, wallet = self.card_rows[card]
        side = credit_side_from(
            {"credit": kind.currentData()},
            card_last4=card,
            card_kind="",
            holder=self._holders.get(card, ""),
        )
        account.setText(side.account)
        sub.setText(side.sub)
        wallet.setText(side.wallet)

    def values(self) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        """The global settings and each card's, as the dialog shows them."""
        values = {key: edit.text().strip() for key, edit in self.edits.items()}
        values["accounting"] = self.accounting.currentText()
        values["rebate_treatment"] = str(self.treatment.currentData())
        cards = {
            card: credit_side_values(
                CreditSide(
                    kind=CreditKind(kind.currentData()),
                    account=account.text().strip(),
                    sub=sub.text().strip(),
                    wallet=wallet.text().strip(),
                )
            )
            for card, (kind, account, sub, wallet) in self.card_rows.items()
        }
        return values, cards

    def submit(self) -> bool:
        """Store the settings (all or none); a refusal is shown and the dialog stays open."""
        from etcbook.models.journal import JournalError, save_settings

        values, cards = self.values()
        try:
            save_settings(store=self.context.store, values=values, cards=cards)
        except JournalError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return False
        self.accept()
        return True


class JournalExportDialog(QDialog):
    """Product, period, cards and options; what will be booked and what is left out."""

    def __init__(
        self,
        context: AppContext,
        *,
        card: str | None,
        date_from: dt.date,
        date_to: dt.date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.booking: Booking | None = None
        self.last_file: Path | None = None
        self.setWindowTitle("会計ソフト用に書き出す")
        self.setMinimumSize(760, 520)
        layout = QVBoxLayout(self)

        form = QFormLayout()
        self.product = QComboBox()
        for label, fmt in FORMATS:
            self.product.addItem(label, fmt)
        self.encoding = QComboBox()
        self.encoding.addItem("Shift-JIS（cp932）", "cp932")
        self.encoding.addItem("UTF-8", "utf-8")
        self.card = QComboBox()
        from etcbook.models.journal import card_names

        with context.connection() as connection:
            names = card_names(connection=connection)
        for key in names:
            # key: the last 4 digits, or id:N for digits several cards share
            self.card.addItem(key_title(key, names), key)
        self.card.addItem("すべてのカード", None)
        self.card.setCurrentIndex(
            max(self.card.findData(card), 0) if card else self.card.count() - 1
        )
        period = QHBoxLayout()
        self.date_from = QDateEdit(_qdate(date_from))
        self.date_to = QDateEdit(_qdate(date_to))
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy/MM/dd")
        period.addWidget(self.date_from)
        period.addWidget(QLabel("～"))
        period.addWidget(self.date_to)
        period.addStretch(1)
        self.include_provisional = QCheckBox("確認中の走行も書き出す（金額が変わることがあります）")
        self.again = QCheckBox("書き出し済みの走行ももう一度書き出す")
        form.addRow("会計ソフト", self.product)
        form.addRow("文字コード", self.encoding)
        form.addRow("カード", self.card)
        form.addRow("期間（出口の日）", period)
        form.addRow("", self.include_provisional)
        form.addRow("", self.again)
        layout.addLayout(form)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("書き出さない走行と理由"))
        self.skipped = QTableWidget(0, 3)
        self.skipped.setHorizontalHeaderLabels(["走行", "日付・区間", "理由"])
        self.skipped.verticalHeader().setVisible(False)
        self.skipped.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.skipped.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.skipped, 1)

        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        layout.addWidget(self.outcome)
        row = QHBoxLayout()
        settings_button = QPushButton("科目・税区分の設定…")
        settings_button.clicked.connect(self.edit_settings)
        self.export_button = QPushButton("書き出す…")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self._choose_file_and_export)
        close = QPushButton("閉じる")
        close.clicked.connect(self.reject)
        row.addWidget(settings_button)
        row.addStretch(1)
        row.addWidget(self.export_button)
        row.addWidget(close)
        layout.addLayout(row)

        self.product.currentIndexChanged.connect(self._product_changed)
        for signal in (
            self.encoding.currentIndexChanged,
            self.card.currentIndexChanged,
            self.date_from.dateChanged,
            self.date_to.dateChanged,
            self.include_provisional.toggled,
            self.again.toggled,
        ):
            signal.connect(self.refresh)
        self._product_changed()

    # -- choices -----------------------------------------------------------------------------------

    def select_product(self, product: Product, *, yayoi_next: bool = False) -> None:
        for index in range(self.product.count()):
            fmt = self.product.itemData(index)
            if fmt.product is product and fmt.yayoi_next == yayoi_next:
                self.product.setCurrentIndex(index)
                return

    def _product_changed(self, *_args: Any) -> None:
        fmt: JournalFormat = self.product.currentData()
        desktop_yayoi = fmt.product is Product.YAYOI and not fmt.yayoi_next
        if desktop_yayoi:
            self.encoding.setCurrentIndex(0)
        self.encoding.setEnabled(not desktop_yayoi)
        self.refresh()

    def request(self) -> Any:
        """The export the dialog describes (etcbook.models.journal.JournalRequest)."""
        from etcbook.models.journal import JournalRequest

        base: JournalFormat = self.product.currentData()
        fmt = JournalFormat(
            product=base.product, encoding=self.encoding.currentData(), yayoi_next=base.yayoi_next
        )
        return JournalRequest(
            fmt=fmt,
            card=self.card.currentData(),
            date_from=_date(self.date_from.date()),
            date_to=_date(self.date_to.date()),
            include_provisional=self.include_provisional.isChecked(),
            again=self.again.isChecked(),
        )

    def refresh(self, *_args: Any) -> None:
        """Preview: how many entries, their total, and every trip left out with its reason."""
        from etcbook.models.journal import JournalError, prepare_journal

        try:
            booking = prepare_journal(store=self.context.store, request=self.request())
        except JournalError as exc:
            self.booking = None
            self.summary.setText(str(exc))
            self.export_button.setEnabled(False)
            return
        self.booking = booking
        self.export_button.setEnabled(bool(booking.entries))
        text = (
            f"仕訳 {len(booking.entries):,}件　合計 {formatting.yen(booking.total)}"
            f"（経費精算の精算額と同じ）　書き出さない走行 {len(booking.skipped):,}件"
        )
        if not booking.entries:
            text += "。書き出す仕訳はありません"
        self.summary.setText(text)
        self.skipped.setRowCount(len(booking.skipped))
        for row, skipped in enumerate(booking.skipped):
            for column, value in enumerate((str(skipped.trip_id), skipped.label, skipped.reason)):
                self.skipped.setItem(row, column, QTableWidgetItem(value))
        self.skipped.resizeColumnToContents(0)
        self.skipped.resizeColumnToContents(1)

    def edit_settings(self) -> JournalSettingsDialog:
        dialog = JournalSettingsDialog(self.context, parent=self)
        dialog.accepted.connect(self.refresh)
        dialog.open()
        return dialog

    # -- export -----------------------------------------------------------------------------------

    def suggested_name(self) -> str:
        request = self.request()
        fmt = request.fmt
        word = "弥生Next" if fmt.yayoi_next else FILE_WORDS[fmt.product]
        card = f"_CARD{request.card}" if request.card else ""
        span = f"{request.date_from:%Y-%m}"
        if f"{request.date_to:%Y-%m}" != span:
            span += f"_{request.date_to:%Y-%m}"
        return f"{span}{card}_{word}_仕訳.csv"

    def _choose_file_and_export(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, "仕訳ファイルを保存", self.suggested_name(), "CSV (*.csv)"
        )
        if name:
            self.export_to(Path(name))

    def export_to(self, path: Path) -> None:
        """Write the file and remember the export, off the GUI thread."""
        from etcbook import clock
        from etcbook.models.journal import JournalResult, export_journal
        from etcbook.ui.operations import Operation

        request = self.request()
        store = self.context.store
        self.export_button.setEnabled(False)

        def done(result: JournalResult) -> None:
            self.last_file = result.file
            if result.file is None:
                self.outcome.setText("書き出す仕訳はありませんでした（ファイルは書いていません）。")
            else:
                self.outcome.setText(
                    f"書き出しました: {result.file.name}（仕訳 {len(result.booking.entries):,}件、"
                    f"合計 {formatting.yen(result.booking.total)}）。会計ソフトで取り込んでください。"
                )
            self.refresh()

        def failed(error: BaseException) -> None:
            self.export_button.setEnabled(True)
            self.outcome.setText(f"書き出せませんでした: {error}")

        self.context.run(
            Operation(
                work=lambda _progress: export_journal(
                    store=store, request=request, out=path, now=clock.now()
                ),
                title="仕訳を書き出しています",
                on_success=done,
                on_failure=failed,
                parent=self,
            )
        )


def key_title(key: str, names: Mapping[str, tuple[str, str, str]]) -> str:
    """A card of the journal settings as the dialogs show it: ``末尾 1234`` for digits of one
    card; ``末尾 6789　2号車（山田）`` where several cards share the digits."""
    if not key.startswith("id:") or key not in names:
        return f"末尾 {key}"
    return formatting.card_title(*names[key])
