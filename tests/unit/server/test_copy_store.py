"""``copy-store``: a whole ledger copied SQLite → PostgreSQL → SQLite (and from PostgreSQL) answers
as before, row for row, with its originals; a non-empty target is refused; a failure leaves the
target empty."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pgkit import create_database, drop_database
from sqlalchemy import inspect

from etcbook.models.copy_store import SKIPPED
from etcbook.models.store import open_store
from etcbook.models.vault import vault_root
from tests.conftest import MEISAI, Cli

MakeTarget = Callable[[str], "Path | str"]


@pytest.fixture
def new_target(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeTarget]:
    """``new_target("sqlite" | "postgresql")``: where a fresh ledger can be created (a file path
    with a space, ``#`` and Japanese in it, or a new migrated database)."""
    monkeypatch.setenv("ETCBOOK_SERVER_FILES", str(tmp_path / "server-files"))
    made: list[str] = []

    def make(kind: str) -> Path | str:
        if kind == "sqlite":
            folder = tmp_path / f"コピー {len(made)}#"
            folder.mkdir()
            made.append(str(folder))
            return folder / "台帳.sqlite3"
        server = request.getfixturevalue("pg_server")
        url = create_database(server, template=request.getfixturevalue("pg_template"))
        made.append(url)
        return url

    yield make
    for url in made:
        if url.startswith("postgresql"):
            drop_database(request.getfixturevalue("pg_server"), url)


def other(backend: str) -> str:
    return "sqlite" if backend == "postgresql" else "postgresql"


def rows_of(target: Path | str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (skipped tables aside), as raw SQL reads them, in id order;
    the audit log without the entries the copies appended."""
    store = open_store(target)
    try:
        with store.engine.connect() as connection:
            tables = sorted(set(inspect(connection).get_table_names()) - set(SKIPPED))
            found = {}
            for table in tables:
                keys = inspect(connection).get_pk_constraint(table)["constrained_columns"]
                order = ", ".join(keys) if keys else "1"
                rows = connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}").all()
                found[table] = [tuple(row) for row in rows]
            found["audit_log"] = [
                row for row in found["audit_log"] if (row[3], row[5]) != ("store", "copy")
            ]
            return found
    finally:
        store.close()


def originals_of(target: Path | str) -> dict[str, str]:
    """The vault's files and their SHA-256."""
    store = open_store(target)
    try:
        root = vault_root(store)
    finally:
        store.close()
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def schema_objects(target: Path | str) -> set[tuple[object, ...]]:
    """Indexes, triggers (enabled or not) and constraints: what the copy takes down and puts back."""
    store = open_store(target)
    try:
        with store.engine.connect() as connection:
            if store.on_server:
                queries = (
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
                    "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal",
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE connamespace = 'public'::regnamespace",
                )
            else:
                queries = ("SELECT type, name, sql FROM sqlite_master WHERE type <> 'table'",)
            return {tuple(row) for query in queries for row in connection.exec_driver_sql(query)}
    finally:
        store.close()


def answers(cli: Cli) -> tuple[object, object]:
    """``status --json`` and ``trips --json`` (the store's name aside)."""
    status = cli("status", "--json", check=True).json()
    trips = cli("trips", "--json", check=True).json()
    for document in (status, trips):
        if isinstance(document, dict):
            document.pop("store", None)
    return status, trips


def copy(source: Path | str, target: Path | str) -> dict[str, Any]:
    done = Cli(source)("copy-store", "--to", str(target), "--json", check=True, timeout=300)
    assert "コピーしました" in done.stderr
    document = done.json()
    assert isinstance(document, dict)
    return document


def test_the_demo_store_goes_to_postgresql_and_back(
    demo_store_path: Path, new_target: MakeTarget
) -> None:
    on_server, back = new_target("postgresql"), new_target("sqlite")
    there = copy(demo_store_path, on_server)
    again = copy(on_server, back)

    before = rows_of(demo_store_path)
    assert before["trips"] and before["documents"] and before["trip_history"]
    assert rows_of(on_server) == before
    assert rows_of(back) == before
    every_table = set(before) | set(SKIPPED)
    for copies_before, report in enumerate((there, again)):
        # Every table of the schema is either copied or skipped (with its reason in SKIPPED).
        assert set(report["tables"]) | set(report["skipped"]) == every_table
        assert set(report["skipped"]) == set(SKIPPED)
        counts = {table: len(before[table]) for table in report["tables"]}
        assert report["tables"] == {**counts, "audit_log": counts["audit_log"] + copies_before}
        assert report["originals"] == len(before["documents"])
    assert answers(Cli(on_server)) == answers(Cli(demo_store_path)) == answers(Cli(back))
    assert originals_of(back) == originals_of(on_server) == originals_of(demo_store_path)
    for target in (on_server, back):
        verified = Cli(target)("evidence", "verify", check=True)
        assert "すべて記録どおり" in verified.stdout + verified.stderr

    # Indexes, triggers and keys are back as a new ledger has them; the audit log refuses changes.
    for target in (on_server, back):
        kind = "postgresql" if isinstance(target, str) else "sqlite"
        assert schema_objects(target) == schema_objects(new_target(kind))
        store = open_store(target)
        try:
            with pytest.raises(Exception, match="append-only"), store.transaction() as connection:
                connection.exec_driver_sql("UPDATE audit_log SET reason = 'x'")
        finally:
            store.close()

    # The copy is recorded in the target's audit log, after the copied entries.
    store = open_store(back)
    try:
        with store.engine.connect() as connection:
            entries = connection.exec_driver_sql(
                "SELECT entity, action, old_value FROM audit_log ORDER BY id"
            ).all()
    finally:
        store.close()
    assert [tuple(row[:2]) for row in entries[-2:]] == [("store", "copy"), ("store", "copy")]
    assert str(on_server) in entries[-1][2]

    # The server's id sequences continue after the copied ids: new rows can be added.
    server = Cli(on_server)
    server(
        "adjust",
        "--card",
        "1234",
        "--pool",
        "nexco",
        "--points",
        "100",
        "--on",
        "2026-10-01",
        "--reason",
        "コピー後の調整",
        check=True,
    )
    server("import", str(MEISAI / "15col.csv"), check=True)
    # … and audit_log_login stamps them again with the login.
    store = open_store(on_server)
    try:
        with store.engine.connect() as connection:
            (latest,) = connection.exec_driver_sql(
                "SELECT db_user FROM audit_log ORDER BY id DESC LIMIT 1"
            ).one()
    finally:
        store.close()
    assert latest == "postgres"


@pytest.mark.both_backends
def test_a_ledger_with_passages_incidents_and_evidence_both_ways(
    cli: Cli, backend: str, new_target: MakeTarget, tmp_path: Path
) -> None:
    cli("card", "add", "--holder", "山田太郎", "--last4", "0042", check=True)
    cli("card", "add", "--holder", "山田太郎", "--last4", "5678", check=True)
    cli("import", "--card", "0042", str(MEISAI / "15col_passages.csv"), check=True)
    cli("import", "--card", "0042", str(MEISAI / "15col_passages_later.csv"), check=True)
    opened = cli(
        "incident",
        "open",
        "--card",
        "0042",
        "--kind",
        "lost",
        "--noticed-at",
        "2026-03-10T08:00",
        "--json",
        check=True,
    ).json()
    incident = str(opened["incident"]["id"])
    cli(
        "incident",
        "step",
        incident,
        "issuer_stop",
        "--at",
        "2026-03-10T08:20",
        "--desk",
        "カード会社 紛失デスク",
        "--reference",
        "R-1",
        check=True,
    )
    cli(
        "incident",
        "contact",
        incident,
        "--at",
        "2026-03-11T09:00",
        "--desk",
        "事務局",
        "--summary",
        "利用停止を確認",
        check=True,
    )
    statement = tmp_path / "請求 #1.pdf"
    added = []
    for month in ("2025-09", "2025-10"):
        statement.write_bytes(b"%PDF-1.4 statement " + month.encode() + b"\r\n\x00\xff")
        added.append(
            cli(
                "evidence",
                "add",
                "--kind",
                "statement",
                "--card",
                "0042",
                "--month",
                month,
                "--date",
                f"{month}-25",
                "--amount",
                "1234",
                "--counterparty",
                "カード会社",
                str(statement),
                "--json",
                check=True,
            ).json()
        )
    cli("evidence", "remove", str(added[0]["document"]["id"]), "--reason", "重複", check=True)
    cli(
        "adjust",
        "--card",
        "0042",
        "--pool",
        "nexco",
        "--points",
        "50",
        "--on",
        "2025-10-01",
        "--reason",
        "訂正",
        check=True,
    )
    cli("month", "close", "2025-09", check=True)

    before = rows_of(cli.db)
    for table in (
        "passages",
        "incidents",
        "incident_steps",
        "incident_contacts",
        "documents",
        "mileage_adjustments",
        "closed_months",
        "trip_history",
    ):
        assert before[table], table
    there, back = new_target(other(backend)), new_target(backend)
    copy(cli.db, there)
    copy(there, back)
    assert rows_of(there) == before
    assert rows_of(back) == before
    assert answers(Cli(there)) == answers(cli) == answers(Cli(back))
    kept = originals_of(cli.db)
    assert any(path.startswith("_trash/") for path in kept)
    assert originals_of(there) == kept == originals_of(back)


@pytest.mark.both_backends
def test_a_target_with_data_is_refused_and_left_alone(
    cli: Cli, backend: str, new_target: MakeTarget
) -> None:
    cli("card", "add", "--holder", "山田太郎", "--last4", "1234", check=True)
    for kind in ("sqlite", "postgresql"):
        target = new_target(kind)
        Cli(target)("card", "add", "--holder", "佐藤", "--last4", "9999", check=True)
        before = rows_of(target)
        refused = Cli(cli.db)("copy-store", "--to", str(target), "--json")
        assert refused.returncode == 3
        assert refused.stdout == ""
        assert "空ではありません" in refused.stderr and "cards" in refused.stderr
        assert rows_of(target) == before


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_failure_midway_leaves_the_target_empty(
    demo_store_path: Path, new_target: MakeTarget, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etcbook.models import copy_store as module

    target = new_target(kind)
    empty = rows_of(target)
    written: list[str] = []
    real_write = module._write

    def failing_write(connection: Any, table: Any, columns: Any, rows: Any) -> None:
        if table.name == "trip_history":
            raise OSError("disk full")
        written.append(table.name)
        real_write(connection, table, columns, rows)

    monkeypatch.setattr(module, "_write", failing_write)
    source, opened = open_store(demo_store_path), open_store(target)
    try:
        with pytest.raises(OSError, match="disk full"):
            module.copy_store(source=source, target=opened)
        root = vault_root(opened)
    finally:
        source.close()
        opened.close()
    assert "trips" in written and "documents" in written  # the failure came after them
    assert rows_of(target) == empty
    assert not any(path.is_file() for path in root.parent.rglob("*") if root.name in str(path))
    # The same copy then succeeds.
    monkeypatch.setattr(module, "_write", real_write)
    assert copy(demo_store_path, target)["originals"] > 0


def test_copying_onto_itself_is_refused(demo_store_path: Path) -> None:
    refused = Cli(demo_store_path)("copy-store", "--to", str(demo_store_path))
    assert refused.returncode == 3 and "同じ" in refused.stderr


def test_a_damaged_original_refuses_the_copy_before_anything_is_written(
    demo_store_path: Path, new_target: MakeTarget
) -> None:
    vault = demo_store_path.with_name("demo.etc")
    victim = next(path for path in sorted(vault.rglob("*")) if path.is_file())
    os.chmod(victim, 0o600)
    victim.write_bytes(victim.read_bytes() + b"x")
    target = new_target("sqlite")
    refused = Cli(demo_store_path)("copy-store", "--to", str(target))
    assert refused.returncode == 3
    assert "SHA-256" in refused.stderr and victim.name in refused.stderr
    assert not any(rows for rows in rows_of(target).values())
    assert originals_of(target) == {}


def test_large_tables_report_their_progress(
    demo_store_path: Path, new_target: MakeTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etcbook.models import copy_store as module

    monkeypatch.setattr(module, "PROGRESS_EVERY", 200)
    monkeypatch.setattr(module, "CHUNK", 150)
    seen: list[tuple[str, int, int]] = []
    source, target = open_store(demo_store_path), open_store(new_target("sqlite"))
    try:
        report = module.copy_store(
            source=source, target=target, progress=lambda *step: seen.append(step)
        )
    finally:
        source.close()
        target.close()
    trips = report.tables["trips"]
    assert trips > 800
    steps = [done for table, done, total in seen if table == "trips"]
    assert steps == sorted(set(steps)) and steps[-1] == trips and len(steps) >= trips // 200
    assert all(
        later - earlier <= 200 + 150 for earlier, later in zip([0, *steps[:-1]], steps, strict=True)
    )
    assert all(total == trips for table, _done, total in seen if table == "trips")
    # Tables below PROGRESS_EVERY rows say nothing.
    assert {table for table, _done, _total in seen} == {
        table for table, rows in report.tables.items() if rows >= 200
    }
