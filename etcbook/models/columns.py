"""Column types and DDL that serve both databases: one schema, SQLite and PostgreSQL.

- Date-times are naive (Japan local time). On SQLite they are ISO 8601 text with a ``T``
  (``2025-06-01T08:30:00``), the text the CLI prints; on PostgreSQL ``timestamp without time
  zone``. Models use :data:`IsoDateTime`, migrations :data:`MIGRATION_DATETIME`: both are
  ``DateTime`` everywhere but on SQLite, where the model reads and writes the ISO text and the
  migrations keep declaring the ``TEXT`` columns existing files have had since the first revision.
- Constraints and indexes get predictable names (:data:`NAMING_CONVENTION`; CHECK constraints are
  named by hand), so a later migration
  can drop one by the same name on both databases.
- Tables that refuse some changes (the append-only audit log) get triggers written per dialect
  (:func:`refuse`); that is the one place migrations branch on the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import DATETIME
from sqlmodel import SQLModel

from etcbook.models.dialect import as_date, as_datetime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# SQLAlchemy leaves the SQLite DATETIME constructor unannotated.
_SQLITE_ISO = DATETIME(  # type: ignore[no-untyped-call]
    storage_format="%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d",
    regexp=r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)",
)


class _ServerDateTime(sa.TypeDecorator[dt.datetime]):
    """``timestamp`` on PostgreSQL, read back from the ISO text the engine's loader gives
    (etcbook.models.server: raw SQL reads date-times as text on both databases)."""

    impl = sa.DateTime
    cache_ok = True

    def process_result_value(self, value: object, dialect: sa.Dialect) -> dt.datetime | None:
        return None if value is None else as_datetime(value)


class _ServerDate(sa.TypeDecorator[dt.date]):
    """``date`` on PostgreSQL, read back from ISO text (see :class:`_ServerDateTime`)."""

    impl = sa.Date
    cache_ok = True

    def process_result_value(self, value: object, dialect: sa.Dialect) -> dt.date | None:
        return None if value is None else as_date(value)


IsoDateTime = _ServerDateTime().with_variant(_SQLITE_ISO, "sqlite")
"""A naive date-time: sortable ISO text on SQLite, ``timestamp`` on PostgreSQL."""

IsoDate = _ServerDate().with_variant(sa.Date(), "sqlite")
"""A date: ISO text on SQLite, ``date`` on PostgreSQL."""

MIGRATION_DATETIME = sa.DateTime().with_variant(sa.Text(), "sqlite")
"""What migrations declare for a date-time column (``TEXT`` on SQLite, as since 0001)."""


def refuse(bind: sa.Connection, table: str, actions: Sequence[str], message: str) -> None:
    """Make the database itself refuse ``actions`` (UPDATE, DELETE) on ``table`` with ``message``.

    PostgreSQL also refuses TRUNCATE when DELETE is refused (row triggers do not see it).
    """
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(
            f"CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        for action in actions:
            bind.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION {table}_refuse()"
            )
        if "DELETE" in actions:
            bind.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse()"
            )
        return
    for action in actions:
        bind.exec_driver_sql(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def drop_refusal(bind: sa.Connection, table: str, actions: Sequence[str]) -> None:
    """Undo :func:`refuse`."""
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {table}_refuse() CASCADE")
        return
    for action in actions:
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}")
