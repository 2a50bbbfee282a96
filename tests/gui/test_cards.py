"""カード・ID台帳: grouping, validation as you type, saving."""

from __future__ import annotations

from etcbook.ui.card_dialog import CardDialog
from etcbook.ui.views.cards import CARD_ROLE


def test_cards_are_grouped_by_household_and_company(qtbot, qtmodeltester, demo_window) -> None:
    window = demo_window
    window.show_page("cards")
    page = window.page_widget("cards")
    model = page.model
    groups = [model.item(row, 0).text() for row in range(model.rowCount())]
    assert sorted(groups) == sorted(["株式会社みなと物流（法人・1枚）", "山田家（世帯・2枚）"])
    household = model.item(groups.index("山田家（世帯・2枚）"), 0)
    members = {household.child(r, 0).data(CARD_ROLE) for r in range(household.rowCount())}
    assert members == {"1234", "5678"}
    qtmodeltester.check(model, force_py=True)


def test_card_dialog_validates_as_you_type(qtbot, demo_window) -> None:
    dialog = CardDialog(demo_window.context, parent=demo_window)
    qtbot.addWidget(dialog)
    assert not dialog.save_button.isEnabled()
    qtbot.keyClicks(dialog.last4.edit, "12a")
    assert "数字4桁" in dialog.last4.message.text()
    dialog.last4.edit.setText("4321")
    assert dialog.last4.valid
    dialog.holder.edit.setText("山田次郎")
    assert dialog.save_button.isEnabled()
    qtbot.keyClicks(dialog.obu.edit, "12345")
    assert not dialog.obu.valid
    assert "19桁" in dialog.obu.message.text()
    assert not dialog.save_button.isEnabled()
    dialog.obu.edit.setText("1234-5678-9012-3456-789")
    assert dialog.obu.valid
    dialog.expires.edit.setText("13/27")
    assert not dialog.expires.valid
    dialog.expires.edit.setText("08/27")
    assert dialog.expires.valid and "2027年08月末まで" in dialog.expires.message.text()
    assert dialog.save_button.isEnabled()
    with qtbot.waitSignal(demo_window.context.ledger_changed):
        dialog.save_button.click()
    page = demo_window.page_widget("cards")
    demo_window.show_page("cards")
    page.refresh()
    page.select_card("4321")
    assert page.selected_card() == "4321"


def test_duplicate_card_is_refused_in_the_dialog(qtbot, demo_window) -> None:
    dialog = CardDialog(demo_window.context, parent=demo_window)
    qtbot.addWidget(dialog)
    dialog.last4.edit.setText("1234")
    dialog.holder.edit.setText("誰か")
    dialog.save_button.click()
    assert "すでに登録" in dialog.problem.text()
