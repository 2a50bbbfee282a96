"""ヘルプ → etcbook について, and the application icon."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from etcbook import __version__
from etcbook.paths import user_data_folder


def test_about_names_version_folders_and_licences(
    make_window, empty_store_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from etcbook.ui.about import AboutDialog

    window = make_window(empty_store_path)
    (about,) = [
        a for a in window.menuBar().actions()[-1].menu().actions() if "について" in a.text()
    ]
    about.trigger()
    (dialog,) = window.findChildren(AboutDialog)
    qtbot.waitExposed(dialog)
    shown = dialog.paths_label.text()
    assert str(user_data_folder()) in shown
    assert str(empty_store_path) in shown
    assert __version__ in dialog.title_label.text()
    licences = dialog.licences.toPlainText()
    for required in (
        "PySide6_Essentials",
        "GNU LESSER GENERAL PUBLIC LICENSE",
        "IPA Font License Agreement v1.0",
        "reportlab",
        "matplotlib",
    ):
        assert required in licences
    dialog.close()


def test_the_application_has_its_icon(qapp) -> None:  # type: ignore[no-untyped-def]
    icon = QApplication.windowIcon()
    assert not icon.isNull()
    assert icon.pixmap(64, 64).width() == 64
