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

import datetime as dt
import functools
import sqlite3
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

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


def resolve_routes(db: Any, routes: str | Iterable[tuple[str, str]]) -> None:
    """Fill ``temp.routes`` (entry_ic, exit_ic, operator, morning_evening; '' for a blank IC)
    for the (entry_ic, exit_ic) pairs given, or yielded by the SQL query given; operator NULL:
    no rule knows the route. ``db`` is the driver's connection (sqlite3 or psycopg)."""
    if not isinstance(db, sqlite3.Connection):  # PostgreSQL: a temporary table, filled by COPY
        pairs = db.execute(routes).fetchall() if isinstance(routes, str) else list(routes)
        resolver = resolver_for(db)
        db.execute("DROP TABLE IF EXISTS routes")
        db.execute(
            "CREATE TEMP TABLE routes (entry_ic text, exit_ic text, operator text,"
            " morning_evening boolean, PRIMARY KEY (entry_ic, exit_ic)) ON COMMIT DROP"
        )
        with db.cursor() as cursor, cursor.copy("COPY routes FROM STDIN") as copy:
            for entry, exit_ in dict.fromkeys(pairs):
                copy.write_row((entry, exit_, *resolver.resolve(entry, exit_)))
        return
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
            for entry, exit_ in (
                db.execute(routes).fetchall() if isinstance(routes, str) else routes
            )
        ],
    )


# --- store functions for the window and the CLI -----------------------------------------------


def _driver(connection: Connection) -> Any:
    """The driver's connection (sqlite3 or psycopg) under ``connection``."""
    db = connection.connection.driver_connection
    assert db is not None
    return db


@dataclass(frozen=True)
class UnknownGate:
    """A gate no route rule knows, as the trips and passages that stayed a guess show it.

    Attributes:
        gate: the gate name as the 明細 shows it.
        bare: the name without decorations (what a default rule would be matched on).
        trips: charged trips naming the gate (charged there, or entered there).
        passages: passages naming it.
        toll: the sum of those trips' tolls (yen; passages carry none).
        cards: how many cards.
        first: the earliest date-time seen (ISO text), last: the latest.
    """

    gate: str
    bare: str
    trips: int
    passages: int
    toll: int
    cards: int
    first: str
    last: str


def unknown_gates(*, connection: Connection) -> list[UnknownGate]:
    """Gates of the trips and passages whose operator is only a guess (``operator_source =
    'default'``): the gate each was charged at (its exit, or its entry when it has no exit)
    and its entry gate. Most trips first. Read-only."""
    rows = connection.execute(
        text(
            "WITH named (gate, kind, toll, card_id, dated_at) AS ("
            " SELECT coalesce(exit_ic, entry_ic), 't', toll, card_id, dated_at FROM trips"
            "  WHERE operator_source = 'default'"
            " UNION ALL SELECT entry_ic, 't', toll, card_id, dated_at FROM trips"
            "  WHERE operator_source = 'default' AND exit_ic IS NOT NULL AND entry_ic IS NOT NULL"
            " UNION ALL SELECT coalesce(exit_ic, entry_ic), 'p', NULL, card_id, dated_at"
            "  FROM passages WHERE operator_source = 'default'"
            " UNION ALL SELECT entry_ic, 'p', NULL, card_id, dated_at FROM passages"
            "  WHERE operator_source = 'default' AND exit_ic IS NOT NULL AND entry_ic IS NOT NULL)"
            " SELECT gate, count(*) FILTER (WHERE kind = 't'), count(*) FILTER (WHERE kind = 'p'), coalesce(sum(toll), 0),"
            " count(DISTINCT card_id), min(dated_at), max(dated_at) FROM named"
            " WHERE gate IS NOT NULL GROUP BY gate ORDER BY 2 DESC, 3 DESC, 1"
        )
    )
    return [
        UnknownGate(gate, bare_gate(gate), int(t), int(p), int(toll), int(cards), first, last)
        for gate, t, p, toll, cards, first, last in rows
    ]


def glob_literal(name: str) -> str:
    """A GLOB pattern matching exactly ``name`` (its wildcard characters bracketed)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def add_gate_rule(*, connection: Connection, gate: str, operator: str) -> int:
    """Remember that ``gate`` (exactly as the 明細 shows it) belongs to ``operator``: a route
    rule without an entry pattern, which matches trips charged at the gate and, when no rule
    knows their exit, trips entering at it. It applies to imports from now on; stored trips
    change with :func:`reapply_route_rules`. Returns the rule's id. Runs in the caller's
    transaction. Raises ValueError (a Japanese sentence) for an unknown operator key or an
    empty gate."""
    from etcbook import clock
    from etcbook.domain.points import OPERATOR_KEYS

    gate = gate.strip()
    if not gate:
        raise ValueError("料金所名が空です")
    if operator not in OPERATOR_KEYS:
        raise ValueError(f"事業者キー「{operator}」は使えません（{', '.join(OPERATOR_KEYS)}）")
    result = connection.execute(
        text(
            "INSERT INTO route_rules (entry_pattern, exit_pattern, operator, morning_evening,"
            " created_at) VALUES (NULL, :gate, :operator, NULL, :now) RETURNING id"
        ),
        {"gate": glob_literal(gate), "operator": operator, "now": clock.now().isoformat()},
    )
    return int(result.scalar_one())


@dataclass(frozen=True)
class PoolPoints:
    """Points of one card and pool before and after re-applying the rules (at ``as_of``).

    ``points``: granted and held; ``pending``: what trips already made will bring."""

    card: str
    pool: str
    points_before: int
    points_after: int
    pending_before: int
    pending_after: int

    @property
    def changed(self) -> bool:
        return (self.points_before, self.pending_before) != (self.points_after, self.pending_after)


@dataclass
class ReapplyResult:
    """What :func:`reapply_route_rules` changed (or would change, in a dry run).

    Attributes:
        trips: trips whose operator (or its source: guess / rule) changes.
        passages: passages whose operator changes.
        moves: ``(from operator, to operator) -> trips`` moved.
        pools: per card and pool touched, points before and after (cards with a moved trip).
        committed: whether the change was stored.
    """

    trips: int = 0
    passages: int = 0
    moves: dict[tuple[str, str], int] = field(default_factory=dict)
    pools: list[PoolPoints] = field(default_factory=list)
    committed: bool = False


def _reapply_sql(table: str) -> tuple[str, str]:
    """(count of moves, UPDATE) for re-resolving ``table``'s operators through temp.routes."""
    join = (
        f"FROM {table} x JOIN routes ro ON ro.entry_ic = coalesce(x.entry_ic, '')"
        " AND ro.exit_ic = coalesce(x.exit_ic, '')"
    )
    new_operator = "coalesce(ro.operator, 'nexco')"
    new_source = "CASE WHEN ro.operator IS NULL THEN 'default' ELSE 'rule' END"
    differs = (
        f"x.operator_source <> 'hand' AND (x.operator IS DISTINCT FROM {new_operator}"
        f" OR x.operator_source IS DISTINCT FROM {new_source})"
    )
    moves = (
        f"SELECT c.last4, x.operator, {new_operator}, count(*) {join}"
        f" JOIN cards c ON c.id = x.card_id WHERE {differs} GROUP BY 1, 2, 3"
    )
    update = (
        f"UPDATE {table} AS x SET operator = n.operator, operator_source = n.source FROM"
        f" (SELECT x.id, {new_operator} AS operator, {new_source} AS source {join}"
        f" WHERE {differs}) AS n WHERE x.id = n.id"
    )
    return moves, update


def reapply_route_rules(
    *, connection: Connection, as_of: dt.date, apply: bool = False
) -> ReapplyResult:
    """Re-resolve the operator of every stored trip and passage not set by hand, with the
    current route rules and default gate rules, and show the effect on points first.

    Computes, per card with a trip that moves and per pool, the points (held and pending) at
    the end of ``as_of`` before and after; with ``apply`` the change stays, else it is undone
    (a dry run: the caller's transaction is rolled back to where it was). Trips set by hand
    (``operator_source = 'hand'``) keep their operator. 朝夕割 marks are not re-applied.
    Runs inside the caller's transaction (use ``store.transaction()``), which it does not
    commit.
    """
    from etcbook.models.mileage_inputs import card_states

    db = _driver(connection)
    resolve_routes(
        db,
        "SELECT coalesce(entry_ic, ''), coalesce(exit_ic, '') FROM trips"
        " WHERE operator_source <> 'hand'"
        " UNION SELECT coalesce(entry_ic, ''), coalesce(exit_ic, '') FROM passages",
    )
    result = ReapplyResult()
    trip_moves, trip_update = _reapply_sql("trips")
    cards: set[str] = set()
    for last4, before, after, count in db.execute(trip_moves).fetchall():
        result.trips += count
        if before != after:
            cards.add(last4)
            result.moves[(before, after)] = result.moves.get((before, after), 0) + count
    passage_moves, passage_update = _reapply_sql("passages")
    result.passages = sum(row[3] for row in db.execute(passage_moves).fetchall())
    if result.trips == 0 and result.passages == 0:
        db.execute("DROP TABLE IF EXISTS routes")
        return result
    before_states = {
        s.card: s for s in card_states(connection=connection, as_of=as_of, last4=cards)
    }
    db.execute("SAVEPOINT reapply_route_rules")
    db.execute(trip_update)
    db.execute(passage_update)
    db.execute("DROP TABLE IF EXISTS routes")
    after_states = {s.card: s for s in card_states(connection=connection, as_of=as_of, last4=cards)}
    for card in sorted(cards):
        before, after = before_states[card], after_states[card]
        for pool in sorted(set(before.pools) | set(after.pools)):
            b, a = before.pools.get(pool), after.pools.get(pool)
            result.pools.append(
                PoolPoints(
                    card,
                    pool,
                    b.points if b else 0,
                    a.points if a else 0,
                    b.pending_points if b else 0,
                    a.pending_points if a else 0,
                )
            )
    if apply:
        db.execute("RELEASE reapply_route_rules")
        result.committed = True
    else:
        db.execute("ROLLBACK TO reapply_route_rules")
        db.execute("RELEASE reapply_route_rules")
    return result
