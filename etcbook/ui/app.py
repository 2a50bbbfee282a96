"""Starting the window."""

from __future__ import annotations

import sys
from pathlib import Path


def run_app(db_path: Path) -> int:
    """Open the main window on the store at ``db_path``; returns the exit status."""
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    from etcbook.models.store import open_store

    app = QApplication.instance() or QApplication(sys.argv)
    store = open_store(db_path)
    window = QMainWindow()
    window.setWindowTitle(f"etcbook — {store.path.name}")
    window.setCentralWidget(QLabel("etcbook"))
    window.resize(1100, 720)
    window.show()
    return app.exec()
