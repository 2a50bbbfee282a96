"""Who may see and change what on a shared PostgreSQL ledger, enforced by PostgreSQL itself.

- One LOGIN role per person, member of ``etcbook_driver`` or ``etcbook_accounts``.
- The tables (and sequences, functions) are owned by ``etcbook_owner``, NOLOGIN, used by nobody
  day to day. No application role is a superuser or has BYPASSRLS (:func:`check_roles`).
- Row-level security is ENABLEd and FORCEd on every table holding card data. Drivers' policies
  are ``card_id = ANY(my_card_ids())``: a SECURITY DEFINER function reading ``card_holders`` for
  ``session_user`` (a shared login with ``SET app.…`` would be no boundary). The accounts desk's
  policies let it see and change every row.
- The audit log takes INSERT and SELECT only; its triggers refuse UPDATE, DELETE and TRUNCATE.
  So do the originals' bytes and a claim's frozen files (:data:`APPEND_ONLY`).
- Views run with the caller's rights (``security_invoker``).

:func:`init_roles` is idempotent: run it again after an upgrade that added tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

OWNER = "etcbook_owner"
DRIVER = "etcbook_driver"
ACCOUNTS = "etcbook_accounts"
GROUPS = {"driver": DRIVER, "accounts": ACCOUNTS}
APP_ROLES = (OWNER, DRIVER, ACCOUNTS)

CARD_TABLES = {
    # table: the driver's policy
    "cards": "id = ANY(my_card_ids())",
    "trips": "card_id = ANY(my_card_ids())",
    "point_exchanges": "card_id = ANY(my_card_ids())",
    "card_stops": "card_id = ANY(my_card_ids())",
    "mileage_adjustments": "card_id = ANY(my_card_ids())",
    "commute_pass_months": "card_id = ANY(my_card_ids())",
    "reconcile_reports": "card_id = ANY(my_card_ids())",
    "reconcile_snapshots": "card_id = ANY(my_card_ids())",
    "incidents": "card_id = ANY(my_card_ids())",
    "claims": "card_id = ANY(my_card_ids())",
    "claim_trips": "card_id = ANY(my_card_ids())",
    "card_links": "old_card_id = ANY(my_card_ids())",
    "passages": "card_id = ANY(my_card_ids())",
    "claim_files": "card_id = ANY(my_card_ids())",
    # By id, not by last 4 digits: another driver's card may share them (cardids_0001).
    "documents": "card_id = ANY(my_card_ids())",
}
"""Tables holding card data with a card id column: RLS by card."""

DERIVED_TABLES = {
    "trip_history": "trip_id IN (SELECT id FROM trips)",
    "incident_steps": "incident_id IN (SELECT id FROM incidents)",
    "incident_contacts": "incident_id IN (SELECT id FROM incidents)",
    "document_chunks": "document_id IN (SELECT id FROM documents)",
    "claim_file_chunks": "claim_file_id IN (SELECT id FROM claim_files)",
    "audit_log": "db_user = session_user",
    "journal_settings": "card_id IS NULL OR card_id = ANY(my_card_ids())",
    "journal_export_trips": "trip_id IN (SELECT id FROM trips)",
}
"""Card data reached through another table (RLS on that table applies inside the sub-query)."""

DRIVER_READ_ONLY = ("cards", "card_links", "closed_months", "route_rules")
"""Drivers read these but cannot add or reassign cards, close months or change route rules."""

NOT_GRANTED_TO_DRIVERS = ("card_holders",)

APPEND_ONLY = ("document_chunks", "claim_files", "claim_file_chunks")
"""Originals' bytes and a claim's frozen files: added, never changed (triggers refuse it too)."""


class RolesError(ValueError):
    """The roles cannot be set up or changed; the message is for the user."""


def _ident(name: str) -> str:
    """A role name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _exists(connection: Connection, role: str) -> bool:
    return bool(
        connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    )


def _tables(connection: Connection) -> list[str]:
    return list(
        connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
    )


def _card_tables(connection: Connection) -> dict[str, str]:
    """Every table's policy expression: the lists above, and any other table with a
    ``card_id`` column (a table added later is not left open)."""
    found = dict(CARD_TABLES)
    found.update(DERIVED_TABLES)
    for table in connection.execute(
        text(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_name = 'card_id'"
        )
    ).scalars():
        if table not in NOT_GRANTED_TO_DRIVERS:  # my_card_ids() reads card_holders as the owner
            found.setdefault(table, "card_id = ANY(my_card_ids())")
    return found


def init_roles(connection: Connection) -> dict[str, Any]:
    """Create the group roles, give the schema to ``etcbook_owner``, grant and enable RLS."""
    for role in APP_ROLES:
        if not _exists(connection, role):
            connection.execute(text(f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS"))
    # Whoever runs init must be able to hand objects to the owner.
    connection.execute(text(f"GRANT {OWNER} TO current_user"))
    tables = _tables(connection)
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    connection.execute(text(f"ALTER SCHEMA {schema} OWNER TO {OWNER}"))
    connection.execute(text(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {DRIVER}, {ACCOUNTS}"))
    for table in tables:
        connection.execute(text(f"ALTER TABLE {table} OWNER TO {OWNER}"))
        connection.execute(text(f"REVOKE ALL ON {table} FROM PUBLIC, {DRIVER}, {ACCOUNTS}"))
    for view in connection.execute(
        text("SELECT viewname FROM pg_views WHERE schemaname = current_schema()")
    ).scalars():
        connection.execute(text(f"ALTER VIEW {view} OWNER TO {OWNER}"))
        connection.execute(text(f"ALTER VIEW {view} SET (security_invoker = true)"))
        connection.execute(text(f"GRANT SELECT ON {view} TO {DRIVER}, {ACCOUNTS}"))
    for function in connection.execute(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n"
            " ON n.oid = p.pronamespace WHERE n.nspname = current_schema()"
        )
    ).scalars():
        connection.execute(text(f"ALTER FUNCTION {function} OWNER TO {OWNER}"))
    connection.execute(
        text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {DRIVER}, {ACCOUNTS}")
    )

    connection.execute(
        text(
            "CREATE OR REPLACE FUNCTION my_card_ids() RETURNS int[] LANGUAGE sql STABLE"
            " SECURITY DEFINER SET search_path = " + schema + ", pg_temp AS"
            " $$ SELECT coalesce(array_agg(card_id), '{}') FROM card_holders"
            " WHERE db_role = session_user $$"
        )
    )
    connection.execute(text(f"ALTER FUNCTION my_card_ids() OWNER TO {OWNER}"))
    connection.execute(text("REVOKE ALL ON FUNCTION my_card_ids() FROM PUBLIC"))
    connection.execute(text(f"GRANT EXECUTE ON FUNCTION my_card_ids() TO {DRIVER}, {ACCOUNTS}"))

    _claims_guard(connection)
    _not_mine_functions(connection, schema)
    policies = _card_tables(connection)
    for table in tables:
        if table == "audit_log" or table in APPEND_ONLY:
            connection.execute(text(f"GRANT SELECT, INSERT ON {table} TO {DRIVER}, {ACCOUNTS}"))
        elif table in NOT_GRANTED_TO_DRIVERS:
            # read by my_card_ids() as the owner: row-level security would hide every row
            connection.execute(text(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
            connection.execute(text(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"))
            connection.execute(
                text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {ACCOUNTS}")
            )
        elif table == "alembic_version":
            connection.execute(text(f"GRANT SELECT ON {table} TO {DRIVER}, {ACCOUNTS}"))
        elif table in DRIVER_READ_ONLY:
            connection.execute(text(f"GRANT SELECT ON {table} TO {DRIVER}"))
            connection.execute(
                text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {ACCOUNTS}")
            )
        else:
            connection.execute(
                text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {DRIVER}, {ACCOUNTS}")
            )
        if table not in policies:
            continue
        own = policies[table]
        connection.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        connection.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
        connection.execute(text(f"DROP POLICY IF EXISTS driver_own ON {table}"))
        connection.execute(text(f"DROP POLICY IF EXISTS accounts_all ON {table}"))
        connection.execute(
            text(
                f"CREATE POLICY driver_own ON {table} TO {DRIVER} USING ({own}) WITH CHECK ({own})"
            )
        )
        connection.execute(
            text(
                f"CREATE POLICY accounts_all ON {table} TO {ACCOUNTS} USING (true) WITH CHECK (true)"
            )
        )
        connection.execute(text(f"DROP POLICY IF EXISTS owner_lookup ON {table}"))
        if table in NOT_MINE_TABLES or table == "cards":
            # read by the SECURITY DEFINER functions below (the owner could lift RLS anyway)
            connection.execute(
                text(f"CREATE POLICY owner_lookup ON {table} FOR SELECT TO {OWNER} USING (true)")
            )
    _audit_admin(connection, "init", {"tables": len(tables)})
    return {"roles": list(APP_ROLES), "tables": len(tables), "problems": check_roles(connection)}


NOT_MINE_TABLES = ("trips", "point_exchanges", "mileage_adjustments", "incidents", "claims")
"""Tables whose rows :func:`etcbook.models.refusals.not_yours` can tell apart: absent, or on a
card that is not the caller's (``row_not_mine``)."""


def _not_mine_functions(connection: Connection, schema: str) -> None:
    """``row_not_mine(table, id)`` and ``card_not_mine(reference)``: whether what a driver
    asked for exists on a card that is not theirs, so that etcbook can say so in words
    instead of 「ありません」. They answer yes or no only (no row's data), for the caller's own
    question; the accounts desk sees every row, so they are false for it."""
    tables = ", ".join(f"'{t}'" for t in NOT_MINE_TABLES)
    setting = f"SECURITY DEFINER SET search_path = {schema}, pg_temp"
    connection.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION row_not_mine(tbl text, row_id bigint) RETURNS boolean"
        f" LANGUAGE plpgsql STABLE {setting} AS $$\n"
        "DECLARE owner_card integer;\n"
        "BEGIN\n"
        f"  IF tbl NOT IN ({tables}) OR NOT pg_has_role(session_user, '{DRIVER}', 'MEMBER')"
        " THEN RETURN false; END IF;\n"
        "  EXECUTE format('SELECT card_id FROM %%I WHERE id = $1', tbl) INTO owner_card"
        " USING row_id;\n"
        "  RETURN owner_card IS NOT NULL AND NOT owner_card = ANY(my_card_ids());\n"
        "END $$"
    )
    connection.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION card_not_mine(reference text) RETURNS boolean"
        f" LANGUAGE sql STABLE {setting} AS $$\n"
        f"SELECT pg_has_role(session_user, '{DRIVER}', 'MEMBER') AND EXISTS (SELECT 1 FROM cards"
        " WHERE (last4 = reference OR label = reference OR holder = reference"
        " OR driver = reference OR 'id:' || id = reference) AND NOT id = ANY(my_card_ids())) $$"
    )
    for function in ("row_not_mine(text, bigint)", "card_not_mine(text)"):
        connection.execute(text(f"ALTER FUNCTION {function} OWNER TO {OWNER}"))
        connection.execute(text(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC"))
        connection.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {DRIVER}, {ACCOUNTS}"))


def _claims_guard(connection: Connection) -> None:
    """Only the accounts desk decides claims; an approved claim never changes (also for it)."""
    connection.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION claims_guard() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "DECLARE desk boolean := pg_has_role(session_user, '" + ACCOUNTS + "', 'MEMBER')\n"
        "  OR NOT pg_has_role(session_user, '" + DRIVER + "', 'MEMBER');\n"
        "BEGIN\n"
        "  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'approved' THEN\n"
        "    RAISE EXCEPTION 'etcbook:approved_claim:%%', OLD.id;\n"
        "  END IF;\n"
        "  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n"
        "  IF NOT desk AND NEW.status NOT IN ('submitted', 'withdrawn') THEN\n"
        "    RAISE EXCEPTION 'etcbook:accounts_only:claim' USING ERRCODE = '42501';\n"
        "  END IF;\n"
        "  IF NOT desk AND TG_OP = 'UPDATE' AND OLD.status = 'submitted'\n"
        "     AND NEW.status = 'submitted' AND (NEW.decided_by IS DISTINCT FROM OLD.decided_by\n"
        "     OR NEW.total IS DISTINCT FROM OLD.total AND OLD.pdf_sha256 <> '') THEN\n"
        "    RAISE EXCEPTION 'etcbook:accounts_only:claim' USING ERRCODE = '42501';\n"
        "  END IF;\n"
        "  RETURN NEW;\n"
        "END $$"
    )
    connection.execute(text(f"ALTER FUNCTION claims_guard() OWNER TO {OWNER}"))
    connection.execute(text("DROP TRIGGER IF EXISTS claims_guard ON claims"))
    connection.execute(
        text(
            "CREATE TRIGGER claims_guard BEFORE INSERT OR UPDATE OR DELETE ON claims"
            " FOR EACH ROW EXECUTE FUNCTION claims_guard()"
        )
    )


@dataclass(frozen=True)
class User:
    login: str
    role: str
    cards: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"login": self.login, "role": self.role, "cards": list(self.cards)}


def add_user(connection: Connection, login: str, role: str) -> None:
    """A LOGIN role for a person in the ``driver`` or ``accounts`` group (no password here:
    the server's authentication, pgpass or the keyring hold it)."""
    if role not in GROUPS:
        raise RolesError(f"役割は driver か accounts です: {role}")
    if not _exists(connection, GROUPS[role]):
        raise RolesError("先に etcbook admin init を実行してください")
    if login in APP_ROLES or login.startswith("pg_"):
        raise RolesError(f"{login} は利用者の名前に使えません")
    if not _exists(connection, login):
        connection.execute(text(f"CREATE ROLE {_ident(login)} LOGIN NOSUPERUSER NOBYPASSRLS"))
    other = GROUPS["accounts" if role == "driver" else "driver"]
    connection.execute(text(f"REVOKE {other} FROM {_ident(login)}"))
    connection.execute(text(f"GRANT {GROUPS[role]} TO {_ident(login)}"))
    _audit_admin(connection, "add-user", {"login": login, "role": role})


def _card_id(connection: Connection, card: str) -> int:
    from etcbook.models.cards import resolve_card

    return resolve_card(connection, card).id


def assign_card(connection: Connection, login: str, card: str) -> None:
    if not _exists(connection, login):
        raise RolesError(f"利用者 {login} はいません（etcbook admin add-user で追加してください）")
    card_id = _card_id(connection, card)
    connection.execute(
        text("INSERT INTO card_holders (card_id, db_role) VALUES (:c, :r) ON CONFLICT DO NOTHING"),
        {"c": card_id, "r": login},
    )
    _audit_admin(connection, "assign-card", {"login": login, "card_id": card_id})


def unassign_card(connection: Connection, login: str, card: str) -> bool:
    card_id = _card_id(connection, card)
    result = connection.execute(
        text("DELETE FROM card_holders WHERE card_id = :c AND db_role = :r"),
        {"c": card_id, "r": login},
    )
    if result.rowcount:
        _audit_admin(connection, "unassign-card", {"login": login, "card_id": card_id})
    return bool(result.rowcount)


def _audit_admin(connection: Connection, action: str, new: dict[str, Any]) -> None:
    """An administrator's change in the audit log (entity ``admin``; the login is recorded
    by the database's trigger)."""
    from etcbook.models.audit import append_audit

    append_audit(connection=connection, entity="admin", entity_id=0, action=action, new=new)


def list_users(connection: Connection) -> list[User]:
    rows = connection.execute(
        text(
            "SELECT m.rolname AS login, g.rolname AS grp FROM pg_auth_members am"
            " JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member"
            " WHERE g.rolname IN (:d, :a) AND m.rolcanlogin ORDER BY m.rolname"
        ),
        {"d": DRIVER, "a": ACCOUNTS},
    ).all()
    cards: dict[str, list[str]] = {}
    for login, last4 in connection.execute(
        text(
            "SELECT h.db_role, c.last4 FROM card_holders h JOIN cards c ON c.id = h.card_id"
            " ORDER BY h.db_role, c.last4, c.id"
        )
    ):
        cards.setdefault(login, []).append(last4)
    return [
        User(
            login=login,
            role="driver" if grp == DRIVER else "accounts",
            cards=tuple(cards.get(login, ())),
        )
        for login, grp in rows
    ]


def check_roles(connection: Connection) -> list[str]:
    """Problems with the application roles (empty when none): a superuser or BYPASSRLS role
    among them or their members, or a table owned by one that is not ``etcbook_owner``."""
    problems: list[str] = []
    members = _application_roles(connection)
    for name, superuser, bypass in connection.execute(
        text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ANY(:n)"),
        {"n": list(members)},
    ):
        if superuser:
            problems.append(f"{name} はスーパーユーザーです")
        if bypass:
            problems.append(f"{name} は BYPASSRLS を持っています")
    for table, owner in connection.execute(
        text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = current_schema()")
    ):
        if owner in members and owner != OWNER:
            problems.append(f"{owner} がテーブル {table} の所有者です")
        elif owner != OWNER:
            problems.append(f"テーブル {table} の所有者が {OWNER} ではありません（{owner}）")
    policies = _card_tables(connection)
    for table, enabled, forced in connection.execute(
        text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
        )
    ):
        if table in policies and not (enabled and forced):
            problems.append(
                f"テーブル {table} の行レベルセキュリティが有効（FORCE）になっていません"
            )
    return problems


def _application_roles(connection: Connection) -> set[str]:
    names = set(APP_ROLES)
    names.update(
        connection.execute(
            text(
                "SELECT m.rolname FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid"
                " JOIN pg_roles m ON m.oid = am.member WHERE g.rolname IN (:d, :a)"
            ),
            {"d": DRIVER, "a": ACCOUNTS},
        ).scalars()
    )
    return names


def my_role(connection: Connection) -> str:
    """``driver``, ``accounts`` or ``admin`` (a role outside both groups: the ledger's owner
    or a DBA; on SQLite, the single user with every right)."""
    if connection.dialect.name != "postgresql":
        return "admin"
    groups = set(
        connection.execute(
            text(
                "SELECT g.rolname FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid"
                " JOIN pg_roles m ON m.oid = am.member WHERE m.rolname = session_user"
            )
        ).scalars()
    )
    if ACCOUNTS in groups:
        return "accounts"
    if DRIVER in groups:
        return "driver"
    return "admin"


def login_name(connection: Connection) -> str:
    """The PostgreSQL login (``session_user``), or the OS user on SQLite."""
    if connection.dialect.name == "postgresql":
        return str(connection.execute(text("SELECT session_user")).scalar_one())
    from etcbook.models.audit import os_user

    return os_user()
