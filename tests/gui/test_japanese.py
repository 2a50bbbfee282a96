"""Qt's own words are Japanese: file dialogs, text fields' context menus, standard buttons."""

from __future__ import annotations

import re

from PySide6.QtCore import QLibraryInfo
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QLabel, QLineEdit, QMessageBox

ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


def _english(texts: list[str]) -> list[str]:
    # Shortcut names (Ctrl+Z) and "OK" are what Japanese Windows shows too.
    return [
        text for text in texts if ENGLISH_WORD.search(re.sub(r"\t.*|\(&\w\)|&|\bOK\b", "", text))
    ]


def test_qt_ships_its_japanese_catalogue() -> None:
    from pathlib import Path

    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    assert (folder / "qtbase_ja.qm").is_file()


def test_text_field_menu_is_japanese(qtbot) -> None:
    edit = QLineEdit()
    qtbot.addWidget(edit)
    menu = edit.createStandardContextMenu()
    texts = [action.text() for action in menu.actions() if action.text()]
    assert any("コピー" in text for text in texts)
    assert _english(texts) == []


def test_file_dialog_is_japanese(qtbot) -> None:
    dialog = QFileDialog(None, "明細CSVを取り込む")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    qtbot.addWidget(dialog)
    labels = [dialog.labelText(label) for label in QFileDialog.DialogLabel]
    buttons = [button.text() for button in dialog.findChildren(QDialogButtonBox)[0].buttons()]
    tooltips = [w.toolTip() for w in dialog.findChildren(QLabel) if w.toolTip()]
    assert _english(labels + buttons + tooltips) == []
    assert "ファイル名" in dialog.labelText(QFileDialog.DialogLabel.FileName)


def test_standard_buttons_are_japanese(qtbot) -> None:
    box = QMessageBox(QMessageBox.Icon.Question, "etcbook", "?")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    qtbot.addWidget(box)
    assert _english([button.text() for button in box.buttons()]) == []
