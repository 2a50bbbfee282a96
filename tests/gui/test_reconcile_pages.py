"""The 月次照合 and 紛失・トラブル pages (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate

from tests.unit.reconcile.planted import PLANTED_JULY, PLANTED_MAY

HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)


def _csv(path: Path, card: str, rows: list[tuple[str, str, str, int, str]]) -> Path:
    lines = [HEADER_15]
    for exit_text, entry_ic, exit_ic, toll, remarks in rows:
        exit_at = dt.datetime.fromisoformat(exit_text)
        entry_at = exit_at - dt.timedelta(minutes=20)
        lines.append(
            f"{entry_at:%y/%m/%d},{entry_at:%H:%M},{exit_at:%y/%m/%d},{exit_at:%H:%M},"
            f"{entry_ic},{exit_ic},,,{toll},,,1,1234,{'*' * 12}{card},{remarks}"
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return path


def _planted_store(path: Path, tmp_path: Path) -> Path:
    from etcbook.models.cards import create_card
    from etcbook.models.imports import import_files
    from etcbook.models.store import open_store

    store = open_store(path)
    with store.session(write=True) as session:
        create_card(session=session, last4="1234", holder="山田太郎", mileage_id="M0012345678")
    result = import_files(
        store,
        [
            _csv(tmp_path / "may.csv", "1234", PLANTED_MAY),
            _csv(tmp_path / "july.csv", "1234", PLANTED_JULY),
        ],
    )
    assert result.committed
    store.close()
    return path


def _open_reconcile(qtbot, window, card: str, month: str):  # type: ignore[no-untyped-def]
    window.show_page("reconcile")
    page = window.page_widget("reconcile")
    qtbot.waitUntil(lambda: page.report is not None, timeout=20_000)
    page.card.setCurrentIndex(page.card.findData(card))
    page.month.setCurrentIndex(page.month.findData(month))
    qtbot.waitUntil(
        lambda: (
            page.report is not None
            and f"{page.report.result.month:%Y-%m}" == month
            and not window.context.operations.busy
        ),
        timeout=20_000,
    )
    return page


def test_reconcile_page_shows_the_planted_month_like_the_cli(  # type: ignore[no-untyped-def]
    qtbot, make_window, tmp_path: Path, qtmodeltester
) -> None:
    window = make_window(_planted_store(tmp_path / "planted.sqlite3", tmp_path))
    page = _open_reconcile(qtbot, window, "1234", "2025-07")
    page.as_of.setDate(QDate(2025, 9, 1))
    page.closing.setText(f"{1395 + 1000 - 600:,}")
    page.statement.setText(str(11854 - 600))
    page.points_edit("nexco").setText("1185")
    before = page.report
    page.run_button.click()
    qtbot.waitUntil(lambda: page.report is not before and not page.loading, timeout=20_000)
    found = [(f.kind, f.difference, f.amount) for f in page.findings.records]
    assert found == [
        ("morning_evening_next_month", "rebate_closing", 1395),
        ("unrecorded_exchange", "rebate_closing", 400),
        ("unrecorded_exchange", "statement_total", -600),
        ("rounding", "points", 2),
    ]
    assert page.status.text() == "差はすべて説明できました。"
    qtmodeltester.check(page.equations, force_py=True)
    qtmodeltester.check(page.findings, force_py=True)
    page.findings_view.selectRow(0)
    assert [t.trip_id for t in page.trips.records] == [2, 3, 4, 5, 6]
    qtmodeltester.check(page.trips, force_py=True)

    memo = page.memo_text()
    assert "ETCマイレージ お問い合わせメモ" in memo
    assert "7月1日7時、入口厚木→出口横浜町田、請求額930円" in memo
    pdf = page.save_memo_pdf(tmp_path / "memo.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")

    before = page.report
    page.mark_button.click()
    qtbot.waitUntil(lambda: page.report is not before and not page.loading, timeout=20_000)
    assert page.report.snapshot is not None
    assert page.snapshot.text().startswith("照合済み")


def test_reconcile_page_on_the_demo_store(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    page = _open_reconcile(qtbot, demo_window, "1234", "2026-07")
    result = page.report.result
    assert [e.key for e in result.equations][:2] == ["rebate", "statement"]
    assert page.findings.rowCount() == 0
    this_month = result.facts.morning_evening
    assert this_month is not None
    page.closing.setText(str(result.facts.rebate.closing + this_month.total))
    before = page.report
    page.run_button.click()
    qtbot.waitUntil(lambda: page.report is not before and not page.loading, timeout=20_000)
    assert [f.kind for f in page.findings.records] == ["morning_evening_next_month"]
    page.closing.setText("abc")
    page.run_button.click()
    assert "金額ではありません" in page.status.text()
