"""From the demo store to a claim: trips with a business share, and the vault's originals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from etcbook.models.claims import ClaimError, claim_from_store, months_between
from etcbook.models.store import Store, open_store
from etcbook.models.trips import TripFilter, list_trip_rows
from etcbook.models.vault import DocumentSearch, add_document, remove_document, search_documents

SEPTEMBER = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))

pytestmark = pytest.mark.both_backends


@pytest.fixture
def demo(demo_target: Path | str) -> Store:
    store = open_store(demo_target)
    yield store
    store.close()


def test_the_claim_holds_the_business_trips_of_card_and_period(demo: Store) -> None:
    claim, originals = claim_from_store(
        store=demo, card="9012", date_from=SEPTEMBER[0], date_to=SEPTEMBER[1]
    )
    with demo.engine.connect() as connection:
        rows = list_trip_rows(
            connection=connection,
            trip_filter=TripFilter(card="9012", date_from=SEPTEMBER[0], date_to=SEPTEMBER[1]),
        )
    business = [r for r in rows if r["business_share"] > 0]
    assert business, "the demo store has business trips on the corporate card"
    assert len(claim.lines) == len(business)
    assert [ln.exit_at for ln in claim.lines] == sorted(ln.exit_at for ln in claim.lines)
    assert claim.totals.claimed == sum(
        (r["toll"] - (r["rebate_applied"] or 0)) * r["business_share"] // 100 for r in business
    )
    assert claim.header.card_last4 == "9012"
    assert claim.header.department  # from the trips
    assert claim.header.mileage_id
    # The sample keeps that month's statement and 明細CSV; its certificate is the one missing.
    assert sorted((d.kind, d.month, d.version) for d in originals) == [
        ("detail_csv", "2026-09", 1),
        ("statement", "2026-09", 1),
    ]


def test_chosen_trips_and_header_overrides(demo: Store) -> None:
    with demo.engine.connect() as connection:
        ids = [
            r["id"]
            for r in list_trip_rows(
                connection=connection,
                trip_filter=TripFilter(card="9012", date_from=SEPTEMBER[0], date_to=SEPTEMBER[1]),
            )
        ][:3]
    claim, _ = claim_from_store(
        store=demo,
        card="9012",
        date_from=SEPTEMBER[0],
        date_to=SEPTEMBER[1],
        trip_ids=ids,
        claimant="佐藤 一郎",
        department="営業部",
        include_mileage_id=False,
    )
    assert len(claim.lines) == 3
    assert (claim.header.claimant, claim.header.department) == ("佐藤 一郎", "営業部")
    assert claim.header.mileage_id is None


def test_originals_are_the_current_versions_of_the_period(demo: Store, tmp_path: Path) -> None:
    def add(name: str, month: str, kind: str = "statement") -> object:
        path = tmp_path / name
        path.write_bytes(name.encode())
        return add_document(store=demo, source=path, kind=kind, card="9012", month=month)

    kept_csv = search_documents(
        store=demo, search=DocumentSearch(card="9012", kind="detail_csv", month="2026-09")
    )
    assert len(kept_csv) == 1  # the sample's
    add("old.pdf", "2026-09")  # corrects the sample's statement
    latest = add("new.pdf", "2026-09")
    certificate = add("cert.pdf", "2026-09", "certificate")
    add("other-month.pdf", "2026-08")
    gone = add("gone.csv", "2026-09", "detail_csv")
    remove_document(store=demo, document_id=gone.id, reason="誤り")
    _, originals = claim_from_store(
        store=demo, card="9012", date_from=SEPTEMBER[0], date_to=SEPTEMBER[1]
    )
    assert sorted(d.id for d in originals) == sorted([latest.id, certificate.id, kept_csv[0].id])


def test_unknown_card_and_reversed_period_are_refused(demo: Store) -> None:
    with pytest.raises(ClaimError, match="ストアにありません"):
        claim_from_store(store=demo, card="0000", date_from=SEPTEMBER[0], date_to=SEPTEMBER[1])
    with pytest.raises(ClaimError):
        claim_from_store(store=demo, card="9012", date_from=SEPTEMBER[1], date_to=SEPTEMBER[0])


def test_months_between() -> None:
    assert months_between(dt.date(2025, 11, 15), dt.date(2026, 2, 1)) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]


def test_a_trip_without_share_is_left_out(demo: Store) -> None:
    with demo.transaction() as connection:
        connection.execute(text("UPDATE trips SET business_share = 0"))
    claim, _ = claim_from_store(
        store=demo, card="9012", date_from=SEPTEMBER[0], date_to=SEPTEMBER[1]
    )
    assert claim.lines == ()
    assert claim.totals.claimed == 0
