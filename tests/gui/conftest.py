"""Fixtures for the window tests: a fresh store and fresh settings per test, offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

# The offscreen platform plugin itself says this whenever a top-level window is shown; it is
# about the plugin, not about etcbook, and is the only Qt message these tests tolerate.
OFFSCREEN_NOISE = r"This plugin does not support propagateSizeHints\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(scope="session", autouse=True)
def _japanese_font(qapp):  # type: ignore[no-untyped-def]
    from etcbook.ui.app import make_application

    make_application()
    return qapp


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Settings in a file of this test's own (never the user's)."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def empty_store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite3"


@pytest.fixture
def make_window(qtbot, settings: QSettings, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build a main window over a store path, opened synchronously; closed after the test."""
    from etcbook.ui.app import make_main_window

    windows = []

    def make(db_path: Path, *, sample_path: Path | None = None, show: bool = True):  # type: ignore[no-untyped-def]
        window = make_main_window(
            db_path, settings=settings, sample_path=sample_path or tmp_path / "sample.sqlite3"
        )
        qtbot.addWidget(window)
        windows.append(window)
        if show:
            window.show()
            qtbot.waitExposed(window)
        window.context.open_store_now()
        return window

    yield make
    for window in windows:
        window.context.operations.wait_for_done()


@pytest.fixture
def window(make_window, empty_store_path: Path):  # type: ignore[no-untyped-def]
    return make_window(empty_store_path)


@pytest.fixture
def demo_window(make_window, demo_store_path: Path):  # type: ignore[no-untyped-def]
    return make_window(demo_store_path)


def open_dashboard(qtbot, window):  # type: ignore[no-untyped-def]
    """The window's dashboard page once it shows its cards and reminders and nothing runs."""
    window.show_page("dashboard")
    page = window.page_widget("dashboard")
    qtbot.waitUntil(
        lambda: (
            page.data is not None
            and page.data.cards is not None
            and page.data.reminders is not None
        ),
        timeout=60_000,
    )
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=60_000)
    return page
