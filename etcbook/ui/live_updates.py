"""Show other clients' changes in an open window, without a restart.

On a PostgreSQL ledger every etcbook transaction that wrote something sends a NOTIFY
(:data:`etcbook.models.server.CHANGES_CHANNEL`, from the engine's commit event); the window
listens on a connection of its own, woken by a :class:`QSocketNotifier` on its socket, so the
GUI thread never blocks and nothing polls the server. Notifications carrying the window's own
engine tag are its own writes (already refreshed) and are skipped.

When that connection drops (the server restarts, the network fails, the backend is terminated),
the watcher says so in the status bar (:attr:`ChangeWatcher.server_status`, :data:`UNREACHABLE`)
and opens a new one on a worker thread: at once, then after :data:`RECONNECT_FIRST_MS`, doubling
up to :data:`RECONNECT_MAX_MS`. Once it listens again it refreshes the pages once, since
notifications sent meanwhile are lost. A network that fails silently (no reset) is noticed by
TCP keepalives (:func:`etcbook.models.server.listen_for_changes`).

On a SQLite file, the CLI or another program writing the store under an open window bumps
``data_version`` (etcbook.models.store.note_changes); the window reads that one row every
:data:`POLL_MS` and refreshes when it moved.

Either way the refresh is :attr:`AppContext.ledger_changed`, coalesced over :data:`SETTLE_MS`,
so a burst of changes (an import by another client) refreshes the pages once.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

if TYPE_CHECKING:
    from etcbook.ui.context import AppContext

POLL_MS = 2_000
"""How often a window on a SQLite file looks at the store's data version."""
SETTLE_MS = 300
"""Changes arriving within this time of each other refresh the pages once."""
RECONNECT_FIRST_MS = 1_000
"""After a dropped listening connection the first new one is tried at once; the next after this."""
RECONNECT_MAX_MS = 30_000
"""The longest wait between two tries (the wait doubles from :data:`RECONNECT_FIRST_MS`)."""
CONNECT_TIMEOUT_S = 10
"""How long one try may wait for the server (on the worker thread)."""
UNREACHABLE = "サーバーに接続できません。再接続を試みています…"
"""The status bar while the window does not hear the server (PostgreSQL)."""
UNREACHABLE_DETAIL = "再接続するまで、ほかの利用者の変更は表示されません。"
"""The status bar message's tooltip, before the driver's own words."""
RECONNECTED = "サーバーに再接続しました。最新の内容を表示します。"
"""Shown for a moment once the window hears the server again."""


class ChangeWatcher(QObject):
    """Emits the context's ``ledger_changed`` when another client changed the open store.

    Signals:
        server_status: on a PostgreSQL ledger, :data:`UNREACHABLE` when the listening
            connection dropped and is not back yet, ``""`` once it is (with the reason as the
            second argument: the driver's words, or ``""``).
    """

    server_status = Signal(str, str)
    _attempted = Signal(object, str, int)
    """From the worker thread: the new listening connection or ``None``, the error, the try's
    generation (a try started before :meth:`stop` or before a newer try is dropped)."""

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self._context = context
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._changed_elsewhere)
        self._listener: Any = None
        self._notifier: QSocketNotifier | None = None
        self._poll: QTimer | None = None
        self._seen: int | None = None
        self._own_tag = ""
        self.listening = False
        """``True`` when the window hears the server's notifications (PostgreSQL)."""
        self.reconnects = 0
        """How many times the listening connection was opened again after it dropped."""
        self._stopped = False
        self._generation = 0
        self._delay_ms = 0
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._try_to_listen)
        self._attempted.connect(self._listen_attempted)
        store = context.store
        if store.on_server:
            self._listen()
        else:
            self._seen = self._version()
            context.ledger_changed.connect(self._own_change)
            self._poll = QTimer(self)
            self._poll.setInterval(POLL_MS)
            self._poll.timeout.connect(self._look)
            self._poll.start()

    # -- PostgreSQL: LISTEN ----------------------------------------------------------------------

    def _listen(self) -> None:
        from etcbook.models.server import engine_tag, listen_for_changes

        store = self._context.store
        assert store.address is not None
        self._own_tag = engine_tag(store.engine)
        try:  # the store was opened a moment ago on this thread: the server answers at once
            listener = listen_for_changes(store.address, connect_timeout=CONNECT_TIMEOUT_S)
        except Exception as error:  # the window still works; it listens once the server answers
            self._lost(error)
            return
        self._hear(listener)

    def _hear(self, listener: Any) -> None:
        self._listener = listener
        self._notifier = QSocketNotifier(listener.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._readable)
        self.listening = True

    def _readable(self) -> None:
        import psycopg

        listener = self._listener
        if listener is None:
            return
        try:
            notes = list(listener.notifies(timeout=0))
        except psycopg.Error as error:
            self._lost(error)
            return
        if any(note.payload != self._own_tag for note in notes):
            self._settle.start()
        if listener.closed or listener.broken:
            self._lost(None)

    def _lost(self, error: BaseException | None) -> None:
        """The listening connection dropped (or could not be opened): say so, try again."""
        reason = str(error).strip() if error is not None else ""
        print(
            f"etcbook: 変更の通知が途切れました（{reason or '接続が切れました'}）", file=sys.stderr
        )
        self._stop_listening()
        self.server_status.emit(UNREACHABLE, reason)
        self._delay_ms = 0
        self._retry.start(0)

    def _try_to_listen(self) -> None:
        """Open a new listening connection on a worker thread (the GUI thread never waits)."""
        from etcbook.models.server import listen_for_changes

        if self._stopped:
            return
        address = self._context.store.address
        assert address is not None
        self._generation += 1
        generation = self._generation
        attempted = self._attempted

        def attempt() -> None:
            listener, reason = None, ""
            try:
                listener = listen_for_changes(address, connect_timeout=CONNECT_TIMEOUT_S)
            except Exception as error:
                reason = str(error).strip() or type(error).__name__
            try:
                attempted.emit(listener, reason, generation)
            except RuntimeError:  # the watcher is gone (the window closed meanwhile)
                if listener is not None:
                    listener.close()

        threading.Thread(target=attempt, name="etcbook-listen", daemon=True).start()

    def _listen_attempted(self, listener: Any, reason: str, generation: int) -> None:
        if self._stopped or generation != self._generation or self.listening:
            if listener is not None:
                listener.close()
            return
        if listener is None:
            self._delay_ms = min(max(2 * self._delay_ms, RECONNECT_FIRST_MS), RECONNECT_MAX_MS)
            self.server_status.emit(UNREACHABLE, reason)
            self._retry.start(self._delay_ms)
            return
        self._hear(listener)
        self._delay_ms = 0
        self.reconnects += 1
        self.server_status.emit("", "")
        # Notifications sent while nobody listened are lost: show the ledger as it is now.
        self._settle.start()

    def _stop_listening(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self._listener is not None:
            with contextlib.suppress(Exception):  # a dropped connection may fail to say goodbye
                self._listener.close()
            self._listener = None
        self.listening = False

    # -- SQLite: data_version --------------------------------------------------------------------

    def _version(self) -> int | None:
        from sqlalchemy.exc import OperationalError

        from etcbook.models.engine_cache import data_version

        try:
            with self._context.connection() as connection:
                return data_version(connection=connection)
        except OperationalError:  # locked for a moment, or the file went away: next time
            return self._seen

    def _own_change(self) -> None:
        # This window's own changes are shown already: only what comes after them is news.
        if not self._settle.isActive():
            self._seen = self._version()

    def _look(self) -> None:
        if not self._context.is_open or self._context.operations.busy:
            return
        version = self._version()
        if version != self._seen:
            self._seen = version
            self._settle.start()

    # -- both ------------------------------------------------------------------------------------

    def _changed_elsewhere(self) -> None:
        if self._context.is_open:
            self._context.ledger_changed.emit()

    def stop(self) -> None:
        """Stop listening and polling (the store is closing)."""
        self._stopped = True
        self._retry.stop()
        self._settle.stop()
        if self._poll is not None:
            self._poll.stop()
        self._stop_listening()
        if self._seen is not None or self._poll is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self._context.ledger_changed.disconnect(self._own_change)
