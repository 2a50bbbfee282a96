"""Golden files: committed 明細CSV bytes and what the parser and the import must make of them.

The inputs and the expected JSON beside them live in tests/data/meisai/ (see regenerate.py
there for how they were written); these tests only read them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from etcbook.importers.meisai import LineError, MeisaiRow, NotMeisaiError, read_meisai_bytes
from etcbook.models.imports import import_files
from etcbook.models.passages import list_passage_rows, passage_json
from etcbook.models.store import Store
from etcbook.models.trips import TripFilter, list_trip_rows, trip_json

pytestmark = pytest.mark.both_backends

MEISAI = Path(__file__).resolve().parents[2] / "data" / "meisai"
INPUTS = sorted(p for p in MEISAI.iterdir() if p.suffix in (".csv", ".pdf", ".xlsx"))


def expected_for(path: Path) -> dict[str, Any]:
    target = path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json")
    document: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return document


def row_json(row: MeisaiRow) -> dict[str, Any]:
    data = dataclasses.asdict(row)
    for key in ("entry_at", "exit_at"):
        data[key] = data[key].isoformat() if data[key] else None
    data["flags"] = list(data["flags"])
    return data


def test_every_input_has_its_expected_output() -> None:
    assert len(INPUTS) >= 12
    for path in INPUTS:
        assert expected_for(path)["file"] == path.name


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_parser_output_matches_golden(path: Path) -> None:
    expected = expected_for(path)
    data = path.read_bytes()
    if "problem" in expected:
        with pytest.raises(NotMeisaiError) as info:
            read_meisai_bytes(data, path.name)
        assert str(info.value) == expected["problem"]
        return
    rows, errors = read_meisai_bytes(data, path.name)
    assert [row_json(r) for r in rows] == expected["rows"]
    assert errors == [LineError(e["line"], e["message"]) for e in expected["errors"]]


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_import_and_trips_match_golden(path: Path, store: Store) -> None:
    check_import_matches_golden(path, store)


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_import_two_rows_at_a_time_matches_golden(
    path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite merges a file a chunk at a time while a second thread reads the next
    (etcbook.models.imports.CHUNK_ROWS): in chunks of two rows, with repeats, re-downloads,
    passages and bad rows falling in later chunks, every golden file still gives its expected
    counts, trips, passages and history, ids included."""
    from etcbook.models import imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    check_import_matches_golden(path, store)


def check_import_matches_golden(path: Path, store: Store) -> None:
    expected = expected_for(path)
    for before in expected.get("imported_before", []):
        assert import_files(store, [MEISAI / before]).ok
    result = import_files(store, [path]).to_json()
    if "problem" in expected:
        assert result["files"] == [
            {
                "file": str(path),
                "rows": 0,
                "inserted": 0,
                "updated": 0,
                "duplicates": 0,
                "passages": 0,
                "unknown_gates": [],
                "errors": [{"line": None, "message": expected["problem"]}],
            }
        ]
        assert result["committed"] is False
        return
    for file in result["files"]:
        assert file["file"] == str(path)
        file["file"] = path.name
    assert result == expected["import"]
    with store.engine.connect() as connection:
        trips = [
            trip_json(r) for r in list_trip_rows(connection=connection, trip_filter=TripFilter())
        ]
        passages = [
            passage_json(r)
            for r in list_passage_rows(connection=connection, trip_filter=TripFilter())
        ]
        history = [
            {"trip_id": trip_id, "old_values": json.loads(old)}
            for trip_id, old in connection.execute(
                text("SELECT trip_id, old_values FROM trip_history ORDER BY id")
            )
        ]
    assert trips == expected["trips"]
    assert passages == expected["passages"]
    assert history == expected["history"]


@pytest.mark.parametrize("copy", ["15col_utf8.csv", "15col_utf8_bom.csv", "15col_spreadsheet.csv"])
def test_resaved_copies_read_as_the_cp932_original(copy: str) -> None:
    original, _ = read_meisai_bytes((MEISAI / "15col.csv").read_bytes())
    rows, errors = read_meisai_bytes((MEISAI / copy).read_bytes())
    assert errors == []
    differ = {"vehicle_number"} if copy == "15col_spreadsheet.csv" else set()  # 0815 -> 815
    for a, b in zip(original, rows, strict=True):
        for field in dataclasses.fields(MeisaiRow):
            if field.name not in differ:
                assert getattr(a, field.name) == getattr(b, field.name), field.name


def test_reordered_columns_read_as_the_original() -> None:
    original, _ = read_meisai_bytes((MEISAI / "13col.csv").read_bytes())
    rows, errors = read_meisai_bytes((MEISAI / "13col_reordered.csv").read_bytes())
    assert errors == []
    assert rows == original


def test_golden_inputs_are_in_the_real_format() -> None:
    """The cp932 goldens are what the site sends: cp932, CRLF only, no quoting, no BOM."""
    for name in ("15col.csv", "15col_later.csv", "13col.csv", "bad_rows.csv"):
        data = (MEISAI / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert data.count(b"\n") == data.count(b"\r\n") and data.endswith(b"\r\n")
        assert b'"' not in data
    text_15 = (MEISAI / "15col.csv").read_bytes().decode("cp932")
    for needed in (
        "①",
        "髙",
        "－",
        "確定;（朝夕）",
        "確認中;深夜割引",
        "*******123456789",
        "********12345678",
        "4980123456780042",
        ",,",
        "-1050",
    ):
        assert needed in text_15, needed
    with pytest.raises(UnicodeDecodeError):
        (MEISAI / "15col.csv").read_bytes().decode("shift_jis")
