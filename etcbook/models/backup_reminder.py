"""When the store was last backed up, and the window's monthly reminder: read from the small
file a backup writes beside the store (etcbook.models.backup), without opening the store, so the
dashboard can tell it before SQLAlchemy is loaded."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from etcbook import clock
from etcbook.models.dialect import as_datetime

LAST_BACKUP_SUFFIX = ".lastbackup.json"
REMIND_AFTER_DAYS = 30
"""The window reminds to back up when the last backup is older than this (monthly)."""


def last_backup_path(store_path: Path) -> Path:
    store_path = Path(store_path)
    return store_path.with_name(store_path.name + LAST_BACKUP_SUFFIX)


def last_backup(store_path: Path) -> dict[str, Any] | None:
    """The last backup made of this store (``{"created_at", "path", …}``), or None."""
    try:
        data = json.loads(last_backup_path(store_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "created_at" in data else None


def backup_reminder(store_path: Path, today: dt.date | None = None) -> str | None:
    """A reminder for the window when the store was not backed up this past month, else None."""
    today = today or clock.today()
    last = last_backup(store_path)
    if last is None:
        return "まだバックアップがありません。ファイル→バックアップ で保存してください（毎月1回がおすすめです）。"
    try:
        when = as_datetime(str(last["created_at"])).date()
    except ValueError:
        return None
    days = (today - when).days
    if days < REMIND_AFTER_DAYS:
        return None
    return f"最後のバックアップから{days}日たちました（{when}）。毎月1回のバックアップをおすすめします。"
