"""ヘルプ: the manual's pages and the data folder; the last page shown is remembered per store."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from .test_column_widths import _store_with_a_card


def test_help_menu_has_the_manual_pages_and_opens_the_data_folder(
    qtbot, monkeypatch, demo_window, demo_store_path: Path
) -> None:
    window = demo_window
    help_menu = next(
        action.menu() for action in window.menuBar().actions() if action.text() == "ヘルプ(&H)"
    )
    texts = [action.text() for action in help_menu.actions() if action.text()]
    assert texts[:4] == [
        "毎月の流れ(&M)",
        "明細CSVのダウンロード(&D)",
        "データの場所(&L)",
        "データのフォルダを開く(&O)",
    ]
    window.manual_actions[2].trigger()
    from etcbook.ui.help import HelpDialog

    dialog = next(d for d in window.findChildren(HelpDialog) if d.windowTitle() == "データの場所")
    text = dialog.browser.toPlainText()
    assert str(demo_store_path) in text and str(demo_store_path.with_name("demo.etc")) in text
    window.manual_actions[1].trigger()
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    assert window.open_data_folder() == demo_store_path.parent
    assert [url.toLocalFile() for url in opened] == [str(demo_store_path.parent)]


def test_the_last_page_is_remembered_per_store(qtbot, make_window, tmp_path: Path) -> None:
    first = _store_with_a_card(tmp_path / "a.sqlite3")
    second = _store_with_a_card(tmp_path / "b.sqlite3")
    window = make_window(first)
    window.show_page("evidence")
    window.close()
    other = make_window(second)
    assert other.current_page_key != "evidence"
    other.show_page("cards")
    other.close()
    again = make_window(first)
    assert again.current_page_key == "evidence"
    again.close()
    assert make_window(second).current_page_key == "cards"


def test_planner_jargon_is_explained_on_the_headers(qtbot, demo_window) -> None:
    from PySide6.QtCore import Qt

    window = demo_window
    window.show_page("points")
    page = window.page_widget("points")
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    tips = {}
    for model in (page.lots_model, page.planner.alternatives_model):
        for column in range(model.columnCount()):
            title = model.headerData(column, Qt.Orientation.Horizontal)
            tips[title] = model.headerData(
                column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
            )
    assert "事業者のグループごと" in tips["プール"]
    assert "見込み価値" in tips["選ばなかった理由"]


def test_every_page_has_its_title(qtbot, demo_window) -> None:
    from PySide6.QtWidgets import QLabel

    from etcbook.ui.workflow_role import window_role

    missing = []
    role = window_role(demo_window.context)
    for spec in (spec for spec in demo_window.page_specs if spec.offered_to(role)):
        demo_window.show_page(spec.key)
        qtbot.waitUntil(lambda: not demo_window.context.operations.busy, timeout=30_000)
        labels = demo_window.page_widget(spec.key).findChildren(QLabel)
        if not any(label.text() == spec.title and label.isVisible() for label in labels):
            missing.append(spec.title)
    assert missing == []


def test_newest_first_shows_a_downward_arrow(qtbot, demo_window) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyleOptionHeader

    demo_window.show_page("trips")
    page = demo_window.page_widget("trips")
    header = page.view.horizontalHeader()
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder  # newest first
    option = QStyleOptionHeader()
    header.initStyleOptionForIndex(option, header.sortIndicatorSection())
    assert option.sortIndicator == QStyleOptionHeader.SortIndicator.SortDown  # ▼
    assert header.sectionsClickable()
