"""Privacy rules shared by the importer, the store, logs and exports.

- A full card number never leaves the importer: only its last 4 digits are kept, and any long
  run of digits that could be a card number is masked in messages (``mask_card_numbers``).
- A card number typed into a free-text field (a note, a name, a reason) is masked the same way
  before it is stored (``free_text``).
- Files and folders etcbook creates are readable only by the user (0600 / 0700 on POSIX).
- Exports can leave out the IDs that let someone log in or claim points as the user
  (マイレージID, ETC利用照会サービスのログインID): ``redact_card``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

CARD_NUMBER_RUN: Final = re.compile(r"(?<![0-9])(?:[0-9][ \-]?){12,18}[0-9](?![0-9])")
"""13 to 19 digits, possibly grouped by spaces or hyphens: the shape of a payment card number."""

FULL_CARD_NUMBER: Final = re.compile(r"(?<![0-9])(?:[0-9]{4}[ \-]?){3}[0-9]{4}(?![0-9])")
"""Exactly 16 digits (in groups of four or not): what the privacy tests grep for."""

SENSITIVE_CARD_FIELDS: Final = ("mileage_id", "login_id")
"""マイレージID and ETC利用照会サービスのログインID: left out of exports on request."""

PRIVATE_FILE_MODE: Final = 0o600
PRIVATE_DIR_MODE: Final = 0o700


def mask_card_numbers(text: str) -> str:
    """Replace every run that looks like a card number by ``*`` and its last 4 digits.

    ``"1234 5678 9012 3456"`` → ``"************3456"``; shorter numbers are left alone.
    """

    def masked(match: re.Match[str]) -> str:
        digits = re.sub(r"[^0-9]", "", match.group())
        return "*" * (len(digits) - 4) + digits[-4:]

    return CARD_NUMBER_RUN.sub(masked, text)


def free_text(value: str) -> str:
    """A free-text value (a note, a name, a reason) as it may be stored: with any card number
    typed or pasted into it masked, so that a full card number never reaches the store.

    Applied by the store's writers to every free-text field; numbers that are IDs by nature
    (車載器管理番号 has 19 digits, マイレージID, a desk's reference number) are not free text.
    """
    return mask_card_numbers(value) if value else value


def free_text_or_none(value: str | None) -> str | None:
    """:func:`free_text` for a field that may be empty (``None``)."""
    return None if value is None else free_text(value)


def redact_card(card: Mapping[str, Any], *, omit_ids: bool) -> dict[str, Any]:
    """A card's fields for an export; with ``omit_ids`` the mileage and login IDs are blanked."""
    out = dict(card)
    if omit_ids:
        for name in SENSITIVE_CARD_FIELDS:
            if name in out:
                out[name] = None
    return out


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make the folder itself 0700 on POSIX."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if sys.platform != "win32":
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def is_private(path: Path) -> bool:
    """True when group and others have no access to ``path`` (always True on Windows)."""
    if sys.platform == "win32":
        return True
    return Path(path).stat().st_mode & 0o077 == 0
