"""A table model that fetches its rows from the store a page at a time.

The model holds only the ordered keys of the rows the filter matches (one integer per row,
fetched by one indexed query) and a small cache of fetched pages. A row's fields are read
from the store when the view first paints it (``WHERE id IN (…)`` of one page), so a table of
100,000 trips costs a few hundred kilobytes and scrolls anywhere at once, and a selection of
any size maps to trip ids without fetching the rows.

A view asks ``data`` some eight roles per cell each time it paints or measures one; what a cell
shows (text, alignment, check box, no font or icon) is worked out once per fetched row and kept
with its page (:meth:`LazyRecordModel.paint_roles`), so a repaint is dictionary look-ups.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Final, Generic, Protocol, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from etcbook.ui.tables import SORT_ROLE, Column, column_header

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
AnyIndex = QModelIndex | QPersistentModelIndex

PAGE_SIZE = 256
CACHED_PAGES = 64


class RowFetcher(Protocol[R_co]):
    """Reads the records of the given keys, in any order, keyed by their key."""

    def __call__(self, keys: Sequence[int]) -> Mapping[int, R_co]: ...


PAINTED_ROLES: Final = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.FontRole,
    Qt.ItemDataRole.TextAlignmentRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.BackgroundRole,
    Qt.ItemDataRole.CheckStateRole,
    Qt.ItemDataRole.SizeHintRole,
)
"""The roles a view's delegate reads to paint or measure a cell."""

_LIVE: Final = object()
"""A role a cell does not keep: :meth:`LazyRecordModel.live_data` answers it each time."""


class _Page(Generic[R]):
    """Fetched rows: their records, and what each cell shows once worked out."""

    __slots__ = ("cells", "records")

    def __init__(self, records: list[R | None]) -> None:
        self.records = records
        self.cells: dict[int, dict[int, Any]] = {}


class LazyRecordModel(QAbstractTableModel, Generic[R]):
    """Rows = an ordered key list; cells = records fetched a page at a time, cached (LRU)."""

    def __init__(
        self,
        columns: Sequence[Column[R]],
        fetch: RowFetcher[R],
        parent: Any = None,
        *,
        page_size: int = PAGE_SIZE,
        cached_pages: int = CACHED_PAGES,
    ) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._fetch = fetch
        self._keys: array[int] = array("q")
        self._pages: OrderedDict[int, _Page[R]] = OrderedDict()
        self._row_of: dict[int, int] | None = None
        self._recent = -1
        """The page last read by :meth:`data` (the most recently used: no LRU move needed)."""
        self._page_size = page_size
        self._cached_pages = cached_pages
        self.fetch_count = 0
        """How many page fetches ran (tests check that scrolling does not fetch everything)."""
        self.editor: Callable[[list[int], int, Any], bool] | None = None
        """``editor(keys, column, value)`` writes an edit; set by the page for editable columns."""
        self.editable_columns: frozenset[int] = frozenset()
        self.sorter: Callable[[int, Qt.SortOrder], None] | None = None
        """``sorter(column, order)`` re-queries the keys sorted; set by the page."""

    # -- keys ----------------------------------------------------------------------------------

    @property
    def page_size(self) -> int:
        """How many rows one fetch reads."""
        return self._page_size

    def set_keys(
        self, keys: Sequence[int] | array[int], *, first_page: Mapping[int, R] | None = None
    ) -> None:
        """Show the rows of ``keys``, in this order (drops the cache). ``first_page``: the
        records of the first :attr:`page_size` keys, read already (with the keys), by key."""
        self.beginResetModel()
        self._keys = keys if isinstance(keys, array) else array("q", keys)
        self._pages.clear()
        self._row_of = None
        if first_page is not None:
            self._keep_page(0, first_page)
        self.endResetModel()

    def refetch(self, *, first_page: Mapping[int, R] | None = None) -> None:
        """Forget the cached rows (the store changed) and repaint what is visible.
        ``first_page``: as for :meth:`set_keys`."""
        self._pages.clear()
        if first_page is not None:
            self._keep_page(0, first_page)
        if self._keys:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._keys) - 1, len(self._columns) - 1)
            )

    def refetch_keys(self, keys: set[int]) -> None:
        """Forget the cached pages holding ``keys`` and repaint those rows."""
        if self._row_of is None:
            self._row_of = {key: row for row, key in enumerate(self._keys)}
        rows = sorted(self._row_of[key] for key in keys if key in self._row_of)
        for page in {row // self._page_size for row in rows}:
            self._pages.pop(page, None)
        for row in rows:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self._columns) - 1))

    def key(self, row: int) -> int:
        return self._keys[row]

    @property
    def keys(self) -> array[int]:
        return self._keys

    def record(self, row: int) -> R | None:
        """The record shown at ``row`` (fetched with its page if needed)."""
        return self._page(row // self._page_size).records[row % self._page_size]

    def _page(self, page_number: int) -> _Page[R]:
        self._recent = -1  # another page may be the most recently used now
        page = self._pages.get(page_number)
        if page is None:
            return self._load_page(page_number)
        self._pages.move_to_end(page_number)
        return page

    def cached(self, key: int) -> R | None:
        """The record of ``key`` if its page is held (no fetch): what the user was shown."""
        if self._row_of is None:
            self._row_of = {k: row for row, k in enumerate(self._keys)}
        row = self._row_of.get(key)
        if row is None:
            return None
        page = self._pages.get(row // self._page_size)
        return None if page is None else page.records[row % self._page_size]

    def _load_page(self, page_number: int) -> _Page[R]:
        start = page_number * self._page_size
        return self._keep_page(
            page_number, self._fetch(self._keys[start : start + self._page_size])
        )

    def _keep_page(self, page_number: int, found: Mapping[int, R]) -> _Page[R]:
        start = page_number * self._page_size
        self.fetch_count += 1
        page = _Page([found.get(key) for key in self._keys[start : start + self._page_size]])
        self._pages[page_number] = page
        while len(self._pages) > self._cached_pages:
            self._pages.popitem(last=False)
        return page

    # -- what a cell shows ---------------------------------------------------------------------

    def display_text(self, record: R, column: int) -> str:
        """The text of ``record``'s cell in ``column`` (its DisplayRole)."""
        declared = self._columns[column]
        return "" if declared.kind == "bool" else declared.display(record)

    def has_check_box(self, record: R, column: int) -> bool:
        """Whether ``record``'s cell in ``column`` shows a check box (a CheckStateRole)."""
        return self._columns[column].kind == "bool"

    def cell_width_keys(
        self, rows: Sequence[int], columns: Sequence[int]
    ) -> list[list[tuple[str, Hashable]]]:
        """The text and check box of each row's cell in each of ``columns``: what sets its
        width (:class:`etcbook.ui.tables.CellWidthKeys`; the cells set no font, icon or size)."""
        records = [self.record(row) for row in rows]
        display, check = self.display_text, self.has_check_box
        return [
            [("", False) if r is None else (display(r, c), check(r, c)) for r in records]
            for c in columns
        ]

    # -- Qt model ------------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._columns)

    def paint_roles(self, record: R | None, column: int) -> dict[int, Any]:
        """What the cell of ``record`` in ``column`` shows, by role, kept with its page.

        A role left out is asked of :meth:`live_data` each time: leave out what can change
        while the row is held, such as a colour that follows the palette (light or dark)."""
        declared = self._columns[column]
        roles: dict[int, Any] = dict.fromkeys(PAINTED_ROLES)
        roles[Qt.ItemDataRole.TextAlignmentRole] = declared.alignment
        if record is None:  # deleted since the keys were read
            return roles
        roles[Qt.ItemDataRole.DisplayRole] = self.display_text(record, column)
        if self.has_check_box(record, column):
            checked = bool(declared.value(record))
            state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
            roles[Qt.ItemDataRole.CheckStateRole] = state
        if declared.colour is not None:
            del roles[Qt.ItemDataRole.BackgroundRole]
        return roles

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The hot path of every repaint (some 2,000 calls): few calls of its own.
        row = index.row()
        if row < 0:  # an invalid index
            return None
        number, offset = divmod(row, self._page_size)
        page = self._pages.get(number)
        if page is None or number != self._recent:
            page = self._page(number)
            self._recent = number
        column = index.column()
        cell = page.cells.get(offset * len(self._columns) + column)
        if cell is None:
            cell = page.cells[offset * len(self._columns) + column] = self.paint_roles(
                page.records[offset], column
            )
        value = cell.get(role, _LIVE)
        return self.live_data(index, role) if value is _LIVE else value

    def live_data(self, index: AnyIndex, role: int) -> Any:
        """A role :meth:`paint_roles` does not keep (edit and sort values, tooltips, colours)."""
        column = self._columns[index.column()]
        if role not in (
            Qt.ItemDataRole.EditRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.BackgroundRole,
            SORT_ROLE,
        ):
            return None
        record = self.record(index.row())
        if record is None:  # deleted since the keys were read
            return None
        if role in (Qt.ItemDataRole.EditRole, SORT_ROLE):
            value = column.value(record)
            return value if isinstance(value, int | str | bool) or value is None else str(value)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(record)
        if role == Qt.ItemDataRole.BackgroundRole and column.colour is not None:
            return column.colour(record)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return column_header(self._columns, section, orientation, role)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.editor is not None and index.column() in self.editable_columns:
            if self._columns[index.column()].kind == "bool":
                flags |= Qt.ItemFlag.ItemIsUserCheckable
            else:
                flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role == Qt.ItemDataRole.CheckStateRole and index.isValid():
            if self._columns[index.column()].kind != "bool":
                return False
            checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2, True)
            return self.setData(index, checked, Qt.ItemDataRole.EditRole)
        if (
            role != Qt.ItemDataRole.EditRole
            or not index.isValid()
            or self.editor is None
            or index.column() not in self.editable_columns
        ):
            return False
        key = self._keys[index.row()]
        if not self.editor([key], index.column(), value):
            return False
        self.refetch_keys({key})
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Ask :attr:`sorter` to re-query the keys in another order (the store sorts)."""
        if self.sorter is not None:
            self.sorter(column, order)
