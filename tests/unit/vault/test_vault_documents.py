"""The evidence vault: originals copied in intact, versioned, removed to the trash, found again."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from vaultkit import stored_bytes, tamper

from etcbook.models.store import Store
from etcbook.models.vault import (
    DocumentSearch,
    OriginalUnreadable,
    VaultError,
    add_document,
    iter_original,
    month_coverage,
    read_original,
    recent_months,
    remove_document,
    save_original,
    search_documents,
    vault_root,
    verify_vault,
)

pytestmark = pytest.mark.both_backends


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def add_statement(store: Store, source: Path, **kw: object) -> object:
    args: dict[str, object] = {
        "kind": "statement",
        "card": "1234",
        "month": "2025-11",
        "date": dt.date(2025, 12, 10),
        "amount": 45230,
        "counterparty": "テストカード株式会社",
        "vehicle": "CarA",
    }
    args.update(kw)
    return add_document(store=store, source=source, **args)  # type: ignore[arg-type]


def local_files(store: Store) -> list[Path]:
    """Files of the vault's folder on this computer."""
    root = vault_root(store)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_add_keeps_the_original_intact_and_named_by_convention(
    store: Store, statement_pdf: Path
) -> None:
    before = statement_pdf.read_bytes()
    document = add_statement(store, statement_pdf)
    assert statement_pdf.read_bytes() == before  # the source is only read
    assert document.relpath == "2025/11/2025-11_CARD1234_CarA_請求.pdf"
    assert document.name == "2025-11_CARD1234_CarA_請求.pdf"
    assert read_original(store=store, document=document) == before
    assert stored_bytes(store, document) == before
    assert document.sha256 == hashlib.sha256(before).hexdigest()
    assert document.size == len(before)
    assert (document.kind, document.card, document.month) == ("statement", "1234", "2025-11")
    assert (document.date, document.amount) == (dt.date(2025, 12, 10), 45230)
    assert document.counterparty == "テストカード株式会社"
    assert document.version == 1
    assert document.original_name == "meisai_202511.pdf"
    if store.on_server:  # the bytes are in the database: nothing on this computer
        assert document.path is None and document.location == document.relpath
        assert local_files(store) == []


@pytest.mark.sqlite_only
def test_on_sqlite_the_original_is_a_read_only_file_beside_the_store(
    store: Store, statement_pdf: Path
) -> None:
    before = statement_pdf.read_bytes()
    document = add_statement(store, statement_pdf)
    assert document.path == vault_root(store) / "2025" / "11" / "2025-11_CARD1234_CarA_請求.pdf"
    assert document.path.parent.parent.parent == store.path.parent / f"{store.path.stem}.etc"
    assert document.path.read_bytes() == before
    assert document.location == str(document.path)
    assert not stat.S_IMODE(document.path.stat().st_mode) & (
        stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    )
    assert [p.name for p in document.path.parent.iterdir()] == [document.path.name]


def test_the_same_bytes_are_not_stored_twice(store: Store, statement_pdf: Path) -> None:
    add_statement(store, statement_pdf)
    with pytest.raises(VaultError, match="すでに保管"):
        add_statement(store, statement_pdf, month="2025-12")
    assert len(search_documents(store=store)) == 1
    assert not (vault_root(store) / "2025" / "12").exists() or not any(
        (vault_root(store) / "2025" / "12").iterdir()
    )
    if store.on_server:
        with store.engine.connect() as connection:
            kept = connection.execute(text("SELECT count(*) FROM document_chunks")).scalar()
        assert kept == 1


def test_a_corrected_file_becomes_v2_beside_v1(
    store: Store, statement_pdf: Path, corrected_pdf: Path
) -> None:
    v1 = add_statement(store, statement_pdf)
    v1_bytes = read_original(store=store, document=v1)
    v2 = add_statement(store, corrected_pdf)
    assert v2.version == 2
    assert v2.supersedes_id == v1.id
    assert v2.name == "2025-11_CARD1234_CarA_請求_v2.pdf"
    assert v2.relpath.rsplit("/", 1)[0] == v1.relpath.rsplit("/", 1)[0]
    assert read_original(store=store, document=v1) == v1_bytes  # never overwritten
    assert read_original(store=store, document=v2) == corrected_pdf.read_bytes()
    assert verify_vault(store=store).intact


def test_screenshots_are_named_by_their_day(store: Store, tmp_path: Path) -> None:
    shot = tmp_path / "screen.PNG"
    shot.write_bytes(b"\x89PNG fake rebate screen")
    document = add_document(
        store=store,
        source=shot,
        kind="screen_rebate",
        card="1234",
        month="2025-11",
        date=dt.date(2025, 11, 30),
    )
    assert document.name == "2025-11-30_CARD1234_還元額残高.png"
    other = tmp_path / "screen2.png"
    other.write_bytes(b"\x89PNG another day")
    second = add_document(
        store=store,
        source=other,
        kind="screen_rebate",
        card="1234",
        month="2025-11",
        date=dt.date(2025, 11, 29),
    )
    assert second.version == 1  # another day is another original, not a correction
    with pytest.raises(VaultError, match="合いません"):
        add_document(
            store=store,
            source=tmp_path / "screen2.png",
            kind="screen_points",
            card="1234",
            month="2025-10",
            date=dt.date(2025, 11, 29),
        )


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "photo"}, "種類"),
        ({"card": "12345"}, "末尾4桁"),
        ({"month": "2025-13"}, "YYYY-MM"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    store: Store, statement_pdf: Path, kw: dict[str, object], message: str
) -> None:
    with pytest.raises(VaultError, match=message):
        add_statement(store, statement_pdf, **kw)
    assert search_documents(store=store) == []
    assert local_files(store) == []
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM document_chunks")).scalar() == 0


def test_remove_moves_to_the_trash_and_records_who_when_why(
    store: Store, statement_pdf: Path
) -> None:
    document = add_statement(store, statement_pdf)
    with pytest.raises(VaultError, match="理由"):
        remove_document(store=store, document_id=document.id, reason="  ")
    removed = remove_document(
        store=store, document_id=document.id, reason="別カードの明細", user="tester"
    )
    assert removed.removed_at is not None
    assert removed.removed_reason == "別カードの明細"
    assert removed.trash_path is not None and removed.trash_path.startswith("_trash/")
    assert removed.trash_path.endswith("_2025-11_CARD1234_CarA_請求.pdf")
    # the removed original is kept, intact, in the trash
    assert read_original(store=store, document=removed) == statement_pdf.read_bytes()
    if not store.on_server:
        assert document.path is not None and not document.path.exists()
        trashed = vault_root(store) / removed.trash_path
        assert trashed.read_bytes() == statement_pdf.read_bytes()
    assert search_documents(store=store) == []
    assert len(search_documents(store=store, search=DocumentSearch(include_removed=True))) == 1
    with store.engine.connect() as connection:
        by = connection.execute(
            text("SELECT removed_by FROM documents WHERE id = :i"), {"i": document.id}
        ).scalar()
    assert by == "tester"
    with pytest.raises(VaultError, match="すでに削除"):
        remove_document(store=store, document_id=document.id, reason="again")


def test_verify_finds_altered_and_missing_files(
    store: Store, statement_pdf: Path, tmp_path: Path
) -> None:
    first = add_statement(store, statement_pdf)
    other = tmp_path / "cert.pdf"
    other.write_bytes(b"%PDF certificate")
    second = add_statement(store, other, kind="certificate")
    third = add_statement(store, corrected_pdf_like(tmp_path), kind="other")
    assert verify_vault(store=store).intact
    tamper(store, first, statement_pdf.read_bytes() + b"tampered")
    tamper(store, second, None)
    same_size = bytearray(read_original(store=store, document=third))
    same_size[0] ^= 1
    tamper(store, third, bytes(same_size))
    check = verify_vault(store=store)
    assert not check.intact
    assert check.checked == 3
    assert check.altered == (first.relpath, third.relpath) or check.altered == (
        third.relpath,
        first.relpath,
    )
    assert check.missing == (second.relpath,)


def corrected_pdf_like(tmp_path: Path) -> Path:
    path = tmp_path / "other.pdf"
    path.write_bytes(b"%PDF other document, same size after a one-bit change")
    return path


def test_reading_an_altered_or_missing_original_is_refused_with_a_sentence(
    store: Store, statement_pdf: Path, tmp_path: Path
) -> None:
    document = add_statement(store, statement_pdf)
    tamper(store, document, b"forged")
    with pytest.raises(OriginalUnreadable, match="内容が記録と違います") as altered:
        read_original(store=store, document=document)
    assert not altered.value.missing
    assert document.name in str(altered.value)
    target = tmp_path / "out" / "copy.pdf"
    target.parent.mkdir()
    target.write_bytes(b"earlier")
    with pytest.raises(OriginalUnreadable):
        save_original(store=store, document=document, target=target)
    assert target.read_bytes() == b"earlier"  # nothing served, nothing replaced
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.pdf"]
    with pytest.raises(OriginalUnreadable):
        list(iter_original(store=store, document=document))
    tamper(store, document, None)
    with pytest.raises(OriginalUnreadable, match="見つかりません") as missing:
        read_original(store=store, document=document)
    assert missing.value.missing


def test_a_large_original_is_kept_in_chunks_and_read_back_intact(
    store: Store, tmp_path: Path
) -> None:
    big = tmp_path / "big.pdf"
    data = os.urandom(5 * (1 << 20) + 3)  # 5 MiB and 3 bytes: six chunks
    big.write_bytes(data)
    document = add_statement(store, big)
    assert document.size == len(data)
    chunks = list(iter_original(store=store, document=document))
    assert all(len(c) <= 1 << 20 for c in chunks)
    assert b"".join(chunks) == data
    copy = save_original(store=store, document=document, target=tmp_path / "copy" / "big.pdf")
    assert copy.read_bytes() == data
    if store.on_server:
        with store.engine.connect() as connection:
            sizes = connection.execute(
                text(
                    "SELECT length(data) FROM document_chunks WHERE document_id = :i ORDER BY seq"
                ),
                {"i": document.id},
            ).scalars()
            assert list(sizes) == [1 << 20] * 5 + [3]
    assert verify_vault(store=store).intact


def test_an_empty_original_is_kept_and_verified(store: Store, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    document = add_statement(store, empty, kind="other")
    assert document.size == 0
    assert read_original(store=store, document=document) == b""
    assert verify_vault(store=store).intact


def test_the_server_refuses_to_change_or_delete_a_kept_original(
    pg_url: str, statement_pdf: Path
) -> None:
    """On PostgreSQL the originals are rows: the database itself keeps them unchanged."""
    from sqlalchemy.exc import DatabaseError

    from etcbook.models.refusals import refusal
    from etcbook.models.store import open_store

    store = open_store(pg_url)
    try:
        document = add_statement(store, statement_pdf)
        for statement in (
            "UPDATE document_chunks SET data = ''::bytea",
            "DELETE FROM document_chunks",
            "TRUNCATE document_chunks",
        ):
            with (
                pytest.raises(DatabaseError, match="original_frozen") as refused,
                store.transaction() as connection,
            ):
                connection.execute(text(statement))
            assert "変更・削除できません" in (refusal(refused.value) or "")
        assert read_original(store=store, document=document) == statement_pdf.read_bytes()
    finally:
        store.close()


@pytest.mark.sqlite_only
def test_a_file_left_by_an_interrupted_add_does_not_block_its_name(
    store: Store, statement_pdf: Path
) -> None:
    """A kill between placing the copy and committing its record leaves a file no record
    names; the next add of that name keeps it aside and goes ahead."""
    orphan = vault_root(store) / "2025" / "11" / "2025-11_CARD1234_CarA_請求.pdf"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"copy of an add that never committed")
    document = add_statement(store, statement_pdf)
    assert document.path == orphan
    assert read_original(store=store, document=document) == statement_pdf.read_bytes()
    kept = [p for p in orphan.parent.iterdir() if p.name.startswith(".orphan-")]
    assert [p.read_bytes() for p in kept] == [b"copy of an add that never committed"]
    assert verify_vault(store=store).intact


def _add(store: Store, tmp_path: Path, name: str, **kw: object) -> object:
    path = tmp_path / name
    path.write_bytes(name.encode())
    return add_statement(store, path, **kw)


def test_search_combines_date_amount_counterparty_kind_and_card(
    store: Store, tmp_path: Path
) -> None:
    a = _add(
        store,
        tmp_path,
        "a.pdf",
        date=dt.date(2025, 11, 10),
        amount=1000,
        counterparty="NEXCO東日本",
        kind="certificate",
    )
    b = _add(
        store,
        tmp_path,
        "b.pdf",
        date=dt.date(2025, 12, 10),
        amount=5000,
        counterparty="テストカード",
        month="2025-12",
    )
    c = _add(
        store,
        tmp_path,
        "c.pdf",
        date=dt.date(2026, 1, 10),
        amount=9000,
        counterparty="テストカード",
        month="2026-01",
        card="5678",
    )
    d = _add(
        store,
        tmp_path,
        "d.pdf",
        date=None,
        amount=None,
        counterparty="100%_カード",
        month="2026-02",
    )

    def ids(**kw: object) -> list[int]:
        return [x.id for x in search_documents(store=store, search=DocumentSearch(**kw))]  # type: ignore[arg-type]

    assert ids() == [a.id, b.id, c.id, d.id]
    assert ids(date_from=dt.date(2025, 12, 1)) == [b.id, c.id]
    assert ids(date_from=dt.date(2025, 11, 10), date_to=dt.date(2025, 12, 10)) == [a.id, b.id]
    assert ids(min_amount=5000) == [b.id, c.id]
    assert ids(min_amount=1000, max_amount=5000) == [a.id, b.id]
    assert ids(counterparty="テスト") == [b.id, c.id]
    assert ids(counterparty="nexco") == [a.id]
    assert ids(counterparty="100%_") == [d.id]  # LIKE wildcards are literal
    assert ids(counterparty="%") == [d.id]
    assert ids(kind="certificate") == [a.id]
    assert ids(card="5678") == [c.id]
    assert ids(counterparty="テスト", card="1234", max_amount=6000) == [b.id]


def test_search_uses_indexes_on_ten_thousand_documents(store: Store) -> None:
    now = "2026-01-01T00:00:00"
    with store.transaction() as connection:
        connection.execute(
            text(
                "INSERT INTO documents (path, original_name, sha256, size, kind, card_last4,"
                " month, doc_date, amount, counterparty, added_at) VALUES (:p, 'x', :s, 1,"
                " :k, :c, :m, :d, :a, :cp, :at)"
            ),
            [
                {
                    "p": f"gen/{i}.pdf",
                    "s": f"{i:064x}",
                    "k": ("statement", "certificate", "screen_points")[i % 3],
                    "c": f"{1000 + i % 7}",
                    "m": f"{2020 + i % 6}-{1 + i % 12:02d}",
                    "d": (dt.date(2020, 1, 1) + dt.timedelta(days=i % 2000)).isoformat(),
                    "a": (i * 37) % 100_000,
                    "cp": ("NEXCO東日本", "テストカード", "首都高")[i % 3],
                    "at": now,
                }
                for i in range(10_000)
            ],
        )
        connection.execute(text("ANALYZE"))
    found = search_documents(
        store=store,
        search=DocumentSearch(date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 1, 31)),
    )
    assert len(found) == sum(
        1
        for i in range(10_000)
        if dt.date(2021, 1, 1)
        <= dt.date(2020, 1, 1) + dt.timedelta(days=i % 2000)
        <= dt.date(2021, 1, 31)
    )
    if store.on_server:
        return  # the plans below are SQLite's (EXPLAIN QUERY PLAN)
    with store.engine.connect() as connection:
        for search in (
            DocumentSearch(date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 1, 31)),
            DocumentSearch(min_amount=99_000),
            DocumentSearch(card="1003", kind="statement"),
        ):
            where, params = search.where()
            plan = " ".join(
                str(row[-1])
                for row in connection.execute(
                    text(f"EXPLAIN QUERY PLAN SELECT id FROM documents{where}"), params
                )
            )
            assert "USING INDEX" in plan, plan


def test_recent_months_are_the_15_complete_months_before_this_one() -> None:
    months = recent_months(dt.date(2026, 3, 5))
    assert len(months) == 15
    assert months[0] == "2024-12" and months[-1] == "2026-02"


def test_month_view_lists_months_with_trips_lacking_statement_or_certificate(
    store: Store, tmp_path: Path
) -> None:
    with store.transaction() as connection:
        connection.execute(
            text(
                "INSERT INTO cards (last4, holder, created_at) VALUES ('1234', 'テスト', '2025-01-01T00:00:00')"
            )
        )
        for n, exit_at in enumerate(("2025-10-05T10:00:00", "2025-11-30T23:50:00")):
            connection.execute(
                text(
                    "INSERT INTO trips (card_id, exit_at, exit_ic, toll, trip_key)"
                    " VALUES (1, :e, '富士', 1000, :k)"
                ),
                {"e": exit_at, "k": f"k{n}"},
            )
    _add(store, tmp_path, "s10.pdf", month="2025-10")
    _add(store, tmp_path, "c10.pdf", month="2025-10", kind="certificate")
    _add(store, tmp_path, "s11.pdf", month="2025-11")
    view = {m.month: m for m in month_coverage(store=store, today=dt.date(2025, 12, 15))}
    assert len(view) == 15
    assert not view["2025-10"].lacking
    assert view["2025-11"].lacking
    assert view["2025-11"].statement and not view["2025-11"].certificate
    assert view["2025-11"].trips == 1
    assert not view["2025-09"].lacking  # no trips, nothing to fetch
    assert [m.month for m in view.values() if m.lacking] == ["2025-11"]
