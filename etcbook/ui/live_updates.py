"""Show other clients' changes in an open window, without a restart.

On a PostgreSQL ledger every etcbook transaction that wrote something sends a NOTIFY
(:data:`etcbook.models.server.CHANGES_CHANNEL`, from the engine's commit event); the window
listens on a connection of its own, woken by a :class:`QSocketNotifier` on its socket, so the
GUI thread never blocks and nothing polls the server. Notifications carrying the window's own
engine tag are its own writes (already refreshed) and are skipped.

On a SQLite file, the CLI or another program writing the store under an open window bumps
``data_version`` (etcbook.models.store.note_changes); the window reads that one row every
:data:`POLL_MS` and refreshes when it moved.

Either way the refresh is :attr:`AppContext.ledger_changed`, coalesced over :data:`SETTLE_MS`,
so a burst of changes (an import by another client) refreshes the pages once.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

if TYPE_CHECKING:
    from etcbook.ui.context import AppContext

POLL_MS = 2_000
"""How often a window on a SQLite file looks at the store's data version."""
SETTLE_MS = 300
"""Changes arriving within this time of each other refresh the pages once."""


class ChangeWatcher(QObject):
    """Emits the context's ``ledger_changed`` when another client changed the open store."""

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
        try:
            self._listener = listen_for_changes(store.address)
        except Exception as error:  # the window still works; it only misses live updates
            print(f"etcbook: 他の利用者の変更を受け取れません（{error}）", file=sys.stderr)
            return
        self._notifier = QSocketNotifier(self._listener.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._readable)
        self.listening = True

    def _readable(self) -> None:
        import psycopg

        try:
            notes = list(self._listener.notifies(timeout=0))
        except psycopg.Error as error:
            print(f"etcbook: 変更の通知が途切れました（{error}）", file=sys.stderr)
            self._stop_listening()
            return
        if any(note.payload != self._own_tag for note in notes):
            self._settle.start()

    def _stop_listening(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self._listener is not None:
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
        self._settle.stop()
        if self._poll is not None:
            self._poll.stop()
        self._stop_listening()
        if self._seen is not None or self._poll is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self._context.ledger_changed.disconnect(self._own_change)
