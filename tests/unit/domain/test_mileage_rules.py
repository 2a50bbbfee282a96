"""The rules file: the shipped values, and clear errors naming the key and the field."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from etcbook.domain.points import OPERATOR_KEYS, ExchangeUnit
from etcbook.domain.rules import Rules, RulesError, load_rules, parse_rules

RULES_FILE = Path(__file__).resolve().parents[3] / "etcbook" / "resources" / "operators.toml"


def document() -> dict[str, Any]:
    with RULES_FILE.open("rb") as handle:
        return tomllib.load(handle)


def test_every_operator_key_has_a_rule(rules: Rules) -> None:
    assert tuple(rules.operators) == OPERATOR_KEYS


def test_nexco_and_miyagi_share_the_nexco_pool(rules: Rules) -> None:
    assert rules.operator("nexco").pool == "nexco"
    assert rules.operator("miyagi").pool == "nexco"
    assert rules.pool("miyagi").key == "nexco"


def test_fukuoka_and_kitakyushu_share_a_pool_but_not_a_bonus_total(rules: Rules) -> None:
    fukuoka = rules.operator("fukuoka")
    kitakyushu = rules.operator("kitakyushu")
    assert fukuoka.pool == kitakyushu.pool == "fukuoka"
    assert fukuoka.bonus_group != kitakyushu.bonus_group


def test_nexco_grid_and_auto_unit(rules: Rules) -> None:
    nexco = rules.pool("nexco")
    assert nexco.manual_units == (
        ExchangeUnit(1000, 500),
        ExchangeUnit(3000, 2500),
        ExchangeUnit(5000, 5000),
    )
    assert nexco.auto_unit == ExchangeUnit(5000, 5000)


def test_kobe_grid_pays_half_a_yen_per_point(rules: Rules) -> None:
    kobe = rules.pool("kobe")
    assert kobe.manual_units == (ExchangeUnit(200, 100),)
    assert kobe.auto_unit == ExchangeUnit(1000, 500)


@pytest.mark.parametrize(
    ("key", "yen", "points"),
    [
        ("nexco", 10, 1),
        ("honshi", 10, 1),
        ("hanshin_kyoto", 100, 3),
        ("nagoya", 100, 1),
        ("aichi", 100, 1),
        ("kobe", 50, 3),
        ("hiroshima", 100, 1),
        ("fukuoka", 100, 1),
    ],
)
def test_earning_rates_as_in_the_domain_table(
    rules: Rules, key: str, yen: int, points: int
) -> None:
    earning = rules.operator(key).earning
    assert earning is not None
    assert (earning.yen_per_unit, earning.points_per_unit) == (yen, points)


@pytest.mark.parametrize("key", ["shutoko", "other"])
def test_shutoko_and_other_take_neither_points_nor_rebate(rules: Rules, key: str) -> None:
    operator = rules.operator(key)
    assert not operator.earns_points_on(dt.date(2025, 6, 1))
    assert not operator.rebate_usable_on(dt.date(2025, 6, 1))


@pytest.mark.parametrize("key", ["other_rebate", "hanshin"])
def test_other_rebate_and_hanshin_take_rebate_but_earn_nothing(rules: Rules, key: str) -> None:
    operator = rules.operator(key)
    assert not operator.earns_points_on(dt.date(2025, 6, 1))
    assert operator.rebate_usable_on(dt.date(2025, 6, 1))


def test_nagoya_earns_until_its_reported_exit(rules: Rules) -> None:
    nagoya = rules.operator("nagoya")
    assert nagoya.earns_points_on(dt.date(2021, 4, 30))
    assert not nagoya.earns_points_on(dt.date(2021, 5, 1))
    assert nagoya.rebate_usable_on(dt.date(2021, 5, 1))


def test_only_nexco_and_miyagi_have_the_morning_evening_discount(rules: Rules) -> None:
    assert {key for key, rule in rules.operators.items() if rule.morning_evening} == {
        "nexco",
        "miyagi",
    }


def test_load_rules_defaults_to_the_resources_file() -> None:
    assert load_rules() == load_rules(RULES_FILE)


def test_missing_file_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="not found"):
        load_rules(tmp_path / "nope.toml")


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "operators.toml"
    path.write_text("[pools\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"operators\.toml: not valid TOML"):
        load_rules(path)


def _error_of(change: Any) -> str:
    doc = document()
    change(doc)
    with pytest.raises(RulesError) as caught:
        parse_rules(doc)
    return str(caught.value)


def test_error_names_operator_and_field_of_a_wrong_type() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["operators"]["nagoya"]["earning"]["yen"] = "100"

    assert _error_of(change) == "operators.nagoya.earning.yen: expected an integer, got str '100'"


def test_error_names_a_missing_operator() -> None:
    def change(doc: dict[str, Any]) -> None:
        del doc["operators"]["kobe"]

    assert _error_of(change).startswith("operators.kobe: missing")


def test_error_names_an_unknown_operator_key() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["operators"]["nexo"] = doc["operators"]["nexco"]

    assert _error_of(change).startswith("operators.nexo: unknown operator key")


def test_error_names_an_unknown_field() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["operators"]["aichi"]["earn_rate"] = 1

    assert _error_of(change).startswith("operators.aichi: unknown field 'earn_rate'")


def test_error_names_an_unknown_pool() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["operators"]["honshi"]["pool"] = "honsi"

    assert _error_of(change).startswith("operators.honshi.pool: unknown pool 'honsi'")


def test_error_names_a_tier_out_of_order() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["operators"]["aichi"]["bonus"]["tiers"][2]["above"] = 4000

    assert _error_of(change).startswith("operators.aichi.bonus.tiers[2].above: tiers must increase")


def test_error_names_an_earning_operator_without_pool() -> None:
    def change(doc: dict[str, Any]) -> None:
        del doc["operators"]["hiroshima"]["pool"]

    assert _error_of(change) == "operators.hiroshima.pool: missing (the operator earns points)"


def test_error_names_a_zero_exchange_unit() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["pools"]["nexco"]["manual_units"][0]["yen"] = 0

    assert _error_of(change) == "pools.nexco.manual_units[0].yen: must be at least 1, got 0"


def test_error_names_overlapping_periods() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["operators"]["nagoya"]["periods"][1]["from"] = dt.date(2021, 4, 1)

    assert _error_of(change).startswith(
        "operators.nagoya.periods[1].from: periods must be in order"
    )


def test_error_names_a_date_given_as_a_string() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["operators"]["kobe"]["periods"][0]["until"] = "2025-03-31"

    assert _error_of(change).startswith("operators.kobe.periods[0].until: expected a date")


def test_error_names_a_boolean_given_as_a_number() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["operators"]["shutoko"]["rebate_usable"] = 0

    assert _error_of(change) == "operators.shutoko.rebate_usable: expected true or false, got int 0"


def test_error_names_a_bonus_group_shared_with_different_tiers() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["operators"]["kitakyushu"]["bonus_group"] = "fukuoka"
        doc["operators"]["kitakyushu"]["bonus"]["tiers"][1]["points"] = 4

    assert _error_of(change).startswith(
        "operators.kitakyushu.bonus: differs from operators.fukuoka"
    )


def test_load_rules_prefixes_errors_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "operators.toml"
    path.write_text(RULES_FILE.read_text(encoding="utf-8").replace("yen = 10,", 'yen = "10",', 1))
    with pytest.raises(RulesError, match=r"operators.toml: operators.nexco.earning.yen"):
        load_rules(path)
