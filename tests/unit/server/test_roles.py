"""The company's roles on a shared ledger, enforced by PostgreSQL: two drivers and the accounts
desk connect with psycopg directly (as anyone could with psql) and through etcbook."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

from tests.conftest import Cli

CARD_TABLES = (
    "cards",
    "trips",
    "trip_history",
    "point_exchanges",
    "card_stops",
    "mileage_adjustments",
    "commute_pass_months",
    "reconcile_reports",
    "reconcile_snapshots",
    "incidents",
    "claims",
    "claim_trips",
    "documents",
    "document_chunks",
    "claim_files",
    "claim_file_chunks",
    "passages",
    "journal_settings",
    "journal_export_trips",
)


def as_user(url: str, login: str) -> str:
    """The ledger's URL for another login (trust authentication on the test cluster)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{login}@{host}" + (f":{parts.port}" if parts.port else "")
    query = urlencode(parse_qsl(parts.query))
    return urlunsplit(parts._replace(netloc=netloc, query=query))


@dataclass
class Company:
    url: str
    driver_a: str
    driver_b: str
    accounts: str
    admin: Cli
    a: Cli
    b: Cli
    desk: Cli

    def connect(self, login: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(as_user(self.url, login), autocommit=True)


@pytest.fixture
def company(pg_url: str) -> Iterator[Company]:
    """A ledger with cards 1111 (driver A) and 2222 (driver B), a trip on each in 2026-03 and
    2026-04, the roles set up by ``admin init``; the logins are dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    logins = (f"drv_a_{suffix}", f"drv_b_{suffix}", f"acct_{suffix}")
    admin = Cli(pg_url)
    for last4, holder in (("1111", "山田"), ("2222", "佐藤")):
        admin("card", "add", "--last4", last4, "--holder", holder, check=True)
        for month in ("03", "04"):
            admin(
                "trip",
                "add",
                "--card",
                last4,
                "--exit",
                f"2026-{month}-10T09:00",
                "--from",
                "東京",
                "--to",
                "横浜町田",
                "--toll",
                "1000",
                check=True,
            )
    admin("admin", "init", check=True)
    admin("admin", "add-user", logins[0], "--role", "driver", check=True)
    admin("admin", "add-user", logins[1], "--role", "driver", check=True)
    admin("admin", "add-user", logins[2], "--role", "accounts", check=True)
    admin("admin", "assign-card", logins[0], "1111", check=True)
    admin("admin", "assign-card", logins[1], "2222", check=True)
    yield Company(
        url=pg_url,
        driver_a=logins[0],
        driver_b=logins[1],
        accounts=logins[2],
        admin=admin,
        a=Cli(as_user(pg_url, logins[0])),
        b=Cli(as_user(pg_url, logins[1])),
        desk=Cli(as_user(pg_url, logins[2])),
    )
    with psycopg.connect(pg_url, autocommit=True) as connection:
        for login in logins:
            connection.execute(f'DROP OWNED BY "{login}"')
            connection.execute(f'DROP ROLE "{login}"')


def _trip_ids(connection: psycopg.Connection[tuple[object, ...]], last4: str) -> list[int]:
    rows = connection.execute(
        "SELECT t.id FROM trips t JOIN cards c ON c.id = t.card_id WHERE c.last4 = %s ORDER BY t.id",
        (last4,),
    ).fetchall()
    return [int(r[0]) for r in rows]


def test_users_and_the_roles_check(company: Company) -> None:
    users = company.admin("admin", "users", "--json", check=True).json()
    mine = {u["login"]: u for u in users["users"] if u["login"].endswith(company.accounts[-8:])}
    assert mine[company.driver_a] == {
        "login": company.driver_a,
        "role": "driver",
        "cards": ["1111"],
    }
    assert mine[company.driver_b]["cards"] == ["2222"]
    assert mine[company.accounts] == {"login": company.accounts, "role": "accounts", "cards": []}
    check = company.admin("admin", "check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.json() == {"ok": True, "problems": []}
    # init is safe to run again
    assert company.admin("admin", "init").returncode == 0
    with company.connect(company.accounts) as connection:
        row = connection.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ANY(%s)",
            (
                [
                    company.driver_a,
                    company.driver_b,
                    company.accounts,
                    "etcbook_driver",
                    "etcbook_accounts",
                    "etcbook_owner",
                ],
            ),
        ).fetchall()
        assert row and all(r == (False, False) for r in row)
        owners = {
            r[0]
            for r in connection.execute(
                "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }
        assert owners == {"etcbook_owner"}


def test_the_check_finds_a_driver_owning_a_table(company: Company) -> None:
    with psycopg.connect(company.url, autocommit=True) as connection:
        connection.execute(f'ALTER TABLE route_rules OWNER TO "{company.driver_a}"')
    check = company.admin("admin", "check", "--json")
    assert check.returncode == 3
    assert any("route_rules" in p for p in check.json()["problems"])


def test_each_driver_sees_only_their_cards_rows(company: Company) -> None:
    with psycopg.connect(company.url, autocommit=True) as connection:
        # a row in every card table reachable without the app: history and a snapshot
        connection.execute(
            "INSERT INTO trip_history (trip_id, changed_at, old_values)"
            " SELECT id, now(), '{}' FROM trips"
        )
    seen: dict[str, dict[str, int]] = {}
    for login in (company.driver_a, company.driver_b, company.accounts):
        with company.connect(login) as connection:
            seen[login] = {
                table: int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
                for table in CARD_TABLES
            }
            cards = [r[0] for r in connection.execute("SELECT last4 FROM cards").fetchall()]
            if login == company.accounts:
                assert sorted(cards) == ["1111", "2222"]
            else:
                assert cards == (["1111"] if login == company.driver_a else ["2222"])
    for login in (company.driver_a, company.driver_b):
        assert seen[login]["trips"] == 2
        assert seen[login]["trip_history"] == 2
    assert seen[company.accounts]["trips"] == 4
    assert seen[company.accounts]["trip_history"] == 4
    # the status command as a driver reports their card only
    status = company.a("status", "--json", check=True).json()
    assert "2222" not in str(status) and "1111" in str(status)


def test_a_driver_cannot_write_to_another_drivers_card(company: Company) -> None:
    with company.connect(company.accounts) as connection:
        b_trip = _trip_ids(connection, "2222")[0]
        card_b = connection.execute("SELECT id FROM cards WHERE last4 = '2222'").fetchone()[0]  # type: ignore[index]
    with company.connect(company.driver_a) as connection:
        a_trip = _trip_ids(connection, "1111")[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            connection.execute(
                "INSERT INTO trips (card_id, exit_at, exit_ic, toll, trip_key, seq, source,"
                " remarks, flags, morning_evening, operator, purpose, business_share, department)"
                " VALUES (%s, '2026-03-11 10:00', 'X', 1, 'k', 0, 'manual', '', '', false,"
                " 'nexco', '', 0, '')",
                (card_b,),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            connection.execute("UPDATE trips SET card_id = %s WHERE id = %s", (card_b, a_trip))
        # another driver's row is not even there to change
        assert (
            connection.execute("UPDATE trips SET purpose = 'x' WHERE id = %s", (b_trip,)).rowcount
            == 0
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(
                "INSERT INTO cards (last4, holder, created_at) VALUES ('3333', 'x', now())"
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("SELECT * FROM card_holders")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(
                "INSERT INTO card_holders (card_id, db_role) VALUES (%s, %s)",
                (card_b, company.driver_a),
            )
    # through etcbook: a sentence, exit 3, nothing changed
    added = company.a(
        "trip",
        "add",
        "--card",
        "2222",
        "--exit",
        "2026-05-01T09:00",
        "--to",
        "横浜町田",
        "--toll",
        "500",
    )
    assert added.returncode == 3
    assert "Traceback" not in added.stderr and "psycopg" not in added.stderr
    assert "カード" in added.stderr
    card = company.a("card", "add", "--last4", "4444", "--holder", "x")
    assert card.returncode == 3
    assert "この役割ではできません" in card.stderr, card.stderr
    with company.connect(company.accounts) as connection:
        assert len(_trip_ids(connection, "2222")) == 2
        assert connection.execute("SELECT count(*) FROM cards").fetchone() == (2,)


def test_the_audit_log_records_the_login_and_cannot_be_altered(company: Company) -> None:
    with psycopg.connect(company.url) as connection:
        admin_login = connection.info.user
    with company.connect(company.driver_a) as connection:
        trip = _trip_ids(connection, "1111")[0]
    company.a(
        "trip", "edit", str(trip), "--purpose", "営業訪問", "--business-share", "100", check=True
    )
    with company.connect(company.accounts) as connection:
        users = {
            r[0]
            for r in connection.execute(
                "SELECT db_user FROM audit_log WHERE entity = 'trip' AND entity_id = %s"
                " AND action = 'update'",
                (trip,),
            ).fetchall()
        }
        assert users == {company.driver_a}
        # the trip was added by hand by the fixture's administrator, and that is recorded too
        added = connection.execute(
            "SELECT db_user FROM audit_log WHERE entity = 'trip' AND entity_id = %s"
            " AND action = 'add'",
            (trip,),
        ).fetchall()
        assert added == [(admin_login,)]
        # a client cannot pass another name
        connection.execute(
            "INSERT INTO audit_log (at, os_user, entity, entity_id, action, old_value, new_value,"
            " reason, db_user) VALUES (now(), 'x', 'test', 1, 'test', 'null', 'null', '', 'someone')"
        )
        assert connection.execute(
            "SELECT db_user FROM audit_log WHERE entity = 'test'"
        ).fetchone() == (company.accounts,)
    for login in (company.driver_a, company.accounts):
        with company.connect(login) as connection:
            for statement in (
                "UPDATE audit_log SET reason = 'x'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    connection.execute(statement)


def test_a_closed_month_cannot_change(company: Company, tmp_path: Path) -> None:
    refused = company.a("month", "close", "2026-03")
    assert refused.returncode == 3
    assert "経理担当" in refused.stderr
    company.desk("month", "close", "2026-03", "--json", check=True)
    with company.connect(company.driver_a) as connection:
        march, april = _trip_ids(connection, "1111")
        with pytest.raises(psycopg.errors.RaiseException, match="2026-03"):
            connection.execute("UPDATE trips SET purpose = 'x' WHERE id = %s", (march,))
        with pytest.raises(psycopg.errors.RaiseException, match="2026-03"):
            connection.execute("DELETE FROM trips WHERE id = %s", (march,))
        with pytest.raises(psycopg.errors.RaiseException, match="2026-03"):
            connection.execute(
                "UPDATE trips SET exit_at = '2026-03-20 10:00' WHERE id = %s", (april,)
            )
        connection.execute("UPDATE trips SET purpose = 'ok' WHERE id = %s", (april,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM closed_months")
    for cli in (company.a, company.desk):
        edit = cli("trip", "edit", str(march), "--purpose", "営業")
        assert edit.returncode == 3
        assert "2026-03 は月締め済みです" in edit.stderr, edit.stderr
        added = cli(
            "trip",
            "add",
            "--card",
            "1111",
            "--exit",
            "2026-03-15T09:00",
            "--to",
            "横浜町田",
            "--toll",
            "500",
        )
        assert added.returncode == 3 and "2026-03" in added.stderr
    assert company.desk("month", "reopen", "2026-03").returncode == 2  # --reason is required
    company.desk("month", "reopen", "2026-03", "--reason", "料金の訂正", check=True)
    company.a("trip", "edit", str(march), "--purpose", "営業", check=True)
    with company.connect(company.accounts) as connection:
        audit = connection.execute(
            "SELECT action, reason, db_user FROM audit_log WHERE entity = 'month' ORDER BY id"
        ).fetchall()
    assert audit == [("close", "", company.accounts), ("reopen", "料金の訂正", company.accounts)]


def test_claims_submitted_returned_resubmitted_approved(company: Company) -> None:
    with company.connect(company.driver_a) as connection:
        march, april = _trip_ids(connection, "1111")
    company.a(
        "trip", "edit", str(march), "--purpose", "営業", "--business-share", "100", check=True
    )
    submitted = company.a(
        "claim",
        "submit",
        "--card",
        "1111",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--json",
        check=True,
    ).json()
    assert submitted["status"] == "submitted" and submitted["total"] == 1000
    assert len(submitted["pdf_sha256"]) == 64
    claim_id = submitted["claim"]
    # a driver cannot decide, not even through the database
    refused = company.a("claim", "approve", str(claim_id))
    assert refused.returncode == 3 and "経理担当" in refused.stderr
    with (
        company.connect(company.driver_a) as connection,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        connection.execute("UPDATE claims SET status = 'approved' WHERE id = %s", (claim_id,))
    # driver B does not see A's claim
    assert company.b("claim", "list", "--json", check=True).json() == {"claims": []}
    company.desk("claim", "return", str(claim_id), "--comment", "用途を詳しく", check=True)
    listed = company.a("claim", "list", "--json", check=True).json()["claims"]
    assert [(c["id"], c["status"], c["comment"], c["decided_by"]) for c in listed] == [
        (claim_id, "returned", "用途を詳しく", company.accounts)
    ]
    assert set(listed[0]) == {
        "id",
        "card",
        "driver",
        "from",
        "to",
        "total",
        "status",
        "submitted_at",
        "decided_by",
        "decided_at",
        "comment",
        "version",  # added to the keys: the row version an approve/return may carry
    }
    assert listed[0]["driver"] == company.driver_a
    company.a("trip", "edit", str(march), "--purpose", "営業訪問（A社）", check=True)
    again = company.a(
        "claim",
        "submit",
        "--card",
        "1111",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--json",
        check=True,
    ).json()
    approved = company.desk("claim", "approve", str(again["claim"]), "--json", check=True).json()
    assert approved["status"] == "approved" and approved["decided_by"] == company.accounts
    queue = company.desk("claim", "list", "--status", "approved", "--json", check=True).json()
    assert [c["id"] for c in queue["claims"]] == [again["claim"]]
    # the approved claim's trips are locked, for everyone
    for cli in (company.a, company.desk):
        edit = cli("trip", "edit", str(march), "--business-share", "50")
        assert edit.returncode == 3 and "承認済み" in edit.stderr, edit.stderr
    company.a("trip", "edit", str(april), "--business-share", "50", check=True)
    second = company.a(
        "claim", "submit", "--card", "1111", "--from", "2026-03-01", "--to", "2026-03-31"
    )
    assert second.returncode == 3 and "承認済み" in second.stderr


def test_originals_and_claim_files_are_read_by_their_driver_and_the_desk_only(
    company: Company, tmp_path: Path
) -> None:
    """On the shared ledger the originals' bytes and a claim's frozen files are rows of the
    database: a driver reads their own cards' only, the accounts desk every one (as psql
    would show them, and through etcbook on another computer)."""
    import hashlib

    own = {"1111": b"%PDF-1.4 statement of card 1111", "2222": b"%PDF-1.4 statement of 2222"}
    documents = {}
    for cli, last4 in ((company.a, "1111"), (company.b, "2222")):
        source = tmp_path / f"statement_{last4}.pdf"
        source.write_bytes(own[last4])
        documents[last4] = cli(
            "evidence",
            "add",
            str(source),
            "--kind",
            "statement",
            "--card",
            last4,
            "--month",
            "2026-03",
            "--json",
            check=True,
        ).json()["document"]
    other = tmp_path / "other.pdf"
    other.write_bytes(b"%PDF-1.4 not mine")
    refused = company.a(
        "evidence", "add", str(other), "--kind", "statement", "--card", "2222", "--month", "2026-03"
    )
    assert refused.returncode == 3 and "担当のカードではありません" in refused.stderr, (
        refused.stderr
    )

    with company.connect(company.driver_a) as connection:
        march = _trip_ids(connection, "1111")[0]
    company.a(
        "trip", "edit", str(march), "--purpose", "営業", "--business-share", "100", check=True
    )
    submitted = company.a(
        "claim",
        "submit",
        "--card",
        "1111",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--json",
        check=True,
    ).json()
    claim_id = submitted["claim"]

    def counts(login: str) -> dict[str, int]:
        with company.connect(login) as connection:
            return {
                table: int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
                for table in ("document_chunks", "claim_files", "claim_file_chunks")
            }

    assert counts(company.driver_a) == {
        "document_chunks": 1,
        "claim_files": 3,
        "claim_file_chunks": 3,
    }
    assert counts(company.driver_b) == {
        "document_chunks": 1,
        "claim_files": 0,
        "claim_file_chunks": 0,
    }
    assert counts(company.accounts) == {
        "document_chunks": 2,
        "claim_files": 3,
        "claim_file_chunks": 3,
    }
    with company.connect(company.driver_b) as connection:
        assert (
            connection.execute(
                "SELECT data FROM document_chunks WHERE document_id = %s",
                (documents["1111"]["id"],),
            ).fetchall()
            == []
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            connection.execute(
                "INSERT INTO document_chunks (document_id, seq, data) VALUES (%s, 9, 'x')",
                (documents["1111"]["id"],),
            )
    for login in (company.driver_a, company.accounts):
        with company.connect(login) as connection:
            for statement in (
                "UPDATE document_chunks SET data = 'forged'",
                "DELETE FROM claim_file_chunks",
                "UPDATE claim_files SET sha256 = 'x'",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    connection.execute(statement)

    # the accounts desk, on its own computer, opens the PDF the driver submitted
    desk_files = company.desk(
        "claim", "files", str(claim_id), "--out", str(tmp_path / "desk"), "--json", check=True
    ).json()
    kinds = {f["kind"]: f for f in desk_files["files"]}
    assert set(kinds) == {"pdf", "csv", "bundle"}
    pdf = Path(kinds["pdf"]["path"])
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == submitted["pdf_sha256"]
    assert pdf.read_bytes() == Path(submitted["pdf"]).read_bytes()
    assert Path(kinds["bundle"]["path"]).read_bytes() == Path(submitted["bundle"]).read_bytes()
    exported = company.desk(
        "evidence", "export", str(documents["1111"]["id"]), "--out", str(tmp_path), "--json"
    )
    assert exported.returncode == 0, exported.stderr
    assert Path(exported.json()["file"]).read_bytes() == own["1111"]
    # the other driver gets a sentence, not the files
    for args in (
        ("claim", "files", str(claim_id), "--out", str(tmp_path / "b")),
        ("evidence", "export", str(documents["1111"]["id"]), "--out", str(tmp_path / "b.pdf")),
    ):
        denied = company.b(*args)
        assert denied.returncode == 3, denied.stderr
        assert "Traceback" not in denied.stderr and "ありません" in denied.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.pdf").exists()

    approved = company.desk("claim", "approve", str(claim_id), "--json", check=True).json()
    listed = company.a("claim", "files", str(claim_id), "--json", check=True).json()
    assert [f["kind"] for f in listed["files"]] == ["pdf", "csv", "bundle", "approved_pdf"]
    mine = company.a(
        "claim", "files", str(claim_id), "--out", str(tmp_path / "a"), "--json", check=True
    ).json()
    approved_copy = Path(next(f["path"] for f in mine["files"] if f["kind"] == "approved_pdf"))
    assert approved_copy.read_bytes() == Path(approved["pdf"]).read_bytes()


def test_a_driver_cannot_copy_the_ledger_the_accounts_desk_can(
    company: Company, tmp_path: Path
) -> None:
    """A driver sees only their cards' rows: ``copy-store`` would copy part of the ledger."""
    refused = company.a("copy-store", "--to", str(tmp_path / "a.sqlite3"))
    assert refused.returncode == 3 and "運転者のロール" in refused.stderr
    copied = company.desk("copy-store", "--to", str(tmp_path / "desk.sqlite3"), "--json")
    assert copied.returncode == 0, copied.stderr
    assert copied.json()["tables"]["trips"] == 4  # type: ignore[index]


NOT_YOURS = "このカードの走行は編集できません（担当のカードではありません）"


def test_another_drivers_records_are_refused_as_not_yours_not_as_missing(
    company: Company,
) -> None:
    """A driver asking for a row of another driver's card is told so in words (exit 3), never
    「ありません」 and never the database's error; nothing changes."""
    with company.connect(company.accounts) as connection:
        b_trip = _trip_ids(connection, "2222")[0]
    adjusted = company.admin(
        "adjust",
        "--card",
        "2222",
        "--pool",
        "nexco",
        "--points",
        "100",
        "--on",
        "2026-03-01",
        "--reason",
        "初期残高",
        "--json",
        check=True,
    ).json()
    adjustment = adjusted["adjustment"]["id"]  # type: ignore[index]
    incident = company.admin(
        "incident", "open", "--card", "2222", "--kind", "lost", "--json", check=True
    ).json()["incident"]["id"]  # type: ignore[index]
    for args in (
        ("trip", "edit", str(b_trip), "--purpose", "営業"),
        ("trip", "edit", str(b_trip), "--business-share", "50"),
        ("trip", "edit", str(b_trip), "--operator", "nagoya"),
        ("memo", "--card", "1111", "--trip", str(b_trip)),
    ):
        refused = company.a(*args)
        assert refused.returncode == 3, (args, refused.stderr)
        assert NOT_YOURS in refused.stderr, (args, refused.stderr)
        assert "ありません。" not in refused.stderr.replace("担当のカードではありません", "")
        assert "psycopg" not in refused.stderr and "Traceback" not in refused.stderr
    reverse = company.a("reverse", "--adjustment", str(adjustment), "--reason", "誤り")
    assert reverse.returncode == 3
    assert (
        "このカードのポイントの調整は編集できません（担当のカードではありません）" in reverse.stderr
    )
    closed = company.a("incident", "close", str(incident))
    assert closed.returncode == 3 and "担当のカードではありません" in closed.stderr, closed.stderr
    for args in (
        ("trips", "--card", "2222"),
        ("trip", "add", "--card", "2222", "--exit", "2026-05-01T09:00", "--to", "X", "--toll", "1"),
        ("claim", "submit", "--card", "佐藤", "--from", "2026-03-01", "--to", "2026-03-31"),
    ):
        refused = company.a(*args)
        assert refused.returncode == 3, (args, refused.stderr)
        assert "は担当のカードではありません" in refused.stderr, (args, refused.stderr)
    # what does not exist is still said so, to everyone
    for cli in (company.a, company.desk):
        missing = cli("trip", "edit", "999999", "--purpose", "営業")
        assert missing.returncode == 3 and "走行ID 999999 はありません" in missing.stderr
        unknown = cli("trips", "--card", "id:9999")
        assert unknown.returncode == 3 and "カード「id:9999」は登録されていません" in unknown.stderr
    # the answer is yes or no only; the accounts desk sees every row, so never "not yours"
    with company.connect(company.driver_a) as connection:
        assert connection.execute("SELECT row_not_mine('trips', %s)", (b_trip,)).fetchone() == (
            True,
        )
        assert connection.execute("SELECT row_not_mine('card_holders', 1)").fetchone() == (False,)
        assert connection.execute(
            "SELECT count(*) FROM trips WHERE id = %s", (b_trip,)
        ).fetchone() == (0,)
    with company.connect(company.accounts) as connection:
        assert connection.execute("SELECT row_not_mine('trips', %s)", (b_trip,)).fetchone() == (
            False,
        )
        purposes = connection.execute(
            "SELECT purpose, operator FROM trips WHERE id = %s", (b_trip,)
        ).fetchone()
    assert purposes == ("", "nexco")
    # a driver's own trip is edited as before
    with company.connect(company.driver_a) as connection:
        a_trip = _trip_ids(connection, "1111")[0]
    company.a("trip", "edit", str(a_trip), "--purpose", "営業", check=True)


def test_every_write_path_records_the_login_and_the_log_is_append_only(
    company: Company, tmp_path: Path
) -> None:
    """Imports, edits, claims, month close/reopen and the admin commands each leave audit rows
    whose ``db_user`` is the login that made them (set by the database, not the client); no
    application role may UPDATE, DELETE or TRUNCATE the log: neither granted nor, for its
    owner, let through by the triggers."""
    from tests.conftest import MEISAI

    with company.connect(company.accounts) as connection:
        start = int(connection.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0])  # type: ignore[index]
    lines = (MEISAI / "13col.csv").read_bytes().split(b"\r\n")
    sample = tmp_path / "meisai 1111.csv"
    sample.write_bytes(
        b"\r\n".join(
            [
                lines[0],
                *(row.replace(b"123456789", b"123451111") for row in lines[1:] if b"6789," in row),
            ]
        )
        + b"\r\n"
    )
    company.a("import", str(sample), check=True)
    with company.connect(company.driver_a) as connection:
        trip = _trip_ids(connection, "1111")[0]
    company.a("trip", "edit", str(trip), "--purpose", "営業", "--business-share", "100", check=True)
    company.a("trip", "edit", str(trip), "--operator", "nagoya", check=True)
    company.a(
        "trip",
        "add",
        "--card",
        "1111",
        "--exit",
        "2026-05-01T09:00",
        "--to",
        "横浜町田",
        "--toll",
        "700",
        check=True,
    )
    claim = company.a(
        "claim",
        "submit",
        "--card",
        "1111",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--json",
        check=True,
    ).json()["claim"]  # type: ignore[index]
    company.desk("claim", "return", str(claim), "--comment", "用途を詳しく", check=True)
    company.desk("month", "close", "2026-01", check=True)
    company.desk("month", "reopen", "2026-01", "--reason", "訂正", check=True)
    company.desk("card", "edit", "2222", "--department", "配送部", check=True)
    company.desk("card", "add", "--last4", "3333", "--holder", "鈴木", check=True)
    company.desk("card", "stop", "3333", "--at", "2026-03-01T10:00", check=True)
    company.admin("admin", "assign-card", company.driver_b, "3333", check=True)
    company.admin("admin", "unassign-card", company.driver_b, "3333", check=True)
    with psycopg.connect(company.url) as connection:
        admin_login = str(connection.execute("SELECT session_user").fetchone()[0])  # type: ignore[index]
    with company.connect(company.accounts) as connection:
        rows = connection.execute(
            "SELECT entity, action, db_user FROM audit_log WHERE id > %s", (start,)
        ).fetchall()
    recorded = {(entity, action): user for entity, action, user in rows}
    assert all(user for _e, _a, user in rows), rows
    expected = {
        ("import", "import"): company.driver_a,
        ("trip", "update"): company.driver_a,
        ("trip", "classify"): company.driver_a,
        ("trip", "add"): company.driver_a,
        ("claim", "submit"): company.driver_a,
        ("claim", "return"): company.accounts,
        ("month", "close"): company.accounts,
        ("month", "reopen"): company.accounts,
        ("card", "edit"): company.accounts,
        ("card", "add"): company.accounts,
        ("card_stops", "stop"): company.accounts,
        ("admin", "assign-card"): admin_login,
        ("admin", "unassign-card"): admin_login,
    }
    assert {key: recorded.get(key) for key in expected} == expected, rows
    # a driver sees their own audit rows only, and cannot pass another name
    with company.connect(company.driver_a) as connection:
        assert {
            r[0] for r in connection.execute("SELECT DISTINCT db_user FROM audit_log").fetchall()
        } == {company.driver_a}
        connection.execute(
            "INSERT INTO audit_log (at, os_user, entity, entity_id, action, old_value, new_value,"
            " reason, db_user) VALUES (now(), 'x', 'test', 1, 'test', 'null', 'null', '', %s)",
            (company.accounts,),
        )
        assert connection.execute(
            "SELECT db_user FROM audit_log WHERE entity = 'test'"
        ).fetchone() == (company.driver_a,)
    # privileges: no application role, group or login, may UPDATE, DELETE or TRUNCATE it
    with company.connect(company.accounts) as connection:
        for role in (
            "etcbook_driver",
            "etcbook_accounts",
            company.driver_a,
            company.driver_b,
            company.accounts,
        ):
            for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
                granted = connection.execute(
                    "SELECT has_table_privilege(%s, 'audit_log', %s)", (role, privilege)
                ).fetchone()
                assert granted == (False,), (role, privilege)
        triggers = {
            r[0]
            for r in connection.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass"
                " AND NOT tgisinternal"
            ).fetchall()
        }
        assert {
            "audit_log_no_update",
            "audit_log_no_delete",
            "audit_log_no_truncate",
        } <= triggers, triggers
    # the triggers stop whoever holds the privileges: the owner (row-level security leaves it
    # no row to change; TRUNCATE, which RLS does not cover, is refused) and even a superuser
    with psycopg.connect(company.url, autocommit=True) as connection:
        before = connection.execute("SELECT count(*) FROM audit_log").fetchone()
        connection.execute("SET ROLE etcbook_owner")
        assert connection.execute("UPDATE audit_log SET reason = 'x'").rowcount == 0
        assert connection.execute("DELETE FROM audit_log").rowcount == 0
        with pytest.raises(psycopg.errors.RaiseException):
            connection.execute("TRUNCATE audit_log")
        connection.execute("RESET ROLE")
        for statement in (
            "UPDATE audit_log SET reason = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(psycopg.errors.RaiseException):
                connection.execute(statement)
        assert connection.execute("SELECT count(*) FROM audit_log").fetchone() == before
        assert connection.execute(
            "SELECT count(*) FROM audit_log WHERE reason = 'x'"
        ).fetchone() == (0,)


def test_drivers_of_cards_sharing_their_last4_see_only_their_own(
    company: Company, tmp_path: Path
) -> None:
    """Two drivers' cards ending in the same 4 digits (a fleet): each driver's trips, points
    and originals are their own card's, by PostgreSQL's policies and through etcbook."""
    admin = company.admin
    admin("card", "add", "--last4", "6789", "--holder", "山田", "--label", "甲", check=True)
    admin("card", "add", "--last4", "6789", "--holder", "佐藤", "--label", "乙", check=True)
    admin("admin", "assign-card", company.driver_a, "甲", check=True)
    admin("admin", "assign-card", company.driver_b, "乙", check=True)
    documents = {}
    for cli, label in ((company.a, "甲"), (company.b, "乙")):
        cli(
            "trip",
            "add",
            "--card",
            label,
            "--exit",
            "2026-03-12T09:00",
            "--to",
            "横浜町田",
            "--toll",
            "1500" if label == "甲" else "2500",
            check=True,
        )
        source = tmp_path / f"statement_{label}.pdf"
        source.write_bytes(f"%PDF-1.4 statement of {label}".encode())
        documents[label] = cli(
            "evidence",
            "add",
            str(source),
            "--kind",
            "statement",
            "--card",
            label,
            "--month",
            "2026-03",
            "--json",
            check=True,
        ).json()["document"]  # type: ignore[index]
    cards = {
        c["label"]: c["id"] for c in admin("card", "list", "--json", check=True).json()["cards"]
    }  # type: ignore[index]
    for login, label, toll in ((company.driver_a, "甲", 1500), (company.driver_b, "乙", 2500)):
        with company.connect(login) as connection:
            seen = connection.execute("SELECT id, card_id FROM documents").fetchall()
            assert [(int(i), c) for i, c in seen] == [(documents[label]["id"], cards[label])]
        cli = company.a if label == "甲" else company.b
        trips = cli("trips", "--card", label, "--json", check=True).json()["trips"]  # type: ignore[index]
        assert [(t["card_id"], t["toll"]) for t in trips] == [(cards[label], toll)]
        found = cli("evidence", "search", "--card", label, "--json", check=True).json()
        assert [d["id"] for d in found["documents"]] == [documents[label]["id"]]  # type: ignore[index]
    # the other driver's card, by its label, is not theirs
    refused = company.a("trips", "--card", "乙")
    assert refused.returncode == 3 and "担当のカードではありません" in refused.stderr, (
        refused.stderr
    )
    # the desk sees both, each by its label
    for label in ("甲", "乙"):
        found = company.desk("evidence", "search", "--card", label, "--json", check=True).json()
        assert [d["id"] for d in found["documents"]] == [documents[label]["id"]]  # type: ignore[index]


def test_changes_to_the_other_records_are_audited_with_the_login(company: Company) -> None:
    """Route rules, journal settings, incidents, commute-pass months: the database appends an
    audit row per changed row, with the login that changed it and the row before and after."""
    with company.connect(company.accounts) as connection:
        start = int(connection.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0])  # type: ignore[index]
    company.a("incident", "open", "--card", "1111", "--kind", "lost", check=True)
    company.a("commute-pass", "--card", "1111", "--month", "2026-03", check=True)
    company.a("commute-pass", "--card", "1111", "--month", "2026-03", "--remove", check=True)
    company.desk("route", "add", "堺", "hanshin", check=True)
    company.desk("journal-settings", "set", "debit_account", "旅費交通費", check=True)
    company.desk("journal-settings", "set", "debit_account", "車両費", check=True)
    with company.connect(company.accounts) as connection:
        rows = connection.execute(
            "SELECT entity, action, db_user, old_value, new_value FROM audit_log"
            " WHERE id > %s ORDER BY id",
            (start,),
        ).fetchall()
    done = [(entity, action, user) for entity, action, user, _old, _new in rows]
    assert ("incidents", "insert", company.driver_a) in done, done
    assert ("commute_pass_months", "insert", company.driver_a) in done, done
    assert ("commute_pass_months", "delete", company.driver_a) in done, done
    assert ("route_rules", "insert", company.accounts) in done, done
    assert ("journal_settings", "delete", company.accounts) in done, done
    assert done.count(("journal_settings", "insert", company.accounts)) == 2, done
    changed = [
        (json.loads(old), json.loads(new))
        for entity, action, _user, old, new in rows
        if entity == "journal_settings"
    ]
    assert changed[-2][0]["value"] == "旅費交通費", changed  # the deleted row, as it was
    assert changed[-1] == (None, {**changed[-1][1], "value": "車両費"}), changed
    route = next(json.loads(new) for entity, _a, _u, _o, new in rows if entity == "route_rules")
    assert route["operator"] == "hanshin", route
    # the driver reads the rows of their own changes, not the desk's
    with company.connect(company.driver_a) as connection:
        entities = {
            r[0]
            for r in connection.execute(
                "SELECT entity FROM audit_log WHERE id > %s", (start,)
            ).fetchall()
        }
    assert entities == {"incidents", "commute_pass_months"}, entities


STATUS_BOTH_WAYS = """
import json, sys
from etcbook.cli import main
code = main(["--db", sys.argv[1], "status", "--card", "1111", "--as-of", "2026-12-31", "--json"])
light = "sqlalchemy" in sys.modules
import datetime as dt
from etcbook.cli.mileage import card_status_json
from etcbook.models.mileage_inputs import card_states
from etcbook.models.store import open_store
store = open_store(sys.argv[1])
with store.engine.connect() as connection:
    states = card_states(connection=connection, as_of=dt.date(2026, 12, 31), last4=["1111"])
store.close()
print(json.dumps({"code": code, "sqlalchemy_before_the_store": light,
                  "engine": [card_status_json(s) for s in states]}), file=sys.stderr)
"""


def test_a_drivers_status_reads_with_psycopg_alone_and_says_the_same(company: Company) -> None:
    """``status`` on a ledger at the migrations' heads reads through a psycopg connection of
    its own (no SQLAlchemy imported): the same document as the store's engine gives, the same
    refusal of another driver's card; a ledger stamped otherwise is left to the store's way."""
    import json
    import subprocess
    import sys

    from etcbook.models.server import parse_address
    from etcbook.models.server_reader import open_reader

    company.admin(
        "adjust", "--card", "1111", "--pool", "nexco", "--points", "1500", "--on", "2026-03-01",
        "--reason", "初期残高", check=True,
    )  # fmt: skip
    driver = as_user(company.url, company.driver_a)
    done = subprocess.run(
        [sys.executable, "-c", STATUS_BOTH_WAYS, driver],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert done.returncode == 0, done.stderr
    told = json.loads(done.stderr.strip().splitlines()[-1])
    assert told["code"] == 0 and told["sqlalchemy_before_the_store"] is False
    printed = json.loads(done.stdout)
    assert printed["cards"] == told["engine"]
    # 1,500P adjusted + 100P for each of the two 1,000円 trips (granted by the end of 2026)
    assert [p["points"] for p in printed["cards"][0]["pools"]] == [1700]
    refused = company.a("status", "--card", "2222")
    assert refused.returncode == 3 and "は担当のカードではありません" in refused.stderr, (
        refused.stderr
    )
    reader = open_reader(parse_address(driver))
    assert reader is not None
    reader.close()
    with psycopg.connect(company.url, autocommit=True) as connection:
        connection.execute("INSERT INTO alembic_version VALUES ('later_0001')")
        try:
            assert open_reader(parse_address(driver)) is None
        finally:
            connection.execute("DELETE FROM alembic_version WHERE version_num = 'later_0001'")
