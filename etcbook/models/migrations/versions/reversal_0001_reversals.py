"""Reversals: a mistaken exchange or adjustment is marked reversed (when, why), never deleted.

Revision ID: reversal_0001
Revises: 0006_engine_cache
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "reversal_0001"
down_revision = "0006_engine_cache"
branch_labels = None
depends_on = None

TABLES = ("point_exchanges", "mileage_adjustments")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("reversed_at", sa.Text(), nullable=True))
            batch.add_column(sa.Column("reversed_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("reversed_reason")
            batch.drop_column("reversed_at")
