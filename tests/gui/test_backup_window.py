"""The window's side of issue 8: one window per store, backup and restore, the monthly reminder."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from etcbook.models.backup import check_backup, last_backup, last_backup_path
from etcbook.models.store import sqlite_uri

ROOT = Path(__file__).resolve().parents[2]


def trip_count(store: Path) -> int:
    db = sqlite3.connect(sqlite_uri(store, read_only=True), uri=True)
    try:
        return db.execute("SELECT count(*) FROM trips").fetchone()[0]
    finally:
        db.close()


def card_notes(store: Path) -> list[tuple[str]]:
    db = sqlite3.connect(sqlite_uri(store, read_only=True), uri=True)
    try:
        return db.execute("SELECT notes FROM cards ORDER BY id").fetchall()
    finally:
        db.close()


def vault_hashes(store: Path) -> dict[str, str]:
    vault = store.parent / "ETC"
    return {
        p.relative_to(vault).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(vault.rglob("*"))
        if p.is_file()
    }


def add_statement(window, tmp_path: Path, name: str, month: str) -> None:  # type: ignore[no-untyped-def]
    from etcbook.models.vault import add_document

    source = tmp_path / name
    source.write_bytes(f"%PDF-1.4\n% {name}\n%%EOF\n".encode())
    add_document(
        store=window.context.store, source=source, kind="statement", card="1234", month=month
    )


def idle(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)


def open_message_box(qtbot, window) -> QMessageBox:  # type: ignore[no-untyped-def]
    """The message box ``window`` shows (waits for it)."""
    boxes: list[QMessageBox] = []

    def found() -> bool:
        boxes[:] = [
            widget
            for widget in QApplication.topLevelWidgets()
            if isinstance(widget, QMessageBox)
            and widget.parentWidget() is window
            and widget.isVisible()
        ]
        return bool(boxes)

    qtbot.waitUntil(found, timeout=30_000)
    return boxes[0]


def back_up(qtbot, window, archive: Path) -> Path:  # type: ignore[no-untyped-def]
    """Back the window's store up to ``archive`` as the menu does; close the report."""
    window.backup_flow.back_up_to(archive)
    assert "バックアップを保存しました" in open_message_box(qtbot, window).text()
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.parentWidget() is window:
            widget.close()
    return archive


@pytest.fixture(autouse=True)
def _close_message_boxes():  # type: ignore[no-untyped-def]
    yield
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox):
            widget.close()


# -- one window per store ----------------------------------------------------------------------


def test_a_second_window_on_the_same_store_says_it_is_open_elsewhere(
    qtbot, make_window, demo_store_path: Path
) -> None:
    first = make_window(demo_store_path)
    assert first.context.is_open and first.context.claim is not None

    second = make_window(demo_store_path)
    assert not second.context.is_open
    loading = second._loading
    assert second._stack.currentWidget() is loading
    assert "すでに別の場所で開かれています" in loading.label.text()
    assert "etcbook ウィンドウ" in loading.label.text()
    assert str(demo_store_path) in loading.label.text()
    assert loading.retry_button.isVisible()
    assert not second.import_action.isEnabled() and not second.backup_action.isEnabled()
    second.show_page("trips")
    assert second.current_page_key is None  # nothing opens on a store it does not hold

    # Still held: trying again says the same.
    qtbot.mouseClick(loading.retry_button, Qt.MouseButton.LeftButton)
    assert not second.context.is_open
    assert "すでに別の場所で開かれています" in loading.label.text()

    first.close()  # releases the store
    qtbot.mouseClick(loading.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: second.context.is_open, timeout=30_000)
    idle(qtbot, second)
    assert second.current_page_key is not None
    assert not loading.retry_button.isVisible() or second._stack.currentWidget() is not loading


def test_switching_to_the_sample_and_back_keeps_one_claim(
    qtbot, make_window, demo_store_path: Path, tmp_path: Path
) -> None:
    from etcbook.models.instance import store_holder

    window = make_window(demo_store_path)
    assert store_holder(demo_store_path) is not None
    window.switch_store(demo_store_path.with_name("other.sqlite3"))
    qtbot.waitUntil(lambda: window.context.is_open, timeout=30_000)
    assert store_holder(demo_store_path) is None  # given up with the store
    window.open_home_store()
    qtbot.waitUntil(lambda: window.context.is_open, timeout=30_000)
    idle(qtbot, window)
    assert store_holder(demo_store_path) is not None
    window.close()
    assert store_holder(demo_store_path) is None


# -- backup ------------------------------------------------------------------------------------


def test_backup_from_the_file_menu(
    qtbot, demo_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = demo_window
    store = window.context.db_path
    add_statement(window, tmp_path, "seikyu.pdf", "2025-11")
    chosen = tmp_path / "saved" / "my-backup"  # typed without .zip
    chosen.parent.mkdir()
    asked: list[str] = []

    def save_dialog(_parent, _title, suggested, _filter):  # type: ignore[no-untyped-def]
        asked.append(suggested)
        return str(chosen), _filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    assert window.backup_action.isEnabled()
    window.backup_action.trigger()
    box = open_message_box(qtbot, window)
    assert "バックアップを保存しました" in box.text()
    box.close()

    assert Path(asked[0]).name.startswith("etcbook-backup-") and asked[0].endswith(".zip")
    archive = chosen.with_name("my-backup.zip")
    info = check_backup(archive)
    assert info["trips"] == trip_count(store)
    assert info["vault_files"] == len(vault_hashes(store)) > 1  # the sample's and the new one
    assert last_backup(store)["path"] == str(archive)
    assert window.context.settings.value("backup/folder") == str(chosen.parent)


def test_a_backup_that_cannot_be_written_says_why(qtbot, demo_window, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file, not a folder")
    demo_window.backup_flow.back_up_to(blocked / "backup.zip")
    box = open_message_box(qtbot, demo_window)
    assert "バックアップできませんでした" in box.text()
    assert str(blocked) in box.text()
    assert last_backup(demo_window.context.db_path) is None


# -- restore -----------------------------------------------------------------------------------


def test_restore_from_the_window_round_trips_and_keeps_the_current_data(
    qtbot, demo_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = demo_window
    store = window.context.db_path
    add_statement(window, tmp_path, "seikyu.pdf", "2025-11")
    archive = back_up(qtbot, window, tmp_path / "backup.zip")
    trips_then, vault_then = trip_count(store), vault_hashes(store)

    # Later changes: a trip deleted in the window, another document kept.
    with window.context.transaction() as connection:
        connection.exec_driver_sql("DELETE FROM trips WHERE id = (SELECT max(id) FROM trips)")
    add_statement(window, tmp_path, "later.pdf", "2025-12")
    assert trip_count(store) == trips_then - 1
    assert len(vault_hashes(store)) == len(vault_then) + 1
    old_context = window.context

    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *_args: (str(archive), ""))
    )
    window.restore_action.trigger()
    question = open_message_box(qtbot, window)
    assert "いまのデータを置き換えます" in question.informativeText()
    assert f"利用 {trips_then:,}件" in question.informativeText()
    restore_button = next(b for b in question.buttons() if b.text() == "戻す")
    qtbot.mouseClick(restore_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(
        lambda: window.context is not old_context and window.context.is_open, timeout=30_000
    )
    done = open_message_box(qtbot, window)
    assert "のバックアップから戻しました" in done.text()
    done.close()
    idle(qtbot, window)

    assert trip_count(store) == trips_then
    assert vault_hashes(store) == vault_then
    kept = list(store.parent.glob("demo.before-restore-*.sqlite3"))
    assert len(kept) == 1 and trip_count(kept[0]) == trips_then - 1
    assert len(list(store.parent.glob("ETC.before-restore-*"))) == 1
    assert window.context.claim is not None and window.context.claim.acquired
    assert window.current_page_key is not None  # the pages show the restored store


def test_cancelling_the_restore_question_changes_nothing(
    qtbot, demo_window, tmp_path: Path
) -> None:
    window = demo_window
    archive = back_up(qtbot, window, tmp_path / "backup.zip")
    before = trip_count(window.context.db_path)
    context = window.context
    window.backup_flow.check_then_restore(archive)
    question = open_message_box(qtbot, window)
    cancel = next(b for b in question.buttons() if b.text() == "キャンセル")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert window.context is context and context.is_open
    assert trip_count(window.context.db_path) == before
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_a_damaged_archive_is_refused_and_the_store_stays_open(
    qtbot, demo_window, tmp_path: Path
) -> None:
    window = demo_window
    archive = back_up(qtbot, window, tmp_path / "backup.zip")
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    context = window.context
    window.backup_flow.check_then_restore(archive, confirm=False)
    box = open_message_box(qtbot, window)
    assert "このファイルからは戻せません" in box.text()
    assert str(archive) in box.text()
    assert window.context is context and context.is_open
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_the_command_line_cannot_restore_while_the_window_has_the_store(
    demo_window, tmp_path: Path
) -> None:
    store = demo_window.context.db_path
    archive = tmp_path / "backup.zip"
    from etcbook.models.backup import create_backup

    create_backup(demo_window.context.store, archive)
    done = subprocess.run(
        [sys.executable, "-m", "etcbook", "--db", str(store), "restore", str(archive)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 75, done.stderr
    assert "etcbook ウィンドウ" in done.stderr and "ウィンドウを閉じて" in done.stderr
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_the_sample_data_cannot_be_restored_over(qtbot, make_window, tmp_path: Path) -> None:
    from etcbook.ui.store_access import create_sample_store

    sample = create_sample_store(tmp_path / "sample.sqlite3")
    window = make_window(sample, sample_path=sample)
    assert window.context.is_sample
    assert window.backup_action.isEnabled() and not window.restore_action.isEnabled()


# -- the monthly reminder on the dashboard -----------------------------------------------------


def backup_lines(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [text for text in page.alert_texts() if "バックアップ" in text]


def dashboard(qtbot, window):  # type: ignore[no-untyped-def]
    window.show_page("dashboard")
    page = window.page_widget("dashboard")
    qtbot.waitUntil(
        lambda: page.data is not None and page.data.reminders is not None, timeout=30_000
    )
    return page


def test_dashboard_reminds_to_back_up_until_a_backup_is_made(
    qtbot, demo_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = dashboard(qtbot, demo_window)
    [line] = backup_lines(page)
    assert "まだバックアップがありません" in line

    # Double-clicking the reminder starts a backup.
    target = tmp_path / "from-dashboard.zip"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_args: (str(target), ""))
    )
    item = next(
        page.alerts.item(i)
        for i in range(page.alerts.count())
        if "バックアップ" in page.alerts.item(i).text()
    )
    page.alerts.itemActivated.emit(item)
    open_message_box(qtbot, demo_window).close()
    assert target.exists()
    assert backup_lines(page) == []


def test_dashboard_reminds_again_after_a_month(qtbot, demo_window) -> None:
    from etcbook import clock

    store = demo_window.context.db_path
    long_ago = dt.datetime.combine(clock.today() - dt.timedelta(days=45), dt.time(9, 0))
    last_backup_path(store).write_text(
        json.dumps({"created_at": long_ago.isoformat(), "path": "/somewhere/old.zip"}),
        encoding="utf-8",
    )
    page = dashboard(qtbot, demo_window)
    [line] = backup_lines(page)
    assert "45日" in line
    item = next(
        page.alerts.item(i)
        for i in range(page.alerts.count())
        if "バックアップ" in page.alerts.item(i).text()
    )
    assert item.data(Qt.ItemDataRole.UserRole) == "warning"


def test_no_reminder_right_after_a_backup_or_for_the_sample(
    qtbot, make_window, demo_store_path: Path, tmp_path: Path
) -> None:
    from etcbook import clock

    last_backup_path(demo_store_path).write_text(
        json.dumps({"created_at": clock.now().isoformat(), "path": "x.zip"}), encoding="utf-8"
    )
    assert backup_lines(dashboard(qtbot, make_window(demo_store_path))) == []

    from etcbook.ui.store_access import create_sample_store

    sample = create_sample_store(tmp_path / "sample-data" / "sample.sqlite3")
    sample_window = make_window(sample, sample_path=sample)
    assert backup_lines(dashboard(qtbot, sample_window)) == []


# -- the store busy in another etcbook ------------------------------------------------------------


def test_an_edit_while_another_etcbook_writes_is_refused_in_words(
    qtbot, make_window, demo_store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock (a long command-line import): an edit in the window
    waits one busy timeout, not minutes, is rolled back, and the user reads why."""
    import threading

    from sqlalchemy.exc import OperationalError

    from etcbook.models import store as store_module
    from etcbook.ui.app import report_unhandled

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    window = make_window(demo_store_path)
    notes_before = card_notes(demo_store_path)
    holder = sqlite3.connect(demo_store_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    # Should the window wait for the lock after all, it gets it here and the test fails.
    release = threading.Timer(20, holder.rollback)
    release.start()
    try:
        with (
            pytest.raises(OperationalError) as refused,
            window.context.transaction() as connection,
        ):
            connection.exec_driver_sql("UPDATE cards SET notes = 'edited'")
    finally:
        release.cancel()
        holder.rollback()
        holder.close()
    error = refused.value
    report_unhandled(window)(type(error), error, error.__traceback__)
    box = open_message_box(qtbot, window)
    assert "書き込み中" in box.informativeText() and "何も変更していません" in box.informativeText()
    assert "database is locked" in box.detailedText()
    assert card_notes(demo_store_path) == notes_before
