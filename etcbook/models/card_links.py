"""登録カード変更 (card_links) as the domain's :class:`CardLink` values.

Its own module so that the mileage inputs read the links without importing the reconciliation
store (which records stops through etcbook.models.mileage_changes, which loads mileage inputs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcbook.models.dialect import as_datetime, run

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from etcbook.domain.incidents import CardLink


def load_links(*, connection: Connection) -> tuple[CardLink, ...]:
    """Every 登録カード変更, oldest first."""
    rows = list(
        run(
            connection,
            "SELECT o.last4, n.last4, l.registered_at, l.effective_at, l.incident_id"
            " FROM card_links l JOIN cards o ON o.id = l.old_card_id"
            " JOIN cards n ON n.id = l.new_card_id ORDER BY l.effective_at, l.id",
        )
    )
    if not rows:
        return ()  # most ledgers: the incidents' rules are not even imported (``status``)
    from etcbook.domain.incidents import CardLink

    return tuple(
        CardLink(
            old_card=r[0],
            new_card=r[1],
            registered_at=as_datetime(r[2]),
            effective_at=as_datetime(r[3]),
            incident_id=r[4],
        )
        for r in rows
    )
