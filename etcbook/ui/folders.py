"""Where the window's file dialogs start: the folder used last for that job, else Documents.

Started from the Start menu or Finder, the working directory is ``C:\\Windows\\System32``, the
virtual environment's ``Scripts`` folder or ``/``; a dialog given no folder opens there and a
file saved there fails. Every dialog therefore gets a real folder of the user's.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths


def documents_folder() -> str:
    """The user's Documents folder (on Windows it follows a move to OneDrive), else home."""
    return QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation
    ) or str(Path.home())


def start_folder(settings: QSettings, key: str) -> str:
    """The folder remembered under ``key`` when it still exists, else Documents."""
    remembered = str(settings.value(key, "", str) or "")
    if remembered and Path(remembered).is_dir():
        return remembered
    return documents_folder()


def remember_folder(settings: QSettings, key: str, folder: Path | str) -> None:
    """Start the next dialog for ``key`` in ``folder``."""
    settings.setValue(key, str(folder))
