"""リマインダー (reminders at a date): what the user should do soon, per card.

:func:`reminders_at` turns the facts of every card at a date into structured items with Japanese
messages, most urgent first (issue 7 §4):

- card expiry within 60 days (カード有効期限);
- ETC利用照会サービス login older than 365 days (auto-cancelled at 450 days);
- statements of months about to leave the 15-month download window and not yet in the vault;
- points expiring within 90 days;
- 730 days without any change of points or rebate (warned from day 640);
- the next 20th's expected grants, 朝夕割 credit and auto-exchange;
- past months not reconciled, and reconciled months whose trips changed since;
- open incidents (the next step) and suspicious trips on a stopped card.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from etcbook.domain.points import ExchangeUnit

CARD_EXPIRY_DAYS: Final = 60
LOGIN_WARNING_DAYS: Final = 365
LOGIN_CANCEL_DAYS: Final = 450
"""ETC利用照会サービス: the login is cancelled after this many days without logging in."""
STATEMENT_WINDOW_MONTHS: Final = 15
"""Statements can be downloaded for the last 15 complete months."""
STATEMENT_LEAD_MONTHS: Final = 2
"""Remind about the months leaving the window within this many months."""
POINTS_EXPIRY_DAYS: Final = 90
INACTIVITY_WARNING_DAYS: Final = 640
INACTIVITY_NOTICE_DAYS: Final = 730
CANCELLATION_AFTER_NOTICE_DAYS: Final = 90
URGENT_DAYS: Final = 14
GRANT_DAY: Final = 20

ReminderKind = Literal[
    "card_expiry",
    "login_inactive",
    "statement_window",
    "points_expiring",
    "inactivity",
    "next_twentieth",
    "unreconciled_months",
    "reconciled_changed",
    "incident_open",
    "suspicious_trips",
]

Severity = Literal["urgent", "warning", "info"]

REMINDER_LABELS: Final[Mapping[ReminderKind, str]] = {
    "card_expiry": "カードの有効期限",
    "login_inactive": "利用照会サービスのログイン",
    "statement_window": "明細のダウンロード期限",
    "points_expiring": "ポイントの失効",
    "inactivity": "2年間増減なし",
    "next_twentieth": "次の20日",
    "unreconciled_months": "未照合の月",
    "reconciled_changed": "照合後の変更",
    "incident_open": "紛失・トラブルの手続き",
    "suspicious_trips": "停止後の走行",
}


@dataclass(frozen=True, slots=True)
class PointLot:
    """Points of one grant still held.

    Attributes:
        pool: pool key.
        pool_name: Japanese pool name.
        expires_on: last day usable.
        points: points left.
    """

    pool: str
    pool_name: str
    expires_on: dt.date
    points: int


@dataclass(frozen=True, slots=True)
class UpcomingGrant:
    """Points a pool will be granted on the next 20th for trips already made.

    Attributes:
        pool: pool key.
        pool_name: Japanese pool name.
        points: expected points (base and bonus).
    """

    pool: str
    pool_name: str
    points: int


@dataclass(frozen=True, slots=True)
class IncidentNote:
    """An open incident.

    Attributes:
        incident_id: store id.
        kind_label: 紛失 / 盗難 / 破損.
        next_step: label of the next step, None when all steps are done.
        noticed_on: when it was noticed.
    """

    incident_id: int
    kind_label: str
    next_step: str | None
    noticed_on: dt.date


@dataclass(frozen=True, slots=True)
class CardReminderFacts:
    """What the reminders need to know about one card.

    Attributes:
        card: カード末尾4桁.
        holder: 名義.
        status: card status (a replaced or retired card gets no expiry reminder).
        expires: 有効期限 ``YYYY-MM`` or None.
        login_id: ETC利用照会サービスID or None.
        last_login_on: last login to ETC利用照会サービス, or None.
        lots: points held.
        last_change_at: last change of points or rebate, None when never.
        next_grants: grants expected on the next 20th.
        next_rebate_credit: 朝夕割 rebate expected on the next 20th.
        auto_exchange: ポイント自動還元 is on.
        auto_units: pool → auto-exchange unit.
        trip_months: first days of the months with trips.
        reconciled_months: first days of the months marked reconciled.
        changed_months: reconciled months whose trips changed since they were marked.
        vault_months: months whose statement is in the vault; None when the vault is unknown.
        incidents: open incidents.
        suspicious_trips: number of trips on the card after it was stopped or replaced.
        label: 呼び名, named beside the digits when another card shares them ("" otherwise).
    """

    card: str
    holder: str = ""
    status: str = "active"
    expires: str | None = None
    login_id: str | None = None
    last_login_on: dt.date | None = None
    lots: tuple[PointLot, ...] = ()
    last_change_at: dt.datetime | None = None
    next_grants: tuple[UpcomingGrant, ...] = ()
    next_rebate_credit: int = 0
    auto_exchange: bool = False
    auto_units: Mapping[str, ExchangeUnit] = field(default_factory=dict)
    trip_months: frozenset[dt.date] = frozenset()
    reconciled_months: frozenset[dt.date] = frozenset()
    changed_months: frozenset[dt.date] = frozenset()
    vault_months: frozenset[dt.date] | None = None
    incidents: tuple[IncidentNote, ...] = ()
    suspicious_trips: int = 0
    label: str = ""


@dataclass(frozen=True, slots=True)
class Reminder:
    """One thing to do, with a Japanese message.

    Attributes:
        kind: what it is about.
        card: カード末尾4桁.
        severity: urgent (≤ 14 days or overdue), warning, info.
        message: Japanese sentence.
        due: the date that matters (expiry, cancellation, window closing, the 20th), or None.
        days_left: days from the as-of date to ``due`` (negative: past), or None.
        pool: pool concerned, if any.
        points: points concerned, if any.
        yen: yen concerned, if any.
        months: months concerned (``YYYY-MM``), if any.
        ref: store id concerned (an incident), if any.
    """

    kind: ReminderKind
    card: str
    severity: Severity
    message: str
    due: dt.date | None = None
    days_left: int | None = None
    pool: str | None = None
    points: int | None = None
    yen: int | None = None
    months: tuple[str, ...] = ()
    ref: int | None = None


def japanese_date(day: dt.date) -> str:
    """``2026年3月31日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_label(day: dt.date) -> str:
    return f"{day.year}年{day.month}月"


def _months_text(months: Sequence[dt.date], limit: int = 6) -> str:
    labels = [_month_label(m) for m in months]
    if len(labels) > limit:
        return "、".join(labels[:limit]) + f" ほか{len(labels) - limit}か月"
    return "、".join(labels)


def _severity(days_left: int | None, warning: bool = True) -> Severity:
    if days_left is not None and days_left <= URGENT_DAYS:
        return "urgent"
    return "warning" if warning else "info"


def next_twentieth(as_of: dt.date) -> dt.date:
    """The next 20th after ``as_of`` (the 20th itself counts as passed at the end of the day)."""
    this = as_of.replace(day=GRANT_DAY)
    if as_of < this:
        return this
    return _month(_month_index(as_of) + 1).replace(day=GRANT_DAY)


def card_expiry_date(expires: str) -> dt.date:
    """The last day a card expiring ``YYYY-MM`` is valid (the end of that month)."""
    year, month = (int(part) for part in expires.split("-"))
    return _month(year * 12 + month).replace(day=1) - dt.timedelta(days=1)


def statement_window_closes(month: dt.date) -> dt.date:
    """The first day the statement of ``month`` can no longer be downloaded."""
    return _month(_month_index(month) + STATEMENT_WINDOW_MONTHS + 1)


def _card_reminders(card: CardReminderFacts, as_of: dt.date) -> Iterable[Reminder]:
    who = f"カード末尾{card.card}" + (f"（{card.label}）" if card.label else "")
    if card.expires and card.status in ("active", "details_missing", "stopped"):
        last_day = card_expiry_date(card.expires)
        days = (last_day - as_of).days
        if days <= CARD_EXPIRY_DAYS:
            if days < 0:
                text = f"{who}の有効期限（{japanese_date(last_day)}）が過ぎています。"
            else:
                text = f"{who}の有効期限は{japanese_date(last_day)}です（あと{days}日）。"
            text += "新しいカードが届いたら有効期限を更新してください（番号が変わる場合は登録カード変更が必要です）。"
            yield Reminder("card_expiry", card.card, _severity(days), text, last_day, days)

    if card.login_id and card.last_login_on is not None:
        idle = (as_of - card.last_login_on).days
        if idle >= LOGIN_WARNING_DAYS:
            cancel_on = card.last_login_on + dt.timedelta(days=LOGIN_CANCEL_DAYS)
            days = (cancel_on - as_of).days
            if days < 0:
                text = (
                    f"{who}のETC利用照会サービスID（{card.login_id}）は{idle}日ログインがなく、"
                    f"{japanese_date(cancel_on)}に自動で取り消された可能性があります。"
                )
            else:
                text = (
                    f"{who}のETC利用照会サービスID（{card.login_id}）に{idle}日ログインしていません。"
                    f"{japanese_date(cancel_on)}（あと{days}日）に自動で取り消されます。"
                    "ログインして明細をダウンロードしてください。"
                )
            yield Reminder("login_inactive", card.card, _severity(days), text, cancel_on, days)

    if card.vault_months is not None:
        current = _month_index(as_of)
        leaving = [
            month
            for month in sorted(card.trip_months)
            if current - STATEMENT_WINDOW_MONTHS
            <= _month_index(month)
            < current - STATEMENT_WINDOW_MONTHS + STATEMENT_LEAD_MONTHS
            and month not in card.vault_months
        ]
        if leaving:
            closes = statement_window_closes(leaving[0])
            days = (closes - as_of).days
            yield Reminder(
                "statement_window",
                card.card,
                _severity(days),
                f"{who}の{_months_text(leaving)}の明細は証憑庫にありません。"
                f"{japanese_date(closes - dt.timedelta(days=1))}を過ぎるとETC利用照会サービスから"
                f"ダウンロードできなくなります（あと{days}日）。",
                closes,
                days,
                months=tuple(f"{m:%Y-%m}" for m in leaving),
            )

    by_pool: dict[tuple[str, dt.date], tuple[str, int]] = {}
    horizon = as_of + dt.timedelta(days=POINTS_EXPIRY_DAYS)
    for lot in card.lots:
        if lot.points > 0 and as_of <= lot.expires_on <= horizon:
            name, points = by_pool.get((lot.pool, lot.expires_on), (lot.pool_name, 0))
            by_pool[(lot.pool, lot.expires_on)] = (name, points + lot.points)
    for (pool, expires_on), (name, points) in sorted(by_pool.items(), key=lambda i: i[0][1]):
        days = (expires_on - as_of).days
        when = "本日" if days == 0 else f"{japanese_date(expires_on)}（あと{days}日）"
        yield Reminder(
            "points_expiring",
            card.card,
            _severity(days),
            f"{who}の{name}のポイント{points:,}Pが{when}で失効します。交換してください。",
            expires_on,
            days,
            pool=pool,
            points=points,
        )

    if card.last_change_at is not None:
        last = card.last_change_at.date()
        idle = (as_of - last).days
        if idle >= INACTIVITY_WARNING_DAYS:
            notice_on = last + dt.timedelta(days=INACTIVITY_NOTICE_DAYS)
            cancel_on = notice_on + dt.timedelta(days=CANCELLATION_AFTER_NOTICE_DAYS)
            days = (notice_on - as_of).days
            text = f"{who}のポイント・還元額の増減が{idle}日ありません（最後: {japanese_date(last)}）。"
            if cancel_on <= as_of:  # both dates are behind us: say so, not as if to come
                text += (
                    f"{japanese_date(notice_on)}に登録取消の予告、{japanese_date(cancel_on)}に"
                    "登録取消となり、ポイントと還元額が失われた可能性があります。"
                    "ETCマイレージのサイトで登録を確かめてください。"
                )
            elif notice_on <= as_of:
                text += (
                    f"{japanese_date(notice_on)}に登録取消の予告が出ているはずです。"
                    f"{japanese_date(cancel_on)}に登録取消となり（あと{(cancel_on - as_of).days}日）、"
                    "ポイントと還元額がすべて失われます。走行かポイント交換で残高を動かしてください。"
                )
            else:
                text += (
                    f"{japanese_date(notice_on)}に登録取消の予告、{japanese_date(cancel_on)}に登録取消と"
                    "なり、ポイントと還元額がすべて失われます。走行かポイント交換で残高を動かしてください。"
                )
            yield Reminder("inactivity", card.card, _severity(days), text, notice_on, days)

    twentieth = next_twentieth(as_of)
    grants = [g for g in card.next_grants if g.points > 0]
    if grants or card.next_rebate_credit:
        parts = [f"{g.pool_name} {g.points:,}P" for g in grants]
        text = f"{who}: {japanese_date(twentieth)}に"
        if parts:
            text += "、".join(parts) + "の付与"
        if card.next_rebate_credit:
            text += ("と" if parts else "") + f"平日朝夕割引 {card.next_rebate_credit:,}円の還元"
        text += "が見込まれます。"
        if card.auto_exchange:
            exchanges = []
            for grant in grants:
                unit = card.auto_units.get(grant.pool)
                held = sum(
                    lot.points
                    for lot in card.lots
                    if lot.pool == grant.pool and lot.expires_on >= twentieth
                )
                if unit is None or unit.points <= 0:
                    continue
                count = (held + grant.points) // unit.points
                if count:
                    exchanges.append(
                        f"{grant.pool_name} {count * unit.points:,}P→{count * unit.yen:,}円"
                    )
            if exchanges:
                text += "自動還元で" + "、".join(exchanges) + "の交換が見込まれます。"
        yield Reminder(
            "next_twentieth",
            card.card,
            "info",
            text,
            twentieth,
            (twentieth - as_of).days,
            points=sum(g.points for g in grants) or None,
            yen=card.next_rebate_credit or None,
        )

    current = _month_index(as_of)
    past = [
        month
        for month in sorted(card.trip_months)
        if current - STATEMENT_WINDOW_MONTHS <= _month_index(month) < current
        and month not in card.reconciled_months
    ]
    if past:
        yield Reminder(
            "unreconciled_months",
            card.card,
            "info",
            f"{who}の{_months_text(past)}（{len(past)}か月）がまだ照合されていません。"
            "サイトの残高・付与ポイントとカード請求を月次照合で突き合わせてください。",
            months=tuple(f"{m:%Y-%m}" for m in past),
        )
    if card.changed_months:
        changed = sorted(card.changed_months)
        yield Reminder(
            "reconciled_changed",
            card.card,
            "warning",
            f"{who}の照合済みの月（{_months_text(changed)}）の走行が照合後に変わりました。"
            "もう一度照合してください。",
            months=tuple(f"{m:%Y-%m}" for m in changed),
        )

    for incident in card.incidents:
        if incident.next_step is None:
            text = (
                f"{who}の{incident.kind_label}（{japanese_date(incident.noticed_on)}）の手続きは"
                "すべて記録されています。完了にしてください。"
            )
        else:
            text = (
                f"{who}の{incident.kind_label}（{japanese_date(incident.noticed_on)}）: "
                f"次の手続きは「{incident.next_step}」です。"
            )
        yield Reminder("incident_open", card.card, "warning", text, ref=incident.incident_id)

    if card.suspicious_trips:
        yield Reminder(
            "suspicious_trips",
            card.card,
            "urgent",
            f"{who}に利用停止・カード変更の後の走行が{card.suspicious_trips}件あります。"
            "不正利用でないかカード会社に確認してください。",
        )


_SEVERITY_ORDER: Final = {"urgent": 0, "warning": 1, "info": 2}


def reminders_at(as_of: dt.date, cards: Iterable[CardReminderFacts]) -> tuple[Reminder, ...]:
    """Every reminder of every card at ``as_of``, most urgent first, then soonest, then card."""
    found = [reminder for card in cards for reminder in _card_reminders(card, as_of)]
    found.sort(
        key=lambda r: (
            _SEVERITY_ORDER[r.severity],
            r.days_left if r.days_left is not None else 10**6,
            r.card,
        )
    )
    return tuple(found)


def reminder_json(reminder: Reminder) -> dict[str, object]:
    """The JSON shape of a reminder (``reminders --json``)."""
    return {
        "kind": reminder.kind,
        "label": REMINDER_LABELS[reminder.kind],
        "card": reminder.card,
        # for digits several cards share, which card (etcbook.models.card_name.CardName)
        **({"card_id": card_id} if (card_id := getattr(reminder.card, "id", None)) else {}),
        "severity": reminder.severity,
        "message": reminder.message,
        "due": None if reminder.due is None else reminder.due.isoformat(),
        "days_left": reminder.days_left,
        "pool": reminder.pool,
        "points": reminder.points,
        "yen": reminder.yen,
        "months": list(reminder.months),
        "ref": reminder.ref,
    }
