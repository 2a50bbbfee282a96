"""Column widths: never saved from an empty table, never restored narrower than the content."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from etcbook.ui.tables import MAX_FITTED_WIDTH, RememberingTableView


def _narrow_columns(view: RememberingTableView) -> list[str]:
    model = view.model()
    header = view.horizontalHeader()
    last = header.logicalIndex(header.count() - 1)
    narrow = []
    for column in range(model.columnCount()):
        if column == last or header.isSectionHidden(column):
            continue
        needed = min(view.content_width(column), MAX_FITTED_WIDTH)
        if header.sectionSize(column) < needed:
            title = model.headerData(column, header.orientation())
            narrow.append(f"{title}: {header.sectionSize(column)} < {needed}")
    return narrow


def _store_with_a_card(path: Path) -> Path:
    """A store with one card and no trips (the pages show, their tables are empty)."""
    from etcbook.models.cards import create_card
    from etcbook.models.store import open_store

    store = open_store(path)
    with store.session(write=True) as session:
        create_card(session=session, last4="1111", holder="山田太郎", kind="credit")
    store.close()
    return path


def _points_tables(qtbot, window) -> list[RememberingTableView]:  # type: ignore[no-untyped-def]
    window.show_page("points")
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    page = window.page_widget("points")
    views = [page.lots_view, page.ledger_view, page.rebate_view]
    for index in range(1, page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        qtbot.wait(20)
    return views


def test_widths_first_seen_on_an_empty_store_do_not_cut_the_sample(
    qtbot, make_window, settings: QSettings, tmp_path: Path, demo_store_path: Path
) -> None:
    empty = make_window(_store_with_a_card(tmp_path / "empty.sqlite3"))
    for view in _points_tables(qtbot, empty):
        assert view.model().rowCount() == 0
    empty.close()
    settings.sync()
    assert not [key for key in settings.allKeys() if key.startswith("tables/lots")]

    sample = make_window(demo_store_path)
    views = _points_tables(qtbot, sample)
    assert all(view.model().rowCount() > 0 for view in views)
    for view in views:
        assert _narrow_columns(view) == []


def test_narrow_remembered_widths_are_widened_to_the_content(
    qtbot, make_window, settings: QSettings, demo_store_path: Path
) -> None:
    first = make_window(demo_store_path)
    view = _points_tables(qtbot, first)[0]
    for column in range(view.model().columnCount()):
        view.setColumnWidth(column, 20)
    view.save_settings()
    first.close()

    second = make_window(demo_store_path)
    assert _narrow_columns(_points_tables(qtbot, second)[0]) == []


def test_the_card_ledger_first_seen_empty_is_readable_with_cards(
    qtbot, make_window, settings: QSettings, tmp_path: Path, demo_store_path: Path
) -> None:
    from .fit import misfits

    empty = make_window(tmp_path / "empty.sqlite3")
    empty.show_page("cards")
    qtbot.waitUntil(lambda: not empty.context.operations.busy, timeout=30_000)
    empty.close()
    sample = make_window(demo_store_path)
    sample.show_page("cards")
    qtbot.waitUntil(lambda: not sample.context.operations.busy, timeout=30_000)
    qtbot.wait(30)
    assert misfits(sample.page_widget("cards").view) == []


def _sample_view(qtbot, settings: QSettings) -> RememberingTableView:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QStandardItemModel

    model = QStandardItemModel(0, 3)
    model.setHorizontalHeaderLabels(["業務割合", "ポイント", "備考"])
    view = RememberingTableView(settings, "widths-test")
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_widths_set_while_a_button_is_held_elsewhere_are_still_fitted(
    qtbot, settings: QSettings, monkeypatch
) -> None:
    # A click still in progress elsewhere (as a test's double click leaves QGuiApplication's
    # button state) made a page's default widths count as the user's, never widened to fit.
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QStandardItem

    monkeypatch.setattr(QGuiApplication, "mouseButtons", lambda: Qt.MouseButton.LeftButton)
    view = _sample_view(qtbot, settings)
    for column in range(3):
        view.setColumnWidth(column, 20)  # a page's defaults, narrower than the headers
    view.model().appendRow([QStandardItem("100%"), QStandardItem("12,345pt"), QStandardItem("")])
    assert _narrow_columns(view) == []


def test_a_width_dragged_on_the_header_is_kept(qtbot, settings: QSettings) -> None:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QStandardItem

    view = _sample_view(qtbot, settings)
    header = view.horizontalHeader()
    edge = header.sectionViewportPosition(0) + header.sectionSize(0) - 1
    y = header.height() // 2
    qtbot.mousePress(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(edge, y))
    qtbot.mouseMove(header.viewport(), QPoint(10, y))
    qtbot.mouseRelease(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(10, y))
    dragged = header.sectionSize(0)
    assert dragged < header.sectionSizeHint(0)  # the user made it narrower than its header
    view.model().appendRow([QStandardItem("100%"), QStandardItem("12,345pt"), QStandardItem("")])
    assert header.sectionSize(0) == dragged
