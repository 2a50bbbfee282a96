"""What the user does on the ETCマイレージ side: exchanges, stops, adjustments, 通勤パス months.

Tables, and keyword-only queries on them. Date-times are ISO text in Japan local time (see
``etcbook.models.tables``); money is integer yen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from etcbook import clock
from etcbook.domain.points import DEFAULT_OPERATOR, ExchangeUnit
from etcbook.models.card_refs import CardRef as CardRef  # re-exported
from etcbook.models.card_refs import find_card as find_card
from etcbook.models.card_refs import list_card_refs as list_card_refs
from etcbook.models.columns import IsoDate, IsoDateTime
from etcbook.models.dialect import as_datetime
from etcbook.privacy import free_text, free_text_or_none


class PointExchange(SQLModel, table=True):
    """ポイント交換 made by hand: units of one pool's grid, at a date-time."""

    __tablename__ = "point_exchanges"
    __table_args__ = (Index("ix_point_exchanges_card_at", "card_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT")
    at: dt.datetime = Field(sa_type=IsoDateTime)
    pool: str
    units: str
    """Points of each unit, comma-separated in the order given: ``5000,1000``."""
    points: int
    yen: int
    created_at: dt.datetime = Field(sa_type=IsoDateTime)
    reversed_at: dt.datetime | None = Field(default=None, sa_type=IsoDateTime)
    """When it was reversed (a mistaken record); the engine leaves a reversed exchange out."""
    reversed_reason: str | None = None


class CardStop(SQLModel, table=True):
    """ETCマイレージ 利用停止 (``stopped``) or 再開 (not ``stopped``) of a card at a date-time."""

    __tablename__ = "card_stops"
    __table_args__ = (Index("ix_card_stops_card_at", "card_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT")
    at: dt.datetime = Field(sa_type=IsoDateTime)
    stopped: bool
    note: str = ""
    created_at: dt.datetime = Field(sa_type=IsoDateTime)


class MileageAdjustment(SQLModel, table=True):
    """A manual correction of points (one pool) or of rebate, taking effect at 00:00 of ``on``."""

    __tablename__ = "mileage_adjustments"
    __table_args__ = (Index("ix_mileage_adjustments_card_on", "card_id", "on"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT")
    on: dt.date = Field(sa_type=IsoDate)
    pool: str | None = None
    points: int = 0
    rebate: int = 0
    reason: str
    created_at: dt.datetime = Field(sa_type=IsoDateTime)
    reversed_at: dt.datetime | None = Field(default=None, sa_type=IsoDateTime)
    """When it was reversed (a mistaken record); the engine leaves it out."""
    reversed_reason: str | None = None


class CommutePassMonth(SQLModel, table=True):
    """A month in which the card had a 通勤パス (no 平日朝夕割引 that month)."""

    __tablename__ = "commute_pass_months"
    __table_args__ = (UniqueConstraint("card_id", "month", name="uq_commute_pass_month"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT")
    month: str
    """``YYYY-MM``."""
    created_at: dt.datetime = Field(sa_type=IsoDateTime)


# --- queries (CardRef, find_card, list_card_refs: etcbook.models.card_refs) -----------------


def _iso(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat()


def create_exchange(
    *,
    connection: Connection,
    card_id: int,
    at: dt.datetime,
    pool: str,
    units: Sequence[ExchangeUnit],
) -> int:
    """Record a manual exchange; return its id. The caller has checked it (see the CLI)."""
    result = connection.execute(
        text(
            "INSERT INTO point_exchanges (card_id, at, pool, units, points, yen, created_at)"
            " VALUES (:card_id, :at, :pool, :units, :points, :yen, :created_at) RETURNING id"
        ),
        {
            "card_id": card_id,
            "at": _iso(at),
            "pool": pool,
            "units": ",".join(str(unit.points) for unit in units),
            "points": sum(unit.points for unit in units),
            "yen": sum(unit.yen for unit in units),
            "created_at": _iso(clock.now()),
        },
    )
    return int(result.scalar_one())


def create_stop(
    *, connection: Connection, card_id: int, at: dt.datetime, stopped: bool, note: str = ""
) -> int:
    """Record a 利用停止 or 再開; return its id."""
    result = connection.execute(
        text(
            "INSERT INTO card_stops (card_id, at, stopped, note, created_at)"
            " VALUES (:card_id, :at, :stopped, :note, :created_at) RETURNING id"
        ),
        {
            "card_id": card_id,
            "at": _iso(at),
            "stopped": stopped,
            "note": free_text(note),
            "created_at": _iso(clock.now()),
        },
    )
    return int(result.scalar_one())


def stop_events(*, connection: Connection, card_id: int) -> list[tuple[dt.datetime, bool]]:
    """(at, stopped) of a card's stops and resumes, in time order."""
    rows = connection.execute(
        text("SELECT at, stopped FROM card_stops WHERE card_id = :card_id ORDER BY at, id"),
        {"card_id": card_id},
    )
    return [(as_datetime(r[0]), bool(r[1])) for r in rows]


def create_adjustment(
    *,
    connection: Connection,
    card_id: int,
    on: dt.date,
    reason: str,
    pool: str | None = None,
    points: int = 0,
    rebate: int = 0,
) -> int:
    """Record a manual adjustment (points of one pool, or rebate); return its id."""
    result = connection.execute(
        text(
            'INSERT INTO mileage_adjustments (card_id, "on", pool, points, rebate, reason,'
            " created_at) VALUES (:card_id, :on, :pool, :points, :rebate, :reason, :created_at) RETURNING id"
        ),
        {
            "card_id": card_id,
            "on": on.isoformat(),
            "pool": pool,
            "points": points,
            "rebate": rebate,
            "reason": free_text(reason),
            "created_at": _iso(clock.now()),
        },
    )
    return int(result.scalar_one())


def set_commute_pass_month(
    *, connection: Connection, card_id: int, month: str, present: bool
) -> bool:
    """Mark (or unmark) ``month`` (``YYYY-MM``) as a 通勤パス month; return whether it changed."""
    if present:
        result = connection.execute(
            text(
                "INSERT INTO commute_pass_months (card_id, month, created_at)"
                " VALUES (:card_id, :month, :created_at) ON CONFLICT DO NOTHING"
            ),
            {"card_id": card_id, "month": month, "created_at": _iso(clock.now())},
        )
    else:
        result = connection.execute(
            text("DELETE FROM commute_pass_months WHERE card_id = :card_id AND month = :month"),
            {"card_id": card_id, "month": month},
        )
    return bool(result.rowcount)


def commute_pass_months(*, connection: Connection, card_id: int) -> list[str]:
    rows = connection.execute(
        text("SELECT month FROM commute_pass_months WHERE card_id = :card_id ORDER BY month"),
        {"card_id": card_id},
    )
    return [r[0] for r in rows]


TRIP_ENTRY_COLUMNS = (
    "card_id",
    "entry_at",
    "exit_at",
    "entry_ic",
    "exit_ic",
    "toll",
    "rebate_applied",
    "deferred_toll",
    "operator",
    "morning_evening",
    "flags",
)


def manual_trip_key(
    *, entry_at: dt.datetime | None, exit_at: dt.datetime, entry_ic: str | None, exit_ic: str
) -> str:
    """The identity of a trip on its card, as the 明細CSV importer builds it, so that importing
    the statement later recognises a trip entered by hand instead of adding it twice."""
    entry = entry_at.isoformat() if entry_at else ""
    return f"{entry}|{exit_at.isoformat()}|{entry_ic or ''}|{exit_ic}"


def create_manual_trip(*, connection: Connection, values: dict[str, Any]) -> int:
    """Insert a trip entered by hand (``source = 'manual'``); return its id."""
    values = {
        **values,
        **{name: free_text_or_none(values.get(name)) for name in ("entry_ic", "exit_ic")},
    }
    exit_at: dt.datetime = values["exit_at"].replace(microsecond=0)
    entry_at: dt.datetime | None = values.get("entry_at")
    if entry_at is not None:
        entry_at = entry_at.replace(microsecond=0)
    key = manual_trip_key(
        entry_at=entry_at,
        exit_at=exit_at,
        entry_ic=values.get("entry_ic"),
        exit_ic=values["exit_ic"],
    )
    seq = connection.execute(
        text("SELECT count(*) FROM trips WHERE card_id = :card_id AND trip_key = :key"),
        {"card_id": values["card_id"], "key": key},
    ).scalar_one()
    params = {column: values.get(column) for column in TRIP_ENTRY_COLUMNS}
    params.update(
        entry_at=None if entry_at is None else entry_at.isoformat(),
        exit_at=exit_at.isoformat(),
        operator=values.get("operator") or DEFAULT_OPERATOR,
        morning_evening=bool(values.get("morning_evening")),
        flags=values.get("flags") or "",
        trip_key=key,
        seq=seq,
    )
    columns = [*TRIP_ENTRY_COLUMNS, "trip_key", "seq"]
    result = connection.execute(
        text(
            f"INSERT INTO trips ({', '.join(columns)}, source, operator_source)"
            f" VALUES ({', '.join(':' + c for c in columns)}, 'manual', 'hand') RETURNING id"
        ),
        params,
    )
    return int(result.scalar_one())
