"""Start the desktop app: QApplication, Japanese font, system palette, the main window."""

from __future__ import annotations

import gc
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from etcbook import __version__
from etcbook.paths import ICON_PNG
from etcbook.ui.context import SAMPLE_STORE_NAME, AppContext
from etcbook.ui.fonts import apply_application_font
from etcbook.ui.main_window import MainWindow
from etcbook.ui.theme import apply_system_palette
from etcbook.ui.translation import install_japanese

if TYPE_CHECKING:
    from etcbook.ui.context import StoreLocation


def sample_store_path() -> Path:
    """Where "open the sample data" keeps its store: in a folder of its own next to the user's
    store, apart from the user's."""
    from etcbook.paths import user_data_folder

    return user_data_folder() / "sample" / SAMPLE_STORE_NAME


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with etcbook's names, Qt's Japanese, font and palette (reused if one exists)."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("etcbook")
    app.setOrganizationName("etcbook")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("etcbook")
    app.setWindowIcon(QIcon(str(ICON_PNG)))
    install_japanese(app)
    apply_application_font(app)
    apply_system_palette(app)
    return app


def make_main_window(
    db_path: StoreLocation,
    *,
    settings: QSettings | None = None,
    sample_path: Path | None = None,
) -> MainWindow:
    """The main window over ``db_path`` (a file, or a PostgreSQL ledger's address); the store
    opens once the event loop runs."""
    settings = settings if settings is not None else QSettings()
    sample = sample_path if sample_path is not None else sample_store_path  # found when asked

    def context_for(path: StoreLocation) -> AppContext:
        return AppContext(path, settings=settings, sample_path=sample)

    return MainWindow(context_for(db_path), context_factory=context_for)


def report_unhandled(window: MainWindow) -> Callable[..., None]:
    """An excepthook for the running app: an error in an edit made on the GUI thread (the
    store busy in another etcbook, a full disk) is told in a message box, not only on stderr.
    The edit's transaction was rolled back, so nothing half-done was stored."""
    from etcbook.ui.operations import show_failure

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        sys.__excepthook__(kind, error, trace)
        if not issubclass(kind, Exception):
            return
        details = "".join(traceback.format_exception(kind, error, trace))
        show_failure(window, "変更", error, details)

    return hook


def run_app(db_path: StoreLocation) -> int:
    """Open the window on the store at ``db_path`` (a file, or a PostgreSQL ledger's address,
    whose password the window asks for when nothing else gives it); return the exit status."""
    app = make_application()
    window = make_main_window(Path(db_path) if isinstance(db_path, str) else db_path)
    sys.excepthook = report_unhandled(window)
    window.show()
    # The window is on screen before SQLModel, Alembic and the data are loaded; the store is
    # claimed and opened once it has been painted.
    after_first_paint(window, window.context.open_store_async)
    status = app.exec()
    shut_down(app, window)
    return status


FIRST_PAINT_WAIT_MS = 500
"""The longest wait for the window's first paint before the store is opened all the same (a
window started minimized is not painted)."""


def after_first_paint(window: QWidget, callback: Callable[[], object]) -> None:
    """Call ``callback`` once on the event loop, after ``window`` is first painted (or after
    :data:`FIRST_PAINT_WAIT_MS`): a zero timer would run before the paint on most platforms,
    whose expose event comes later."""

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                go()
            return False

    done = False
    watcher = FirstPaint(window)

    def go() -> None:
        nonlocal done
        if done:
            return
        done = True
        window.removeEventFilter(watcher)
        watcher.deleteLater()
        QTimer.singleShot(0, callback)

    window.installEventFilter(watcher)
    QTimer.singleShot(FIRST_PAINT_WAIT_MS, go)


def shut_down(app: QApplication, window: MainWindow) -> None:
    """Take the window apart in a fixed order while the QApplication still exists.

    The store and its claim are released (the window's close did it unless the event loop
    ended otherwise), the window and every widget, model and chart canvas under it are deleted
    by Qt now, and what is left for Python's garbage collector at exit holds no Qt object.
    """
    window.context.close()
    sys.excepthook = sys.__excepthook__
    window.hide()
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()
