"""Keyword-only queries on cards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text
from sqlmodel import Session, select

from etcbook import clock
from etcbook.domain import cards as rules
from etcbook.models.tables import Card
from etcbook.privacy import free_text_or_none

EDITABLE_FIELDS = (
    "holder",
    "driver",
    "kind",
    "expires",
    "mileage_id",
    "login_id",
    "last_login_on",
    "obu_number",
    "plate",
    "household",
    "auto_exchange",
    "status",
    "notes",
)


FREE_TEXT_FIELDS = ("holder", "driver", "household", "plate", "notes")
"""Fields typed freely: a card number typed into one is masked (see ``etcbook.privacy``)."""


class CardNotFound(LookupError):
    def __init__(self, last4: str) -> None:
        super().__init__(
            f"カード末尾{last4}は登録されていません（etcbook card list で確認できます）"
        )
        self.last4 = last4


def validated(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise card fields (raises ValueError with a Japanese message)."""
    out = dict(values)
    for name in FREE_TEXT_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = free_text_or_none(out[name])
    if "last4" in out:
        out["last4"] = rules.check_last4(str(out["last4"]))
    if out.get("obu_number"):
        out["obu_number"] = rules.check_obu_number(str(out["obu_number"]))
    if out.get("expires"):
        out["expires"] = rules.check_expiry(str(out["expires"]))
    if "kind" in out:
        out["kind"] = rules.check_kind(str(out["kind"]))
    return out


def create_card(*, session: Session, last4: str, holder: str, **values: Any) -> Card:
    """Add a card; its number is kept as the last 4 digits only."""
    fields = validated({"last4": last4, "holder": holder, **values})
    if session.exec(select(Card).where(Card.last4 == fields["last4"])).first():
        raise ValueError(f"カード末尾{fields['last4']}はすでに登録されています")
    card = Card(created_at=clock.now(), **fields)
    session.add(card)
    session.commit()
    return card


def get_card(*, session: Session, last4: str) -> Card:
    card = session.exec(select(Card).where(Card.last4 == last4)).first()
    if card is None:
        raise CardNotFound(last4)
    return card


def list_cards(*, session: Session) -> list[Card]:
    return list(session.exec(select(Card).order_by(Card.household, Card.holder, Card.last4)))


def update_card(*, session: Session, last4: str, **values: Any) -> Card:
    card = get_card(session=session, last4=last4)
    fields = validated(values)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"変更できない項目です: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(card, name, value)
    if card.status == "details_missing" and card.holder:
        card.status = "active"
    session.add(card)
    session.commit()
    return card


def card_json(card: Card) -> dict[str, Any]:
    return {
        "last4": card.last4,
        "holder": card.holder,
        "driver": card.driver,
        "kind": card.kind,
        "expires": card.expires,
        "mileage_id": card.mileage_id,
        "login_id": card.login_id,
        "last_login_on": card.last_login_on.isoformat() if card.last_login_on else None,
        "obu_number": card.obu_number,
        "plate": card.plate,
        "household": card.household,
        "auto_exchange": card.auto_exchange,
        "status": card.status,
        "notes": card.notes,
    }


class AmbiguousCard(LookupError):
    """Several cards answer to what was typed; the message lists them."""


def resolve_card(connection: Connection, card: str) -> int:
    """The id of the card named by ``card``: its last 4 digits, its id (``id:12`` or a number
    that is no card's last 4), or a label (holder or driver) only one card has.

    An answer shared by several cards is refused with the candidates listed; an unknown one
    raises :class:`CardNotFound`.
    """
    typed = card.strip()
    rows = connection.execute(
        text("SELECT id, last4, holder, driver FROM cards WHERE last4 = :c ORDER BY id"),
        {"c": typed},
    ).all()
    if not rows and typed.removeprefix("id:").isdigit():
        rows = connection.execute(
            text("SELECT id, last4, holder, driver FROM cards WHERE id = :i"),
            {"i": int(typed.removeprefix("id:"))},
        ).all()
    if not rows and typed:
        rows = connection.execute(
            text(
                "SELECT id, last4, holder, driver FROM cards WHERE holder = :c OR driver = :c"
                " ORDER BY id"
            ),
            {"c": typed},
        ).all()
    if not rows:
        raise CardNotFound(typed)
    if len(rows) > 1:
        listed = "、".join(f"id:{r.id}（末尾{r.last4} {r.holder or r.driver}）" for r in rows)
        raise AmbiguousCard(
            f"「{typed}」に当たるカードが複数あります: {listed}。id:番号で指定してください"
        )
    return int(rows[0].id)
