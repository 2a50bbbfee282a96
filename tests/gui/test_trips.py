"""走行明細: the lazy table model, filters, edits on one or many rows, totals, route rules."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import text

from etcbook.domain.claims import claimed_amount
from etcbook.ui.views.trips import COLUMN


def trips_page(window):  # type: ignore[no-untyped-def]
    window.show_page("trips")
    return window.page_widget("trips")


def test_trip_model_passes_modeltester(qtmodeltester, demo_window) -> None:
    page = trips_page(demo_window)
    page.set_month_range("2026-09", "2026-10")
    assert 0 < page.model.rowCount() < 200
    qtmodeltester.check(page.model, force_py=True)


def test_totals_match_the_claim_rule(demo_window) -> None:
    page = trips_page(demo_window)
    with demo_window.context.connection() as connection:
        rows = connection.execute(
            text("SELECT toll - coalesce(rebate_applied, 0), business_share FROM trips")
        ).all()
    assert page.totals.count == len(rows)
    assert page.totals.billed == sum(billed for billed, _share in rows)
    assert page.totals.business == sum(claimed_amount(billed, share) for billed, share in rows)


def test_editing_business_share_updates_the_totals(qtbot, demo_window) -> None:
    page = trips_page(demo_window)
    page.use_filter.setCurrentIndex(page.use_filter.findData("private"))
    before = page.totals
    assert before.business == 0 and before.count > 0
    row = 0
    record = page.model.record(row)
    index = page.model.index(row, COLUMN["business_share"])
    assert page.model.flags(index) & Qt.ItemFlag.ItemIsEditable
    with qtbot.waitSignal(page.totals_changed):
        assert page.model.setData(index, 50)
    after = page.totals
    # the trip is no longer private: it left the filter, and the totals with it
    assert after.count == before.count - 1
    assert after.billed == before.billed - record.billed
    page.use_filter.setCurrentIndex(page.use_filter.findData("all"))
    everything = page.totals
    page.use_filter.setCurrentIndex(page.use_filter.findData("business"))
    assert page.totals.business == everything.business


def test_batch_edit_on_many_selected_rows(qtbot, demo_window) -> None:
    page = trips_page(demo_window)
    page.set_month_range("2026-10", "2026-10")
    view = page.view
    view.selectRow(0)
    for row in (1, 2, 3):
        view.selectionModel().select(
            page.model.index(row, 0),
            view.selectionModel().SelectionFlag.Select | view.selectionModel().SelectionFlag.Rows,
        )
    ids = page.selected_ids()
    assert len(ids) == 4
    page.purpose_edit.setText("テスト出張")
    page.share_edit.setValue(100)
    assert page.set_on_selection(purpose="テスト出張", business_share=100)
    with demo_window.context.connection() as connection:
        marks = ",".join(str(i) for i in ids)
        stored = connection.execute(
            text(f"SELECT purpose, business_share FROM trips WHERE id IN ({marks})")
        ).all()
    assert set(stored) == {("テスト出張", 100)}
    assert page.selected_ids() == ids, "the selection survived the edit"


def test_month_filter_and_text_search(demo_window) -> None:
    page = trips_page(demo_window)
    page.set_month_range("2026-03", "2026-03")
    assert page.totals.count > 0
    months = {page.model.record(r).exit_at.strftime("%Y-%m") for r in range(page.model.rowCount())}
    assert months == {"2026-03"}
    page.clear_filters()
    page.text_filter.setText("霞が関")
    page.apply_filters()
    assert page.model.rowCount() > 0
    assert all(page.model.record(r).exit_ic == "霞が関" for r in range(page.model.rowCount()))


def test_route_rule_from_a_trip(qtbot, demo_window) -> None:
    page = trips_page(demo_window)
    page.text_filter.setText("前橋")
    page.apply_filters()
    page.view.selectRow(page.model.rowCount() - 1)  # the oldest: "from now on" covers the rest
    page.set_on_selection(operator="other_rebate")
    page.create_rule_from_current()
    dialog = page._rule_dialog
    assert dialog.existing.isEnabled()
    dialog.accept()
    with demo_window.context.connection() as connection:
        rules = connection.execute(
            text("SELECT exit_pattern, operator FROM route_rules WHERE exit_pattern = '前橋'")
        ).all()
        operators = connection.execute(
            text("SELECT DISTINCT operator FROM trips WHERE exit_ic = '前橋' AND entry_ic = '高崎'")
        ).all()
    assert rules == [("前橋", "other_rebate")]
    assert operators == [("other_rebate",)]


def test_sorting_is_done_by_the_store(demo_window) -> None:
    page = trips_page(demo_window)
    page.view.sortByColumn(COLUMN["toll"], Qt.SortOrder.AscendingOrder)
    tolls = [page.model.record(r).toll for r in range(page.model.rowCount())]
    assert tolls == sorted(tolls)
