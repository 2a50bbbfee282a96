"""Table building blocks: declared columns, a read-only record model, a view that remembers.

Amounts are right-aligned and formatted (``12,345円``); sorting uses the raw value
(:data:`SORT_ROLE`), never the formatted text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QByteArray,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFontMetricsF, QMouseEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyleOptionHeader,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from etcbook.ui import formatting

R = TypeVar("R")

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""The raw value of a cell (int, date, str) for sorting and tests."""

MAX_FITTED_WIDTH = 480
"""Widening to the content stops here (a long note stays elided, its tooltip shows it)."""

FIT_ROWS = 200

WIDEST_SLACK = 3
"""Texts this many pixels short of a column's widest (font advance) are measured too: the
delegate lays text out itself, and its width may round differently from the advance."""

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
        header_tooltip: what the header means, in plain words (shown on hover).
    """

    title: str
    value: Callable[[R], Any]
    kind: str = "text"
    tooltip: Callable[[R], str | None] | None = None
    colour: Callable[[R], QColor | None] | None = None
    key: str = ""
    header_tooltip: str = ""

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
        if role == Qt.ItemDataRole.ToolTipRole and column.header_tooltip:
            return column.header_tooltip
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


class SortArrowHeader(QHeaderView):
    """A header whose sort arrow points the way spreadsheets do: ▲ ascending, ▼ descending
    (Qt draws them the other way round: newest first showed ▲), and which knows when the
    mouse is pressed on it (:attr:`mouse_down`): a section resized then is the user's drag."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self.mouse_down = False

    def mousePressEvent(self, event: QMouseEvent) -> None:  # Qt override
        self.mouse_down = True
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # Qt override
        self.mouse_down = True  # a double click on a section's edge fits it: the user's choice
        super().mouseDoubleClickEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # Qt override
        try:
            super().mouseReleaseEvent(event)
        finally:
            self.mouse_down = False

    def initStyleOptionForIndex(
        self, option: QStyleOptionHeader, logical_index: int
    ) -> None:  # Qt override
        super().initStyleOptionForIndex(option, logical_index)
        indicator = QStyleOptionHeader.SortIndicator
        if option.sortIndicator == indicator.SortUp:
            option.sortIndicator = indicator.SortDown
        elif option.sortIndicator == indicator.SortDown:
            option.sortIndicator = indicator.SortUp


@runtime_checkable
class CellWidthKeys(Protocol):
    """A model that tells, without Qt, what decides the width of its cells (see
    :meth:`RememberingTableView.sizeHintForColumn`)."""

    def cell_width_keys(
        self, rows: Sequence[int], columns: Sequence[int]
    ) -> list[list[tuple[str, Hashable]]]:
        """Per column of ``columns``, per row of ``rows``: the text shown in the cell and
        whatever else sets its width (a check box, an icon, a font); two cells with equal keys
        are drawn equally wide, and of two with the same second part, the longer text is the
        wider."""
        ...


class RememberingTableView(QTableView):
    """A table view whose column widths, order and sort are kept in QSettings under a key.

    Widths are never saved from an empty table (they would be the headers' widths), and a
    column is never left narrower than its content: when rows arrive, every column the user
    has not resized since is widened to fit its header and the rows in view.
    """

    def __init__(self, settings: QSettings, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        arrows = SortArrowHeader(Qt.Orientation.Horizontal, self)
        arrows.setSectionsClickable(True)  # as QTableView's own header
        self.setHorizontalHeader(arrows)
        self._arrows = arrows
        self._settings = settings
        self._key = f"tables/{key}/header"
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        # Fitting a column reads at most this many rows (a lazy model loads them by the page).
        self.horizontalHeader().setResizeContentsPrecision(FIT_ROWS)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.sectionResized.connect(self._section_resized)
        self._restored = False
        self._fitting = False
        self._resized_by_user: set[int] = set()

    def setModel(self, model: QAbstractItemModel | None) -> None:  # Qt override
        old = self.model()
        if old is not None:
            for signal in (old.modelReset, old.rowsInserted, old.layoutChanged):
                with contextlib.suppress(RuntimeError, TypeError):
                    signal.disconnect(self._fit_to_content)
        super().setModel(model)
        if model is not None:
            model.modelReset.connect(self._fit_to_content)
            model.rowsInserted.connect(self._fit_to_content)
            model.layoutChanged.connect(self._fit_to_content)
            self._fit_to_content()

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        # Fonts and the style sheet apply once the view is polished: widths measured before
        # being shown can be a few pixels short.
        self._fit_to_content()

    def restore_columns(self) -> bool:
        """Apply the remembered header state (call after the model is set); ``True`` if any."""
        state = self._settings.value(self._key)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._fitting = True
            try:
                self._restored = self.horizontalHeader().restoreState(state)
            finally:
                self._fitting = False
            self._fit_to_content()
        return self._restored

    def save_settings(self) -> None:
        """Remember the header state (not from an empty table: its widths are the headers')."""
        model = self.model()
        if model is not None and model.rowCount() > 0:
            self._settings.setValue(self._key, self.horizontalHeader().saveState())

    def resizeColumnsToContents(self) -> None:  # Qt override
        self._fitting = True
        try:
            super().resizeColumnsToContents()
        finally:
            self._fitting = False

    def content_width(self, column: int) -> int:
        """The width column ``column`` needs for its header and the rows in view."""
        return max(self.sizeHintForColumn(column), self.horizontalHeader().sectionSizeHint(column))

    def sizeHintForColumn(self, column: int) -> int:  # Qt override
        """Qt's own width hint for ``column`` (see :meth:`size_hints_for_columns`)."""
        if not self._measures_quickly():
            return super().sizeHintForColumn(column)
        return self.size_hints_for_columns([column])[column]

    def _measures_quickly(self) -> bool:
        return isinstance(self.model(), CellWidthKeys) and not self.rootIndex().isValid()

    def size_hints_for_columns(self, columns: Sequence[int]) -> dict[int, int]:
        """QTableView.sizeHintForColumn of each of ``columns``, found without asking the
        delegate for every row when the model tells what sets its cells' widths.

        Qt measures the cells of up to :data:`FIT_ROWS` rows through the delegate (a model's
        ``data`` runs some eight times per cell: 200 rows × 16 columns of the trips table cost
        a second on each model reset). A model with ``cell_width_keys`` tells each cell's text
        and what else sets its width; only the cells whose text is the widest for their key's
        second part (by font advance, within :data:`WIDEST_SLACK` pixels) go through the
        delegate, over the same rows Qt would read. The result is Qt's own figure.
        """
        model = self.model()
        if not self._measures_quickly():
            return {column: QTableView.sizeHintForColumn(self, column) for column in columns}
        assert isinstance(model, CellWidthKeys)
        self.ensurePolished()
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        metrics = QFontMetricsF(option.font)
        grid = 1 if self.showGrid() else 0
        rows = self._rows_qt_measures()
        hints: dict[int, int] = {}
        for column, keys in zip(columns, model.cell_width_keys(rows, columns), strict=True):
            widest: dict[Hashable, float] = {}
            measured: set[tuple[str, Hashable]] = set()
            # A text's laid-out width is its advance and, past its last glyph, that glyph's
            # overhang: texts of equal advance ending in the same character are equally wide.
            shapes: dict[tuple[float, str, Hashable], int] = {}
            for row, key in zip(rows, keys, strict=True):
                if key in measured:
                    continue
                measured.add(key)
                text, extra = key
                for line in text.split("\n"):
                    advance = metrics.horizontalAdvance(line)
                    shapes.setdefault((advance, line[-1:], extra), row)
                    if advance > widest.get(extra, -1.0):
                        widest[extra] = advance
            hint = 0
            for (advance, _last, extra), row in shapes.items():
                if advance >= widest[extra] - WIDEST_SLACK:
                    index = model.index(row, column)
                    width = self.itemDelegateForIndex(index).sizeHint(option, index).width()
                    hint = max(hint, width)
            hints[column] = hint + grid
        return hints

    def _rows_qt_measures(self) -> list[int]:
        """The rows QTableView.sizeHintForColumn reads, in its order: those in view, then
        alternately below and above them, up to the header's resize-contents precision."""
        model = self.model()
        rows_header = self.verticalHeader()
        most = self.horizontalHeader().resizeContentsPrecision()
        top = max(0, rows_header.visualIndexAt(0))
        bottom = rows_header.visualIndexAt(self.viewport().height())
        last = model.rowCount(self.rootIndex()) - 1
        if not self.isVisible() or bottom == -1:
            bottom = last
        if not rows_header.sectionsMoved() and not rows_header.sectionsHidden():
            return _rows_around(top, bottom, last, most)
        return qt_fitting_rows(
            top, bottom, last, most, rows_header.logicalIndex, rows_header.isSectionHidden
        )

    def _section_resized(self, section: int, _old: int, _new: int) -> None:
        # A width the page sets is a default; one dragged on the header is the user's choice.
        # (Not any mouse button held anywhere: a page that sets its defaults while a click is
        # in progress elsewhere would have them kept as the user's, never widened to fit.)
        if not self._fitting and self._arrows.mouse_down:
            self._resized_by_user.add(section)

    def _fit_to_content(self, *_args: object) -> None:
        """Widen every column the user has not resized to its content (never narrow one); an
        empty table's columns to their headers."""
        model = self.model()
        if model is None:
            return
        header = self.horizontalHeader()
        empty = model.rowCount() == 0
        fitted = [
            column
            for column in range(model.columnCount())
            if column not in self._resized_by_user and not header.isSectionHidden(column)
        ]
        # Wrapped text needs only its header's width; amounts never wrap.
        by_content = [
            column
            for column in fitted
            if not empty and not (self.wordWrap() and not _is_amount_column(model, column))
        ]
        contents = self.size_hints_for_columns(by_content)  # every column at once
        self._fitting = True
        try:
            for column in fitted:
                needed = min(
                    max(contents.get(column, 0), header.sectionSizeHint(column)),
                    MAX_FITTED_WIDTH,
                )
                if header.sectionSize(column) < needed:
                    header.resizeSection(column, needed)
        finally:
            self._fitting = False
        if self.wordWrap():
            self.resizeRowsToContents()


def qt_fitting_rows(
    top: int,
    bottom: int,
    last: int,
    most: int,
    logical: Callable[[int], int],
    hidden: Callable[[int], bool],
) -> list[int]:
    """The rows (logical) that QTableView.sizeHintForColumn reads, in its order: the visual
    rows ``top`` to ``bottom`` (those in view), then alternately one below and one above, up to
    ``last``, ``most`` in all (0: those in view only), skipping hidden rows (qtableview.cpp)."""
    rows: list[int] = []
    row = top
    while row <= bottom:
        found = logical(row)
        if not hidden(found):
            rows.append(found)
            if len(rows) == most:
                break
        row += 1
    above, below = top, row - 1
    processed = 0 if most == 0 else len(rows)
    while processed != most and (above > 0 or below < last):
        found = -1
        if (processed % 2 and above > 0) or below == last:
            while above > 0:
                above -= 1
                if not hidden(logical(above)):
                    found = logical(above)
                    break
        else:
            while below < last:
                below += 1
                if not hidden(logical(below)):
                    found = logical(below)
                    break
        if found < 0:
            continue
        rows.append(found)
        processed += 1
    return rows


def _rows_around(top: int, bottom: int, last: int, most: int) -> list[int]:
    """:func:`qt_fitting_rows` when every row is shown in model order (no header look-ups)."""
    if most < 0:  # no limit
        most = last + 1
    if most == 0:
        return list(range(top, bottom + 1))
    rows = list(range(top, min(bottom, top + most - 1) + 1))
    above, below = top, rows[-1] if rows else top - 1
    while len(rows) < most and (above > 0 or below < last):
        if (len(rows) % 2 and above > 0) or below == last:
            above -= 1
            rows.append(above)
        else:
            below += 1
            rows.append(below)
    return rows


def _is_amount_column(model: QAbstractItemModel, column: int) -> bool:
    """A column of numbers (right-aligned): its cells never wrap."""
    alignment = model.headerData(
        column, Qt.Orientation.Horizontal, Qt.ItemDataRole.TextAlignmentRole
    )
    return bool(alignment) and bool(Qt.AlignmentFlag(alignment) & Qt.AlignmentFlag.AlignRight)
