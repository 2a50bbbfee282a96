"""Which card an imported file's last 4 digits mean (candidates described as in :mod:`etcbook.models.card_refs`).

Kept apart from :mod:`etcbook.models.cards` (whose queries import SQLModel) so that importing a
明細CSV loads neither SQLModel nor pydantic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from etcbook.models.card_refs import CardMatch as CardMatch
from etcbook.models.card_refs import describe_candidates as describe_candidates

FILE_CARD_COLUMNS = "id, last4, label, holder, driver, department"
"""The columns :func:`card_matches` reads, for the importers' own (DB-API) connections."""


def card_matches(rows: Iterable[Sequence[Any]]) -> list[CardMatch]:
    """Cards from rows of :data:`FILE_CARD_COLUMNS` (``shared`` is not known there: False)."""
    return [
        CardMatch(
            id=int(r[0]),
            last4=r[1],
            label=r[2],
            holder=r[3] or "",
            driver=r[4] or "",
            department=r[5] or "",
            shared=False,
        )
        for r in rows
    ]


def cards_for_file(
    file: str, last4s: list[str], found: list[CardMatch], chosen: int | None
) -> tuple[dict[str, int], list[str], str | None]:
    """Which card each last 4 digits of an imported 明細CSV means (the file carries only them).

    ``found``: the ledger's cards with those digits; ``chosen``: the card ``import --card`` named
    (its digits are the file's, the reader refuses rows of others). Returns the ids by last 4,
    the last 4 digits no card has yet (to be created), and a problem when digits several cards
    share are not settled by ``chosen``: the import never guesses; the whole import is refused,
    naming the file, the digits and the candidates.
    """
    ids: dict[str, int] = {}
    missing: list[str] = []
    for last4 in sorted(set(last4s)):
        same = [c for c in found if c.last4 == last4]
        picked = [c for c in same if c.id == chosen] if chosen is not None else []
        if picked or len(same) == 1:
            ids[last4] = (picked or same)[0].id
        elif not same:
            missing.append(last4)
        else:
            return (
                ids,
                missing,
                f"{file}: カード末尾{last4}のカードが{len(same)}枚あります"
                f"（{describe_candidates(same)}）。どのカードの明細か決められないため取り込みません。"
                "取り込むカードを選んでください（コマンドでは --card、例: "
                f"--card id:{same[0].id}）。",
            )
    return ids, missing, None
