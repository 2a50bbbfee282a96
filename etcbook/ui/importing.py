"""Import of 明細CSV files: a preview first, then the import itself, both off the GUI thread.

The preview runs the real import in a transaction that is rolled back (the importer's
``dry_run``), so its counts — new trips, 確認中 → 確定 updates, duplicates — and its line
errors are exactly what the import will do. Nothing is written until the user confirms.
The import can be cancelled; the importer then rolls its one transaction back.

The preview also tells each file's passage rows (通過: no amount of their own, never money) and
charges at an entry gate, and lists the gates no route rule knows
(:mod:`etcbook.models.import_gates`): choosing an operator for one makes it a rule, offers to
re-apply the rules to stored trips (their effect on points shown first) and previews again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from etcbook.ui import formatting
from etcbook.ui.context import AppContext
from etcbook.ui.gate_rules import UnknownGatesTable, add_rule_and_offer_reapply
from etcbook.ui.labels import operator_label
from etcbook.ui.messages import tell
from etcbook.ui.operations import Cancelled, Operation, Progress
from etcbook.ui.tables import Column, RecordTableModel

if TYPE_CHECKING:
    from etcbook.models.import_gates import FileGateFacts, UnknownFileGate
    from etcbook.models.imports import FileResult, ImportResult

Preview = tuple["ImportResult", dict[str, "FileGateFacts"]]
"""The dry run's result and, per file that can be imported, its rows' shapes and unknown gates."""


def _run_import(
    context: AppContext, paths: list[Path], *, dry_run: bool, progress: Progress
) -> ImportResult:
    """The importer with the operation's progress and cancellation (worker thread)."""
    from etcbook.models.imports import ImportCancelled, import_files

    total = sum(path.stat().st_size for path in paths if path.is_file()) or 1
    done_files = 0
    verb = "確認中" if dry_run else "取り込み中"

    def report(read: int, size: int) -> None:
        nonlocal done_files
        progress.report(min(done_files + read, total), total, f"明細CSVを{verb}…")
        if read >= size:
            done_files += size

    try:
        return import_files(
            context.store,
            paths,
            dry_run=dry_run,
            progress=report,
            cancelled=lambda: progress.cancelled,
        )
    except ImportCancelled:
        raise Cancelled from None


def _run_preview(context: AppContext, paths: list[Path], progress: Progress) -> Preview:
    """The dry run, then each importable file's passages, entry charges and unknown gates."""
    from etcbook.models.import_gates import file_gate_facts

    result = _run_import(context, paths, dry_run=True, progress=progress)
    facts: dict[str, FileGateFacts] = {}
    with context.store.engine.connect() as connection:
        for path, file in zip(paths, result.files, strict=True):
            if file.ok:
                facts[file.file] = file_gate_facts(connection=connection, path=path)
    return result, facts


class _ErrorLine:
    """One line of the preview's error list."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message


FILE_COLUMNS: list[Column[FileResult]] = [
    Column("ファイル", lambda f: Path(f.file).name, tooltip=lambda f: f.file),
    Column("行数", lambda f: f.rows, "int"),
    Column("新規", lambda f: f.inserted if f.ok else None, "int"),
    Column("更新（確認中→確定）", lambda f: f.updated if f.ok else None, "int"),
    Column("重複（取込済み）", lambda f: f.duplicates if f.ok else None, "int"),
    Column(
        "結果",
        lambda f: "OK" if f.ok else ("エラー" if f.errors else "明細CSVではありません"),
    ),
]


def file_columns(facts: Mapping[str, FileGateFacts]) -> list[Column[FileResult]]:
    """The files table's columns, with the rows' shapes when they are known."""
    if not facts:
        return FILE_COLUMNS

    def fact(name: str) -> Any:
        return lambda f: getattr(facts[f.file], name) if f.file in facts else None

    shapes: list[Column[FileResult]] = [
        Column(
            "通過（料金なし）",
            fact("passages"),
            "int",
            tooltip=lambda f: "金額が「－」の行: 料金所を通過した記録（料金は同じ走行の別の行）",
        ),
        Column(
            "入口で料金",
            fact("entry_charges"),
            "int",
            tooltip=lambda f: "出口のない行: 入口で料金を払う都市高速の走行（入口の日時の走行）",
        ),
    ]
    return [*FILE_COLUMNS[:5], *shapes, FILE_COLUMNS[5]]


ERROR_COLUMNS: list[Column[_ErrorLine]] = [
    Column("ファイル", lambda e: Path(e.file).name, tooltip=lambda e: e.file),
    Column("行", lambda e: e.line, "int"),
    Column("内容", lambda e: e.message, tooltip=lambda e: e.message),
]


class ImportPreviewDialog(QDialog):
    """What the import will do, file by file, and every error with its line."""

    rule_chosen = Signal(str, str)
    """(gate, operator key): the user chose an operator for a gate no rule knows."""

    def __init__(
        self,
        result: ImportResult,
        parent: QWidget | None = None,
        *,
        facts: Mapping[str, FileGateFacts] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("明細CSVの取り込み — 確認")
        self.resize(960, 600)
        self.preview = result  # what a dry run of the import found (not QDialog.result())
        self.facts = dict(facts or {})
        good = [f for f in result.files if f.ok]
        bad = [f for f in result.files if not f.ok]
        self.importable = [Path(f.file) for f in good]

        summary = QLabel(self._summary(good, bad) + self._shapes())
        summary.setWordWrap(True)
        summary.setObjectName("previewSummary")
        font = QFont(summary.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        summary.setFont(font)

        self.files_model = RecordTableModel(file_columns(self.facts), self)
        self.files_model.set_records(result.files)
        files_view = _compact_table(self.files_model)

        self.errors_model = RecordTableModel(ERROR_COLUMNS, self)
        self.errors_model.set_records(
            [
                _ErrorLine(f.file, error["line"], str(error["message"]))  # type: ignore[arg-type]
                for f in bad
                for error in f.error_dicts()
            ]
        )
        errors_view = _compact_table(self.errors_model)
        errors_view.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

        buttons = QDialogButtonBox()
        self.import_button = QPushButton(
            "取り込む" if not bad else f"問題のない{len(good)}ファイルを取り込む"
        )
        self.import_button.setDefault(True)
        self.import_button.setEnabled(bool(good) and any(f.rows for f in good))
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("キャンセル", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(files_view, 2)
        if bad:
            heading = QLabel(
                "次の問題があるファイルは取り込みません（ファイル全体を取り込まないため、"
                "一部だけが保存されることはありません）:"
            )
            heading.setWordWrap(True)
            layout.addWidget(heading)
            layout.addWidget(errors_view, 3)
        self.unknown_gates = _merge_gates(self.facts.values())
        self.gates_table: UnknownGatesTable | None = None
        if self.unknown_gates:
            self.gates_table = UnknownGatesTable(self.unknown_gates, self)
            self.gates_table.rule_chosen.connect(self.rule_chosen)
            layout.addWidget(self.gates_table, 3)
        if result.new_cards:
            cards = "、".join(f"末尾{last4}" for last4 in result.new_cards)
            note = QLabel(
                f"未登録のカード {cards} は「詳細未入力」として作成されます。"
                "あとで「カード・ID台帳」で名義などを入力してください。"
            )
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addWidget(buttons)

    def _shapes(self) -> str:
        passages = sum(f.passages for f in self.facts.values())
        entry = sum(f.entry_charges for f in self.facts.values())
        parts = []
        if passages:
            parts.append(
                f"通過 {formatting.number(passages)}行（金額「－」: 料金は同じ走行の別の行。"
                "合計・ポイント・精算には数えません）"
            )
        if entry:
            parts.append(f"入口で料金 {formatting.number(entry)}件（入口の日時の走行）")
        return ("\nうち " + "、".join(parts) + "。") if parts else ""

    @staticmethod
    def _summary(good: list[FileResult], bad: list[FileResult]) -> str:
        inserted = sum(f.inserted for f in good)
        updated = sum(f.updated for f in good)
        duplicates = sum(f.duplicates for f in good)
        text = (
            f"新規 {formatting.number(inserted)}件、更新（確認中→確定）"
            f" {formatting.number(updated)}件、重複 {formatting.number(duplicates)}件"
            "（取込済みのため追加しません）。まだ何も保存していません。"
        )
        if bad:
            errors = sum(max(len(f.errors), 1) for f in bad)
            text = f"{len(bad)}ファイルに問題があります（{errors}件）。" + text
        return text


def _merge_gates(facts: Any) -> list[UnknownFileGate]:
    """Every file's unknown gates, one line per gate (rows added up), most rows first."""
    from etcbook.models.import_gates import UnknownFileGate

    counts: dict[str, list[int]] = {}
    for fact in facts:
        for gate in fact.unknown:
            found = counts.setdefault(gate.gate, [0, 0])
            found[0] += gate.trips
            found[1] += gate.passages
    merged = [UnknownFileGate(gate, t, p) for gate, (t, p) in counts.items()]
    return sorted(merged, key=lambda g: (-(g.trips + g.passages), g.gate))


def _compact_table(model: RecordTableModel[Any]) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setWordWrap(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.resizeColumnsToContents()
    return view


class ImportFlow(QObject):
    """Ask for files (when none given), preview them, import on confirmation.

    Signals:
        previewed: the preview dialog is open (tests use it).
        finished: the flow ended; argument: the committed ImportResult, or None.
    """

    previewed = Signal(object)
    finished = Signal(object)

    def __init__(self, context: AppContext, parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.window = parent
        self.dialog: ImportPreviewDialog | None = None
        self.paths: list[Path] = []
        self.reapply_dialog: QDialog | None = None

    def start(self, paths: list[Path]) -> None:
        if not paths:
            names, _filter = QFileDialog.getOpenFileNames(
                self.window,
                "明細CSVを取り込む",
                # With type=str, QSettings.value returns a str; the stubs only say object.
                cast(str, self.context.settings.value("import/folder", "", str)),
                "明細CSV (*.csv *.CSV);;すべてのファイル (*)",
            )
            paths = [Path(name) for name in names]
        if not paths:
            self._end(None)
            return
        self.context.settings.setValue("import/folder", str(paths[0].parent))
        self.paths = paths
        self.context.run(
            Operation(
                work=lambda progress: _run_preview(self.context, paths, progress),
                title="明細CSVを確認しています",
                on_success=self._show_preview,
                on_failure=self._failed,
                on_cancelled=lambda: self._end(None),
                cancellable=True,
                parent=self.window,
            )
        )

    def _show_preview(self, preview: Preview) -> None:
        result, facts = preview
        self.dialog = ImportPreviewDialog(result, self.window, facts=facts)
        self.dialog.rule_chosen.connect(self._rule_chosen)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.accepted.connect(lambda: self._import(self.dialog.importable))
        self.dialog.rejected.connect(lambda: self._end(None))
        self.dialog.open()
        self.previewed.emit(self.dialog)

    def _rule_chosen(self, gate: str, operator: str) -> None:
        """Save the gate's rule, offer to re-apply the rules to stored trips, preview again."""
        dialog = self.dialog
        if dialog is None:
            return
        dialog.blockSignals(True)  # closed to be previewed again, not cancelled
        dialog.reject()
        dialog.deleteLater()
        self.dialog = None
        self.reapply_dialog = add_rule_and_offer_reapply(self.context, gate, operator, self.window)
        self._status(f"ルールを作成しました: {gate} → {operator_label(operator)}")
        if self.reapply_dialog is None:
            self.start(self.paths)
        else:  # the question about stored trips first, then the preview again
            self.reapply_dialog.finished.connect(lambda _result: self.start(self.paths))

    def _import(self, paths: list[Path]) -> None:
        self.context.run(
            Operation(
                work=lambda progress: _run_import(
                    self.context, paths, dry_run=False, progress=progress
                ),
                title="明細CSVを取り込んでいます",
                on_success=self._imported,
                on_failure=self._failed,
                on_cancelled=self._cancelled,
                changes_ledger=True,
                cancellable=True,
                parent=self.window,
            )
        )

    def _imported(self, result: ImportResult) -> None:
        message = (
            f"取り込みました: 新規 {result.inserted:,}件、更新 {result.updated:,}件、"
            f"重複 {result.duplicates:,}件"
        )
        if not result.committed:
            message = "取り込めませんでした（ファイルの内容が確認後に変わった可能性があります）。"
        self._status(message)
        self._end(result if result.committed else None)

    def _cancelled(self) -> None:
        self._status("取り込みをキャンセルしました。何も保存していません。")
        self._end(None)

    def _failed(self, error: BaseException) -> None:
        tell(
            self.window,
            "明細CSVの取り込み",
            f"取り込めませんでした。\n{error}",
            icon=QMessageBox.Icon.Critical,
        )
        self._end(None)

    def _status(self, message: str) -> None:
        status = getattr(self.window, "statusBar", None)
        if callable(status):
            status().showMessage(message, 20_000)

    def _end(self, result: ImportResult | None) -> None:
        self.finished.emit(result)
        self.deleteLater()
