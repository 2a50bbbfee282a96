"""The originals' bytes in the database (PostgreSQL ledgers) and a claim's frozen files.

Revision ID: vault_0001
Revises: roles_0001
Create Date: 2026-12-05

- ``document_chunks``: a vault original's bytes, in rows of at most 1 MiB (``seq`` 0, 1, …; a
  file of 0 bytes has one empty row). Used on a PostgreSQL ledger; a SQLite store keeps its
  originals as files beside it and leaves the table empty (etcbook.models.vault_storage).
- ``claim_files``: the files a submitted claim froze (PDF, CSV, bundle) and the approved PDF,
  with their SHA-256; ``claim_file_chunks`` holds their bytes on PostgreSQL (on SQLite the files
  are in the claim's folder).

An original is never changed or deleted: the database refuses UPDATE and DELETE on all three.
"""

import sqlalchemy as sa
from alembic import op

from etcbook.models.columns import MIGRATION_DATETIME, drop_refusal, refuse

revision = "vault_0001"
down_revision = "optim_0001"
branch_labels = None
depends_on = None

ISO = MIGRATION_DATETIME
FROZEN = ("UPDATE", "DELETE")


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "document_chunks",
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("document_id", "seq"),
        sa.CheckConstraint("seq >= 0", name="ck_document_chunks_seq"),
    )
    op.create_table(
        "claim_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("claim_id", sa.Integer, sa.ForeignKey("claims.id"), nullable=False),
        sa.Column("card_id", sa.Integer, sa.ForeignKey("cards.id"), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", ISO, nullable=False),
        sa.CheckConstraint(
            "kind IN ('pdf', 'csv', 'bundle', 'approved_pdf')", name="ck_claim_files_kind"
        ),
        sa.CheckConstraint("size >= 0", name="ck_claim_files_size"),
    )
    op.create_index("ix_claim_files_claim_kind", "claim_files", ["claim_id", "kind"], unique=True)
    op.create_index("ix_claim_files_card", "claim_files", ["card_id"])
    op.create_table(
        "claim_file_chunks",
        sa.Column("claim_file_id", sa.Integer, sa.ForeignKey("claim_files.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("claim_file_id", "seq"),
        sa.CheckConstraint("seq >= 0", name="ck_claim_file_chunks_seq"),
    )
    # 電子帳簿保存法: an original (and a submitted claim's frozen file) is never altered.
    refuse(bind, "document_chunks", FROZEN, "etcbook:original_frozen")
    refuse(bind, "claim_files", FROZEN, "etcbook:original_frozen")
    refuse(bind, "claim_file_chunks", FROZEN, "etcbook:original_frozen")


def downgrade() -> None:
    bind = op.get_bind()
    for table in ("claim_file_chunks", "claim_files", "document_chunks"):
        drop_refusal(bind, table, FROZEN)
    op.drop_table("claim_file_chunks")
    op.drop_index("ix_claim_files_card", "claim_files")
    op.drop_index("ix_claim_files_claim_kind", "claim_files")
    op.drop_table("claim_files")
    op.drop_table("document_chunks")
