"""Initial store: cards, import batches, trips, trip history, route rules.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from etcbook.models.columns import MIGRATION_DATETIME

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ISO = MIGRATION_DATETIME  # naive date-times; ISO 8601 text on SQLite (etcbook.models.columns)


def upgrade() -> None:
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("holder", sa.String, nullable=False, server_default=""),
        sa.Column("driver", sa.String, nullable=False, server_default=""),
        sa.Column("kind", sa.String, nullable=False, server_default="credit"),
        sa.Column("expires", sa.String, nullable=True),
        sa.Column("mileage_id", sa.String, nullable=True),
        sa.Column("login_id", sa.String, nullable=True),
        sa.Column("last_login_on", sa.Date, nullable=True),
        sa.Column("obu_number", sa.String, nullable=True),
        sa.Column("plate", sa.String, nullable=True),
        sa.Column("household", sa.String, nullable=True),
        sa.Column("auto_exchange", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String, nullable=False, server_default="active"),
        sa.Column("notes", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", ISO, nullable=False),
    )
    op.create_index("ix_cards_last4", "cards", ["last4"], unique=True)

    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("file_name", sa.String, nullable=False),
        sa.Column("sha256", sa.String, nullable=False),
        sa.Column("imported_at", ISO, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("duplicates", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_import_batches_sha256", "import_batches", ["sha256"])

    op.create_table(
        "trips",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "card_id", sa.Integer, sa.ForeignKey("cards.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("entry_at", ISO, nullable=True),
        sa.Column("exit_at", ISO, nullable=False),
        sa.Column("entry_ic", sa.String, nullable=True),
        sa.Column("exit_ic", sa.String, nullable=False),
        sa.Column("toll_before_discount", sa.Integer, nullable=True),
        sa.Column("etc_discount", sa.Integer, nullable=True),
        sa.Column("toll", sa.Integer, nullable=False),
        sa.Column("rebate_applied", sa.Integer, nullable=True),
        sa.Column("deferred_toll", sa.Integer, nullable=True),
        sa.Column("vehicle_class", sa.Integer, nullable=True),
        sa.Column("vehicle_number", sa.String, nullable=True),
        sa.Column("remarks", sa.String, nullable=False, server_default=""),
        sa.Column("status", sa.String, nullable=True),
        sa.Column("flags", sa.String, nullable=False, server_default=""),
        sa.Column("morning_evening", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("operator", sa.String, nullable=False, server_default="nexco"),
        sa.Column("purpose", sa.String, nullable=False, server_default=""),
        sa.Column("business_share", sa.Integer, nullable=False, server_default="0"),
        sa.Column("department", sa.String, nullable=False, server_default=""),
        sa.Column("trip_key", sa.String, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id"), nullable=True),
        sa.Column("source", sa.String, nullable=False, server_default="import"),
        sa.UniqueConstraint("card_id", "trip_key", "seq", name="uq_trips_identity"),
        sa.CheckConstraint("business_share BETWEEN 0 AND 100", name="ck_trips_business_share"),
    )
    op.create_index("ix_trips_card_exit", "trips", ["card_id", "exit_at"])
    op.create_index("ix_trips_exit", "trips", ["exit_at"])

    op.create_table(
        "trip_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "trip_id", sa.Integer, sa.ForeignKey("trips.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("changed_at", ISO, nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id"), nullable=True),
        sa.Column("old_values", sa.String, nullable=False),
    )
    op.create_index("ix_trip_history_trip_id", "trip_history", ["trip_id"])

    op.create_table(
        "route_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_pattern", sa.String, nullable=True),
        sa.Column("exit_pattern", sa.String, nullable=False),
        sa.Column("operator", sa.String, nullable=True),
        sa.Column("morning_evening", sa.Boolean, nullable=True),
        sa.Column("created_at", ISO, nullable=False),
    )


def downgrade() -> None:
    for table in ("route_rules", "trip_history", "trips", "import_batches", "cards"):
        op.drop_table(table)
