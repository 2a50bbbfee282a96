"""Which operator: default gate rules (resources/gates.toml), the user's gate rules, gates no
rule knows, and re-applying rules to stored trips with the effect on points shown first."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from etcbook.domain.points import OPERATOR_KEYS
from etcbook.domain.rules import load_rules
from etcbook.models.imports import import_files
from etcbook.models.routes import (
    GateRulesError,
    add_gate_rule,
    bare_gate,
    default_gate_rules,
    load_gate_rules,
    parse_gate_rules,
    reapply_route_rules,
    unknown_gates,
)
from etcbook.models.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "importers"))
from meisai_helpers import HEADER_13, meisai, row13

pytestmark = pytest.mark.both_backends

AS_OF = dt.date(2026, 3, 31)


def imported(store: Store, tmp_path: Path, rows: list[str], name: str = "a.csv") -> None:
    path = tmp_path / name
    path.write_bytes(meisai(rows, header=HEADER_13))
    assert import_files(store, [path]).ok


def operators(store: Store) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text(
                    "SELECT coalesce(exit_ic, entry_ic), operator, operator_source FROM trips"
                    " ORDER BY id"
                )
            )
        ]


def test_the_shipped_gate_rules_load_and_name_their_sources() -> None:
    rules = load_gate_rules()
    assert {g.operator for g in rules.groups} >= {
        "shutoko",
        "hanshin",
        "hanshin_kyoto",
        "nagoya",
        "fukuoka",
        "kitakyushu",
        "hiroshima",
        "nexco",
    }
    for group in rules.groups:
        assert group.sources and all(s.startswith("https://") for s in group.sources)
        assert group.operator in OPERATOR_KEYS


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "[[groups]] is missing"),
        ({"groups": [{"operator": "nope", "sources": ["x"], "names": ["a"]}]}, "operator"),
        ({"groups": [{"operator": "nexco", "names": ["a"]}]}, "sources"),
        ({"groups": [{"operator": "nexco", "sources": ["x"], "names": [" a"]}]}, "names"),
        (
            {
                "groups": [
                    {"operator": "nexco", "sources": ["x"], "names": ["a"]},
                    {"operator": "hanshin", "sources": ["x"], "names": ["a"]},
                ]
            },
            "listed twice",
        ),
        (
            {"groups": [{"operator": "nexco", "sources": ["x"], "color": 1, "names": ["a"]}]},
            "color",
        ),
    ],
)
def test_a_broken_gate_rules_file_is_refused_with_the_field_named(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(GateRulesError, match=message.replace("[", r"\[")):
        parse_gate_rules(document, OPERATOR_KEYS)


def test_a_gate_rules_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gates.toml"
    path.write_text("[[groups]\n", encoding="utf-8")
    with pytest.raises(GateRulesError, match="not valid TOML"):
        load_gate_rules(path)


@pytest.mark.parametrize(
    ("gate", "bare"),
    [
        ("池田（本線）入", "池田"),
        ("（上り）須磨", "須磨"),
        ("門真本線", "門真"),
        ("南港中出", "南港中"),
        ("名古屋本線（出）", "名古屋"),
        ("東京", "東京"),
        ("出", "出"),
    ],
)
def test_bare_gate_drops_the_decorations(gate: str, bare: str) -> None:
    assert bare_gate(gate) == bare


def test_hanshin_is_in_the_programme_only_on_the_kyoto_line_and_shutoko_nowhere() -> None:
    rules, gates = load_rules(), default_gate_rules()
    on = dt.date(2025, 9, 1)
    kyoto, rest, shutoko = (
        gates.operator_of("鴨川東"),
        gates.operator_of("玉出"),
        gates.operator_of("首都横浜青葉"),
    )
    assert (kyoto, rest, shutoko) == ("hanshin_kyoto", "hanshin", "shutoko")
    assert kyoto and rest and shutoko
    assert rules.operator(kyoto).earns_points_on(on)
    assert not rules.operator(rest).earns_points_on(on)
    assert rules.operator(rest).rebate_usable_on(on)
    assert not rules.operator(shutoko).earns_points_on(on)
    assert not rules.operator(shutoko).rebate_usable_on(on)


def test_unknown_gates_lists_the_gates_of_guessed_trips(store: Store, tmp_path: Path) -> None:
    imported(
        store,
        tmp_path,
        [
            row13(entry_ic="静岡", exit_ic="浜松", toll="1900"),
            row13(entry_ic="静岡", exit_ic="浜松", toll="1900", exit="24/11/06 10:00"),
            row13(entry_ic="吹田", exit_ic="京都東", toll="1070"),
        ],
    )
    with store.engine.connect() as connection:
        gates = unknown_gates(connection=connection)
    assert [(g.gate, g.trips, g.toll) for g in gates] == [("浜松", 2, 3800), ("静岡", 2, 3800)]


def test_a_gate_rule_applies_to_later_imports_and_reapply_shows_points_first(
    store: Store, tmp_path: Path
) -> None:
    trip = row13(entry="", entry_ic="", exit_ic="謎の本線", toll="5000", exit="25/09/05 10:00")
    imported(store, tmp_path, [trip])
    assert operators(store) == [("謎の本線", "nexco", "default")]
    with store.transaction() as connection:
        add_gate_rule(connection=connection, gate="謎の本線", operator="shutoko")
    with store.transaction() as connection:
        preview = reapply_route_rules(connection=connection, as_of=AS_OF)
    assert not preview.committed and preview.trips == 1
    assert preview.moves == {("nexco", "shutoko"): 1}
    [pool] = preview.pools
    assert (pool.pool, pool.points_before, pool.points_after) == ("nexco", 500, 0)
    assert operators(store) == [("謎の本線", "nexco", "default")]  # a dry run changes nothing
    with store.transaction() as connection:
        applied = reapply_route_rules(connection=connection, as_of=AS_OF, apply=True)
    assert applied.committed and applied.pools == preview.pools
    assert operators(store) == [("謎の本線", "shutoko", "rule")]
    with store.transaction() as connection:
        assert reapply_route_rules(connection=connection, as_of=AS_OF).trips == 0


def test_reapply_leaves_an_operator_set_by_hand(store: Store, tmp_path: Path) -> None:
    from etcbook.models.ui_queries import update_trips

    imported(store, tmp_path, [row13(entry_ic="静岡", exit_ic="浜松")])
    with store.transaction() as connection:
        update_trips(connection=connection, ids=[1], operator="aichi")
        add_gate_rule(connection=connection, gate="浜松", operator="nagoya")
        result = reapply_route_rules(connection=connection, as_of=AS_OF, apply=True)
    assert result.trips == 0
    assert operators(store) == [("浜松", "aichi", "hand")]


def test_add_gate_rule_refuses_an_unknown_operator(store: Store) -> None:
    with store.transaction() as connection, pytest.raises(ValueError, match="使えません"):
        add_gate_rule(connection=connection, gate="玉出", operator="hanshin_osaka")


def test_route_cli_lists_adds_and_reapplies(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(meisai([row13(entry_ic="静岡", exit_ic="浜松")], header=HEADER_13))
    assert cli("import", str(path)).returncode == 0
    gates = cli("route", "unknown", "--json").json()["gates"]
    assert [g["gate"] for g in gates] == ["浜松", "静岡"]
    added = cli("route", "add", "浜松", "nexco", "--json").json()
    assert added["reapply"]["committed"] is False and added["reapply"]["trips"] == 1
    assert cli("route", "reapply", "--apply", "--json").json()["committed"] is True
    assert cli("route", "unknown", "--json").json()["gates"] == []
    trip = cli("trips", "--json").json()["trips"][0]
    assert "operator_guess" not in trip["flags"] and trip["operator_source"] == "rule"
    assert cli("route", "add", "浜松", "nope").returncode == 3
