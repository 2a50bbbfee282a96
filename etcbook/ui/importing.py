"""Import of 明細CSV files: a preview first, then the import itself, both off the GUI thread.

The preview runs the real import in a transaction that is rolled back (the importer's
``dry_run``), so its counts — new trips, 確認中 → 確定 updates, duplicates — and its line
errors are exactly what the import will do. Nothing is written until the user confirms.
The import can be cancelled; the importer then rolls its one transaction back. After it, each
file is kept in the vault as an original (``detail_csv``, once per content).

Cards of a fleet can share their last 4 digits, which are all a 明細CSV carries: the importer
never guesses between them. When the files name only such digits, the preview offers the cards
to choose from (id, 呼び名/名義, 部署) and previews again for the chosen one (the CLI's
``import --card``).

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
    QComboBox,
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

from etcbook.safeio import display_name
from etcbook.ui import formatting
from etcbook.ui.context import AppContext
from etcbook.ui.gate_rules import UnknownGatesTable, add_rule_and_offer_reapply
from etcbook.ui.labels import operator_label
from etcbook.ui.messages import tell
from etcbook.ui.operations import Cancelled, Operation, Progress
from etcbook.ui.tables import Column, RecordTableModel

if TYPE_CHECKING:
    from etcbook.models.cards import CardMatch
    from etcbook.models.import_gates import FileGateFacts, UnknownFileGate
    from etcbook.models.imports import FileResult, ImportResult
    from etcbook.models.originals import KeptOriginal, MeisaiSummary

Preview = tuple[
    "ImportResult",
    dict[str, "FileGateFacts"],
    dict[str, "MeisaiSummary | None"],
    list["CardMatch"],
]
"""The dry run's result; per file that can be imported, its rows' shapes and unknown gates; per
file its summary; the cards to choose from when the files' last 4 digits are several cards'."""


ChosenCard = tuple[str, int] | None
"""The card chosen for the files (last 4 digits, id), or None."""


def _run_import(
    context: AppContext,
    paths: list[Path],
    *,
    dry_run: bool,
    progress: Progress,
    card: ChosenCard = None,
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
            card_last4=card[0] if card else None,
            card_id=card[1] if card else None,
            dry_run=dry_run,
            progress=report,
            cancelled=lambda: progress.cancelled,
        )
    except ImportCancelled:
        raise Cancelled from None


def _run_preview(
    context: AppContext, paths: list[Path], progress: Progress, card: ChosenCard = None
) -> Preview:
    """The dry run, then each importable file's passages, entry charges and unknown gates, per
    file its card, dates and toll total, and the cards to choose from (worker thread)."""
    from etcbook.models.cards import cards_with_last4
    from etcbook.models.import_gates import file_gate_facts
    from etcbook.models.originals import summarise_meisai

    result = _run_import(context, paths, dry_run=True, progress=progress, card=card)
    facts: dict[str, FileGateFacts] = {}
    summaries = {display_name(path): summarise_meisai(path) for path in paths}
    digits = {last4 for s in summaries.values() if s is not None for last4 in s.cards}
    choices: list[CardMatch] = []
    with context.store.engine.connect() as connection:
        for path, file in zip(paths, result.files, strict=True):
            if file.ok:
                facts[file.file] = file_gate_facts(connection=connection, path=path)
        if len(digits) == 1:
            same = cards_with_last4(connection, digits.pop())
            choices = same if len(same) > 1 else []
    return result, facts, summaries, choices


def _run_import_and_keep(
    context: AppContext, paths: list[Path], *, progress: Progress, card: ChosenCard = None
) -> tuple[ImportResult, list[KeptOriginal]]:
    """The import, then each imported file kept in the vault as an original (worker thread)."""
    from etcbook.models.originals import keep_detail_csvs

    result = _run_import(context, paths, dry_run=False, progress=progress, card=card)
    if not result.committed:
        return result, []
    return result, keep_detail_csvs(
        store=context.store, paths=paths, card_last4=card[0] if card else None
    )


class _ErrorLine:
    """One line of the preview's error list."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message


class _FileLine:
    """One line of the preview's file list: what the import will do, and what the file holds."""

    def __init__(self, result: FileResult, summary: MeisaiSummary | None) -> None:
        self.result = result
        self.summary = summary

    @property
    def cards(self) -> str:
        return "、".join(self.summary.cards) if self.summary else ""

    @property
    def period(self) -> str:
        if self.summary is None or self.summary.first is None or self.summary.last is None:
            return ""
        first, last = formatting.date(self.summary.first), formatting.date(self.summary.last)
        return first if first == last else f"{first}〜{last}"

    @property
    def outcome(self) -> str:
        if not self.result.ok:
            if self.result.errors:
                return "エラー"
            # read as a 明細CSV, refused whole (cards sharing its digits, a closed month)
            return "取り込めません（下の説明）" if self.result.rows else "明細CSVではありません"
        if not self.result.inserted and not self.result.updated:
            return "新しい走行なし"
        return "取り込めます"


FILE_COLUMNS: list[Column[_FileLine]] = [
    Column("ファイル", lambda f: Path(f.result.file).name, tooltip=lambda f: f.result.file),
    Column("カード末尾", lambda f: f.cards),
    Column("期間（出口日）", lambda f: f.period),
    Column("通行料金", lambda f: f.summary.toll if f.summary else None, "yen"),
    Column("行数", lambda f: f.result.rows, "int"),
    Column("新規", lambda f: f.result.inserted if f.result.ok else None, "int"),
    Column("更新（確認中→確定）", lambda f: f.result.updated if f.result.ok else None, "int"),
    Column("重複（取込済み）", lambda f: f.result.duplicates if f.result.ok else None, "int"),
    Column("結果", lambda f: f.outcome),
]


def file_columns(facts: Mapping[str, FileGateFacts]) -> list[Column[_FileLine]]:
    """The files table's columns, with the rows' shapes when they are known."""
    if not facts:
        return FILE_COLUMNS

    def fact(name: str) -> Any:
        return lambda f: getattr(facts[f.result.file], name) if f.result.file in facts else None

    shapes: list[Column[_FileLine]] = [
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
    return [*FILE_COLUMNS[:-1], *shapes, FILE_COLUMNS[-1]]


ERROR_COLUMNS: list[Column[_ErrorLine]] = [
    Column("ファイル", lambda e: Path(e.file).name, tooltip=lambda e: e.file),
    Column("行", lambda e: e.line, "int"),
    Column("内容", lambda e: e.message, tooltip=lambda e: e.message),
]


class ImportPreviewDialog(QDialog):
    """What the import will do, file by file, and every error with its line."""

    rule_chosen = Signal(str, str)
    """(gate, operator key): the user chose an operator for a gate no rule knows."""
    card_chosen = Signal(str, int)
    """(last 4, card id): the card whose statement the files are, among cards sharing digits."""

    def __init__(
        self,
        result: ImportResult,
        parent: QWidget | None = None,
        *,
        facts: Mapping[str, FileGateFacts] | None = None,
        summaries: dict[str, MeisaiSummary | None] | None = None,
        paths: list[Path] | None = None,
        choices: list[CardMatch] | None = None,
        chosen: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("明細CSVの取り込み — 確認")
        self.resize(1080, 600)
        self.preview = result  # what a dry run of the import found (not QDialog.result())
        self.facts = dict(facts or {})
        good = [f for f in result.files if f.ok]
        bad = [f for f in result.files if not f.ok]
        by_name = {display_name(path): path for path in paths or []}
        self.importable = [by_name.get(f.file, Path(f.file)) for f in good]
        summaries = summaries or {}

        summary = QLabel(self._summary(good, bad) + self._shapes())
        summary.setWordWrap(True)
        summary.setObjectName("previewSummary")
        font = QFont(summary.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        summary.setFont(font)

        self.files_model = RecordTableModel(file_columns(self.facts), self)
        self.files_model.set_records([_FileLine(f, summaries.get(f.file)) for f in result.files])
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
        news = any(f.inserted or f.updated for f in good)
        self.import_button = QPushButton(
            "取り込む" if not bad or not good else f"問題のないファイル（{len(good)}件）を取り込む"
        )
        self.import_button.setDefault(True)
        self.import_button.setEnabled(news)
        if good and not news:
            self.import_button.setToolTip("新しい走行も確定への更新もありません")
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("キャンセル", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        self.card_choice: QComboBox | None = None
        if choices:
            layout.addWidget(self._card_choice(choices, chosen))
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
        if good and news:
            kept = QLabel(
                "取り込むと、明細CSVのファイルそのものも原本として証憑フォルダに保管します"
                "（同じ内容のファイルは1回だけ）。"
            )
            kept.setObjectName("previewOriginals")
            kept.setWordWrap(True)
            layout.addWidget(kept)
        if result.new_cards:
            cards = "、".join(f"末尾{last4}" for last4 in result.new_cards)
            note = QLabel(
                f"未登録のカード {cards} は「詳細未入力」として作成されます。"
                "あとで「カード・ID台帳」で名義などを入力してください。"
            )
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addWidget(buttons)

    def _card_choice(self, choices: list[CardMatch], chosen: int | None) -> QWidget:
        """A choice among the cards sharing the files' last 4 digits (the import never guesses)."""
        from etcbook.models.cards import describe_candidates

        box = QWidget(self)
        row = QVBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel(
            f"カード末尾{choices[0].last4}のカードが{len(choices)}枚あります。"
            "どのカードの明細か選んでください:"
        )
        label.setWordWrap(True)
        self.card_choice = QComboBox(box)
        self.card_choice.addItem("（選んでください）", None)
        for card in choices:
            self.card_choice.addItem(describe_candidates([card]), card.id)
        if chosen is not None:
            self.card_choice.setCurrentIndex(max(self.card_choice.findData(chosen), 0))
        self.card_choice.activated.connect(self._choose_card)
        self._choices = {card.id: card.last4 for card in choices}
        row.addWidget(label)
        row.addWidget(self.card_choice)
        return box

    def _choose_card(self, index: int) -> None:
        assert self.card_choice is not None
        card_id = self.card_choice.itemData(index)
        if card_id is not None:
            self.card_chosen.emit(self._choices[card_id], int(card_id))

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
        if good and not inserted and not updated:
            text = "新しい走行はありません（すべて取込済みです）。取り込むものはありません。"
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
        self.kept: list[KeptOriginal] = []
        self.card: ChosenCard = None

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
                work=lambda progress: _run_preview(
                    self.context, paths, progress=progress, card=self.card
                ),
                title="明細CSVを確認しています",
                on_success=lambda found: self._show_preview(found, paths),
                on_failure=self._failed,
                on_cancelled=lambda: self._end(None),
                cancellable=True,
                parent=self.window,
            )
        )

    def _show_preview(self, preview: Preview, paths: list[Path]) -> None:
        result, facts, summaries, choices = preview
        self.dialog = ImportPreviewDialog(
            result,
            self.window,
            facts=facts,
            summaries=summaries,
            paths=paths,
            choices=choices,
            chosen=self.card[1] if self.card else None,
        )
        self.dialog.rule_chosen.connect(self._rule_chosen)
        self.dialog.card_chosen.connect(self._card_chosen)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.accepted.connect(lambda: self._import(self.dialog.importable))
        self.dialog.rejected.connect(lambda: self._end(None))
        self.dialog.open()
        self.previewed.emit(self.dialog)

    def _close_preview(self) -> bool:
        """Close the preview to preview again (not a cancel); False when none is open."""
        dialog = self.dialog
        if dialog is None:
            return False
        dialog.blockSignals(True)  # closed to be previewed again, not cancelled
        dialog.reject()
        dialog.deleteLater()
        self.dialog = None
        return True

    def _rule_chosen(self, gate: str, operator: str) -> None:
        """Save the gate's rule, offer to re-apply the rules to stored trips, preview again."""
        if not self._close_preview():
            return
        self.reapply_dialog = add_rule_and_offer_reapply(self.context, gate, operator, self.window)
        self._status(f"ルールを作成しました: {gate} → {operator_label(operator)}")
        if self.reapply_dialog is None:
            self.start(self.paths)
        else:  # the question about stored trips first, then the preview again
            self.reapply_dialog.finished.connect(lambda _result: self.start(self.paths))

    def _card_chosen(self, last4: str, card_id: int) -> None:
        """Preview again with the chosen card."""
        if not self._close_preview():
            return
        self.card = (last4, card_id)
        self.start(self.paths)

    def _import(self, paths: list[Path]) -> None:
        self.context.run(
            Operation(
                work=lambda progress: _run_import_and_keep(
                    self.context, paths, progress=progress, card=self.card
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

    def _imported(self, done: tuple[ImportResult, list[KeptOriginal]]) -> None:
        result, self.kept = done
        message = (
            f"取り込みました: 新規 {result.inserted:,}件、更新 {result.updated:,}件、"
            f"重複 {result.duplicates:,}件"
        )
        added = sum(1 for original in self.kept if original.new)
        if added:
            message += f"。明細CSV {added}件を原本として証憑フォルダに保管しました"
        problems = [original.problem for original in self.kept if original.problem]
        if problems:
            message += "。原本として保管できなかったファイルがあります: " + "、".join(
                str(problem) for problem in problems
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
