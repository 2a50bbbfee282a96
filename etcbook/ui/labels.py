"""Japanese labels of the keys the store uses (operators, pools, statuses) for display."""

from __future__ import annotations

OPERATOR_LABELS: dict[str, str] = {
    "nexco": "NEXCO",
    "miyagi": "宮城県道路公社",
    "honshi": "本四高速",
    "hanshin_kyoto": "阪神高速京都線",
    "hanshin": "阪神高速",
    "nagoya": "名古屋高速",
    "aichi": "愛知県道路公社",
    "kobe": "神戸市道路公社",
    "hiroshima": "広島高速",
    "fukuoka": "福岡高速",
    "kitakyushu": "北九州高速",
    "shutoko": "首都高",
    "other_rebate": "その他（還元額可）",
    "other": "その他",
}
"""道路事業者 by operator key."""

POOL_LABELS: dict[str, str] = {
    "nexco": "NEXCO・宮城",
    "honshi": "本四高速",
    "hanshin_kyoto": "阪神高速京都線",
    "nagoya": "名古屋高速",
    "aichi": "愛知県道路公社",
    "kobe": "神戸市道路公社",
    "hiroshima": "広島高速",
    "fukuoka": "福岡北九州高速",
}
"""ポイントのプール (per card × operator group) by pool key."""


def operator_label(key: str | None) -> str:
    """``nexco`` → ``NEXCO``; unknown keys are shown as they are."""
    if not key:
        return ""
    return OPERATOR_LABELS.get(key, key)


def pool_label(key: str | None) -> str:
    """``nexco`` → ``NEXCO・宮城``."""
    if not key:
        return ""
    return POOL_LABELS.get(key, operator_label(key))
