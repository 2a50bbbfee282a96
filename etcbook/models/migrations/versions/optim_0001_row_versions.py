"""Row versions: trips, cards and claims carry a ``version`` for optimistic edit checks.

Revision ID: optim_0001
Revises: roles_0001
Create Date: 2026-12-05

An edit that started from version N writes ``version = N + 1 ... WHERE id = :id AND version = N``
(etcbook.models.versions); 0 rows means another client changed the row since it was read, and
the edit is refused. Every other writer (the importer's 確認中→確定 replacement, card status
changes, the claims workflow) is covered by a trigger that bumps the version when an UPDATE
leaves it as it was, so no change to a row goes unseen by a client that read it before.
"""

import sqlalchemy as sa
from alembic import op

revision = "optim_0001"
down_revision = "roles_0001"
branch_labels = None
depends_on = None

TABLES = ("trips", "cards", "claims")


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        # ADD COLUMN, not a batch copy: the copy would drop the tables' triggers.
        op.add_column(table, sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(
            "CREATE FUNCTION bump_version() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            "  IF NEW.version = OLD.version THEN NEW.version := OLD.version + 1; END IF;\n"
            "  RETURN NEW;\n"
            "END $$"
        )
        for table in TABLES:
            bind.exec_driver_sql(
                f"CREATE TRIGGER {table}_version BEFORE UPDATE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION bump_version()"
            )
        return
    for table in TABLES:
        # SQLite cannot change NEW: the row is written once more (recursive triggers are off).
        bind.exec_driver_sql(
            f"CREATE TRIGGER {table}_version AFTER UPDATE ON {table}"
            " WHEN NEW.version = OLD.version"
            f" BEGIN UPDATE {table} SET version = OLD.version + 1 WHERE id = NEW.id; END"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS bump_version() CASCADE")
    else:
        for table in TABLES:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_version")
    for table in TABLES:
        op.drop_column(table, "version")
