"""The 証憑 and 経費精算 pages on the demo store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor, QImage, QPixmap

from etcbook import clock
from etcbook.export.bundle import verify_bundle
from etcbook.export.claim_pdf import claim_pdf_bytes
from etcbook.export.sample import sample_claim


def choose_card(page, last4: str) -> None:  # type: ignore[no-untyped-def]
    """Choose the card with these digits in the page's 追加 form (its choices hold card ids)."""
    (index,) = [
        i for i in range(page.card.count()) if page.card.itemText(i).startswith(f"末尾 {last4}")
    ]
    page.card.setCurrentIndex(index)


def test_pages_are_registered(demo_window) -> None:  # type: ignore[no-untyped-def]
    keys = [spec.key for spec in demo_window.page_specs]
    assert "evidence" in keys and "claims" in keys
    titles = {spec.key: spec.title for spec in demo_window.page_specs}
    assert titles["evidence"] == "証憑" and titles["claims"] == "経費精算"


def test_evidence_page_adds_previews_and_searches(  # type: ignore[no-untyped-def]
    demo_window, qtmodeltester, tmp_path: Path
) -> None:
    demo_window.show_page("evidence")
    page = demo_window.page_widget("evidence")
    assert page.isVisible()
    kept = page.documents.rowCount()
    assert kept > 0  # the sample's originals
    qtmodeltester.check(page.documents)
    qtmodeltester.check(page.months)
    lacking = {(m.card, m.month) for m in page.months.records}
    assert ("9012", "2026-09") in lacking  # the sample's corporate card lacks one certificate
    assert not any(
        card == "9012" and month != "2026-09" and month >= "2025-11" for card, month in lacking
    )

    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(claim_pdf_bytes(sample_claim(3)))
    choose_card(page, "9012")
    page.kind.setCurrentIndex(page.kind.findData("certificate"))
    page.month.setText("2026-09")
    page.amount.setText("12,345")
    page.counterparty.setText("テスト証明")
    messages = page.add_files([certificate])
    assert messages and messages[0].startswith("保管しました")
    assert page.documents.rowCount() == kept + 1
    added = next(
        page.documents.record(row)
        for row in range(page.documents.rowCount())
        if page.documents.record(row).counterparty == "テスト証明"
    )
    assert added.path.name == "2026-09_CARD9012_利用証明.pdf"
    row = next(r for r in range(page.documents.rowCount()) if page.documents.record(r) == added)
    file_cell = page.documents.index(row, page.documents.columnCount() - 1)
    assert file_cell.data() == added.path.name  # the name; the folder is the 月 column
    assert added.relpath in file_cell.data(Qt.ItemDataRole.ToolTipRole)
    assert added.path.read_bytes() == certificate.read_bytes()
    assert ("9012", "2026-09") not in {(m.card, m.month) for m in page.months.records}

    page.show_preview(added)
    pixmap = page.preview.pixmap()
    assert pixmap is not None and not pixmap.isNull()
    assert pixmap.width() > 100

    from vaultkit import tamper

    tamper(demo_window.context.store, added, b"%PDF-1.4 forged")
    page.show_preview(added)  # altered bytes are never shown: a sentence instead
    assert "内容が記録と違います" in page.preview.text()
    tamper(demo_window.context.store, added, certificate.read_bytes())

    again = page.add_files([certificate])
    assert "すでに保管" in again[0]
    assert page.documents.rowCount() == kept + 1

    page.search_counterparty.setText("存在しない")
    page.refresh()
    assert page.documents.rowCount() == 0
    page.search_counterparty.setText("テスト")
    page.search_min.setText("10000")
    page.refresh()
    assert page.documents.rowCount() == 1


def test_pasted_screenshot_is_kept_as_the_chosen_screen(demo_window) -> None:  # type: ignore[no-untyped-def]
    demo_window.show_page("evidence")
    page = demo_window.page_widget("evidence")
    kept = page.documents.rowCount()
    choose_card(page, "1234")
    image = QImage(200, 120, QImage.Format.Format_RGB32)
    image.fill(QColor("steelblue"))
    messages = page.paste_screenshot(image, kind="screen_rebate")
    assert messages[0].startswith("保管しました")
    assert page.documents.rowCount() == kept + 1
    screens = [
        page.documents.record(row)
        for row in range(page.documents.rowCount())
        if page.documents.record(row).kind == "screen_rebate"
    ]
    assert len(screens) == 1
    document = screens[0]
    today = clock.today()
    assert document.path.name == f"{today.isoformat()}_CARD1234_還元額残高.png"
    page.show_preview(document)
    assert isinstance(page.preview.pixmap(), QPixmap)

    page.remove(document.id, "撮り直し")
    assert page.documents.rowCount() == kept
    assert "ごみ箱" in page.status.text()


def test_claims_page_previews_totals_and_exports(  # type: ignore[no-untyped-def]
    demo_window, qtbot, qtmodeltester, tmp_path: Path
) -> None:
    demo_window.show_page("claims")
    page = demo_window.page_widget("claims")
    page.select_card("9012")
    page.date_from.setDate(QDate(2026, 9, 1))
    page.date_to.setDate(QDate(2026, 9, 30))
    page.load()
    qtmodeltester.check(page.lines)
    records = page.lines.records
    assert records
    chosen = page.lines.chosen()
    assert chosen == [line for line in records if line.business_share > 0]
    claim = page.current_claim()
    assert claim is not None
    before = claim.totals.claimed
    assert f"{before:,}円" in page.totals.text()

    first_chosen = next(i for i, line in enumerate(records) if line.business_share > 0)
    page.lines.set_chosen(first_chosen, False)
    after = page.current_claim().totals.claimed
    assert after == before - records[first_chosen].claimed
    assert f"{after:,}円" in page.totals.text()
    index = page.lines.index(first_chosen, 0)
    assert page.lines.data(index, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked

    page.export_to(tmp_path / "out")
    qtbot.waitUntil(lambda: page.last_outputs is not None, timeout=20_000)
    outputs = page.last_outputs
    assert outputs.claimed_total == after
    assert outputs.pdf.is_file() and outputs.csv.is_file()
    assert verify_bundle(outputs.bundle).intact
    assert page.open_button.isEnabled()


@pytest.mark.parametrize(
    ("today", "shown"),
    [
        # last month (September) has business trips on the corporate card: it is shown
        (dt.date(2026, 10, 15), (dt.date(2026, 9, 1), dt.date(2026, 9, 30))),
        # the sample ends in October: in December the page opens on October, not on nothing
        (dt.date(2026, 12, 10), (dt.date(2026, 10, 1), dt.date(2026, 10, 31))),
    ],
)
def test_claims_page_opens_on_the_latest_month_with_business_trips(  # type: ignore[no-untyped-def]
    make_window, demo_store_path: Path, monkeypatch: pytest.MonkeyPatch, today, shown
) -> None:
    monkeypatch.setattr(clock, "today", lambda: today)
    window = make_window(demo_store_path)
    window.show_page("claims")
    page = window.page_widget("claims")
    assert page.current_last4() == "9012"  # the card with the most business trips
    period = (page.date_from.date().toPython(), page.date_to.date().toPython())
    assert period == shown
    assert page.lines.chosen()
    assert all(shown[0] <= line.exit_at.date() <= shown[1] for line in page.lines.records)


def test_claims_page_says_when_the_chosen_period_has_no_trips(demo_window) -> None:  # type: ignore[no-untyped-def]
    demo_window.show_page("claims")
    page = demo_window.page_widget("claims")
    page.date_from.setDate(QDate(2027, 1, 1))
    page.date_to.setDate(QDate(2027, 1, 31))
    page.load()
    assert page.lines.rowCount() == 0
    assert "2027/01/01〜2027/01/31 に末尾9012の走行はありません" in page.totals.text()
    page.refresh()  # the page shown again keeps the period the user chose
    assert page.date_from.date() == QDate(2027, 1, 1)


def test_preview_and_claim_bundle_from_originals_kept_in_the_database(
    pg_url: str, tmp_path: Path
) -> None:
    """On a PostgreSQL ledger the pages read originals from the database (no file here)."""
    from pathlib import PurePosixPath

    from etcbook.export.bundle import write_claim_outputs
    from etcbook.models.store import open_store
    from etcbook.models.vault import add_document, original_files, read_original
    from etcbook.ui.views.evidence import render_preview

    source = tmp_path / "certificate.pdf"
    source.write_bytes(claim_pdf_bytes(sample_claim(3)))
    store = open_store(pg_url)
    try:
        document = add_document(
            store=store, source=source, kind="certificate", card="1234", month="2026-09"
        )
        assert document.path is None
        shown = render_preview(
            PurePosixPath(document.name), data=read_original(store=store, document=document)
        )
        assert isinstance(shown, QPixmap) and shown.width() > 100
        outputs = write_claim_outputs(
            sample_claim(3), tmp_path / "out", original_files(store, [document])
        )
    finally:
        store.close()
    assert verify_bundle(outputs.bundle).intact
    assert [a.file_name for a in outputs.claim.attachments] == [document.name]
