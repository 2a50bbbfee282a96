"""The one way the window runs long jobs off the GUI thread.

An :class:`Operation` is a function run in a worker thread with a :class:`Progress` handle,
plus callbacks run back on the GUI thread: ``on_success(result)``, ``on_failure(error)``,
``on_cancelled()``. When an operation that changes the ledger succeeds, the runner emits the
context's "ledger changed" signal once, after ``on_success``, so every view refreshes.

The work function must not touch widgets; it talks to the store through its own session.
Cancelling is cooperative: the work calls :meth:`Progress.check` (or reads
:attr:`Progress.cancelled`) between steps and raises :class:`Cancelled`; the code it calls is
responsible for rolling its transaction back, so that nothing half-done is stored.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside an operation's work when the user cancelled it."""


class Progress:
    """Handed to the work function: report progress, learn about cancellation.

    Thread-safe: :meth:`report` may be called from the worker thread as often as convenient;
    the GUI is updated at most every 50 ms.
    """

    def __init__(self, emit: Callable[[int, int, str], None] | None = None) -> None:
        self._cancel = threading.Event()
        self._emit = emit
        self._lock = threading.Lock()
        self._last_text = ""
        self._last_emit = 0.0

    @property
    def cancelled(self) -> bool:
        """``True`` once the user asked to cancel."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._cancel.set()

    def check(self) -> None:
        """Raise :class:`Cancelled` when the user asked to cancel."""
        if self._cancel.is_set():
            raise Cancelled

    def report(self, done: int, total: int = 0, text: str = "") -> None:
        """Tell how far the work is (``total`` 0 means unknown); also checks for cancellation."""
        now = time.monotonic()
        with self._lock:
            if text:
                self._last_text = text
            label = self._last_text
            due = now - self._last_emit >= 0.05 or (total > 0 and done >= total)
            if due:
                self._last_emit = now
        if due and self._emit is not None:
            self._emit(done, total, label)
        self.check()


@dataclass
class Operation(Generic[T]):
    """A long job and what to do with its outcome.

    Attributes:
        work: run in a worker thread with a :class:`Progress`; returns the result.
        title: shown in the progress dialog and in failure messages (Japanese).
        on_success: called on the GUI thread with the result.
        on_failure: called on the GUI thread with the exception (its result is ignored);
            default shows a message box.
        on_cancelled: called on the GUI thread after the user cancelled.
        changes_ledger: emit "ledger changed" after a success.
        cancellable: the progress dialog offers a cancel button.
        show_progress: show a progress dialog (after a short delay) while running.
        parent: the widget the dialog and messages belong to.
    """

    work: Callable[[Progress], T]
    title: str = ""
    on_success: Callable[[T], None] | None = None
    on_failure: Callable[[BaseException], object] | None = None
    on_cancelled: Callable[[], None] | None = None
    changes_ledger: bool = False
    cancellable: bool = False
    show_progress: bool = True
    parent: QWidget | None = None
    progress: Progress = field(init=False)


class _Bridge(QObject):
    """Lives on the GUI thread; its signals carry the worker's news there (queued)."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()


class _Job(QRunnable):
    def __init__(self, operation: Operation[Any], bridge: _Bridge) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._operation = operation
        self._bridge = bridge

    def run(self) -> None:
        try:
            result = self._operation.work(self._operation.progress)
        except Cancelled:
            self._bridge.cancelled.emit()
        except BaseException as error:  # reported to the GUI, never swallowed
            self._bridge.failed.emit(error, traceback.format_exc())
        else:
            self._bridge.succeeded.emit(result)


class OperationRunner(QObject):
    """Runs :class:`Operation` objects on a thread pool and reports back on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(self, ledger_changed: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ledger_changed = ledger_changed
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._running: set[_Bridge] = set()
        self._closed = False
        self._progress: set[Progress] = set()
        self._writing: set[_Bridge] = set()

    @property
    def busy(self) -> bool:
        """``True`` while any operation has not reported back yet."""
        return bool(self._running)

    @property
    def writing(self) -> bool:
        """``True`` while an operation that changes the ledger runs (an import, an edit)."""
        return bool(self._writing)

    def run(self, operation: Operation[T]) -> Progress:
        """Start ``operation``; return its :class:`Progress` (``cancel()`` stops it)."""
        bridge = _Bridge()
        dialog = self._progress_dialog(operation) if operation.show_progress else None
        operation.progress = Progress(bridge.progressed.emit)
        self._progress.add(operation.progress)

        def finish() -> None:
            self._progress.discard(operation.progress)
            self._writing.discard(bridge)
            if dialog is not None:
                dialog.reset()
                dialog.deleteLater()
            self._running.discard(bridge)
            bridge.deleteLater()
            if not self._running:
                self.busy_changed.emit(False)

        def succeeded(result: object) -> None:
            finish()
            if self._closed:  # the store is gone: nobody to tell
                return
            if operation.on_success is not None:
                operation.on_success(result)  # type: ignore[arg-type]
            if operation.changes_ledger:
                self._ledger_changed()

        def failed(error: BaseException, trace: str) -> None:
            finish()
            if self._closed:
                return
            if operation.on_failure is not None:
                operation.on_failure(error)
            else:
                show_failure(operation.parent, operation.title, error, trace)

        def cancelled() -> None:
            finish()
            if self._closed:
                return
            if operation.on_cancelled is not None:
                operation.on_cancelled()

        if dialog is not None:
            bridge.progressed.connect(lambda done, total, text: _update(dialog, done, total, text))
            dialog.canceled.connect(operation.progress.cancel)
        queued = Qt.ConnectionType.QueuedConnection
        bridge.succeeded.connect(succeeded, queued)
        bridge.failed.connect(failed, queued)
        bridge.cancelled.connect(cancelled, queued)
        if not self._running:
            self.busy_changed.emit(True)
        self._running.add(bridge)
        if operation.changes_ledger:
            self._writing.add(bridge)
        self._pool.start(_Job(operation, bridge))
        return operation.progress

    def wait_for_done(self, msecs: int = 30_000) -> bool:
        """Block until the worker threads are idle (used at exit and in tests)."""
        return self._pool.waitForDone(msecs)

    def shut_down(self, msecs: int = 30_000) -> None:
        """Cancel what runs, wait for it, and drop the callbacks still queued (store closing)."""
        self._closed = True
        for progress in list(self._progress):
            progress.cancel()
        self._pool.waitForDone(msecs)

    def _progress_dialog(self, operation: Operation[Any]) -> QProgressDialog:
        dialog = QProgressDialog(operation.parent)
        dialog.setWindowTitle(operation.title or "処理中")
        dialog.setLabelText(operation.title or "処理中…")
        dialog.setRange(0, 0)
        dialog.setMinimumDuration(400)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoReset(False)
        dialog.setAutoClose(False)
        if operation.cancellable:
            dialog.setCancelButtonText("キャンセル")
        else:
            dialog.setCancelButton(None)
        return dialog


def _update(dialog: QProgressDialog, done: int, total: int, text: str) -> None:
    if total > 0:
        if dialog.maximum() != total:
            dialog.setRange(0, total)
        dialog.setValue(min(done, total))
    if text:
        dialog.setLabelText(text)


def failure_text(error: BaseException) -> str:
    """What to tell the user about ``error``: SQLite's refusals (the store busy in another
    etcbook, a full disk, a damaged file) as a sentence, anything else as its message."""
    from etcbook.models.instance import store_problem

    return store_problem(error) or str(error) or type(error).__name__


def show_failure(
    parent: QWidget | None, title: str, error: BaseException, trace: str = ""
) -> QMessageBox:
    """The default failure report: one sentence, the details folded away.

    The details also go to stderr, where a terminal or a log keeps them (the frozen app's
    smoke job, too, looks there)."""
    if trace and sys.stderr is not None:
        print(f"{title or '処理'}に失敗しました:\n{trace}", file=sys.stderr, flush=True)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title or "エラー")
    box.setText(f"{title or '処理'}に失敗しました。")
    box.setInformativeText(failure_text(error))
    if trace:
        box.setDetailedText(trace)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
