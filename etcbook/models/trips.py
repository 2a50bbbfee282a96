"""Keyword-only queries on trips."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from etcbook.domain.points import OPERATOR_KEYS


@dataclass(frozen=True)
class TripFilter:
    """Which trips to show. A trip's day and month are those of its exit time (of its entry
    for a charge at an entry gate: ``dated_at``). ``card_id`` names one card (it wins over
    ``card``, the last 4 digits, which several cards of a fleet may share)."""

    card: str | None = None
    card_id: int | None = None
    month: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    operator: str | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if self.card_id is not None:
            # One card, even when another card shares its last 4 digits.
            clauses.append("t.card_id = :card_id")
            params["card_id"] = self.card_id
        elif self.card:
            clauses.append("c.last4 = :card")
            params["card"] = self.card
        if self.month:
            year, month = (int(p) for p in self.month.split("-"))
            clauses.append("t.dated_at >= :m_start")
            params["m_start"] = dt.date(year, month, 1).isoformat()
            if (year, month) < (dt.MAXYEAR, 12):  # December 9999 has no "next month"
                clauses.append("t.dated_at < :m_end")
                params["m_end"] = dt.date(year + month // 12, month % 12 + 1, 1).isoformat()
        if self.date_from:
            clauses.append("t.dated_at >= :d_from")
            params["d_from"] = self.date_from.isoformat()
        if self.date_to and self.date_to < dt.date.max:
            clauses.append("t.dated_at < :d_to")
            params["d_to"] = (self.date_to + dt.timedelta(days=1)).isoformat()
        if self.operator:
            clauses.append("t.operator = :operator")
            params["operator"] = self.operator
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


TRIP_COLUMNS = (
    "t.id, c.last4 AS card, t.entry_at, t.exit_at, t.dated_at, t.entry_ic, t.exit_ic,"
    " t.toll_before_discount, t.etc_discount, t.toll, t.rebate_applied, t.deferred_toll,"
    " t.vehicle_class, t.vehicle_number, t.remarks, t.status, t.flags, t.morning_evening,"
    " t.operator, t.operator_source, t.purpose, t.business_share, t.department, t.source,"
    " t.version, t.card_id"
)


def list_trip_rows(*, connection: Connection, trip_filter: TripFilter) -> list[dict[str, Any]]:
    """Trips as plain dicts (ISO date-time text, integer yen), in exit-time order."""
    where, params = trip_filter.where()
    result = connection.execute(
        text(
            f"SELECT {TRIP_COLUMNS} FROM trips t JOIN cards c ON c.id = t.card_id{where}"
            " ORDER BY t.dated_at, t.id"
        ),
        params,
    )
    return [dict(row._mapping) for row in result]


def trip_json(row: dict[str, Any], *, with_version: bool = False) -> dict[str, Any]:
    """The ``trips --json`` shape of a row. Without the mileage engine, the rebate applied is the
    file's 還元額適用料金 (0 when the file did not say) and billed is toll minus it.
    ``with_version`` adds the row's ``version`` (what an edit carries: etcbook.models.versions)."""
    rebate = row["rebate_applied"] or 0
    flags = [f for f in (row["flags"] or "").split(";") if f]
    if row["morning_evening"] and "（朝夕）" not in flags:
        flags.append("（朝夕）")
    if row["operator_source"] == "default":
        flags.append("operator_guess")  # no route rule knew the gates: nexco is a guess
    return {
        "id": row["id"],
        "card": row["card"],
        "entry_at": row["entry_at"],
        "exit_at": row["exit_at"],
        "dated_at": row["dated_at"],
        "entry_ic": row["entry_ic"],
        "exit_ic": row["exit_ic"],
        "toll_before_discount": row["toll_before_discount"],
        "etc_discount": row["etc_discount"],
        "toll": row["toll"],
        "rebate_applied": rebate,
        "billed": row["toll"] - rebate,
        "operator": row["operator"],
        "operator_source": row["operator_source"],
        "status": row["status"],
        "flags": flags,
        "morning_evening": bool(row["morning_evening"]),
        "purpose": row["purpose"],
        "business_share": row["business_share"],
        "department": row["department"],
        "vehicle_number": row["vehicle_number"],
        "source": row["source"],
        "passage": False,
        **({"version": row["version"]} if with_version else {}),
    }


def check_operator(key: str) -> str:
    if key not in OPERATOR_KEYS:
        raise ValueError(f"事業者キー「{key}」は使えません（{', '.join(OPERATOR_KEYS)}）")
    return key
