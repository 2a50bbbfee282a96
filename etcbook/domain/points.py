"""Value types shared by the mileage engine and the exchange planner."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

OPERATOR_KEYS: tuple[str, ...] = (
    "nexco",
    "miyagi",
    "honshi",
    "hanshin_kyoto",
    "hanshin",
    "nagoya",
    "aichi",
    "kobe",
    "hiroshima",
    "fukuoka",
    "kitakyushu",
    "shutoko",
    "other_rebate",
    "other",
)
"""Road operator keys (道路事業者) used throughout the store, the CLI and the rules file."""

DEFAULT_OPERATOR = "nexco"


@dataclass(frozen=True, slots=True)
class ExchangeUnit:
    """One step of an operator's exchange grid (交換単位): ``points`` P become ``yen`` 円 of rebate.

    Attributes:
        points: points consumed.
        yen: rebate (還元額) credited.
    """

    points: int
    yen: int


@dataclass(frozen=True, slots=True)
class Lot:
    """Points granted together (one grant), with what is left of them.

    Attributes:
        pool: the pool key (``nexco``, ``honshi``, ``hanshin_kyoto``, ...).
        granted_on: the grant date (the 20th, or an adjustment's date).
        expires_on: the last day the points are usable (31 March of the next fiscal year).
        granted: points granted.
        remaining: points not yet exchanged, expired or removed.
    """

    pool: str
    granted_on: dt.date
    expires_on: dt.date
    granted: int
    remaining: int
