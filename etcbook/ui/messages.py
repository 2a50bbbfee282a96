"""Message boxes that do not block the event loop (window-modal, opened, deleted on close)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def tell(
    parent: QWidget | None,
    title: str,
    text: str,
    *,
    icon: QMessageBox.Icon = QMessageBox.Icon.Warning,
    details: str = "",
) -> QMessageBox:
    """Show ``text`` in a window-modal box and return at once (the box closes itself)."""
    box = QMessageBox(parent)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(text)
    if details:
        box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box


def told_refusal(parent: QWidget | None, title: str, error: BaseException) -> QMessageBox | None:
    """When ``error`` is a refusal (the database's rules or the user's role, told as the
    sentence of :mod:`etcbook.models.refusals`; a workflow rule; a bad value), show it and
    return the box; else ``None`` (the caller re-raises). Nothing was changed in either case."""
    from etcbook.models.instance import store_problem
    from etcbook.models.workflow import Refused

    sentence = store_problem(error)
    if sentence is None and isinstance(error, Refused | ValueError):
        sentence = str(error)
    if sentence is None:
        return None
    return tell(parent, title, sentence)
