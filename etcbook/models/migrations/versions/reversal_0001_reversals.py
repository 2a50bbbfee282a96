"""Reversals: a mistaken exchange or adjustment is marked reversed (when, why), never deleted.

Revision ID: reversal_0001
Revises: 0006_engine_cache
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from etcbook.models.columns import MIGRATION_DATETIME

revision = "reversal_0001"
down_revision = "0006_engine_cache"
branch_labels = None
depends_on = None

TABLES = ("point_exchanges", "mileage_adjustments")

ISO = MIGRATION_DATETIME  # naive date-times; ISO 8601 text on SQLite (etcbook.models.columns)
# The models' plain ``str`` (VARCHAR on PostgreSQL); SQLite files have had TEXT since this
# revision was first written, and keep it.
REASON = sa.String().with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("reversed_at", ISO, nullable=True))
            batch.add_column(sa.Column("reversed_reason", REASON, nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("reversed_reason")
            batch.drop_column("reversed_at")
