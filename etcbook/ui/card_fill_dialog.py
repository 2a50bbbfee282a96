"""「カードの一括入力」: paste a table (or open a CSV) of card → 名義 / 利用者 / 部署, see what
changes, apply all or nothing.

Reading the table, comparing it with the store and writing it is
:func:`etcbook.models.cards.fill_cards` (the same the CLI's ``card fill`` uses): its dry run is the
preview, and the dialog shows its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    from etcbook.importers.meisai import LineError
    from etcbook.models.cards import CardFillResult
    from etcbook.ui.context import AppContext

EXAMPLE = (
    "カード\t名義\t利用者\t部署\n2001\t株式会社みなと物流\t佐藤一郎\t物流1課\n2014\t\t鈴木次郎\t"
)


@dataclass(frozen=True)
class FillChange:
    """One card's change as :func:`~etcbook.models.cards.fill_cards` reports it."""

    line: int
    last4: str
    before: dict[str, Any]
    after: dict[str, Any]

    def cell(self, name: str) -> str:
        if name not in self.after:
            return ""
        return f"{self.before.get(name) or '（空欄）'} → {self.after[name] or '（空欄）'}"


def _other_fields(change: FillChange) -> str:
    from etcbook.importers.card_table import FIELD_LABELS

    return "、".join(
        f"{FIELD_LABELS.get(name, name)}: {change.cell(name)}"
        for name in change.after
        if name not in SHOWN
    )


SHOWN = ("holder", "driver", "department")
PREVIEW_COLUMNS: list[Column[FillChange]] = [
    Column("行", lambda c: c.line, "int", key="line"),
    Column("カード", lambda c: f"末尾 {c.last4}", key="card"),
    Column("名義", lambda c: c.cell("holder"), key="holder"),
    Column("利用者", lambda c: c.cell("driver"), key="driver"),
    Column("部署", lambda c: c.cell("department"), key="department"),
    Column("ほかの項目", _other_fields, key="other"),
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
        self.fill_result: CardFillResult | None = None
        self.changes: list[FillChange] = []
        self.errors: list[LineError] = []
        self.problem: str | None = None
        """Why the text is not a table of cards at all, if it is not."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.update_preview)

        intro = QLabel(
            "表計算ソフトからカードの一覧を見出しの行ごと貼り付けるか、CSVファイルを開いてください。"
            "見出しは「カード」と、「名義」「利用者」「部署」（ほかに「車両番号」「グループ」「メモ」）"
            "のうち入れるもの。列の順番は自由です。カードは末尾4桁か、*で隠したカード番号で書きます。"
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
        try:
            data = path.read_bytes()
            content = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = data.decode("cp932", errors="replace")
        except OSError as problem:
            self.source_label.setText(f"{path.name}: 読めません（{problem}）")
            return
        self.text.setPlainText(content)
        self.source_label.setText(f"ファイル: {path.name}")
        self.update_preview()

    # -- preview and apply ---------------------------------------------------------------------

    def _fill(self, *, dry_run: bool) -> CardFillResult | None:
        """:func:`fill_cards` on the text (``None``, and :attr:`problem` set, when the text is
        not a table of cards)."""
        from etcbook.models.cards import fill_cards

        self.problem = None
        content = self.text.toPlainText()
        if not content.strip():
            return None
        try:
            with self.context.store.session(write=not dry_run) as session:
                return fill_cards(session=session, data=content.encode("utf-8"), dry_run=dry_run)
        except ValueError as problem:
            self.problem = str(problem)
            return None

    def _show(self, result: CardFillResult | None) -> None:
        self.fill_result = result
        self.changes = [
            FillChange(int(c["line"]), str(c["last4"]), dict(c["before"]), dict(c["after"]))
            for c in (result.changes if result is not None else [])
        ]
        self.errors = list(result.errors) if result is not None else []
        self.model.set_records(self.changes)

    def update_preview(self) -> None:
        """The dry run of the fill on the text as it is (a short read on the GUI thread)."""
        self._timer.stop()
        self._show(self._fill(dry_run=True))
        self.table.resizeColumnsToContents()
        self._show_errors()

    def _show_errors(self) -> None:
        self.error_list.clear()
        for error in self.errors:
            where = f"{error.line}行目: " if error.line else ""
            self.error_list.addItem(f"{where}{error.message}")
        if self.problem:
            self.error_list.addItem(self.problem)
        self.error_list.setVisible(bool(self.errors or self.problem))
        changing = len(self.changes)
        unchanged = len(self.fill_result.unchanged) if self.fill_result is not None else 0
        ignored = self.fill_result.ignored_columns if self.fill_result is not None else []
        if self.problem:
            self.summary.setText("カードの表として読めません（上の理由を見てください）。")
        elif self.fill_result is None:
            self.summary.setText("カードの一覧を貼り付けてください。")
        elif self.errors:
            self.summary.setText(
                f"{len(self.errors)}行に問題があります。直すまで適用できません"
                f"（1行でも問題があれば、どのカードも変更しません）。"
            )
        else:
            self.summary.setText(
                f"{changing}枚のカードを変更します"
                + (f"（{unchanged}枚は変更なし）" if unchanged else "")
                + "。"
                + (f"使わない列: {'、'.join(ignored)}。" if ignored else "")
            )
        self.apply_button.setEnabled(not self.errors and changing > 0)

    def apply(self) -> None:
        """Write every row in one transaction; on any problem, nothing and the lines shown."""
        self.update_preview()
        if self.errors or not self.changes:
            return
        result = self._fill(dry_run=False)
        if result is None or not result.committed:
            self._show(result)
            self._show_errors()
            return
        self.context.ledger_changed.emit()
        self.applied.emit(len(result.changes))
        self.accept()
