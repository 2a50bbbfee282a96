"""Import of 明細CSV files: preview first, then the import off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from etcbook.ui.context import AppContext


class ImportFlow:
    """Ask for files (if none given), preview them, import on confirmation."""

    def __init__(self, context: AppContext, parent: QWidget) -> None:
        self.context = context
        self.parent = parent

    def start(self, paths: list[Path]) -> None:
        if not paths:
            names, _filter = QFileDialog.getOpenFileNames(
                self.parent, "明細CSVを取り込む", "", "明細CSV (*.csv *.CSV);;すべてのファイル (*)"
            )
            paths = [Path(name) for name in names]
        if not paths:
            return
