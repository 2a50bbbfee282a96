"""The trips table fits its columns as Qt would, without measuring every cell through Qt.

``RememberingTableView.sizeHintForColumn`` measures only the widest texts of the rows Qt
reads; these tests hold it to Qt's own ``QTableView.sizeHintForColumn`` on real tables.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtWidgets import QTableView

from etcbook.ui.tables import FIT_ROWS, CellWidthKeys, _rows_around, qt_fitting_rows

DATA = Path(__file__).resolve().parent.parent / "data" / "meisai"


def _differences(view: QTableView) -> list[str]:
    model = view.model()
    assert isinstance(model, CellWidthKeys)  # the quick way is the one being compared
    found = []
    for column in range(model.columnCount()):
        ours, qts = view.sizeHintForColumn(column), QTableView.sizeHintForColumn(view, column)
        if ours != qts:
            found.append(f"column {column}: {ours} != Qt's {qts}")
    return found


def _trips_page(qtbot, window):  # type: ignore[no-untyped-def]
    window.show_page("trips")
    page = window.page_widget("trips")
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    return page


def test_widths_are_qts_for_every_filter_and_scroll(qtbot, demo_window) -> None:
    page = _trips_page(qtbot, demo_window)
    view = page.view
    assert page.model.rowCount() > FIT_ROWS  # Qt reads only some of the rows
    assert _differences(view) == []
    view.scrollTo(page.model.index(page.model.rowCount() // 2, 0))  # rows above and below
    assert _differences(view) == []
    view.scrollToBottom()
    assert _differences(view) == []
    months = [page.month_from.itemData(i) for i in range(1, page.month_from.count())]
    for month in months[:: max(1, len(months) // 4)]:
        page.set_month_range(month, month)
        assert page.model.rowCount() > 0
        assert _differences(view) == [], month
    page.clear_filters()
    view.verticalHeader().moveSection(0, 5)  # rows in another order, one hidden
    view.setRowHidden(3, True)
    assert _differences(view) == []


def test_widths_are_qts_with_passages_and_guessed_operators(qtbot, window, tmp_path) -> None:
    from etcbook.models.imports import import_files

    paths = []
    for name in ("13col_passages.csv", "13col_mixed_operators.csv", "13col_entry_gate.csv"):
        shutil.copy(DATA / name, tmp_path / name)
        paths.append(tmp_path / name)
    assert import_files(window.context.store, paths).ok
    window.context.ledger_changed.emit()
    page = _trips_page(qtbot, window)
    rows = [page.model.record(row) for row in range(page.model.rowCount())]
    assert any(row.passage for row in rows)
    assert any(row.operator_source == "default" for row in rows)
    assert _differences(page.view) == []


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    top=st.integers(0, 40),
    shown=st.integers(-1, 30),
    last=st.integers(-1, 300),
    most=st.integers(-1, 250),
)
def test_rows_in_model_order_are_qts_loop(top: int, shown: int, last: int, most: int) -> None:
    top = min(top, max(last, 0))
    bottom = min(top + shown, last)
    assert _rows_around(top, bottom, last, most) == qt_fitting_rows(
        top, bottom, last, most, lambda row: row, lambda _row: False
    )
