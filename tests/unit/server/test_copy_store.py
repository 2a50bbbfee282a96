"""``copy-store``: a whole ledger copied SQLite → PostgreSQL → SQLite (and from PostgreSQL) answers
as before, row for row, with its originals; a non-empty target is refused; a failure leaves the
target empty."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from pgkit import create_database, drop_database
from sqlalchemy import inspect

from etcbook.models.copy_store import SKIPPED
from etcbook.models.store import open_store
from etcbook.models.vault import (
    DocumentSearch,
    read_original,
    search_documents,
    vault_path_for,
    vault_root,
)
from etcbook.models.workflow import claims_folder
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
    the audit log without the entries the copies appended, a claim's folder (a path on the
    computer that keeps its files: a SQLite copy's own) left out."""
    store = open_store(target)
    try:
        with store.engine.connect() as connection:
            tables = sorted(set(inspect(connection).get_table_names()) - set(SKIPPED))
            found = {}
            for table in tables:
                keys = inspect(connection).get_pk_constraint(table)["constrained_columns"]
                order = ", ".join(keys) if keys else "1"
                columns = [
                    f'"{column["name"]}"'
                    for column in inspect(connection).get_columns(table)
                    if (table, column["name"]) != ("claims", "folder")
                ]
                rows = connection.exec_driver_sql(
                    f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"
                ).all()
                found[table] = [tuple(row) for row in rows]
            found["audit_log"] = [
                row for row in found["audit_log"] if (row[3], row[5]) != ("store", "copy")
            ]
            return found
    finally:
        store.close()


def originals_of(target: Path | str) -> dict[str, str]:
    """Every original (removed ones by their trash path) and the SHA-256 of its bytes, read
    through the vault (checked) wherever the store keeps them."""
    store = open_store(target)
    try:
        documents = search_documents(store=store, search=DocumentSearch(include_removed=True))
        return {
            (document.trash_path if document.removed_at else document.relpath) or "": (
                hashlib.sha256(read_original(store=store, document=document)).hexdigest()
            )
            for document in documents
        }
    finally:
        store.close()


def files_and_chunks(target: Path | str) -> tuple[list[Path], int]:
    """The files in the store's vault folder and claims folder on this computer, and the rows
    of bytes in its database: where the store keeps its originals and claim files."""
    store = open_store(target)
    try:
        folders = (vault_root(store), claims_folder(store))
        with store.engine.connect() as connection:
            chunks = sum(
                connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
                for table in ("document_chunks", "claim_file_chunks")
            )
    finally:
        store.close()
    files = sorted(path for folder in folders for path in folder.rglob("*") if path.is_file())
    return files, chunks


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


def add_statement(cli: Cli, card: str, day: str, path: Path) -> int:
    """``evidence add`` of a card statement dated ``day`` (its month's); the document's id."""
    added = cli(
        "evidence",
        "add",
        "--kind",
        "statement",
        "--card",
        card,
        "--month",
        day[:7],
        "--date",
        day,
        "--amount",
        "1234",
        "--counterparty",
        "カード会社",
        str(path),
        "--json",
        check=True,
    ).json()
    return int(added["document"]["id"])  # type: ignore[index]


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
        added.append(add_statement(cli, "0042", f"{month}-25", statement))
    cli("evidence", "remove", str(added[0]), "--reason", "重複", check=True)
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
        named = re.search(r"表 (\w+) にデータがあります", refused.stderr)
        assert "空ではありません" in refused.stderr and named is not None, refused.stderr
        assert before[named.group(1)]  # the table it names does hold the card added there
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


def test_a_damaged_original_refuses_the_copy_and_leaves_the_target_empty(
    demo_store_path: Path, new_target: MakeTarget
) -> None:
    vault = demo_store_path.with_name("demo.etc")
    victim = next(path for path in sorted(vault.rglob("*")) if path.is_file())
    os.chmod(victim, 0o600)
    victim.write_bytes(victim.read_bytes() + b"x")
    for kind in ("sqlite", "postgresql"):
        target = new_target(kind)
        refused = Cli(demo_store_path)("copy-store", "--to", str(target))
        assert refused.returncode == 3
        assert "SHA-256" in refused.stderr and victim.name in refused.stderr
        assert not any(rows for rows in rows_of(target).values())
        assert files_and_chunks(target) == ([], 0)


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


def claim_files_out(target: Path | str, claim: str, out: Path) -> dict[str, bytes]:
    """``claim files ID --out DIR``: the claim's frozen files as written, by name."""
    written = Cli(target)("claim", "files", claim, "--out", str(out), "--json", check=True).json()
    assert isinstance(written, dict)
    return {Path(f["path"]).name: Path(f["path"]).read_bytes() for f in written["files"]}


def a_ledger_with_originals_and_an_approved_claim(target: Path, tmp_path: Path) -> str:
    """Two originals (one removed to the trash) and a submitted, approved claim with its
    four frozen files; the claim's id."""
    cli = Cli(target)
    cli("card", "add", "--holder", "山田太郎", "--last4", "1111", check=True)
    trip = cli(
        "trip",
        "add",
        "--card",
        "1111",
        "--exit",
        "2026-03-10T09:00",
        "--to",
        "横浜町田",
        "--toll",
        "1200",
        "--json",
        check=True,
    ).json()
    trip_id = str(trip["trip"]["id"])  # type: ignore[index]
    cli("trip", "edit", trip_id, "--business-share", "100", "--purpose", "営業", check=True)
    statement = tmp_path / "請求 #1.pdf"
    added = []
    for day in ("2026-03-25", "2026-03-26"):
        statement.write_bytes(b"%PDF-1.4 statement " + day.encode() + b"\r\n\x00\xff")
        added.append(add_statement(cli, "1111", day, statement))
    cli("evidence", "remove", str(added[0]), "--reason", "重複", check=True)
    submitted = cli(
        "claim", "submit", "--card", "1111", "--from", "2026-03-01", "--to", "2026-03-31", "--json"
    )
    assert submitted.returncode == 0, submitted.stderr
    claim = str(submitted.json()["claim"])  # type: ignore[index]
    cli("claim", "approve", claim, check=True)
    return claim


def test_originals_and_claim_files_arrive_in_each_targets_own_storage(
    new_target: MakeTarget, tmp_path: Path
) -> None:
    """SQLite → PostgreSQL → PostgreSQL → SQLite → SQLite: each copy keeps the bytes where its
    backend does (rows on the server, files beside a file), read back intact."""
    source = new_target("sqlite")
    assert isinstance(source, Path)
    claim = a_ledger_with_originals_and_an_approved_claim(source, tmp_path)
    before = rows_of(source)
    kept = originals_of(source)
    frozen = claim_files_out(source, claim, tmp_path / "out-source")
    assert len(kept) == 2 and any(path.startswith("_trash/") for path in kept)
    assert len(frozen) == 4
    source_files = files_and_chunks(source)
    assert len(source_files[0]) == 2 + 4 and source_files[1] == 0

    answered = answers(Cli(source))
    chain = [source, new_target("postgresql"), new_target("postgresql")]
    chain += [new_target("sqlite"), new_target("sqlite")]
    for n, (origin, target) in enumerate(itertools.pairwise(chain), start=1):
        report = copy(origin, target)
        assert (report["originals"], report["claim_files"]) == (2, 4)
        assert set(SKIPPED) <= set(report["skipped"])
        assert rows_of(target) == before
        assert originals_of(target) == kept
        assert claim_files_out(target, claim, tmp_path / f"out-{n}") == frozen
        verified = Cli(target)("evidence", "verify", check=True)
        assert "すべて記録どおり" in verified.stdout + verified.stderr
        assert answers(Cli(target)) == answered
        files, chunks = files_and_chunks(target)
        if isinstance(target, str):  # the server: every byte in the database, no file here
            assert files == [] and chunks >= 2 + 4
        else:  # a file: its own vault and its own claims' folder, nothing in the table
            assert chunks == 0 and len(files) == 2 + 4
            store = open_store(target)
            try:
                own = claims_folder(store)
            finally:
                store.close()
            assert sum(1 for path in files if own in path.parents) == 4
    # The source's files were only read.
    assert files_and_chunks(source) == source_files
    assert claim_files_out(source, claim, tmp_path / "out-again") == frozen


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_failure_after_the_originals_were_put_leaves_nothing_behind(
    new_target: MakeTarget, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etcbook.models import copy_store as module

    source = new_target("sqlite")
    assert isinstance(source, Path)
    a_ledger_with_originals_and_an_approved_claim(source, tmp_path)
    target = new_target(kind)
    empty = rows_of(target)

    put: list[Path] = []

    def failing_audit(**_entry: Any) -> None:
        if isinstance(target, Path):  # the files are in place when the copy fails
            for folder in (vault_path_for(target), target.parent / f"{target.stem}-claims"):
                put.extend(path for path in folder.rglob("*") if path.is_file())
        raise OSError("disk full")

    monkeypatch.setattr(module, "append_audit", failing_audit)
    opened_source, opened = open_store(source), open_store(target)
    try:
        with pytest.raises(OSError, match="disk full"):
            module.copy_store(source=opened_source, target=opened)
    finally:
        opened_source.close()
        opened.close()
    assert len(put) == (2 + 4 if kind == "sqlite" else 0)
    assert rows_of(target) == empty
    assert files_and_chunks(target) == ([], 0)


def test_a_damaged_original_on_the_server_refuses_the_copy(
    new_target: MakeTarget, tmp_path: Path
) -> None:
    source = new_target("sqlite")
    assert isinstance(source, Path)
    a_ledger_with_originals_and_an_approved_claim(source, tmp_path)
    on_server = new_target("postgresql")
    copy(source, on_server)
    store = open_store(on_server)
    try:
        with store.transaction() as connection:  # as a superuser could, behind etcbook's back
            connection.exec_driver_sql("ALTER TABLE document_chunks DISABLE TRIGGER USER")
            connection.exec_driver_sql(
                "UPDATE document_chunks SET data = data || '\\x00'::bytea"
                " WHERE document_id = (SELECT max(id) FROM documents)"
            )
            connection.exec_driver_sql("ALTER TABLE document_chunks ENABLE TRIGGER USER")
            name = connection.exec_driver_sql(
                "SELECT path FROM documents ORDER BY id DESC LIMIT 1"
            ).scalar_one()
    finally:
        store.close()
    for kind in ("sqlite", "postgresql"):
        target = new_target(kind)
        refused = Cli(on_server)("copy-store", "--to", str(target))
        assert refused.returncode == 3, refused.stderr
        assert "SHA-256" in refused.stderr and PurePosixPath(name).name in refused.stderr
        assert "何もコピーしていません" in refused.stderr and "Traceback" not in refused.stderr
        assert not any(rows for rows in rows_of(target).values())
        assert files_and_chunks(target) == ([], 0)


def test_a_damaged_claim_file_refuses_the_copy(new_target: MakeTarget, tmp_path: Path) -> None:
    source = new_target("sqlite")
    assert isinstance(source, Path)
    claim = a_ledger_with_originals_and_an_approved_claim(source, tmp_path)
    listed = Cli(source)("claim", "files", claim, "--json", check=True).json()
    store = open_store(source)
    try:
        with store.engine.connect() as connection:
            folder = connection.exec_driver_sql(
                "SELECT folder FROM claims WHERE id = ?", (int(claim),)
            ).scalar_one()
    finally:
        store.close()
    csv = Path(folder) / next(f["name"] for f in listed["files"] if f["kind"] == "csv")  # type: ignore[index]
    os.chmod(csv, 0o600)
    csv.write_bytes(csv.read_bytes() + b"9,999\r\n")
    target = new_target("postgresql")
    refused = Cli(source)("copy-store", "--to", str(target))
    assert refused.returncode == 3, refused.stderr
    assert "SHA-256" in refused.stderr and csv.name in refused.stderr
    assert not any(rows for rows in rows_of(target).values())
    assert files_and_chunks(target) == ([], 0)
