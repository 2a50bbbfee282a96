"""Import from the window: drop → preview → import; malformed files store nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_bytes(("\r\n".join([HEADER_15, *rows]) + "\r\n").encode("cp932"))
    return path


GOOD_ROWS = [
    "26/11/02,07:10,26/11/02,07:45,厚木,横浜町田,,,930,0,930,1,1234,************1234,確認中;（朝夕）",
    "26/11/03,10:00,26/11/03,11:30,東京,静岡,,,4300,300,4000,1,1234,************1234,確定",
    "26/11/03,13:00,26/11/03,13:20,東京,霞が関,,,1320,0,1320,1,1234,************4321,確定",
]


def trip_count(window) -> int:  # type: ignore[no-untyped-def]
    with window.context.connection() as connection:
        return int(connection.execute(text("SELECT count(*) FROM trips")).scalar())


def drop(window, paths: list[Path]) -> None:  # type: ignore[no-untyped-def]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    pos = QPointF(window.rect().center())
    args = (
        pos,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    for kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
        # QDragEnterEvent has only a deprecated QPoint constructor; it adds nothing to this one.
        # PySide6 before 6.12 takes the position as a QPoint only.
        try:
            moving = QDragMoveEvent(*args, type=kind)
        except TypeError:
            moving = QDragMoveEvent(pos.toPoint(), *args[1:], type=kind)
        moving.setAccepted(False)
        QApplication.sendEvent(window, moving)
        assert moving.isAccepted(), kind
    event = QDropEvent(*args)
    QApplication.sendEvent(window, event)
    assert event.isAccepted()


def test_dropped_csv_reaches_the_preview_and_the_import(qtbot, demo_window, tmp_path: Path) -> None:
    window = demo_window
    before = trip_count(window)
    csv = write_csv(tmp_path / "meisai.csv", GOOD_ROWS)
    with qtbot.waitSignal(window.import_started, timeout=5_000) as started:
        drop(window, [csv])
    flow = started.args[0]
    with qtbot.waitSignal(flow.previewed, timeout=10_000) as previewed:
        pass
    dialog = previewed.args[0]
    assert trip_count(window) == before, "the preview wrote to the store"
    assert dialog.preview.inserted == 3
    assert dialog.import_button.isEnabled()
    assert dialog.preview.new_cards == ["4321"]
    with (
        qtbot.waitSignal(window.context.ledger_changed, timeout=10_000),
        qtbot.waitSignal(flow.finished, timeout=10_000) as finished,
    ):
        dialog.import_button.click()
    assert finished.args[0].inserted == 3
    assert trip_count(window) == before + 3
    assert "新規 3件" in window.statusBar().currentMessage()


def test_malformed_file_shows_line_errors_and_stores_nothing(
    qtbot, qtmodeltester, demo_window, tmp_path: Path
) -> None:
    window = demo_window
    before = trip_count(window)
    bad = write_csv(
        tmp_path / "bad.csv",
        [
            GOOD_ROWS[0],
            "26/13/45,07:10,26/11/02,07:45,厚木,横浜町田,,,九百,0,930,1,1234,****1234,確定",
        ],
    )
    flow = None
    with qtbot.waitSignal(window.import_started, timeout=5_000) as started:
        window.import_files([str(bad)])
    flow = started.args[0]
    with qtbot.waitSignal(flow.previewed, timeout=10_000) as previewed:
        pass
    dialog = previewed.args[0]
    errors = dialog.errors_model.records
    assert errors, "no line errors listed"
    assert {error.line for error in errors} == {3}
    assert not dialog.import_button.isEnabled()
    qtmodeltester.check(dialog.files_model, force_py=True)
    qtmodeltester.check(dialog.errors_model, force_py=True)
    dialog.reject()
    assert trip_count(window) == before


def test_reimport_counts_duplicates(qtbot, demo_window, tmp_path: Path) -> None:
    window = demo_window
    csv = write_csv(tmp_path / "meisai.csv", GOOD_ROWS)
    for expected_new in (3, 0):
        with qtbot.waitSignal(window.import_started) as started:
            window.import_files([str(csv)])
        with qtbot.waitSignal(started.args[0].previewed, timeout=10_000) as previewed:
            pass
        dialog = previewed.args[0]
        assert dialog.preview.inserted == expected_new
        if expected_new:
            with qtbot.waitSignal(started.args[0].finished, timeout=10_000):
                dialog.import_button.click()
        else:
            assert dialog.preview.duplicates == 3
            dialog.reject()


def _many_rows() -> list[str]:
    """4,480 distinct trips of November 2026."""
    return [
        f"26/11/{day:02d},{hour:02d}:{minute:02d},26/11/{day:02d},{hour:02d}:{minute + 5:02d},"
        f"厚木,横浜町田,,,930,0,930,1,1234,************1234,確定"
        for day in range(1, 29)
        for hour in range(6, 22)
        for minute in range(0, 50, 5)
    ]


def test_cancelled_import_stores_nothing(demo_window, tmp_path: Path) -> None:
    import pytest

    from etcbook.ui.importing import _run_import
    from etcbook.ui.operations import Cancelled, Progress

    window = demo_window
    before = trip_count(window)
    csv = write_csv(tmp_path / "big.csv", _many_rows())
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        _run_import(window.context, [csv], dry_run=False, progress=progress)
    assert trip_count(window) == before


def test_import_cancelled_in_the_middle_stores_nothing(
    qtbot, demo_window, tmp_path: Path, monkeypatch
) -> None:
    """Cancel from the progress dialog while the import is half-way through the file."""
    import threading

    from PySide6.QtWidgets import QProgressDialog, QPushButton

    from etcbook.ui.operations import Progress

    window = demo_window
    before = trip_count(window)
    csv = write_csv(tmp_path / "big.csv", _many_rows())
    halfway = threading.Event()
    go_on = threading.Event()
    report = Progress.report

    def report_and_wait_halfway(self: Progress, done: int, total: int = 0, text: str = "") -> None:
        # The import's worker thread pauses once, half-way through reading the file, until
        # the test has pressed the cancel button; then the check in report() sees it.
        if "取り込み中" in text and total and done >= total // 2 and not halfway.is_set():
            halfway.set()
            go_on.wait(20)
        report(self, done, total, text)

    monkeypatch.setattr(Progress, "report", report_and_wait_halfway)
    with qtbot.waitSignal(window.import_started, timeout=5_000) as started:
        window.import_files([str(csv)])
    flow = started.args[0]
    with qtbot.waitSignal(flow.previewed, timeout=20_000) as previewed:
        pass
    assert previewed.args[0].preview.inserted == len(_many_rows())
    with qtbot.waitSignal(flow.finished, timeout=20_000) as finished:
        previewed.args[0].import_button.click()
        qtbot.waitUntil(halfway.is_set, timeout=20_000)
        assert window.context.operations.writing  # the import is running
        dialogs = [
            d
            for d in window.findChildren(QProgressDialog)
            if d.windowTitle() == "明細CSVを取り込んでいます"
        ]
        assert len(dialogs) == 1
        cancel = next(b for b in dialogs[0].findChildren(QPushButton) if b.text() == "キャンセル")
        cancel.click()
        go_on.set()
    assert finished.args[0] is None
    assert "キャンセルしました" in window.statusBar().currentMessage()
    assert trip_count(window) == before


def _preview(qtbot, window, paths: list[Path]):  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.import_started, timeout=5_000) as started:
        window.import_files([str(path) for path in paths])
    flow = started.args[0]
    with qtbot.waitSignal(flow.previewed, timeout=20_000) as previewed:
        pass
    return flow, previewed.args[0]


def test_preview_tells_card_dates_and_total_and_the_file_is_kept(
    qtbot, demo_window, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QLabel

    from etcbook.models.vault import DocumentSearch, search_documents

    window = demo_window
    csv = write_csv(tmp_path / "meisai.csv", GOOD_ROWS)
    flow, dialog = _preview(qtbot, window, [csv])
    model = dialog.files_model
    cells = {
        model.headerData(c, Qt.Orientation.Horizontal): model.data(model.index(0, c))
        for c in range(model.columnCount())
    }
    assert cells["カード末尾"] == "1234、4321"
    assert cells["期間（出口日）"] == "2026/11/02〜2026/11/03"
    assert cells["通行料金"] == "6,550円"
    assert cells["結果"] == "取り込めます"
    notes = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "原本として証憑フォルダに保管" in notes
    before = search_documents(store=window.context.store, search=DocumentSearch(kind="detail_csv"))
    with qtbot.waitSignal(flow.finished, timeout=20_000):
        dialog.import_button.click()
    after = search_documents(store=window.context.store, search=DocumentSearch(kind="detail_csv"))
    assert len(after) == len(before) + 1
    new = after[-1] if after[-1].id not in {d.id for d in before} else after[0]
    assert new.path.read_bytes() == csv.read_bytes()
    assert (new.card, new.month, new.amount) == ("1234", "2026-11", 6550)
    assert "原本として証憑フォルダに保管しました" in window.statusBar().currentMessage()

    _flow, again = _preview(qtbot, window, [csv])
    assert not again.import_button.isEnabled()
    columns = {
        again.files_model.headerData(c, Qt.Orientation.Horizontal): c
        for c in range(again.files_model.columnCount())
    }
    assert again.files_model.data(again.files_model.index(0, columns["結果"])) == "新しい走行なし"
    assert "取り込むものはありません" in again.findChild(QLabel, "previewSummary").text()
    again.reject()


def test_cards_sharing_the_files_last4_are_offered_never_guessed(
    qtbot, demo_window, tmp_path: Path
) -> None:
    from sqlmodel import Session

    from etcbook.models.cards import create_card

    window = demo_window
    with Session(window.context.store.engine) as session:
        second = create_card(session=session, last4="1234", holder="佐藤", label="2号車").id
    before = trip_count(window)
    csv = write_csv(tmp_path / "meisai.csv", GOOD_ROWS[:2])
    with qtbot.waitSignal(window.import_started, timeout=5_000) as started:
        window.import_files([str(csv)])
    flow = started.args[0]
    with qtbot.waitSignal(flow.previewed, timeout=10_000) as previewed:
        pass
    dialog = previewed.args[0]
    assert not dialog.import_button.isEnabled()
    assert any("カードが2枚" in e.message for e in dialog.errors_model.records)
    choice = dialog.card_choice
    assert choice is not None and choice.count() == 3
    assert "2号車" in choice.itemText(choice.findData(second))
    with qtbot.waitSignal(flow.previewed, timeout=10_000) as again:
        choice.setCurrentIndex(choice.findData(second))
        choice.activated.emit(choice.currentIndex())
    dialog = again.args[0]
    assert dialog.card_choice.currentData() == second
    assert dialog.preview.inserted == 2 and dialog.import_button.isEnabled()
    with qtbot.waitSignal(flow.finished, timeout=10_000) as finished:
        dialog.import_button.click()
    assert finished.args[0].inserted == 2
    assert trip_count(window) == before + 2
    with window.context.connection() as connection:
        on_second = connection.execute(
            text("SELECT count(*) FROM trips WHERE card_id = :c"), {"c": second}
        ).scalar()
    assert on_second == 2
