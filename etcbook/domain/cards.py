"""ETCカード details: validation shared by the CLI and the window (validation as you type)."""

from __future__ import annotations

import re
from typing import Final

CARD_KINDS: Final = ("credit", "personal", "corporate")
"""クレジット, ETCパーソナル, ETCコーポレート."""

CARD_KIND_LABELS: Final = {
    "credit": "クレジット",
    "personal": "ETCパーソナル",
    "corporate": "ETCコーポレート",
}

_FULLWIDTH_DIGITS: Final = str.maketrans("０１２３４５６７８９", "0123456789")
"""Full-width digits as typed with a Japanese IME; nothing else (① is not a digit of a card)."""

_EXPIRY_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
_EXPIRY_CARD = re.compile(r"^(\d{1,2})/(\d{2})$")


def check_last4(text: str) -> str:
    """The last four digits of a card number (カード末尾4桁). A longer number is cut to its last 4."""
    folded = text.translate(_FULLWIDTH_DIGITS).strip()
    digits = re.sub(r"[^0-9]", "", folded)
    if len(digits) < 4 or folded[-1:] not in "0123456789" or not folded:
        raise ValueError("カード末尾4桁は数字4桁で入力してください")
    return digits[-4:]


def check_obu_number(text: str) -> str:
    """車載器管理番号: 19 digits (spaces and hyphens allowed when typed)."""
    digits = re.sub(r"[\s\-]", "", text)
    if not (digits.isascii() and digits.isdigit() and len(digits) == 19):
        raise ValueError(f"車載器管理番号は19桁の数字です（入力は{len(digits)}文字）")
    return digits


def check_expiry(text: str) -> str:
    """Card expiry as ``YYYY-MM``; the card's own ``MM/YY`` is accepted too."""
    text = text.strip()
    if match := _EXPIRY_ISO.match(text):
        year, month = int(match[1]), int(match[2])
    elif match := _EXPIRY_CARD.match(text):
        month, year = int(match[1]), 2000 + int(match[2])
    else:
        raise ValueError("有効期限は YYYY-MM（例 2027-08）または MM/YY で入力してください")
    if not 1 <= month <= 12:
        raise ValueError(f"有効期限の月が正しくありません（{month}）")
    return f"{year:04d}-{month:02d}"


def check_kind(text: str) -> str:
    if text not in CARD_KINDS:
        raise ValueError(f"カード種別は {', '.join(CARD_KINDS)} のいずれかです")
    return text
