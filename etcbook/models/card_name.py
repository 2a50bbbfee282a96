"""A card's last 4 digits that say which card they mean: imports nothing, so the CLI's argument
types can build on it without loading the store's libraries."""

from __future__ import annotations

from typing import Self


class CardName(str):
    """A card's last 4 digits that also say which card they mean (``id``): cards of a fleet may
    share their digits. Compares and prints as the digits (JSON, messages, the domain's keys);
    the models read ``id`` to select the card's own rows (:func:`card_id_for`)."""

    id: int | None

    @classmethod
    def of(cls, last4: str, card_id: int | None) -> Self:
        named = cls(last4)
        named.id = card_id
        return named
