"""The dialogs that change the mileage ledger from the window: 利用停止・再開, adjustments,
通勤パス months, a trip by hand. Each records through the functions the CLI uses; a refusal
shows the CLI's reason in the dialog and records nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate
from sqlalchemy import text

from etcbook.ui.ledger_dialogs import (
    AdjustmentDialog,
    CommutePassDialog,
    StopDialog,
    TripDialog,
)
from etcbook.ui.views.cards import HEADERS

BEFORE_THE_DEMO = dt.datetime(2025, 4, 30, 9, 0)
"""The demo store's trips start in May 2025."""


def cards_page(window: Any, last4: str) -> Any:
    window.show_page("cards")
    page = window.page_widget("cards")
    page.select_card(last4)
    assert page.selected_card() == last4
    return page


def points_page(qtbot: Any, window: Any, last4: str) -> Any:
    page = window.page_widget("points")
    if page.data is None or window.current_page_key != "points":
        with qtbot.waitSignal(page.loaded, timeout=30_000):
            window.show_page("points")
    page.select_card(last4)
    return page


def reload_points(qtbot: Any, window: Any, page: Any, change: Any) -> None:
    """Run ``change`` (which changes the ledger) and wait for the page's new figures."""
    with qtbot.waitSignal(page.loaded, timeout=30_000):
        change()


def card_status(window: Any, last4: str) -> str:
    """The 状態 cell of a card in the カード・ID台帳 page."""
    page = cards_page(window, last4)
    index = page.view.currentIndex()
    return str(index.siblingAtColumn(HEADERS.index("状態")).data())


def count(window: Any, table: str) -> int:
    with window.context.connection() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def ledger_changes(window: Any) -> list[bool]:
    changes: list[bool] = []
    window.context.ledger_changed.connect(lambda: changes.append(True))
    return changes


# -- 利用停止・再開 ------------------------------------------------------------------------------


def test_a_recorded_stop_changes_the_engines_figures(qtbot, demo_window) -> None:
    window = demo_window
    points = points_page(qtbot, window, "1234")
    before = points.current_card()
    assert before.pools and "利用停止中" not in points.summary.text()

    dialog = cards_page(window, "1234").record_stop()
    assert isinstance(dialog, StopDialog) and dialog.stop_choice.isChecked()
    dialog.set_at(BEFORE_THE_DEMO)
    dialog.note.setText("コールセンター 受付番号 A-1")
    assert dialog.submit()
    assert not dialog.isVisible()
    assert count(window, "card_stops") == 1

    points = points_page(qtbot, window, "1234")
    after = points.current_card()
    assert after.state.stopped
    assert "利用停止中" in points.summary.text()
    # Stopped before its first trip: no trip earned points or used rebate.
    assert sum(pool.points for pool in after.pools) < sum(pool.points for pool in before.pools)
    assert all(result.points == 0 for result in after.state.trip_results)
    assert card_status(window, "1234") == "利用停止中"  # the card ledger follows the stop

    resume = cards_page(window, "1234").record_stop()
    assert resume.resume_choice.isChecked()  # a stopped card is offered 再開
    resume.set_at(BEFORE_THE_DEMO + dt.timedelta(days=1))
    assert resume.submit()
    assert card_status(window, "1234") == "有効"
    points = points_page(qtbot, window, "1234")
    assert not points.current_card().state.stopped


def test_a_refused_stop_shows_why_and_records_nothing(qtbot, demo_window) -> None:
    window = demo_window
    dialog = cards_page(window, "5678").record_stop()
    dialog.set_stopped(False)  # 再開 of a card that was never stopped
    dialog.set_at(BEFORE_THE_DEMO)
    changes = ledger_changes(window)
    assert not dialog.submit()
    assert dialog.isVisible()
    assert "利用停止されていません" in dialog.problem.text()
    assert dialog.problem.isVisibleTo(dialog)
    assert count(window, "card_stops") == 0 and changes == []
    dialog.reject()


# -- 調整 ------------------------------------------------------------------------------------------


def test_an_adjustment_is_recorded_and_shown(qtbot, demo_window) -> None:
    window = demo_window
    page = points_page(qtbot, window, "9012")
    before = {pool.pool: pool.points for pool in page.current_card().pools}
    dialog = page.record_adjustment()
    assert isinstance(dialog, AdjustmentDialog)
    assert dialog.pool.currentData() == "nexco"
    dialog.set_values(points=500, pool="nexco", reason="キャンペーン加算")
    reload_points(qtbot, window, page, lambda: dialog.save_button.click())
    assert not dialog.isVisible()
    after = {pool.pool: pool.points for pool in page.current_card().pools}
    assert after["nexco"] == before["nexco"] + 500
    entries = [e for e in page.current_card().state.ledger if e.kind == "adjustment"]
    assert [(e.points, e.note) for e in entries] == [(500, "キャンペーン加算")]


def test_a_refused_adjustment_shows_the_reason_and_records_nothing(qtbot, demo_window) -> None:
    window = demo_window
    page = points_page(qtbot, window, "5678")
    dialog = page.record_adjustment()
    changes = ledger_changes(window)

    dialog.set_values(rebate=-1_000_000, reason="サイトの残高に合わせる", on=dt.date(2025, 5, 1))
    assert dialog.amount.suffix() == " 円" and not dialog.pool.isEnabled()
    dialog.save_button.click()
    assert dialog.isVisible()
    assert dialog.problem.text() == (
        "記録しませんでした。減らす量（1,000,000円）がその日の残高を超えています。"
    )

    dialog.set_values(rebate=300, reason="  ")
    dialog.save_button.click()
    assert dialog.problem.text().startswith("調整の理由を書いてください")

    dialog.set_values(points=0, reason="訂正")
    dialog.save_button.click()
    assert dialog.problem.text() == "0は調整になりません"

    assert count(window, "mileage_adjustments") == 0 and changes == []
    dialog.reject()


# -- 通勤パス --------------------------------------------------------------------------------------


def test_a_commute_pass_month_takes_that_months_morning_evening_discount_away(
    qtbot, demo_window
) -> None:
    window = demo_window
    page = points_page(qtbot, window, "1234")

    def june_credit() -> int:
        state = page.current_card().state
        return sum(m.total for m in state.morning_evening if m.month == dt.date(2025, 6, 1))

    assert june_credit() > 0
    dialog = cards_page(window, "1234").edit_commute_pass()
    assert isinstance(dialog, CommutePassDialog)
    assert dialog.month_keys() == []
    dialog.month.setDate(QDate(2025, 6, 1))
    assert dialog.add_month()
    assert dialog.month_keys() == ["2025-06"]
    assert dialog.months.item(0).text() == "2025/06"
    page = points_page(qtbot, window, "1234")
    assert june_credit() == 0

    dialog.months.setCurrentRow(0)
    assert dialog.remove_button.isEnabled()
    assert dialog.remove_selected()
    assert dialog.month_keys() == []
    dialog.reject()
    assert count(window, "commute_pass_months") == 0


# -- 走行を手で追加 --------------------------------------------------------------------------------


def test_a_trip_added_by_hand_is_stored_and_listed(qtbot, demo_window) -> None:
    window = demo_window
    trips_before = count(window, "trips")
    dialog = cards_page(window, "5678").add_trip()
    assert isinstance(dialog, TripDialog)
    assert dialog.card.currentText().startswith("末尾 5678")
    assert dialog.card.count() == 3  # every card can be chosen
    dialog.set_values(
        exit_at=dt.datetime(2026, 11, 2, 18, 40),
        entry_at=dt.datetime(2026, 11, 2, 18, 5),
        entry_ic="東京",
        exit_ic="厚木",
        toll=1320,
        morning_evening=True,
    )
    recorded: list[Any] = []
    dialog.recorded.connect(recorded.append)
    assert dialog.submit()
    assert count(window, "trips") == trips_before + 1
    with window.context.connection() as connection:
        row = connection.execute(
            text(
                "SELECT c.last4, t.exit_at, t.entry_ic, t.exit_ic, t.toll, t.source"
                " FROM trips t JOIN cards c ON c.id = t.card_id WHERE t.id = :id"
            ),
            {"id": recorded[0]},
        ).one()
    assert tuple(row) == ("5678", "2026-11-02T18:40:00", "東京", "厚木", 1320, "manual")

    window.show_page("trips")
    trips = window.page_widget("trips")
    trips.set_month_range("2026-11", "2026-11")
    qtbot.waitUntil(lambda: trips.model.rowCount() >= 1, timeout=10_000)
    exits = [
        trips.model.index(row, column).data()
        for row in range(trips.model.rowCount())
        for column in range(trips.model.columnCount())
    ]
    assert "厚木" in exits


def test_a_refused_trip_shows_the_reason_and_records_nothing(qtbot, demo_window) -> None:
    window = demo_window
    trips_before = count(window, "trips")
    dialog = cards_page(window, "1234").add_trip()
    changes = ledger_changes(window)
    dialog.set_values(exit_ic="  ", toll=900)
    dialog.save_button.click()
    assert dialog.problem.text() == "出口ICを指定してください"
    dialog.set_values(
        exit_ic="厚木",
        exit_at=dt.datetime(2026, 11, 2, 9, 0),
        entry_at=dt.datetime(2026, 11, 2, 10, 0),
    )
    dialog.save_button.click()
    assert dialog.problem.text() == "入口の日時が出口の日時より後になっています"
    dialog.set_values(entry_at=None, rebate_applied=1000)
    dialog.save_button.click()
    assert dialog.problem.text() == "還元額適用料金は0から通行料金までの金額です"
    assert dialog.isVisible()
    assert count(window, "trips") == trips_before and changes == []
    dialog.reject()
