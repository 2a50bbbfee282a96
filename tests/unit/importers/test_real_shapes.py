"""The shapes real 明細CSV downloads carry (docs/MEISAI_FORMAT.md), one test per shape.

Golden inputs are in tests/data/meisai (written by regenerate.py there); the format-true samples
shared with the project are in tests/data/meisai/samples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from meisai_helpers import meisai, row13, row15
from sqlalchemy import text

from etcbook.importers.meisai import PASSAGE_DASHES, read_meisai_bytes
from etcbook.models.imports import import_files
from etcbook.models.store import Store

pytestmark = pytest.mark.both_backends

MEISAI = Path(__file__).resolve().parents[2] / "data" / "meisai"
SAMPLES = sorted((MEISAI / "samples").glob("*.csv"))
SHAPES = [
    "13col_passages.csv",
    "15col_passages.csv",
    "13col_entry_gate.csv",
    "13col_mixed_operators.csv",
    "13col_many_cards.csv",
    *(f"samples/{p.name}" for p in SAMPLES),
]


def numeric_tolls(path: Path) -> tuple[int, int]:
    """(sum of the numeric 通行料金 cells, rows) of a file, read without etcbook."""
    lines = path.read_bytes().decode("cp932").splitlines()
    header = lines[0].split(",")
    column = header.index("通行料金")
    cells = [line.split(",")[column] for line in lines[1:] if line.strip()]
    return sum(int(c) for c in cells if re.fullmatch(r"-?[0-9]+", c)), len(cells)


def stored(store: Store, query: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(query))]


@pytest.mark.parametrize("name", SHAPES)
def test_real_shape_imports_whole_adds_up_keeps_every_row_and_reimports_as_duplicates(
    store: Store, name: str
) -> None:
    path = MEISAI / name
    total, rows = numeric_tolls(path)
    first = import_files(store, [path])
    assert first.ok and first.committed, first.to_json()
    assert first.inserted == rows
    [(toll_sum, trips)] = stored(store, "SELECT coalesce(sum(toll), 0), count(*) FROM trips")
    [(passages,)] = stored(store, "SELECT count(*) FROM passages")
    assert toll_sum == total
    assert trips + passages == rows
    again = import_files(store, [path])
    assert (again.inserted, again.updated, again.duplicates) == (0, 0, rows)


def test_samples_are_all_here() -> None:
    assert len(SAMPLES) >= 4


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_imports_through_the_cli(cli: Any, sample: Path) -> None:
    done = cli("import", str(sample), "--json")
    assert done.returncode == 0, done.stderr
    assert done.json()["committed"] is True


def test_passage_rows_13col_are_linked_to_their_journey(store: Store) -> None:
    assert import_files(store, [MEISAI / "13col_passages.csv"]).ok
    links = stored(
        store,
        "SELECT p.exit_ic, t.entry_ic, t.exit_ic FROM passages p"
        " LEFT JOIN trips t ON t.id = p.trip_id ORDER BY p.id",
    )
    assert links == [
        # inside the through-charged trip's span
        ("（上り）湾岸線本線", "西宮", "（上り）湾岸線本線"),
        # sharing its entry gate and time
        ("南港中出", "池田（本線）入", "玉出"),
        # no trip of the card around it: not linked (twice: a genuinely repeated row)
        ("名古屋本線（出）", None, None),
        ("名古屋本線（出）", None, None),
    ]


def test_passage_rows_15col_turn_confirmed_on_a_later_download(store: Store) -> None:
    assert import_files(store, [MEISAI / "15col_passages.csv"]).ok
    later = import_files(store, [MEISAI / "15col_passages_later.csv"])
    assert (later.inserted, later.updated, later.duplicates) == (0, 3, 2)
    assert {s for (s,) in stored(store, "SELECT status FROM passages")} == {"確定"}
    assert stored(store, "SELECT count(*) FROM trip_history") == [(1,)]  # the trip's old values


def test_charge_at_an_entry_gate_is_dated_by_its_entry_and_has_no_exit(
    store: Store, cli: Any
) -> None:
    assert import_files(store, [MEISAI / "13col_entry_gate.csv"]).ok
    rows = stored(
        store,
        "SELECT entry_at, exit_at, dated_at, entry_ic, exit_ic, seq FROM trips"
        " WHERE exit_at IS NULL ORDER BY dated_at, seq",
    )
    assert rows == [
        ("2025-09-09T20:12:00", None, "2025-09-09T20:12:00", "玉出", None, 0),
        ("2025-09-10T07:30:00", None, "2025-09-10T07:30:00", "首都横浜青葉", None, 0),
        ("2025-09-10T07:30:00", None, "2025-09-10T07:30:00", "首都横浜青葉", None, 1),
        ("2025-09-30T23:58:00", None, "2025-09-30T23:58:00", "南港中", None, 0),
    ]


def test_charge_at_an_entry_gate_belongs_to_the_month_of_its_entry(cli: Any) -> None:
    assert cli("import", str(MEISAI / "13col_entry_gate.csv")).returncode == 0
    september = cli("trips", "--month", "2025-09", "--json").json()["trips"]
    assert len(september) == 6
    late = [t for t in september if t["entry_at"] == "2025-09-30T23:58:00"]
    assert late and late[0]["exit_at"] is None and late[0]["exit_ic"] is None
    assert cli("trips", "--month", "2025-10", "--json").json()["trips"] == []


def test_trips_json_shows_passages_with_null_money_and_the_passage_flag(cli: Any) -> None:
    assert cli("import", str(MEISAI / "15col_passages.csv")).returncode == 0
    listed = cli("trips", "--json").json()["trips"]
    passages = [t for t in listed if "passage" in t["flags"]]
    assert len(passages) == 3 and len(listed) == 5
    for passage in passages:
        assert passage["toll"] is None
        assert passage["billed"] is None
        assert passage["rebate_applied"] is None
        assert passage["points"] is None
    charged = [t for t in listed if "passage" not in t["flags"]]
    assert all(isinstance(t["toll"], int) for t in charged)
    journey = {p["journey_id"] for p in passages if p["exit_ic"] != "（上り）須磨"}
    assert journey == {t["id"] for t in charged if t["exit_ic"] == "門真本線"}


def test_gates_decide_the_operator_and_an_unknown_gate_is_flagged(store: Store) -> None:
    preview = import_files(store, [MEISAI / "13col_mixed_operators.csv"], dry_run=True)
    assert preview.files[0].unknown_gates == ["浜松", "静岡"]
    assert import_files(store, [MEISAI / "13col_mixed_operators.csv"]).ok
    operators = stored(
        store, "SELECT entry_ic, operator, operator_source FROM trips ORDER BY dated_at"
    )
    assert operators == [
        ("首都横浜青葉", "shutoko", "rule"),
        ("東新町", "nagoya", "rule"),
        ("天神北", "fukuoka", "rule"),
        ("中山", "hiroshima", "rule"),
        ("鴨川東", "hanshin_kyoto", "rule"),
        ("紫川", "kitakyushu", "rule"),
        ("静岡", "nexco", "default"),  # no rule knows 静岡 → 浜松: a guess
        ("名古屋", "nexco", "rule"),
    ]


def test_many_cards_in_one_file_create_every_card(store: Store) -> None:
    result = import_files(store, [MEISAI / "13col_many_cards.csv"])
    assert len(result.new_cards) == 8
    assert stored(store, "SELECT count(*) FROM cards WHERE status = 'details_missing'") == [(8,)]


def test_dashes_where_they_do_not_belong_are_line_errors(store: Store) -> None:
    expected = json.loads((MEISAI / "bad_dashes.expected.json").read_text(encoding="utf-8"))
    result = import_files(store, [MEISAI / "bad_dashes.csv"])
    assert not result.ok and not result.committed
    assert [e.line for e in result.files[0].errors] == list(range(3, 12))
    assert [e.message for e in result.files[0].errors] == [e["message"] for e in expected["errors"]]
    assert stored(store, "SELECT count(*) FROM trips") == [(0,)]
    assert stored(store, "SELECT count(*) FROM passages") == [(0,)]


def test_dash_errors_name_file_and_line_on_the_cli(cli: Any) -> None:
    done = cli("import", str(MEISAI / "bad_dashes.csv"))
    assert done.returncode == 3
    assert "bad_dashes.csv:3: 割引前料金: 金額「－」は整数の円ではありません" in done.stderr
    assert "bad_dashes.csv:5: 後納料金" in done.stderr


@pytest.mark.parametrize("dash", sorted(PASSAGE_DASHES))
def test_every_spelling_of_the_bare_dash_is_a_passage(dash: str) -> None:
    data = meisai(
        [row13(toll=dash, entry="", entry_ic="", exit_ic="門真本線")],
        header=meisai([]).decode("cp932").split("\r\n")[0].replace(",還元額適用料金,後納料金", ""),
        encoding="utf-8",
    )
    rows, errors = read_meisai_bytes(data)
    assert errors == [] and rows[0].passage and rows[0].toll is None


def test_a_dash_beside_a_number_in_the_same_row_is_an_error() -> None:
    data = meisai([row15(toll="－", rebate="0", deferred="－")])
    rows, errors = read_meisai_bytes(data, "x.csv")
    assert rows == [] and errors[0].line == 2 and "通過の行" in errors[0].message
