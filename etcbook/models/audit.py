"""The audit log (電子帳簿保存法's record of corrections and deletions): append-only.

Every change to a trip's amounts, business share or purpose goes through :func:`edit_trip`,
which writes the change and one audit row per changed field in the caller's transaction.
Vault changes are recorded by :mod:`etcbook.models.vault` through :func:`append_audit`.
Nothing in the app updates or deletes audit rows; triggers in the store refuse it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text

from etcbook import clock
from etcbook.privacy import free_text

TRIP_AMOUNT_FIELDS = (
    "toll_before_discount",
    "etc_discount",
    "toll",
    "rebate_applied",
    "deferred_toll",
)
TRIP_EDITABLE_FIELDS = (*TRIP_AMOUNT_FIELDS, "business_share", "purpose", "department")
"""Trip fields :func:`edit_trip` changes, each change audited."""

_NULLABLE = {"toll_before_discount", "etc_discount", "rebate_applied", "deferred_toll"}


class TripEditError(ValueError):
    """A trip edit that cannot be made (unknown trip or field, a bad value); nothing changed."""


def os_user() -> str:
    """The operating-system user recorded with each change."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "unknown"


def append_audit(
    *,
    connection: Connection,
    entity: str,
    entity_id: int,
    action: str,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
    user: str | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Append one audit row (old and new values as JSON) and return its id."""
    result = connection.execute(
        text(
            "INSERT INTO audit_log (at, os_user, entity, entity_id, action, field, old_value,"
            " new_value, reason) VALUES (:at, :user, :entity, :entity_id, :action, :field,"
            " :old, :new, :reason) RETURNING id"
        ),
        {
            "at": (at or clock.now()).isoformat(),
            "user": user or os_user(),
            "entity": entity,
            "entity_id": entity_id,
            "action": action,
            "field": field,
            "old": json.dumps(old, ensure_ascii=False, default=str),
            "new": json.dumps(new, ensure_ascii=False, default=str),
            "reason": free_text(reason),
        },
    )
    return int(result.scalar_one())


def _check_value(field: str, value: Any) -> Any:
    if field in ("purpose", "department"):
        if not isinstance(value, str):
            raise TripEditError(f"{field} は文字列で指定してください")
        return free_text(value)
    if value is None and field in _NULLABLE:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TripEditError(f"{field} は整数で指定してください: {value!r}")
    if field == "business_share" and not 0 <= value <= 100:
        raise TripEditError(f"業務割合は 0〜100 (%) で指定してください: {value}")
    return value


def edit_trip(
    *,
    connection: Connection,
    trip_id: int,
    changes: Mapping[str, Any],
    reason: str = "",
    user: str | None = None,
    expected_version: int | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Change a trip's fields and append an audit row for each value that really changes.

    Runs in the caller's transaction (use ``store.transaction()``), so the change and its record
    are committed together or not at all. Returns ``{field: (old, new)}`` of what changed.
    With ``expected_version`` (the trip's version when the user read it), a trip changed since is
    refused with :class:`etcbook.models.versions.StaleEdit`.
    """
    from etcbook.models.versions import check_version

    unknown = set(changes) - set(TRIP_EDITABLE_FIELDS)
    if unknown:
        raise TripEditError(f"変更できない項目です: {', '.join(sorted(unknown))}")
    wanted = {field: _check_value(field, value) for field, value in changes.items()}
    if not wanted:
        return {}
    check_version(connection, "trips", trip_id, expected_version)
    columns = ", ".join(TRIP_EDITABLE_FIELDS)
    row = (
        connection.execute(text(f"SELECT {columns} FROM trips WHERE id = :id"), {"id": trip_id})
        .mappings()
        .first()
    )
    if row is None:
        from etcbook.models.refusals import not_yours

        raise TripEditError(
            not_yours(connection, "trips", trip_id) or f"走行 {trip_id} はありません"
        )
    changed = {f: (row[f], v) for f, v in wanted.items() if row[f] != v}
    if not changed:
        return {}
    assignments = ", ".join(f"{field} = :{field}" for field in changed)
    connection.execute(
        text(f"UPDATE trips SET {assignments} WHERE id = :id"),
        {**{field: new for field, (_, new) in changed.items()}, "id": trip_id},
    )
    at = clock.now()
    who = user or os_user()
    for field, (old, new) in changed.items():
        append_audit(
            connection=connection,
            entity="trip",
            entity_id=trip_id,
            action="update",
            field=field,
            old=old,
            new=new,
            reason=reason,
            user=who,
            at=at,
        )
    return changed


def edit_trips(
    *,
    connection: Connection,
    trip_ids: Sequence[int],
    changes: Mapping[str, Any],
    reason: str = "",
    user: str | None = None,
) -> int:
    """:func:`edit_trip` on several trips (a bulk edit in the window); returns how many changed."""
    who = user or os_user()
    return sum(
        1
        for trip_id in trip_ids
        if edit_trip(
            connection=connection, trip_id=trip_id, changes=changes, reason=reason, user=who
        )
    )


def list_audit(
    *,
    connection: Connection,
    entity: str | None = None,
    entity_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Audit rows, oldest first, with old and new values decoded from JSON."""
    clauses: list[str] = []
    params: dict[str, str | int] = {}
    if entity:
        clauses.append("entity = :entity")
        params["entity"] = entity
    if entity_id is not None:
        clauses.append("entity_id = :entity_id")
        params["entity_id"] = entity_id
    if since:
        clauses.append("at >= :since")
        params["since"] = since.isoformat()
    if until:
        clauses.append("at < :until")
        params["until"] = (until + dt.timedelta(days=1)).isoformat()
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = connection.execute(
        text(
            "SELECT id, at, os_user, entity, entity_id, action, field, old_value, new_value,"
            f" reason FROM audit_log{where} ORDER BY id"
        ),
        params,
    ).mappings()
    return [
        {
            "id": r["id"],
            "at": r["at"],
            "os_user": r["os_user"],
            "entity": r["entity"],
            "entity_id": r["entity_id"],
            "action": r["action"],
            "field": r["field"],
            "old": json.loads(r["old_value"]) if r["old_value"] is not None else None,
            "new": json.loads(r["new_value"]) if r["new_value"] is not None else None,
            "reason": r["reason"],
        }
        for r in rows
    ]
