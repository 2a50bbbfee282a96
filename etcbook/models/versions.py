"""Optimistic edit checks: an edit carries the ``version`` of the row it started from.

Trips, cards and claims have a ``version`` column (migration optim_0001) that every change
bumps (a trigger on each table, for every UPDATE that leaves ``version`` as it was, whoever
writes: an edit, the importer, the claims workflow). An edit that read version N and finds
another version when it writes is refused with :class:`StaleEdit` (a sentence; CLI exit 3; the
window shows it and reloads) and changes nothing, so two clients never silently overwrite each
other. ``expected=None`` (a caller that read nothing first) skips the check.

The check reads the row's version under a row lock (PostgreSQL ``SELECT … FOR UPDATE``, READ
COMMITTED: a second writer waits for the first one's commit, then reads the new version); on
SQLite the write transaction is ``BEGIN IMMEDIATE``, so no other writer runs between the check
and the write. The edit's own UPDATE then changes the row, and the trigger bumps its version.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, text

from etcbook.models.dialect import for_update

VERSIONED = {"trips": "走行", "cards": "カード", "claims": "申請"}


class StaleEdit(ValueError):
    """The row changed since the user read it; nothing was written."""

    def __init__(self, table: str, row_id: int) -> None:
        self.table = table
        self.row_id = row_id
        what = VERSIONED[table]
        super().__init__(
            f"この{what}は他の利用者が変更しました。最新の内容を読み込んでからやり直してください"
            "（何も変更していません）"
        )


def current_version(connection: Connection, table: str, row_id: int) -> int | None:
    """The row's version now (None when there is no such row)."""
    assert table in VERSIONED
    value = connection.execute(
        text(f"SELECT version FROM {table} WHERE id = :id"), {"id": row_id}
    ).scalar()
    return None if value is None else int(value)


def check_version(connection: Connection, table: str, row_id: int, expected: int | None) -> None:
    """Raise :class:`StaleEdit` unless the row is still at ``expected`` (None: no check).

    Locks the row (PostgreSQL ``FOR UPDATE``; SQLite's write transaction is ``BEGIN
    IMMEDIATE``), so the answer holds until the caller's transaction ends: a client changing the
    row after this waits for the caller's commit, then sees the new version.
    """
    assert table in VERSIONED
    if expected is None:
        return
    found = connection.execute(
        text(f"SELECT version FROM {table} WHERE id = :id{for_update(connection)}"),
        {"id": row_id},
    ).scalar()
    if found is not None and int(found) != expected:
        raise StaleEdit(table, row_id)


def check_versions(connection: Connection, table: str, expected: Mapping[int, int]) -> None:
    """:func:`check_version` for many rows (id → version), a few hundred ids per query."""
    assert table in VERSIONED
    ids = sorted(expected)
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        listed = ", ".join(str(int(i)) for i in part)
        found = connection.execute(
            text(
                f"SELECT id, version FROM {table} WHERE id IN ({listed})"
                f" ORDER BY id{for_update(connection)}"
            )
        )
        for row_id, version in found:
            if int(version) != expected[row_id]:
                raise StaleEdit(table, row_id)
