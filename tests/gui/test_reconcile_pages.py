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
    page.select_card(card)
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


def test_incidents_page_walks_a_lost_card_through(  # type: ignore[no-untyped-def]
    qtbot, demo_window, qtmodeltester
) -> None:
    from PySide6.QtCore import QDateTime

    from etcbook.models.cards import create_card

    with demo_window.context.store.session(write=True) as session:
        create_card(session=session, last4="4321", holder="山田 太郎")
        create_card(session=session, last4="7777", holder="山田花子")
    demo_window.show_page("incidents")
    page = demo_window.page_widget("incidents")
    assert page.incidents.rowCount() == 0
    page.select_card(page.new_card, "1234")
    page.new_kind.setCurrentIndex(page.new_kind.findData("lost"))
    page.new_noticed.setDateTime(QDateTime(2026, 7, 20, 8, 0, 0))
    assert page.open_incident()
    assert page.incidents.rowCount() == 1
    assert page.current_incident() is not None
    assert page.step.currentData() == "issuer_stop"

    def record(step: str, when: QDateTime, **fields: str) -> bool:
        page.step.setCurrentIndex(page.step.findData(step))
        page.step_at.setDateTime(when)
        for name, value in fields.items():
            widget = getattr(page, name)
            if name == "new_card_for_step":
                page.select_card(widget, value)
            else:
                widget.setText(value)
        return page.record_step()

    assert record(
        "issuer_stop", QDateTime(2026, 7, 20, 8, 20, 0), desk="紛失デスク", reference="R-1"
    )
    assert record("mileage_stop", QDateTime(2026, 7, 20, 8, 30, 0))
    assert not record("police_report", QDateTime(2026, 7, 20, 10, 0, 0))
    assert "受理番号" in page.message.text()
    assert record(
        "police_report",
        QDateTime(2026, 7, 20, 10, 0, 0),
        police_station="厚木警察署",
        accepted_number="第123号",
        accepted_on="2026-07-20",
    )
    assert not record("card_change", QDateTime(2026, 7, 25, 23, 50, 0), new_card_for_step="7777")
    assert "名義が違う" in page.message.text()
    assert record("card_change", QDateTime(2026, 7, 25, 23, 50, 0), new_card_for_step="4321")
    states = {p.spec.key: p.state for p in page.steps.records}
    assert states["card_change"] == "done" and states["issuer_stop"] == "done"
    qtmodeltester.check(page.steps, force_py=True)

    page.contact_desk.setText("ETCマイレージサービス事務局")
    page.contact_reference.setText("Q-9")
    page.contact_summary.setText("利用停止を確認")
    assert page.add_contact()
    assert [c.reference for c in page.contacts.records] == ["Q-9"]
    qtmodeltester.check(page.contacts, force_py=True)

    # the demo card 1234 has trips after 2026-07-20 08:20: they are flagged
    assert page.suspicious.rowCount() > 0
    assert all(s.trip.card == "1234" for s in page.suspicious.records)
    qtmodeltester.check(page.suspicious, force_py=True)
    assert page.close_incident()
    assert page.current_incident().closed_at is not None
    assert not page.record_button.isEnabled()
