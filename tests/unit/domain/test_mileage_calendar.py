"""Calendar rules: the exit month, the 20th, fiscal years, holidays and the 朝夕 windows."""

from __future__ import annotations

import datetime as dt

import jpholiday
import pytest
from mileage_helpers import at, day

from etcbook.domain.calendar import (
    add_months,
    campaign_grant_date_for,
    end_of_day,
    expiry_for,
    fiscal_year_of,
    grant_date_for,
    holidays_in_year,
    is_business_weekday,
    is_holiday,
    morning_evening_window,
)


def test_points_granted_on_the_20th_of_the_month_after_the_exit_month() -> None:
    assert grant_date_for(at("2025-06-02 10:00")) == day("2025-07-20")


def test_month_end_trip_is_dated_by_its_exit_time() -> None:
    # 末日23:59着 and 翌月0:01着 fall in different months, so in different grants.
    assert grant_date_for(at("2025-01-31 23:59")) == day("2025-02-20")
    assert grant_date_for(at("2025-02-01 00:01")) == day("2025-03-20")


def test_december_trips_are_granted_in_january() -> None:
    assert grant_date_for(at("2024-12-15 08:00")) == day("2025-01-20")


def test_campaign_bonus_is_granted_two_months_after() -> None:
    # キャンペーン加算: 4月利用 → 通常 5/20, 加算 6/20.
    assert grant_date_for(at("2025-04-10 12:00")) == day("2025-05-20")
    assert campaign_grant_date_for(at("2025-04-10 12:00")) == day("2025-06-20")


def test_expiry_of_points_granted_in_march_2017_is_march_2018() -> None:
    assert expiry_for(day("2017-03-20")) == day("2018-03-31")


def test_expiry_of_points_granted_in_may_2017_is_march_2019() -> None:
    assert expiry_for(day("2017-05-20")) == day("2019-03-31")


@pytest.mark.parametrize(
    ("granted", "expires"),
    [
        ("2017-04-01", "2019-03-31"),
        ("2018-03-31", "2019-03-31"),
        ("2019-04-20", "2021-03-31"),
        ("2025-01-20", "2026-03-31"),
    ],
)
def test_expiry_is_the_end_of_the_next_fiscal_year(granted: str, expires: str) -> None:
    assert expiry_for(day(granted)) == day(expires)


def test_fiscal_year_starts_in_april() -> None:
    assert fiscal_year_of(day("2025-03-31")) == 2024
    assert fiscal_year_of(day("2025-04-01")) == 2025


def test_add_months_crosses_years() -> None:
    assert add_months(day("2024-11-01"), 3) == day("2025-02-01")
    assert add_months(day("2025-01-01"), -1) == day("2024-12-01")


def test_end_of_day_is_the_last_instant() -> None:
    assert end_of_day(day("2025-03-31")) < at("2025-04-01 00:00")
    assert end_of_day(day("2025-03-31")) > at("2025-03-31 23:59")


def test_holidays_include_substitute_and_citizens_holidays() -> None:
    assert is_holiday(day("2025-01-13"))  # 成人の日
    assert is_holiday(day("2025-05-06"))  # 振替休日
    assert is_holiday(day("2019-04-30"))  # 国民の休日
    assert is_holiday(day("2015-09-22"))  # 国民の休日 (シルバーウィーク)
    assert not is_holiday(day("2025-01-14"))


def test_holiday_table_agrees_with_jpholiday_day_by_day() -> None:
    for year in (2015, 2019, 2020, 2021, 2025, 2026, 2030):
        first = dt.date(year, 1, 1)
        for offset in range(366):
            current = first + dt.timedelta(days=offset)
            if current.year != year:
                break
            assert (current in holidays_in_year(year)) == jpholiday.is_holiday(current), current


def test_business_weekday_excludes_weekends_and_holidays() -> None:
    assert is_business_weekday(day("2025-06-02"))  # Monday
    assert not is_business_weekday(day("2025-06-07"))  # Saturday
    assert not is_business_weekday(day("2025-11-03"))  # 文化の日, Monday


@pytest.mark.parametrize(
    ("time", "window"),
    [
        ("05:59", None),
        ("06:00", "morning"),
        ("08:59", "morning"),
        ("09:00", None),
        ("16:59", None),
        ("17:00", "evening"),
        ("19:59", "evening"),
        ("20:00", None),
    ],
)
def test_morning_evening_windows_are_half_open(time: str, window: str | None) -> None:
    assert morning_evening_window(at(f"2025-06-03 {time}")) == window


def test_no_window_on_holidays_and_weekends() -> None:
    assert morning_evening_window(at("2025-11-03 07:00")) is None  # 文化の日
    assert morning_evening_window(at("2025-06-08 07:00")) is None  # Sunday
