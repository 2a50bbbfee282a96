"""The main window: side navigation, the pages, the menus, drag-and-drop import."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from etcbook.ui.context import CARDS_BY_ACCOUNTS, AppContext
from etcbook.ui.page import Page
from etcbook.ui.pages import DiscoveryProblem, PageSpec, discover_pages
from etcbook.ui.style import STYLE_SHEET

if TYPE_CHECKING:
    from etcbook.models.instance import StoreClaim
    from etcbook.models.store import Store
    from etcbook.ui.backup import BackupFlow
    from etcbook.ui.card_filter import CardFilter, CardFilterBar
    from etcbook.ui.context import StoreLocation

    ContextFactory = Callable[[StoreLocation], AppContext]


class _PageSlot(QWidget):
    """Holds a page's place in the stack; builds the page widget on first show."""

    def __init__(self, spec: PageSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.widget: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def ensure_built(self, context: AppContext) -> QWidget:
        if self.widget is None:
            self.widget = self.spec.factory(context)
            self._layout.addWidget(self.widget)
        return self.widget


class _LoadingPage(QWidget):
    """Shown while the store opens; says why when it cannot (with a retry when it is busy)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("ストアを開いています…")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("もう一度開く")
        self.retry_button.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 40, 40, 40)
        layout.addStretch(1)
        self.label.setMaximumWidth(640)
        # Centred by stretches, not by the layout's alignment: an aligned word-wrapped label
        # gets its one-line size hint and cuts the message.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.label, 100)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)

    def show_text(self, text: str, *, retry: bool = False) -> None:
        self.label.setText(text)
        self.retry_button.setVisible(retry)


class MainWindow(QMainWindow):
    """The etcbook window over one store (see :class:`AppContext`); can switch stores."""

    page_changed = Signal(str)
    import_started = Signal(object)

    def __init__(
        self,
        context: AppContext,
        *,
        context_factory: ContextFactory | None = None,
        pages: list[PageSpec] | None = None,
    ) -> None:
        super().__init__()
        self.context = context
        self._home_path = context.location
        self._context_factory = context_factory
        if pages is None:
            pages, problems = discover_pages()
        else:
            problems = []
        self.page_specs = pages
        self.page_problems: list[DiscoveryProblem] = problems
        self._slots: dict[str, _PageSlot] = {}
        self._offered: set[str] = {spec.key for spec in pages if spec.roles is None}
        """The pages shown for the open store's role (see :mod:`etcbook.ui.workflow_role`)."""
        self._current_key: str | None = None
        self._welcome: QWidget | None = None
        self._location_warned: set[Path] = set()
        self.location_warning: QMessageBox | None = None

        self.setWindowTitle("etcbook")
        self.setAcceptDrops(True)
        self.setStyleSheet(STYLE_SHEET)
        self.setMinimumSize(QSize(720, 480))

        self._nav = QListWidget()
        self._nav.setObjectName("navigation")
        self._nav.setFrameShape(QListWidget.Shape.NoFrame)
        self._nav.setUniformItemSizes(True)
        self._nav.setMinimumWidth(150)
        self._nav.currentRowChanged.connect(self._nav_row_changed)

        self._stack = QStackedWidget()
        self._loading = _LoadingPage()
        self._loading.retry_button.clicked.connect(self._retry_open)
        self._stack.addWidget(self._loading)
        self._backup_flow: BackupFlow | None = None

        self._splitter = QSplitter(Qt.Orientation.Horizontal)
        self._splitter.setObjectName("mainSplitter")
        self._splitter.addWidget(self._nav)
        # The card filter's bar above the pages (made per store in _attach_context).
        self._page_area = QWidget()
        self._page_area_layout = QVBoxLayout(self._page_area)
        self._page_area_layout.setContentsMargins(0, 0, 0, 0)
        self._page_area_layout.setSpacing(0)
        self._page_area_layout.addWidget(self._stack, 1)
        self.card_filter_bar: CardFilterBar | None = None
        """Made once the store's cards are known (``CardFilter.facets_loaded``)."""
        self._splitter.addWidget(self._page_area)
        self._splitter.setStretchFactor(1, 1)
        self._splitter.setCollapsible(1, False)
        self._splitter.setSizes([180, 1000])
        self.setCentralWidget(self._splitter)

        self._store_label = QLabel()
        self._busy_label = QLabel()
        self.server_label = QLabel()
        """Says so while a server ledger's live updates are cut off (``AppContext.server_status``)."""
        self.server_label.setObjectName("serverStatus")
        self.statusBar().addWidget(self._store_label, 1)
        self.statusBar().addPermanentWidget(self.server_label)
        self.statusBar().addPermanentWidget(self._busy_label)

        self._page_actions: list[QAction] = []
        self._build_menus()
        self._fill_navigation()
        self._restore_settings()
        self._attach_context(context)
        if self.page_problems:
            QTimer.singleShot(0, self._report_page_problems)

    # -- set-up --------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("ファイル(&F)")
        self.import_action = QAction("明細CSVを取り込む(&I)…", self)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(lambda: self.import_files([]))
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        self.sample_action = QAction("サンプルデータを開く(&S)", self)
        self.sample_action.triggered.connect(self.open_sample_store)
        file_menu.addAction(self.sample_action)
        self.home_action = QAction("自分のデータに戻る(&H)", self)
        self.home_action.triggered.connect(self.open_home_store)
        self.home_action.setEnabled(False)
        file_menu.addAction(self.home_action)
        self.connect_action = QAction("接続先(&C)…", self)
        self.connect_action.setStatusTip("PostgreSQL サーバーの帳簿を開きます")
        self.connect_action.triggered.connect(lambda: self.connect_to_server())
        file_menu.addAction(self.connect_action)
        file_menu.addSeparator()
        self.backup_action = QAction("バックアップ(&B)…", self)
        self.backup_action.setStatusTip(
            "ストアと保管書類を1つのZIPに保存します（毎月1回がおすすめです）"
        )
        self.backup_action.triggered.connect(lambda: self.backup_flow.ask_and_back_up())
        file_menu.addAction(self.backup_action)
        self.restore_action = QAction("バックアップから戻す(&R)…", self)
        self.restore_action.setStatusTip(
            "バックアップのZIPでいまのデータを置き換えます（いまのデータは残します）"
        )
        self.restore_action.triggered.connect(lambda: self.backup_flow.ask_and_restore())
        file_menu.addAction(self.restore_action)
        file_menu.addSeparator()
        quit_action = QAction("終了(&Q)", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        self._view_menu = self.menuBar().addMenu("表示(&V)")
        for position, spec in enumerate(self.page_specs):
            action = QAction(spec.title, self)
            shortcut = spec.shortcut or (f"Ctrl+{position + 1}" if position < 9 else None)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False, key=spec.key: self.show_page(key))
            self._view_menu.addAction(action)
            self._page_actions.append(action)

        help_menu = self.menuBar().addMenu("ヘルプ(&H)")
        self._add_manual_actions(help_menu)
        about = QAction("etcbookについて(&A)", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _add_manual_actions(self, menu: QMenu) -> None:
        """The manual's pages and the data folder, above the About entry (the manual's text is
        imported when a page is asked for, not before the window is shown)."""

        def manual(name: str) -> str:
            from etcbook.ui import help as manual_pages

            return str(getattr(manual_pages, name))

        pages = (
            ("毎月の流れ(&M)", "毎月の流れ", lambda: manual("MONTHLY_ROUTINE")),
            (
                "明細CSVのダウンロード(&D)",
                "明細CSVのダウンロード",
                lambda: manual("DOWNLOAD_MEISAI"),
            ),
            ("データの場所(&L)", "データの場所", self._data_locations_html),
        )
        self.manual_actions: list[QAction] = []
        for text, title, html in pages:
            action = QAction(text, self)
            action.triggered.connect(
                lambda _checked=False, t=title, h=html: self.show_manual_page(t, h())
            )
            menu.addAction(action)
            self.manual_actions.append(action)
        self.open_folder_action = QAction("データのフォルダを開く(&O)", self)
        self.open_folder_action.setStatusTip("ストアと証憑フォルダのあるフォルダを開きます")
        self.open_folder_action.triggered.connect(self.open_data_folder)
        menu.addAction(self.open_folder_action)
        menu.addSeparator()

    def _data_locations_html(self) -> str:
        from etcbook.models.vault import vault_path_for
        from etcbook.ui import help as manual

        store = self.context.db_path.expanduser().absolute()
        return manual.data_locations_html(store, vault_path_for(store))

    def show_manual_page(self, title: str, html: str) -> QDialog:
        """Show one page of the manual (window-modal; returned for tests)."""
        from etcbook.ui.help import HelpDialog

        dialog = HelpDialog(title, html, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_data_folder(self) -> Path:
        """Open the folder holding the store and its vault in the file manager."""
        from etcbook.ui.help import open_folder

        folder = self.context.db_path.expanduser().absolute().parent
        if not open_folder(folder):
            self.statusBar().showMessage(f"フォルダを開けませんでした: {folder}", 15_000)
        return folder

    def _fill_navigation(self) -> None:
        for position, spec in enumerate(self.page_specs):
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setSizeHint(QSize(0, 36))
            action = self._page_actions[position]
            if not action.shortcut().isEmpty():
                shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                item.setToolTip(f"{spec.title}（{shortcut}）")
            self._nav.addItem(item)
            slot = _PageSlot(spec)
            self._slots[spec.key] = slot
            self._stack.addWidget(slot)

    # -- context (the open store) --------------------------------------------------------------

    @property
    def backup_flow(self) -> BackupFlow:
        """Backing up and restoring the store from the window (made when first used)."""
        if self._backup_flow is None:
            from etcbook.ui.backup import BackupFlow

            self._backup_flow = BackupFlow(self, lambda: self.context, self._reopen_same_store)
        return self._backup_flow

    def _attach_context(self, context: AppContext) -> None:
        self.context = context
        if self.card_filter_bar is not None:
            self.card_filter_bar.deleteLater()
            self.card_filter_bar = None
        # The bar is made once the store's cards are known: after the window is shown.
        card_filter = context.card_filter
        card_filter.facets_loaded.connect(lambda: self._add_card_filter_bar(card_filter))
        context.store_opened.connect(self._store_opened)
        context.first_look.connect(self._show_first_look)
        start = next((spec for spec in self.page_specs if spec.key == self._start_key()), None)
        context.look_first = start.first_look if start is not None else None
        context.store_failed.connect(self._store_failed)
        context.page_requested.connect(self.show_page)
        context.import_requested.connect(self.import_files)
        context.sample_requested.connect(self.open_sample_store)
        context.card_add_requested.connect(self.add_card)
        context.store_in_use.connect(self._store_in_use)
        context.password_needed.connect(self._password_needed)
        context.connect_requested.connect(self.connect_to_server)
        context.backup_requested.connect(lambda: self.backup_flow.ask_and_back_up())
        context.ledger_changed.connect(self._ledger_changed)
        context.operations.busy_changed.connect(self._busy_changed)
        context.server_status.connect(self._server_status)
        self._server_status("", "")
        is_sample = context.is_sample
        self.home_action.setEnabled(is_sample)
        suffix = "（サンプルデータ）" if is_sample else ""
        self.setWindowTitle(f"etcbook — {context.display_name}{suffix}")
        self._store_label.setText(str(context.location))
        self._loading.show_text("ストアを開いています…")
        self._stack.setCurrentWidget(self._loading)
        self._nav.setEnabled(False)
        for action in self._store_actions():
            action.setEnabled(False)

    def _add_card_filter_bar(self, card_filter: CardFilter) -> None:
        if card_filter is not self.context.card_filter or self.card_filter_bar is not None:
            return
        from etcbook.ui.card_filter import CardFilterBar

        self.card_filter_bar = CardFilterBar(card_filter)
        self._page_area_layout.insertWidget(0, self.card_filter_bar)

    def _store_actions(self) -> list[QAction]:
        """The actions that need the open store."""
        return [self.import_action, self.backup_action, self.restore_action, *self._page_actions]

    def _store_opened(self) -> None:
        if self.context.on_server:
            from etcbook.ui.context import ROLE_LABELS

            role = ROLE_LABELS.get(self.context.role, self.context.role)
            self._store_label.setText(f"{self.context.location}（{self.context.login}・{role}）")
        self._warn_about_location()
        self._nav.setEnabled(True)
        for action in self._store_actions():
            action.setEnabled(True)
        self.restore_action.setEnabled(not self.context.is_sample)
        if self.context.on_server:
            # The ledger lives on the server (backed up there, pg_dump); the ZIP is for a file.
            for action in (self.backup_action, self.restore_action):
                action.setEnabled(False)

        self._offer_pages_for_role()
        if self._show_welcome_if_empty():
            return
        key = self._start_key()
        slot = self._slots.get(key)
        if slot is not None and self._stack.currentWidget() is slot:
            # Shown from the first look before the store opened: it reads the open store now.
            if isinstance(slot.widget, Page):
                slot.widget.mark_stale()
            return
        self.show_page(key)

    def _start_key(self) -> str:
        """The page shown when the store opens: the current one, else the one last shown on
        this store, else the first."""
        # With type=str, QSettings.value returns a str; the stubs only say object.
        key = self._current_key or cast(
            str, self.context.settings.value(self._page_setting(), "", str)
        )
        if key not in self._offered:
            key = next((spec.key for spec in self.page_specs if spec.key in self._offered), "")
        return key

    def _offer_pages_for_role(self) -> None:
        """Leave out of the navigation and the menu the pages not for the user's role."""
        from etcbook.ui.workflow_role import window_role

        role = window_role(self.context)
        self._offered = {spec.key for spec in self.page_specs if spec.offered_to(role)}
        for position, spec in enumerate(self.page_specs):
            offered = spec.key in self._offered
            item = self._nav.item(position)
            if item is not None:
                item.setHidden(not offered)
            self._page_actions[position].setVisible(offered)
            self._page_actions[position].setEnabled(offered)

    def _show_first_look(self, look: object) -> None:
        """Show the first page with what it read before the store opened (its numbers); the
        navigation and the store's actions wait for the store (see :meth:`_store_opened`)."""
        key = self._start_key()
        slot = self._slots.get(key)
        if slot is None or self.context.is_open:
            return
        show = getattr(slot.ensure_built(self.context), "show_first_look", None)
        if show is None:
            return
        self._current_key = key
        self._stack.setCurrentWidget(slot)
        self._select_navigation_row(key)
        self.page_changed.emit(key)
        show(look)
        # Drawn now, before the store starts opening on a worker thread: that thread imports
        # SQLAlchemy, and while it holds Python's lock the page's paint would wait for it.
        self.repaint()

    def _warn_about_location(self) -> None:
        """Once per store and window: a store in OneDrive, iCloud or on a network drive."""
        from etcbook.paths import store_location_warning
        from etcbook.ui.messages import tell

        if self.context.on_server:
            return
        path = self.context.db_path.expanduser().absolute()
        if path in self._location_warned:
            return
        self._location_warned.add(path)
        warning = store_location_warning(path)
        if warning is not None:
            self.location_warning = tell(self, "ストアの場所", warning)

    def _store_failed(self, message: str) -> None:
        self._stack.setCurrentWidget(self._loading)  # also after a first look at the store
        self._loading.show_text(f"ストアを開けませんでした。\n{message}")

    def _store_in_use(self, message: str) -> None:
        self._loading.show_text(message, retry=True)
        self.statusBar().showMessage("このストアは別のウィンドウで開かれています", 15_000)

    def _retry_open(self) -> None:
        if not self.context.is_open:
            self._loading.show_text("ストアを開いています…")
            self.context.open_store_async()

    def _show_welcome_if_empty(self) -> bool:
        from etcbook.ui import store_access

        empty = not store_access.has_cards(self.context.store)
        if not empty:
            if self._welcome is not None:
                self._stack.removeWidget(self._welcome)
                self._welcome.deleteLater()
                self._welcome = None
            return False
        if self._welcome is None:
            from etcbook.ui.welcome import WelcomePage

            self._welcome = WelcomePage(self.context)
            self._stack.addWidget(self._welcome)
        self._stack.setCurrentWidget(self._welcome)
        self._welcome.setFocus()  # not the navigation, whose focus would select its first page
        self._nav.blockSignals(True)
        self._nav.clearSelection()
        self._nav.setCurrentRow(-1)
        self._nav.blockSignals(False)
        self._current_key = None
        return True

    def _ledger_changed(self) -> None:
        on_welcome = self._welcome is not None and self._stack.currentWidget() is self._welcome
        if on_welcome and not self._show_welcome_if_empty():
            first = self.page_specs[0].key if self.page_specs else ""
            self.show_page(first)

    def switch_store(self, path: StoreLocation, *, store: Store | None = None) -> None:
        """Close the current store and show ``path`` in this window, pages rebuilt
        (``store``: ``path`` opened already, by the connect dialog)."""
        if self._context_factory is None:
            raise RuntimeError("this window cannot switch stores")
        self._remember_page()
        self._detach_context()
        self._attach_context(self._context_factory(path))
        if store is not None:
            self.context.adopt_store(store)
        else:
            self.context.open_store_async()

    def connect_to_server(self, *, message: str = "") -> QDialog:
        """接続先: choose or type a PostgreSQL ledger; once connected, show it here.

        Window-modal; returned for tests. With ``message`` (the server asked for a password),
        the dialog starts on the current server's address with the password field shown.
        """
        from etcbook.ui.connect import ConnectDialog

        address = self.context.address if message else None
        dialog = ConnectDialog(self.context.settings, self, address=address, message=message)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def connected() -> None:
            if dialog.store is not None and dialog.address is not None:
                self.switch_store(dialog.address, store=dialog.store)

        dialog.accepted.connect(connected)
        dialog.open()
        self.connect_dialog = dialog
        return dialog

    def _password_needed(self, message: str) -> None:
        self._loading.show_text(f"ストアを開けませんでした。\n{message}")
        self.connect_to_server(message=message)

    def _reopen_same_store(self, before_open: Callable[[AppContext], None]) -> None:
        """Close the store but keep its claim, give a new context for the same store to
        ``before_open`` (a restore), which opens the store when it is done."""
        if self._context_factory is None:
            raise RuntimeError("this window cannot reopen its store")
        path = self.context.location
        claim = self._detach_context(keep_claim=True)
        context = self._context_factory(path)
        context.adopt_claim(claim)
        self._attach_context(context)
        self._loading.show_text("バックアップから戻しています…")
        before_open(context)

    def _detach_context(self, *, keep_claim: bool = False) -> StoreClaim | None:
        """Close the current store and drop its pages; return its claim when ``keep_claim``."""
        old = self.context
        # Closed first, so that nothing (a focus change selecting a page) builds on it.
        self._nav.setEnabled(False)
        self._stack.setCurrentWidget(self._loading)
        self._save_page_settings()
        claim = old.take_claim() if keep_claim else None
        old.close()
        for slot in self._slots.values():
            if slot.widget is not None:
                slot.widget.setParent(None)
                slot.widget.deleteLater()
                slot.widget = None
        if self._welcome is not None:
            self._stack.removeWidget(self._welcome)
            self._welcome.deleteLater()
            self._welcome = None
        for signal in (
            old.store_opened,
            old.first_look,
            old.store_failed,
            old.page_requested,
            old.store_in_use,
            old.password_needed,
            old.connect_requested,
        ):
            signal.disconnect()
        old.deleteLater()
        self._current_key = None
        return claim

    # -- navigation ----------------------------------------------------------------------------

    @property
    def current_page_key(self) -> str | None:
        """The key of the page shown (``None`` on the welcome or loading page)."""
        return self._current_key

    def page_widget(self, key: str) -> QWidget:
        """The widget of page ``key``, built now if needed (tests, screenshots)."""
        return self._slots[key].ensure_built(self.context)

    def show_page(self, key: str) -> None:
        """Show page ``key`` (ignored until the store is open, or when it is not for the
        user's role)."""
        if key not in self._slots or key not in self._offered or not self.context.is_open:
            return
        slot = self._slots[key]
        slot.ensure_built(self.context)
        self._current_key = key
        self._stack.setCurrentWidget(slot)
        self._select_navigation_row(key)
        self.page_changed.emit(key)

    def _select_navigation_row(self, key: str) -> None:
        row = [spec.key for spec in self.page_specs].index(key)
        if self._nav.currentRow() != row:
            self._nav.blockSignals(True)
            self._nav.setCurrentRow(row)
            self._nav.blockSignals(False)

    def _nav_row_changed(self, row: int) -> None:
        if 0 <= row < len(self.page_specs):
            self.show_page(self.page_specs[row].key)

    # -- import, sample, cards -----------------------------------------------------------------

    def import_files(self, paths: list[str]) -> None:
        """Preview and import 明細CSV files (asks for them when ``paths`` is empty)."""
        if not self.context.is_open:
            return
        from etcbook.ui.importing import ImportFlow

        flow = ImportFlow(self.context, self)
        self.import_started.emit(flow)
        flow.start([Path(path) for path in paths])

    def add_card(self) -> None:
        """Open the "add a card" dialog (the cards page's editor)."""
        if not self.context.is_open:
            return
        if not self.context.may_manage_cards:
            self.statusBar().showMessage(CARDS_BY_ACCOUNTS, 15_000)
            return
        from etcbook.ui.card_dialog import CardDialog

        dialog = CardDialog(self.context, parent=self)
        dialog.open()

    def open_sample_store(self) -> None:
        """Open the sample store (created with the demo data the first time)."""
        sample = self.context.sample_path
        if sample is None or self._context_factory is None:
            return
        if sample.exists():
            self.switch_store(sample)
            return
        from etcbook.ui import store_access
        from etcbook.ui.operations import Operation

        self.context.run(
            Operation(
                work=lambda progress: store_access.create_sample_store(sample, progress),
                title="サンプルデータを作成しています",
                on_success=lambda _result: self.switch_store(sample),
                parent=self,
            )
        )

    def open_home_store(self) -> None:
        """Back from the sample store to the user's own store."""
        if self.context.location != self._home_path:
            self.switch_store(self._home_path)

    # -- drag and drop anywhere ----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt override
        if self.context.is_open and _local_files(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # Qt override
        if self.context.is_open and _local_files(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt override
        paths = _local_files(event.mimeData().urls())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # Leave the drop handler before opening dialogs (the source app is still waiting).
        QTimer.singleShot(0, lambda: self.import_files([str(path) for path in paths]))

    # -- settings ------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        settings: QSettings = self.context.settings
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        splitter = settings.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self._splitter.restoreState(splitter)

    def _save_page_settings(self) -> None:
        for slot in self._slots.values():
            save = getattr(slot.widget, "save_settings", None)
            if callable(save):
                save()

    def _page_setting(self) -> str:
        """The settings key of the page last shown on this store (each store its own)."""
        path = str(self.context.db_path.expanduser().absolute())
        return f"stores/{hashlib.sha256(path.encode('utf-8')).hexdigest()[:16]}/page"

    def _remember_page(self) -> None:
        if self._current_key:
            self.context.settings.setValue(self._page_setting(), self._current_key)

    def save_settings(self) -> None:
        """Remember size, splitter, the page shown and every page's column layout."""
        settings = self.context.settings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("window/splitter", self._splitter.saveState())
        self._remember_page()
        self._save_page_settings()
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override
        if self.context.operations.writing:
            answer = QMessageBox.question(
                self,
                "etcbook",
                "取り込みなどの処理中です。中止して終了しますか？（中止した処理は保存されません）",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.save_settings()
        self.context.close()
        super().closeEvent(event)

    # -- small things --------------------------------------------------------------------------

    def _busy_changed(self, busy: bool) -> None:
        self._busy_label.setText("処理中…" if busy else "")

    def _server_status(self, text: str, reason: str) -> None:
        was_cut_off = bool(self.server_label.text())
        self.server_label.setText(text)
        if text:
            from etcbook.ui.live_updates import UNREACHABLE_DETAIL

            self.server_label.setToolTip(f"{UNREACHABLE_DETAIL}\n{reason}".strip())
        else:
            self.server_label.setToolTip("")
            if was_cut_off:
                from etcbook.ui.live_updates import RECONNECTED

                self.statusBar().showMessage(RECONNECTED, 8_000)

    def _report_page_problems(self) -> None:
        names = "\n".join(f"・{problem.module}" for problem in self.page_problems)
        self.statusBar().showMessage(f"読み込めないページがあります: {names}", 15_000)

    def _about(self) -> None:
        from etcbook.ui.about import AboutDialog

        dialog = AboutDialog(self.context.db_path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


def _local_files(urls: list[QUrl]) -> list[Path]:
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile() and url.toLocalFile()]
