"""The window on Windows and macOS: dialogs start in the user's folders, a file held open by
another program is a sentence in a box, a restore that fails part-way says what is true, a
store in a synced folder is warned about once, previews are sharp on scaled screens."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QPixmap
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from etcbook.safeio import FILE_IN_USE, write_bytes_atomically
from etcbook.ui.fonts import system_ui_family
from etcbook.ui.theme import LIGHT_ONLY_STYLES


def shown_boxes(window: Any) -> list[QMessageBox]:
    return [
        widget
        for widget in QApplication.topLevelWidgets()
        if isinstance(widget, QMessageBox) and widget.isVisible() and widget.window() is not window
    ]


@pytest.fixture(autouse=True)
def _close_message_boxes():  # type: ignore[no-untyped-def]
    yield
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox):
            widget.close()


def refuse_replace(monkeypatch: pytest.MonkeyPatch, refused: Any) -> None:
    real = os.replace

    def replace(source: Any, target: Any) -> None:
        if refused(Path(source), Path(target)):
            raise PermissionError(13, "Access is denied", str(source), None, str(target))
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)


def capture_dialog(monkeypatch: pytest.MonkeyPatch, name: str, answer: Any) -> list[str]:
    """Replace ``QFileDialog.<name>``; return the folders it was asked to start in."""
    asked: list[str] = []

    def dialog(_parent: Any, _title: str, folder: str = "", *_rest: Any) -> Any:
        asked.append(folder)
        return answer

    monkeypatch.setattr(QFileDialog, name, staticmethod(dialog))
    return asked


def documents() -> Path:
    return Path(
        QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        or Path.home()
    )


# -- dialogs start in the user's folders, never System32 or / ---------------------------------


def test_claim_export_folder_dialog_starts_in_documents_then_the_last_folder(  # type: ignore[no-untyped-def]
    demo_window, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir("/")  # as when started from the Start menu or Finder
    demo_window.show_page("claims")
    page = demo_window.page_widget("claims")
    chosen = tmp_path / "経理#2"
    chosen.mkdir()
    asked = capture_dialog(monkeypatch, "getExistingDirectory", str(chosen))
    monkeypatch.setattr(page, "export_to", lambda folder: None)
    page._choose_folder_and_export()
    page._choose_folder_and_export()
    assert Path(asked[0]) == documents() and Path(asked[0]).is_absolute()
    assert Path(asked[1]) == chosen


def test_evidence_dialog_starts_in_documents(  # type: ignore[no-untyped-def]
    demo_window, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    demo_window.show_page("evidence")
    page = demo_window.page_widget("evidence")
    asked = capture_dialog(monkeypatch, "getOpenFileNames", ([], ""))
    page._choose_files()
    assert asked and Path(asked[0]) == documents()


def test_memo_pdf_dialog_offers_a_full_path_and_a_held_file_is_a_sentence(  # type: ignore[no-untyped-def]
    demo_window, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir("/")
    demo_window.show_page("reconcile")
    page = demo_window.page_widget("reconcile")
    target = tmp_path / "問い合わせメモ.pdf"
    target.write_bytes(b"%PDF old")
    asked = capture_dialog(monkeypatch, "getSaveFileName", (str(target), ""))
    warned: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _p, _t, text, *_a: warned.append(text))
    )
    # The PDF is written as write_memo_pdf does (atomically), without a month reconciled.
    monkeypatch.setattr(page, "save_memo_pdf", lambda path: write_bytes_atomically(path, b"%PDF"))
    refuse_replace(monkeypatch, lambda _s, t: t == target)  # open in Acrobat
    page._ask_and_save_memo_pdf()
    assert Path(asked[0]) == documents() / "問い合わせメモ.pdf"
    assert warned and FILE_IN_USE in warned[0]
    assert target.read_bytes() == b"%PDF old"


# -- a claim whose CSV is open in Excel --------------------------------------------------------


def test_re_exporting_a_claim_whose_csv_is_open_says_so_in_a_box(  # type: ignore[no-untyped-def]
    demo_window, qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    demo_window.show_page("claims")
    page = demo_window.page_widget("claims")
    page.select_card("9012")
    page.date_from.setDate(QDate(2026, 9, 1))
    page.date_to.setDate(QDate(2026, 9, 30))
    page.load()
    out = tmp_path / "精算 #1"
    page.export_to(out)
    qtbot.waitUntil(lambda: page.last_outputs is not None, timeout=20_000)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(opened.append))
    page.open_folder()  # 開く: the folder with '#' and a space reaches Explorer whole
    assert [Path(url.toLocalFile()) for url in opened] == [out]

    refuse_replace(monkeypatch, lambda _s, t: t.suffix == ".csv")
    page.lines.set_chosen(0, not page.lines.chosen()[0] if page.lines.chosen() else True)
    page.export_to(out)
    qtbot.waitUntil(lambda: getattr(page, "in_use_box", None) is not None, timeout=20_000)
    assert FILE_IN_USE in page.in_use_box.text()
    assert "WinError" not in page.result.text()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert page.export_button.isEnabled()


# -- moving an open evidence file to the trash -------------------------------------------------


def test_removing_an_open_evidence_file_is_a_sentence(  # type: ignore[no-untyped-def]
    demo_window, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_window.show_page("evidence")
    page = demo_window.page_widget("evidence")
    kept = page.documents.rowCount()
    document = page.documents.record(0)
    warned: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _p, _t, text, *_a: warned.append(text))
    )
    refuse_replace(monkeypatch, lambda _s, t: "_trash" in t.parts)
    page.remove(document.id, "別のカードの明細だった")
    assert warned == [f"{document.path.name}: {FILE_IN_USE}。"]
    assert page.documents.rowCount() == kept
    assert document.path.is_file()


# -- a restore whose vault move fails ----------------------------------------------------------


def test_a_restore_that_fails_while_swapping_keeps_the_data_and_says_so(  # type: ignore[no-untyped-def]
    demo_window, qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from etcbook.models.backup import create_backup
    from etcbook.models.vault import vault_path_for

    window = demo_window
    store = window.context.db_path
    archive = tmp_path / "b #1.zip"
    create_backup(window.context.store, archive)
    vault_folder = vault_path_for(store)
    vault = {p: p.read_bytes() for p in vault_folder.rglob("*") if p.is_file()}
    assert vault, f"the demo store has no files in {vault_folder}"
    refuse_replace(monkeypatch, lambda s, t: ".etcbook-backup-" in str(s) and t == vault_folder)
    old_context = window.context
    window.backup_flow.restore(archive)
    qtbot.waitUntil(lambda: "戻せませんでした" in window.backup_flow.last_message, timeout=30_000)
    assert "いまのデータはそのままです" in window.backup_flow.last_message
    assert FILE_IN_USE in window.backup_flow.last_message
    qtbot.waitUntil(
        lambda: window.context is not old_context and window.context.is_open, timeout=30_000
    )
    assert {p: p.read_bytes() for p in vault_folder.rglob("*") if p.is_file()} == vault


# -- a store in a synced folder: warned once ---------------------------------------------------


def test_a_store_in_onedrive_is_warned_about_once(  # type: ignore[no-untyped-def]
    make_window, qtbot, demo_store_path: Path, tmp_path: Path
) -> None:
    synced = tmp_path / "OneDrive" / "帳簿" / "etcbook.sqlite3"
    synced.parent.mkdir(parents=True)
    shutil.move(demo_store_path, synced)
    window = make_window(synced)
    qtbot.waitUntil(lambda: window.location_warning is not None, timeout=10_000)
    first = window.location_warning
    assert "OneDrive" in first.text() and "-wal" in first.text()
    first.close()
    window.location_warning = None
    window._store_opened()  # the store opened again (after a restore, a switch back)
    assert window.location_warning is None


def test_a_local_store_gets_no_warning(demo_window) -> None:  # type: ignore[no-untyped-def]
    assert demo_window.location_warning is None


# -- sharp previews on scaled screens; native fonts and dark mode ------------------------------


def test_previews_are_rendered_at_the_screens_pixel_ratio(tmp_path: Path) -> None:
    from etcbook.ui.views.evidence import render_preview

    image = QImage(800, 400, QImage.Format.Format_RGB32)
    image.fill(0xFFFFFF)
    picture = tmp_path / "スクリーンショット #1.png"
    assert image.save(str(picture), "PNG")  # type: ignore[call-overload]
    shown = render_preview(picture, 300, pixel_ratio=2.0)
    assert isinstance(shown, QPixmap)
    assert shown.width() == 600 and shown.devicePixelRatio() == 2.0
    assert shown.deviceIndependentSize().width() == 300


def test_windows_and_macos_use_their_own_japanese_ui_font() -> None:
    available = ["Arial", "Meiryo UI", "Yu Gothic UI", "IPAexGothic"]
    assert system_ui_family(available, "win32") == "Yu Gothic UI"
    assert system_ui_family(["Hiragino Sans"], "darwin") == "Hiragino Sans"
    assert system_ui_family(available, "linux") is None  # IPAexGothic there
    assert system_ui_family(["Arial"], "win32") is None


def test_a_light_only_style_is_left_for_fusion_in_dark_mode(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etcbook.ui import theme

    style, palette = qapp.style().name(), qapp.palette()
    assert "windowsvista" in LIGHT_ONLY_STYLES
    qapp.setStyle("Windows")  # Qt's own light-only style, present on every system
    monkeypatch.setattr(theme, "system_prefers_dark", lambda: True)
    try:
        theme.apply_system_palette(qapp)
        assert qapp.style().name().lower() == "fusion"
        assert theme.palette_is_dark(qapp.palette())
    finally:
        qapp.setStyle(style)
        qapp.setPalette(palette)
