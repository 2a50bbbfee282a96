"""A fleet of cards on one screen: the card filter, totals per pool, grouped reminders.

A company's ledger holds a hundred cards or more. What a person can read of it:

- a **card filter** (名義 / 利用者 / 部署) that narrows every page to the cards it selects
  (:class:`CardCriteria`, :func:`select_cards`);
- **totals per pool** with the few cards that matter, those whose points expire soonest and
  those holding the most (:func:`pool_totals`); points stay per pool, never added across pools;
- one row per card and pool for a sortable table (:func:`fleet_rows`);
- **reminders grouped**: the same reminder for many cards becomes one line naming how many
  cards it concerns, with the cards' own lines kept for the list on demand
  (:func:`group_reminders`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from etcbook.domain.reminders import (
    REMINDER_LABELS,
    Reminder,
    ReminderKind,
    Severity,
    japanese_date,
    statement_window_closes,
)

FLEET_CARDS: Final = 8
"""From this many cards on, the dashboard shows the fleet (pool totals, a card table)."""
GROUP_FROM: Final = 3
"""The same reminder for this many cards or more is shown as one grouped line."""
TOP_CARDS: Final = 3
"""How many cards each pool total names (expiring soonest, most points)."""
BUCKETS: Final = ("this_month", "next_month", "month_after", "later")
"""Expiry buckets of a pool's points, soonest first (see :mod:`etcbook.domain.mileage`)."""

# -- the card filter ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CardFacet:
    """What the card filter can select a card by.

    Attributes:
        last4: カード末尾4桁.
        holder: 名義.
        driver: 利用者.
        department: 部署.
        card_id: the card's id (cards of a fleet may share their last 4 digits); ``None``
            for a card not read from a store.
    """

    last4: str
    holder: str = ""
    driver: str = ""
    department: str = ""
    card_id: int | None = None


FACET_FIELDS: Final = ("holder", "driver", "department")
"""The facets the filter offers, in the order the window shows them."""
UNSET: Final = "\x00unset"
"""A criterion value selecting the cards whose facet is blank (未入力)."""


@dataclass(frozen=True)
class CardCriteria:
    """The card filter: each field is ``None`` (any), a value, or :data:`UNSET` (blank).

    Attributes:
        holder: 名義.
        driver: 利用者.
        department: 部署.
    """

    holder: str | None = None
    driver: str | None = None
    department: str | None = None

    @property
    def active(self) -> bool:
        """``True`` when the filter selects anything less than every card."""
        return any(getattr(self, name) is not None for name in FACET_FIELDS)

    def matches(self, facet: CardFacet) -> bool:
        for name in FACET_FIELDS:
            wanted = getattr(self, name)
            if wanted is None:
                continue
            value = getattr(facet, name).strip()
            if wanted == UNSET:
                if value:
                    return False
            elif value != wanted:
                return False
        return True


def select_cards(facets: Iterable[CardFacet], criteria: CardCriteria) -> tuple[str, ...]:
    """The last-4s of the cards ``criteria`` selects, in the order of ``facets``."""
    return tuple(facet.last4 for facet in facets if criteria.matches(facet))


def select_card_ids(facets: Iterable[CardFacet], criteria: CardCriteria) -> frozenset[int]:
    """The ids of the cards ``criteria`` selects (two cards sharing their last 4 digits may
    differ in 名義, 利用者 or 部署)."""
    return frozenset(
        facet.card_id for facet in facets if facet.card_id is not None and criteria.matches(facet)
    )


def facet_values(facets: Iterable[CardFacet], name: str) -> tuple[tuple[str, int], ...]:
    """The distinct non-blank values of facet ``name`` with their card counts, sorted by value."""
    counts: dict[str, int] = {}
    for facet in facets:
        value = getattr(facet, name).strip()
        if value:
            counts[value] = counts.get(value, 0) + 1
    return tuple(sorted(counts.items()))


def blank_count(facets: Iterable[CardFacet], name: str) -> int:
    """How many cards have facet ``name`` blank (未入力)."""
    return sum(1 for facet in facets if not getattr(facet, name).strip())


# -- points per pool ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CardPool:
    """One pool of one card, as the engine states it at a date.

    Attributes:
        pool: pool key.
        name: the pool's Japanese name.
        points: points held now.
        pending_points: points that trips already made will bring at their grant.
        buckets: points by expiry bucket (keys of :data:`BUCKETS`).
    """

    pool: str
    name: str
    points: int
    pending_points: int = 0
    buckets: Mapping[str, int] = field(default_factory=dict)

    def bucket(self, key: str) -> int:
        return int(self.buckets.get(key, 0))


@dataclass(frozen=True)
class FleetCard:
    """A card of the fleet: who it belongs to, its rebate and its pools.

    Attributes:
        last4: カード末尾4桁.
        holder: 名義.
        driver: 利用者.
        department: 部署.
        rebate_balance: 還元額残高 (yen).
        pools: the pools with points or pending points.
    """

    last4: str
    holder: str = ""
    driver: str = ""
    department: str = ""
    rebate_balance: int = 0
    pools: tuple[CardPool, ...] = ()


@dataclass(frozen=True)
class CardInPool:
    """One card's points in a pool, named by a pool total."""

    last4: str
    holder: str
    points: int
    soon: int
    """Points expiring this month or next month."""


@dataclass(frozen=True)
class PoolTotal:
    """A pool summed over the fleet's cards (points of one pool only, never across pools).

    Attributes:
        pool: pool key.
        name: the pool's Japanese name.
        cards: how many cards hold points (or pending points) in it.
        points: points held, summed.
        pending_points: points still to be granted, summed.
        buckets: points by expiry bucket, summed.
        expiring_first: the cards whose points expire soonest (most in the soonest bucket).
        most_points: the cards holding the most points.
    """

    pool: str
    name: str
    cards: int
    points: int
    pending_points: int
    buckets: Mapping[str, int]
    expiring_first: tuple[CardInPool, ...]
    most_points: tuple[CardInPool, ...]


def _expiry_rank(pool: CardPool) -> tuple[int, int]:
    """Sort key: the soonest bucket holding points first, then the most points in it."""
    for position, key in enumerate(BUCKETS[:-1]):
        if pool.bucket(key) > 0:
            return (position, -pool.bucket(key))
    return (len(BUCKETS), 0)


def pool_totals(cards: Iterable[FleetCard], *, top: int = TOP_CARDS) -> tuple[PoolTotal, ...]:
    """Every pool's totals over ``cards``, the pool with the most points first.

    ``expiring_first`` names at most ``top`` cards with points expiring within the next three
    months (this month's first); ``most_points`` the ``top`` cards holding the most.
    """
    members: dict[str, list[tuple[FleetCard, CardPool]]] = {}
    for card in cards:
        for pool in card.pools:
            members.setdefault(pool.pool, []).append((card, pool))
    totals = []
    for key, found in members.items():

        def named(card: FleetCard, pool: CardPool) -> CardInPool:
            soon = pool.bucket("this_month") + pool.bucket("next_month")
            return CardInPool(card.last4, card.holder, pool.points, soon)

        expiring = sorted(
            (entry for entry in found if _expiry_rank(entry[1])[0] < len(BUCKETS) - 1),
            key=lambda entry: (_expiry_rank(entry[1]), entry[0].last4),
        )
        richest = sorted(found, key=lambda entry: (-entry[1].points, entry[0].last4))
        totals.append(
            PoolTotal(
                pool=key,
                name=found[0][1].name,
                cards=len(found),
                points=sum(pool.points for _card, pool in found),
                pending_points=sum(pool.pending_points for _card, pool in found),
                buckets={b: sum(pool.bucket(b) for _card, pool in found) for b in BUCKETS},
                expiring_first=tuple(named(*entry) for entry in expiring[:top]),
                most_points=tuple(named(*entry) for entry in richest[:top] if entry[1].points),
            )
        )
    totals.sort(key=lambda total: (-total.points, -total.pending_points, total.pool))
    return tuple(totals)


@dataclass(frozen=True)
class FleetRow:
    """One row of the per-card table: a card and one of its pools (or none).

    Attributes:
        last4, holder, driver, department: the card.
        pool, pool_name: the pool (``None`` / ``""`` for a card without points).
        points: points held in the pool.
        this_month, next_month, month_after: points expiring then.
        pending_points: points still to be granted.
        rebate_balance: the card's 還元額残高 (the same on each of its rows).
    """

    last4: str
    holder: str
    driver: str
    department: str
    pool: str | None
    pool_name: str
    points: int
    this_month: int
    next_month: int
    month_after: int
    pending_points: int
    rebate_balance: int


def fleet_rows(cards: Iterable[FleetCard]) -> tuple[FleetRow, ...]:
    """One row per card and pool; a card without any pool gets one row of its own."""
    rows = []
    for card in cards:
        who = (card.last4, card.holder, card.driver, card.department)
        if not card.pools:
            rows.append(FleetRow(*who, None, "", 0, 0, 0, 0, 0, card.rebate_balance))
        for pool in card.pools:
            rows.append(
                FleetRow(
                    *who,
                    pool.pool,
                    pool.name,
                    pool.points,
                    pool.bucket("this_month"),
                    pool.bucket("next_month"),
                    pool.bucket("month_after"),
                    pool.pending_points,
                    card.rebate_balance,
                )
            )
    return tuple(rows)


# -- reminders, grouped ------------------------------------------------------------------------

_SEVERITY_ORDER: Final = {"urgent": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class ReminderGroup:
    """Reminders of one kind that say the same thing for several cards, or one reminder alone.

    Attributes:
        kind: the reminders' kind.
        severity: the most urgent member's.
        message: one Japanese sentence for all of them (a single reminder's own message).
        members: the reminders grouped, in their order (the list shown on demand).
        days_left: the soonest member's, if any.
    """

    kind: ReminderKind
    severity: Severity
    message: str
    members: tuple[Reminder, ...]
    days_left: int | None = None

    @property
    def cards(self) -> tuple[str, ...]:
        """The cards the reminders are for, once each: two cards sharing their last 4 digits
        are two (see :func:`_card_count`)."""
        return tuple({_card_key(m): m.card for m in self.members}.values())

    @property
    def grouped(self) -> bool:
        return len(self.members) > 1


def _group_keys(reminder: Reminder) -> list[tuple[object, ...]]:
    """Reminders with equal keys say the same thing for different cards. A statement reminder
    names several months: it is counted under each of them (each has its own deadline)."""
    kind = reminder.kind
    if kind == "statement_window" and reminder.months:
        return [(kind, month) for month in reminder.months]
    if kind == "points_expiring":
        return [(kind, reminder.pool, reminder.due)]
    if kind in ("card_expiry", "next_twentieth"):
        return [(kind, reminder.due)]
    return [(kind,)]


def _months_label(months: Sequence[str], limit: int = 4) -> str:
    labels = [f"{int(m[:4])}年{int(m[5:7])}月" for m in months]
    if len(labels) > limit:
        return "、".join(labels[:limit]) + f" ほか{len(labels) - limit}か月"
    return "、".join(labels)


def _soonest(members: Sequence[Reminder]) -> int | None:
    days = [member.days_left for member in members if member.days_left is not None]
    return min(days) if days else None


def _statement_closes(month: str) -> dt.date:
    return statement_window_closes(dt.date(int(month[:4]), int(month[5:7]), 1))


def _group_days(key: tuple[object, ...], members: Sequence[Reminder], as_of: dt.date) -> int | None:
    if key[0] == "statement_window" and len(key) > 1:
        return (_statement_closes(str(key[1])) - as_of).days
    return _soonest(members)


def _card_key(reminder: Reminder) -> tuple[str, int | None]:
    """A reminder's card: its digits and, where cards share them, its id (its ``card`` then
    carries the id, as etcbook.models.card_name.CardName)."""
    return (reminder.card, getattr(reminder.card, "id", None))


def _card_count(members: Sequence[Reminder]) -> int:
    """How many cards the reminders are for: two cards sharing their last 4 digits are two."""
    return len(set(map(_card_key, members)))


def _group_message(
    key: tuple[object, ...],
    members: Sequence[Reminder],
    pool_names: Mapping[str, str],
    as_of: dt.date,
) -> str:
    first = members[0]
    n = f"{_card_count(members)}枚のカード"
    days = _group_days(key, members, as_of)
    left = f"（あと{days}日）" if days is not None and days >= 0 else ""
    kind = first.kind
    if kind == "statement_window" and len(key) > 1:
        month = str(key[1])
        closes = _statement_closes(month)
        return (
            f"{n}で{_months_label([month])}の明細が証憑庫にありません。"
            f"{japanese_date(closes - dt.timedelta(days=1))}を過ぎると"
            f"ETC利用照会サービスからダウンロードできなくなります{left}。"
        )
    if kind == "points_expiring":
        name = pool_names.get(first.pool or "", first.pool or "")
        total = sum(member.points or 0 for member in members)
        when = (
            "本日"
            if first.due == as_of
            else (japanese_date(first.due) + left if first.due is not None else "")
        )
        return f"{n}で{name}のポイント（計{total:,}P）が{when}で失効します。交換してください。"
    if kind == "card_expiry":
        if first.due is not None and first.due < as_of:
            return f"{n}の有効期限（{japanese_date(first.due)}）が過ぎています。"
        due = japanese_date(first.due) if first.due is not None else ""
        return f"{n}の有効期限が{due}{left}です。新しいカードが届いたら更新してください。"
    if kind == "login_inactive":
        return (
            f"{n}のETC利用照会サービスIDに1年以上ログインしていません"
            f"（最も早い自動取消まであと{days}日）。"
            if days is not None and days >= 0
            else f"{n}のETC利用照会サービスIDは自動で取り消された可能性があります。"
        )
    if kind == "inactivity":
        return f"{n}でポイント・還元額の増減が640日以上ありません。登録取消の前に残高を動かしてください。"
    if kind == "next_twentieth":
        total = sum(member.points or 0 for member in members)
        due = japanese_date(first.due) if first.due is not None else "次の20日"
        points = f"（計{total:,}P）" if total else ""
        return f"{n}に{due}のポイント付与・還元{points}が見込まれます。"
    if kind == "unreconciled_months":
        months = sorted({m for member in members for m in member.months})
        return f"{n}にまだ照合されていない月があります（{_months_label(months)}）。"
    if kind == "reconciled_changed":
        return f"{n}で照合済みの月の走行が照合後に変わりました。もう一度照合してください。"
    if kind == "incident_open":
        return f"{n}に手続きの途中の紛失・トラブルがあります（{len(members)}件）。"
    if kind == "suspicious_trips":
        return f"{n}に利用停止・カード変更の後の走行があります。カード会社に確認してください。"
    return f"{REMINDER_LABELS[kind]}: {n}"


def group_reminders(
    reminders: Iterable[Reminder],
    *,
    pool_names: Mapping[str, str] | None = None,
    as_of: dt.date,
    group_from: int = GROUP_FROM,
) -> tuple[ReminderGroup, ...]:
    """The reminders with those saying the same thing for ``group_from`` cards or more
    grouped into one line; most urgent first, then soonest, as :func:`reminders_at` orders."""
    names = pool_names or {}
    position: dict[int, int] = {}
    by_key: dict[tuple[object, ...], list[Reminder]] = {}
    for index, reminder in enumerate(reminders):
        position[id(reminder)] = index
        for key in _group_keys(reminder):
            by_key.setdefault(key, []).append(reminder)
    groups: list[ReminderGroup] = []
    alone: dict[int, Reminder] = {}
    for key, members in by_key.items():
        if _card_count(members) >= group_from:
            severity = min((m.severity for m in members), key=_SEVERITY_ORDER.__getitem__)
            groups.append(
                ReminderGroup(
                    members[0].kind,
                    severity,
                    _group_message(key, members, names, as_of),
                    tuple(members),
                    _group_days(key, members, as_of),
                )
            )
        else:
            alone.update((id(m), m) for m in members)
    groups.extend(
        ReminderGroup(m.kind, m.severity, m.message, (m,), m.days_left) for m in alone.values()
    )
    groups.sort(
        key=lambda g: (
            _SEVERITY_ORDER[g.severity],
            g.days_left if g.days_left is not None else 10**6,
            g.members[0].card if not g.grouped else "",
            position[id(g.members[0])],
        )
    )
    return tuple(groups)
