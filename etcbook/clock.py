"""The current time in Japan, without a zone: every date-time etcbook stores is Japan local."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

JAPAN = ZoneInfo("Asia/Tokyo")


def now() -> dt.datetime:
    """Now in Japan local time, to the second, without tzinfo."""
    return dt.datetime.now(JAPAN).replace(tzinfo=None, microsecond=0)


def today() -> dt.date:
    """Today's date in Japan."""
    return now().date()
