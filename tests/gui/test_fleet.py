"""A company's 111 cards in the window: the dashboard stays readable, the card filter narrows
every page (issue 20, item 5)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etcbook import clock
from tests.gui.conftest import open_dashboard

CARDS = 111


@pytest.fixture(scope="module")
def fleet_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The company's store (111 cards imported from one corporate 明細CSV), built once."""
    from etcbook.models.fleet_sample import fill_fleet
    from etcbook.models.store import open_store

    path = tmp_path_factory.mktemp("fleet") / "fleet.sqlite3"
    store = open_store(path)
    fill_fleet(store, cards=CARDS, as_of=clock.today())
    store.close()
    return path


@pytest.fixture
def fleet_window(make_window, fleet_template: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "fleet.sqlite3"
    shutil.copy(fleet_template, path)
    return make_window(path)


def test_fleet_dashboard_is_bounded(qtbot, fleet_window) -> None:
    from etcbook.ui.fleet import PoolTotalTile
    from etcbook.ui.views.dashboard import CardTile

    page = open_dashboard(qtbot, fleet_window)
    assert len(page.data.cards) == CARDS
    pools = {pool.pool for card in page.data.cards for pool in card.pools}
    bars = page.points_chart.figure.axes[0].get_yticklabels()
    assert 0 < len(bars) == len(pools) < CARDS
    assert all("枚" in bar.get_text() for bar in bars)
    tiles = [page.tiles.itemAt(i).widget() for i in range(page.tiles.count())]
    assert not any(isinstance(tile, CardTile) for tile in tiles)
    assert sum(isinstance(tile, PoolTotalTile) for tile in tiles) == len(pools)
    # The pool's total is the sum of its cards' points (shown, not computed, by the tile).
    nexco = next(total for total in page.pool_totals if total.pool == "nexco")
    assert nexco.points == sum(
        pool.points for card in page.data.cards for pool in card.pools if pool.pool == "nexco"
    )
    assert nexco.cards == sum(
        1 for card in page.data.cards for pool in card.pools if pool.pool == "nexco"
    )


def test_fleet_warnings_are_grouped_with_the_cards_on_demand(qtbot, fleet_window) -> None:
    page = open_dashboard(qtbot, fleet_window)
    reminders = page.data.reminders
    assert len(reminders) > 2 * CARDS  # one of each kind per card, ungrouped
    texts = page.alert_texts()
    assert len(texts) < 10
    statement = [t for t in texts if "枚のカードで" in t and "明細が証憑庫にありません" in t]
    assert statement, texts
    group = next(g for g in page.groups if g.kind == "statement_window" and g.grouped)
    assert f"{len(group.cards)}枚のカードで" in group.message
    assert len(group.cards) >= 3
    before = page.alerts.count()
    page.toggle_group(page.groups.index(group))
    assert page.alerts.count() == before + len(group.members)
    shown = page.alert_texts()
    assert any(f"カード末尾{group.cards[0]}の" in text for text in shown)
    page.toggle_group(page.groups.index(group))
    assert page.alerts.count() == before


def test_the_per_card_table_sorts_and_searches(qtbot, fleet_window) -> None:
    from PySide6.QtCore import Qt

    page = open_dashboard(qtbot, fleet_window)
    tabs = page.lower_tabs
    assert tabs.count() == 2 and tabs.tabText(1) == f"カード別一覧（{CARDS}枚）"
    table = page.fleet_table
    proxy = table.proxy
    cards = {proxy.index(row, 0).data() for row in range(proxy.rowCount())}
    assert len(cards) == CARDS
    points_column = [proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(11)].index(
        "ポイント"
    )
    table.view.sortByColumn(points_column, Qt.SortOrder.DescendingOrder)
    from etcbook.ui.tables import SORT_ROLE

    values = [proxy.index(row, points_column).data(SORT_ROLE) for row in range(proxy.rowCount())]
    assert values == sorted(values, reverse=True)
    table.search.setText("佐藤一郎")
    assert 0 < proxy.rowCount() < len(values)
    driver_column = 2
    assert {proxy.index(r, driver_column).data() for r in range(proxy.rowCount())} == {"佐藤一郎"}


def test_the_card_filter_narrows_every_page(qtbot, fleet_window) -> None:
    from etcbook.domain.fleet import CardCriteria

    window = fleet_window
    card_filter = window.context.card_filter
    bar = window.card_filter_bar
    assert bar.isVisible()
    drivers = [bar.combos["driver"].itemData(i) for i in range(bar.combos["driver"].count())]
    assert "佐藤一郎" in drivers
    chosen = {f.last4 for f in card_filter.facets if f.driver == "佐藤一郎"}
    assert 0 < len(chosen) < CARDS

    page = open_dashboard(qtbot, window)
    bar.combos["driver"].setCurrentIndex(drivers.index("佐藤一郎"))
    assert card_filter.criteria == CardCriteria(driver="佐藤一郎")
    assert set(card_filter.cards or ()) == chosen
    assert f"{CARDS}枚中 {len(chosen)}枚" in bar.count_label.text()

    qtbot.waitUntil(
        lambda: (
            page.data is not None
            and page.data.cards is not None
            and {c.last4 for c in page.data.cards} == chosen
            and page.data.reminders is not None
            and not window.context.operations.busy
        ),
        timeout=60_000,
    )
    assert all(g.members[0].card in chosen for g in page.groups)

    window.show_page("trips")
    trips = window.page_widget("trips")
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=60_000)
    # keyed by card id; each choice's text begins with the card's last 4 digits
    count = trips.card_filter.count()
    listed = {trips.card_filter.itemText(i).split()[0] for i in range(1, count)}
    assert listed == chosen and count - 1 == len(chosen)
    shown = {trips.model.record(row).card for row in range(min(trips.model.rowCount(), 200))}
    assert shown and shown <= chosen

    window.show_page("cards")
    cards = window.page_widget("cards")
    assert set(cards._cards) == chosen

    window.show_page("points")
    points = window.page_widget("points")
    qtbot.waitUntil(lambda: points.data is not None, timeout=60_000)
    # the points, claims, 月次照合 and 証憑 pages key their card choice by id (digits may be shared)
    last4_of = {card.card_id: card.last4 for card in points.data.cards}
    choices = {points.card_choice.itemData(i) for i in range(points.card_choice.count())}
    assert {last4_of[c] for c in choices} == chosen and len(choices) == len(chosen)
    for key in ("claims", "reconcile", "evidence"):
        window.show_page(key)
        widget = window.page_widget(key)
        qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=60_000)
        ids = {widget.card.itemData(i) for i in range(widget.card.count())}
        assert {last4_of[c] for c in ids} == chosen and len(ids) == len(chosen), key

    window.show_page("incidents")
    incidents = window.page_widget("incidents")
    found = {incidents.new_card.itemData(i) for i in range(incidents.new_card.count())}
    assert {last4_of[c] for c in found} == chosen and len(found) == len(chosen)

    bar.clear_button.click()
    assert card_filter.cards is None
    window.show_page("cards")
    assert len(cards._cards) == CARDS
