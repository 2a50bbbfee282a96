"""Cards may share their last 4 digits (a fleet): ``cards.last4`` is no longer unique; a card is
told apart by its id or by its ``label`` (呼び名, unique when set). Every import is recorded in
the audit log (one row per imported file, by a trigger on ``import_batches``; on PostgreSQL the
audit log's own trigger adds the login).

Revision ID: cards_0001
Revises: roles_0001
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "cards_0001"
down_revision = "vault_0001"
branch_labels = None
depends_on = None

# The models' plain ``str``: VARCHAR on PostgreSQL, as SQLite stores create it.
LABEL = sa.String()


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.drop_index("ix_cards_last4")
        batch.create_index("ix_cards_last4", ["last4"], unique=False)
        batch.add_column(sa.Column("label", LABEL, nullable=True))
        batch.create_index("ix_cards_label", ["label"], unique=True)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(
            "CREATE FUNCTION import_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN\n"
            "  INSERT INTO audit_log (at, os_user, entity, entity_id, action, old_value,"
            " new_value, reason)\n"
            "  VALUES (NEW.imported_at, '', 'import', NEW.id, 'import', 'null',"
            " json_build_object('file', NEW.file_name, 'sha256', NEW.sha256)::text, '');\n"
            "  RETURN NEW;\n"
            "END $$"
        )
        bind.exec_driver_sql(
            "CREATE TRIGGER import_audit AFTER INSERT ON import_batches"
            " FOR EACH ROW EXECUTE FUNCTION import_audit()"
        )
    else:
        bind.exec_driver_sql(
            "CREATE TRIGGER import_audit AFTER INSERT ON import_batches BEGIN"
            " INSERT INTO audit_log (at, os_user, entity, entity_id, action, old_value,"
            " new_value, reason, db_user) VALUES (NEW.imported_at, '', 'import', NEW.id,"
            " 'import', 'null', json_object('file', NEW.file_name, 'sha256', NEW.sha256), '',"
            " ''); END"
        )


def downgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(
        "DROP TRIGGER IF EXISTS import_audit ON import_batches"
        if bind.dialect.name == "postgresql"
        else "DROP TRIGGER IF EXISTS import_audit"
    )
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS import_audit()")
    with op.batch_alter_table("cards") as batch:
        batch.drop_index("ix_cards_label")
        batch.drop_column("label")
        batch.drop_index("ix_cards_last4")
        batch.create_index("ix_cards_last4", ["last4"], unique=True)
