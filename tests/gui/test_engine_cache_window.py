"""The dashboard's figures kept in the store (etcbook.models.engine_cache): reused while the store
is unchanged, never shown once another process changed it."""

from __future__ import annotations

from pathlib import Path

from etcbook import clock
from tests.conftest import Cli


def open_dashboard(qtbot, make_window, path: Path):  # type: ignore[no-untyped-def]
    window = make_window(path)
    window.show_page("dashboard")
    page = window.page_widget("dashboard")
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    # Wait for the results to be kept, then close as a user does (the claim is released).
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    window.close()
    return page.data


def rebate(data, last4: str) -> int:  # type: ignore[no-untyped-def]
    return next(card.rebate_balance for card in data.cards if card.last4 == last4)


def test_unchanged_store_shows_the_kept_figures_and_a_change_from_the_cli_is_shown(
    qtbot, make_window, demo_store_path: Path
) -> None:
    first = open_dashboard(qtbot, make_window, demo_store_path)
    assert not first.from_cache  # computed, then kept

    again = open_dashboard(qtbot, make_window, demo_store_path)
    assert again.from_cache
    assert [(c.last4, c.rebate_balance, c.pools) for c in again.cards] == [
        (c.last4, c.rebate_balance, c.pools) for c in first.cards
    ]
    assert again.reminders == first.reminders

    # Another process changes the store: the next window must not show the kept figures.
    Cli(demo_store_path)(
        "adjust",
        "--card",
        "1234",
        "--rebate",
        "777",
        "--on",
        clock.today().isoformat(),
        "--reason",
        "テスト",
        check=True,
    )
    after = open_dashboard(qtbot, make_window, demo_store_path)
    assert not after.from_cache
    assert rebate(after, "1234") == rebate(first, "1234") + 777
    assert rebate(after, "5678") == rebate(first, "5678")


def start_window(qtbot, settings, tmp_path: Path, path: Path):  # type: ignore[no-untyped-def]
    """A window opening ``path`` as ``etcbook`` does (off the GUI thread), with what it
    emitted in order: the first look, the dashboard's numbers, the open store."""
    from etcbook.ui.app import make_main_window

    window = make_main_window(path, settings=settings, sample_path=tmp_path / "sample.sqlite3")
    qtbot.addWidget(window)
    events: list[tuple[str, object]] = []

    def page_shown(key: str) -> None:
        page = window.page_widget(key)
        if not any(name == "page" for name, _ in events):
            page.loaded.connect(
                lambda: events.append(
                    ("loaded", [(c.last4, c.rebate_balance) for c in page._current.cards])
                )
            )
        events.append(("page", key))

    window.page_changed.connect(page_shown)
    window.context.first_look.connect(lambda look: events.append(("first_look", look)))
    window.context.store_opened.connect(lambda: events.append(("store_opened", None)))
    window.show()
    qtbot.waitExposed(window)
    window.context.open_store_async()
    page = None
    qtbot.waitUntil(lambda: window.context.is_open, timeout=30_000)
    page = window.page_widget("dashboard")
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    return window, page, events


def test_the_first_page_shows_the_kept_numbers_before_the_store_opens(
    qtbot, make_window, settings, tmp_path: Path, demo_store_path: Path
) -> None:
    first = open_dashboard(qtbot, make_window, demo_store_path)  # computed, then kept
    window, page, events = start_window(qtbot, settings, tmp_path, demo_store_path)
    try:
        names = [name for name, _ in events]
        # The window shows the page from the first look (its slot runs before the test's).
        assert names[:3] == ["page", "loaded", "first_look"]
        assert names.index("loaded") < names.index("store_opened")
        shown_first = dict(events)["loaded"]
        assert shown_first == [(c.last4, c.rebate_balance) for c in first.cards]
        # Once open, the page read the store again: the same kept figures, and the charts.
        assert page.data.from_cache
        assert [(c.last4, c.rebate_balance) for c in page.data.cards] == shown_first
        assert page.data.reminders == first.reminders
        assert window.current_page_key == "dashboard"
        assert "読み込み中" not in page.as_of_label.text()
    finally:
        window.close()


def test_a_change_after_the_first_look_is_shown_once_the_store_is_open(
    qtbot, make_window, settings, tmp_path: Path, demo_store_path: Path
) -> None:
    first = open_dashboard(qtbot, make_window, demo_store_path)
    from etcbook.ui.app import make_main_window

    window = make_main_window(
        demo_store_path, settings=settings, sample_path=tmp_path / "sample.sqlite3"
    )
    qtbot.addWidget(window)
    looks: list[object] = []

    def change_from_another_process(look: object) -> None:
        looks.append(look)
        Cli(demo_store_path)(
            "adjust", "--card", "1234", "--rebate", "777", "--on", clock.today().isoformat(),
            "--reason", "テスト", check=True,
        )  # fmt: skip

    window.context.first_look.connect(change_from_another_process)
    window.show()
    qtbot.waitExposed(window)
    window.context.open_store_async()
    qtbot.waitUntil(lambda: window.context.is_open, timeout=30_000)
    page = window.page_widget("dashboard")
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    try:
        assert len(looks) == 1  # the store was looked at before the change
        assert not page.data.from_cache
        assert rebate(page.data, "1234") == rebate(first, "1234") + 777
        assert rebate(page.data, "5678") == rebate(first, "5678")
    finally:
        window.close()


def test_a_store_that_fails_to_open_after_the_first_look_says_so(
    qtbot, make_window, settings, tmp_path: Path, demo_store_path: Path, monkeypatch
) -> None:
    open_dashboard(qtbot, make_window, demo_store_path)
    from etcbook.models.store import StoreError
    from etcbook.ui import store_access
    from etcbook.ui.app import make_main_window

    def refuse(path: Path) -> None:
        raise StoreError("開けないストア")

    monkeypatch.setattr(store_access, "open_store", refuse)
    window = make_main_window(
        demo_store_path, settings=settings, sample_path=tmp_path / "sample.sqlite3"
    )
    qtbot.addWidget(window)
    looks: list[object] = []
    window.context.first_look.connect(looks.append)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.context.store_failed, timeout=30_000):
        window.context.open_store_async()
    try:
        assert len(looks) == 1  # the dashboard was shown from the look first
        assert window._stack.currentWidget() is window._loading  # then the failure, not it
        assert "開けないストア" in window._loading.label.text()
        assert not window._nav.isEnabled()
    finally:
        window.close()
