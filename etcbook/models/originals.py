"""Imported 明細CSV files kept as electronic originals (``detail_csv``) in the store's vault.

The import stores trips; the file itself is an original under 電子帳簿保存法 and is kept byte
for byte in the vault, once per content (SHA-256): importing the same download again keeps
nothing new. Its search keys come from its rows: the card (the one with most rows), the month
of the latest exit, the toll total, and ETC利用照会サービス as counterparty.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from etcbook.models.store import Store
from etcbook.safeio import display_name

COUNTERPARTY = "ETC利用照会サービス"


@dataclass(frozen=True, slots=True)
class MeisaiSummary:
    """What a 明細CSV holds, in a few words for the import preview and the vault's keys.

    Attributes:
        cards: card last 4 digits, most rows first.
        first: the earliest exit date, or ``None`` for a file without rows.
        last: the latest exit date.
        toll: the sum of 通行料金 in yen.
        rows: trip rows.
    """

    cards: tuple[str, ...]
    first: dt.date | None
    last: dt.date | None
    toll: int
    rows: int


def summarise_meisai(path: Path, *, card_last4: str | None = None) -> MeisaiSummary | None:
    """The summary of the 明細CSV at ``path``; ``None`` when it cannot be read as one."""
    from etcbook.importers.meisai import NotMeisaiError, read_meisai_bytes

    try:
        rows, _errors = read_meisai_bytes(
            Path(path).read_bytes(), Path(path).name, card_last4=card_last4
        )
    except (OSError, NotMeisaiError, ValueError):
        return None
    if not rows:
        return MeisaiSummary(cards=(), first=None, last=None, toll=0, rows=0)
    counts = Counter(row.card_last4 for row in rows)
    days = [row.dated_at.date() for row in rows]
    return MeisaiSummary(
        cards=tuple(card for card, _n in counts.most_common()),
        first=min(days),
        last=max(days),
        toll=sum(row.toll for row in rows if row.toll is not None),  # passages: no money
        rows=len(rows),
    )


@dataclass(frozen=True, slots=True)
class KeptOriginal:
    """One imported file and its place in the vault.

    Attributes:
        file: the file as imported.
        document_id: the vault's document (new or the one with the same bytes), or ``None``.
        new: ``True`` when this import added it, ``False`` when the same bytes were kept before.
        problem: why it could not be kept (the trips are imported all the same).
    """

    file: Path
    document_id: int | None
    new: bool
    problem: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "file": display_name(self.file),  # printable even when the name is not UTF-8
            "document_id": self.document_id,
            "new": self.new,
            "problem": self.problem,
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _shows_full_card_numbers(path: Path) -> bool:
    """Whether the file holds a run of digits shaped like a whole card number (a real download
    masks all but the last digits; a file edited by hand may not)."""
    from etcbook.privacy import CARD_NUMBER_RUN

    data = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return CARD_NUMBER_RUN.search(data.decode(encoding)) is not None
        except UnicodeDecodeError:
            continue
    return CARD_NUMBER_RUN.search(data.decode("cp932", errors="replace")) is not None


def keep_detail_csvs(
    *, store: Store, paths: Sequence[Path], card_last4: str | None = None
) -> list[KeptOriginal]:
    """Keep each imported file in the vault as ``detail_csv`` unless the same bytes are kept."""
    from etcbook.models.vault import VaultError, add_document

    kept: list[KeptOriginal] = []
    for path in map(Path, paths):
        try:
            sha256 = _sha256(path)
            with store.engine.connect() as connection:
                same = connection.execute(
                    text(
                        "SELECT id FROM documents WHERE sha256 = :sha AND removed_at IS NULL"
                        " ORDER BY id LIMIT 1"
                    ),
                    {"sha": sha256},
                ).scalar()
            if same is not None:
                kept.append(KeptOriginal(file=path, document_id=int(same), new=False))
                continue
            if _shows_full_card_numbers(path):
                kept.append(
                    KeptOriginal(
                        path,
                        None,
                        False,
                        f"{path.name}: カード番号が伏せられていない行があるため、原本としては"
                        "保管しません（etcbook はカード番号の末尾4桁のほかを保存しません）",
                    )
                )
                continue
            summary = summarise_meisai(path, card_last4=card_last4)
            if summary is None or not summary.cards or summary.last is None:
                kept.append(KeptOriginal(path, None, False, "走行の行がないため保管しません"))
                continue
            document = add_document(
                store=store,
                source=path,
                kind="detail_csv",
                card=summary.cards[0],
                month=summary.last.strftime("%Y-%m"),
                amount=summary.toll,
                counterparty=COUNTERPARTY,
            )
            kept.append(KeptOriginal(file=path, document_id=document.id, new=True))
        except (OSError, VaultError) as error:
            kept.append(KeptOriginal(path, None, False, f"{display_name(path.name)}: {error}"))
    return kept
