"""qtmodeltester on the generic table models, and the lazy model's paging."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import Qt

from etcbook.ui.lazy_model import LazyRecordModel
from etcbook.ui.tables import SORT_ROLE, Column, RecordTableModel


@dataclass(frozen=True)
class Row:
    id: int
    day: dt.date
    toll: int
    note: str


COLUMNS = [
    Column[Row]("日付", lambda row: row.day, "date"),
    Column[Row]("通行料金", lambda row: row.toll, "yen"),
    Column[Row]("メモ", lambda row: row.note),
]


def rows(n: int) -> dict[int, Row]:
    return {
        i: Row(i, dt.date(2025, 1, 1) + dt.timedelta(days=i % 365), i * 10, f"n{i}")
        for i in range(n)
    }


def test_record_model_passes_modeltester(qtmodeltester) -> None:
    model = RecordTableModel(COLUMNS)
    model.set_records(list(rows(50).values()))
    qtmodeltester.check(model, force_py=True)
    index = model.index(3, 1)
    assert model.data(index) == "30円"
    assert model.data(index, Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert model.data(model.index(3, 0)) == "2025/01/04"
    assert model.data(model.index(3, 0), SORT_ROLE) == "2025-01-04"


def test_lazy_model_passes_modeltester_and_fetches_by_page(qtmodeltester) -> None:
    store = rows(100_000)
    model = LazyRecordModel(COLUMNS, lambda keys: {key: store[key] for key in keys}, page_size=100)
    model.set_keys(range(100_000))
    assert model.rowCount() == 100_000
    assert model.fetch_count == 0
    assert model.data(model.index(99_999, 1)) == "999,990円"
    assert model.fetch_count == 1
    model.data(model.index(99_950, 2))
    assert model.fetch_count == 1
    model.set_keys(range(500))
    qtmodeltester.check(model, force_py=True)


def test_lazy_model_edits_go_through_the_editor(qtmodeltester) -> None:
    store = rows(10)
    edits: list[tuple[list[int], int, object]] = []

    def editor(keys: list[int], column: int, value: object) -> bool:
        edits.append((keys, column, value))
        for key in keys:
            store[key] = Row(key, store[key].day, store[key].toll, str(value))
        return True

    model = LazyRecordModel(COLUMNS, lambda keys: {key: store[key] for key in keys})
    model.editor = editor
    model.editable_columns = frozenset({2})
    model.set_keys(range(10))
    assert not model.flags(model.index(0, 1)) & Qt.ItemFlag.ItemIsEditable
    assert model.setData(model.index(4, 2), "商談")
    assert edits == [([4], 2, "商談")]
    assert model.data(model.index(4, 2)) == "商談"
    qtmodeltester.check(model, force_py=True)
