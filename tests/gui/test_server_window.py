"""The window on a PostgreSQL ledger: every page shows the figures it shows on SQLite, other
clients' changes appear without a restart, and the window knows its login's role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QAbstractItemModel, QAbstractListModel, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QWidget

from etcbook.ui.pages import discover_pages

PAGE_KEYS = [spec.key for spec in discover_pages()[0]]


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


def page_figures(page: QWidget) -> dict[str, object]:
    """What a page shows: every table's cells and every label's text (store names masked)."""
    figures: dict[str, object] = {}
    for number, view in enumerate(page.findChildren(QAbstractItemView)):
        model = view.model()
        if model is not None and view.isVisibleTo(page):
            figures[f"table {number} {view.objectName()}"] = _model_rows(model)
    labels = [
        STORE_NAMES.sub("<store>", label.text())
        for label in page.findChildren(QLabel)
        if label.isVisibleTo(page) and label.text()
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
        figures.append(page_figures(window.page_widget(key)))
    assert figures[0] == figures[1]
    assert any(v for k, v in figures[0].items() if k.startswith("table")) or figures[0]["labels"]
