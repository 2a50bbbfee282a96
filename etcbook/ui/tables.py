"""Table building blocks: declared columns, a read-only record model, a view that remembers.

Amounts are right-aligned and formatted (``12,345円``); sorting uses the raw value
(:data:`SORT_ROLE`), never the formatted text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from etcbook.ui import formatting

R = TypeVar("R")

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""The raw value of a cell (int, date, str) for sorting and tests."""

AMOUNT_KINDS = frozenset({"yen", "points", "int", "percent"})

_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "text": lambda value: "" if value is None else str(value),
    "yen": formatting.yen,
    "points": formatting.points,
    "int": formatting.number,
    "percent": formatting.percent,
    "date": formatting.date,
    "datetime": formatting.date_time,
    "month": formatting.month,
    "bool": lambda value: "✓" if value else "",
}

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column of a record table.

    Attributes:
        title: header text (Japanese).
        value: reads the raw value from a record.
        kind: how to show it: text, yen, points, int, percent, date, datetime, month, bool.
        tooltip: optional tooltip text for a record.
        colour: optional background colour for a record.
        key: a name for the column (sorting in the store, edits, settings).
    """

    title: str
    value: Callable[[R], Any]
    kind: str = "text"
    tooltip: Callable[[R], str | None] | None = None
    colour: Callable[[R], QColor | None] | None = None
    key: str = ""

    def display(self, record: R) -> str:
        return _FORMATTERS[self.kind](self.value(record))

    @property
    def alignment(self) -> Qt.AlignmentFlag:
        if self.kind in AMOUNT_KINDS:
            return formatting.AMOUNT_ALIGNMENT
        if self.kind == "bool":
            return Qt.AlignmentFlag.AlignCenter
        return formatting.TEXT_ALIGNMENT


def column_header(
    columns: Sequence[Column[Any]], section: int, orientation: Qt.Orientation, role: int
) -> Any:
    """headerData shared by the table models: column titles and alignment, row numbers."""
    if orientation == Qt.Orientation.Horizontal and 0 <= section < len(columns):
        column = columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
    if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
        return section + 1
    return None


class RecordTableModel(QAbstractTableModel, Generic[R]):
    """A read-only table over a list of records (dataclasses, rows), with declared columns."""

    def __init__(self, columns: Sequence[Column[R]], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._records: list[R] = []

    @property
    def records(self) -> list[R]:
        return list(self._records)

    def set_columns(self, columns: Sequence[Column[R]]) -> None:
        """Replace the declared columns (e.g. when labels arrive with the data)."""
        self.beginResetModel()
        self._columns = list(columns)
        self.endResetModel()

    def set_records(self, records: Sequence[R]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def record(self, row: int) -> R:
        return self._records[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record = self._records[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(record)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
        if role == SORT_ROLE:
            return _sortable(column.value(record))
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(record)
        if role == Qt.ItemDataRole.BackgroundRole and column.colour is not None:
            return column.colour(record)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return column_header(self._columns, section, orientation, role)


def _sortable(value: Any) -> Any:
    """Qt sorts QVariants: keep ints and strings, turn dates into ISO strings."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None:
        return ""
    return value


def sortable_proxy(model: QAbstractTableModel, parent: Any = None) -> QSortFilterProxyModel:
    """A proxy sorting ``model`` by raw values."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy


class RememberingTableView(QTableView):
    """A table view whose column widths, order and sort are kept in QSettings under a key."""

    def __init__(self, settings: QSettings, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._key = f"tables/{key}/header"
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._restored = False

    def restore_columns(self) -> bool:
        """Apply the remembered header state (call after the model is set); ``True`` if any."""
        state = self._settings.value(self._key)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._restored = self.horizontalHeader().restoreState(state)
        return self._restored

    def save_settings(self) -> None:
        """Remember the header state."""
        if self.model() is not None:
            self._settings.setValue(self._key, self.horizontalHeader().saveState())
