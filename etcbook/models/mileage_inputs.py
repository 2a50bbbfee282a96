"""From the store to the mileage engine: each card's trips, exchanges, stops, adjustments and
通勤パス months as :class:`etcbook.domain.mileage.CardInput`, then replayed.

Reads with plain Core selects (tuples, ISO text parsed once): 100,000 trips load in a fraction
of a second, where ORM objects per row would not.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from etcbook.domain.calendar import end_of_day
from etcbook.domain.mileage import (
    Adjustment,
    CardInput,
    CardState,
    ExchangeInput,
    StopEvent,
    TripInput,
    TripResult,
    replay,
)
from etcbook.domain.points import ExchangeUnit
from etcbook.domain.rules import Rules, load_rules
from etcbook.models.card_links import load_links, registration_links
from etcbook.models.card_refs import CardRef, list_card_refs
from etcbook.models.dialect import as_date, as_datetime, is_postgresql

if TYPE_CHECKING:
    from sqlalchemy import Connection

_from_iso = as_datetime
_date_from_iso = as_date


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a timeline is built and replayed.

    Loading 100,000 trips allocates a few hundred thousand objects, none in reference cycles
    (reference counting frees them all); the collector would still walk them again and again
    as they pile up — over a third of the time of ``status``. It is switched back on after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _in_clause(ids: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


def load_card_inputs(
    *, connection: Connection, cards: Sequence[CardRef], rules: Rules
) -> dict[int, CardInput]:
    """Card id → the engine's input for each of ``cards``, as part of its mileage registration.

    After a 登録カード変更 (card_links), the card holding the registration gets the whole of
    it — the old card's trips until the change, its points with their dates, its rebate — and a
    replaced card its part up to the change, handed over then
    (:func:`etcbook.domain.incidents.registration_input`). Without links this is
    :func:`load_own_card_inputs`.
    """
    links = load_links(connection=connection)
    if not links:
        return load_own_card_inputs(connection=connection, cards=cards, rules=rules)
    from etcbook.domain.incidents import registration_input

    # Each card's chain followed by id (cards of a fleet may share their last 4 digits, which
    # the domain's chain is keyed by): a card without links is its own registration.
    chains = {card.id: registration_links(links, card.id) for card in cards}
    wanted: set[int | None] = {card.id for card in cards}
    for chain_links in chains.values():
        for link in chain_links:
            wanted |= {getattr(link.old_card, "id", None), getattr(link.new_card, "id", None)}
    refs = [card for card in list_card_refs(connection=connection) if card.id in wanted]
    own = load_own_card_inputs(connection=connection, cards=refs, rules=rules)
    inputs: dict[int, CardInput] = {}
    for card in cards:
        chain_links = chains[card.id]
        if not chain_links:
            inputs[card.id] = own[card.id]
            continue
        ids = {getattr(link.old_card, "id", None) for link in chain_links} | {
            getattr(link.new_card, "id", None) for link in chain_links
        }
        by_last4 = {ref.last4: own[ref.id] for ref in refs if ref.id in ids}
        inputs[card.id] = registration_input(card.last4, by_last4, chain_links)
    return inputs


def load_own_card_inputs(
    *, connection: Connection, cards: Sequence[CardRef], rules: Rules
) -> dict[int, CardInput]:
    """Card id → the engine's input for each of ``cards``, from its own records only."""
    if not cards:
        return {}
    ids = _in_clause([card.id for card in cards])
    # The entry time matters only for 平日朝夕割引; not reading it otherwise saves a third of
    # the work. The covering index ix_trips_mileage (0002_mileage, on dated_at since 0004) serves
    # this query in order without touching the wide trips rows.
    trip_sql = (
        "SELECT id, dated_at, toll, operator,"
        " CASE WHEN morning_evening THEN entry_at END, rebate_applied, morning_evening"
        " FROM trips WHERE card_id = {} ORDER BY card_id, dated_at, id"
    )
    trip_sql = trip_sql.format("%s" if is_postgresql(connection) else "?")
    at = dt.datetime.fromisoformat
    # Rows straight from the DB-API cursor of this connection: SQLAlchemy's Row objects would
    # cost as much again as reading the rows.
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    trips: dict[int, tuple[TripInput, ...]] = {}
    for card in cards:
        rows = cursor.execute(trip_sql, (card.id,)).fetchall()
        trips[card.id] = tuple(
            [
                TripInput(
                    trip_id,
                    at(exit_at),
                    toll,
                    operator,
                    None if entry_at is None else at(entry_at),
                    rebate_applied,
                    flag == 1,
                    None,
                )
                for trip_id, exit_at, toll, operator, entry_at, rebate_applied, flag in rows
            ]
        )
    cursor.close()

    exchanges: dict[int, list[ExchangeInput]] = defaultdict(list)
    for card_id, exchange_id, at, pool, units in connection.exec_driver_sql(
        f"SELECT card_id, id, at, pool, units FROM point_exchanges WHERE card_id IN ({ids})"
        " AND reversed_at IS NULL ORDER BY at, id"
    ):
        exchanges[card_id].append(
            ExchangeInput(_from_iso(at), pool, _units(rules, pool, units), exchange_id=exchange_id)
        )

    stops: dict[int, list[StopEvent]] = defaultdict(list)
    for card_id, event_id, at, stopped in connection.exec_driver_sql(
        f"SELECT card_id, id, at, stopped FROM card_stops WHERE card_id IN ({ids}) ORDER BY at, id"
    ):
        stops[card_id].append(StopEvent(_from_iso(at), bool(stopped), event_id=event_id))

    adjustments: dict[int, list[Adjustment]] = defaultdict(list)
    for card_id, adjustment_id, on, pool, points, rebate, reason in connection.exec_driver_sql(
        'SELECT card_id, id, "on", pool, points, rebate, reason FROM mileage_adjustments'
        f' WHERE card_id IN ({ids}) AND reversed_at IS NULL ORDER BY "on", id'
    ):
        adjustments[card_id].append(
            Adjustment(
                _date_from_iso(on),
                reason,
                pool=pool,
                points=points,
                rebate=rebate,
                adjustment_id=adjustment_id,
            )
        )

    commute: dict[int, set[dt.date]] = defaultdict(set)
    for card_id, month in connection.exec_driver_sql(
        f"SELECT card_id, month FROM commute_pass_months WHERE card_id IN ({ids})"
    ):
        commute[card_id].add(_date_from_iso(f"{month}-01"))

    return {
        card.id: CardInput(
            card=card.last4,
            trips=trips[card.id],
            exchanges=tuple(exchanges.get(card.id, ())),
            stops=tuple(stops.get(card.id, ())),
            adjustments=tuple(adjustments.get(card.id, ())),
            commute_pass_months=frozenset(commute.get(card.id, ())),
            auto_exchange=card.auto_exchange,
            card_id=card.id,
        )
        for card in cards
    }


def _units(rules: Rules, pool: str, units: str) -> tuple[ExchangeUnit, ...]:
    """Stored unit sizes back to grid units (a size off the grid keeps yen 0: the engine refuses)."""
    try:
        grid = {unit.points: unit for unit in rules.pool(pool).manual_units}
    except KeyError:
        grid = {}
    found = []
    for part in units.split(","):
        size = int(part)
        found.append(grid.get(size, ExchangeUnit(size, 0)))
    return tuple(found)


def replay_until(as_of: dt.date, card: CardInput) -> dt.datetime:
    """The end of ``as_of``, or later when the card has trips after it (for per-trip results)."""
    last = max((trip.exit_at for trip in card.trips), default=None)
    if last is not None and last.date() > as_of:
        return end_of_day(last.date())
    return end_of_day(as_of)


def chosen_card_refs(
    *,
    connection: Connection,
    last4: Iterable[str] | None = None,
    card_ids: Iterable[int] | None = None,
) -> list[CardRef]:
    """Every card (neither given), or the cards whose last 4 digits or whose ids are given."""
    cards = list_card_refs(connection=connection)
    if last4 is not None:
        digits = set(last4)
        cards = [card for card in cards if card.last4 in digits]
    if card_ids is not None:
        ids = set(card_ids)
        cards = [card for card in cards if card.id in ids]
    return cards


def card_states(
    *,
    connection: Connection,
    as_of: dt.date,
    last4: Iterable[str] | None = None,
    card_ids: Iterable[int] | None = None,
    rules: Rules | None = None,
) -> list[CardState]:
    """Each card's state at the end of ``as_of`` (all cards, those whose last 4 are given, or
    those whose ids are: cards of a fleet may share their last 4 digits)."""
    rules = load_rules() if rules is None else rules
    cards = chosen_card_refs(connection=connection, last4=last4, card_ids=card_ids)
    with paused_gc():
        inputs = load_card_inputs(connection=connection, cards=cards, rules=rules)
        return [replay(inputs[card.id], rules, end_of_day(as_of)) for card in cards]


def trip_results_for(
    *,
    connection: Connection,
    last4: Iterable[str] | None = None,
    card_ids: Iterable[int] | None = None,
    as_of: dt.date,
    rules: Rules | None = None,
) -> dict[int, TripResult]:
    """Trip id → what the engine says it was billed and earns, for every trip of the cards
    (named by last 4 digits or by id, as :func:`chosen_card_refs`)."""
    rules = load_rules() if rules is None else rules
    cards = chosen_card_refs(connection=connection, last4=last4, card_ids=card_ids)
    results: dict[int, TripResult] = {}
    with paused_gc():
        inputs = load_card_inputs(connection=connection, cards=cards, rules=rules)
        for card in cards:
            card_input = inputs[card.id]
            state = replay(card_input, rules, replay_until(as_of, card_input))
            for result in state.trip_results:
                results[result.trip_id] = result
    return results
