"""Real downloads: passages, charges at an entry gate, operator guesses, card departments.

* ``trips.exit_at`` and ``trips.exit_ic`` may be NULL: a charge at an entry gate (flat-rate
  urban expressways) has an entry date-time and IC and a toll, and no exit. ``trips.dated_at``
  (generated: the exit date-time, else the entry's) is the time a trip is dated by: its day,
  month and order. The indexes on ``exit_at`` move to ``dated_at``.
* ``trips.operator_source``: where the operator came from: ``default`` (only a guess: no route
  rule knew the gates), ``rule`` (a route rule) or ``hand`` (set by the user; rules leave it).
  Existing trips: entered by hand -> ``hand``; imported as nexco -> ``default``; else ``rule``.
* ``passages``: rows whose amounts are a bare ``－`` (passing a gate, charged on another row of
  the journey): kept with their identity, linked to the journey's trip where it can be told,
  never money.
* ``cards.department`` (部署), for cards of a company.

SQLite cannot make a column nullable in place: ``trips`` is rebuilt. ``DROP TABLE`` with foreign
keys on would cascade into ``trip_history``, so its rows are kept aside and put back.

Revision ID: 0004_real
Revises: 0003_speed
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from etcbook.models.columns import MIGRATION_DATETIME

revision = "0004_real"
down_revision = "0003_speed"
branch_labels = None
depends_on = None

ISO = MIGRATION_DATETIME  # naive date-times; ISO 8601 text on SQLite (etcbook.models.columns)

_TRIPS_COLUMNS = (
    "id",
    "card_id",
    "entry_at",
    "exit_at",
    "entry_ic",
    "exit_ic",
    "toll_before_discount",
    "etc_discount",
    "toll",
    "rebate_applied",
    "deferred_toll",
    "vehicle_class",
    "vehicle_number",
    "remarks",
    "status",
    "flags",
    "morning_evening",
    "operator",
    "purpose",
    "business_share",
    "department",
    "trip_key",
    "seq",
    "batch_id",
    "source",
)

_NEW_TRIPS = """
CREATE TABLE trips_new (
    id INTEGER NOT NULL PRIMARY KEY,
    card_id INTEGER NOT NULL REFERENCES cards (id) ON DELETE RESTRICT,
    entry_at TEXT,
    exit_at TEXT,
    entry_ic VARCHAR,
    exit_ic VARCHAR,
    toll_before_discount INTEGER,
    etc_discount INTEGER,
    toll INTEGER NOT NULL,
    rebate_applied INTEGER,
    deferred_toll INTEGER,
    vehicle_class INTEGER,
    vehicle_number VARCHAR,
    remarks VARCHAR DEFAULT '' NOT NULL,
    status VARCHAR,
    flags VARCHAR DEFAULT '' NOT NULL,
    morning_evening BOOLEAN DEFAULT 0 NOT NULL,
    operator VARCHAR DEFAULT 'nexco' NOT NULL,
    purpose VARCHAR DEFAULT '' NOT NULL,
    business_share INTEGER DEFAULT '0' NOT NULL,
    department VARCHAR DEFAULT '' NOT NULL,
    trip_key VARCHAR NOT NULL,
    seq INTEGER DEFAULT '0' NOT NULL,
    batch_id INTEGER REFERENCES import_batches (id),
    source VARCHAR DEFAULT 'import' NOT NULL,
    operator_source VARCHAR DEFAULT 'default' NOT NULL,
    dated_at TEXT GENERATED ALWAYS AS (coalesce(exit_at, entry_at)) VIRTUAL,
    CONSTRAINT uq_trips_identity UNIQUE (card_id, trip_key, seq),
    CONSTRAINT ck_trips_business_share CHECK (business_share BETWEEN 0 AND 100),
    CONSTRAINT ck_trips_dated CHECK (exit_at IS NOT NULL OR (entry_at IS NOT NULL
        AND entry_ic IS NOT NULL)),
    CONSTRAINT ck_trips_exit CHECK ((exit_at IS NULL) = (exit_ic IS NULL)),
    CONSTRAINT ck_trips_operator_source CHECK (operator_source IN ('default', 'rule', 'hand'))
)
"""

_REPLACED_INDEXES = ("ix_trips_exit", "ix_trips_mileage", "ix_trips_card_exit")


def _create_trip_indexes() -> None:
    op.execute("CREATE INDEX ix_trips_dated ON trips (dated_at)")
    # The mileage engine reads every trip of a card in date order: a covering index lets SQLite
    # answer from the index alone instead of visiting the wide trips rows one by one.
    op.execute(
        "CREATE INDEX ix_trips_mileage ON trips (card_id, dated_at, id, toll, operator,"
        " morning_evening, rebate_applied, entry_at)"
    )


_OPERATOR_SOURCE = (
    "CASE WHEN source <> 'import' THEN 'hand' WHEN operator = 'nexco' THEN 'default'"
    " ELSE 'rule' END"
)


def _upgrade_trips_postgresql() -> None:
    """PostgreSQL changes the columns in place (no rebuild); dated_at is a stored generated column."""
    op.execute(
        "ALTER TABLE trips ALTER COLUMN exit_at DROP NOT NULL,"
        " ALTER COLUMN exit_ic DROP NOT NULL,"
        " ADD COLUMN operator_source VARCHAR DEFAULT 'default' NOT NULL,"
        " ADD COLUMN dated_at TIMESTAMP WITHOUT TIME ZONE"
        " GENERATED ALWAYS AS (coalesce(exit_at, entry_at)) STORED,"
        " ADD CONSTRAINT ck_trips_dated CHECK (exit_at IS NOT NULL OR (entry_at IS NOT NULL"
        " AND entry_ic IS NOT NULL)),"
        " ADD CONSTRAINT ck_trips_exit CHECK ((exit_at IS NULL) = (exit_ic IS NULL)),"
        " ADD CONSTRAINT ck_trips_operator_source"
        " CHECK (operator_source IN ('default', 'rule', 'hand'))"
    )
    op.execute(f"UPDATE trips SET operator_source = {_OPERATOR_SOURCE}")
    for name in _REPLACED_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    _create_trip_indexes()


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _upgrade_trips_postgresql()
    else:
        _upgrade_trips_sqlite(bind)
    _add_passages_and_departments()


def _upgrade_trips_sqlite(bind: sa.Connection) -> None:
    other_indexes = [
        sql
        for name, sql in bind.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'trips'"
            " AND type IN ('index', 'trigger') AND sql IS NOT NULL"
        )
        if name not in _REPLACED_INDEXES
    ]
    columns = ", ".join(_TRIPS_COLUMNS)
    op.execute(_NEW_TRIPS)
    op.execute(
        f"INSERT INTO trips_new ({columns}, operator_source) SELECT {columns},"
        f" {_OPERATOR_SOURCE} FROM trips"
    )
    op.execute("CREATE TEMP TABLE kept_trip_history AS SELECT * FROM trip_history")
    op.execute("DROP TABLE trips")
    op.execute("ALTER TABLE trips_new RENAME TO trips")
    op.execute("INSERT INTO trip_history SELECT * FROM temp.kept_trip_history")
    op.execute("DROP TABLE temp.kept_trip_history")
    _create_trip_indexes()
    for sql in other_indexes:
        op.execute(sql)


def _add_passages_and_departments() -> None:
    op.create_table(
        "passages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "card_id", sa.Integer, sa.ForeignKey("cards.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("entry_at", ISO, nullable=True),
        sa.Column("exit_at", ISO, nullable=True),
        sa.Column("dated_at", ISO, nullable=False),
        sa.Column("entry_ic", sa.String, nullable=True),
        sa.Column("exit_ic", sa.String, nullable=True),
        sa.Column("vehicle_class", sa.Integer, nullable=True),
        sa.Column("vehicle_number", sa.String, nullable=True),
        sa.Column("remarks", sa.String, nullable=False, server_default=""),
        sa.Column("status", sa.String, nullable=True),
        sa.Column("flags", sa.String, nullable=False, server_default=""),
        sa.Column("operator", sa.String, nullable=False, server_default="nexco"),
        sa.Column("operator_source", sa.String, nullable=False, server_default="default"),
        sa.Column("trip_key", sa.String, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id"), nullable=True),
        sa.Column(
            "trip_id", sa.Integer, sa.ForeignKey("trips.id", ondelete="SET NULL"), nullable=True
        ),
        sa.UniqueConstraint("card_id", "trip_key", "seq", name="uq_passages_identity"),
    )
    op.create_index("ix_passages_card_dated", "passages", ["card_id", "dated_at"])
    op.create_index("ix_passages_trip", "passages", ["trip_id"])

    with op.batch_alter_table("cards") as batch:
        batch.add_column(
            sa.Column("department", sa.String, nullable=False, server_default=""),
        )


def downgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("department")
    op.drop_table("passages")
    # Trips without an exit cannot go back to a table that requires one.
    op.execute("DELETE FROM trips WHERE exit_at IS NULL")
    for name in ("ix_trips_dated", "ix_trips_mileage"):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table("trips", recreate="never") as batch:
        batch.drop_column("dated_at")
        batch.drop_column("operator_source")
