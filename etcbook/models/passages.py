"""Passages (通過): rows of the 明細CSV whose amounts are a bare ``－``.

A passage records passing a gate with no charge of its own; the journey's charge is on another
row. Passages live in their own table (``passages``), so no query of trips, money, points,
rebate, 朝夕割, claims, reconciliation or reminders can count them. They are listed beside the
trips (``trips`` CLI, the 走行明細 page) with ``toll`` None and the flag ``passage``.

Functions for the window and the CLI (keyword-only, read-only):
:func:`list_passage_rows` (the passages a :class:`~etcbook.models.trips.TripFilter` matches),
:func:`passage_json` (their ``trips --json`` shape), :func:`passages_of_trips` (trip id → the
passages linked to it: the journey's gates, for the trips page).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from etcbook.models.trips import TripFilter

PASSAGE_FLAG = "passage"
"""The flag a passage carries in ``trips --json`` and on the trips page."""

OPERATOR_GUESS_FLAG = "operator_guess"
"""The flag of a trip or passage whose operator is only the default (no route rule knew it)."""

PASSAGE_COLUMNS = (
    "p.id, c.last4 AS card, p.entry_at, p.exit_at, p.dated_at, p.entry_ic, p.exit_ic,"
    " p.vehicle_class, p.vehicle_number, p.remarks, p.status, p.flags, p.operator,"
    " p.operator_source, p.trip_id, p.card_id"
)


def list_passage_rows(*, connection: Connection, trip_filter: TripFilter) -> list[dict[str, Any]]:
    """Passages as plain dicts (ISO date-time text), in date order; the filter reads as for
    trips (card, month and date range of ``dated_at``, operator)."""
    where, params = trip_filter.where()
    where = where.replace("t.", "p.")
    result = connection.execute(
        text(
            f"SELECT {PASSAGE_COLUMNS} FROM passages p JOIN cards c ON c.id = p.card_id{where}"
            " ORDER BY p.dated_at, p.id"
        ),
        params,
    )
    return [dict(row._mapping) for row in result]


def passage_json(row: dict[str, Any]) -> dict[str, Any]:
    """The ``trips --json`` shape of a passage: every money field null, ``passage`` in flags.

    ``id`` is null (a passage is not a trip: trip commands do not take it); ``passage_id`` is
    its own id and ``journey_id`` the id of the trip it was linked to (null when unknown).
    """
    flags = [f for f in (row["flags"] or "").split(";") if f]
    flags.append(PASSAGE_FLAG)
    if row["operator_source"] == "default":
        flags.append(OPERATOR_GUESS_FLAG)
    return {
        "id": None,
        "passage_id": row["id"],
        "journey_id": row["trip_id"],
        "card": row["card"],
        "entry_at": row["entry_at"],
        "exit_at": row["exit_at"],
        "dated_at": row["dated_at"],
        "entry_ic": row["entry_ic"],
        "exit_ic": row["exit_ic"],
        "toll_before_discount": None,
        "etc_discount": None,
        "toll": None,
        "rebate_applied": None,
        "billed": None,
        "points": None,
        "operator": row["operator"],
        "operator_source": row["operator_source"],
        "status": row["status"],
        "flags": flags,
        "morning_evening": False,
        "purpose": "",
        "business_share": 0,
        "department": "",
        "vehicle_number": row["vehicle_number"],
        "source": "import",
        "passage": True,
    }


def passages_of_trips(
    *, connection: Connection, trip_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """Trip id → the passages linked to it (the gates of its journey), in date order."""
    found: dict[int, list[dict[str, Any]]] = {}
    ids = list(trip_ids)
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        names = {f"t{i}": value for i, value in enumerate(part)}
        result = connection.execute(
            text(
                f"SELECT {PASSAGE_COLUMNS} FROM passages p JOIN cards c ON c.id = p.card_id"
                f" WHERE p.trip_id IN ({', '.join(':' + n for n in names)})"
                " ORDER BY p.dated_at, p.id"
            ),
            names,
        )
        for row in result:
            found.setdefault(row.trip_id, []).append(dict(row._mapping))
    return found
