"""What every page is given: the store, the settings, the operation runner and the signals.

One :class:`AppContext` per open store, passed explicitly to each page's factory; there is no
global. Pages listen to :attr:`AppContext.ledger_changed` to refresh, run long jobs through
:meth:`AppContext.run`, and ask the window for things (show a page, import files) through the
request signals instead of reaching for the window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from etcbook.ui.card_filter import CardFilter
from etcbook.ui.operations import Operation, OperationRunner, Progress

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from etcbook.models.instance import StoreClaim
    from etcbook.models.server import ServerAddress
    from etcbook.models.store import Store
    from etcbook.ui.live_updates import ChangeWatcher
    from etcbook.ui.mileage import MileageService

T = TypeVar("T")

PERSONAL = "personal"
"""The role on a personal ledger (a SQLite file): one person with every right."""
DRIVER = "driver"
"""A driver on a shared ledger: own cards only; cannot add or reassign cards."""
ACCOUNTS = "accounts"
"""The accounts desk on a shared ledger: every card; approves claims, closes months."""
ADMIN = "admin"
"""A login in neither group on a shared ledger (the ledger's owner, a DBA): every right."""

ROLE_LABELS = {PERSONAL: "個人", DRIVER: "ドライバー", ACCOUNTS: "経理", ADMIN: "管理者"}
"""The role's name in the window (status bar)."""

SAMPLE_STORE_NAME = "sample.sqlite3"
"""The file name of the sample store (in a folder of its own: ``etcbook.ui.app.sample_store_path``)."""

CARDS_BY_ACCOUNTS = (
    "カードの登録と割り当ては経理担当が行います（ドライバーの権限では登録できません）。"
)
"""Why a driver sees no card-adding action (tooltip, status bar)."""

if TYPE_CHECKING:
    StoreLocation = Path | ServerAddress
    """Where a window's store is: a SQLite file or a PostgreSQL ledger (etcbook.models.server)."""


class AppContext(QObject):
    """The open store and the app-wide plumbing, handed to pages explicitly.

    Signals:
        ledger_changed: trips, cards, exchanges or rules changed; views refresh.
        store_opened: the store is open (emitted once, after the window is shown).
        first_look: before the store opens, what :attr:`look_first` read (emitted only when it
            read something, and only by :meth:`open_store_async`).
        store_failed: the store could not be opened (message).
        page_requested: a page asks the window to show another page (its key).
        import_requested: a page asks the window to import files (list of paths; empty = ask).
        sample_requested: a page asks the window to open the sample store.
        card_add_requested: a page asks for the "add a card" dialog.
        store_in_use: another window holds the store (the message to show); not opened.
        password_needed: the server asks for a password nothing gave (the message); not opened.
        connect_requested: a page asks the window for the connect dialog (接続先).
        backup_requested: a page asks the window to back the store up (asks where).
        backup_made: a backup of this store was written (the reminder may go).
        server_status: a PostgreSQL ledger's live updates: a sentence while the window does not
            hear the server (its listening connection dropped and is being opened again), ``""``
            once it does; the second argument is the driver's reason (``""`` when none).
    """

    ledger_changed = Signal()
    store_opened = Signal()
    first_look = Signal(object)
    store_failed = Signal(str)
    page_requested = Signal(str)
    import_requested = Signal(list)
    sample_requested = Signal()
    card_add_requested = Signal()
    store_in_use = Signal(str)
    password_needed = Signal(str)
    connect_requested = Signal()
    backup_requested = Signal()
    backup_made = Signal()
    server_status = Signal(str, str)

    def __init__(
        self,
        db_path: StoreLocation,
        *,
        settings: QSettings,
        sample_path: Path | Callable[[], Path] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.address: ServerAddress | None = None
        """The PostgreSQL ledger's address, or ``None`` for a SQLite file."""
        if isinstance(db_path, str | Path):
            self.db_path = Path(db_path)
        else:  # a ServerAddress (etcbook.models.server, not imported before it is needed)
            self.address = db_path
            self.db_path = db_path.local_folder() / "ledger"
        """The store's file; on a server, the stand-in on this computer (Store.path)."""
        self.role = PERSONAL
        """This window's role on the ledger: :data:`PERSONAL`, :data:`DRIVER`, :data:`ACCOUNTS`
        or :data:`ADMIN` (read when the store opens; pages adapt to it)."""
        self.login = ""
        """The PostgreSQL login on a shared ledger (``""`` on a personal one)."""
        self.settings = settings
        self._sample_path = sample_path
        self.operations = OperationRunner(self.ledger_changed.emit, self)
        self._store: Store | None = None
        self._mileage: MileageService | None = None
        self._claim: StoreClaim | None = None
        self._watcher: ChangeWatcher | None = None
        self.card_filter = CardFilter(self)
        """The cards every page shows (名義・利用者・部署); reloaded before the pages refresh."""
        self.ledger_changed.connect(self._reload_card_filter)
        self.look_first: Callable[[Path], object | None] | None = None
        """Set by the window: reads what its first page shows before the store opens
        (:attr:`etcbook.ui.pages.PageSpec.first_look`)."""

    @property
    def location(self) -> StoreLocation:
        """What the store was opened from: the file's path, or the server's address."""
        return self.address if self.address is not None else self.db_path

    @property
    def on_server(self) -> bool:
        """``True`` for a PostgreSQL ledger."""
        return self.address is not None

    @property
    def display_name(self) -> str:
        """The store's name for the title bar: the file's name, or ``DBNAME（HOST）``."""
        if self.address is None:
            return self.db_path.name
        from etcbook.models.server import describe

        return describe(self.address.parameters)

    @property
    def may_manage_cards(self) -> bool:
        """Whether this login may add cards or assign them (not a driver)."""
        return self.role != DRIVER

    @property
    def sample_path(self) -> Path | None:
        """Where the sample store is (given, or found when first asked: the platform's data
        folder is not looked up before the window is shown)."""
        if callable(self._sample_path):
            self._sample_path = self._sample_path()
        return self._sample_path

    @property
    def is_sample(self) -> bool:
        """``True`` when this context shows the sample store rather than the user's own."""
        if self.address is not None:
            return False
        if callable(self._sample_path) and self.db_path.name != SAMPLE_STORE_NAME:
            return False  # not the sample's name: no need to find the sample's folder
        return self.sample_path is not None and self.db_path == self.sample_path

    # -- the claim: one window per store -------------------------------------------------------

    @property
    def claim(self) -> StoreClaim | None:
        """This window's claim on the store (see :mod:`etcbook.models.instance`), once held."""
        return self._claim

    def adopt_claim(self, claim: StoreClaim | None) -> None:
        """Hold ``claim`` (taken by the window's previous context on the same store)."""
        if claim is not None and claim.acquired and claim.store_path == self._absolute_path():
            self._claim = claim

    def take_claim(self) -> StoreClaim | None:
        """Hand the claim over (it is then not released by :meth:`close`)."""
        claim, self._claim = self._claim, None
        return claim

    def _absolute_path(self) -> Path:
        return self.db_path.expanduser().absolute()

    def claim_store(self) -> bool:
        """Claim the store for this window; when another window holds it, emit
        ``store_in_use`` with the message for the user and return ``False``."""
        if self._claim is not None or self.on_server:
            # A server ledger is shared by design: several windows and clients at once.
            return True
        from etcbook.models.instance import claim_store

        try:
            claim = claim_store(self.db_path)
        except OSError as error:
            self.store_failed.emit(
                f"{self.db_path}: ストアのフォルダに書き込めません（{error.strerror or error}）。"
            )
            return False
        if not claim.acquired:
            self.store_in_use.emit(claim.message or "")
            return False
        self._claim = claim
        return True

    # -- the store ---------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """``True`` once the store has been opened."""
        return self._store is not None

    @property
    def store(self) -> Store:
        """The open store; raises if called before :attr:`store_opened`."""
        if self._store is None:
            raise RuntimeError("store not open yet")
        return self._store

    def open_store_async(self) -> None:
        """Open (and migrate) the store on a worker thread; emit ``store_opened`` after.

        First, with :attr:`look_first` set, read what the first page shows (sqlite3 alone,
        before SQLAlchemy is loaded) and emit it as ``first_look``.
        """
        if not self.claim_store():
            return
        look, path = self.look_first, self.db_path
        if look is None or self.address is not None:  # a server ledger: no file to look at
            self._open_in_background()
            return

        def looked(result: object | None) -> None:
            if result is not None and self._store is None:
                self.first_look.emit(result)
                # What the first look's page queued (its paint, its timers) runs first: the
                # opening thread imports SQLAlchemy and would hold Python's lock meanwhile.
                QTimer.singleShot(0, self._open_in_background)
                return
            self._open_in_background()

        self.run(
            Operation(
                work=lambda _progress: look(path),
                title="ストアを開いています",
                on_success=looked,
                on_failure=lambda _error: self._open_in_background(),
                show_progress=False,
            )
        )

    def _open_in_background(self) -> None:
        from etcbook.ui import store_access  # SQLAlchemy and Alembic load here, not at start-up

        def opened(store: Store) -> None:
            self._opened(store)

        location = self.location

        def failed(error: BaseException) -> None:
            self._open_failed(error)

        self.run(
            Operation(
                work=lambda _progress: store_access.open_store(location),
                title="ストアを開いています",
                on_success=opened,
                on_failure=failed,
                show_progress=False,
            )
        )

    def open_store_now(self) -> None:
        """Open the store on this thread (tests and scripts)."""
        if not self.claim_store():
            return
        from etcbook.ui import store_access

        self._opened(store_access.open_store(self.location))

    def adopt_store(self, store: Store) -> None:
        """Show ``store``, opened already (by the connect dialog, which checked the password)."""
        self._opened(store)

    def _open_failed(self, error: BaseException) -> None:
        from etcbook.models.store import ServerPasswordNeeded

        if isinstance(error, ServerPasswordNeeded):
            self.password_needed.emit(str(error))
        elif self.on_server:
            self.store_failed.emit(str(error))  # names the server itself
        else:
            self.store_failed.emit(f"{self.db_path}: {error}")

    def _opened(self, store: Store) -> None:
        from etcbook.ui.live_updates import ChangeWatcher
        from etcbook.ui.mileage import MileageService

        self._store = store
        self._read_role()
        self._watcher = ChangeWatcher(self)
        self._watcher.server_status.connect(self.server_status)
        self._reload_card_filter()
        # Made before any page, so that it hears "ledger changed" before the pages do.
        self._mileage = MileageService(self)
        self.store_opened.emit()

    def _read_role(self) -> None:
        if self._store is None or not self._store.on_server:
            self.role, self.login = PERSONAL, ""
            return
        from etcbook.models.roles import login_name, my_role

        with self.connection() as connection:
            self.role = my_role(connection)
            self.login = login_name(connection)

    def _reload_card_filter(self) -> None:
        if self._store is not None:
            with self.connection() as connection:
                self.card_filter.load(connection)

    @property
    def mileage(self) -> MileageService:
        """The engine's results for this store, shared by the pages (once the store is open)."""
        if self._mileage is None:
            raise RuntimeError("store not open yet")
        return self._mileage

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection for a short read on the GUI thread (a page of rows, a count)."""
        with self.store.engine.connect() as connection:
            yield connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One short write transaction on the GUI thread (an edit); commits or rolls back.

        Waits one busy timeout at most for another etcbook writing the store, then raises
        (the window tells why), so that the window never freezes behind a long import.
        """
        with self.store.transaction(wait_s=0) as connection:
            yield connection

    def close(self) -> None:
        """Stop running work (its results are dropped), then release the store and its claim."""
        self.operations.shut_down()
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._claim is not None:
            self._claim.release()
            self._claim = None

    # -- work ----------------------------------------------------------------------------------

    def run(self, operation: Operation[T]) -> Progress:
        """Run ``operation`` off the GUI thread (see :mod:`etcbook.ui.operations`)."""
        return self.operations.run(operation)

    def run_in_background(
        self,
        work: Callable[[Connection], T],
        on_success: Callable[[T], None],
        *,
        parent: Any = None,
        title: str = "読み込み",
    ) -> Progress:
        """Read something from the store off the GUI thread, without a progress dialog.

        ``work`` gets a connection of its own (opened and closed on the worker thread).
        """
        store = self.store

        def job(_progress: Progress) -> T:
            with store.engine.connect() as connection:
                return work(connection)

        return self.run(
            Operation(
                work=job,
                title=title,
                on_success=on_success,
                show_progress=False,
                parent=parent,
            )
        )
