"""Short ways to write dates and trips in the mileage engine tests."""

from __future__ import annotations

import datetime as dt

from etcbook.domain.mileage import TripInput


def at(text: str) -> dt.datetime:
    """``"2025-06-02 10:00"`` → datetime."""
    return dt.datetime.fromisoformat(text)


def day(text: str) -> dt.date:
    """``"2025-06-02"`` → date."""
    return dt.date.fromisoformat(text)


def trip(
    trip_id: int,
    exit_at: str,
    toll: int,
    *,
    operator: str = "nexco",
    entry_at: str | None = None,
    from_file: int | None = None,
    morning_evening: bool = False,
    eligible: int | None = None,
) -> TripInput:
    """A trip exiting at ``exit_at`` (``"YYYY-MM-DD HH:MM"``)."""
    return TripInput(
        trip_id=trip_id,
        exit_at=at(exit_at),
        toll=toll,
        operator=operator,
        entry_at=None if entry_at is None else at(entry_at),
        rebate_applied_from_file=from_file,
        morning_evening=morning_evening,
        eligible_amount=eligible,
    )
