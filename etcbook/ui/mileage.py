"""What the window shows of the mileage engine, and how it records exchanges.

The engine computes (:mod:`etcbook.domain.mileage` over :mod:`etcbook.models.mileage_inputs`:
trips, exchanges, stops, adjustments and 通勤パス months from the store); this module runs it
off the GUI thread once per change of the ledger (:class:`MileageService`, shared by the
pages) and copies the results into the small records the pages draw. Exchanges are recorded
only after a replay with them shows the engine accepts them (as ``etcbook exchange`` does).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from etcbook import clock
from etcbook.models.card_name import CardName
from etcbook.ui.operations import Operation

if TYPE_CHECKING:
    from etcbook.domain.mileage import CardState
    from etcbook.domain.points import ExchangeUnit
    from etcbook.domain.rules import Rules
    from etcbook.models.store import Store
    from etcbook.ui.context import AppContext


class EngineUnavailable(RuntimeError):
    """The mileage engine could not run (its message is shown to the user)."""


class ExchangeRefused(ValueError):
    """The engine refuses an exchange (not enough points then, a unit off the grid…)."""


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
    """A card's mileage state at a date, as the pages show it.

    Attributes:
        last4: the card.
        holder: 名義.
        auto_exchange: ポイント自動還元 is on.
        rebate_balance: 還元額残高.
        pending_rebate: 平日朝夕割引 rebate not yet credited (months still to be credited).
        points_lost_total: points lost to expiry so far.
        pools: pools with points or pending points.
        next_20th: the next grant date and what it brings.
        state: the engine's full state (lots, ledger, rebate months).
        card_id: the card's id (cards of a fleet may share their last 4 digits).
        label: 呼び名, or "".
    """

    last4: str
    holder: str
    auto_exchange: bool
    rebate_balance: int
    pending_rebate: int
    points_lost_total: int
    pools: list[PoolSummary] = field(default_factory=list)
    next_20th: NextTwentieth | None = None
    state: Any = None
    card_id: int | None = None
    label: str = ""

    @property
    def name(self) -> CardName:
        """The card as the models take it: its last 4 digits carrying its id."""
        return CardName.of(self.last4, self.card_id)

    @property
    def title(self) -> str:
        """``末尾 6789　2号車（山田）``: tells apart cards that share their last 4 digits (a
        second card with the same digits always has a 呼び名)."""
        from etcbook.ui.formatting import card_title

        return card_title(self.last4, self.label, self.holder)


@dataclass(frozen=True)
class Snapshot:
    """Every card's engine state at a date, computed once per change of the ledger.

    Attributes:
        as_of: the date (states at the end of it).
        rules: the operator rules used (``None`` when they could not be read).
        cards: per card, its summary (with the full state).
        figures: trip id → (還元額充当, 差引後, points) of every replayed trip.
        problem: why the engine could not run (then ``cards`` and ``figures`` are empty).
        cache_key: the key of the store's data these results are valid for (see
            :mod:`etcbook.models.engine_cache`), ``None`` when unknown.
        from_cache: the states were read from the store's cache, not replayed.
        states: the engine's states (in the store's card order), as kept in the cache.
    """

    as_of: dt.date
    rules: Rules | None
    cards: list[CardSummary]
    figures: dict[int, tuple[int, int, int]]
    problem: str | None = None
    cache_key: str | None = None
    from_cache: bool = False
    states: Sequence[CardState] = ()


def load_rules() -> Rules:
    """The operator rules (etcbook/resources/operators.toml); EngineUnavailable when they don't load."""
    from etcbook.domain.rules import RulesError
    from etcbook.domain.rules import load_rules as load

    try:
        return load()
    except RulesError as problem:
        raise EngineUnavailable(f"事業者ルールを読めません: {problem}") from None


def summarise(card: Any, state: CardState, rules: Rules, as_of: dt.date) -> CardSummary:
    """The pages' record of one card's state (``card`` has last4, holder, auto_exchange)."""
    from etcbook.domain.mileage import due_on_twentieth
    from etcbook.domain.reminders import next_twentieth

    twentieth = next_twentieth(as_of)
    due = due_on_twentieth(state, twentieth)
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
        if due.points.get(key):
            grants.append((key, name, due.points[key]))
    return CardSummary(
        last4=card.last4,
        holder=card.holder,
        auto_exchange=card.auto_exchange,
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
        card_id=getattr(card, "card_id", None),
        label=getattr(card, "label", "") or "",
    )


ENGINE_CACHE_NAME = "card_states"
"""Name of the cached engine states (see :mod:`etcbook.models.engine_cache`)."""


def compute_snapshot(store: Store, as_of: dt.date) -> Snapshot:
    """Every card's engine state at the end of ``as_of`` (worker thread).

    The states come from the store's cache when nothing they depend on changed since they were
    kept; else the engine replays every card (see :func:`keep_snapshot`).
    """
    from etcbook.domain.rules import default_rules_path
    from etcbook.models.engine_cache import cached
    from etcbook.models.mileage_inputs import paused_gc
    from etcbook.models.ui_queries import engine_cards

    def replay_all() -> list[CardState]:
        from etcbook.models.mileage_inputs import card_states

        return card_states(connection=connection, as_of=as_of, rules=rules)

    try:
        rules = load_rules()
    except EngineUnavailable as problem:
        return Snapshot(as_of, None, [], {}, str(problem))
    with store.engine.connect() as connection:
        # One read transaction: the data version and the data replayed are the same snapshot.
        rows = engine_cards(connection=connection)
        states, key, from_cache = cached(
            connection=connection,
            name=ENGINE_CACHE_NAME,
            as_of=as_of,
            rules_path=default_rules_path(),
            compute=replay_all,
        )
    with paused_gc():  # 100,000 new acyclic tuples: the collector would walk them again and again
        # By id: cards of a fleet may share their last 4 digits (a state kept before the engine
        # carried ids is found by its digits).
        by_id = {card.card_id: card for card in rows}
        by_last4 = {card.last4: card for card in rows}
        summaries = [
            summarise(by_id.get(state.card_id) or by_last4[state.card], state, rules, as_of)
            for state in states
        ]
        figures = {
            trip_id: (applied, billed, points)
            for state in states
            for trip_id, applied, billed, points, _inferred, _stopped in state.trip_results.rows()
        }
    return Snapshot(
        as_of, rules, summaries, figures, cache_key=key, from_cache=from_cache, states=states
    )


def keep_snapshot(store: Store, snapshot: Snapshot) -> None:
    """Keep a freshly computed snapshot's engine states in the store for the next start."""
    from etcbook.models.engine_cache import write_cached

    if snapshot.cache_key is not None and not snapshot.from_cache and snapshot.problem is None:
        write_cached(
            store, name=ENGINE_CACHE_NAME, key=snapshot.cache_key, value=list(snapshot.states)
        )


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
        """The latest snapshot, while it is current."""
        return self._snapshot

    def invalidate(self) -> None:
        """The ledger changed: the next request recomputes."""
        self._snapshot = None
        self._generation += 1

    def request(self, callback: Callable[[Snapshot], None]) -> None:
        """Call ``callback(snapshot)`` on the GUI thread: now if current, else once computed."""
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
        if snapshot.cache_key is not None and not snapshot.from_cache:  # kept for the next start
            store = self._context.store
            self._context.run(
                Operation(
                    work=lambda _progress: keep_snapshot(store, snapshot),
                    title="計算結果の保存",
                    on_failure=lambda _error: None,  # only a cache: the next start replays
                    show_progress=False,
                )
            )

    def _failed(self, error: BaseException) -> None:
        self._running = False
        snapshot = Snapshot(clock.today(), None, [], {}, f"計算できませんでした: {error}")
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            callback(snapshot)


# -- the planner and recorded exchanges ---------------------------------------------------------


def planner_input(
    card: CardSummary,
    rules: Rules,
    *,
    as_of: dt.date,
    need: Any = None,
    trips: tuple[Any, ...] = (),
) -> Any:
    """The planner's request for ``card`` (the planner's own adapter over the engine's state)."""
    from etcbook.domain.planner_adapter import planner_input as adapt

    return adapt(
        card.state,
        rules,
        auto_exchange=card.auto_exchange,
        need=need,
        trips=trips,
        as_of=as_of,
    )


def record_exchanges(
    store: Store,
    last4: str,
    exchanges: Sequence[tuple[dt.datetime, str, tuple[ExchangeUnit, ...]]],
) -> list[int]:
    """Record manual exchanges ``(at, pool, units)`` of one card in one transaction.

    See :func:`etcbook.models.mileage_changes.record_exchanges`: when the engine refuses one,
    or one makes an exchange already recorded fail, nothing is written and
    :class:`ExchangeRefused` says why (Japanese).
    """
    from etcbook.models.mileage_changes import ChangeRefused
    from etcbook.models.mileage_changes import record_exchanges as record

    try:
        with store.transaction() as connection:
            return record(
                connection=connection, rules=load_rules(), last4=last4, exchanges=exchanges
            )
    except ChangeRefused as refused:
        raise ExchangeRefused(str(refused)) from None
