"""証憑 (evidence): the kinds of electronic originals the app keeps, and how they are named.

Pure vocabulary shared by the vault (models), the exporters and the window.
"""

from __future__ import annotations

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
