"""Keyword-only queries on cards."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    "department",
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


FREE_TEXT_FIELDS = ("holder", "driver", "department", "household", "plate", "notes")
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


def update_card(
    *, session: Session, last4: str, expected_version: int | None = None, **values: Any
) -> Card:
    """Change a card's fields and commit. With ``expected_version`` (the card's version when the
    user read it), a card changed since is refused with
    :class:`etcbook.models.versions.StaleEdit` and nothing is written."""
    from etcbook.models.versions import check_version

    card = get_card(session=session, last4=last4)
    fields = validated(values)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"変更できない項目です: {', '.join(sorted(unknown))}")
    assert card.id is not None
    check_version(session.connection(), "cards", card.id, expected_version)
    for name, value in fields.items():
        setattr(card, name, value)
    if card.status == "details_missing" and card.holder:
        card.status = "active"
    session.add(card)
    session.commit()
    session.refresh(card)  # the version the store's trigger gave it
    return card


def card_json(card: Card) -> dict[str, Any]:
    return {
        "last4": card.last4,
        "holder": card.holder,
        "driver": card.driver,
        "department": card.department,
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
        "version": card.version,
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


@dataclass
class CardFillResult:
    """What :func:`fill_cards` did (or would do, with ``dry_run``).

    Attributes:
        changes: per card whose details change: ``{"last4", "line", "before", "after"}`` with
            the changed fields only (before and after values).
        unchanged: cards of the table whose details were already so.
        errors: ``LineError`` values; when any, nothing was changed.
        ignored_columns: header names the table had that are not card details.
        committed: whether the changes were stored.
    """

    changes: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def fill_cards(*, session: Session, data: bytes, dry_run: bool = False) -> CardFillResult:
    """Fill the details of many cards at once from a table (CSV, TSV or a spreadsheet's pasted
    cells): one row per card, a card column (末尾4桁 or a masked card number) and any of
    名義 / 利用者 / 部署 / 車両番号 / グループ / メモ (see etcbook.importers.card_table).

    All or nothing: every row must name a registered card, once; any problem is a
    ``LineError`` (line number in the table) and nothing changes. A blank cell leaves the field
    as it is. A card marked 詳細未入力 (``details_missing``) becomes active once it has a
    holder. ``dry_run`` computes the same result and changes nothing (a preview).
    Raises ValueError (a sentence for the user) when the bytes are not a card table at all.
    Commits the session unless ``dry_run`` or errors.
    """
    from etcbook.importers.card_table import read_card_table
    from etcbook.importers.meisai import LineError

    table = read_card_table(data)
    result = CardFillResult(errors=list(table.errors), ignored_columns=table.ignored_columns)
    cards = {c.last4: c for c in session.exec(select(Card))}
    planned: list[tuple[Card, dict[str, Any]]] = []
    for row in table.rows:
        card = cards.get(row.last4)
        if card is None:
            result.errors.append(LineError(row.line, str(CardNotFound(row.last4))))
            continue
        try:
            values = validated(row.values)
        except ValueError as exc:
            result.errors.append(LineError(row.line, str(exc)))
            continue
        changed = {k: v for k, v in values.items() if getattr(card, k) != v}
        if not changed:
            result.unchanged.append(card.last4)
            continue
        result.changes.append(
            {
                "last4": card.last4,
                "line": row.line,
                "before": {k: getattr(card, k) for k in changed},
                "after": changed,
            }
        )
        planned.append((card, changed))
    result.errors.sort(key=lambda e: e.line)
    if result.errors or dry_run:
        session.rollback()
        return result
    for card, changed in planned:
        for name, value in changed.items():
            setattr(card, name, value)
        if card.status == "details_missing" and card.holder:
            card.status = "active"
        session.add(card)
    session.commit()
    result.committed = True
    return result
