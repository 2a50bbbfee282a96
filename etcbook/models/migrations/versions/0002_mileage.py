"""Mileage: point exchanges, card stops and resumes, manual adjustments, 通勤パス months.

Revision ID: 0002_mileage
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from etcbook.models.columns import MIGRATION_DATETIME

revision = "0002_mileage"
down_revision = "0001"
branch_labels = ("mileage",)
depends_on = None

ISO = MIGRATION_DATETIME  # naive date-times; ISO 8601 text on SQLite (etcbook.models.columns)


def _card_id() -> sa.Column[int]:
    return sa.Column(
        "card_id", sa.Integer, sa.ForeignKey("cards.id", ondelete="RESTRICT"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "point_exchanges",
        sa.Column("id", sa.Integer, primary_key=True),
        _card_id(),
        sa.Column("at", ISO, nullable=False),
        sa.Column("pool", sa.String, nullable=False),
        sa.Column("units", sa.String, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("yen", sa.Integer, nullable=False),
        sa.Column("created_at", ISO, nullable=False),
        sa.CheckConstraint("points > 0 AND yen > 0", name="ck_point_exchanges_positive"),
    )
    op.create_index("ix_point_exchanges_card_at", "point_exchanges", ["card_id", "at"])

    op.create_table(
        "card_stops",
        sa.Column("id", sa.Integer, primary_key=True),
        _card_id(),
        sa.Column("at", ISO, nullable=False),
        sa.Column("stopped", sa.Boolean, nullable=False),
        sa.Column("note", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", ISO, nullable=False),
    )
    op.create_index("ix_card_stops_card_at", "card_stops", ["card_id", "at"])

    op.create_table(
        "mileage_adjustments",
        sa.Column("id", sa.Integer, primary_key=True),
        _card_id(),
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("pool", sa.String, nullable=True),
        sa.Column("points", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rebate", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("created_at", ISO, nullable=False),
        sa.CheckConstraint(
            "(points != 0 AND pool IS NOT NULL AND rebate = 0)"
            " OR (rebate != 0 AND points = 0 AND pool IS NULL)",
            name="ck_mileage_adjustments_one_kind",
        ),
    )
    op.create_index("ix_mileage_adjustments_card_on", "mileage_adjustments", ["card_id", "on"])

    op.create_table(
        "commute_pass_months",
        sa.Column("id", sa.Integer, primary_key=True),
        _card_id(),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("created_at", ISO, nullable=False),
        sa.UniqueConstraint("card_id", "month", name="uq_commute_pass_month"),
    )

    # The mileage engine reads every trip of a card in exit order: a covering index lets SQLite
    # answer from the index alone instead of visiting the wide trips rows one by one.
    op.create_index(
        "ix_trips_mileage",
        "trips",
        [
            "card_id",
            "exit_at",
            "id",
            "toll",
            "operator",
            "morning_evening",
            "rebate_applied",
            "entry_at",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_trips_mileage", table_name="trips")
    for table in ("commute_pass_months", "mileage_adjustments", "card_stops", "point_exchanges"):
        op.drop_table(table)
