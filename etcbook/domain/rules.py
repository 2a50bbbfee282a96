"""ETCマイレージ rules as data: operators (道路事業者), pools, earning, bonus tiers, exchange grids.

The rules live in ``etcbook/resources/operators.toml`` (see the comments at its top). :func:`parse_rules`
checks a parsed document and returns :class:`Rules`; :func:`load_rules` reads the file first.
Every mistake is reported as a :class:`RulesError` naming the key and the field.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from etcbook.domain.points import OPERATOR_KEYS, ExchangeUnit

RULES_FILE_NAME = "operators.toml"  # etcbook.paths.RULES_FILE


class RulesError(ValueError):
    """The rules file is wrong; the message names the key and the field."""


@dataclass(frozen=True, slots=True)
class EarningRate:
    """基本ポイント: every full ``yen_per_unit`` yen billed earns ``points_per_unit`` points.

    Attributes:
        yen_per_unit: yen per earning unit (10 for NEXCO, 100 for 名古屋, 50 for 神戸).
        points_per_unit: points per full unit.
    """

    yen_per_unit: int
    points_per_unit: int


@dataclass(frozen=True, slots=True)
class BonusTier:
    """One bracket of a monthly bonus: the part of the monthly total above ``above`` yen
    (up to the next tier's ``above``) earns ``points_per_unit`` per full unit.

    Attributes:
        above: lower bound of the bracket, yen.
        points_per_unit: points per full unit of the bonus rule inside this bracket.
    """

    above: int
    points_per_unit: int


@dataclass(frozen=True, slots=True)
class BonusRule:
    """加算ポイント: monthly bonus on a bonus group's billed total, read like tax brackets.

    Attributes:
        yen_per_unit: the unit the tier rates are given per (100円, or 50円 for 神戸).
        tiers: brackets in increasing order; the first starts at 0.
    """

    yen_per_unit: int
    tiers: tuple[BonusTier, ...]


@dataclass(frozen=True, slots=True)
class Period:
    """A period during which an operator takes part in the programme, with its terms.

    Attributes:
        start: first day (inclusive), None for "since always".
        end: last day (inclusive), None for "until further notice".
        earns_points: trips in the period earn points.
        rebate_usable: 還元額 is applied to trips in the period.
    """

    start: dt.date | None
    end: dt.date | None
    earns_points: bool
    rebate_usable: bool

    def covers(self, day: dt.date) -> bool:
        """Whether ``day`` falls in the period."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class OperatorRule:
    """The rules of one operator key (道路事業者).

    Attributes:
        key: operator key (``nexco``, ``nagoya``, ...).
        name: Japanese name.
        pool: pool its points go to; None when it never earns points.
        earning: base earning rate; None when it never earns points.
        bonus: monthly bonus rule, or None.
        bonus_group: key of the monthly total the bonus is computed on (the pool by default).
        morning_evening: 平日朝夕割引 may apply to its trips.
        periods: when it takes part, with the terms of each period; never empty.
    """

    key: str
    name: str
    pool: str | None
    earning: EarningRate | None
    bonus: BonusRule | None
    bonus_group: str | None
    morning_evening: bool
    periods: tuple[Period, ...]

    def terms_on(self, day: dt.date) -> Period | None:
        """The period covering ``day``, or None when the operator is out of the programme then."""
        for period in self.periods:
            if period.covers(day):
                return period
        return None

    def earns_points_on(self, day: dt.date) -> bool:
        """Whether a trip exiting on ``day`` earns points."""
        terms = self.terms_on(day)
        return terms is not None and terms.earns_points

    def rebate_usable_on(self, day: dt.date) -> bool:
        """Whether rebate is applied to a trip exiting on ``day``."""
        terms = self.terms_on(day)
        return terms is not None and terms.rebate_usable


@dataclass(frozen=True, slots=True)
class PoolRule:
    """A points pool (ポイントの事業者グループ) and its exchange grids.

    Attributes:
        key: pool key (``nexco``, ``honshi``, ``fukuoka``, ...).
        name: Japanese name.
        manual_units: the exchange grid for manual exchanges (交換単位), by increasing points.
        auto_unit: the unit of ポイント自動還元.
    """

    key: str
    name: str
    manual_units: tuple[ExchangeUnit, ...]
    auto_unit: ExchangeUnit


@dataclass(frozen=True, slots=True)
class Rules:
    """All the rules: operators by key, pools by key.

    Attributes:
        operators: every key of :data:`OPERATOR_KEYS`, with its rule.
        pools: every pool an operator earns into.
    """

    operators: Mapping[str, OperatorRule]
    pools: Mapping[str, PoolRule]

    def operator(self, key: str) -> OperatorRule:
        """The rule of operator ``key``; KeyError naming the known keys otherwise."""
        try:
            return self.operators[key]
        except KeyError:
            raise KeyError(
                f"unknown operator {key!r} (known: {', '.join(self.operators)})"
            ) from None

    def pool(self, key: str) -> PoolRule:
        """The pool ``key``; an operator key also names its pool (``miyagi`` → ``nexco``)."""
        if key in self.pools:
            return self.pools[key]
        operator = self.operators.get(key)
        if operator is not None and operator.pool is not None:
            return self.pools[operator.pool]
        raise KeyError(f"unknown pool {key!r} (known: {', '.join(self.pools)})")

    def pools_of_operators(self) -> dict[str, tuple[str, ...]]:
        """Pool key → the operator keys earning into it."""
        found: dict[str, list[str]] = {key: [] for key in self.pools}
        for operator in self.operators.values():
            if operator.pool is not None:
                found[operator.pool].append(operator.key)
        return {key: tuple(keys) for key, keys in found.items()}


def default_rules_path() -> Path:
    """``operators.toml`` in the resources folder."""
    from etcbook.paths import RULES_FILE

    return RULES_FILE


def load_rules(path: Path | None = None) -> Rules:
    """Read and check the rules file (default: ``etcbook/resources/operators.toml``).

    Raises:
        RulesError: the file is missing, is not TOML, or breaks the schema (the message names
            the key and the field).
    """
    path = default_rules_path() if path is None else path
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise RulesError(f"{path}: rules file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{path}: not valid TOML: {error}") from None
    try:
        return parse_rules(document)
    except RulesError as error:
        raise RulesError(f"{path}: {error}") from None


# --- checking --------------------------------------------------------------------------------

_TOP_KEYS = frozenset({"pools", "operators"})
_POOL_KEYS = frozenset({"name", "manual_units", "auto_unit"})
_OPERATOR_KEYS_ALLOWED = frozenset(
    {
        "name",
        "pool",
        "earns_points",
        "rebate_usable",
        "morning_evening",
        "earning",
        "bonus",
        "bonus_group",
        "periods",
    }
)
_PERIOD_KEYS = frozenset({"from", "until", "earns_points", "rebate_usable"})


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RulesError(f"{where}: expected a table, got {_shown(value)}")
    return value


def _no_unknown(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RulesError(
            f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _required(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise RulesError(f"{where}.{key}: missing")
    return table[key]


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{where}: expected a non-empty string, got {_shown(value)}")
    return value


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise RulesError(f"{where}: expected true or false, got {_shown(value)}")
    return value


def _integer(value: Any, where: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RulesError(f"{where}: expected an integer, got {_shown(value)}")
    if value < minimum:
        raise RulesError(f"{where}: must be at least {minimum}, got {value}")
    return value


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise RulesError(
            f"{where}: expected a date like 2021-04-30 (no quotes), got {_shown(value)}"
        )
    return value


def _unit(value: Any, where: str) -> ExchangeUnit:
    table = _table(value, where)
    _no_unknown(table, frozenset({"points", "yen"}), where)
    return ExchangeUnit(
        points=_integer(_required(table, "points", where), f"{where}.points", minimum=1),
        yen=_integer(_required(table, "yen", where), f"{where}.yen", minimum=1),
    )


def _pool(key: str, value: Any) -> PoolRule:
    where = f"pools.{key}"
    table = _table(value, where)
    _no_unknown(table, _POOL_KEYS, where)
    raw_units = _required(table, "manual_units", where)
    if not isinstance(raw_units, list) or not raw_units:
        raise RulesError(f"{where}.manual_units: expected a non-empty list of {{ points, yen }}")
    units = tuple(_unit(raw, f"{where}.manual_units[{i}]") for i, raw in enumerate(raw_units))
    if len({unit.points for unit in units}) != len(units):
        raise RulesError(f"{where}.manual_units: two units have the same points")
    return PoolRule(
        key=key,
        name=_string(_required(table, "name", where), f"{where}.name"),
        manual_units=tuple(sorted(units, key=lambda unit: unit.points)),
        auto_unit=_unit(_required(table, "auto_unit", where), f"{where}.auto_unit"),
    )


def _earning(value: Any, where: str) -> EarningRate:
    table = _table(value, where)
    _no_unknown(table, frozenset({"yen", "points"}), where)
    return EarningRate(
        yen_per_unit=_integer(_required(table, "yen", where), f"{where}.yen", minimum=1),
        points_per_unit=_integer(_required(table, "points", where), f"{where}.points", minimum=1),
    )


def _bonus(value: Any, where: str) -> BonusRule:
    table = _table(value, where)
    _no_unknown(table, frozenset({"per_yen", "tiers"}), where)
    per_yen = _integer(_required(table, "per_yen", where), f"{where}.per_yen", minimum=1)
    raw_tiers = _required(table, "tiers", where)
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise RulesError(f"{where}.tiers: expected a non-empty list of {{ above, points }}")
    tiers: list[BonusTier] = []
    for i, raw in enumerate(raw_tiers):
        tier_where = f"{where}.tiers[{i}]"
        tier = _table(raw, tier_where)
        _no_unknown(tier, frozenset({"above", "points"}), tier_where)
        above = _integer(_required(tier, "above", tier_where), f"{tier_where}.above", minimum=0)
        points = _integer(_required(tier, "points", tier_where), f"{tier_where}.points", minimum=0)
        if i == 0 and above != 0:
            raise RulesError(f"{tier_where}.above: the first tier must start at 0, got {above}")
        if tiers and above <= tiers[-1].above:
            raise RulesError(
                f"{tier_where}.above: tiers must increase, got {above} after {tiers[-1].above}"
            )
        tiers.append(BonusTier(above=above, points_per_unit=points))
    return BonusRule(yen_per_unit=per_yen, tiers=tuple(tiers))


def _periods(
    value: Any, where: str, *, earns_points: bool, rebate_usable: bool
) -> tuple[Period, ...]:
    if value is None:
        return (Period(None, None, earns_points, rebate_usable),)
    if not isinstance(value, list) or not value:
        raise RulesError(f"{where}: expected a non-empty list of {{ from, until }}")
    periods: list[Period] = []
    for i, raw in enumerate(value):
        period_where = f"{where}[{i}]"
        table = _table(raw, period_where)
        _no_unknown(table, _PERIOD_KEYS, period_where)
        start = _date(table["from"], f"{period_where}.from") if "from" in table else None
        end = _date(table["until"], f"{period_where}.until") if "until" in table else None
        if start is not None and end is not None and end < start:
            raise RulesError(f"{period_where}.until: {end} is before from {start}")
        if periods:
            previous_end = periods[-1].end
            if previous_end is None or start is None or start <= previous_end:
                raise RulesError(
                    f"{period_where}.from: periods must be in order and must not overlap"
                )
        periods.append(
            Period(
                start=start,
                end=end,
                earns_points=_boolean(
                    table.get("earns_points", earns_points), f"{period_where}.earns_points"
                ),
                rebate_usable=_boolean(
                    table.get("rebate_usable", rebate_usable), f"{period_where}.rebate_usable"
                ),
            )
        )
    return tuple(periods)


def _operator(key: str, value: Any, pools: Mapping[str, PoolRule]) -> OperatorRule:
    where = f"operators.{key}"
    table = _table(value, where)
    _no_unknown(table, _OPERATOR_KEYS_ALLOWED, where)
    earns_points = _boolean(_required(table, "earns_points", where), f"{where}.earns_points")
    rebate_usable = _boolean(_required(table, "rebate_usable", where), f"{where}.rebate_usable")
    periods = _periods(
        table.get("periods"),
        f"{where}.periods",
        earns_points=earns_points,
        rebate_usable=rebate_usable,
    )
    ever_earns = any(period.earns_points for period in periods)
    pool: str | None = None
    if "pool" in table:
        pool = _string(table["pool"], f"{where}.pool")
        if pool not in pools:
            raise RulesError(
                f"{where}.pool: unknown pool {pool!r} (known: {', '.join(sorted(pools))})"
            )
    elif ever_earns:
        raise RulesError(f"{where}.pool: missing (the operator earns points)")
    earning: EarningRate | None = None
    if "earning" in table:
        earning = _earning(table["earning"], f"{where}.earning")
    elif ever_earns:
        raise RulesError(f"{where}.earning: missing (the operator earns points)")
    bonus = _bonus(table["bonus"], f"{where}.bonus") if "bonus" in table else None
    bonus_group = pool
    if "bonus_group" in table:
        bonus_group = _string(table["bonus_group"], f"{where}.bonus_group")
    return OperatorRule(
        key=key,
        name=_string(_required(table, "name", where), f"{where}.name"),
        pool=pool,
        earning=earning,
        bonus=bonus,
        bonus_group=bonus_group,
        morning_evening=_boolean(table.get("morning_evening", False), f"{where}.morning_evening"),
        periods=periods,
    )


def parse_rules(document: Mapping[str, Any]) -> Rules:
    """Check a parsed rules document and build :class:`Rules`.

    Raises:
        RulesError: naming the key and the field that is wrong.
    """
    _no_unknown(document, _TOP_KEYS, "rules")
    raw_pools = _table(_required(document, "pools", "rules"), "pools")
    raw_operators = _table(_required(document, "operators", "rules"), "operators")
    pools = {key: _pool(key, value) for key, value in raw_pools.items()}
    for key in raw_operators:
        if key not in OPERATOR_KEYS:
            raise RulesError(
                f"operators.{key}: unknown operator key (known: {', '.join(OPERATOR_KEYS)})"
            )
    missing = [key for key in OPERATOR_KEYS if key not in raw_operators]
    if missing:
        raise RulesError(f"operators.{missing[0]}: missing (every operator key needs a rule)")
    operators = {key: _operator(key, raw_operators[key], pools) for key in OPERATOR_KEYS}
    groups: dict[str, OperatorRule] = {}
    for operator in operators.values():
        if operator.bonus_group is None or operator.pool is None:
            continue
        first = groups.setdefault(operator.bonus_group, operator)
        if first.pool != operator.pool:
            raise RulesError(
                f"operators.{operator.key}.bonus_group: {operator.bonus_group!r} is used by "
                f"pool {first.pool!r} too; a bonus group belongs to one pool"
            )
        if first.bonus != operator.bonus:
            raise RulesError(
                f"operators.{operator.key}.bonus: differs from operators.{first.key}.bonus, "
                f"which shares the bonus group {operator.bonus_group!r}"
            )
    return Rules(operators=MappingProxyType(operators), pools=MappingProxyType(pools))
