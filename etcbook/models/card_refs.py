"""Cards as the mileage engine and its commands name them: id, last 4, auto exchange.

Kept apart from the tables (:mod:`etcbook.models.mileage`) so that reading a card's state
(``etcbook status``) imports neither SQLModel nor pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from etcbook.models.card_name import CardName

__all__ = [
    "CardName",
    "CardRef",
    "card_by_id",
    "card_id_for",
    "card_id_of",
    "find_card",
    "list_card_refs",
    "shared_last4",
]


def card_id_of(card: str) -> int | None:
    """The id a :class:`CardName` carries (None for plain digits)."""
    return getattr(card, "id", None)


def card_id_for(*, connection: Connection, card: str) -> int:
    """The id of the card ``card`` names: its own ``id`` when it carries one (a
    :class:`CardName`), else the one card with those last 4 digits. Digits several cards share
    raise ``AmbiguousCard`` listing them (never one of them picked); digits no card has,
    ``CardNotFound``."""
    card_id = getattr(card, "id", None)
    if card_id is not None:
        return int(card_id)
    from etcbook.models.cards import AmbiguousCard, CardNotFound, cards_with_last4

    found = cards_with_last4(connection, str(card))
    if not found:
        raise CardNotFound(str(card))
    if len(found) > 1:
        raise AmbiguousCard(str(card), found)
    return found[0].id


@dataclass(frozen=True, slots=True)
class CardRef:
    """A card as the mileage commands need it."""

    id: int
    last4: str
    auto_exchange: bool


def find_card(*, connection: Connection, last4: str) -> CardRef | None:
    """The card ``last4`` names. A ``str`` carrying an ``id`` (the CLI's resolved card,
    ``cli.common.ChosenCard``) names that one card even when others share its last 4 digits."""
    card_id = getattr(last4, "id", None)
    if card_id is not None:
        return card_by_id(connection=connection, card_id=card_id)
    row = connection.execute(
        text("SELECT id, last4, auto_exchange FROM cards WHERE last4 = :last4"), {"last4": last4}
    ).first()
    return None if row is None else CardRef(row[0], row[1], bool(row[2]))


def card_by_id(*, connection: Connection, card_id: int) -> CardRef | None:
    row = connection.execute(
        text("SELECT id, last4, auto_exchange FROM cards WHERE id = :id"), {"id": card_id}
    ).first()
    return None if row is None else CardRef(row[0], row[1], bool(row[2]))


def list_card_refs(*, connection: Connection) -> list[CardRef]:
    """Every card, in the ledger's order (household, holder, last 4)."""
    rows = connection.exec_driver_sql(
        "SELECT id, last4, auto_exchange FROM cards ORDER BY household, holder, last4"
    )
    return [CardRef(r[0], r[1], bool(r[2])) for r in rows]


def shared_last4(*, connection: Connection) -> set[str]:
    """The last 4 digits that more than one card has (normal in a fleet)."""
    rows = connection.exec_driver_sql("SELECT last4 FROM cards GROUP BY last4 HAVING count(*) > 1")
    return {r[0] for r in rows}
