"""PostgreSQL: every change to the ledger's other records leaves an audit row with its login.

Revision ID: audit_0001
Revises: cardids_0001
Create Date: 2026-12-05

Trips, cards, card stops, exchanges, adjustments, claims, closed months, originals, imports and
the administrator's commands are recorded by the program with what changed and why. The other
records a person can change on a shared ledger (route rules, journal settings, incidents with
their steps and contacts, commute-pass months, reconciliation reports and snapshots, card links,
journal exports) were not: a row trigger now appends one audit row per inserted, changed or
deleted row (``entity`` the table, ``action`` insert/update/delete, the row before and after as
JSON), and ``audit_log_login`` stamps the login as for every audit row. The time is Japan time
whatever the server's zone. A reconciliation snapshot's stored document and trips are left out
of the row (they are large and are kept in the snapshot itself). SQLite has one person and keeps
the program's records only.
"""

from alembic import op

revision = "audit_0001"
down_revision = "cardids_0001"
branch_labels = None
depends_on = None

AUDITED_BY_TRIGGER = (
    "route_rules",
    "journal_settings",
    "incidents",
    "incident_steps",
    "incident_contacts",
    "commute_pass_months",
    "reconcile_reports",
    "reconcile_snapshots",
    "card_links",
    "journal_exports",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(
        "CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "DECLARE\n"
        "  old_row jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL\n"
        "    ELSE to_jsonb(OLD) - ARRAY['document', 'trips'] END;\n"
        "  new_row jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL\n"
        "    ELSE to_jsonb(NEW) - ARRAY['document', 'trips'] END;\n"
        "  subject jsonb := coalesce(new_row, old_row);\n"
        "BEGIN\n"
        "  IF TG_OP = 'UPDATE' AND old_row = new_row THEN\n"
        "    RETURN NULL;\n"
        "  END IF;\n"
        "  INSERT INTO audit_log (at, os_user, entity, entity_id, action, old_value, new_value,"
        " reason)\n"
        "  VALUES ((now() AT TIME ZONE 'Asia/Tokyo')::timestamp(0), '', TG_TABLE_NAME,\n"
        "    coalesce((subject ->> 'id')::int, (subject ->> 'card_id')::int, 0), lower(TG_OP),\n"
        "    coalesce(old_row::text, 'null'), coalesce(new_row::text, 'null'), '');\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    for table in AUDITED_BY_TRIGGER:
        bind.exec_driver_sql(
            f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION audit_row()"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in AUDITED_BY_TRIGGER:
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_audit ON {table}")
    bind.exec_driver_sql("DROP FUNCTION IF EXISTS audit_row()")
