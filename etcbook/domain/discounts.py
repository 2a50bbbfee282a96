"""平日朝夕割引 (weekday morning/evening discount): which trips count and what they bring.

Weekdays (Monday–Friday, not national holidays) 06:00–09:00 and 17:00–20:00, judged at the
entry or the exit gate. Per card and month only the first trip of each morning window and each
evening window of a day counts; 5–9 counted trips bring 30 %, 10 or more 50 % of each counted
trip's eligible amount back as rebate (還元額), credited on the 20th of the next month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from etcbook.domain.calendar import Window, grant_date_for, morning_evening_window
from etcbook.domain.money import morning_evening_credit, morning_evening_percent


@dataclass(frozen=True, slots=True)
class MorningEveningTrip:
    """A trip that may count for 平日朝夕割引.

    Attributes:
        trip_id: the trip.
        exit_at: exit time (decides the month); the entry time for a charge at an entry gate.
        entry_at: entry time, None for a single mainline gate.
        eligible_amount: the part of the toll the discount is computed on (default: the toll).
    """

    trip_id: int
    exit_at: dt.datetime
    entry_at: dt.datetime | None
    eligible_amount: int


@dataclass(frozen=True, slots=True)
class MorningEveningMonth:
    """平日朝夕割引 of one card and month.

    Attributes:
        month: first day of the month (of the trips' exit).
        counted: ids of the counted trips, in exit order.
        percent: 0, 30 or 50.
        credits: (trip id, yen) per counted trip, floored per trip.
        total: rebate credited for the month.
        credit_on: the 20th of the next month, when the rebate is credited (usable from 00:00).
    """

    month: dt.date
    counted: tuple[int, ...]
    percent: int
    credits: tuple[tuple[int, int], ...]
    total: int
    credit_on: dt.date


def window_of(entry_at: dt.datetime | None, exit_at: dt.datetime) -> tuple[dt.date, Window] | None:
    """The (day, window) a trip counts in: its entry gate's if in a window, else its exit's."""
    if entry_at is not None:
        window = morning_evening_window(entry_at)
        if window is not None:
            return entry_at.date(), window
    window = morning_evening_window(exit_at)
    if window is not None:
        return exit_at.date(), window
    return None


def morning_evening_for_month(
    month: dt.date, trips: Iterable[MorningEveningTrip]
) -> MorningEveningMonth:
    """Count the eligible trips of one month (given in exit order) and compute the rebate.

    A trip counts when it is the first in its (day, window) and its eligible amount is positive;
    trips outside any weekday window do not count.
    """
    seen: set[tuple[dt.date, Window]] = set()
    counted: list[MorningEveningTrip] = []
    for trip in trips:
        if trip.eligible_amount <= 0:
            continue
        key = window_of(trip.entry_at, trip.exit_at)
        if key is None or key in seen:
            continue
        seen.add(key)
        counted.append(trip)
    percent = morning_evening_percent(len(counted))
    credits = tuple(
        (trip.trip_id, morning_evening_credit(trip.eligible_amount, percent)) for trip in counted
    )
    return MorningEveningMonth(
        month=month,
        counted=tuple(trip.trip_id for trip in counted),
        percent=percent,
        credits=credits,
        total=sum(yen for _, yen in credits),
        credit_on=grant_date_for(month),
    )
