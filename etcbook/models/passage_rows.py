"""Passages (通過) beside the trips on the 走行明細 page: one list, one order, never money.

The page's table is keyed by integers: a trip by its id, a passage by its id negated
(:func:`passage_key`). :func:`listed_ids` returns both kinds in the page's order (passages only
where the filter can apply to them: not when it asks for business or private trips) and
:func:`passage_rows` reads passages as :class:`~etcbook.models.ui_queries.TripRow` values with
``passage`` set, no amount, and the journey they belong to where the import could tell it.
Totals stay :func:`~etcbook.models.ui_queries.trip_totals`: trips only.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import Connection, text

from etcbook.models.ui_queries import SORT_KEYS, Journey, TripQuery, TripRow

PASSAGE_SORT_KEYS: Final = {
    "exit_at": "p.dated_at",
    "entry_at": "p.entry_at",
    "card": "p.card_id",
    "entry_ic": "p.entry_ic",
    "exit_ic": "p.exit_ic",
    "operator": "p.operator",
    "status": "p.status",
}
"""A passage's value for the trips table's sort keys (the others: none, listed last)."""


def passage_key(passage_id: int) -> int:
    """The table key of a passage (trips keep their own ids, which are positive)."""
    return -passage_id


def is_passage_key(key: int) -> bool:
    return key < 0


def _passage_where(query: TripQuery) -> tuple[str, dict[str, Any]]:
    """The filter as it applies to passages: cards, months, operator and the text in gates."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if query.card_id is not None:
        clauses.append("p.card_id = :pcard_id")
        params["pcard_id"] = query.card_id
    elif query.cards:
        names = [f"pcard{i}" for i in range(len(query.cards))]
        clauses.append(
            "p.card_id IN (SELECT id FROM cards WHERE last4 IN"
            f" ({', '.join(':' + n for n in names)}))"
        )
        params.update(zip(names, query.cards, strict=True))
    _trip_where, trip_params = query.where()
    if query.month_from:
        clauses.append("p.dated_at >= :month_from")
        params["month_from"] = trip_params["month_from"]
    if query.month_to:
        clauses.append("p.dated_at < :month_to")
        params["month_to"] = trip_params["month_to"]
    if query.operator:
        clauses.append("p.operator = :operator")
        params["operator"] = query.operator
    for i, word in enumerate(query.text.split()):
        name = f"ptext{i}"
        clauses.append(
            f"(p.entry_ic LIKE :{name} ESCAPE '\\' OR p.exit_ic LIKE :{name} ESCAPE '\\'"
            f" OR p.remarks LIKE :{name} ESCAPE '\\')"
        )
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params[name] = f"%{escaped}%"
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def shows_passages(query: TripQuery) -> bool:
    """Passages have no use (business or private): a filter on it leaves them out."""
    return query.use == "all"


def listed_ids(*, connection: Connection, query: TripQuery) -> array[int]:
    """Trip ids and passage keys the page lists for ``query``, in its order."""
    trip_where, trip_params = query.where()
    passage_where, passage_params = _passage_where(query)
    direction = "DESC" if query.descending else "ASC"
    trip_sort = SORT_KEYS.get(query.sort, SORT_KEYS["exit_at"])
    passage_sort = PASSAGE_SORT_KEYS.get(query.sort, "NULL")
    result = connection.execute(
        text(
            f"SELECT id FROM (SELECT t.id AS id, {trip_sort} AS k, t.dated_at AS d"
            f" FROM trips t{trip_where}"
            f" UNION ALL SELECT -p.id, {passage_sort}, p.dated_at FROM passages p{passage_where})"
            f" ORDER BY k IS NULL, k {direction}, d {direction}, id {direction}"
        ),
        {**trip_params, **passage_params},
    )
    return array("q", (row[0] for row in result))


def count_passages(*, connection: Connection, query: TripQuery) -> int:
    """How many passages the page lists beside the trips for ``query``."""
    if not shows_passages(query):
        return 0
    where, params = _passage_where(query)
    return int(
        connection.execute(text(f"SELECT count(*) FROM passages p{where}"), params).scalar() or 0
    )


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def passage_rows(*, connection: Connection, keys: Sequence[int]) -> dict[int, TripRow]:
    """The passages of the given table keys, as rows of the trips table (keyed by their key)."""
    ids = [-key for key in keys if is_passage_key(key)]
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    result = connection.exec_driver_sql(
        "SELECT p.id, c.last4, p.entry_at, p.exit_at, p.dated_at, p.entry_ic, p.exit_ic,"
        " p.operator, p.operator_source, p.status, p.flags, p.remarks, p.trip_id,"
        " j.entry_ic, coalesce(j.exit_ic, j.entry_ic), j.dated_at, j.toll"
        " FROM passages p JOIN cards c ON c.id = p.card_id"
        f" LEFT JOIN trips j ON j.id = p.trip_id WHERE p.id IN ({marks})",
        tuple(ids),
    )
    rows: dict[int, TripRow] = {}
    for r in result:
        journey = None
        if r[12] is not None:
            journey = Journey(r[12], r[13] or None, r[14] or "", _datetime(r[15]), int(r[16]))
        flags = tuple(flag for flag in (r[10] or "").split(";") if flag)
        rows[passage_key(r[0])] = TripRow(
            id=passage_key(r[0]),
            card=r[1],
            entry_at=_datetime(r[2]),
            exit_at=_datetime(r[3]),
            entry_ic=r[5] or None,
            exit_ic=r[6] or None,
            toll=0,
            rebate_applied=0,
            billed=0,
            business_amount=0,
            operator=r[7],
            status=r[9],
            flags=flags,
            morning_evening=False,
            purpose="",
            business_share=0,
            department="",
            source="import",
            dated_at=_datetime(r[4]),
            operator_source=r[8],
            passage=True,
            journey=journey,
        )
    return rows
