"""Journal exports (仕訳の書き出し): settings, and which trips went into which file when.

Revision ID: 0005_journal
Revises: 0004_real
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from etcbook.models.columns import MIGRATION_DATETIME

revision = "0005_journal"
down_revision = "0004_real"
branch_labels = None
depends_on = None

ISO = MIGRATION_DATETIME  # naive date-times; ISO 8601 text on SQLite (etcbook.models.columns)


def upgrade() -> None:
    op.create_table(
        "journal_settings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "card_id",
            sa.Integer,
            sa.ForeignKey("cards.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("value", sa.String, nullable=False),
    )
    op.create_index("ix_journal_settings_card_key", "journal_settings", ["card_id", "key"])
    op.create_table(
        "journal_exports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("format", sa.String, nullable=False),
        sa.Column("encoding", sa.String, nullable=False),
        sa.Column("file", sa.String, nullable=False),
        sa.Column("exported_at", ISO, nullable=False),
        sa.Column("date_from", sa.Date, nullable=False),
        sa.Column("date_to", sa.Date, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("treatment", sa.String, nullable=False),
    )
    op.create_table(
        "journal_export_trips",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "export_id",
            sa.Integer,
            sa.ForeignKey("journal_exports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "trip_id", sa.Integer, sa.ForeignKey("trips.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("amount", sa.Integer, nullable=False),
    )
    op.create_index("ix_journal_export_trips_trip", "journal_export_trips", ["trip_id"])
    op.create_index("ix_journal_export_trips_export", "journal_export_trips", ["export_id"])


def downgrade() -> None:
    with op.batch_alter_table("journal_export_trips") as batch:
        batch.drop_index("ix_journal_export_trips_export")
        batch.drop_index("ix_journal_export_trips_trip")
    op.drop_table("journal_export_trips")
    op.drop_table("journal_exports")
    with op.batch_alter_table("journal_settings") as batch:
        batch.drop_index("ix_journal_settings_card_key")
    op.drop_table("journal_settings")
