"""What the window shows of the mileage engine: per card, pools, buckets, rebate, alerts.

The engine (etcbook.domain / etcbook.models) computes; this module only calls it and copies
its results into the small view records the pages draw. Called on a worker thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


class EngineUnavailable(RuntimeError):
    """The mileage engine is not installed in this build (its message is shown to the user)."""


@dataclass(frozen=True)
class PoolSummary:
    """One pool of one card.

    Attributes:
        pool: pool key.
        points: points the site would show now.
        pending_points: points that trips already made will bring at their grant.
        buckets: points by expiry: this_month, next_month, month_after, later.
    """

    pool: str
    points: int
    pending_points: int
    buckets: dict[str, int]


@dataclass(frozen=True)
class NextTwentieth:
    """What the next 20th brings to a card: grants, 朝夕割 credit, auto-exchange."""

    date: dt.date
    points: int = 0
    morning_evening_credit: int = 0
    auto_exchange_yen: int = 0


@dataclass(frozen=True)
class EngineAlert:
    """An alert of the engine: kind, level (danger, warning, info) and Japanese message."""

    kind: str
    level: str
    message: str


@dataclass(frozen=True)
class CardSummary:
    """A card's mileage state at a date, as the dashboard shows it."""

    last4: str
    holder: str
    rebate_balance: int
    points_lost_total: int
    pools: list[PoolSummary] = field(default_factory=list)
    alerts: list[EngineAlert] = field(default_factory=list)
    next_20th: NextTwentieth | None = None


def card_summaries(store: Any, as_of: dt.date) -> list[CardSummary]:
    """Every card's state at the end of ``as_of`` (raises EngineUnavailable without an engine)."""
    raise EngineUnavailable("マイレージエンジンはまだ組み込まれていません")
