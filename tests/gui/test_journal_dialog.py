"""「会計ソフト用に書き出す」 on the 経費精算 page: preview, export off the GUI thread, settings."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from PySide6.QtCore import QDate

from etcbook.export.journal import Product


def open_dialog(demo_window):  # type: ignore[no-untyped-def]
    demo_window.show_page("claims")
    page = demo_window.page_widget("claims")
    page.select_card("9012")
    page.date_from.setDate(QDate(2026, 9, 1))
    page.date_to.setDate(QDate(2026, 9, 30))
    page.load()
    assert page.journal_button.text() == "会計ソフト用に書き出す…"
    return page, page.open_journal_export()


def test_preview_matches_the_claim_and_the_export_is_remembered(  # type: ignore[no-untyped-def]
    demo_window, qtbot, tmp_path: Path
) -> None:
    page, dialog = open_dialog(demo_window)
    claimed = page.current_claim().totals.claimed
    assert dialog.booking is not None and dialog.booking.total == claimed
    assert f"{claimed:,}円" in dialog.summary.text()
    assert dialog.skipped.rowCount() == 0 and dialog.export_button.isEnabled()
    assert not dialog.encoding.isEnabled()  # desktop 弥生: cp932 only
    dialog.select_product(Product.MF)
    assert dialog.encoding.isEnabled()
    assert dialog.suggested_name() == "2026-09_CARD9012_MF_仕訳.csv"

    target = tmp_path / "月次 #9" / "仕訳.csv"
    dialog.export_to(target)
    qtbot.waitUntil(lambda: dialog.last_file is not None, timeout=20_000)
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("cp932"), newline="")))
    assert sum(int(r[8]) for r in rows[1:]) == claimed  # no reversal in this month
    assert "書き出しました" in dialog.outcome.text()
    # Refreshed after the export: every trip is now already exported, nothing to write.
    assert dialog.booking.entries == () and not dialog.export_button.isEnabled()
    assert dialog.skipped.rowCount() == len(rows) - 1
    assert "書き出し済み" in dialog.skipped.item(0, 2).text()
    dialog.again.setChecked(True)
    assert len(dialog.booking.entries) == len(rows) - 1


def test_provisional_trips_are_listed_with_their_reason(demo_window) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with demo_window.context.transaction() as connection:
        connection.execute(text("UPDATE trips SET business_share = 50 WHERE status = '確認中'"))
    _page, dialog = open_dialog(demo_window)
    dialog.card.setCurrentIndex(dialog.card.findData(None))  # すべてのカード
    dialog.date_from.setDate(QDate(2026, 10, 1))
    dialog.date_to.setDate(QDate(2026, 10, 31))
    reasons = [dialog.skipped.item(r, 2).text() for r in range(dialog.skipped.rowCount())]
    assert any(reason.startswith("確認中") for reason in reasons)
    before = len(dialog.booking.entries)
    dialog.include_provisional.setChecked(True)
    assert len(dialog.booking.entries) > before


def test_settings_dialog_saves_all_or_nothing(demo_window) -> None:  # type: ignore[no-untyped-def]
    from etcbook.domain.journal import CreditKind, Treatment
    from etcbook.models.journal import load_settings

    _page, dialog = open_dialog(demo_window)
    settings_dialog = dialog.edit_settings()
    kind, account, sub, _wallet = settings_dialog.card_rows["1234"]
    kind.setCurrentIndex(kind.findData("employee"))
    assert account.text() == "未払金" and sub.text()  # the employee's defaults
    account.setText("未払費用")
    settings_dialog.treatment.setCurrentIndex(settings_dialog.treatment.findData("income"))
    settings_dialog.edits["debit_account"].setText("")
    assert not settings_dialog.submit()
    assert "debit_account" in settings_dialog.problem.text()
    with demo_window.context.connection() as connection:
        unchanged, _ = load_settings(connection=connection)
    assert unchanged.treatment is Treatment.NET
    settings_dialog.edits["debit_account"].setText("車両費")
    assert settings_dialog.submit()
    with demo_window.context.connection() as connection:
        saved, credits = load_settings(connection=connection)
    assert (saved.debit_account, saved.treatment) == ("車両費", Treatment.INCOME)
    assert credits["1234"].kind is CreditKind.EMPLOYEE
    assert credits["1234"].account == "未払費用"
