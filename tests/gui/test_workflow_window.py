"""The claims workflow in the window, on a shared PostgreSQL ledger: two drivers and the accounts
desk each open their own window (their own login); the database decides who may do what."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QDesktopServices

from etcbook.ui.pages import discover_pages
from tests.unit.server.test_roles import Company, as_user, company  # noqa: F401 (fixture)

WORKFLOW_PAGES = ("trips", "claims", "approvals", "months")

Opener = Callable[[str], object]


@pytest.fixture
def open_as(qtbot, tmp_path: Path, company: Company, monkeypatch) -> Iterator[Opener]:  # noqa: F811
    """Open a window on the company's ledger as ``login`` (its own settings and claim file)."""
    from etcbook.models.store import open_store
    from etcbook.ui import store_access
    from etcbook.ui.context import AppContext
    from etcbook.ui.main_window import MainWindow

    pages = [spec for spec in discover_pages()[0] if spec.key in WORKFLOW_PAGES]
    windows: list[MainWindow] = []

    def open_window(login: str) -> MainWindow:
        url = as_user(company.url, login)
        monkeypatch.setattr(store_access, "open_store", lambda _path: open_store(url))
        settings = QSettings(str(tmp_path / f"{login}.ini"), QSettings.Format.IniFormat)
        context = AppContext(tmp_path / f"{login}.ledger", settings=settings)
        window = MainWindow(context, pages=pages)
        qtbot.addWidget(window)
        windows.append(window)
        window.resize(1024, 700)
        window.show()
        qtbot.waitExposed(window)
        context.open_store_now()
        return window

    yield open_window  # type: ignore[misc]
    for window in windows:
        window.context.operations.wait_for_done()
        window.context.close()


def _offered(window) -> list[str]:  # type: ignore[no-untyped-def]
    nav = window._nav
    return [
        str(nav.item(row).data(Qt.ItemDataRole.UserRole))
        for row in range(nav.count())
        if not nav.item(row).isHidden()
    ]


def _misfits(qtbot, window, key: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Cut text on page ``key`` (every tab of it) at the window's 1024×700."""
    from PySide6.QtWidgets import QApplication, QTabWidget

    from .fit import misfits

    def settle() -> None:
        qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=60_000)
        qtbot.wait(30)
        QApplication.processEvents()

    window.show_page(key)
    settle()
    found = [f"{key}: {p}" for p in misfits(window)]
    for tab in window.page_widget(key).findChildren(QTabWidget):
        for index in range(tab.count()):
            tab.setCurrentIndex(index)
            settle()
            found += [f"{key}/{tab.tabText(index)}: {p}" for p in misfits(window)]
    return found


def _business_trips(ledger: Company) -> None:
    """Every trip is business (purpose 営業, share 100 %); the cards have departments."""
    with psycopg.connect(ledger.url, autocommit=True) as connection:
        connection.execute("UPDATE trips SET business_share = 100, purpose = '営業'")
        connection.execute("UPDATE cards SET department = '東京営業所' WHERE last4 = '1111'")
        connection.execute("UPDATE cards SET department = '大阪営業所' WHERE last4 = '2222'")


def _submit_from_window(qtbot, window, card: str, month: str) -> object:  # type: ignore[no-untyped-def]
    import datetime as dt

    from etcbook.models.workflow import month_bounds

    window.show_page("claims")
    page = window.page_widget("claims")
    first, last = month_bounds(month)
    page.show_claim_period(card, first, last)
    assert page.chosen_trip_ids(), "the month's business trips are ticked"
    before = page.workflow.last_submitted
    page.workflow.submit()
    qtbot.waitUntil(lambda: page.workflow.last_submitted is not before, timeout=60_000)
    submitted = page.workflow.last_submitted
    assert submitted.status == "submitted" and submitted.date_from == first
    assert isinstance(submitted.date_to, dt.date)
    return submitted


def test_approve_and_return_end_to_end(qtbot, open_as, company: Company, monkeypatch) -> None:  # noqa: F811
    _business_trips(company)
    driver_a = open_as(company.driver_a)
    assert _offered(driver_a) == ["trips", "claims"]  # no 承認 / 月締め for a driver
    claim_a = _submit_from_window(qtbot, driver_a, "1111", "2026-03")
    assert claim_a.total == 1000
    # the second driver submits with the CLI; driver A never sees that claim
    company.b(
        "claim",
        "submit",
        "--card",
        "2222",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        check=True,
    )
    claims_a = driver_a.page_widget("claims").workflow
    claims_a.refresh_button.click()
    assert [r.id for r in claims_a.claims.records] == [claim_a.id]
    # a second claim for the same period is refused, in a message box, and nothing is added
    claims_a.submit()
    qtbot.waitUntil(lambda: claims_a.last_box is not None, timeout=60_000)
    assert f"申請中の申請 {claim_a.id} があります" in claims_a.last_box.text()
    assert [r.id for r in claims_a.claims.records] == [claim_a.id]

    desk = open_as(company.accounts)
    assert _offered(desk) == list(WORKFLOW_PAGES)
    desk.show_page("approvals")
    approvals = desk.page_widget("approvals")
    queue = {r.driver: r for r in approvals.queue.records}
    assert set(queue) == {company.driver_a, company.driver_b}
    assert all(r.status == "submitted" for r in queue.values())
    assert {queue[company.driver_a].department, queue[company.driver_b].department} == {
        "東京営業所",
        "大阪営業所",
    }

    # the PDF: the frozen file, read from the server and checked against its SHA-256
    assert approvals.select_claim(claim_a.id)
    assert approvals.preview_is_frozen is True and approvals.shown_pdf_pages >= 1
    opened: list[object] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", opened.append)
    copy = approvals.open_pdf()
    assert copy is not None and len(opened) == 1
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == claim_a.pdf_sha256
    # B submitted on another computer (no folder here): the server still holds the PDF
    claim_b = queue[company.driver_b]
    shutil.rmtree(claim_b.folder)
    assert approvals.select_claim(claim_b.id)
    assert approvals.preview_is_frozen is True and approvals.shown_pdf_pages >= 1
    assert "SHA-256 が記録と一致" in approvals.source.text()

    # a return needs its comment
    assert approvals.select_claim(claim_a.id)
    approvals.comment.clear()
    assert approvals.decide(approve=False) is False
    assert "理由" in approvals.last_box.text()
    approvals.comment.setText("用途を詳しく書いてください")
    assert approvals.decide(approve=False) is True
    assert approvals.select_claim(claim_b.id)
    assert approvals.decide(approve=True) is True
    # the submitter's folder is not on this computer: the approved PDF goes into the desk's own
    approved_pdf = approvals.last_approved_pdf
    assert approved_pdf.name.endswith("_承認済.pdf") and approved_pdf.exists()
    assert not Path(claim_b.folder).exists()
    approvals.status.setCurrentIndex(approvals.status.findData(""))  # every status
    decided = {r.id: r for r in approvals.queue.records}
    assert decided[claim_a.id].status == "returned"
    assert decided[claim_b.id].status == "approved"
    assert decided[claim_b.id].decided_by == company.accounts

    # the month's totals per department and per driver
    approvals.totals_month.setCurrentIndex(approvals.totals_month.findData("2026-03"))
    by_driver = {t.name: t for t in approvals.by_driver.records}
    assert by_driver[company.driver_b].approved == 1000
    assert company.driver_a not in by_driver  # a returned claim is not counted
    assert {t.name: t.total for t in approvals.by_department.records} == {"大阪営業所": 1000}

    # driver A sees the decision and the desk's comment, corrects and submits again
    driver_a.context.ledger_changed.emit()
    claims_a.refresh()
    assert claims_a.select_claim(claim_a.id)
    returned = claims_a.selected_claim()
    assert returned.status == "returned" and returned.decided_by == company.accounts
    assert "用途を詳しく書いてください" in claims_a.detail.text()
    assert "差し戻し" in claims_a.detail.text()
    assert claims_a.correct_button.isEnabled()
    claims_a.correct_selected()
    again = _submit_from_window(qtbot, driver_a, "1111", "2026-03")
    statuses = {r.id: r.status for r in claims_a.claims.records}
    assert statuses == {claim_a.id: "withdrawn", again.id: "submitted"}

    # the desk approves the new one; the driver cannot approve (no page, and the database)
    approvals.refresh()
    approvals.status.setCurrentIndex(approvals.status.findData("submitted"))
    assert [r.id for r in approvals.queue.records] == [again.id]
    assert approvals.select_claim(again.id) and approvals.decide(approve=True)
    claims_a.refresh()
    assert {r.id: r.status for r in claims_a.claims.records}[again.id] == "approved"

    # nothing cut at 1024×700: the driver's claims, the desk's 承認 (both tabs)
    found = _misfits(qtbot, driver_a, "claims") + _misfits(qtbot, desk, "approvals")
    assert not found, "\n".join(found)


def test_a_closed_month_refuses_an_edit_in_the_window(qtbot, open_as, company: Company) -> None:  # noqa: F811
    desk = open_as(company.accounts)
    desk.show_page("months")
    months = desk.page_widget("months")
    assert [m.month for m in months.months.records] == ["2026-04", "2026-03"]
    assert months.select_month("2026-03")
    assert months.close_selected()
    assert {m.month: m.closed for m in months.months.records} == {
        "2026-04": False,
        "2026-03": True,
    }
    assert months.select_month("2026-03") and not months.close_button.isEnabled()

    driver = open_as(company.driver_a)
    driver.show_page("trips")
    trips = driver.page_widget("trips")
    with psycopg.connect(as_user(company.url, company.driver_a), autocommit=True) as connection:
        march, april = (
            int(r[0])
            for r in connection.execute("SELECT id FROM trips ORDER BY exit_at").fetchall()
        )
    assert trips.set_trips([march], purpose="営業") is False
    assert "2026-03 は月締め済みです" in trips.last_refusal.text()
    assert trips.set_trips([april], purpose="営業") is True

    # reopening needs a reason, and the audit log's entry is shown
    assert months.select_month("2026-03")
    months.reason.clear()
    assert months.reopen_selected() is False
    assert "理由" in months.last_box.text()
    months.reason.setText("明細の訂正")
    assert months.reopen_selected() is True
    [entry] = months.reopenings.records
    assert (entry.month, entry.by, entry.reason) == ("2026-03", company.accounts, "明細の訂正")
    assert trips.set_trips([march], purpose="営業") is True
    found = _misfits(qtbot, desk, "months")
    assert not found, "\n".join(found)


def test_the_personal_ledger_has_no_workflow(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """SQLite: one person with every right; the window shows no 承認 / 月締め and no
    submitting (nothing changes for the single user)."""
    shown = _offered(window)
    assert "approvals" not in shown and "months" not in shown
    assert "claims" in [spec.key for spec in window.page_specs]
    window.show_page("approvals")
    assert window.current_page_key != "approvals"
    assert window.page_widget("claims").workflow is None
