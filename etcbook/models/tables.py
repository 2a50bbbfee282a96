"""The store's core tables: cards, trips, their history, import batches, route rules.

Date-times are naive, in Japan local time (ISO 8601 text on SQLite, ``2025-06-01T08:30:00``;
see etcbook.models.columns); money as integer yen.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from etcbook.models.columns import IsoDate, IsoDateTime

CARD_KINDS = ("credit", "personal", "corporate")
"""クレジット, ETCパーソナル, ETCコーポレート."""

CARD_STATUSES = ("active", "details_missing", "stopped", "replaced", "retired")


class Card(SQLModel, table=True):
    """ETCカード: only the last four digits of its number are ever stored."""

    __tablename__ = "cards"

    id: int | None = Field(default=None, primary_key=True)
    last4: str = Field(index=True, unique=True, min_length=4, max_length=4)
    holder: str = ""
    driver: str = ""
    kind: str = "credit"
    expires: str | None = None
    mileage_id: str | None = None
    login_id: str | None = None
    last_login_on: dt.date | None = Field(default=None, sa_type=IsoDate)
    obu_number: str | None = None
    plate: str | None = None
    household: str | None = None
    auto_exchange: bool = False
    status: str = "active"
    notes: str = ""
    created_at: dt.datetime = Field(sa_type=IsoDateTime)


class ImportBatch(SQLModel, table=True):
    """One imported file: its name, the SHA-256 of its bytes, when, and what it did."""

    __tablename__ = "import_batches"

    id: int | None = Field(default=None, primary_key=True)
    file_name: str
    sha256: str = Field(index=True)
    imported_at: dt.datetime = Field(sa_type=IsoDateTime)
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0


class Trip(SQLModel, table=True):
    """走行: one row of a statement, or one trip entered by hand."""

    __tablename__ = "trips"
    __table_args__ = (
        UniqueConstraint("card_id", "trip_key", "seq", name="uq_trips_identity"),
        Index("ix_trips_exit", "exit_at"),
        # Covering index for the mileage engine (migration 0002_mileage).
        Index(
            "ix_trips_mileage",
            "card_id",
            "exit_at",
            "id",
            "toll",
            "operator",
            "morning_evening",
            "rebate_applied",
            "entry_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT")
    entry_at: dt.datetime | None = Field(default=None, sa_type=IsoDateTime)
    exit_at: dt.datetime = Field(sa_type=IsoDateTime)
    entry_ic: str | None = None
    exit_ic: str
    toll_before_discount: int | None = None
    etc_discount: int | None = None
    toll: int
    rebate_applied: int | None = None
    deferred_toll: int | None = None
    vehicle_class: int | None = None
    vehicle_number: str | None = None
    remarks: str = ""
    status: str | None = None
    flags: str = ""
    morning_evening: bool = False
    operator: str = "nexco"
    purpose: str = ""
    business_share: int = 0
    department: str = ""
    trip_key: str
    seq: int = 0
    batch_id: int | None = Field(default=None, foreign_key="import_batches.id")
    source: str = "import"


class TripHistory(SQLModel, table=True):
    """Earlier values of a trip replaced by a later import (確認中 → 確定)."""

    __tablename__ = "trip_history"

    id: int | None = Field(default=None, primary_key=True)
    trip_id: int = Field(foreign_key="trips.id", index=True, ondelete="CASCADE")
    changed_at: dt.datetime = Field(sa_type=IsoDateTime)
    batch_id: int | None = Field(default=None, foreign_key="import_batches.id")
    old_values: str


class RouteRule(SQLModel, table=True):
    """Route rule: an entry/exit IC pattern (``*`` and ``?`` wildcards) → operator, 朝夕割.

    Applied at import to new trips; the latest matching rule wins.
    """

    __tablename__ = "route_rules"

    id: int | None = Field(default=None, primary_key=True)
    entry_pattern: str | None = None
    exit_pattern: str
    operator: str | None = None
    morning_evening: bool | None = None
    created_at: dt.datetime = Field(sa_type=IsoDateTime)
