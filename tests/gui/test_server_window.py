"""The window on a PostgreSQL ledger: every page shows the figures it shows on SQLite, other
clients' changes appear without a restart, and the window knows its login's role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QAbstractItemModel, QAbstractListModel, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QWidget

from etcbook.ui.pages import discover_pages

PAGE_KEYS = [spec.key for spec in discover_pages()[0] if spec.offered_to("personal")]
"""The pages a SQLite ledger shows too (the 承認 and 月締め pages exist on a shared ledger only:
tests/gui/test_workflow_window.py)."""


@pytest.fixture
def pg_demo_url(pg_url: str) -> str:
    """A PostgreSQL ledger holding the demo data (built like the SQLite demo store)."""
    from etcbook.models.demo import fill_demo
    from etcbook.models.store import open_store

    store = open_store(pg_url)
    try:
        fill_demo(store)
    finally:
        store.close()
    return pg_url


@pytest.fixture
def pg_window(make_window, pg_demo_url: str):  # type: ignore[no-untyped-def]
    from etcbook.models.server import parse_address

    return make_window(parse_address(pg_demo_url))


def _columns(model: QAbstractItemModel) -> int:
    return 1 if isinstance(model, QAbstractListModel) else model.columnCount(QModelIndex())


def _model_rows(model: QAbstractItemModel) -> list[tuple[str, ...]]:
    root = QModelIndex()
    while model.canFetchMore(root):
        model.fetchMore(root)
    return [
        tuple(
            str(model.data(model.index(row, column, root), Qt.ItemDataRole.DisplayRole) or "")
            for column in range(_columns(model))
        )
        for row in range(model.rowCount(root))
    ]


STORE_NAMES = re.compile(r"\S*(sqlite3|postgresql://)\S*")


def page_figures(page: QWidget, leave_out: QWidget | None = None) -> dict[str, object]:
    """What a page shows: every table's cells and every label's text (store names masked),
    apart from what ``leave_out`` holds."""

    def shown(widget: QWidget) -> bool:
        inside = leave_out is not None and (widget is leave_out or leave_out.isAncestorOf(widget))
        return widget.isVisibleTo(page) and not inside

    figures: dict[str, object] = {}
    views = [view for view in page.findChildren(QAbstractItemView) if shown(view)]
    for number, view in enumerate(views):
        model = view.model()
        if model is not None:
            figures[f"table {number} {view.objectName()}"] = _model_rows(model)
    labels = [
        STORE_NAMES.sub("<store>", label.text())
        for label in page.findChildren(QLabel)
        if shown(label) and label.text()
    ]
    figures["labels"] = labels
    return figures


def settle(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=60_000)
    qtbot.wait(100)
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=60_000)


@pytest.mark.parametrize("key", PAGE_KEYS)
def test_every_page_shows_the_same_figures_on_postgresql(
    qtbot, make_window, demo_store_path: Path, pg_demo_url: str, key: str
) -> None:
    from etcbook.models.server import parse_address

    on_file = make_window(demo_store_path)
    on_server = make_window(parse_address(pg_demo_url))
    assert on_server.context.on_server and on_server.context.role == "admin"
    figures = []
    for window in (on_file, on_server):
        window.show_page(key)
        assert window.current_page_key == key
        settle(qtbot, window)
        page = window.page_widget(key)
        # The other intended difference: the claims workflow (submit, status, the desk's
        # comments) is offered on a shared ledger only; the rest of the page is the same.
        workflow = getattr(page, "workflow", None) if key == "claims" else None
        assert (workflow is not None) == window.context.on_server or key != "claims"
        figures.append(page_figures(page, leave_out=workflow))
    if key == "dashboard":
        # The one intended difference: no ZIP backup reminder for a server ledger (the server
        # is backed up there); every other alert, figure and chart is the same.
        backup = "ここをダブルクリックでバックアップ"
        for name, rows in figures[0].items():
            if name.startswith("table") and isinstance(rows, list):
                figures[0][name] = [r for r in rows if not any(backup in cell for cell in r)]
        assert not any(backup in str(rows) for rows in figures[1].values())
    assert figures[0] == figures[1]
    assert any(v for k, v in figures[0].items() if k.startswith("table")) or figures[0]["labels"]


def _trips_page_toll(qtbot, window) -> int | None:  # type: ignore[no-untyped-def]
    page = window.page_widget("trips")
    return None if page.totals is None else int(page.totals.toll)


@pytest.mark.parametrize("other", ["connection", "process"])
def test_an_open_window_shows_another_clients_change_on_postgresql(
    qtbot, pg_window, pg_demo_url: str, cli_for, other: str
) -> None:
    from sqlalchemy import text

    from etcbook.models.store import open_store

    pg_window.show_page("trips")
    settle(qtbot, pg_window)
    before = _trips_page_toll(qtbot, pg_window)
    assert before is not None
    assert pg_window.context._watcher is not None and pg_window.context._watcher.listening
    if other == "connection":  # another client: its own engine and connections
        store = open_store(pg_demo_url)
        try:
            with store.transaction() as connection:
                connection.execute(
                    text(
                        "UPDATE trips SET toll = toll + 1000 WHERE id = (SELECT min(id) FROM trips)"
                    )
                )
        finally:
            store.close()
    else:  # the command line, in a process of its own
        added = cli_for(pg_demo_url)(
            "trip", "add", "--card", "1234", "--exit", "2026-03-10T09:00",
            "--from", "東京", "--to", "横浜町田", "--toll", "1000",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    qtbot.waitUntil(lambda: _trips_page_toll(qtbot, pg_window) == before + 1000, timeout=20_000)


def _terminate_listener(window, server_url: str) -> None:  # type: ignore[no-untyped-def]
    """End the window's listening connection on the server (as a restart or an admin would)."""
    import psycopg

    watcher = window.context._watcher
    assert watcher is not None and watcher.listening
    pid = watcher._listener.info.backend_pid
    with psycopg.connect(server_url, autocommit=True) as admin:
        ended = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
    assert ended == (True,)


def _add_1000_yen(connection) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with connection.begin():
        connection.execute(
            text("UPDATE trips SET toll = toll + 1000 WHERE id = (SELECT min(id) FROM trips)")
        )


def test_the_window_listens_again_after_its_connection_is_terminated(
    qtbot, pg_window, pg_demo_url: str, pg_server: str
) -> None:
    from etcbook.models.store import open_store

    pg_window.show_page("trips")
    settle(qtbot, pg_window)
    before = _trips_page_toll(qtbot, pg_window)
    assert before is not None
    watcher = pg_window.context._watcher
    _terminate_listener(pg_window, pg_server)
    qtbot.waitUntil(lambda: watcher.reconnects == 1 and watcher.listening, timeout=20_000)
    store = open_store(pg_demo_url)  # another client, after the drop
    try:
        with store.engine.connect() as connection:
            _add_1000_yen(connection)
    finally:
        store.close()
    qtbot.waitUntil(lambda: _trips_page_toll(qtbot, pg_window) == before + 1000, timeout=20_000)
    assert pg_window.server_label.text() == ""


def test_a_change_made_while_the_server_cannot_be_reached_is_shown_after_reconnecting(
    qtbot, pg_window, pg_demo_url: str, pg_server: str
) -> None:
    """The database refuses new connections (as a server being restarted does): the status bar
    says so, the window keeps working, and once the server answers again it listens again and
    shows what changed meanwhile (whose notification nobody heard)."""
    import psycopg
    from pgkit import database_name

    from etcbook.models.store import open_store
    from etcbook.ui.live_updates import RECONNECTED, UNREACHABLE

    pg_window.show_page("trips")
    settle(qtbot, pg_window)
    before = _trips_page_toll(qtbot, pg_window)
    assert before is not None
    watcher = pg_window.context._watcher
    name = database_name(pg_demo_url)
    other = open_store(pg_demo_url)
    admin = psycopg.connect(pg_server, autocommit=True)
    try:
        with other.engine.connect() as connection:  # connected before the door closes
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            _terminate_listener(pg_window, pg_server)
            qtbot.waitUntil(lambda: pg_window.server_label.text() == UNREACHABLE, timeout=20_000)
            assert not watcher.listening
            _add_1000_yen(connection)
            qtbot.wait(500)
            assert not watcher.listening and pg_window.server_label.text() == UNREACHABLE
            assert "ほかの利用者の変更" in pg_window.server_label.toolTip()
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            qtbot.waitUntil(lambda: pg_window.server_label.text() == "", timeout=20_000)
            assert pg_window.statusBar().currentMessage() == RECONNECTED
        qtbot.waitUntil(lambda: _trips_page_toll(qtbot, pg_window) == before + 1000, timeout=20_000)
        assert watcher.listening and watcher.reconnects == 1
    finally:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        admin.close()
        other.close()


def test_an_open_window_shows_a_command_line_change_on_sqlite(
    qtbot, make_window, demo_store_path: Path, cli_for
) -> None:
    window = make_window(demo_store_path)
    window.show_page("trips")
    settle(qtbot, window)
    before = _trips_page_toll(qtbot, window)
    assert before is not None
    added = cli_for(demo_store_path)(
        "trip", "add", "--card", "1234", "--exit", "2026-03-10T09:00",
        "--from", "東京", "--to", "横浜町田", "--toll", "1000",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    qtbot.waitUntil(lambda: _trips_page_toll(qtbot, window) == before + 1000, timeout=20_000)


@pytest.fixture
def driver_url(pg_demo_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The demo ledger with the company's roles; the URL of a driver holding card 1234 (or,
    parametrized indirectly with ``[]``, the cards given)."""
    import uuid

    import psycopg

    from etcbook.models.roles import add_user, assign_card, init_roles
    from etcbook.models.store import open_store

    login = f"drv_{uuid.uuid4().hex[:8]}"
    store = open_store(pg_demo_url)
    try:
        with store.transaction() as connection:
            init_roles(connection)
            add_user(connection, login, "driver")
            for card in getattr(request, "param", ["1234"]):
                assign_card(connection, login, card)
    finally:
        store.close()
    yield as_user(pg_demo_url, login)
    with psycopg.connect(pg_demo_url, autocommit=True) as connection:
        connection.execute(f'DROP OWNED BY "{login}"')
        connection.execute(f'DROP ROLE "{login}"')


def as_user(url: str, login: str) -> str:
    """The ledger's URL for another login (the test cluster trusts its socket)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{login}@{parts.hostname or ''}"))


def test_a_drivers_window_knows_its_role_and_offers_no_card_adding(
    qtbot, make_window, driver_url: str
) -> None:
    from etcbook.models.server import parse_address
    from etcbook.ui.context import CARDS_BY_ACCOUNTS, DRIVER

    window = make_window(parse_address(driver_url))
    context = window.context
    assert context.role == DRIVER and not context.may_manage_cards
    assert context.login == parse_address(driver_url).parameters["user"]
    for key in PAGE_KEYS:  # every page opens for a driver, on the driver's cards only
        window.show_page(key)
        settle(qtbot, window)
    cards = window.page_widget("cards")
    assert not cards.add_button.isEnabled()
    assert cards.add_button.toolTip() == CARDS_BY_ACCOUNTS
    model = cards.view.model()
    households = _model_rows(model)
    assert [row[0] for row in households] == ["山田家（世帯・1枚）"]
    card = model.index(0, 0, model.index(0, 0))
    assert "1234" in str(model.data(card))
    window.add_card()  # the menu's way in is refused with the reason
    assert window.statusBar().currentMessage() == CARDS_BY_ACCOUNTS


@pytest.mark.parametrize("driver_url", [[]], indirect=True)
def test_a_driver_without_cards_gets_the_welcome_page_without_card_adding(
    make_window, driver_url: str
) -> None:
    from etcbook.models.server import parse_address
    from etcbook.ui.context import CARDS_BY_ACCOUNTS
    from etcbook.ui.welcome import WelcomePage

    window = make_window(parse_address(driver_url))
    welcome = window._stack.currentWidget()
    assert isinstance(welcome, WelcomePage)
    assert not welcome.add_card_button.isEnabled()
    assert welcome.add_card_button.toolTip() == CARDS_BY_ACCOUNTS
    assert welcome.connect_button.isEnabled()


def test_a_personal_ledger_has_every_right(window) -> None:
    from etcbook.ui.context import PERSONAL

    assert window.context.role == PERSONAL and window.context.may_manage_cards
