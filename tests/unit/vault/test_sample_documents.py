"""The sample store keeps originals in its vault: statements, certificates and 明細CSV files
that agree with its trips, so the 証憑 page, the missing-months view and claims have content."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from etcbook.models.demo import CERTIFICATE_GAP, KEPT_FROM, fill_demo
from etcbook.models.dialect import month_of
from etcbook.models.mileage_inputs import trip_results_for
from etcbook.models.reminders import dashboard_reminders
from etcbook.models.store import Store, open_store
from etcbook.models.vault import (
    DocumentSearch,
    month_coverage,
    read_original,
    search_documents,
    verify_vault,
)

pytestmark = pytest.mark.both_backends


@pytest.fixture
def demo(demo_target: Path | str) -> Iterator[Store]:
    store = open_store(demo_target)
    yield store
    store.close()


def _month_sums(store: Store, last4: str) -> tuple[dict[str, int], dict[str, int]]:
    """Month → (Σ toll, Σ billed as the engine replays it) of the card's trips."""
    with store.engine.connect() as connection:
        results = trip_results_for(connection=connection, last4=[last4], as_of=dt.date(2027, 1, 1))
        rows = connection.execute(
            text(
                f"SELECT t.id, {month_of('t.exit_at', connection)}, t.toll FROM trips t"
                " JOIN cards c ON c.id = t.card_id WHERE c.last4 = :last4"
            ),
            {"last4": last4},
        ).all()
    tolls: dict[str, int] = defaultdict(int)
    billed: dict[str, int] = defaultdict(int)
    for trip_id, month, toll in rows:
        tolls[month] += toll
        billed[month] += results[trip_id].billed
    return tolls, billed


def test_every_kept_original_is_intact_and_private(demo: Store) -> None:
    check = verify_vault(store=demo)
    documents = search_documents(store=demo)
    assert check.checked == len(documents) > 0
    assert check.missing == () and check.altered == ()
    for document in documents:
        assert len(read_original(store=demo, document=document)) == document.size
        if document.path is not None:  # a file on this computer (SQLite)
            assert document.path.stat().st_mode & 0o222 == 0  # read-only, as any original


def test_statement_and_certificate_amounts_are_the_months_figures(demo: Store) -> None:
    """Each statement totals what the card was billed (toll less rebate), each certificate the
    tolls; card 1234 uses its rebate, so there the two differ."""
    documents = search_documents(store=demo)
    for last4 in ("1234", "9012"):
        tolls, billed = _month_sums(demo, last4)
        statements = {d.month: d for d in documents if d.card == last4 and d.kind == "statement"}
        assert statements, last4
        for month, statement in statements.items():
            assert statement.amount == billed[month], (last4, month)
            assert statement.date is not None and statement.date.day == 10
    tolls, billed = _month_sums(demo, "1234")
    assert any(tolls[month] != billed[month] for month in tolls)
    tolls, _ = _month_sums(demo, "9012")
    certificates = [d for d in documents if d.kind == "certificate"]
    assert {d.card for d in certificates} == {"9012"}
    for certificate in certificates:
        assert certificate.amount == tolls[certificate.month]
        assert certificate.counterparty == "ETC利用照会サービス"


def test_the_pdfs_embed_their_font_and_say_they_are_samples(demo: Store) -> None:
    pdfs = [d for d in search_documents(store=demo) if d.kind in ("statement", "certificate")]
    assert pdfs
    for document in pdfs:
        data = read_original(store=demo, document=document)
        assert data.startswith(b"%PDF") and b"/FontFile2" in data
        assert b"IPAexGothic" in data


def test_the_missing_months_view_shows_the_gaps_left_on_purpose(demo: Store) -> None:
    coverage = {
        (c.card, c.month): c for c in month_coverage(store=demo, today=dt.date(2026, 11, 22))
    }
    kept = f"{KEPT_FROM:%Y-%m}"
    gap = f"{CERTIFICATE_GAP:%Y-%m}"
    corporate = [c for (card, month), c in coverage.items() if card == "9012" and month >= kept]
    assert corporate and all(c.statement for c in corporate)
    assert [c.month for c in corporate if not c.certificate] == [gap]
    assert not coverage[("1234", "2025-10")].statement and coverage[("1234", kept)].statement
    assert not any(
        c.statement or c.certificate for (card, _), c in coverage.items() if card == "5678"
    )


def test_the_latest_csv_of_card_1234_is_kept_in_two_versions(demo: Store) -> None:
    csvs = search_documents(store=demo, search=DocumentSearch(card="1234", kind="detail_csv"))
    assert [d.version for d in csvs] == [1, 2]
    assert {d.month for d in csvs} == {"2026-10"}
    assert csvs[1].supersedes_id == csvs[0].id
    headers = [
        read_original(store=demo, document=d).decode("cp932").split("\r\n", 1)[0] for d in csvs
    ]
    assert "還元額適用料金" not in headers[0] and "還元額適用料金" in headers[1]


def test_only_cards_without_kept_downloads_are_reminded_of_the_window(demo: Store) -> None:
    with demo.engine.connect() as connection:
        reminders = dashboard_reminders(connection=connection, as_of=dt.date(2026, 12, 4))
    reminded = {r.card for r in reminders if r.kind == "statement_window"}
    assert reminded == {"1234", "5678"}


def test_the_sample_is_the_same_every_time(tmp_path: Path, demo: Store) -> None:
    again = open_store(tmp_path / "again" / "demo.sqlite3")
    try:
        counts = fill_demo(again)
        first = {(d.relpath, d.sha256) for d in search_documents(store=demo)}
        second = {(d.relpath, d.sha256) for d in search_documents(store=again)}
    finally:
        again.close()
    assert counts["documents"] == len(second)
    assert first == second
