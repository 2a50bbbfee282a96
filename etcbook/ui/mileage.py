"""What the window shows of the mileage engine: per card, pools, buckets, rebate, the next 20th.

The engine (:mod:`etcbook.domain.mileage`) computes; this module reads its input from the
store, runs it, and copies the results into the small records the pages draw. Called on a
worker thread. Exchanges, stops and adjustments are not stored yet in this build: the states
are those of the trips alone until the engine's persistence lands.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etcbook.domain.mileage import CardState
    from etcbook.domain.reminders import CardReminderFacts
    from etcbook.domain.rules import Rules
    from etcbook.models.store import Store


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


def card_summaries(store: Store, as_of: dt.date) -> list[CardSummary]:
    """Every card's summary at the end of ``as_of`` (worker thread)."""
    rules = load_rules()
    return [
        summarise(card, state, rules, as_of)
        for card, state in card_states(store, as_of, rules).values()
    ]


def with_engine_facts(
    facts: list[CardReminderFacts], cards: list[CardSummary]
) -> list[CardReminderFacts]:
    """The store's reminder facts with what the engine knows: lots, last change, the 20th."""
    from etcbook.domain.reminders import PointLot, UpcomingGrant

    rules = load_rules()
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


def trip_figures(store: Store, as_of: dt.date) -> dict[int, tuple[int, int, int]]:
    """Trip id → (還元額充当, 差引後, points) for every trip, as the engine computes them."""
    rules = load_rules()
    with store.engine.connect() as connection:
        from etcbook.models.ui_queries import latest_trip_month

        latest = latest_trip_month(connection=connection)
    until = as_of
    if latest is not None:
        year, month = (int(part) for part in latest.split("-"))
        last_day = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
        until = max(as_of, last_day)
    figures: dict[int, tuple[int, int, int]] = {}
    for _card, state in card_states(store, until, rules).values():
        for trip_id, applied, billed, points, _inferred, _stopped in state.trip_results.rows():
            figures[trip_id] = (applied, billed, points)
    return figures
