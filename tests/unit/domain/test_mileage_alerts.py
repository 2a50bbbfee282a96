"""Alerts: points expiring soon, points auto-exchange cannot save, the 730-day rule."""

from __future__ import annotations

import datetime as dt

from mileage_helpers import day, trip

from etcbook.domain.alerts import Alert
from etcbook.domain.mileage import Adjustment, CardInput, state_at_end_of
from etcbook.domain.rules import Rules


def grant(pool: str, amount: int, on: str) -> Adjustment:
    return Adjustment(day(on), "テスト", pool=pool, points=amount)


def alerts_of(card: CardInput, rules: Rules, as_of: str, kind: str) -> list[Alert]:
    state = state_at_end_of(card, rules, day(as_of))
    return [alert for alert in state.alerts if alert.kind == kind]


def test_points_expiring_within_90_days_are_announced_with_date_and_amount(rules: Rules) -> None:
    card = CardInput("1234", adjustments=(grant("nexco", 1234, "2024-05-20"),))  # → 2026-03-31
    (alert,) = alerts_of(card, rules, "2026-01-01", "points_expiring")
    assert (alert.pool, alert.points, alert.on, alert.days_left) == (
        "nexco",
        1234,
        day("2026-03-31"),
        89,
    )
    assert (
        alert.message
        == "NEXCO 3社・宮城県道路公社のポイント1,234Pが2026年3月31日（あと89日）で失効します。"
    )


def test_expiry_alert_window_is_90_days(rules: Rules) -> None:
    card = CardInput("1234", adjustments=(grant("nexco", 1234, "2024-05-20"),))
    assert len(alerts_of(card, rules, "2025-12-31", "points_expiring")) == 1  # 90 days
    assert alerts_of(card, rules, "2025-12-30", "points_expiring") == []  # 91 days


def test_expiry_alert_on_the_last_day_says_today(rules: Rules) -> None:
    card = CardInput("1234", adjustments=(grant("aichi", 300, "2024-05-20"),))
    (alert,) = alerts_of(card, rules, "2026-03-31", "points_expiring")
    assert alert.days_left == 0
    assert "本日で失効します" in alert.message


def test_points_below_the_auto_unit_that_will_expire_are_announced(rules: Rules) -> None:
    card = CardInput("1234", adjustments=(grant("nexco", 3200, "2024-05-20"),), auto_exchange=True)
    (alert,) = alerts_of(card, rules, "2026-02-01", "auto_exchange_shortfall")
    assert (alert.pool, alert.points, alert.on) == ("nexco", 3200, day("2026-03-31"))
    assert "自動還元の単位（5,000P）に満たない" in alert.message
    assert "手動で交換してください" in alert.message


def test_shortfall_below_the_smallest_manual_unit_says_it_cannot_be_exchanged(rules: Rules) -> None:
    card = CardInput("1234", adjustments=(grant("nexco", 800, "2024-05-20"),), auto_exchange=True)
    (alert,) = alerts_of(card, rules, "2026-02-01", "auto_exchange_shortfall")
    assert "交換できません" in alert.message


def test_no_shortfall_when_pending_grants_complete_an_auto_unit(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2026-01-15 10:00", 10_000),),  # 1,000P granted 2026-02-20
        adjustments=(grant("nexco", 4000, "2024-05-20"),),
        auto_exchange=True,
    )
    assert alerts_of(card, rules, "2026-02-01", "auto_exchange_shortfall") == []


def test_shortfall_is_about_auto_exchange_only(rules: Rules) -> None:
    card = CardInput("1234", adjustments=(grant("nexco", 3200, "2024-05-20"),))
    assert alerts_of(card, rules, "2026-02-01", "auto_exchange_shortfall") == []
    assert len(alerts_of(card, rules, "2026-02-01", "points_expiring")) == 1


def test_inactivity_warns_from_day_640_with_notice_and_cancellation_dates(rules: Rules) -> None:
    card = CardInput("1234", adjustments=(grant("nexco", 500, "2023-01-10"),))
    quiet_until = day("2023-01-10") + dt.timedelta(days=639)
    assert alerts_of(card, rules, quiet_until.isoformat(), "inactivity") == []
    warn_on = quiet_until + dt.timedelta(days=1)
    (alert,) = alerts_of(card, rules, warn_on.isoformat(), "inactivity")
    assert alert.notice_on == day("2023-01-10") + dt.timedelta(days=730)
    assert alert.cancellation_on == day("2023-01-10") + dt.timedelta(days=820)
    assert alert.last_change_on == day("2023-01-10")
    assert "2025年1月9日に登録取消の予告" in alert.message
    assert "2025年4月9日に登録取消" in alert.message


def test_inactivity_after_the_notice_and_after_the_cancellation(rules: Rules) -> None:
    card = CardInput("1234", adjustments=(grant("nexco", 500, "2023-01-10"),))
    (notice,) = alerts_of(card, rules, "2025-02-01", "inactivity")
    assert "予告の対象になりました" in notice.message
    (cancelled,) = alerts_of(card, rules, "2025-05-01", "inactivity")
    assert "取り消され" in cancelled.message


def test_expiry_is_not_activity(rules: Rules) -> None:
    # granted 2017-03-20, expired 2018-04-01; day 640 after the grant is 2018-12-20.
    card = CardInput("1234", trips=(trip(1, "2017-02-10 10:00", 3000),))
    assert len(alerts_of(card, rules, "2018-12-20", "inactivity")) == 1


def test_rebate_use_is_activity(rules: Rules) -> None:
    card = CardInput(
        "1234",
        trips=(trip(1, "2024-06-03 10:00", 300),),
        adjustments=(Adjustment(day("2023-01-10"), "テスト", rebate=1000),),
    )
    assert alerts_of(card, rules, "2024-12-01", "inactivity") == []
