"""Every page opens on the demo store without a warning (pytest fails on any Qt or Python one)."""

from __future__ import annotations

import pytest

from etcbook.ui.pages import discover_pages
from etcbook.ui.workflow_role import PERSONAL

PAGE_KEYS = [spec.key for spec in discover_pages()[0] if spec.offered_to(PERSONAL)]
"""The pages of a personal (SQLite) ledger; the workflow pages' own tests open the others."""


@pytest.mark.parametrize("key", PAGE_KEYS)
def test_page_opens_on_the_demo_store(qtbot, demo_window, key: str) -> None:
    window = demo_window
    window.show_page(key)
    assert window.current_page_key == key
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=20_000)
    qtbot.wait(50)
    widget = window.page_widget(key)
    assert widget.isVisible()


def test_welcome_page_on_an_empty_store(window) -> None:
    from etcbook.ui.welcome import WelcomePage

    assert isinstance(window._stack.currentWidget(), WelcomePage)
    assert window.current_page_key is None


def test_dashboard_lists_card_reminders_and_draws_tolls(qtbot, demo_window) -> None:
    demo_window.show_page("dashboard")
    page = demo_window.page_widget("dashboard")
    qtbot.waitUntil(lambda: page.data is not None, timeout=20_000)
    assert page.data.tolls, "no monthly tolls"
    assert page.tolls_chart.figure is not None
    qtbot.waitUntil(lambda: page.data.reminders is not None, timeout=30_000)
    texts = page.alert_texts()
    assert any("有効期限" in text and "5678" in text for text in texts)
    qtbot.waitUntil(lambda: page.data.cards is not None, timeout=30_000)
    assert {card.last4 for card in page.data.cards} == {"1234", "5678", "9012"}
    assert page.points_chart.figure is not None
    assert page.tiles.count() == 4  # three cards and the stretch


def test_the_engine_runs_once_for_all_pages(qtbot, demo_window) -> None:
    runs = []
    service = demo_window.context.mileage
    service.computed.connect(runs.append)
    for key in ("dashboard", "trips", "points"):
        demo_window.show_page(key)
        qtbot.waitUntil(lambda: not demo_window.context.operations.busy, timeout=30_000)
    assert len(runs) == 1  # it runs, and only once
