"""走行明細: the lazy table model, filters, edits on one or many rows, totals, route rules."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import text

from etcbook import clock
from etcbook.domain.claims import claimed_amount
from etcbook.ui.views.trips import COLUMN


def trips_page(qtbot, window):  # type: ignore[no-untyped-def]
    """The trips page, shown, with the engine's figures computed."""
    window.show_page("trips")
    page = window.page_widget("trips")
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    assert page.model.figures is not None
    return page


def test_trip_model_passes_modeltester(qtbot, qtmodeltester, demo_window) -> None:
    page = trips_page(qtbot, demo_window)
    page.set_month_range("2026-09", "2026-10")
    assert 0 < page.model.rowCount() < 200
    qtmodeltester.check(page.model, force_py=True)


def test_totals_are_the_engines_billed_and_the_claim_rule(qtbot, demo_window) -> None:
    from etcbook.ui import mileage

    page = trips_page(qtbot, demo_window)
    figures = mileage.compute_snapshot(demo_window.context.store, clock.today()).figures
    with demo_window.context.connection() as connection:
        shares = dict(connection.execute(text("SELECT id, business_share FROM trips")).all())
    assert page.totals.count == len(shares)
    assert page.totals.billed == sum(billed for _applied, billed, _points in figures.values())
    assert page.totals.rebate_applied == sum(applied for applied, _b, _p in figures.values())
    assert page.totals.business == sum(
        claimed_amount(figures[trip_id][1], share) for trip_id, share in shares.items()
    )
    row = page.model.record(0)
    assert (row.rebate_applied, row.billed, row.points) == figures[row.id]


def test_editing_business_share_updates_the_totals(qtbot, demo_window) -> None:
    page = trips_page(qtbot, demo_window)
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
    page = trips_page(qtbot, demo_window)
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


def test_month_filter_and_text_search(qtbot, demo_window) -> None:
    page = trips_page(qtbot, demo_window)
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
    page = trips_page(qtbot, demo_window)
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


def test_sorting_is_done_by_the_store(qtbot, demo_window) -> None:
    page = trips_page(qtbot, demo_window)
    page.view.sortByColumn(COLUMN["toll"], Qt.SortOrder.AscendingOrder)
    tolls = [page.model.record(r).toll for r in range(page.model.rowCount())]
    assert tolls == sorted(tolls)


def test_purpose_and_share_edits_are_audited(qtbot, demo_window) -> None:
    from etcbook.models.audit import list_audit

    page = trips_page(qtbot, demo_window)
    page.set_month_range("2026-10", "2026-10")
    page.view.selectRow(0)
    trip_id = page.selected_ids()[0]
    assert page.set_on_selection(business_share=30, purpose="監査テスト")
    with demo_window.context.connection() as connection:
        rows = list_audit(connection=connection, entity="trip", entity_id=trip_id)
    assert {row["field"] for row in rows} >= {"business_share", "purpose"}


def test_large_batch_edit_runs_off_the_gui_thread(qtbot, demo_window) -> None:
    page = trips_page(qtbot, demo_window)
    page.view.selectAll()
    ids = page.selected_ids()
    assert len(ids) > 200
    with qtbot.waitSignal(demo_window.context.ledger_changed, timeout=30_000):
        assert page.set_on_selection(business_share=100)
    qtbot.waitUntil(lambda: not demo_window.context.operations.busy)
    assert page.totals.business == page.totals.billed


def test_double_clicking_a_trip_opens_it_for_editing(qtbot, demo_window) -> None:
    from PySide6.QtCore import QPoint

    from etcbook.ui.views.trips import COLUMN

    page = trips_page(qtbot, demo_window)
    row = next(
        r for r in range(page.model.rowCount()) if (page.model.record(r).purpose or "").strip()
    )
    trip = page.model.record(row)
    page.view.scrollTo(page.model.index(row, COLUMN["exit_at"]))
    rect = page.view.visualRect(page.model.index(row, COLUMN["exit_at"]))
    point: QPoint = rect.center()
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=point)  # as a mouse does
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert page.selected_ids() == [trip.id]
    assert page.purpose_edit.text() == trip.purpose
    assert page.share_edit.value() == trip.business_share
    assert page.purpose_edit.hasFocus()
