"""Calendar rules of ETCマイレージ: months, the 20th, fiscal years (年度), weekdays and holidays.

Date-times are naive, in Japan local time. A trip belongs to the day and the month of its
exit time.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Literal

import jpholiday

GRANT_DAY = 20
"""Day of the month on which points are granted, 朝夕割 credited and auto-exchange runs."""

FISCAL_YEAR_START_MONTH = 4
"""年度 (fiscal year) starts in April."""

Window = Literal["morning", "evening"]


def month_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s month (also accepts a datetime and returns a date)."""
    return dt.date(day.year, day.month, 1)


def add_months(month: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``month``'s month (negative goes back)."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_index(day: dt.date) -> int:
    """A month as one integer (``year * 12 + month - 1``): consecutive months differ by 1."""
    return day.year * 12 + day.month - 1


def month_from_index(index: int) -> dt.date:
    """The first day of the month numbered ``index`` (inverse of :func:`month_index`)."""
    return dt.date(index // 12, index % 12 + 1, 1)


def grant_date_for(exit_at: dt.datetime | dt.date) -> dt.date:
    """付与日: the 20th of the month after the exit month (the trip's points are granted then).

    >>> grant_date_for(dt.datetime(2025, 1, 31, 23, 59))
    datetime.date(2025, 2, 20)
    """
    return add_months(month_start(exit_at), 1).replace(day=GRANT_DAY)


def campaign_grant_date_for(exit_at: dt.datetime | dt.date) -> dt.date:
    """Grant date of a campaign bonus (キャンペーン加算): the 20th two months after the exit."""
    return add_months(month_start(exit_at), 2).replace(day=GRANT_DAY)


def fiscal_year_of(day: dt.date) -> int:
    """年度: the fiscal year (April–March) ``day`` falls in, named by the year of its April."""
    return day.year if day.month >= FISCAL_YEAR_START_MONTH else day.year - 1


def fiscal_year_end(fiscal_year: int) -> dt.date:
    """The last day (31 March) of ``fiscal_year``."""
    return dt.date(fiscal_year + 1, 3, 31)


def expiry_for(granted_on: dt.date) -> dt.date:
    """有効期限: the last day points granted on ``granted_on`` can be used.

    The end (31 March) of the fiscal year after the one they were granted in.

    >>> expiry_for(dt.date(2017, 3, 20))
    datetime.date(2018, 3, 31)
    >>> expiry_for(dt.date(2017, 5, 20))
    datetime.date(2019, 3, 31)
    """
    return fiscal_year_end(fiscal_year_of(granted_on) + 1)


def start_of_day(day: dt.date) -> dt.datetime:
    """00:00 of ``day``."""
    return dt.datetime(day.year, day.month, day.day)


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of ``day``: a state "at the end of the day" includes all up to it."""
    return dt.datetime.combine(day, dt.time.max)


def is_holiday(day: dt.date) -> bool:
    """祝日: a national holiday (including 振替休日 and 国民の休日), as jpholiday says."""
    return day in holidays_in_year(day.year)


@cache
def holidays_in_year(year: int) -> frozenset[dt.date]:
    """The national holidays of ``year``, as jpholiday says, computed once per year.

    ``jpholiday.is_holiday`` costs ~80 µs per new date (its 振替休日 and 国民の休日 checkers
    re-run every other checker on the neighbouring days): ten years of dates would cost a CLI
    call 0.3 s. This runs jpholiday's own checkers of the fixed holidays once per day (fast) and
    asks jpholiday in full only for the days right after a holiday — the only days that can be
    振替休日 or 国民の休日. Falls back to asking jpholiday for every day if its internals change.
    """
    try:
        return _holidays_in_year_fast(year)
    except (AttributeError, ImportError, TypeError):  # pragma: no cover - jpholiday changed
        first = dt.date(year, 1, 1)
        days = (dt.date(year + 1, 1, 1) - first).days
        return frozenset(
            first + dt.timedelta(days=i)
            for i in range(days)
            if jpholiday.is_holiday(first + dt.timedelta(days=i))
        )


def _holidays_in_year_fast(year: int) -> frozenset[dt.date]:
    from jpholiday.checker.checker import NationalHolidayChecker, TransferHolidayChecker
    from jpholiday.functions import new_api

    fixed = [
        checker
        for checker in new_api.registry.checkers()
        if not isinstance(checker, TransferHolidayChecker | NationalHolidayChecker)
    ]
    one_day = dt.timedelta(days=1)
    day = dt.date(year, 1, 1) - dt.timedelta(days=3)
    end = dt.date(year, 12, 31)
    found: set[dt.date] = set()
    previous_is_holiday = False
    while day <= end:
        if any(checker.is_holiday(day) for checker in fixed) or (
            previous_is_holiday and day.isoweekday() != 7 and jpholiday.is_holiday(day)
        ):
            found.add(day)
            previous_is_holiday = True
        else:
            previous_is_holiday = False
        day += one_day
    return frozenset(d for d in found if d.year == year)


def is_business_weekday(day: dt.date) -> bool:
    """平日: Monday to Friday and not a national holiday."""
    return day.weekday() < 5 and not is_holiday(day)


MORNING = (dt.time(6, 0), dt.time(9, 0))
"""平日朝夕割引 morning window [06:00, 09:00)."""

EVENING = (dt.time(17, 0), dt.time(20, 0))
"""平日朝夕割引 evening window [17:00, 20:00)."""


def morning_evening_window(at: dt.datetime) -> Window | None:
    """The 平日朝夕割引 window a gate passage at ``at`` falls in, or None.

    Windows are [06:00, 09:00) and [17:00, 20:00) on weekdays that are not national holidays.
    """
    hour = at.hour
    if 6 <= hour < 9:
        window: Window = "morning"
    elif 17 <= hour < 20:
        window = "evening"
    else:
        return None
    if not is_business_weekday(at.date()):
        return None
    return window
