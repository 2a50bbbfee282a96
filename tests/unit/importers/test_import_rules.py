"""Importing 明細CSV files into the store, one rule per test (issue 2 §4)."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from meisai_helpers import CARD, HEADER_13, meisai, row13, row15
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from etcbook.models.imports import ImportCancelled, import_files
from etcbook.models.store import Store
from etcbook.models.trips import TripFilter, list_trip_rows, trip_json

pytestmark = pytest.mark.both_backends

Snapshot = Callable[[Path], dict[str, list[tuple[object, ...]]]]


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write(name, rows, **meisai_options)``: a 明細CSV file in a temporary folder."""

    def _write(name: str, rows: list[str] | bytes, **options: Any) -> Path:
        path = tmp_path / name
        path.write_bytes(rows if isinstance(rows, bytes) else meisai(rows, **options))
        return path

    return _write


def trips(store: Store, **filters: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        rows = list_trip_rows(connection=connection, trip_filter=TripFilter(**filters))
    return [trip_json(r) for r in rows]


def sql(store: Store, query: str, **params: Any) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(query), params)]


def add_card(store: Store, last4: str, status: str = "active") -> None:
    with store.transaction() as connection:
        connection.execute(
            text(
                "INSERT INTO cards (last4, holder, status, created_at)"
                " VALUES (:l, '山田太郎', :s, '2024-01-01T00:00:00')"
            ),
            {"l": last4, "s": status},
        )


def add_rule(
    store: Store,
    exit_pattern: str,
    *,
    entry: str | None = None,
    operator: str | None = None,
    morning_evening: bool | None = None,
) -> None:
    with store.transaction() as connection:
        connection.execute(
            text(
                "INSERT INTO route_rules (entry_pattern, exit_pattern, operator, morning_evening,"
                " created_at) VALUES (:e, :x, :o, :m, '2024-01-01T00:00:00')"
            ),
            {"e": entry, "x": exit_pattern, "o": operator, "m": morning_evening},
        )


FOUR_TRIPS = [
    row15(exit="24/11/01 10:00", toll="1000"),
    row15(exit="24/11/02 10:00", toll="2000", before="2500", discount="-500"),
    row15(exit="24/11/03 10:00", toll="3000", entry="", entry_ic="", exit_ic="本線料金所"),
    row15(exit="24/11/04 10:00", toll="4000", remarks="確認中;深夜割引"),
]


# --- all or nothing ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad_at", [0, 2, 4])
def test_one_bad_row_anywhere_rejects_the_file_and_stores_nothing(
    store: Store,
    store_target: Path | str,
    snapshot: Snapshot,
    write: Callable[..., Path],
    bad_at: int,
) -> None:
    assert import_files(store, [write("first.csv", [row15(exit="24/10/01 09:00")])]).ok
    before = snapshot(store_target)
    rows = list(FOUR_TRIPS)
    rows.insert(bad_at, row15(exit="24/11/09 10:00", toll="abc"))
    path = write("bad.csv", rows)
    result = import_files(store, [path])
    assert not result.ok and not result.committed
    (file,) = result.files
    assert [(e.line, e.message) for e in file.errors] == [
        (bad_at + 2, "通行料金: 金額「abc」は整数の円ではありません")
    ]
    assert snapshot(store_target) == before


def test_every_problem_is_reported_with_its_line(store: Store, write: Callable[..., Path]) -> None:
    rows = [row15(toll="x"), row15(), row15(exit="24/02/30 10:00", entry=""), row15(card="")]
    result = import_files(store, [write("bad.csv", rows)])
    assert [e.line for e in result.files[0].errors] == [2, 4, 5]
    assert json.loads(json.dumps(result.to_json()))["files"][0]["errors"][0] == {
        "line": 2,
        "message": "通行料金: 金額「x」は整数の円ではありません",
    }


def test_a_bad_file_among_several_means_none_is_stored(
    store: Store, store_target: Path | str, snapshot: Snapshot, write: Callable[..., Path]
) -> None:
    before = snapshot(store_target)
    good = write("good.csv", FOUR_TRIPS)
    bad = write("bad.csv", [row15(exit="24/12/01 10:00", exit_ic="")])
    result = import_files(store, [good, bad])
    assert [f.ok for f in result.files] == [True, False]
    assert not result.committed
    assert snapshot(store_target) == before


def test_errors_beyond_the_reported_limit_are_counted(
    store: Store, write: Callable[..., Path]
) -> None:
    from etcbook.importers.meisai import MAX_REPORTED_ERRORS

    rows = [row15(toll="x") for _ in range(MAX_REPORTED_ERRORS + 50)]
    errors = import_files(store, [write("bad.csv", rows)]).files[0].errors
    assert len(errors) == MAX_REPORTED_ERRORS + 1
    assert "50" in errors[-1].message


@pytest.mark.parametrize(
    ("name", "data", "phrase"),
    [
        ("s.pdf", b"%PDF-1.7\n1 0 obj\n", "PDF"),
        ("s.xlsx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "Excel"),
        ("e.csv", b"", "空"),
        ("u.csv", "日付,摘要,金額\r\n".encode("cp932"), "明細CSVではありません"),
    ],
)
def test_a_file_that_is_not_meisai_gets_one_sentence_and_nothing_is_stored(
    store: Store,
    store_target: Path | str,
    snapshot: Snapshot,
    write: Callable[..., Path],
    name: str,
    data: bytes,
    phrase: str,
) -> None:
    before = snapshot(store_target)
    result = import_files(store, [write(name, data)])
    (file,) = result.files
    assert file.problem is not None and phrase in file.problem
    assert file.problem.count("。") == 1 and file.problem.endswith("。")
    assert file.errors == [] and not result.ok
    assert snapshot(store_target) == before


def test_missing_file_is_reported(store: Store, tmp_path: Path) -> None:
    result = import_files(store, [tmp_path / "nowhere.csv"])
    assert result.files[0].problem is not None and "読めません" in result.files[0].problem


# --- each trip exactly once -------------------------------------------------------------------


def test_reimporting_the_same_file_counts_only_duplicates(
    store: Store, write: Callable[..., Path]
) -> None:
    path = write("a.csv", FOUR_TRIPS)
    first = import_files(store, [path])
    assert (first.inserted, first.updated, first.duplicates) == (4, 0, 0)
    stored = trips(store)
    again = import_files(store, [path])
    assert (again.inserted, again.updated, again.duplicates) == (0, 0, 4)
    assert trips(store) == stored


def test_overlapping_later_download_inserts_only_new_trips(
    store: Store, write: Callable[..., Path]
) -> None:
    assert import_files(store, [write("oct.csv", FOUR_TRIPS[:3])]).inserted == 3
    later = [*FOUR_TRIPS[1:], row15(exit="24/11/05 10:00", toll="5000")]
    result = import_files(store, [write("nov.csv", later)])
    assert (result.inserted, result.updated, result.duplicates) == (2, 0, 2)
    assert [t["toll"] for t in trips(store)] == [1000, 2000, 3000, 4000, 5000]


def test_overlap_within_one_call(store: Store, write: Callable[..., Path]) -> None:
    result = import_files(store, [write("a.csv", FOUR_TRIPS[:3]), write("b.csv", FOUR_TRIPS[1:])])
    assert [(f.inserted, f.duplicates) for f in result.files] == [(3, 0), (1, 2)]
    assert len(trips(store)) == 4


def test_two_identical_rows_are_two_trips_and_reimport_adds_neither(
    store: Store, write: Callable[..., Path]
) -> None:
    twice = row15(exit="24/11/07 10:54", toll="3740")
    path = write("a.csv", [twice, FOUR_TRIPS[0], twice])
    assert import_files(store, [path]).inserted == 3
    again = import_files(store, [path])
    assert (again.inserted, again.duplicates) == (0, 3)
    thrice = import_files(store, [write("b.csv", [twice, twice, twice])])
    assert (thrice.inserted, thrice.duplicates) == (1, 2)
    assert [t["toll"] for t in trips(store)].count(3740) == 3


def test_identical_rows_far_apart_in_an_unsorted_file(
    store: Store, write: Callable[..., Path]
) -> None:
    twice = row15(exit="24/11/07 10:54", toll="3740")
    rows = [twice] + [row15(exit=f"24/11/{d:02d} 12:00") for d in range(1, 29)] + [twice]
    assert import_files(store, [write("a.csv", rows)]).inserted == 30
    assert import_files(store, [write("b.csv", [twice])]).duplicates == 1
    assert import_files(store, [write("c.csv", rows[::-1])]).duplicates == 30


def test_same_trip_on_another_card_is_another_trip(
    store: Store, write: Callable[..., Path]
) -> None:
    rows = [row15(card=CARD), row15(card="********12345678")]
    assert import_files(store, [write("a.csv", rows)]).inserted == 2


def test_identity_ignores_amounts_but_not_times_or_ics(
    store: Store, write: Callable[..., Path]
) -> None:
    assert import_files(store, [write("a.csv", [row15()])]).inserted == 1
    variants = [
        row15(toll="1200", rebate="0"),  # same trip, other amount: a duplicate
        row15(exit="24/11/05 10:52"),
        row15(entry="24/11/05 08:55"),
        row15(entry_ic="静岡IC"),
        row15(exit_ic="浜松西"),
    ]
    result = import_files(store, [write("b.csv", variants)])
    assert (result.inserted, result.duplicates) == (4, 1)


def test_spreadsheet_resave_of_an_imported_file_is_all_duplicates(
    store: Store, meisai_dir: Path
) -> None:
    assert import_files(store, [meisai_dir / "15col.csv"]).inserted == 10
    for copy in ("15col_spreadsheet.csv", "15col_utf8.csv", "15col_utf8_bom.csv"):
        result = import_files(store, [meisai_dir / copy])
        assert (result.inserted, result.updated, result.duplicates) == (0, 0, 10), copy


# --- 確認中 -> 確定 ----------------------------------------------------------------------------


def test_confirmed_row_replaces_its_pending_version_with_history(
    store: Store, write: Callable[..., Path]
) -> None:
    pending = row15(before="1520", discount="-460", toll="1060", remarks="確認中;深夜割引")
    assert import_files(store, [write("a.csv", [pending, FOUR_TRIPS[0]])]).inserted == 2
    (old,) = [t for t in trips(store) if t["status"] == "確認中"]
    confirmed = row15(
        before="1520", discount="-760", toll="760", rebate="500", remarks="確定;深夜割引"
    )
    result = import_files(store, [write("b.csv", [confirmed, FOUR_TRIPS[0]])])
    assert (result.inserted, result.updated, result.duplicates) == (0, 1, 1)
    (new,) = [t for t in trips(store) if t["id"] == old["id"]]
    assert (new["status"], new["etc_discount"], new["toll"], new["rebate_applied"]) == (
        "確定",
        -760,
        760,
        500,
    )
    assert new["billed"] == 260
    ((trip_id, values),) = sql(store, "SELECT trip_id, old_values FROM trip_history")
    assert trip_id == old["id"]
    old_values = json.loads(values)
    assert (old_values["status"], old_values["etc_discount"], old_values["toll"]) == (
        "確認中",
        -460,
        1060,
    )
    assert len(trips(store)) == 2


def test_pending_row_after_its_confirmed_version_changes_nothing(
    store: Store, write: Callable[..., Path]
) -> None:
    assert import_files(store, [write("a.csv", [row15(toll="760", remarks="確定")])]).ok
    result = import_files(store, [write("b.csv", [row15(toll="1060", remarks="確認中")])])
    assert (result.inserted, result.updated, result.duplicates) == (0, 0, 1)
    assert [(t["status"], t["toll"]) for t in trips(store)] == [("確定", 760)]
    assert sql(store, "SELECT count(*) FROM trip_history") == [(0,)]


def test_confirmation_of_one_of_two_identical_pending_rows(
    store: Store, write: Callable[..., Path]
) -> None:
    pending = row15(toll="1060", remarks="確認中")
    assert import_files(store, [write("a.csv", [pending, pending])]).inserted == 2
    confirmed = row15(toll="900", remarks="確定")
    result = import_files(store, [write("b.csv", [confirmed, confirmed])])
    assert (result.inserted, result.updated) == (0, 2)
    assert [t["toll"] for t in trips(store)] == [900, 900]


def test_route_rule_morning_evening_survives_confirmation(
    store: Store, write: Callable[..., Path]
) -> None:
    add_rule(store, "浜松", entry="静岡", morning_evening=True)
    assert import_files(store, [write("a.csv", [row15(remarks="確認中")])]).ok
    assert trips(store)[0]["morning_evening"] is True
    assert import_files(store, [write("b.csv", [row15(remarks="確定")])]).updated == 1
    assert trips(store)[0]["morning_evening"] is True


def test_morning_evening_tag_withdrawn_on_confirmation(
    store: Store, write: Callable[..., Path]
) -> None:
    assert import_files(store, [write("a.csv", [row15(remarks="確認中;（朝夕）")])]).ok
    assert trips(store)[0]["morning_evening"] is True
    assert import_files(store, [write("b.csv", [row15(remarks="確定")])]).updated == 1
    assert trips(store)[0]["morning_evening"] is False
    assert "（朝夕）" not in trips(store)[0]["flags"]


def test_user_edits_survive_confirmation(store: Store, write: Callable[..., Path]) -> None:
    assert import_files(store, [write("a.csv", [row15(remarks="確認中")])]).ok
    with store.transaction() as connection:
        connection.execute(
            text("UPDATE trips SET purpose = '顧客訪問', business_share = 80, operator = 'nagoya'")
        )
    assert import_files(store, [write("b.csv", [row15(remarks="確定", toll="900")])]).updated
    (trip,) = trips(store)
    assert (trip["purpose"], trip["business_share"], trip["operator"], trip["toll"]) == (
        "顧客訪問",
        80,
        "nagoya",
        900,
    )


def test_13_column_trip_is_completed_by_the_15_column_download(
    store: Store, write: Callable[..., Path]
) -> None:
    assert import_files(store, [write("a.csv", [row13(remarks="")], header=HEADER_13)]).ok
    assert trips(store)[0]["status"] is None
    result = import_files(store, [write("b.csv", [row15(rebate="300", remarks="確定")])])
    assert result.updated == 1
    assert (trips(store)[0]["rebate_applied"], trips(store)[0]["billed"]) == (300, 700)
    again = import_files(store, [write("c.csv", [row13(remarks="")], header=HEADER_13)])
    assert again.duplicates == 1
    assert trips(store)[0]["rebate_applied"] == 300


# --- cards ------------------------------------------------------------------------------------


def test_unknown_card_is_created_with_details_missing_and_reported(
    store: Store, write: Callable[..., Path]
) -> None:
    add_card(store, "5678")
    rows = [row15(card=CARD), row15(card="********12345678"), row15(card="4980123456780042")]
    result = import_files(store, [write("a.csv", rows)])
    assert result.new_cards == ["0042", "6789"]
    cards = dict(sql(store, "SELECT last4, status FROM cards"))
    assert cards == {"5678": "active", "6789": "details_missing", "0042": "details_missing"}
    again = import_files(store, [write("b.csv", [row15(exit="24/12/01 10:00")])])
    assert again.new_cards == []


def test_full_card_number_is_stored_as_its_last_4_only(
    store: Store, store_target: Path | str, snapshot: Snapshot, write: Callable[..., Path]
) -> None:
    assert import_files(store, [write("a.csv", [row15(card="4980123456780042")])]).ok
    store.close()
    stored = repr(snapshot(store_target))
    assert "0042" in stored and "4980123456780042" not in stored
    if isinstance(store_target, Path):  # SQLite: not in the file's free pages or WAL either
        assert b"4980123456780042" not in store_target.read_bytes()
        wal = store_target.with_name(store_target.name + "-wal")
        assert not wal.exists() or b"4980123456780042" not in wal.read_bytes()


def test_card_option_fills_blank_cards_and_rejects_other_cards(
    store: Store, store_target: Path | str, snapshot: Snapshot, write: Callable[..., Path]
) -> None:
    path = write("a.csv", [row15(card=""), row15(card=CARD, exit="24/11/06 10:00")])
    assert not import_files(store, [path]).ok
    result = import_files(store, [path], card_last4="6789")
    assert result.inserted == 2 and result.new_cards == ["6789"]
    before = snapshot(store_target)
    other = write("b.csv", [row15(card="****0001", exit="24/11/07 10:00")])
    refused = import_files(store, [other], card_last4="6789")
    assert (
        refused.files[0].errors[0].message == "カード末尾0001の行です（指定されたカードは末尾6789）"
    )
    assert snapshot(store_target) == before


# --- route rules ------------------------------------------------------------------------------


def test_route_rules_set_operator_and_morning_evening_at_import(
    store: Store, write: Callable[..., Path]
) -> None:
    add_rule(store, "上鳥羽", operator="hanshin_kyoto")
    add_rule(store, "首都高*", operator="shutoko")
    add_rule(store, "横浜町田", entry="厚木", morning_evening=True)
    rows = [
        row15(entry_ic="京都南", exit_ic="上鳥羽", exit="24/11/01 10:00"),
        row15(entry="", entry_ic="", exit_ic="首都高本線", exit="24/11/02 10:00"),
        row15(entry_ic="厚木", exit_ic="横浜町田", exit="24/11/03 08:00"),
        row15(entry_ic="横浜町田", exit_ic="厚木", exit="24/11/03 18:00"),
        row15(entry_ic="静岡", exit_ic="浜松", exit="24/11/04 10:00", remarks="確定;（朝夕）"),
    ]
    assert import_files(store, [write("a.csv", rows)]).ok
    got = [(t["operator"], t["morning_evening"]) for t in trips(store)]
    assert got == [
        ("hanshin_kyoto", False),
        ("shutoko", False),
        ("nexco", True),
        ("nexco", False),
        ("nexco", True),
    ]


def test_latest_matching_route_rule_wins(store: Store, write: Callable[..., Path]) -> None:
    add_rule(store, "*", operator="other")
    add_rule(store, "名古屋*", operator="nagoya")
    assert import_files(
        store, [write("a.csv", [row15(exit_ic="名古屋西"), row15(exit_ic="岡崎")])]
    ).ok
    assert [t["operator"] for t in trips(store)] == ["nagoya", "other"]


# --- preview, progress, cancel, batches ---------------------------------------------------------


def test_dry_run_counts_without_storing(
    store: Store, store_target: Path | str, snapshot: Snapshot, write: Callable[..., Path]
) -> None:
    before = snapshot(store_target)
    result = import_files(store, [write("a.csv", FOUR_TRIPS)], dry_run=True)
    assert result.ok and not result.committed
    assert (result.inserted, result.new_cards) == (4, ["6789"])
    assert snapshot(store_target) == before


def test_progress_reaches_the_end(store: Store, write: Callable[..., Path]) -> None:
    rows = [
        row15(exit=f"24/11/{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}", entry="")
        for i in range(5000)
    ]
    path = write("a.csv", rows)
    seen: list[tuple[int, int]] = []
    assert import_files(store, [path], progress=lambda done, total: seen.append((done, total))).ok
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert len(seen) >= 2 and all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


def test_cancel_stores_nothing(
    store: Store, store_target: Path | str, snapshot: Snapshot, write: Callable[..., Path]
) -> None:
    rows = [
        row15(exit=f"24/11/{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}", entry="")
        for i in range(5000)
    ]
    before = snapshot(store_target)
    with pytest.raises(ImportCancelled):
        import_files(store, [write("a.csv", rows)], cancelled=lambda: True)
    assert snapshot(store_target) == before


def test_a_bad_row_in_a_later_chunk_leaves_nothing_of_its_file(
    store: Store,
    store_target: Path | str,
    snapshot: Snapshot,
    write: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chunks of 100 rows: the file's first chunks are merged before its bad last row is read
    (about 210 KB in). Nothing of it stays, its counts are those of a refused file, and the
    next file of the same preview counts as it would alone (it does not see the refused
    file's trips)."""
    from etcbook.models import imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 100)
    good = [
        row15(exit=f"24/11/{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}", entry="")
        for i in range(3000)
    ]
    refused = write("refused.csv", [*good, row15(toll="abc")])
    again = write("again.csv", good)
    assert refused.stat().st_size > 2 * 65536  # read in several pieces: merged chunks first
    before = snapshot(store_target)
    alone = import_files(store, [again], dry_run=True).to_json()["files"][0]
    result = import_files(store, [refused, again], dry_run=True).to_json()
    first, second = result["files"]
    assert first["errors"] == [
        {"line": 3002, "message": "通行料金: 金額「abc」は整数の円ではありません"}
    ]
    assert (first["rows"], first["inserted"], first["updated"], first["duplicates"]) == (
        3001,
        0,
        0,
        0,
    )
    assert {**second, "file": alone["file"]} == alone and alone["inserted"] == 3000
    assert result["new_cards"] == ["6789"] and not result["committed"]
    assert not import_files(store, [refused]).ok
    assert snapshot(store_target) == before


def test_the_reading_thread_ends_with_each_import(
    store: Store, write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread that reads the next chunk ends with the import, whether the file is
    imported, refused, cancelled or not a 明細CSV; Python's switch interval is given back."""
    import sys
    import threading

    from etcbook.models import imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    interval = sys.getswitchinterval()
    good = write("good.csv", list(FOUR_TRIPS) * 3)

    def readers() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name == "etcbook-import-reader"]

    assert import_files(store, [good]).ok and readers() == []
    assert not import_files(store, [write("bad.csv", [*FOUR_TRIPS, row15(toll="abc")])]).ok
    assert readers() == []
    with pytest.raises(ImportCancelled):
        import_files(store, [good], cancelled=lambda: True)
    assert readers() == []
    not_meisai = write("notes.csv", [])
    not_meisai.write_text("メモ\n", encoding="utf-8")
    assert import_files(store, [not_meisai]).files[0].problem is not None
    assert readers() == [] and sys.getswitchinterval() == interval


def test_import_batch_records_file_hash_and_counts(
    store: Store, write: Callable[..., Path]
) -> None:
    import hashlib

    path = write("a.csv", [*FOUR_TRIPS, FOUR_TRIPS[0]])
    assert import_files(store, [path]).ok
    assert import_files(store, [path]).ok
    batches = sql(
        store,
        "SELECT file_name, sha256, rows, inserted, updated, duplicates"
        " FROM import_batches ORDER BY id",
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert batches == [("a.csv", digest, 5, 5, 0, 0), ("a.csv", digest, 5, 0, 0, 5)]
    assert sql(store, "SELECT DISTINCT batch_id, source FROM trips") == [(1, "import")]


def test_trips_keep_every_field_of_the_row(store: Store, write: Callable[..., Path]) -> None:
    row = row15(
        entry="24/10/31 23:40",
        exit="24/11/01 00:20",
        entry_ic="大宮①",
        exit_ic="髙崎",
        before="2190",
        discount="－660",
        toll="1530",
        rebate="300",
        vehicle_class="2",
        vehicle_number="0815",
        remarks="確定;深夜割引;（朝夕）",
    )
    assert import_files(store, [write("a.csv", [row])]).ok
    (stored,) = sql(
        store,
        "SELECT entry_at, exit_at, entry_ic, exit_ic, toll_before_discount, etc_discount, toll,"
        " rebate_applied, deferred_toll, vehicle_class, vehicle_number, remarks, status, flags,"
        " morning_evening, operator, seq FROM trips",
    )
    assert stored == (
        "2024-10-31T23:40:00",
        "2024-11-01T00:20:00",
        "大宮①",
        "髙崎",
        2190,
        -660,
        1530,
        300,
        1230,
        2,
        "0815",
        "確定;深夜割引;（朝夕）",
        "確定",
        "深夜割引;（朝夕）",
        1,
        "nexco",
        0,
    )


@pytest.mark.sqlite_only  # SQLite drops and rebuilds the plain indexes; PostgreSQL does not
def test_big_import_into_a_small_store_keeps_every_trips_index(
    store: Store, store_target: Path | str, snapshot: Snapshot, write: Callable[..., Path]
) -> None:
    """A big import rebuilds the plain trips indexes after inserting; they must come back
    identical, and a rejected big file must leave them (and everything else) untouched."""

    def indexes() -> list[tuple[Any, ...]]:
        return sql(store, "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")

    before_indexes = indexes()
    assert {"ix_trips_mileage", "ix_trips_dated"} <= {name for name, _ in before_indexes}
    rows = [
        row15(
            exit=f"24/{1 + i // 1440 % 12:02d}/{1 + i // 60 % 24:02d} {i % 24:02d}:{i % 60:02d}",
            entry="",
        )
        for i in range(12_000)
    ]
    before = snapshot(store_target)
    bad = write("bad.csv", [*rows, row15(toll="x")])
    assert not import_files(store, [bad]).ok
    assert indexes() == before_indexes and snapshot(store_target) == before
    assert import_files(store, [write("good.csv", rows)]).inserted == 12_000
    assert indexes() == before_indexes
    with store.engine.connect() as connection:
        plan = connection.execute(
            text("EXPLAIN QUERY PLAN SELECT id FROM trips WHERE dated_at >= '2024-03-01'")
        ).fetchall()
    assert "ix_trips_dated" in str(plan)


@pytest.mark.sqlite_only  # SQLite's per-connection pragma; PostgreSQL has no such switch
def test_connections_enforce_foreign_keys_again_after_any_import(
    store: Store, write: Callable[..., Path]
) -> None:
    """The import turns SQLite's foreign-key checks off for its own transaction only: the
    pooled connection checks them again after a committed, a rejected and a previewed import,
    and has its page caches and secure deletion as before."""
    settings = ("cache_size", "temp.cache_size", "temp.secure_delete", "secure_delete")

    def current() -> list[list[tuple[Any, ...]]]:
        return [sql(store, f"PRAGMA {setting}") for setting in settings]

    before = current()
    good, bad = write("a.csv", FOUR_TRIPS), write("bad.csv", [*FOUR_TRIPS, row15(toll="x")])
    for paths, dry_run in (([good], False), ([bad], False), ([good], True)):
        import_files(store, paths, dry_run=dry_run)
        assert sql(store, "PRAGMA foreign_keys") == [(1,)]
        assert current() == before
        with pytest.raises(IntegrityError, match="FOREIGN KEY"), store.transaction() as connection:
            connection.execute(
                text("INSERT INTO passages (card_id, dated_at, trip_key) VALUES (999, 'x', 'k')")
            )


def test_progress_ends_each_file_exactly_once_even_a_rejected_one(
    store: Store, write: Callable[..., Path], tmp_path: Path
) -> None:
    """(size, size) exactly once per file, after its partial reports: a window summing the
    files' sizes reaches its total whatever becomes of each file."""
    rows = [
        row15(exit=f"24/11/{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}", entry="")
        for i in range(3000)
    ]
    files = [write("a.csv", rows), write("s.pdf", b"%PDF-1.7\n" + b"x" * 100_000)]
    files += [tmp_path / "missing.csv", write("b.csv", rows[:10])]
    seen: list[tuple[int, int]] = []
    result = import_files(store, files, progress=lambda done, total: seen.append((done, total)))
    assert not result.ok
    ends = [i for i, (done, total) in enumerate(seen) if done == total]
    sizes = [p.stat().st_size if p.exists() else 0 for p in files]
    assert [seen[i][1] for i in ends] == sizes
    assert all(done < total for i, (done, total) in enumerate(seen) if i not in ends)


@pytest.mark.sqlite_only  # SQLite's closed-month triggers; PostgreSQL's are functions
def test_closed_months_refuse_an_import_and_their_triggers_stay_as_they_were(
    store: Store, store_target: Path | str, snapshot: Snapshot, write: Callable[..., Path]
) -> None:
    """The import lifts the closed-month INSERT triggers of trips only while none of its rows
    lies in a closed month: they come back identical and in their order, and a row in a closed
    month is refused by them as before (naming the month, or by the migration's own trigger
    when the month has no trigger of its own)."""
    from etcbook.models.workflow import close_month

    def triggers() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The triggers of trips, and the INSERT ones in their order (the order they run in)."""
        return sql(
            store,
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'trips'"
            " ORDER BY name",
        ), sql(
            store,
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'trips'"
            " AND sql LIKE '%BEFORE INSERT ON trips%' ORDER BY rowid",
        )

    with store.transaction() as connection:
        close_month(connection, "2024-10")
    before = triggers()
    assert before[1] == [("trips_closed_insert",), ("trips_closed_2024_10_insert",)]
    november = write("november.csv", FOUR_TRIPS)
    assert import_files(store, [november]).inserted == 4
    assert triggers() == before

    stored = snapshot(store_target)
    october = write("october.csv", [*FOUR_TRIPS, row15(exit="24/10/31 23:59")])
    with pytest.raises(sqlite3.IntegrityError, match="etcbook:closed_month:2024-10"):
        import_files(store, [october])
    assert triggers() == before and snapshot(store_target) == stored

    with store.transaction() as connection:  # a closed month without its own triggers
        connection.execute(
            text("INSERT INTO closed_months (month, closed_at) VALUES ('2024-12', '2025-01-05')")
        )
    december = write("december.csv", [row15(exit="24/12/01 10:00")])
    with pytest.raises(sqlite3.IntegrityError, match="etcbook:closed_month"):
        import_files(store, [december])
    assert triggers() == before
    assert import_files(store, [write("later.csv", [row15(exit="25/01/02 10:00")])]).inserted == 1
    assert triggers() == before


def test_the_cycle_collector_is_paused_while_reading_and_restored_after(
    store: Store, write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading pauses Python's cycle collector (speed) and gives it back as it was: after a
    good file, a rejected one and a cancelled one, and left off if the caller had it off."""
    import gc

    seen: list[bool] = []

    def progress(_read: int, _total: int) -> None:
        seen.append(gc.isenabled())

    good = write("good.csv", list(FOUR_TRIPS) * 400)  # several chunks: progress while reading
    assert gc.isenabled()
    assert import_files(store, [good], progress=progress).ok
    assert False in seen and gc.isenabled()
    bad = write("bad.csv", [row15(toll="abc")])
    assert not import_files(store, [bad]).ok and gc.isenabled()
    with pytest.raises(ImportCancelled):
        import_files(store, [good], cancelled=lambda: True)
    assert gc.isenabled()
    gc.disable()
    try:
        assert import_files(store, [good]).ok
        assert not gc.isenabled()
    finally:
        gc.enable()
