"""Company roles: card holders, closed months, claims as a workflow, the login in the audit log.

Revision ID: roles_0001
Revises: reversal_0001
Create Date: 2026-12-05

The row-level security itself (group roles, ownership, policies) is not a migration: it needs a
role that may create roles and is set up by ``etcbook admin init`` (etcbook.models.roles).
What every ledger needs, on both databases, is here: the tables, and the triggers that refuse
changes to trips of a closed month or of an approved claim.
"""

import sqlalchemy as sa
from alembic import op

from etcbook.models.columns import MIGRATION_DATETIME

revision = "roles_0001"
down_revision = "reversal_0001"
branch_labels = None
depends_on = None

ISO = MIGRATION_DATETIME

LOCKED_FIELDS = (
    "purpose",
    "business_share",
    "toll",
    "toll_before_discount",
    "etc_discount",
    "rebate_applied",
    "deferred_toll",
)


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "card_holders",
        sa.Column(
            "card_id", sa.Integer, sa.ForeignKey("cards.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("db_role", sa.String, nullable=False),
        sa.PrimaryKeyConstraint("card_id", "db_role"),
    )
    op.create_index("ix_card_holders_db_role", "card_holders", ["db_role"])
    op.create_table(
        "closed_months",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("closed_at", ISO, nullable=False),
        sa.Column("closed_by", sa.String, nullable=False, server_default=""),
    )
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "card_id", sa.Integer, sa.ForeignKey("cards.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("driver", sa.String, nullable=False, server_default=""),
        sa.Column("date_from", sa.Date, nullable=False),
        sa.Column("date_to", sa.Date, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("submitted_at", ISO, nullable=False),
        sa.Column("decided_by", sa.String, nullable=True),
        sa.Column("decided_at", ISO, nullable=True),
        sa.Column("comment", sa.String, nullable=False, server_default=""),
        sa.Column("pdf_sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("csv_sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("bundle_sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("folder", sa.String, nullable=False, server_default=""),
        sa.CheckConstraint(
            "status IN ('submitted', 'approved', 'returned', 'withdrawn')", name="ck_claims_status"
        ),
    )
    op.create_index("ix_claims_card_status", "claims", ["card_id", "status"])
    op.create_table(
        "claim_trips",
        sa.Column(
            "claim_id", sa.Integer, sa.ForeignKey("claims.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "trip_id", sa.Integer, sa.ForeignKey("trips.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column(
            "card_id", sa.Integer, sa.ForeignKey("cards.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("toll", sa.Integer, nullable=False),
        sa.Column("business_share", sa.Integer, nullable=False),
        sa.Column("purpose", sa.String, nullable=False, server_default=""),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("claim_id", "trip_id"),
    )
    op.create_index("ix_claim_trips_trip", "claim_trips", ["trip_id"])
    op.create_index("ix_claim_trips_card", "claim_trips", ["card_id"])
    # ADD COLUMN, not a batch copy: the copy would drop the audit log's append-only triggers.
    op.add_column("audit_log", sa.Column("db_user", sa.String, nullable=False, server_default=""))

    if bind.dialect.name == "postgresql":
        _postgresql_triggers(bind)
    else:
        _sqlite_triggers(bind)


def _postgresql_triggers(bind: sa.Connection) -> None:
    changed = " OR ".join(f"NEW.{f} IS DISTINCT FROM OLD.{f}" for f in LOCKED_FIELDS)
    bind.exec_driver_sql(
        "CREATE FUNCTION trips_guard() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "DECLARE m text;\n"
        "BEGIN\n"
        "  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n"
        "    m := to_char(coalesce(OLD.exit_at, OLD.entry_at), 'YYYY-MM');\n"
        "    IF EXISTS (SELECT 1 FROM closed_months WHERE month = m) THEN\n"
        "      RAISE EXCEPTION 'etcbook:closed_month:%%', m;\n"
        "    END IF;\n"
        "    IF EXISTS (SELECT 1 FROM claim_trips ct JOIN claims c ON c.id = ct.claim_id\n"
        "               WHERE ct.trip_id = OLD.id AND c.status = 'approved')\n"
        f"       AND (TG_OP = 'DELETE' OR {changed}) THEN\n"
        "      RAISE EXCEPTION 'etcbook:approved_claim:%%', OLD.id;\n"
        "    END IF;\n"
        "  END IF;\n"
        "  IF TG_OP IN ('INSERT', 'UPDATE') THEN\n"
        "    m := to_char(coalesce(NEW.exit_at, NEW.entry_at), 'YYYY-MM');\n"
        "    IF EXISTS (SELECT 1 FROM closed_months WHERE month = m) THEN\n"
        "      RAISE EXCEPTION 'etcbook:closed_month:%%', m;\n"
        "    END IF;\n"
        "    RETURN NEW;\n"
        "  END IF;\n"
        "  RETURN OLD;\n"
        "END $$"
    )
    bind.exec_driver_sql(
        "CREATE TRIGGER trips_guard BEFORE INSERT OR UPDATE OR DELETE ON trips"
        " FOR EACH ROW EXECUTE FUNCTION trips_guard()"
    )
    # The login that made the change, whatever the client sent.
    bind.exec_driver_sql(
        "CREATE FUNCTION audit_log_login() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN NEW.db_user := session_user; RETURN NEW; END $$"
    )
    bind.exec_driver_sql(
        "CREATE TRIGGER audit_log_login BEFORE INSERT ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION audit_log_login()"
    )


def _sqlite_triggers(bind: sa.Connection) -> None:
    closed = (
        "EXISTS (SELECT 1 FROM closed_months"
        " WHERE month = substr(coalesce({row}.exit_at, {row}.entry_at), 1, 7))"
    )
    raise_closed = "SELECT RAISE(ABORT, 'etcbook:closed_month');"
    for action, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        condition = " OR ".join(closed.format(row=r) for r in rows)
        bind.exec_driver_sql(
            f"CREATE TRIGGER trips_closed_{action.lower()} BEFORE {action} ON trips"
            f" WHEN {condition} BEGIN {raise_closed} END"
        )
    approved = (
        "EXISTS (SELECT 1 FROM claim_trips ct JOIN claims c ON c.id = ct.claim_id"
        " WHERE ct.trip_id = OLD.id AND c.status = 'approved')"
    )
    changed = " OR ".join(f"NEW.{f} IS NOT OLD.{f}" for f in LOCKED_FIELDS)
    bind.exec_driver_sql(
        f"CREATE TRIGGER trips_approved_update BEFORE UPDATE ON trips WHEN {approved}"
        f" AND ({changed}) BEGIN SELECT RAISE(ABORT, 'etcbook:approved_claim'); END"
    )
    bind.exec_driver_sql(
        f"CREATE TRIGGER trips_approved_delete BEFORE DELETE ON trips WHEN {approved}"
        " BEGIN SELECT RAISE(ABORT, 'etcbook:approved_claim'); END"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS trips_guard() CASCADE")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS audit_log_login() CASCADE")
    else:
        for name in (
            "closed_insert",
            "closed_update",
            "closed_delete",
            "approved_update",
            "approved_delete",
        ):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS trips_{name}")
    op.drop_column("audit_log", "db_user")
    op.drop_table("claim_trips")
    op.drop_table("claims")
    op.drop_table("closed_months")
    op.drop_table("card_holders")
