"""登録カード変更 (card_links) as the domain's :class:`CardLink` values.

Its own module so that the mileage inputs read the links without importing the reconciliation
store (which records stops through etcbook.models.mileage_changes, which loads mileage inputs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from etcbook.models.card_name import CardName
from etcbook.models.dialect import as_datetime, run

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from etcbook.domain.incidents import CardLink


def load_links(*, connection: Connection) -> tuple[CardLink, ...]:
    """Every 登録カード変更, oldest first. Its cards are :class:`CardName` values: the last 4
    digits the domain keys by, carrying each card's id for the queries (digits may be shared)."""
    rows = list(
        run(
            connection,
            "SELECT o.last4, n.last4, l.registered_at, l.effective_at, l.incident_id,"
            " l.old_card_id, l.new_card_id"
            " FROM card_links l JOIN cards o ON o.id = l.old_card_id"
            " JOIN cards n ON n.id = l.new_card_id ORDER BY l.effective_at, l.id",
        )
    )
    if not rows:
        return ()  # most ledgers: the incidents' rules are not even imported (``status``)
    from etcbook.domain.incidents import CardLink

    return tuple(
        CardLink(
            old_card=CardName.of(r[0], r[5]),
            new_card=CardName.of(r[1], r[6]),
            registered_at=as_datetime(r[2]),
            effective_at=as_datetime(r[3]),
            incident_id=r[4],
        )
        for r in rows
    )


def registration_links(links: Iterable[CardLink], card_id: int) -> tuple[CardLink, ...]:
    """The links of the registration the card ``card_id`` belongs to, oldest first, followed by
    the cards' ids (:func:`load_links`): links of other cards that share its digits are left
    out, so the domain's chain (keyed by last 4 digits) is this card's own."""

    def id_of(card: str) -> int | None:
        return getattr(card, "id", None)

    by_old = {id_of(link.old_card): link for link in links}
    by_new = {id_of(link.new_card): link for link in by_old.values()}
    first: int | None = card_id
    seen = {first}
    while first in by_new:
        first = id_of(by_new[first].old_card)
        if first in seen:  # a cycle cannot be recorded, but never loop on bad data
            break
        seen.add(first)
    chain: list[CardLink] = []
    visited: set[int | None] = set()
    while first in by_old and first not in visited:
        visited.add(first)
        chain.append(by_old[first])
        first = id_of(by_old[first].new_card)
    return tuple(chain)
