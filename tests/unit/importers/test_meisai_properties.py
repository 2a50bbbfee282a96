"""Property-based tests: whatever the bytes, the parser and the import neither crash nor store
part of a rejected file; and the identity of trips (card, times, ICs, order among identical
rows) matches a plain reference model however rows repeat and interleave."""

from __future__ import annotations

import collections
import os
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from meisai_helpers import HEADER_13, HEADER_15, meisai, row15

from etcbook.importers.meisai import LineError, MeisaiRow, NotMeisaiError, read_meisai_bytes
from etcbook.models.imports import import_files
from etcbook.models.store import Store, open_store, sqlite_uri

SCALE = float(os.environ.get("ETCBOOK_PROPERTY_SCALE", "1"))
"""Multiplies the examples per property (e.g. 20 for a long hunt); the default run is short."""
FAST = settings(
    deadline=None, max_examples=int(60 * SCALE), suppress_health_check=[HealthCheck.too_slow]
)
SLOW = settings(
    deadline=None, max_examples=int(20 * SCALE), suppress_health_check=[HealthCheck.too_slow]
)

GOOD_ROWS = [
    row15(),
    row15(exit="24/11/06 10:00", before="2190", discount="－660", toll="1530", rebate="300"),
    row15(entry="", entry_ic="", exit_ic="本線料金所", toll="410", vehicle_number=""),
    row15(exit="24/11/07 10:00", entry_ic="大宮①", exit_ic="髙崎", remarks="確認中;深夜割引"),
    row15(exit="24/11/08 10:00", toll="-1050", remarks="確定;（朝夕）"),
]

# Cell values that are wrong in some way, and ways to damage a row.
BAD_CELLS = st.sampled_from(
    [
        "25/02/30",
        "24/13/01",
        "1e9",
        "9" * 12,
        "－",
        "",
        "x" * 5000,
        "浜" * 2000,
        '"',
        '"a""b',
        "\x00",
        "24:61",
        "****",
        "١٢٣٤",
        "\ufeff",
    ]
)


@st.composite
def mangled_row(draw: st.DrawFn) -> bytes:
    cells = draw(st.sampled_from(GOOD_ROWS)).split(",")
    action = draw(st.sampled_from(["cell", "drop", "add", "truncate", "bytes", "huge", "keep"]))
    if action == "cell":
        cells[draw(st.integers(0, len(cells) - 1))] = draw(BAD_CELLS)
    elif action == "drop":
        del cells[draw(st.integers(0, len(cells) - 1))]
    elif action == "add":
        cells.insert(draw(st.integers(0, len(cells))), draw(BAD_CELLS))
    raw = ",".join(cells).encode("cp932", errors="replace")
    if action == "truncate":  # cut inside a multi-byte character
        raw = raw[: draw(st.integers(0, len(raw)))] + b"\x82"
    elif action == "bytes":
        raw = draw(st.binary(max_size=200))
    elif action == "huge":
        raw = b"1," * (draw(st.integers(1, 4)) * 150_000)  # up to about 1 MB on one line
    return raw


@st.composite
def mangled_file(draw: st.DrawFn) -> bytes:
    header = draw(st.sampled_from([HEADER_15, HEADER_13, HEADER_15.replace(",", ";")]))
    good = [r.encode("cp932") for r in draw(st.lists(st.sampled_from(GOOD_ROWS), max_size=4))]
    bad = draw(st.lists(mangled_row(), min_size=1, max_size=4))
    rows = draw(st.permutations(good + bad))
    newline = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    return newline.join([header.encode("cp932"), *rows]) + newline


def outcome_of(data: bytes) -> tuple[list[MeisaiRow], list[LineError]] | str:
    try:
        return read_meisai_bytes(data, "x.csv")
    except NotMeisaiError as exc:
        return str(exc)


@FAST
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash_the_parser(data: bytes) -> None:
    outcome = outcome_of(data)
    if isinstance(outcome, str):
        assert outcome.startswith("x.csv: ") and "\n" not in outcome


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_after_a_real_header_give_rows_or_line_errors(data: bytes) -> None:
    rows, errors = read_meisai_bytes(meisai([]) + data, "x.csv")
    lines = [e.line for e in errors] + [r.line for r in rows]
    assert len(lines) == len(set(lines))
    assert all(line >= 2 for line in lines)
    for row in rows:
        assert len(row.card_last4) == 4 and row.card_last4.isascii() and row.card_last4.isdigit()


@FAST
@given(mangled_file())
def test_mangled_rows_are_line_errors_with_editor_line_numbers(data: bytes) -> None:
    outcome = outcome_of(data)
    if isinstance(outcome, str):
        return  # the header itself was mangled (a ';' separated file): one sentence
    rows, errors = outcome
    line_count = len(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").rstrip(b"\n").split(b"\n"))
    for item in [*rows, *errors]:
        assert 2 <= item.line <= line_count
    for error in errors:
        assert error.message and "\n" not in error.message and "Traceback" not in error.message


@FAST
@given(
    st.sampled_from(["25/02/30", "25/2/29", "24/02/29", "2025/02/30", "00/01/01", "99/12/31"]),
    st.sampled_from(["1e9", "1,000", "１０００", "-0", "999999999", "1000000000", "0x10"]),
)
def test_dates_and_amounts_are_values_or_line_errors(date: str, amount: str) -> None:
    cell = f'"{amount}"' if "," in amount else amount
    data = meisai([row15(entry="", exit=f"{date} 10:00", toll=cell, deferred="0")])
    rows, errors = read_meisai_bytes(data)
    assert len(rows) + len(errors) == 1
    if rows:
        assert rows[0].exit_at.year in range(2000, 2100)
        assert isinstance(rows[0].toll, int) and abs(rows[0].toll) < 10**9


def store_trips(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
    try:
        return db.execute("SELECT * FROM trips ORDER BY id").fetchall()
    finally:
        db.close()


@SLOW
@given(data=mangled_file())
def test_a_rejected_file_leaves_the_store_as_it_was(tmp_path_factory: object, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("prop")  # type: ignore[attr-defined]
    store = open_store(folder / "s.sqlite3")
    try:
        seed = folder / "seed.csv"
        seed.write_bytes(meisai(GOOD_ROWS[:2]))
        assert import_files(store, [seed]).ok
        before = store_trips(store.path)
        path = folder / "mangled.csv"
        path.write_bytes(data)
        result = import_files(store, [path])
        outcome = outcome_of(data)
        expected_ok = not isinstance(outcome, str) and not outcome[1]
        assert result.ok == expected_ok
        if not result.ok:
            assert store_trips(store.path) == before
            (file,) = result.files
            assert file.problem or file.errors
    finally:
        store.close()


# --- identity: a reference model of (card, trip key, seq) ------------------------------------

IDENTITIES = [
    {"exit": "24/11/05 10:51"},
    {"exit": "24/11/05 10:51", "card": "********12345678"},
    {"exit": "24/11/05 10:51", "exit_ic": "浜松西"},
    {"exit": "24/11/05 10:51", "entry": "", "entry_ic": ""},
    {"exit": "24/11/05 10:52"},
    {"exit": "24/11/06 10:51", "remarks": "確認中"},
]


def reference_identities(rows: list[MeisaiRow]) -> collections.Counter[tuple[str, str, int]]:
    """(card, trip_key, seq): seq counts earlier rows of the file with the same card and key."""
    seen: collections.Counter[tuple[str, str]] = collections.Counter()
    out: collections.Counter[tuple[str, str, int]] = collections.Counter()
    for row in rows:
        key = (row.card_last4, row.trip_key)
        out[(*key, seen[key])] += 1
        seen[key] += 1
    return out


def stored_identities(store: Store) -> collections.Counter[tuple[str, str, int]]:
    db = sqlite3.connect(sqlite_uri(store.path, read_only=True), uri=True)
    try:
        return collections.Counter(
            db.execute(
                "SELECT c.last4, t.trip_key, t.seq FROM trips t JOIN cards c ON c.id = t.card_id"
            ).fetchall()
        )
    finally:
        db.close()


@SLOW
@given(
    first=st.lists(st.integers(0, len(IDENTITIES) - 1), min_size=1, max_size=12),
    second=st.lists(st.integers(0, len(IDENTITIES) - 1), max_size=12),
)
def test_identity_and_order_of_identical_rows_match_the_reference(
    tmp_path_factory: object, first: list[int], second: list[int]
) -> None:
    folder = tmp_path_factory.mktemp("identity")  # type: ignore[attr-defined]
    store = open_store(folder / "s.sqlite3")
    try:
        expected: collections.Counter[tuple[str, str, int]] = collections.Counter()
        for name, picks in (("a.csv", first), ("b.csv", second)):
            data = meisai([row15(**IDENTITIES[i]) for i in picks])
            rows, errors = read_meisai_bytes(data)
            assume(not errors)
            path = folder / name
            path.write_bytes(data)
            result = import_files(store, [path])
            assert result.ok
            wanted = reference_identities(rows)
            new = wanted - expected
            assert result.inserted == sum(new.values())
            assert result.inserted + result.duplicates + result.updated == len(rows)
            expected |= wanted
            assert stored_identities(store) == expected
    finally:
        store.close()


def test_trip_key_in_sql_is_the_parsers_trip_key(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(meisai(GOOD_ROWS))
    rows, _ = read_meisai_bytes(path.read_bytes())
    assert import_files(store, [path]).ok
    assert sorted(k for _, k, _ in stored_identities(store)) == sorted(r.trip_key for r in rows)


def test_many_rows_with_repeats_far_apart(store: Store, tmp_path: Path) -> None:
    """Enough rows for hash-slot collisions; repeats separated by thousands of rows."""
    base = [
        row15(
            exit=f"24/{1 + i // 2000 % 12:02d}/{1 + i // 60 % 28:02d} {i % 24:02d}:{i % 60:02d}",
            card=("*******123456789", "********12345678")[i % 2],
            entry="",
        )
        for i in range(12_000)
    ]
    rows_text = base + base[::997] + base[::1499] + base[::997]
    data = meisai(rows_text)
    rows, errors = read_meisai_bytes(data)
    assert not errors
    path = tmp_path / "many.csv"
    path.write_bytes(data)
    result = import_files(store, [path])
    assert result.inserted == len(rows_text)
    assert stored_identities(store) == reference_identities(rows)
    again = import_files(store, [path])
    assert (again.inserted, again.duplicates) == (0, len(rows_text))


@SLOW
@given(data=st.one_of(st.binary(max_size=2000), st.builds(lambda b: meisai([]) + b, st.binary())))
def test_import_of_random_bytes_never_raises_and_stores_nothing_when_rejected(
    tmp_path_factory: object, data: bytes
) -> None:
    folder = tmp_path_factory.mktemp("random")  # type: ignore[attr-defined]
    store = open_store(folder / "s.sqlite3")
    try:
        path = folder / "random.csv"
        path.write_bytes(data)
        result = import_files(store, [path])
        stored = store_trips(store.path)
        if result.ok:
            assert len(stored) == result.inserted == result.files[0].rows
        else:
            assert stored == []
            assert result.files[0].problem or result.files[0].errors
    finally:
        store.close()
