"""月次照合 and incidents: reported figures, reconciled-month snapshots, incidents, their steps,
the contact log and card links (登録カード変更).

Revision ID: reconcile_0001
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from etcbook.models.columns import MIGRATION_DATETIME

revision = "reconcile_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

ISO = MIGRATION_DATETIME  # naive date-times; ISO 8601 text on SQLite (etcbook.models.columns)


def _card(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        name, sa.Integer, sa.ForeignKey("cards.id", ondelete="RESTRICT"), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "reconcile_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        _card("card_id"),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("rebate_opening", sa.Integer, nullable=True),
        sa.Column("rebate_closing", sa.Integer, nullable=True),
        sa.Column("statement_total", sa.Integer, nullable=True),
        sa.Column("points", sa.String, nullable=False, server_default="{}"),
        sa.Column("updated_at", ISO, nullable=False),
        sa.UniqueConstraint("card_id", "month", name="uq_reconcile_reports_card_month"),
    )
    op.create_table(
        "reconcile_snapshots",
        sa.Column("id", sa.Integer, primary_key=True),
        _card("card_id"),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("marked_at", ISO, nullable=False),
        sa.Column("document", sa.String, nullable=False),
        sa.Column("trips", sa.String, nullable=False),
    )
    op.create_index(
        "ix_reconcile_snapshots_card_month", "reconcile_snapshots", ["card_id", "month"]
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        _card("card_id"),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("noticed_at", ISO, nullable=False),
        sa.Column("closed_at", ISO, nullable=True),
        sa.Column("note", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", ISO, nullable=False),
        sa.CheckConstraint("kind IN ('lost', 'stolen', 'damaged')", name="ck_incidents_kind"),
    )
    op.create_index("ix_incidents_card_id", "incidents", ["card_id"])
    op.create_table(
        "incident_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer,
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("step", sa.String, nullable=False),
        sa.Column("at", ISO, nullable=False),
        sa.Column("desk", sa.String, nullable=False, server_default=""),
        sa.Column("reference", sa.String, nullable=False, server_default=""),
        sa.Column("person", sa.String, nullable=False, server_default=""),
        sa.Column("details", sa.String, nullable=False, server_default="{}"),
        sa.Column("note", sa.String, nullable=False, server_default=""),
        sa.Column("recorded_at", ISO, nullable=False),
    )
    op.create_index("ix_incident_steps_incident_id", "incident_steps", ["incident_id"])
    op.create_table(
        "incident_contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer,
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", ISO, nullable=False),
        sa.Column("desk", sa.String, nullable=False),
        sa.Column("person", sa.String, nullable=False, server_default=""),
        sa.Column("reference", sa.String, nullable=False, server_default=""),
        sa.Column("summary", sa.String, nullable=False, server_default=""),
        sa.Column("recorded_at", ISO, nullable=False),
    )
    op.create_index("ix_incident_contacts_incident_id", "incident_contacts", ["incident_id"])
    op.create_table(
        "card_links",
        sa.Column("id", sa.Integer, primary_key=True),
        _card("old_card_id"),
        _card("new_card_id"),
        sa.Column("registered_at", ISO, nullable=False),
        sa.Column("effective_at", ISO, nullable=False),
        sa.Column(
            "incident_id",
            sa.Integer,
            sa.ForeignKey("incidents.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", ISO, nullable=False),
        sa.UniqueConstraint("old_card_id", name="uq_card_links_old"),
        sa.UniqueConstraint("new_card_id", name="uq_card_links_new"),
        sa.CheckConstraint("old_card_id <> new_card_id", name="ck_card_links_distinct"),
    )


def downgrade() -> None:
    for table in (
        "card_links",
        "incident_contacts",
        "incident_steps",
        "incidents",
        "reconcile_snapshots",
        "reconcile_reports",
    ):
        op.drop_table(table)
