"""Evidence vault documents and the append-only audit log.

Revision ID: evidence_0001
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from etcbook.models.columns import MIGRATION_DATETIME, drop_refusal, refuse

revision = "evidence_0001"
down_revision = "0001"
branch_labels = ("evidence",)
depends_on = None

ISO = MIGRATION_DATETIME  # naive date-times; ISO 8601 text on SQLite (etcbook.models.columns)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.String, nullable=False),
        sa.Column("original_name", sa.String, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("card_last4", sa.String(4), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("doc_date", sa.Date, nullable=True),
        sa.Column("amount", sa.Integer, nullable=True),
        sa.Column("counterparty", sa.String, nullable=False, server_default=""),
        sa.Column("vehicle", sa.String, nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("supersedes_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=True),
        sa.Column("added_at", ISO, nullable=False),
        sa.Column("added_by", sa.String, nullable=False, server_default=""),
        sa.Column("removed_at", ISO, nullable=True),
        sa.Column("removed_by", sa.String, nullable=True),
        sa.Column("removed_reason", sa.String, nullable=True),
        sa.Column("trash_path", sa.String, nullable=True),
        sa.CheckConstraint("version >= 1", name="ck_documents_version"),
        sa.CheckConstraint("size >= 0", name="ck_documents_size"),
    )
    op.create_index("ix_documents_path", "documents", ["path"], unique=True)
    op.create_index("ix_documents_date", "documents", ["doc_date"])
    op.create_index("ix_documents_amount", "documents", ["amount"])
    op.create_index("ix_documents_counterparty", "documents", ["counterparty"])
    op.create_index("ix_documents_card_kind_month", "documents", ["card_last4", "kind", "month"])
    op.create_index("ix_documents_kind_month", "documents", ["kind", "month"])
    op.create_index("ix_documents_sha256", "documents", ["sha256"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", ISO, nullable=False),
        sa.Column("os_user", sa.String, nullable=False),
        sa.Column("entity", sa.String, nullable=False),
        sa.Column("entity_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("field", sa.String, nullable=True),
        sa.Column("old_value", sa.String, nullable=True),
        sa.Column("new_value", sa.String, nullable=True),
        sa.Column("reason", sa.String, nullable=False, server_default=""),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])
    # 電子帳簿保存法: the record of corrections and deletions is itself never corrected.
    refuse(op.get_bind(), "audit_log", ("UPDATE", "DELETE"), "audit_log is append-only")
    # A vault row is never deleted either: removal moves the file to the trash and marks it.
    refuse(op.get_bind(), "documents", ("DELETE",), "documents are marked removed, never deleted")


def downgrade() -> None:
    drop_refusal(op.get_bind(), "documents", ("DELETE",))
    drop_refusal(op.get_bind(), "audit_log", ("UPDATE", "DELETE"))
    op.drop_table("audit_log")
    op.drop_table("documents")
