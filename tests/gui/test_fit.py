"""Every page and dialog fits its text at 1024×700 and 1366×768, on an empty store and on the
sample: no visible label, button, header or table cell is cut (font metrics against widths)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QTabWidget

from etcbook.ui.pages import discover_pages
from etcbook.ui.workflow_role import PERSONAL

from .fit import misfits

SIZES = [(1024, 700), (1366, 768)]
PAGE_KEYS = [spec.key for spec in discover_pages()[0] if spec.offered_to(PERSONAL)]
"""The pages of a personal (SQLite) ledger; the workflow pages' own tests open the others."""


def _settle(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=60_000)
    qtbot.wait(30)
    QApplication.processEvents()


def _check_pages(qtbot, window, size: tuple[int, int]) -> list[str]:  # type: ignore[no-untyped-def]
    window.resize(*size)
    _settle(qtbot, window)
    found = [f"start: {p}" for p in misfits(window)]
    for key in PAGE_KEYS:
        window.show_page(key)
        _settle(qtbot, window)
        page = window.page_widget(key)
        tabs = page.findChildren(QTabWidget)
        found += [f"{key}: {p}" for p in misfits(window)]
        for tab in tabs:
            for index in range(1, tab.count()):
                tab.setCurrentIndex(index)
                _settle(qtbot, window)
                found += [f"{key}/{tab.tabText(index)}: {p}" for p in misfits(window)]
            tab.setCurrentIndex(0)
    return found


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_sample_store_fits(qtbot, make_window, demo_store_path: Path, size) -> None:
    window = make_window(demo_store_path)
    found = _check_pages(qtbot, window, size)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_an_empty_store_fits(qtbot, make_window, tmp_path: Path, size) -> None:
    window = make_window(tmp_path / "empty.sqlite3")
    window.resize(*size)
    _settle(qtbot, window)
    found = misfits(window)  # the welcome page
    from .test_column_widths import _store_with_a_card

    with_card = make_window(_store_with_a_card(tmp_path / "card.sqlite3"))
    found += _check_pages(qtbot, with_card, size)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_opening_and_store_in_use_messages_fit(
    qtbot, make_window, tmp_path: Path, size
) -> None:
    from etcbook.models.instance import Holder, StoreClaim

    window = make_window(tmp_path / "store.sqlite3", show=True)
    window.resize(*size)
    claim = StoreClaim(
        store_path=tmp_path / "とても長い名前のフォルダ" / "etcbook.sqlite3",
        acquired=False,
        other=Holder(
            pid=13401, host="OTHER-PC", program="etcbook ウィンドウ", since="2026-12-05T10:00:00"
        ),
    )
    window._store_in_use(claim.message or "")
    window._stack.setCurrentWidget(window._loading)
    qtbot.wait(30)
    found = misfits(window._loading)
    assert window._loading.label.isVisible()
    window._loading.show_text("ストアを開いています…")
    qtbot.wait(30)
    found += misfits(window._loading)
    assert not found, "\n".join(found)


def _dialog_misfits(qtbot, dialog) -> list[str]:  # type: ignore[no-untyped-def]
    qtbot.waitExposed(dialog)
    qtbot.wait(30)
    found = [f"{type(dialog).__name__}: {p}" for p in misfits(dialog)]
    dialog.reject()
    return found


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_dialogs_fit(qtbot, make_window, demo_store_path: Path, size, tmp_path: Path) -> None:
    from .test_import import GOOD_ROWS, write_csv

    window = make_window(demo_store_path)
    window.resize(*size)
    found: list[str] = []
    window.show_page("cards")
    _settle(qtbot, window)
    cards = window.page_widget("cards")
    found += _dialog_misfits(qtbot, cards.add_card())
    cards.select_card("1234")
    for open_dialog in (
        cards.edit_selected,
        cards.record_stop,
        cards.edit_commute_pass,
        cards.add_trip,
    ):
        found += _dialog_misfits(qtbot, open_dialog())
    window.show_page("points")
    _settle(qtbot, window)
    points = window.page_widget("points")
    qtbot.waitUntil(lambda: points.data is not None, timeout=30_000)
    points.select_card("9012")
    for open_dialog in (points.record_exchange, points.record_adjustment):
        found += _dialog_misfits(qtbot, open_dialog())
    with qtbot.waitSignal(window.import_started, timeout=5_000) as started:
        window.import_files([str(write_csv(tmp_path / "meisai.csv", GOOD_ROWS))])
    with qtbot.waitSignal(started.args[0].previewed, timeout=20_000) as previewed:
        pass
    found += _dialog_misfits(qtbot, previewed.args[0])
    connect = window.connect_to_server()
    connect.password_edit.show()  # as when the server asks for one
    connect.keep_password.show()
    connect.message.setText("db.example.co.jp（etcbook）: パスワードが違います（ロール keiri）。")
    found += _dialog_misfits(qtbot, connect)
    assert not found, "\n".join(found)
