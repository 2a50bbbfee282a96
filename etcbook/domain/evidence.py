"""証憑 (evidence): the kinds of electronic originals the app keeps, and how they are named.

Pure vocabulary shared by the vault (models), the exporters and the window.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """One kind of original.

    Attributes:
        key: the key used in the store, the CLI (``--kind``) and manifests.
        label: the Japanese name shown to the user.
        name_word: the word put in the vault file name (``2025-11_CARD1234_CarA_請求.pdf``).
        monthly: whether a month counts as covered by it in the missing-months view.
    """

    key: str
    label: str
    name_word: str
    monthly: bool = False


DOCUMENT_KINDS: tuple[DocumentKind, ...] = (
    DocumentKind("statement", "請求書（カード利用明細）", "請求", monthly=True),
    DocumentKind("certificate", "利用証明書", "利用証明", monthly=True),
    DocumentKind("detail_csv", "走行明細CSV", "明細"),
    DocumentKind("screen_points", "ポイント残高画面", "ポイント残高"),
    DocumentKind("screen_exchanges", "交換履歴画面", "交換履歴"),
    DocumentKind("screen_rebate", "還元額残高画面", "還元額残高"),
    DocumentKind("screen_applied", "充当履歴画面", "充当履歴"),
    DocumentKind("other", "その他", "その他"),
)
"""The kinds a user can add to the vault, in the order the UI lists them."""

SCREEN_KINDS: tuple[str, ...] = (
    "screen_points",
    "screen_exchanges",
    "screen_rebate",
    "screen_applied",
)
"""The four mypage screens (ポイント残高・交換履歴・還元額残高・充当履歴)."""

BUNDLE_KINDS: dict[str, str] = {
    "claim_pdf": "経費精算書（PDF）",
    "claim_csv": "経費精算明細（CSV）",
}
"""Kinds that only occur in a claim bundle's manifest."""

_BY_KEY = {kind.key: kind for kind in DOCUMENT_KINDS}


def kind_keys() -> tuple[str, ...]:
    """All vault kind keys, for ``--kind`` choices."""
    return tuple(_BY_KEY)


def document_kind(key: str) -> DocumentKind:
    """The kind for ``key``; :class:`KeyError` for an unknown one."""
    return _BY_KEY[key]


def kind_label(key: str) -> str:
    """The Japanese label of a vault or bundle kind, or the key itself when unknown."""
    if key in _BY_KEY:
        return _BY_KEY[key].label
    return BUNDLE_KINDS.get(key, key)


_UNSAFE = re.compile(r'[\\/:*?"<>|\s\x00-\x1f]+')


NAME_PART_MAX = 40
"""Longest name part kept: a restore unpacks under a temporary folder beside the store, and a
deep store folder plus a long vehicle name must stay under Windows' 260-character path limit."""


def safe_name_part(text: str) -> str:
    """``text`` usable inside a file name on Windows, macOS and Linux (unsafe runs become ``-``),
    at most :data:`NAME_PART_MAX` characters.

    >>> safe_name_part(" 営業/1号車 ")
    '営業-1号車'
    """
    return _UNSAFE.sub("-", text.strip()).strip("-.")[:NAME_PART_MAX].rstrip("-.")


def vault_file_name(
    *,
    kind: str,
    card_last4: str,
    month: str,
    suffix: str,
    vehicle: str = "",
    day: dt.date | None = None,
    version: int = 1,
    card_id: int | None = None,
) -> str:
    """The vault's name for a document: date, card, vehicle, kind, version.

    ``2025-11_CARD1234_CarA_請求.pdf``; a screenshot of a mypage screen carries its day
    (``2025-11-30_CARD1234_還元額残高.png``); a correction gets ``_v2``, ``_v3`` …. A card whose
    last 4 digits another card shares is named with its id (``card_id``) too.

    >>> vault_file_name(kind="statement", card_last4="1234", month="2025-11", suffix=".PDF",
    ...                 vehicle="CarA")
    '2025-11_CARD1234_CarA_請求.pdf'
    >>> vault_file_name(kind="statement", card_last4="1234", month="2025-11", suffix=".pdf",
    ...                 version=2)
    '2025-11_CARD1234_請求_v2.pdf'
    >>> vault_file_name(kind="statement", card_last4="1234", month="2025-11", suffix=".pdf",
    ...                 card_id=2)
    '2025-11_CARD1234-id2_請求.pdf'
    """
    word = document_kind(kind).name_word
    when = day.isoformat() if day is not None and kind in SCREEN_KINDS else month
    parts = [when, f"CARD{card_last4}" + (f"-id{card_id}" if card_id is not None else "")]
    car = safe_name_part(vehicle)
    if car:
        parts.append(car)
    parts.append(word)
    if version > 1:
        parts.append(f"v{version}")
    return "_".join(parts) + suffix.lower()


def vault_folder(month: str) -> str:
    """The vault sub-folder of a month: ``2025/11``."""
    year, number = month.split("-")
    return f"{year}/{number}"
