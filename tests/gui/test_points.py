"""ポイント・還元額: the engine's figures, the exchange dialog's grid, the planner."""

from __future__ import annotations

from PySide6.QtCore import QTimer

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


def test_recording_an_exchange_moves_points_to_rebate(qtbot, demo_window) -> None:
    page = points_page(qtbot, demo_window)
    page.select_card("9012")
    before = page.current_card()
    dialog = page.record_exchange()
    dialog.spins[2][1].setValue(1)  # 5,000P → 5,000円
    with qtbot.waitSignal(page.loaded, timeout=30_000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert not dialog.isVisible()
    after = page.current_card()
    assert after.rebate_balance == before.rebate_balance + 5000
    nexco = {pool.pool: pool.points for pool in after.pools}["nexco"]
    assert nexco == {pool.pool: pool.points for pool in before.pools}["nexco"] - 5000


def test_an_exchange_beyond_the_points_is_refused(qtbot, demo_window) -> None:
    from PySide6.QtWidgets import QMessageBox

    from etcbook import clock
    from etcbook.domain.points import ExchangeUnit

    page = points_page(qtbot, demo_window)
    page.select_card("5678")  # 106 NEXCO points
    changes: list[bool] = []
    demo_window.context.ledger_changed.connect(lambda: changes.append(True))
    at = clock.now()  # the card holds 106 NEXCO points now
    assert not page.record("5678", [(at, "nexco", (ExchangeUnit(1000, 500),))])
    assert changes == []
    boxes = [box for box in page.findChildren(QMessageBox) if box.isVisible()]
    assert boxes and "足りません" in boxes[0].text()
    boxes[0].close()


def test_apply_the_plan_records_its_exchanges(qtbot, demo_window) -> None:
    page = points_page(qtbot, demo_window)
    page.select_card("9012")
    planner = page.planner
    planner.need_yen.setValue(3000)
    plan = planner.make_plan()
    assert plan.exchanges
    yen = sum(exchange.yen for exchange in plan.exchanges)
    asked: list[str] = []
    QTimer.singleShot(0, lambda: answer(planner, asked, record=False))
    assert not planner.apply_plan()  # asked first; "やめる" records nothing
    assert page.current_card().rebate_balance == 0
    assert "カード末尾9012" in asked[0] and "円）" in asked[0]
    QTimer.singleShot(0, lambda: answer(planner, asked, record=True))
    with qtbot.waitSignal(page.loaded, timeout=30_000):
        assert planner.apply_plan()
    assert page.current_card().rebate_balance == yen
    assert "記録しました" in planner.summary.text()


def answer(planner, asked: list[str], *, record: bool) -> None:  # type: ignore[no-untyped-def]
    """Answer the confirmation of 「この計画を交換として記録」."""
    box = planner.confirm_box
    asked.append(box.text())
    if record:
        planner.confirm_record_button.click()
    else:
        box.reject()


def test_a_mistaken_exchange_is_reversed_and_kept_in_the_audit_log(qtbot, demo_window) -> None:
    import datetime as dt

    from sqlalchemy import text

    from etcbook import clock
    from etcbook.domain.points import ExchangeUnit

    page = points_page(qtbot, demo_window)
    page.select_card("9012")
    balance = page.current_card().rebate_balance
    with qtbot.waitSignal(page.loaded, timeout=30_000):
        assert page.record(
            "9012", [(clock.now() - dt.timedelta(minutes=1), "nexco", (ExchangeUnit(1000, 500),))]
        )
    assert page.current_card().rebate_balance == balance + 500
    dialog = page.reverse_record()
    assert "交換" in dialog.choice.currentText() and "1,000P → 500円" in dialog.choice.currentText()
    dialog.reverse_button.click()  # no reason: refused
    assert dialog.problem.isVisibleTo(dialog) and "理由" in dialog.problem.text()
    dialog.reason.setText("サイトでは交換していない")
    with qtbot.waitSignal(page.loaded, timeout=30_000):
        dialog.reverse_button.click()
    assert page.current_card().rebate_balance == balance
    with demo_window.context.connection() as connection:
        actions = (
            connection.execute(
                text("SELECT action FROM audit_log WHERE entity = 'point_exchanges' ORDER BY id")
            )
            .scalars()
            .all()
        )
        kept = connection.execute(
            text("SELECT count(*) FROM point_exchanges WHERE reversed_at IS NOT NULL")
        ).scalar()
    assert actions[-2:] == ["add", "reverse"] and kept == 1
