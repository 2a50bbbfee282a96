"""The audit log: trip edits and vault changes recorded, and never rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from etcbook.export.audit_csv import audit_csv_bytes
from etcbook.models.audit import TripEditError, edit_trip, edit_trips, list_audit
from etcbook.models.store import Store
from etcbook.models.vault import add_document, remove_document

pytestmark = pytest.mark.both_backends


@pytest.fixture
def trip_id(store: Store) -> int:
    with store.transaction() as connection:
        connection.execute(
            text(
                "INSERT INTO cards (last4, holder, created_at)"
                " VALUES ('1234', 'テスト', '2025-01-01T00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO trips (card_id, exit_at, entry_ic, exit_ic, toll, rebate_applied,"
                " trip_key) VALUES (1, '2025-11-05T10:00:00', '高崎', '厚木', 3750, 0, 'k')"
            )
        )
        return int(connection.execute(text("SELECT id FROM trips")).scalar_one())


def test_edit_trip_records_each_changed_field(store: Store, trip_id: int) -> None:
    with store.transaction() as connection:
        changed = edit_trip(
            connection=connection,
            trip_id=trip_id,
            changes={"business_share": 80, "purpose": "顧客訪問", "toll": 3750},
            reason="業務日誌と照合",
            user="tester",
        )
    assert changed == {"business_share": (0, 80), "purpose": ("", "顧客訪問")}
    with store.engine.connect() as connection:
        entries = list_audit(connection=connection, entity="trip")
        row = connection.execute(
            text("SELECT business_share, purpose FROM trips WHERE id = :i"), {"i": trip_id}
        ).one()
    assert tuple(row) == (80, "顧客訪問")
    assert [(e["field"], e["old"], e["new"]) for e in entries] == [
        ("business_share", 0, 80),
        ("purpose", "", "顧客訪問"),
    ]
    assert {e["os_user"] for e in entries} == {"tester"}
    assert {e["reason"] for e in entries} == {"業務日誌と照合"}
    assert all(e["entity_id"] == trip_id and e["action"] == "update" for e in entries)


@pytest.mark.parametrize(
    "changes",
    [{"business_share": 120}, {"toll": "1000"}, {"exit_ic": "x"}, {"toll": None}],
)
def test_a_bad_edit_changes_nothing(store: Store, trip_id: int, changes: dict) -> None:
    with pytest.raises(TripEditError), store.transaction() as connection:
        edit_trip(connection=connection, trip_id=trip_id, changes=changes)
    with store.engine.connect() as connection:
        assert list_audit(connection=connection) == []


def test_editing_a_missing_trip_is_refused(store: Store) -> None:
    with pytest.raises(TripEditError, match="ありません"), store.transaction() as connection:
        edit_trip(connection=connection, trip_id=999, changes={"purpose": "x"})


def test_the_audit_log_cannot_be_updated_or_deleted(store: Store, trip_id: int) -> None:
    with store.transaction() as connection:
        edit_trip(connection=connection, trip_id=trip_id, changes={"purpose": "x"})
    for statement in ("UPDATE audit_log SET reason = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), store.transaction() as c:
            c.execute(text(statement))
    with store.engine.connect() as connection:
        assert len(list_audit(connection=connection)) == 1


def test_vault_changes_are_audited_and_documents_never_deleted(
    store: Store, tmp_path: Path
) -> None:
    source = tmp_path / "s.pdf"
    source.write_bytes(b"%PDF statement")
    document = add_document(
        store=store, source=source, kind="statement", card="1234", month="2025-11", user="u1"
    )
    fixed = tmp_path / "s2.pdf"
    fixed.write_bytes(b"%PDF statement corrected")
    v2 = add_document(
        store=store, source=fixed, kind="statement", card="1234", month="2025-11", user="u1"
    )
    remove_document(store=store, document_id=v2.id, reason="重複", user="u2")
    with store.engine.connect() as connection:
        entries = list_audit(connection=connection, entity="document")
    assert [(e["entity_id"], e["action"], e["os_user"]) for e in entries] == [
        (document.id, "add", "u1"),
        (v2.id, "version", "u1"),
        (v2.id, "remove", "u2"),
    ]
    assert entries[0]["new"]["sha256"] == document.sha256
    assert entries[1]["old"]["path"] == document.relpath
    assert entries[2]["reason"] == "重複"
    with pytest.raises(DatabaseError, match="never deleted"), store.transaction() as c:
        c.execute(text("DELETE FROM documents"))


def test_audit_csv_export(store: Store, trip_id: int) -> None:
    with store.transaction() as connection:
        edit_trip(connection=connection, trip_id=trip_id, changes={"purpose": "=cmd"})
    with store.engine.connect() as connection:
        data = audit_csv_bytes(list_audit(connection=connection))
    text_ = data.decode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    assert text_.splitlines()[0].startswith("ID,日時,OSユーザー")
    assert "'=cmd" in text_  # neutralised
    assert text_.count("\r\n") == 2


def test_bulk_edit_records_only_real_changes(store: Store, trip_id: int) -> None:
    with store.transaction() as connection:
        connection.execute(
            text(
                "INSERT INTO trips (card_id, exit_at, exit_ic, toll, business_share, trip_key)"
                " VALUES (1, '2025-11-06T10:00:00', '富士', 500, 100, 'k2')"
            )
        )
        ids = list(connection.execute(text("SELECT id FROM trips ORDER BY id")).scalars())
        changed = edit_trips(
            connection=connection, trip_ids=ids, changes={"business_share": 100}, user="bulk"
        )
    assert changed == 1
    with store.engine.connect() as connection:
        entries = list_audit(connection=connection)
    assert [(e["entity_id"], e["old"], e["new"]) for e in entries] == [(trip_id, 0, 100)]
