"""Keyword-only queries on cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from etcbook import clock
from etcbook.domain import cards as rules
from etcbook.models.card_choice import FILE_CARD_COLUMNS as FILE_CARD_COLUMNS
from etcbook.models.card_choice import card_matches as card_matches
from etcbook.models.card_choice import cards_for_file as cards_for_file
from etcbook.models.card_refs import _CARD_NUMBER
from etcbook.models.card_refs import AmbiguousCard as AmbiguousCard
from etcbook.models.card_refs import CardMatch as CardMatch
from etcbook.models.card_refs import CardNotFound as CardNotFound
from etcbook.models.card_refs import cards_with_last4 as cards_with_last4
from etcbook.models.card_refs import describe_candidates as describe_candidates
from etcbook.models.card_refs import resolve_card as resolve_card
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
    "label",
    "auto_exchange",
    "status",
    "notes",
)


FREE_TEXT_FIELDS = ("holder", "driver", "department", "household", "plate", "notes", "label")
"""Fields typed freely: a card number typed into one is masked (see ``etcbook.privacy``)."""


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
    if "label" in out:
        out["label"] = _checked_label(out["label"])
    return out


def _checked_label(label: str | None) -> str | None:
    """呼び名: free text that cannot be read as a card number or an id (``id:N``)."""
    if not label:
        return None
    if _CARD_NUMBER.fullmatch(label) or label.isdigit() or label.startswith("id:"):
        raise ValueError(
            f"呼び名「{label}」は末尾4桁やidと紛らわしいので使えません（例: 2号車、山田車）"
        )
    return label


def _check_label_free(session: Session, label: str | None, card_id: int | None) -> None:
    if label is None:
        return
    other = session.exec(select(Card).where(Card.label == label, col(Card.id) != card_id)).first()
    if other is not None:
        raise ValueError(
            f"呼び名「{label}」はすでに id:{other.id}（末尾{other.last4}）に付いています"
        )


def create_card(*, session: Session, last4: str, holder: str, **values: Any) -> Card:
    """Add a card; its number is kept as the last 4 digits only."""
    fields = validated({"last4": last4, "holder": holder, **values})
    same = session.exec(
        select(Card).where(Card.last4 == fields["last4"]).order_by(col(Card.id))
    ).all()
    if same and not fields.get("label"):
        # A fleet's cards can share their last 4 digits; a second one needs a name of its own.
        listed = "、".join(f"id:{c.id}（{c.label or c.holder or c.driver}）" for c in same)
        raise ValueError(
            f"カード末尾{fields['last4']}はすでに登録されています（{listed}）。"
            "同じ末尾4桁の別のカードなら、呼び名（--label）を付けて登録してください"
        )
    _check_label_free(session, fields.get("label"), None)
    card = Card(created_at=clock.now(), **fields)
    session.add(card)
    session.flush()
    if not same:
        # Originals kept under these digits before the card was registered are its own.
        session.connection().execute(
            text(
                "UPDATE documents SET card_id = :id WHERE card_id IS NULL AND card_last4 = :last4"
            ),
            {"id": card.id, "last4": card.last4},
        )
    _audit_card(session, card, "add", {}, fields)
    session.commit()
    return card


def _audit_card(
    session: Session, card: Card, action: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """One audit row for a card added or changed (the login is recorded by the database)."""
    from etcbook.models.audit import append_audit

    assert card.id is not None
    append_audit(
        connection=session.connection(),
        entity="card",
        entity_id=card.id,
        action=action,
        old=before or None,
        new=after,
    )


def get_card(*, session: Session, last4: str | None = None, card_id: int | None = None) -> Card:
    """The card of this id, else the first one with these last 4 digits."""
    if card_id is not None:
        card = session.get(Card, card_id)
    else:
        card = session.exec(select(Card).where(Card.last4 == last4).order_by(col(Card.id))).first()
    if card is None:
        raise CardNotFound(str(last4 if card_id is None else f"id:{card_id}"))
    return card


def list_cards(*, session: Session) -> list[Card]:
    return list(session.exec(select(Card).order_by(Card.household, Card.holder, Card.last4)))


def update_card(
    *,
    session: Session,
    last4: str | None = None,
    card_id: int | None = None,
    expected_version: int | None = None,
    **values: Any,
) -> Card:
    """Change a card's fields and commit; the card is ``card_id``, else the one with ``last4``.
    With ``expected_version`` (the card's version when the user read it), a card changed since
    is refused with :class:`etcbook.models.versions.StaleEdit` and nothing is written."""
    from etcbook.models.versions import check_version

    card = get_card(session=session, last4=last4, card_id=card_id)
    fields = validated(values)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"変更できない項目です: {', '.join(sorted(unknown))}")
    assert card.id is not None
    check_version(session.connection(), "cards", card.id, expected_version)
    if "label" in fields:
        _check_label_free(session, fields["label"], card.id)
    before = {name: getattr(card, name) for name in fields}
    for name, value in fields.items():
        setattr(card, name, value)
    if card.status == "details_missing" and card.holder:
        card.status = "active"
    session.add(card)
    _audit_card(session, card, "edit", before, fields)
    session.commit()
    session.refresh(card)  # the version the store's trigger gave it
    return card


def card_json(card: Card) -> dict[str, Any]:
    return {
        "id": card.id,
        "last4": card.last4,
        "label": card.label,
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
    cards: dict[str, list[Card]] = {}
    for card in session.exec(select(Card).order_by(col(Card.id))):
        cards.setdefault(card.last4, []).append(card)
    planned: list[tuple[Card, dict[str, Any]]] = []
    for row in table.rows:
        same = cards.get(row.last4, [])
        if not same:
            result.errors.append(LineError(row.line, str(CardNotFound(row.last4))))
            continue
        if len(same) > 1:
            listed = "、".join(f"id:{c.id}（{c.label or c.holder or c.driver}）" for c in same)
            result.errors.append(
                LineError(
                    row.line,
                    f"カード末尾{row.last4}のカードが{len(same)}枚あります（{listed}）。"
                    "表では区別できないので etcbook card edit id:番号 で入力してください",
                )
            )
            continue
        card = same[0]
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
        before = {name: getattr(card, name) for name in changed}
        for name, value in changed.items():
            setattr(card, name, value)
        if card.status == "details_missing" and card.holder:
            card.status = "active"
        session.add(card)
        _audit_card(session, card, "fill", before, changed)
    session.commit()
    result.committed = True
    return result
