"""Which operator a trip belongs to: route rules, default gate rules, gates no rule knows.

The 明細CSV names no operator; etcbook infers it from the gate names:

1. the user's route rules (``route_rules``: entry/exit GLOB patterns, the latest matching rule
   wins), matched against the entry IC and the gate where the trip was charged (its exit IC; its
   entry IC for a charge at an entry gate);
2. the default gate rules shipped in ``etcbook/resources/gates.toml`` (:func:`load_gate_rules`),
   for the charged gate, then for the entry gate (a user rule without an entry pattern names a
   gate too, and is tried first).

No rule: the trip keeps the default operator (``nexco``) with ``operator_source = 'default'``,
and shows the flag ``operator_guess``. Rules resolve once per distinct route (a few thousand at
most), never per row.

Functions for the window and the CLI (all keyword-only, in the caller's transaction unless
said otherwise): :func:`unknown_gates`, :func:`add_gate_rule`, :func:`reapply_route_rules`.
"""

from __future__ import annotations

import functools
import sqlite3
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

GATE_RULES_FILE_NAME = "gates.toml"

DEFAULT_OPERATOR = "nexco"

_DECORATIONS = (
    "（上り）",
    "（下り）",
    "（本線）",
    "（入）",
    "（出）",
    "(上り)",
    "(下り)",
    "(本線)",
)


class GateRulesError(ValueError):
    """The default gate rules file breaks its schema (the message names the group and field)."""


@dataclass(frozen=True)
class GateGroup:
    """One group of gates.toml: the gates of one operator, with where the names come from."""

    operator: str
    label: str
    sources: tuple[str, ...]
    names: tuple[str, ...]
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateRules:
    """Default gate rules (gates.toml), checked: exact names, then GLOB patterns."""

    groups: tuple[GateGroup, ...]
    exact: dict[str, str] = field(default_factory=dict)
    patterns: tuple[tuple[str, str], ...] = ()

    def operator_of(self, gate: str) -> str | None:
        """The operator of ``gate`` by the defaults: exact name as shown, exact name without
        decorations, then patterns; None when no default knows it."""
        if not gate:
            return None
        bare = bare_gate(gate)
        found = self.exact.get(gate) or self.exact.get(bare)
        if found:
            return found
        for pattern, operator in self.patterns:
            if fnmatchcase(gate, pattern) or fnmatchcase(bare, pattern):
                return operator
        return None


def bare_gate(gate: str) -> str:
    """A gate name without the decorations the 明細 adds: （上り）（下り）（本線）（入）（出),
    a trailing 入 or 出 (entrance, exit), a trailing 本線 (mainline gate).

    >>> bare_gate("池田（本線）入"), bare_gate("（上り）須磨"), bare_gate("門真本線")
    ('池田', '須磨', '門真')
    """
    name = gate.strip()
    for decoration in _DECORATIONS:
        name = name.replace(decoration, "")
    if len(name) > 2 and name[-1] in "入出":
        name = name[:-1]
    if len(name) > 3 and name.endswith("本線"):
        name = name[:-2]
    return name.strip() or gate.strip()


def parse_gate_rules(document: dict[str, Any], operator_keys: Iterable[str]) -> GateRules:
    """Check a parsed gates.toml and build its lookup; raises GateRulesError."""
    keys = set(operator_keys)
    if set(document) - {"groups"}:
        raise GateRulesError(f"unknown top-level keys: {sorted(set(document) - {'groups'})}")
    groups_raw = document.get("groups")
    if not isinstance(groups_raw, list) or not groups_raw:
        raise GateRulesError("[[groups]] is missing")
    groups: list[GateGroup] = []
    exact: dict[str, str] = {}
    patterns: list[tuple[str, str]] = []
    for number, raw in enumerate(groups_raw, start=1):
        where = f"groups[{number}]"
        if not isinstance(raw, dict):
            raise GateRulesError(f"{where}: not a table")
        unknown = set(raw) - {"operator", "label", "sources", "names", "patterns"}
        if unknown:
            raise GateRulesError(f"{where}: unknown fields {sorted(unknown)}")
        operator = raw.get("operator")
        if operator not in keys:
            raise GateRulesError(f"{where}.operator: {operator!r} is not an operator key")
        label = raw.get("label", "")
        sources = raw.get("sources")
        if (
            not isinstance(sources, list)
            or not sources
            or not all(isinstance(s, str) and s.strip() for s in sources)
        ):
            raise GateRulesError(f"{where}.sources: a list of where the names come from")
        names = raw.get("names", [])
        group_patterns = raw.get("patterns", [])
        for name_field, values in (("names", names), ("patterns", group_patterns)):
            if not isinstance(values, list) or not all(
                isinstance(v, str) and v.strip() == v and v for v in values
            ):
                raise GateRulesError(f"{where}.{name_field}: a list of non-empty names")
        if not names and not group_patterns:
            raise GateRulesError(f"{where}: no names and no patterns")
        for name in names:
            if name in exact:
                raise GateRulesError(
                    f"{where}.names: {name!r} is listed twice ({exact[name]} and {operator})"
                )
            exact[name] = operator
        patterns.extend((p, operator) for p in group_patterns)
        groups.append(
            GateGroup(operator, str(label), tuple(sources), tuple(names), tuple(group_patterns))
        )
    return GateRules(tuple(groups), exact, tuple(patterns))


def default_gate_rules_path() -> Path:
    from etcbook.paths import RESOURCES

    return RESOURCES / GATE_RULES_FILE_NAME


def load_gate_rules(path: Path | None = None) -> GateRules:
    """Read and check gates.toml (default: the one shipped in ``etcbook/resources``)."""
    from etcbook.domain.points import OPERATOR_KEYS

    path = default_gate_rules_path() if path is None else path
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise GateRulesError(f"{path}: gate rules file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise GateRulesError(f"{path}: not valid TOML: {error}") from None
    try:
        return parse_gate_rules(document, OPERATOR_KEYS)
    except GateRulesError as error:
        raise GateRulesError(f"{path}: {error}") from None


@functools.cache
def default_gate_rules() -> GateRules:
    """The shipped gate rules, read once per process."""
    return load_gate_rules()


# --- resolving routes -------------------------------------------------------------------------


@dataclass(frozen=True)
class _UserRule:
    entry_pattern: str | None
    exit_pattern: str
    operator: str | None
    morning_evening: bool | None


def _glob(name: str, pattern: str) -> bool:
    """SQLite GLOB semantics (case-sensitive ``*``, ``?``, ``[...]``, ``[^...]``)."""
    return fnmatchcase(name, pattern.replace("[^", "[!"))


def _user_rules(db: sqlite3.Connection) -> list[_UserRule]:
    return [
        _UserRule(entry, exit_, operator, None if me is None else bool(me))
        for entry, exit_, operator, me in db.execute(
            "SELECT entry_pattern, exit_pattern, operator, morning_evening FROM route_rules"
            " ORDER BY id DESC"
        )
    ]


class RouteResolver:
    """Resolves routes (entry IC, exit IC; '' for blank) to (operator or None, 朝夕割 or None)."""

    def __init__(self, user_rules: Sequence[_UserRule], defaults: GateRules) -> None:
        self.user_rules = user_rules
        self.defaults = defaults
        self._gates: dict[str, str | None] = {}

    def gate_operator(self, gate: str) -> str | None:
        """The operator of one gate: a user rule without an entry pattern, else the defaults."""
        if not gate:
            return None
        if gate not in self._gates:
            found = next(
                (
                    r.operator
                    for r in self.user_rules
                    if r.operator is not None
                    and r.entry_pattern is None
                    and _glob(gate, r.exit_pattern)
                ),
                None,
            )
            self._gates[gate] = found or self.defaults.operator_of(gate)
        return self._gates[gate]

    def resolve(self, entry_ic: str, exit_ic: str) -> tuple[str | None, bool | None]:
        """A charge at an entry gate (no exit) looks to the rules like a charge at a single
        mainline gate: its gate is the charged gate and it has no entry."""
        charged = exit_ic or entry_ic
        if not exit_ic:
            entry_ic = ""
        operator: str | None = None
        morning_evening: bool | None = None
        for rule in self.user_rules:
            if (rule.operator is None or operator is not None) and (
                rule.morning_evening is None or morning_evening is not None
            ):
                continue
            if not _glob(charged, rule.exit_pattern):
                continue
            if rule.entry_pattern is not None and not _glob(entry_ic, rule.entry_pattern):
                continue
            if operator is None and rule.operator is not None:
                operator = rule.operator
            if morning_evening is None and rule.morning_evening is not None:
                morning_evening = rule.morning_evening
            if operator is not None and morning_evening is not None:
                break
        if operator is None:
            operator = self.gate_operator(charged)
        if operator is None and exit_ic and entry_ic:
            operator = self.gate_operator(entry_ic)
        return operator, morning_evening


def resolver_for(db: sqlite3.Connection) -> RouteResolver:
    return RouteResolver(_user_rules(db), default_gate_rules())


def resolve_routes(db: sqlite3.Connection, distinct_routes_sql: str) -> None:
    """Fill ``temp.routes`` (entry_ic, exit_ic, operator, morning_evening; '' for a blank IC)
    for the distinct (entry_ic, exit_ic) pairs the query yields; operator NULL: no rule."""
    db.execute("DROP TABLE IF EXISTS temp.routes")
    db.execute(
        "CREATE TEMP TABLE routes (entry_ic, exit_ic, operator, morning_evening,"
        " PRIMARY KEY (entry_ic, exit_ic)) WITHOUT ROWID"
    )
    resolver = resolver_for(db)
    db.executemany(
        "INSERT OR IGNORE INTO temp.routes VALUES (?, ?, ?, ?)",
        [
            (entry, exit_, *resolver.resolve(entry, exit_))
            for entry, exit_ in db.execute(distinct_routes_sql).fetchall()
        ],
    )
