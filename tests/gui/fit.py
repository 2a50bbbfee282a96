"""Does every visible text fit its widget? Font metrics against widths, for the fit tests.

Checked: labels (each line, or the wrapped height), buttons and check boxes (their size hint),
combo boxes, tab titles, table headers (each visible section) and the cells of the rows in
view (a column's content width). A column capped at the widening limit keeps long free text
elided on purpose (its tooltip shows it) and is not checked.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QTableView,
    QTreeView,
    QWidget,
)

from etcbook.ui.tables import MAX_FITTED_WIDTH

SLACK = 2
"""Pixels of rounding forgiven."""


def _shown(widget: QWidget, top: QWidget) -> bool:
    return widget.isVisibleTo(top) and widget.isVisible() and widget.width() > 0


def _name(widget: QWidget) -> str:
    return f"{type(widget).__name__}({widget.objectName() or ''})"


def _label_problem(label: QLabel) -> str | None:
    text = label.text()
    if not text or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    if label.textFormat() == Qt.TextFormat.RichText or "<" in text:
        needed = label.sizeHint()
        if label.wordWrap():
            height = label.heightForWidth(label.contentsRect().width())
            if height > label.contentsRect().height() + SLACK:
                return f"{text[:40]!r}: needs {height}px high, has {label.contentsRect().height()}"
            return None
        if needed.width() > label.width() + SLACK:
            return f"{text[:40]!r}: needs {needed.width()}px, has {label.width()}"
        return None
    metrics = label.fontMetrics()
    inner = label.contentsRect().width() - 2 * label.margin() - label.indent() * 0
    if label.wordWrap():
        height = label.heightForWidth(label.contentsRect().width())
        if height > label.contentsRect().height() + SLACK:
            return f"{text[:40]!r}: needs {height}px high, has {label.contentsRect().height()}"
        return None
    for line in text.split("\n"):
        needed = metrics.horizontalAdvance(line)
        if needed > inner + SLACK:
            return f"{line[:40]!r}: needs {needed}px, has {inner}"
    return None


def _table_problems(view: QTableView) -> list[str]:
    problems = []
    model = view.model()
    if model is None:
        return problems
    header = view.horizontalHeader()
    last = header.logicalIndex(header.count() - 1)
    for column in range(model.columnCount()):
        if header.isSectionHidden(column):
            continue
        width = header.sectionSize(column)
        title = model.headerData(column, Qt.Orientation.Horizontal)
        if header.isVisible() and header.sectionSizeHint(column) > width + SLACK:
            problems.append(
                f"header {title!r}: needs {header.sectionSizeHint(column)}, has {width}"
            )
        if model.rowCount() == 0:
            continue
        alignment = model.headerData(
            column, Qt.Orientation.Horizontal, Qt.ItemDataRole.TextAlignmentRole
        )
        amount = bool(alignment) and bool(Qt.AlignmentFlag(alignment) & Qt.AlignmentFlag.AlignRight)
        if view.wordWrap() and not amount:  # wrapped text: the rows must be tall enough instead
            continue
        needed = view.sizeHintForColumn(column)
        if needed >= MAX_FITTED_WIDTH:
            continue
        if column == last and header.stretchLastSection():
            width = max(width, view.viewport().width() - header.sectionPosition(column))
        if needed > width + SLACK:
            problems.append(f"cells of {title!r}: need {needed}, have {width}")
    if view.wordWrap() and model.rowCount():
        top = max(0, view.rowAt(0))
        bottom = view.rowAt(view.viewport().height() - 1)
        bottom = model.rowCount() - 1 if bottom < 0 else bottom
        for row in range(top, bottom + 1):
            if view.sizeHintForRow(row) > view.rowHeight(row) + SLACK:
                problems.append(
                    f"row {row}: needs {view.sizeHintForRow(row)}px high, has {view.rowHeight(row)}"
                )
    return problems


def misfits(top: QWidget) -> list[str]:
    """Every visible text under ``top`` that does not fit, as ``Widget: what`` lines."""
    problems: list[str] = []
    for widget in [top, *top.findChildren(QWidget)]:
        if not _shown(widget, top):
            continue
        where = _name(widget)
        if isinstance(widget, QLabel):
            problem = _label_problem(widget)
            if problem:
                problems.append(f"{where}: {problem}")
        elif isinstance(widget, QAbstractButton) and widget.text():
            if widget.sizeHint().width() > widget.width() + SLACK:
                problems.append(
                    f"{where} {widget.text()!r}: needs {widget.sizeHint().width()}px,"
                    f" has {widget.width()}"
                )
        elif isinstance(widget, QLineEdit) and not widget.text() and widget.placeholderText():
            # An empty field says what it is for; a field too narrow for that is unusable.
            needed = widget.fontMetrics().horizontalAdvance(widget.placeholderText()) + 12
            if needed > widget.width() + SLACK:
                problems.append(
                    f"{where} {widget.placeholderText()!r}: needs {needed}px, has {widget.width()}"
                )
        elif isinstance(widget, QComboBox) and widget.currentText():
            # The shown text against the field the style leaves beside the drop-down arrow.
            option = QStyleOptionComboBox()
            widget.initStyleOption(option)
            field = widget.style().subControlRect(
                QStyle.ComplexControl.CC_ComboBox,
                option,
                QStyle.SubControl.SC_ComboBoxEditField,
                widget,
            )
            needed = widget.fontMetrics().horizontalAdvance(widget.currentText())
            if needed > field.width() + SLACK:
                problems.append(
                    f"{where} {widget.currentText()!r}: needs {needed}px, has {field.width()}"
                )
        elif isinstance(widget, QTabBar):
            for index in range(widget.count()):
                if widget.tabRect(index).width() < widget.tabSizeHint(index).width() - SLACK:
                    problems.append(f"{where} tab {widget.tabText(index)!r} is cut")
        elif isinstance(widget, QTableView):
            problems.extend(f"{where}: {p}" for p in _table_problems(widget))
        elif isinstance(widget, QTreeView) and widget.model() is not None:
            header = widget.header()
            for column in range(widget.model().columnCount()):
                if header.isSectionHidden(column):
                    continue
                needed = max(widget.sizeHintForColumn(column), header.sectionSizeHint(column))
                last = column == widget.model().columnCount() - 1 and header.stretchLastSection()
                if not last and needed > header.sectionSize(column) + SLACK:
                    title = widget.model().headerData(column, Qt.Orientation.Horizontal)
                    problems.append(
                        f"{where}: column {title!r} needs {needed}, has {header.sectionSize(column)}"
                    )
        elif isinstance(widget, QAbstractItemView | QHeaderView):
            continue
    return problems
