"""What the window shows of the mileage engine: per card, pools, buckets, rebate, the next 20th.

The engine (:mod:`etcbook.domain.mileage`) computes; this module reads its input from the
store, runs it off the GUI thread (:class:`MileageService`, once per ledger change, shared by
the pages), and copies the results into the small records the pages draw. Exchanges, stops and adjustments are not stored yet in this build: the states
are those of the trips alone until the engine's persistence lands.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from etcbook.ui.operations import Operation

if TYPE_CHECKING:
    from etcbook.domain.mileage import CardState
    from etcbook.domain.reminders import CardReminderFacts
    from etcbook.domain.rules import Rules
    from etcbook.models.store import Store
    from etcbook.ui.context import AppContext


class EngineUnavailable(RuntimeError):
    """The mileage engine could not run (its message is shown to the user)."""


@dataclass(frozen=True)
class PoolSummary:
    """One pool of one card.

    Attributes:
        pool: pool key.
        name: the pool's Japanese name (from the rules file).
        points: points the site would show now.
        pending_points: points that trips already made will bring at their grant.
        buckets: points by expiry: this_month, next_month, month_after, later.
    """

    pool: str
    name: str
    points: int
    pending_points: int
    buckets: dict[str, int]


@dataclass(frozen=True)
class NextTwentieth:
    """What the next 20th brings to a card: grants per pool, auto-exchange on or off."""

    date: dt.date
    points: int = 0
    grants: tuple[tuple[str, str, int], ...] = ()
    """(pool, name, points) per pool."""
    auto_exchange: bool = False


@dataclass(frozen=True)
class CardSummary:
    """A card's mileage state at a date, as the dashboard shows it.

    Attributes:
        last4: the card.
        holder: 名義.
        rebate_balance: 還元額残高.
        pending_rebate: 平日朝夕割引 rebate not yet credited (months still to be credited).
        points_lost_total: points lost to expiry so far.
        pools: pools with points or pending points.
        next_20th: the next grant date and what it brings.
        state: the engine's full state (lots, ledger, rebate months) for the points page.
    """

    last4: str
    holder: str
    rebate_balance: int
    pending_rebate: int
    points_lost_total: int
    pools: list[PoolSummary] = field(default_factory=list)
    next_20th: NextTwentieth | None = None
    state: Any = None


def load_rules() -> Rules:
    """The operator rules (resources/operators.toml); EngineUnavailable when they don't load."""
    from etcbook.domain.rules import RulesError
    from etcbook.domain.rules import load_rules as load

    try:
        return load()
    except RulesError as problem:
        raise EngineUnavailable(f"事業者ルールを読めません: {problem}") from None


def card_states(store: Store, as_of: dt.date, rules: Rules) -> dict[str, tuple[Any, CardState]]:
    """Every card's engine state at the end of ``as_of``: last4 → (card row, state)."""
    from etcbook.domain.mileage import CardInput, state_at_end_of
    from etcbook.models.ui_queries import engine_cards, trip_inputs

    states: dict[str, tuple[Any, CardState]] = {}
    with store.engine.connect() as connection:
        cards = engine_cards(connection=connection)
        inputs = {
            card.last4: CardInput(
                card=card.last4,
                trips=trip_inputs(connection=connection, card=card.last4),
                auto_exchange=card.auto_exchange,
            )
            for card in cards
        }
    for card in cards:
        states[card.last4] = (card, state_at_end_of(inputs[card.last4], rules, as_of))
    return states


def summarise(card: Any, state: CardState, rules: Rules, as_of: dt.date) -> CardSummary:
    """The dashboard's record of one card's state."""
    from etcbook.domain.reminders import next_twentieth

    twentieth = next_twentieth(as_of)
    pools = []
    grants = []
    for key, pool in state.pools.items():
        name = rules.pools[key].name if key in rules.pools else key
        if pool.points or pool.pending_points:
            pools.append(
                PoolSummary(
                    pool=key,
                    name=name,
                    points=pool.points,
                    pending_points=pool.pending_points,
                    buckets=dataclasses.asdict(pool.buckets),
                )
            )
        due = sum(
            earning.points
            for earning in state.earnings.get(key, ())
            if not earning.granted and earning.grant_on == twentieth
        )
        if due:
            grants.append((key, name, due))
    return CardSummary(
        last4=card.last4,
        holder=card.holder,
        rebate_balance=state.rebate_balance,
        pending_rebate=state.pending_rebate,
        points_lost_total=state.points_lost_total,
        pools=pools,
        next_20th=NextTwentieth(
            date=twentieth,
            points=sum(points for _key, _name, points in grants),
            grants=tuple(grants),
            auto_exchange=card.auto_exchange,
        ),
        state=state,
    )


def with_engine_facts(
    facts: list[CardReminderFacts], cards: list[CardSummary], rules: Rules | None
) -> list[CardReminderFacts]:
    """The store's reminder facts with what the engine knows: lots, last change, the 20th."""
    from etcbook.domain.reminders import PointLot, UpcomingGrant

    if rules is None:
        return facts
    by_card = {card.last4: card for card in cards}
    enriched = []
    for fact in facts:
        card = by_card.get(fact.card)
        if card is None or card.state is None:
            enriched.append(fact)
            continue
        state = card.state
        lots = tuple(
            PointLot(key, _pool_name(rules, key), lot.expires_on, lot.remaining)
            for key, pool in state.pools.items()
            for lot in pool.lots
        )
        grants = tuple(
            UpcomingGrant(key, name, points)
            for key, name, points in (card.next_20th.grants if card.next_20th else ())
        )
        enriched.append(
            dataclasses.replace(
                fact,
                lots=lots,
                last_change_at=state.last_change_at,
                next_grants=grants,
                auto_units={key: pool.auto_unit for key, pool in rules.pools.items()},
            )
        )
    return enriched


def _pool_name(rules: Rules, key: str) -> str:
    return rules.pools[key].name if key in rules.pools else key


# -- the planner ----------------------------------------------------------------------------

RECENT_MONTHS = 6
"""Months of earnings the planner's forecast averages."""


def planner_input(
    state: CardState,
    rules: Rules,
    *,
    as_of: dt.date,
    auto_exchange: bool,
    need: Any = None,
    trips: tuple[Any, ...] = (),
) -> Any:
    """The planner's view of a card: its pools (lots, not-yet-granted points as future lots,
    grids, recent earnings), its rebate balance and the operators rebate pays, plus the need or
    the planned trips."""
    from etcbook.domain.calendar import expiry_for
    from etcbook.domain.planner import EarningRule, PlannerInput
    from etcbook.domain.planner import PoolState as PlannerPool
    from etcbook.domain.points import Lot

    operators_of = rules.pools_of_operators()
    pools = []
    for key, pool_rule in rules.pools.items():
        held = state.pools.get(key)
        lots = list(held.lots) if held is not None else []
        earnings = state.earnings.get(key, ())
        for earning in earnings:
            if not earning.granted and earning.points > 0:
                lots.append(
                    Lot(
                        key,
                        earning.grant_on,
                        expiry_for(earning.grant_on),
                        earning.points,
                        earning.points,
                    )
                )
        if not lots and key not in state.pools:
            continue
        operators = operators_of.get(key, ())
        earning_rule = None
        for operator in operators:
            rate = rules.operators[operator].earning
            if rate is not None:
                earning_rule = EarningRule(rate.yen_per_unit, rate.points_per_unit)
                break
        recent = tuple(e.points for e in earnings if e.granted)[-RECENT_MONTHS:]
        pools.append(
            PlannerPool(
                pool=key,
                lots=tuple(sorted(lots, key=lambda lot: (lot.expires_on, lot.granted_on))),
                grid=pool_rule.manual_units,
                auto_unit=pool_rule.auto_unit,
                auto_exchange=auto_exchange,
                recent_monthly_points=recent,
                operators=operators,
                earning=earning_rule,
                label=pool_rule.name,
            )
        )
    rebate_operators = frozenset(
        key for key, operator in rules.operators.items() if operator.rebate_usable_on(as_of)
    )
    return PlannerInput(
        as_of=as_of,
        pools=tuple(pools),
        rebate_balance=state.rebate_balance,
        rebate_operators=rebate_operators,
        need=need,
        trips=tuple(trips),
    )


def can_record_exchanges() -> bool:
    """Whether this build stores exchanges (the engine's persistence); not yet."""
    return False


@dataclass(frozen=True)
class Snapshot:
    """Every card's engine state at a date, computed once per change of the ledger.

    Attributes:
        as_of: the date (states at the end of it).
        rules: the operator rules used.
        cards: per card, its summary (with the full state).
        figures: trip id → (還元額充当, 差引後, points) of every replayed trip.
        problem: why the engine could not run (then ``cards`` and ``figures`` are empty).
    """

    as_of: dt.date
    rules: Rules | None
    cards: list[CardSummary]
    figures: dict[int, tuple[int, int, int]]
    problem: str | None = None


def compute_snapshot(store: Store, as_of: dt.date) -> Snapshot:
    """Run the engine for every card (worker thread)."""
    try:
        rules = load_rules()
        states = card_states(store, as_of, rules)
    except EngineUnavailable as problem:
        return Snapshot(as_of, None, [], {}, str(problem))
    cards = [summarise(card, state, rules, as_of) for card, state in states.values()]
    figures: dict[int, tuple[int, int, int]] = {}
    for _card, state in states.values():
        for trip_id, applied, billed, points, _inferred, _stopped in state.trip_results.rows():
            figures[trip_id] = (applied, billed, points)
    return Snapshot(as_of, rules, cards, figures)


class MileageService(QObject):
    """The engine's results for the open store, computed off the GUI thread once per ledger
    change and shared by the pages (the dashboard, the trips and the points pages)."""

    computed = Signal(object)

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self._context = context
        self._snapshot: Snapshot | None = None
        self._waiting: list[Callable[[Snapshot], None]] = []
        self._running = False
        self._generation = 0
        context.ledger_changed.connect(self.invalidate)

    @property
    def snapshot(self) -> Snapshot | None:
        """The latest snapshot, when it is still current."""
        return self._snapshot

    def invalidate(self) -> None:
        """The ledger changed: the next request recomputes."""
        self._snapshot = None
        self._generation += 1

    def request(self, callback: Callable[[Snapshot], None]) -> None:
        """Call ``callback(snapshot)`` on the GUI thread, now if current, else once computed."""
        from etcbook import clock

        snapshot = self._snapshot
        if snapshot is not None and snapshot.as_of == clock.today():
            callback(snapshot)
            return
        self._waiting.append(callback)
        self._start()

    def _start(self) -> None:
        from etcbook import clock

        if self._running:
            return
        self._running = True
        generation = self._generation
        store = self._context.store
        as_of = clock.today()
        self._context.run(
            Operation(
                work=lambda _progress: compute_snapshot(store, as_of),
                title="ポイントと還元額の計算",
                on_success=lambda snapshot: self._done(generation, snapshot),
                on_failure=self._failed,
                show_progress=False,
            )
        )

    def _done(self, generation: int, snapshot: Snapshot) -> None:
        self._running = False
        if generation != self._generation:  # the ledger changed meanwhile
            self._start()
            return
        self._snapshot = snapshot
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            callback(snapshot)
        self.computed.emit(snapshot)

    def _failed(self, error: BaseException) -> None:
        self._running = False
        snapshot = Snapshot(dt.date.today(), None, [], {}, f"計算できませんでした: {error}")
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            callback(snapshot)
