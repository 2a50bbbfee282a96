"""「カードの一括入力」: paste a table (or open a CSV) of card → 名義 / 利用者 / 部署, see what
changes, apply all or nothing.

Reading the table is :func:`etcbook.importers.card_table.parse_card_table`; comparing it with
the store and writing it, :mod:`etcbook.models.card_fill`. The dialog shows their results.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from etcbook.ui.tables import Column, RecordTableModel, RememberingTableView

if TYPE_CHECKING:
    from etcbook.importers.card_table import CardFill
    from etcbook.importers.meisai import LineError
    from etcbook.models.card_fill import FillChange
    from etcbook.ui.context import AppContext

EXAMPLE = (
    "カード\t名義\t利用者\t部署\n2001\t株式会社みなと物流\t佐藤一郎\t物流1課\n2014\t\t鈴木次郎\t"
)


def _cell(change: FillChange, name: str) -> str:
    before, after = change.before[name], change.after[name]
    if before == after:
        return after
    return f"{before or '（空欄）'} → {after or '（空欄）'}"


PREVIEW_COLUMNS: list[Column[FillChange]] = [
    Column("行", lambda c: c.row.line, "int", key="line"),
    Column("カード", lambda c: f"末尾 {c.row.last4}", key="card"),
    Column("名義", lambda c: _cell(c, "holder"), key="holder"),
    Column("利用者", lambda c: _cell(c, "driver"), key="driver"),
    Column("部署", lambda c: _cell(c, "department"), key="department"),
    Column("", lambda c: "変更" if c.changed else "変更なし", key="changed"),
]


class CardFillDialog(QDialog):
    """Paste or open a table of cards, preview, apply (all or nothing)."""

    applied = Signal(int)
    """Emitted with how many cards changed."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("カードの一括入力（名義・利用者・部署）")
        self.resize(860, 600)
        self.rows: list[CardFill] = []
        self.changes: list[FillChange] = []
        self.errors: list[LineError] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.update_preview)

        intro = QLabel(
            "表計算ソフトからカードの一覧を貼り付けるか、CSVファイルを開いてください。"
            "1行目に「カード」「名義」「利用者」「部署」の見出しがあれば、列の順番は自由です"
            "（見出しがなければこの順）。カードは末尾4桁か、*で隠したカード番号で書きます。"
            "空欄のセルは変更しません。"
        )
        intro.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setObjectName("cardFillText")
        self.text.setPlaceholderText(f"例（タブ区切り）:\n{EXAMPLE}")
        font = QFont(self.text.font())
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        self.text.setFont(font)
        # Columns pasted from a spreadsheet line up: a tab stop wide enough for a company name.
        self.text.setTabStopDistance(self.text.fontMetrics().horizontalAdvance("株" * 10))
        self.text.textChanged.connect(lambda: self._timer.start())
        self.open_button = QPushButton("CSVファイルを開く…")
        self.open_button.clicked.connect(self.ask_for_file)
        self.source_label = QLabel()

        self.model: RecordTableModel[FillChange] = RecordTableModel(PREVIEW_COLUMNS, self)
        self.table = RememberingTableView(context.settings, "card_fill", self)
        self.table.setModel(self.model)
        self.error_list = QListWidget()
        self.error_list.setObjectName("cardFillErrors")
        self.error_list.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        font = QFont(self.summary.font())
        font.setBold(True)
        self.summary.setFont(font)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.apply_button.setText("すべて適用")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("キャンセル")
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

        source = QHBoxLayout()
        source.addWidget(self.open_button)
        source.addWidget(self.source_label, 1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.text)
        top_layout.addLayout(source)
        preview = QWidget()
        preview_layout = QVBoxLayout(preview)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(QLabel("確認（適用すると次のように変わります）"))
        preview_layout.addWidget(self.table, 3)
        preview_layout.addWidget(self.error_list, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(preview)
        split.setSizes([180, 360])
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(split, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        self.update_preview()

    # -- input ---------------------------------------------------------------------------------

    def ask_for_file(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self, "カード一覧のCSVを開く", "", "CSV (*.csv *.txt);;すべてのファイル (*)"
        )
        if name:
            self.load_file(Path(name))

    def load_file(self, path: Path) -> None:
        """Show the CSV file's text (UTF-8 or cp932) in the box, and preview it."""
        from etcbook.importers.card_table import decode

        try:
            content = decode(path.read_bytes())
        except (OSError, UnicodeDecodeError) as problem:
            self.source_label.setText(f"{path.name}: 読めません（{problem}）")
            return
        self.text.setPlainText(content)
        self.source_label.setText(f"ファイル: {path.name}")
        self.update_preview()

    # -- preview and apply ---------------------------------------------------------------------

    def update_preview(self) -> None:
        """Read the table and compare it with the store (a short read on the GUI thread)."""
        from etcbook.importers.card_table import parse_card_table
        from etcbook.models.card_fill import preview_fill

        self._timer.stop()
        content = self.text.toPlainText()
        if not content.strip():
            self.rows, self.changes, self.errors = [], [], []
        else:
            self.rows, errors = parse_card_table(content)
            with self.context.connection() as connection:
                self.changes, unknown = preview_fill(connection=connection, rows=self.rows)
            self.errors = sorted([*errors, *unknown], key=lambda error: error.line)
        self.model.set_records(self.changes)
        self.table.resizeColumnsToContents()
        self._show_errors()

    def _show_errors(self) -> None:
        self.error_list.clear()
        for error in self.errors:
            where = f"{error.line}行目: " if error.line else ""
            self.error_list.addItem(f"{where}{error.message}")
        self.error_list.setVisible(bool(self.errors))
        changing = sum(1 for change in self.changes if change.changed)
        if not self.rows and not self.errors:
            self.summary.setText("カードの一覧を貼り付けてください。")
        elif self.errors:
            self.summary.setText(
                f"{len(self.errors)}行に問題があります。直すまで適用できません"
                f"（1行でも問題があれば、どのカードも変更しません）。"
            )
        else:
            self.summary.setText(
                f"{changing}枚のカードを変更します"
                + (
                    f"（{len(self.changes) - changing}枚は変更なし）"
                    if len(self.changes) > changing
                    else ""
                )
                + "。"
            )
        self.apply_button.setEnabled(not self.errors and changing > 0)

    def apply(self) -> None:
        """Write every row in one transaction; on any problem, nothing and the lines shown."""
        from etcbook.models.card_fill import FillRefused, apply_fill

        self.update_preview()
        if self.errors or not self.rows:
            return
        try:
            with self.context.transaction() as connection:
                changed = apply_fill(connection=connection, rows=self.rows)
        except FillRefused as refused:
            self.errors = refused.errors
            self._show_errors()
            return
        self.context.ledger_changed.emit()
        self.applied.emit(changed)
        self.accept()
