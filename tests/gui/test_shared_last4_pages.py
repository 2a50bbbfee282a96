"""The points page and the 経費精算 page with two cards sharing their last 4 digits (normal in a
fleet): each card is its own choice, named so they can be told apart, with its own figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from etcbook import clock
from etcbook.domain.calendar import add_months
from tests.conftest import Cli, add_two_cards_sharing_6789
from tests.gui.conftest import open_dashboard
from tests.pgkit import run_sql


@pytest.fixture
def shared_store(cli: Cli, store_target: Path) -> Path:
    """id:1 ****6789 (山田) with a 30,000円 NEXCO trip, id:2 ****6789 (2号車, 山田) with a
    1,000円 one, both two months ago (points granted since) and fully business trips."""
    add_two_cards_sharing_6789(cli)
    day = add_months(clock.today().replace(day=1), -2) + dt.timedelta(days=9)
    for card, toll in (("id:1", "30000"), ("2号車", "1000")):
        trip = cli(
            "trip",
            "add",
            "--card",
            card,
            "--exit",
            f"{day.isoformat()}T09:00",
            "--from",
            "東京",
            "--to",
            "静岡",
            "--toll",
            toll,
            "--json",
            check=True,
        ).json()["trip"]  # type: ignore[index]
        cli(
            "trip",
            "edit",
            str(trip["id"]),
            "--business-share",
            "100",
            "--purpose",
            "配送",
            check=True,
        )
    return store_target


def test_points_page_keys_its_card_choice_by_id(qtbot, make_window, shared_store: Path) -> None:  # type: ignore[no-untyped-def]
    window = make_window(shared_store)
    window.show_page("points")
    page = window.page_widget("points")
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    choice = page.card_choice
    items = [(choice.itemData(i), choice.itemText(i)) for i in range(choice.count())]
    assert sorted(items) == [(1, "末尾 6789　山田"), (2, "末尾 6789　2号車（山田）")]

    shown = {}
    for card_id in (1, 2):
        page.select_card(card_id)
        card = page.current_card()
        assert card is not None and card.card_id == card_id
        lots = [page.lots_model.records[i] for i in range(page.lots_model.rowCount())]
        shown[card_id] = (
            [pool.points for pool in card.pools],
            [lot.granted for lot in lots],
            page.summary.text(),
        )
    assert shown[1][:2] == ([3000], [3000]) and "3,000P" in shown[1][2]
    assert shown[2][:2] == ([100], [100]) and "100P" in shown[2][2]
    assert "3,000P" not in shown[2][2]

    # an exchange recorded on the page lands on the card chosen, not on its twin
    page.select_card(1)
    unit = page.data.rules.pools["nexco"].manual_units[0]
    card = page.current_card()
    assert page.record(card.name, [(clock.now(), "nexco", (unit,))])
    assert run_sql(shared_store, "SELECT card_id, units FROM point_exchanges") == [
        (1, str(unit.points))
    ]
    # the ledger changed: the page reads again and keeps the card chosen
    qtbot.waitUntil(
        lambda: page.current_card().pools[0].points == 3000 - unit.points, timeout=30_000
    )
    assert page.current_card().card_id == 1


def test_claims_page_lists_the_trips_of_the_card_chosen(
    qtbot, make_window, shared_store: Path
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(shared_store)
    window.show_page("claims")
    page = window.page_widget("claims")
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    items = [(page.card.itemData(i), page.card.itemText(i)) for i in range(page.card.count())]
    assert sorted(items) == [(1, "末尾 6789　山田"), (2, "末尾 6789　2号車（山田）")]
    start = add_months(clock.today().replace(day=1), -2)
    end = add_months(start, 1) - dt.timedelta(days=1)
    shown = {}
    for card_id in (2, 1):
        page.show_claim_period(card_id, start, end)
        claim = page.current_claim()
        assert claim is not None
        shown[card_id] = (
            [line.toll for line in page.lines.records],
            claim.totals.claimed,
            claim.header.card_last4,
            page.chosen_trip_ids(),
        )
        assert f"精算額 {claim.totals.claimed:,}円" in page.totals.text()
    trips = dict(run_sql(shared_store, "SELECT card_id, id FROM trips"))
    assert shown == {
        2: ([1000], 1000, "6789", [trips[2]]),
        1: ([30000], 30000, "6789", [trips[1]]),
    }
    # the journal export opens on the card chosen (id:1), named apart from its twin
    dialog = page.open_journal_export()
    texts = [dialog.card.itemText(i) for i in range(dialog.card.count())]
    assert texts[:2] == ["末尾 6789　山田", "末尾 6789　2号車（山田）"]
    assert dialog.card.currentText() == "末尾 6789　山田"
    assert dialog.booking is not None and dialog.booking.total == 30000
    dialog.reject()


def test_trips_page_filters_one_card_of_shared_digits(  # type: ignore[no-untyped-def]
    qtbot, make_window, shared_store: Path
) -> None:
    window = make_window(shared_store)
    window.show_page("trips")
    page = window.page_widget("trips")
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    combo = page.card_filter
    items = [(combo.itemData(i), combo.itemText(i)) for i in range(1, combo.count())]
    assert sorted(items) == [(1, "6789 山田"), (2, "6789 2号車 山田")]
    trips = dict(run_sql(shared_store, "SELECT card_id, toll FROM trips"))
    for card_id in (2, 1):
        combo.setCurrentIndex(combo.findData(card_id))
        page.apply_filters()
        qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
        tolls = [page.model.record(r).toll for r in range(page.model.rowCount())]
        assert tolls == [trips[card_id]], card_id


def test_cards_page_edits_the_card_selected_not_its_twin(  # type: ignore[no-untyped-def]
    qtbot, make_window, shared_store: Path
) -> None:
    from PySide6.QtCore import Qt

    from etcbook.ui.views.cards import CARD_ID_ROLE

    window = make_window(shared_store)
    window.show_page("cards")
    page = window.page_widget("cards")
    second = page.model.match(
        page.model.index(0, 0), CARD_ID_ROLE, 2, 1, Qt.MatchFlag.MatchRecursive
    )
    assert second
    page.view.setCurrentIndex(second[0])
    chosen = page.selected_card()
    assert (chosen, chosen.id) == ("6789", 2)
    dialog = page.edit_selected()
    assert dialog.card.id == 2 and dialog.card.label == "2号車"
    dialog.reject()
    # a trip added from the page goes on the card selected
    trip = page.add_trip()
    assert trip.card.currentText() == "末尾 6789　2号車（山田）"
    trip.set_values(exit_at=dt.datetime(2025, 1, 5, 9, 0), exit_ic="厚木", toll=777)
    assert trip.submit()
    assert run_sql(shared_store, "SELECT card_id FROM trips WHERE toll = 777") == [(2,)]
    page.view.setCurrentIndex(
        page.model.match(page.model.index(0, 0), CARD_ID_ROLE, 2, 1, Qt.MatchFlag.MatchRecursive)[0]
    )
    page.record_login_today()
    logins = dict(run_sql(shared_store, "SELECT id, last_login_on FROM cards"))
    assert logins[1] is None and logins[2] is not None


def test_evidence_page_keeps_and_finds_originals_of_the_card_chosen(  # type: ignore[no-untyped-def]
    qtbot, make_window, shared_store: Path, tmp_path: Path
) -> None:
    window = make_window(shared_store)
    window.show_page("evidence")
    page = window.page_widget("evidence")
    qtbot.waitUntil(lambda: page.card.count() == 2, timeout=30_000)
    for combo, first in ((page.card, 0), (page.search_card, 1)):
        items = [(combo.itemData(i), combo.itemText(i)) for i in range(first, combo.count())]
        assert sorted(items) == [(1, "末尾 6789　山田"), (2, "末尾 6789　2号車（山田）")]

    # each card's certificate for the same month is kept as that card's, under its own name
    page.kind.setCurrentIndex(page.kind.findData("certificate"))
    page.month.setText("2026-09")
    for card_id in (2, 1):
        page.card.setCurrentIndex(page.card.findData(card_id))
        source = tmp_path / f"certificate-{card_id}.pdf"
        source.write_bytes(f"%PDF-1.4 certificate of card {card_id}".encode())
        page.counterparty.setText(f"証明{card_id}")
        messages = page.add_files([source])
        assert messages[0].startswith("保管しました"), messages
    assert sorted(run_sql(shared_store, "SELECT card_id, counterparty FROM documents")) == [
        (1, "証明1"),
        (2, "証明2"),
    ]

    # searching one card finds its original only, not its twin's
    for card_id in (1, 2):
        page.search_card.setCurrentIndex(page.search_card.findData(card_id))
        page.refresh()
        found = [page.documents.record(r) for r in range(page.documents.rowCount())]
        assert [(d.card_id, d.counterparty) for d in found] == [(card_id, f"証明{card_id}")]
    page.search_card.setCurrentIndex(0)  # すべてのカード
    page.refresh()
    assert page.documents.rowCount() == 2
    # the tables name the twin by its 呼び名 beside the digits
    shown = {
        page.documents.record(r).card_id: page.documents.index(r, 2).data()
        for r in range(page.documents.rowCount())
    }
    assert shown == {1: "6789", 2: "6789（2号車）"}
    lacking = {
        page.months.record(r).card_id: page.months.index(r, 0).data()
        for r in range(page.months.rowCount())
    }
    assert lacking == {1: "6789", 2: "6789（2号車）"}


def test_reconcile_page_lists_the_months_of_the_card_chosen(  # type: ignore[no-untyped-def]
    qtbot, make_window, cli: Cli, shared_store: Path
) -> None:
    # id:2 has a trip a month before the two cards' shared month: listed for id:2 only
    earlier = add_months(clock.today().replace(day=1), -3) + dt.timedelta(days=4)
    cli(
        "trip",
        "add",
        "--card",
        "2号車",
        "--exit",
        f"{earlier.isoformat()}T09:00",
        "--to",
        "静岡",
        "--toll",
        "500",
        check=True,
    )
    shared_month = f"{add_months(clock.today().replace(day=1), -2):%Y-%m}"
    window = make_window(shared_store)
    window.show_page("reconcile")
    page = window.page_widget("reconcile")
    qtbot.waitUntil(lambda: page.card.count() == 2, timeout=30_000)
    months = {}
    for card_id in (1, 2):
        page.select_card(card_id)
        months[card_id] = [page.month.itemData(i) for i in range(page.month.count())]
    assert months == {1: [shared_month], 2: [shared_month, f"{earlier:%Y-%m}"]}


def test_card_filter_tells_cards_sharing_digits_apart(  # type: ignore[no-untyped-def]
    qtbot, make_window, shared_store: Path
) -> None:
    """部署 配送部 selects id:2 (2号車) and not id:1, though both are ****6789: every page shows
    id:2 alone, its trips alone."""
    from etcbook.domain.fleet import CardCriteria

    window = make_window(shared_store)
    card_filter = window.context.card_filter
    qtbot.waitUntil(lambda: len(card_filter.facets) == 2, timeout=30_000)
    card_filter.set_criteria(CardCriteria(department="配送部"))
    assert card_filter.card_ids == {2}
    second = "末尾 6789　2号車（山田）"

    window.show_page("trips")
    trips = window.page_widget("trips")
    trips.refresh()
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    combo = trips.card_filter
    assert [combo.itemData(i) for i in range(1, combo.count())] == [2]
    assert [trips.model.record(r).toll for r in range(trips.model.rowCount())] == [1000]

    window.show_page("cards")
    cards = window.page_widget("cards")
    cards.refresh()
    assert [card.id for card in cards._cards_by_id] == [2]

    for key in ("claims", "reconcile", "evidence"):
        window.show_page(key)
        page = window.page_widget(key)
        page.refresh()
        qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
        shown = [(page.card.itemData(i), page.card.itemText(i)) for i in range(page.card.count())]
        assert shown == [(2, second)], key

    window.show_page("points")
    points = window.page_widget("points")
    qtbot.waitUntil(lambda: points.data is not None, timeout=30_000)
    points.refresh()
    qtbot.waitUntil(lambda: points.card_choice.count() == 1, timeout=30_000)
    assert points.card_choice.itemData(0) == 2

    window.show_page("dashboard")
    dashboard = window.page_widget("dashboard")
    dashboard.refresh()
    qtbot.waitUntil(
        lambda: dashboard._current is not None and dashboard._store_read, timeout=30_000
    )
    assert sum(row.toll for row in dashboard._current.tolls) == 1000


def test_dashboard_names_cards_sharing_digits_apart(  # type: ignore[no-untyped-def]
    qtbot, make_window, shared_store: Path
) -> None:
    """The dashboard's card tiles and the rows of its points chart name each ****6789 card
    apart: the second by its 呼び名 (2号車), not twice 「末尾 6789　山田」."""
    from PySide6.QtWidgets import QLabel

    from etcbook.ui.views.dashboard import CardTile

    page = open_dashboard(qtbot, make_window(shared_store))
    qtbot.waitUntil(
        lambda: (
            page.points_chart.figure is not None
            and len(page.points_chart.figure.axes[0].get_yticklabels()) == 2
        ),
        timeout=30_000,
    )
    tiles = [page.tiles.itemAt(i).widget() for i in range(page.tiles.count())]
    headings = [tile.findChildren(QLabel)[0].text() for tile in tiles if isinstance(tile, CardTile)]
    assert sorted(headings) == ["末尾 6789　2号車（山田）", "末尾 6789　山田"]
    rows = [label.get_text() for label in page.points_chart.figure.axes[0].get_yticklabels()]
    assert len(rows) == 2 and len(set(rows)) == 2
    assert any(row.startswith("6789（2号車）") for row in rows)
