"""Empty and stale states: empty charts say what to do, expired points stay listed, and
defaults use Japan's date whatever the computer's zone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .test_column_widths import _store_with_a_card


def _figure_texts(chart) -> str:  # type: ignore[no-untyped-def]
    figure = chart.figure
    texts = [t.get_text() for t in figure.texts]
    for axes in figure.axes:
        texts += [t.get_text() for t in axes.texts]
        texts += [label.get_text() for label in axes.get_xticklabels()]
    return " ".join(texts)


def test_empty_dashboard_charts_say_there_is_no_data_yet(
    qtbot, make_window, tmp_path: Path
) -> None:
    window = make_window(_store_with_a_card(tmp_path / "store.sqlite3"))
    window.show_page("dashboard")
    page = window.page_widget("dashboard")
    qtbot.waitUntil(lambda: page.data is not None and page._engine_shown, timeout=30_000)
    for chart in (page.tolls_chart, page.points_chart):
        text = _figure_texts(chart)
        assert "まだ" in text and "明細CSV" in text, text
        assert "0P" not in text


def test_expired_points_stay_listed_marked_expired(qtbot, make_window, tmp_path: Path) -> None:
    from etcbook.domain.rules import load_rules
    from etcbook.models.mileage_changes import record_adjustment
    from etcbook.models.store import open_store

    path = _store_with_a_card(tmp_path / "store.sqlite3")
    store = open_store(path)
    with store.transaction() as connection:
        record_adjustment(
            connection=connection, rules=load_rules(), last4="1111", on=dt.date(2020, 5, 20),
            reason="キャンペーン加算", pool="nexco", points=1200,
        )  # fmt: skip
    store.close()
    window = make_window(path)
    window.show_page("points")
    page = window.page_widget("points")
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    rows = page.lots_model.records
    assert [(r.granted_on, r.expires_on, r.granted, r.remaining, r.status) for r in rows] == [
        (dt.date(2020, 5, 20), dt.date(2022, 3, 31), 1200, 0, "失効（1,200P）")
    ]


def test_card_dialog_and_exchange_defaults_use_japans_date(qtbot, monkeypatch, demo_window) -> None:
    from etcbook import clock

    japan = dt.datetime(2031, 1, 2, 8, 30)  # the computer's own clock says something else
    monkeypatch.setattr(clock, "now", lambda: japan)
    window = demo_window
    window.show_page("cards")
    cards = window.page_widget("cards")
    dialog = cards.add_card()
    assert dialog.last_login.date().toPython() == japan.date()
    dialog.reject()
    window.show_page("points")
    points = window.page_widget("points")
    qtbot.waitUntil(lambda: points.data is not None, timeout=30_000)
    points.select_card("9012")
    exchange = points.record_exchange()
    assert exchange.when.dateTime().toPython() == japan
    exchange.reject()


def test_the_planner_says_when_every_point_has_expired(qtbot, make_window, tmp_path: Path) -> None:
    from etcbook.domain.rules import load_rules
    from etcbook.models.mileage_changes import record_adjustment
    from etcbook.models.store import open_store

    path = _store_with_a_card(tmp_path / "store.sqlite3")
    store = open_store(path)
    with store.transaction() as connection:
        record_adjustment(
            connection=connection, rules=load_rules(), last4="1111", on=dt.date(2020, 5, 20),
            reason="キャンペーン加算", pool="nexco", points=1200,
        )  # fmt: skip
    store.close()
    window = make_window(path)
    window.show_page("points")
    page = window.page_widget("points")
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    page.planner.need_yen.setValue(2000)
    plan = page.planner.make_plan()
    assert plan is not None and plan.shortfall
    assert "すべて失効しています（これまでの失効 1,200P）" in page.planner.summary.text()
