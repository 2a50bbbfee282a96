"""PostgreSQL: inserted trips are checked against closed months once per statement.

Revision ID: pgimport_0001
Revises: cards_0001
Create Date: 2026-12-05

``trips_guard`` (roles_0001) ran a plpgsql program for every inserted trip to look its month up
in ``closed_months``: about a fifth of an import's merge. Inserts are now checked once per
statement, after it, over the statement's inserted rows (a transition table), refusing with the
same ``etcbook:closed_month:YYYY-MM`` (the month of the first inserted row in a closed month,
as the per-row check named it: rows are inserted in id order). The statement is undone whole
either way. Updates and deletes keep the per-row ``trips_guard`` (it compares each row's old and
new values for approved claims). SQLite keeps its triggers as they are.
"""

from alembic import op

revision = "pgimport_0001"
down_revision = "cards_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(
        "CREATE FUNCTION trips_closed_inserted() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "DECLARE m text;\n"
        "BEGIN\n"
        "  IF EXISTS (SELECT 1 FROM closed_months) THEN\n"
        "    SELECT c.month INTO m FROM inserted i JOIN closed_months c\n"
        "      ON c.month = to_char(coalesce(i.exit_at, i.entry_at), 'YYYY-MM')\n"
        "      ORDER BY i.id LIMIT 1;\n"
        "    IF m IS NOT NULL THEN\n"
        "      RAISE EXCEPTION 'etcbook:closed_month:%%', m;\n"
        "    END IF;\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    bind.exec_driver_sql("DROP TRIGGER trips_guard ON trips")
    bind.exec_driver_sql(
        "CREATE TRIGGER trips_guard BEFORE UPDATE OR DELETE ON trips"
        " FOR EACH ROW EXECUTE FUNCTION trips_guard()"
    )
    bind.exec_driver_sql(
        "CREATE TRIGGER trips_closed_insert AFTER INSERT ON trips"
        " REFERENCING NEW TABLE AS inserted"
        " FOR EACH STATEMENT EXECUTE FUNCTION trips_closed_inserted()"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql("DROP TRIGGER IF EXISTS trips_closed_insert ON trips")
    bind.exec_driver_sql("DROP FUNCTION IF EXISTS trips_closed_inserted()")
    bind.exec_driver_sql("DROP TRIGGER trips_guard ON trips")
    bind.exec_driver_sql(
        "CREATE TRIGGER trips_guard BEFORE INSERT OR UPDATE OR DELETE ON trips"
        " FOR EACH ROW EXECUTE FUNCTION trips_guard()"
    )
