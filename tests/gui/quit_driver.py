"""Run the app as ``etcbook --db STORE`` does, use every page, then quit with 終了 (Ctrl+Q).

Started by test_quit.py in a subprocess; prints the pages it used on stdout.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QTabWidget

from etcbook.ui.app import run_app
from etcbook.ui.main_window import MainWindow


def _window() -> MainWindow | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            return widget
    return None


def drive() -> None:
    window = _window()
    if window is None or not window.context.is_open:
        QTimer.singleShot(50, drive)
        return
    keys = [spec.key for spec in window.page_specs]
    used: list[str] = []
    sizes = [(1024, 700), (1366, 768)]

    def step() -> None:
        try:
            use_next_page()
        except BaseException:
            traceback.print_exc()
            QApplication.exit(1)

    def use_next_page() -> None:
        if window.context.operations.busy:
            QTimer.singleShot(30, step)
            return
        if keys:
            key = keys.pop(0)
            window.show_page(key)
            window.resize(*sizes[len(used) % 2])  # charts redraw after a resize
            for tabs in window.page_widget(key).findChildren(QTabWidget):
                for index in range(tabs.count()):
                    tabs.setCurrentIndex(index)
            used.append(key)
            QTimer.singleShot(200, step)
            return
        window.context.ledger_changed.emit()  # every page refreshes once more
        print(" ".join(used), flush=True)
        quit_action = next(
            action
            for action in window.findChildren(QAction)
            if action.menuRole() == QAction.MenuRole.QuitRole
            and action.shortcut() == QKeySequence(QKeySequence.StandardKey.Quit)
        )
        QTimer.singleShot(300, quit_action.trigger)

    step()


if __name__ == "__main__":
    QTimer.singleShot(0, drive)
    sys.exit(run_app(Path(sys.argv[1])))
