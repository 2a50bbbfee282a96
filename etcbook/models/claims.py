"""From the store to an expense claim: the trips of a card and period, and their originals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from etcbook.domain.claims import Claim, ClaimHeader, ClaimLine, claimable_lines
from etcbook.models.dialect import as_datetime
from etcbook.models.store import Store
from etcbook.models.trips import TripFilter, list_trip_rows
from etcbook.models.vault import DocumentRecord, DocumentSearch, search_documents
from etcbook.privacy import free_text

OPERATOR_NAMES: dict[str, str] = {
    "nexco": "NEXCO",
    "miyagi": "宮城県道路公社",
    "honshi": "本四高速",
    "hanshin_kyoto": "阪神高速京都線",
    "hanshin": "阪神高速",
    "nagoya": "名古屋高速",
    "aichi": "愛知県道路公社",
    "kobe": "神戸市道路公社",
    "hiroshima": "広島高速",
    "fukuoka": "福岡高速",
    "kitakyushu": "北九州高速",
    "shutoko": "首都高",
    "other_rebate": "その他（還元額可）",
    "other": "その他",
}
"""How an operator key is printed on a claim (short, to fit the table)."""


class ClaimError(ValueError):
    """A claim cannot be drawn up (unknown card, bad period); the message is for the user."""


def _when(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return as_datetime(str(value))


def line_of(row: dict[str, Any], vehicle: str = "") -> ClaimLine:
    """A trip row (``list_trip_rows``) as a claim line; the rebate applied defaults to 0."""
    dated_at = _when(row["dated_at"])  # the exit, or the entry of a charge at an entry gate
    assert dated_at is not None
    return ClaimLine(
        exit_at=dated_at,
        entry_at=_when(row["entry_at"]),
        entry_ic=row["entry_ic"] or "",
        exit_ic=row["exit_ic"] or "",
        operator=OPERATOR_NAMES.get(row["operator"], row["operator"]),
        vehicle=vehicle or (row["vehicle_number"] or ""),
        purpose=row["purpose"] or "",
        toll=row["toll"],
        rebate_applied=row["rebate_applied"] or 0,
        business_share=row["business_share"],
    )


def claim_from_store(
    *,
    store: Store,
    card: str,
    date_from: dt.date,
    date_to: dt.date,
    card_id: int | None = None,
    claimant: str | None = None,
    department: str | None = None,
    trip_ids: Sequence[int] | None = None,
    include_mileage_id: bool = True,
    private_use_basis: str = "",
    prepared_on: dt.date | None = None,
) -> tuple[Claim, list[DocumentRecord]]:
    """The claim for ``card`` over ``date_from``..``date_to`` (exit dates) and its originals.
    ``card_id`` names the one card when others may share its last 4 digits (``card``).

    Trips: those listed in ``trip_ids``, else every trip with a business share. Claimant
    defaults to the card's holder, department to the trips' department. Originals: the
    statements, certificates, detail CSVs and screenshots of the card for the period's months
    that are in the vault (latest versions, not removed).
    """
    if date_to < date_from:
        raise ClaimError("--from が --to より後になっています")
    with store.engine.connect() as connection:
        card_row = (
            connection.execute(
                text(
                    "SELECT last4, holder, mileage_id FROM cards WHERE "
                    + ("last4 = :c" if card_id is None else "id = :i")
                ),
                {"c": card, "i": card_id},
            )
            .mappings()
            .first()
        )
        if card_row is None:
            raise ClaimError(f"カード末尾 {card} はストアにありません")
        rows = list_trip_rows(
            connection=connection,
            trip_filter=TripFilter(
                card=card, card_id=card_id, date_from=date_from, date_to=date_to
            ),
        )
    if trip_ids is not None:
        wanted = set(trip_ids)
        chosen = [r for r in rows if r["id"] in wanted]
        lines = tuple(line_of(r) for r in chosen)
    else:
        chosen = [r for r in rows if r["business_share"] > 0]
        lines = claimable_lines(line_of(r) for r in chosen)
    departments = sorted({r["department"] for r in chosen if r["department"]})
    header = ClaimHeader(
        claimant=free_text(claimant if claimant is not None else card_row["holder"]),
        department=free_text(department if department is not None else "・".join(departments)),
        holder=card_row["holder"],
        card_last4=card,
        period_start=date_from,
        period_end=date_to,
        mileage_id=card_row["mileage_id"] if include_mileage_id else None,
        prepared_on=prepared_on,
        private_use_basis=free_text(private_use_basis),
    )
    return Claim(header=header, lines=lines), originals_for(
        store=store, card=card, card_id=card_id, date_from=date_from, date_to=date_to
    )


def months_between(date_from: dt.date, date_to: dt.date) -> list[str]:
    """``YYYY-MM`` of every month touched by the period."""
    months = []
    year, month = date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def originals_for(
    *, store: Store, card: str, date_from: dt.date, date_to: dt.date, card_id: int | None = None
) -> list[DocumentRecord]:
    """The card's current vault documents for the period's months (superseded versions left
    out); ``card_id`` names the one card when others share its last 4 digits."""
    months = set(months_between(date_from, date_to))
    documents = [
        d
        for d in search_documents(store=store, search=DocumentSearch(card=card, card_id=card_id))
        if d.month in months
    ]
    superseded = {d.supersedes_id for d in documents if d.supersedes_id is not None}
    return [d for d in documents if d.id not in superseded]
