"""Cards as the mileage engine and its commands name them: id, last 4, auto exchange; and the
one resolver of what a user typed for ``--card`` (:func:`resolve_card`).

Kept apart from the tables (:mod:`etcbook.models.mileage`, :mod:`etcbook.models.cards`, which
re-exports the resolver) so that reading a card's state (``etcbook status``) imports neither
SQLModel nor pydantic, nor SQLAlchemy when it reads through
:class:`etcbook.models.server_reader.ServerReader`: queries go through
:func:`etcbook.models.dialect.run`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from etcbook.domain.cards import check_last4
from etcbook.models.dialect import run

if TYPE_CHECKING:
    from sqlalchemy import Connection

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
    row = run(
        connection,
        "SELECT id, last4, auto_exchange FROM cards WHERE last4 = :last4",
        {"last4": last4},
    ).first()
    return None if row is None else CardRef(row[0], row[1], bool(row[2]))


def card_by_id(*, connection: Connection, card_id: int) -> CardRef | None:
    row = run(
        connection, "SELECT id, last4, auto_exchange FROM cards WHERE id = :id", {"id": card_id}
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


# --- what a user typed for --card ----------------------------------------------------------


class CardNotFound(LookupError):
    def __init__(self, last4: str) -> None:
        named = f"カード末尾{last4}" if re.fullmatch(r"[0-9]{4}", last4) else f"カード「{last4}」"
        super().__init__(f"{named}は登録されていません（etcbook card list で確認できます）")
        self.last4 = last4


_CARD_NUMBER = re.compile(r"[0-9０-９*＊\s\-]*[0-9０-９]{4}")
"""A card's last 4 digits, or a card number (masked or with separators) ending in them."""


class AmbiguousCard(LookupError):
    """Several cards answer to what was typed; the message lists them (id, 末尾, 呼び名/名義, 部署).

    Attributes:
        typed: what was typed.
        candidates: the cards it could mean, in id order.
    """

    def __init__(self, typed: str, candidates: list[CardMatch]) -> None:
        super().__init__(
            f"「{typed}」に当たるカードが複数あります: {describe_candidates(candidates)}。"
            "id:番号か呼び名で指定してください（etcbook card list）"
        )
        self.typed = typed
        self.candidates = candidates


@dataclass(frozen=True)
class CardMatch:
    """The card a reference named.

    Attributes:
        id: the card's id.
        last4: its last 4 digits.
        label: its 呼び名, or None.
        holder, driver, department: 名義, 利用者, 部署.
        shared: another card has the same last 4 digits.
    """

    id: int
    last4: str
    label: str | None
    holder: str
    driver: str
    department: str
    shared: bool

    @property
    def name(self) -> str:
        """How the card is shown beside its last 4 digits: 呼び名, else 名義, else 利用者."""
        return self.label or self.holder or self.driver


def describe_candidates(candidates: list[CardMatch]) -> str:
    """``id:1（末尾1234 2号車 営業部）、id:2（…）``: the cards a reference could mean."""
    return "、".join(
        f"id:{c.id}（末尾{c.last4}"
        + "".join(f" {part}" for part in (c.name, c.department) if part)
        + "）"
        for c in candidates
    )


_CARD_COLUMNS = (
    "SELECT c.id, c.last4, c.label, c.holder, c.driver, c.department,"
    " EXISTS (SELECT 1 FROM cards o WHERE o.last4 = c.last4 AND o.id <> c.id) AS shared"
    " FROM cards c"
)


def _matches(connection: Connection, where: str, values: dict[str, Any]) -> list[CardMatch]:
    rows = run(connection, f"{_CARD_COLUMNS} WHERE {where} ORDER BY c.id", values)
    return [
        CardMatch(
            id=int(card_id),
            last4=last4,
            label=label,
            holder=holder or "",
            driver=driver or "",
            department=department or "",
            shared=bool(shared),
        )
        for card_id, last4, label, holder, driver, department, shared in rows
    ]


def cards_with_last4(connection: Connection, last4: str) -> list[CardMatch]:
    """Every card whose last 4 digits are ``last4`` (several in a fleet), in id order."""
    return _matches(connection, "c.last4 = :l", {"l": last4})


def resolve_card(connection: Connection, card: str) -> CardMatch:
    """The card named by ``card`` (what a user typed for ``--card``), in this order: ``id:N``;
    its 呼び名 (label, unique); its last 4 digits (or a longer card number cut to them) when
    only one card has them; a 名義 or 利用者 that only one card has.

    A reference several cards answer to raises :class:`AmbiguousCard` listing them; an unknown
    one raises :class:`CardNotFound`. The one resolver behind every ``--card`` of the CLI.
    """
    typed = card.strip()
    if not typed:
        raise CardNotFound(typed)
    if typed.startswith("id:"):
        number = typed.removeprefix("id:").strip()
        plausible = number.isascii() and number.isdigit() and len(number) <= 9
        found = _matches(connection, "c.id = :i", {"i": int(number)}) if plausible else []
        if not found:
            raise CardNotFound(typed)
        return found[0]
    found = _matches(connection, "c.label = :t", {"t": typed})
    if not found and _CARD_NUMBER.fullmatch(typed):
        found = cards_with_last4(connection, check_last4(typed))
    if not found:
        found = _matches(connection, "c.holder = :t OR c.driver = :t", {"t": typed})
    if not found:
        raise CardNotFound(typed)
    if len(found) > 1:
        raise AmbiguousCard(typed, found)
    return found[0]
