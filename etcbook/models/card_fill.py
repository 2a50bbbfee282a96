"""Fill in many cards at once (名義, 利用者, 部署): a preview, then all or nothing.

The rows come from :func:`etcbook.importers.card_table.parse_card_table`. :func:`preview_fill`
compares them with the store (which fields change, which cards are not registered);
:func:`apply_fill` writes them in the caller's transaction only when no row has a problem, and a
card that was 詳細未入力 becomes 登録済み once it has a 名義 (as :func:`~etcbook.models.cards.update_card`
does for one card).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from etcbook.importers.card_table import FIELDS, CardFill
from etcbook.importers.meisai import LineError
from etcbook.privacy import free_text_or_none


@dataclass(frozen=True)
class FillChange:
    """What one row does to its card.

    Attributes:
        row: the row.
        before: the card's values now (名義, 利用者, 部署).
        after: the values once applied.
    """

    row: CardFill
    before: dict[str, str]
    after: dict[str, str]

    @property
    def changed(self) -> tuple[str, ...]:
        """The fields whose value changes."""
        return tuple(name for name in FIELDS if self.before[name] != self.after[name])


class FillRefused(ValueError):
    """Some rows cannot be applied: nothing was written. ``errors`` name their lines."""

    def __init__(self, errors: Sequence[LineError]) -> None:
        super().__init__(f"{len(errors)}行に問題があるため、何も変更していません")
        self.errors = list(errors)


def _clean(value: str) -> str:
    """A typed name as the store keeps it (a card number typed in it is masked)."""
    return free_text_or_none(value) or ""


def preview_fill(
    *, connection: Connection, rows: Sequence[CardFill]
) -> tuple[list[FillChange], list[LineError]]:
    """Each row's change to its card, and the rows naming cards that are not registered."""
    cards = {
        last4: {"holder": holder or "", "driver": driver or "", "department": department or ""}
        for last4, holder, driver, department in connection.execute(
            text("SELECT last4, holder, driver, department FROM cards")
        )
    }
    changes: list[FillChange] = []
    errors: list[LineError] = []
    for row in rows:
        before = cards.get(row.last4)
        if before is None:
            errors.append(LineError(row.line, f"カード末尾{row.last4}は登録されていません"))
            continue
        after = dict(before)
        after.update({name: _clean(value) for name, value in row.values().items()})
        changes.append(FillChange(row, before, after))
    return changes, errors


def apply_fill(
    *, connection: Connection, rows: Sequence[CardFill], errors: Sequence[LineError] = ()
) -> int:
    """Write every row's values in the caller's transaction; returns how many cards changed.

    Raises :class:`FillRefused` (nothing written) when a row names an unregistered card or
    ``errors`` (the table's own line errors) is not empty.
    """
    changes, problems = preview_fill(connection=connection, rows=rows)
    problems = sorted([*errors, *problems], key=lambda error: error.line)
    if problems:
        raise FillRefused(problems)
    changed = 0
    for change in changes:
        if not change.changed:
            continue
        connection.execute(
            text(
                "UPDATE cards SET holder = :holder, driver = :driver, department = :department,"
                " status = CASE WHEN status = 'details_missing' AND :holder != '' THEN 'active'"
                " ELSE status END WHERE last4 = :last4"
            ),
            {**change.after, "last4": change.row.last4},
        )
        changed += 1
    return changed
