"""The shell: font, page discovery, navigation, shortcuts, settings, welcome page."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontDatabase, QKeySequence
from PySide6.QtWidgets import QApplication

from etcbook.paths import ipaexgothic_path
from etcbook.ui import formatting
from etcbook.ui.pages import discover_pages


def test_ipaexgothic_is_the_application_font(qapp) -> None:
    assert ipaexgothic_path() is not None
    assert "IPAexGothic" in QFontDatabase.families()
    assert QApplication.font().families()[0] == "IPAexGothic"


def test_font_is_found_without_importing_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from etcbook.paths import ipaexgothic_path; assert ipaexgothic_path();"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pages_are_discovered_in_order() -> None:
    specs, problems = discover_pages()
    assert problems == []
    keys = [spec.key for spec in specs]
    assert keys[:4] == ["dashboard", "trips", "cards", "points"]
    assert [spec.order for spec in specs] == sorted(spec.order for spec in specs)


def test_discovering_the_pages_imports_no_page_widgets() -> None:
    """Every page module is imported at start-up: its widgets load in the factory only."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from etcbook.ui.pages import discover_pages\n"
        "specs, problems = discover_pages()\n"
        "assert specs and not problems, problems\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('etcbook.')"
        " and not m.startswith('etcbook.ui.pages'))\n"
        "assert loaded == ['etcbook.ui'], loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


FIRST_PAINT = """
import json, sys
from pathlib import Path
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

store = Path(sys.argv[1])


def files():
    return sorted(p.name for p in store.parent.iterdir())


def opened():
    if store.exists():
        poll.stop()
        print(json.dumps({"files": files()}), flush=True)
        QApplication.instance().quit()


class FirstPaint(QObject):
    seen = False

    def eventFilter(self, watched, event):
        if not self.seen and event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            self.seen = True
            print(json.dumps({"modules": sorted(sys.modules), "files": files()}), flush=True)
            poll.start(20)
        return False


app = QApplication(sys.argv[:1])
probe = FirstPaint()
app.installEventFilter(probe)
poll = QTimer()
poll.timeout.connect(opened)
QTimer.singleShot(60_000, app.quit)
from etcbook.cli import main
sys.exit(main(["--db", str(store)]))
"""


def test_the_window_is_painted_before_the_store_is_claimed_or_its_rules_load(
    tmp_path: Path,
) -> None:
    """``etcbook --db FILE``: the window's first paint comes before the store is claimed and
    opened, and before the modules that only the open store needs (the store layer, the card
    filter's rules, the platform's data folder for the sample, backup, the manual)."""
    import json
    import os
    import subprocess
    import sys

    folder = tmp_path / "data"
    folder.mkdir()
    store = folder / "ストア #1.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT, str(store)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stderr
    first, then = map(json.loads, lines)
    assert first["files"] == []  # neither claimed (STORE.lock) nor opened yet
    assert store.name in then["files"] and f"{store.name}.lock" in then["files"]
    loaded = set(first["modules"])
    assert "etcbook.ui.main_window" in loaded
    too_early = {
        name
        for name in loaded
        if name.startswith(("etcbook.models", "sqlalchemy", "platformdirs", "etcbook.domain"))
        or name in ("etcbook.ui.backup", "etcbook.ui.help", "etcbook.ui.live_updates")
    }
    assert too_early == set()


def test_formatting() -> None:
    import datetime as dt

    assert formatting.yen(1234567) == "1,234,567円"
    assert formatting.yen(-1050) == "-1,050円"
    assert formatting.points(5000) == "5,000P"
    assert formatting.date(dt.date(2025, 6, 1)) == "2025/06/01"
    assert formatting.date_time(dt.datetime(2025, 6, 1, 7, 5)) == "2025/06/01 07:05"


def test_page_shortcuts_are_ctrl_digits(window) -> None:
    shortcuts = [action.shortcut() for action in window._page_actions]
    assert shortcuts[0] == QKeySequence("Ctrl+1")
    assert shortcuts[1] == QKeySequence("Ctrl+2")
    assert window.import_action.shortcut() == QKeySequence("Ctrl+I")


def test_window_geometry_and_splitter_are_remembered(
    make_window, tmp_path: Path, settings: QSettings
) -> None:
    first = make_window(tmp_path / "a.sqlite3")
    first.resize(777, 666)
    first._splitter.setSizes([260, 517])
    first.close()
    second = make_window(tmp_path / "a.sqlite3")
    assert second.size().width() == 777
    assert second._splitter.sizes()[0] == 260


def test_store_opens_off_the_gui_thread(qtbot, settings: QSettings, tmp_path: Path) -> None:
    from etcbook.ui.app import make_main_window

    window = make_main_window(tmp_path / "s.sqlite3", settings=settings, sample_path=tmp_path / "x")
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.context.store_opened, timeout=10_000):
        window.context.open_store_async()
    assert window.context.is_open
    window.context.close()


def test_open_sample_data_from_the_welcome_page(qtbot, make_window, tmp_path: Path) -> None:
    sample = tmp_path / "sample.sqlite3"
    window = make_window(tmp_path / "mine.sqlite3", sample_path=sample)
    welcome = window._stack.currentWidget()
    with qtbot.waitSignal(window.page_changed, timeout=30_000):
        welcome.sample_button.click()
    assert sample.exists()
    assert window.context.db_path == sample
    assert "サンプルデータ" in window.windowTitle()
    assert window.current_page_key == "dashboard"
    assert window.home_action.isEnabled()
    window.open_home_store()
    qtbot.waitUntil(lambda: window.context.is_open, timeout=10_000)
    assert window.context.db_path == tmp_path / "mine.sqlite3"


def test_column_layout_of_the_trips_table_is_remembered(make_window, demo_store_path: Path) -> None:
    first = make_window(demo_store_path)
    first.show_page("trips")
    page = first.page_widget("trips")
    page.view.setColumnWidth(3, 211)
    first.close()
    second = make_window(demo_store_path)
    second.show_page("trips")
    assert second.page_widget("trips").view.columnWidth(3) == 211


def test_adding_the_first_card_leaves_the_welcome_page(qtbot, window) -> None:
    from etcbook.ui.card_dialog import CardDialog

    welcome = window._stack.currentWidget()
    welcome.add_card_button.click()
    dialogs = [d for d in window.findChildren(CardDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialog = dialogs[0]
    dialog.last4.edit.setText("2468")
    dialog.holder.edit.setText("鈴木一郎")
    with qtbot.waitSignal(window.page_changed):
        dialog.save_button.click()
    assert window.current_page_key == "dashboard"


def test_ctrl_digit_switches_pages(qtbot, demo_window) -> None:
    from PySide6.QtCore import Qt

    window = demo_window
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key == "trips"
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key == "cards"
    # Let Ctrl go, or Qt keeps it as held for later tests (a selectRow() would then toggle).
    qtbot.keyRelease(window, Qt.Key.Key_Control)
    assert QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier


def test_the_sample_store_has_a_folder_and_vault_of_its_own() -> None:
    from etcbook.paths import default_store_path
    from etcbook.ui.app import sample_store_path

    sample, own = sample_store_path(), default_store_path()
    assert sample != own
    # A vault is the ETC folder beside its store: the sample's must not be the user's.
    assert sample.parent != own.parent
