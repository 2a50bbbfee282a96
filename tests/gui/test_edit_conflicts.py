"""Edits of rows another client changed meanwhile: the window says so and shows the store as it
is now (optimistic version checks, etcbook.models.versions)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import text

from etcbook.ui.views.trips import COLUMN


def _box_saying(qtbot: Any, words: str) -> QMessageBox:
    def found() -> QMessageBox | None:
        for widget in QApplication.topLevelWidgets():
            for box in [widget, *widget.findChildren(QMessageBox)]:
                if isinstance(box, QMessageBox) and box.isVisible() and words in box.text():
                    return box
        return None

    qtbot.waitUntil(lambda: found() is not None, timeout=10_000)
    box = found()
    assert box is not None
    return box


def _other_client(window: Any, sql: str, params: dict[str, Any]) -> None:
    """Another program changes the store (its own connection, its own transaction)."""
    from etcbook.models.store import open_store

    other = open_store(window.context.store.path)
    try:
        with other.transaction() as connection:
            connection.execute(text(sql), params)
    finally:
        other.close()


def test_a_trip_changed_by_another_client_is_not_overwritten(qtbot, demo_window) -> None:
    window = demo_window
    window.show_page("trips")
    page = window.page_widget("trips")
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    shown = page.model.record(0)
    assert shown.version is not None
    _other_client(
        window, "UPDATE trips SET purpose = '別の端末で変更' WHERE id = :i", {"i": shown.id}
    )
    index = page.model.index(0, COLUMN["purpose"])
    assert not page.model.setData(index, "この画面で変更")
    box = _box_saying(qtbot, "この走行は他の利用者が変更しました")
    assert "最新の内容を読み込んでからやり直してください" in box.text()
    box.close()
    with window.context.connection() as connection:
        stored = connection.execute(
            text("SELECT purpose, version FROM trips WHERE id = :i"), {"i": shown.id}
        ).one()
    assert stored.purpose == "別の端末で変更"
    # The table was read again: it shows the other client's change, and an edit now goes in.
    reloaded = next(
        page.model.record(r) for r in range(page.model.rowCount()) if page.model.key(r) == shown.id
    )
    assert (reloaded.purpose, reloaded.version) == ("別の端末で変更", stored.version)
    row = list(page.model.keys).index(shown.id)
    assert page.model.setData(page.model.index(row, COLUMN["purpose"]), "この画面で変更")
    with window.context.connection() as connection:
        purpose = connection.execute(
            text("SELECT purpose FROM trips WHERE id = :i"), {"i": shown.id}
        ).scalar_one()
    assert purpose == "この画面で変更"


def test_the_card_dialog_refuses_to_save_over_another_clients_change(qtbot, demo_window) -> None:
    from etcbook.models.cards import get_card
    from etcbook.ui.card_dialog import CardDialog

    window = demo_window
    with window.context.store.session() as session:
        card = get_card(session=session, last4="1234")
    dialog = CardDialog(window.context, card, parent=window)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.notes.setPlainText("この画面のメモ")
    _other_client(window, "UPDATE cards SET driver = '別の端末' WHERE last4 = '1234'", {})
    dialog.save_button.click()
    _box_saying(qtbot, "このカードは他の利用者が変更しました").close()
    assert dialog.isVisible()  # still open, now showing the card as it is
    assert dialog.driver.text() == "別の端末"
    with window.context.store.session() as session:
        stored = get_card(session=session, last4="1234")
    assert (stored.driver, stored.notes) == ("別の端末", card.notes)
    dialog.notes.setPlainText("この画面のメモ")
    with qtbot.waitSignal(dialog.saved):
        dialog.save_button.click()
    with window.context.store.session() as session:
        stored = get_card(session=session, last4="1234")
    assert (stored.driver, stored.notes) == ("別の端末", "この画面のメモ")
