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
