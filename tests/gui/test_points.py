"""ポイント・還元額: the engine's figures, the exchange dialog's grid, the planner."""

from __future__ import annotations

from etcbook.ui.views.points import ExchangeDialog


def points_page(qtbot, window):  # type: ignore[no-untyped-def]
    window.show_page("points")
    page = window.page_widget("points")
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    return page


def test_points_page_models_pass_modeltester(qtbot, qtmodeltester, demo_window) -> None:
    page = points_page(qtbot, demo_window)
    page.select_card("1234")
    assert page.lots_model.rowCount() > 0
    assert page.ledger_model.rowCount() > 0
    assert page.rebate_model.rowCount() > 0
    for model in (page.lots_model, page.ledger_model, page.rebate_model):
        qtmodeltester.check(model, force_py=True)
    assert "還元額残高" in page.summary.text()


def test_planner_shows_a_plan_for_a_need(qtbot, qtmodeltester, demo_window) -> None:
    page = points_page(qtbot, demo_window)
    page.select_card("9012")  # no rebate, plenty of NEXCO points
    planner = page.planner
    planner.need_mode.setChecked(True)
    planner.need_yen.setValue(3000)
    with qtbot.waitSignal(planner.planned):
        planner.plan_button.click()
    plan = planner.plan
    assert plan is not None
    assert plan.covered == 3000 and plan.shortfall == 0
    assert planner.exchanges_model.rowCount() == len(plan.exchanges) >= 1
    assert planner.explanation.count() == len(plan.explanation) >= 1
    assert planner.alternatives_model.rowCount() == len(plan.alternatives)
    assert "3,000円" in planner.summary.text()
    qtmodeltester.check(planner.exchanges_model, force_py=True)
    qtmodeltester.check(planner.alternatives_model, force_py=True)


def test_planner_with_planned_trips(qtbot, demo_window) -> None:
    import datetime as dt

    page = points_page(qtbot, demo_window)
    page.select_card("9012")
    planner = page.planner
    planner.add_trip(page.as_of + dt.timedelta(days=3), "nexco", 620)
    planner.add_trip(page.as_of + dt.timedelta(days=5), "nexco", 380)
    assert planner.trips_mode.isChecked()
    plan = planner.make_plan()
    assert plan is not None
    assert plan.demand == 1000
    assert plan.covered == 1000


def test_exchange_dialog_offers_only_grid_units(qtbot, demo_window) -> None:
    page = points_page(qtbot, demo_window)
    page.select_card("9012")
    dialog = page.record_exchange()
    assert isinstance(dialog, ExchangeDialog)
    offered = [(unit.points, unit.yen) for unit, _spin in dialog.spins]
    assert offered == [(1000, 500), (3000, 2500), (5000, 5000)]
    dialog.spins[2][1].setValue(1)
    dialog.spins[0][1].setValue(1)
    assert "6,000P → 5,500円" in dialog.total.text()
    dialog.spins[2][1].setValue(20)
    assert "足りません" in dialog.total.text()
    dialog.reject()
