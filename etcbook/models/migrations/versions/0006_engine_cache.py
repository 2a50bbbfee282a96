"""The data version and the engine's cached results (see etcbook.models.engine_cache).

Revision ID: 0006_engine_cache
Revises: 0005_journal
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_engine_cache"
down_revision = "0005_journal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 0)")
    op.create_table(
        "engine_cache",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engine_cache")
    op.drop_table("data_version")
