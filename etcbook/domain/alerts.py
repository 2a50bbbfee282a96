"""Alerts of a card at a date: points about to expire, points auto-exchange cannot save,
the 730-day inactivity rule, a stopped card. Messages are Japanese.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from etcbook.domain.calendar import GRANT_DAY, expiry_for, month_from_index, month_index
from etcbook.domain.points import ExchangeUnit, Lot
from etcbook.domain.rules import Rules

EXPIRY_ALERT_DAYS = 90
"""Points expiring within this many days are announced."""

INACTIVITY_NOTICE_DAYS = 730
"""Days without any change of points or rebate before the cancellation notice (登録取消の予告)."""

INACTIVITY_WARNING_DAYS = 640
"""From this many days without change, the app warns."""

CANCELLATION_AFTER_NOTICE_DAYS = 90
"""Days from the notice to the cancellation (登録取消), when everything is lost."""

AlertKind = Literal[
    "points_expiring",
    "auto_exchange_shortfall",
    "inactivity",
    "card_stopped",
    "stopped_card_trips",
    "exchange_refused",
    "adjustment_clamped",
    "unknown_operator",
]


@dataclass(frozen=True, slots=True)
class Alert:
    """Something the user should see, with a Japanese message.

    Attributes:
        kind: what it is about (see :data:`AlertKind`).
        message: Japanese sentence for the user.
        pool: pool concerned, if any.
        points: points concerned, if any.
        yen: yen concerned, if any.
        on: the date concerned (expiry date, date of the event), if any.
        days_left: days from the as-of date to ``on``, if meaningful.
        notice_on: inactivity: date of the cancellation notice (730 days without change).
        cancellation_on: inactivity: date of the cancellation (90 days after the notice).
        last_change_on: inactivity: date of the last change of points or rebate.
        count: number of things concerned (trips on a stopped card), if any.
        ref: store id of the record concerned (a refused exchange), if any.
    """

    kind: AlertKind
    message: str
    pool: str | None = None
    points: int | None = None
    yen: int | None = None
    on: dt.date | None = None
    days_left: int | None = None
    notice_on: dt.date | None = None
    cancellation_on: dt.date | None = None
    last_change_on: dt.date | None = None
    count: int | None = None
    ref: int | None = None


def japanese_date(day: dt.date) -> str:
    """``2026年3月31日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def expiring_points_alerts(
    *, as_of: dt.date, rules: Rules, lots_by_pool: Mapping[str, Sequence[Lot]]
) -> list[Alert]:
    """Points expiring within :data:`EXPIRY_ALERT_DAYS` days, one alert per pool and date."""
    alerts: list[Alert] = []
    horizon = as_of + dt.timedelta(days=EXPIRY_ALERT_DAYS)
    for pool, lots in lots_by_pool.items():
        by_date: dict[dt.date, int] = {}
        for lot in lots:
            if lot.remaining > 0 and as_of <= lot.expires_on <= horizon:
                by_date[lot.expires_on] = by_date.get(lot.expires_on, 0) + lot.remaining
        name = _pool_name(rules, pool)
        for expires_on in sorted(by_date):
            points = by_date[expires_on]
            days = (expires_on - as_of).days
            when = "本日" if days == 0 else f"{japanese_date(expires_on)}（あと{days}日）"
            alerts.append(
                Alert(
                    "points_expiring",
                    f"{name}のポイント{points:,}Pが{when}で失効します。",
                    pool=pool,
                    points=points,
                    on=expires_on,
                    days_left=days,
                )
            )
    return alerts


def project_auto_exchange_losses(
    *,
    as_of: dt.date,
    lots: Sequence[Lot],
    pending_grants: Sequence[tuple[dt.date, int]],
    unit: ExchangeUnit,
    horizon: dt.date,
) -> list[tuple[dt.date, int]]:
    """Points that will expire although auto-exchange is on, as (expiry date, points).

    Projects the known points only — lots held at the end of ``as_of`` and the grants trips
    already made will bring — through the coming 20ths (every full auto unit is exchanged,
    soonest-expiring first) and fiscal year ends, up to ``horizon``.
    """
    held: list[tuple[dt.date, int]] = [
        (lot.expires_on, lot.remaining) for lot in lots if lot.remaining > 0
    ]
    grants = sorted(pending_grants)
    losses: list[tuple[dt.date, int]] = []
    index = month_index(as_of)
    while (held or grants) and month_from_index(index) <= horizon:
        month = month_from_index(index)
        twentieth = month.replace(day=GRANT_DAY)
        if twentieth > as_of:
            while grants and grants[0][0] <= twentieth:
                granted_on, points = grants.pop(0)
                held.append((expiry_for(granted_on), points))
            to_take = sum(points for _, points in held) // unit.points * unit.points
            while to_take > 0:
                expires_on, points = held[0]
                used = min(points, to_take)
                to_take -= used
                if used == points:
                    held.pop(0)
                else:
                    held[0] = (expires_on, points - used)
        if month.month == 3:
            year_end = dt.date(month.year, 3, 31)
            while held and held[0][0] <= year_end:
                expires_on, points = held.pop(0)
                if expires_on <= horizon:
                    losses.append((expires_on, points))
        index += 1
    return losses


def auto_exchange_shortfall_alerts(
    *,
    as_of: dt.date,
    rules: Rules,
    lots_by_pool: Mapping[str, Sequence[Lot]],
    pending_grants: Mapping[str, Sequence[tuple[dt.date, int]]],
) -> list[Alert]:
    """Points that cannot make an auto-exchange unit and will expire within the alert window."""
    alerts: list[Alert] = []
    horizon = as_of + dt.timedelta(days=EXPIRY_ALERT_DAYS)
    for pool in sorted(set(lots_by_pool) | set(pending_grants)):
        rule = rules.pools.get(pool)
        if rule is None:
            continue
        losses = project_auto_exchange_losses(
            as_of=as_of,
            lots=lots_by_pool.get(pool, ()),
            pending_grants=pending_grants.get(pool, ()),
            unit=rule.auto_unit,
            horizon=horizon,
        )
        smallest = rule.manual_units[0].points
        for expires_on, points in losses:
            if points >= smallest:
                advice = "それまでに手動で交換してください。"
            else:
                advice = f"手動交換の最小単位（{smallest:,}P）にも満たないため、交換できません。"
            alerts.append(
                Alert(
                    "auto_exchange_shortfall",
                    f"{rule.name}のポイント{points:,}Pは自動還元の単位（{rule.auto_unit.points:,}P）"
                    f"に満たないため、{japanese_date(expires_on)}に失効します。{advice}",
                    pool=pool,
                    points=points,
                    on=expires_on,
                    days_left=(expires_on - as_of).days,
                )
            )
    return alerts


def inactivity_alert(*, as_of: dt.date, last_change_at: dt.datetime | None) -> Alert | None:
    """The 730-day rule: warn from day 640 with the dates of the notice and of the cancellation."""
    if last_change_at is None:
        return None
    last = last_change_at.date()
    days = (as_of - last).days
    if days < INACTIVITY_WARNING_DAYS:
        return None
    notice_on = last + dt.timedelta(days=INACTIVITY_NOTICE_DAYS)
    cancellation_on = notice_on + dt.timedelta(days=CANCELLATION_AFTER_NOTICE_DAYS)
    head = f"ポイント・還元額の増減が{days}日ありません（最後の増減: {japanese_date(last)}）。"
    if as_of >= cancellation_on:
        body = (
            f"{japanese_date(cancellation_on)}に登録が取り消され、ポイントと還元額が失われた"
            "可能性があります。ETCマイレージサービス事務局に確認してください。"
        )
    elif as_of >= notice_on:
        body = (
            f"{japanese_date(notice_on)}に登録取消の予告の対象になりました。"
            f"{japanese_date(cancellation_on)}までにポイントか還元額が動かないと登録が取り消され、"
            "すべて失われます。"
        )
    else:
        body = (
            f"{japanese_date(notice_on)}に登録取消の予告、{japanese_date(cancellation_on)}に"
            "登録取消となり、ポイントと還元額がすべて失われます。走行やポイント交換で残高を"
            "動かしてください。"
        )
    return Alert(
        "inactivity",
        head + body,
        on=notice_on,
        days_left=(notice_on - as_of).days,
        notice_on=notice_on,
        cancellation_on=cancellation_on,
        last_change_on=last,
        count=days,
    )


def stop_alerts(
    *,
    stopped_since: dt.datetime | None,
    stopped_trips: int,
    first_stopped_trip: dt.datetime | None,
) -> list[Alert]:
    """The card is stopped; trips were made on it while stopped (suspicious)."""
    alerts: list[Alert] = []
    if stopped_since is not None:
        alerts.append(
            Alert(
                "card_stopped",
                f"このカードはETCマイレージの利用停止中です（{stopped_since:%Y-%m-%d %H:%M}から）。"
                "停止中の走行にはポイントが付かず、還元額も使われません。",
                on=stopped_since.date(),
            )
        )
    if stopped_trips and first_stopped_trip is not None:
        alerts.append(
            Alert(
                "stopped_card_trips",
                f"利用停止中の走行が{stopped_trips}件あります（最初: "
                f"{first_stopped_trip:%Y-%m-%d %H:%M}）。不正利用でないか確認してください。",
                on=first_stopped_trip.date(),
                count=stopped_trips,
            )
        )
    return alerts


def card_alerts(
    *,
    as_of: dt.date,
    rules: Rules,
    lots_by_pool: Mapping[str, Sequence[Lot]],
    pending_grants: Mapping[str, Sequence[tuple[dt.date, int]]],
    auto_exchange: bool,
    last_change_at: dt.datetime | None,
    stopped_since: dt.datetime | None,
    stopped_trips: int,
    first_stopped_trip: dt.datetime | None,
) -> list[Alert]:
    """All alerts of a card at the end of ``as_of``."""
    alerts = expiring_points_alerts(as_of=as_of, rules=rules, lots_by_pool=lots_by_pool)
    if auto_exchange:
        alerts.extend(
            auto_exchange_shortfall_alerts(
                as_of=as_of, rules=rules, lots_by_pool=lots_by_pool, pending_grants=pending_grants
            )
        )
    inactivity = inactivity_alert(as_of=as_of, last_change_at=last_change_at)
    if inactivity is not None:
        alerts.append(inactivity)
    alerts.extend(
        stop_alerts(
            stopped_since=stopped_since,
            stopped_trips=stopped_trips,
            first_stopped_trip=first_stopped_trip,
        )
    )
    return alerts


def _pool_name(rules: Rules, pool: str) -> str:
    rule = rules.pools.get(pool)
    return pool if rule is None else rule.name
