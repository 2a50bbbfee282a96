"""カード・ID台帳 → 一括入力: paste or open a table, preview, apply all or nothing (issue 20, item 4)."""

from __future__ import annotations

from pathlib import Path


def _cards(window) -> dict[str, tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with window.context.connection() as connection:
        rows = connection.execute(text("SELECT last4, holder, driver, department FROM cards"))
        return {last4: (holder, driver, department) for last4, holder, driver, department in rows}


def test_a_pasted_table_with_an_unknown_card_changes_nothing_until_fixed(
    qtbot, demo_window
) -> None:
    window = demo_window
    window.show_page("cards")
    page = window.page_widget("cards")
    before = _cards(window)
    dialog = page.fill_cards()
    qtbot.addWidget(dialog)
    dialog.text.setPlainText(
        "カード\t部署\t利用者\n"
        "1234\t営業部\t\n"
        "********56789012\t物流2課\t佐藤次郎\n"
        "4444\t総務部\t\n"
    )
    dialog.update_preview()
    assert [e.line for e in dialog.errors] == [4]
    assert "末尾4444は登録されていません" in dialog.errors[0].message
    assert not dialog.apply_button.isEnabled()
    assert dialog.error_list.isVisible()
    assert _cards(window) == before

    dialog.text.setPlainText(dialog.text.toPlainText().replace("4444\t総務部\t\n", ""))
    dialog.update_preview()
    assert dialog.errors == []
    assert [c.last4 for c in dialog.changes] == ["1234", "9012"]
    assert dialog.model.index(1, 3).data() == f"{before['9012'][1]} → 佐藤次郎"
    assert dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.applied) as applied:
        dialog.apply_button.click()
    assert applied.args == [2]
    after = _cards(window)
    assert after["1234"] == (before["1234"][0], before["1234"][1], "営業部")
    assert after["9012"] == (before["9012"][0], "佐藤次郎", "物流2課")
    assert after["5678"] == before["5678"]


def test_a_cp932_csv_file_fills_cards_created_without_details(
    qtbot, window, tmp_path: Path
) -> None:
    from etcbook.models.fleet_sample import fleet_csv
    from etcbook.models.imports import import_files

    meisai = tmp_path / "meisai.csv"
    import datetime as dt

    fleet_csv(meisai, cards=12, as_of=dt.date(2026, 12, 1))
    assert import_files(window.context.store, [meisai]).ok
    window.context.ledger_changed.emit()
    statuses = {s for (s,) in _status(window)}
    assert statuses == {"details_missing"}
    listing = tmp_path / "カード一覧 #1.csv"
    lines = ["名義,カード番号,利用者,部署"] + [
        f"株式会社みなと物流,************{last4},運転者{i},物流{i % 3 + 1}課"
        for i, last4 in enumerate(sorted(_cards(window)))
    ]
    listing.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    window.show_page("cards")
    dialog = window.page_widget("cards").fill_cards()
    qtbot.addWidget(dialog)
    dialog.load_file(listing)
    assert dialog.errors == []
    assert "12枚のカードを変更します" in dialog.summary.text()
    dialog.apply()
    cards = _cards(window)
    assert {holder for holder, _d, _p in cards.values()} == {"株式会社みなと物流"}
    assert {dep for _h, _d, dep in cards.values()} == {"物流1課", "物流2課", "物流3課"}
    assert {s for (s,) in _status(window)} == {"active"}
    # The card filter now offers the departments, and narrows to one of them.
    bar = window.card_filter_bar
    departments = [
        bar.combos["department"].itemData(i) for i in range(bar.combos["department"].count())
    ]
    assert departments == [None, "物流1課", "物流2課", "物流3課"]


def _status(window):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with window.context.connection() as connection:
        return connection.execute(text("SELECT status FROM cards")).all()
