"""From the store and the mileage engine to :class:`etcbook.domain.reconcile.MonthFacts`.

The rebate and the points are those of the mileage registration the card belongs to (after a
登録カード変更, old and new card are one ledger: :func:`etcbook.domain.incidents.registration_input`);
the card statement's side is the card's own trips. The engine replays the registration up to
the end of the 20th of the month after, so the month's grant and its 朝夕割 credit are known
whatever the date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from etcbook.domain.calendar import end_of_day
from etcbook.domain.incidents import (
    CardLink,
    ledger_card_for,
    registration_input,
    registration_segments,
)
from etcbook.domain.memo import Memo, MemoCard, MemoChange, MemoFigure, MemoTrip, subject_for
from etcbook.domain.mileage import CardInput, CardState, TripResult, replay
from etcbook.domain.reconcile import (
    BOUNDARY_MINUTES,
    CardChange,
    ExchangeGrid,
    MonthFacts,
    MorningEveningCredit,
    PoolExpectation,
    RebateFlow,
    Reconciliation,
    Reported,
    TripLine,
    add_months,
    month_bounds,
    reconcile,
)
from etcbook.domain.rules import Rules, load_rules
from etcbook.models.card_links import load_links, registration_links
from etcbook.models.card_refs import CardName, card_id_for, card_id_of, shared_last4
from etcbook.models.dialect import as_datetime
from etcbook.models.reconcile import (
    Snapshot,
    TripChange,
    card_row,
    changes_since,
    latest_snapshot,
    list_incidents,
    load_reported,
    merge_reported,
)

PROVISIONAL = "確認中"

_TRIP_SQL = (
    "SELECT t.id, c.last4, t.dated_at, t.entry_at, t.entry_ic, coalesce(t.exit_ic, ''), t.toll,"
    " t.rebate_applied, t.operator, t.status, t.morning_evening, t.card_id FROM trips t"
    " JOIN cards c ON c.id = t.card_id"
)


@dataclass(frozen=True, slots=True)
class _Row:
    trip_id: int
    card: str  # a CardName: the last 4 digits with the card's id
    exit_at: dt.datetime  # dated_at: the exit, or the entry of a charge at an entry gate
    entry_at: dt.datetime | None
    entry_ic: str | None
    exit_ic: str
    toll: int
    rebate_applied: int | None
    operator: str
    status: str | None
    morning_evening: bool


def _rows(connection: Connection, where: str, params: Mapping[str, Any]) -> list[_Row]:
    return [
        _Row(
            r[0],
            CardName.of(r[1], r[11]),
            as_datetime(r[2]),
            None if r[3] is None else as_datetime(r[3]),
            r[4] or None,
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
            bool(r[10]),
        )
        for r in connection.execute(
            text(f"{_TRIP_SQL} WHERE {where} ORDER BY t.dated_at, t.id"), params
        )
    ]


def _in(names: Iterable[str | int], prefix: str = "c") -> tuple[str, dict[str, str | int]]:
    params = {f"{prefix}{i}": name for i, name in enumerate(names)}
    return ", ".join(f":{key}" for key in params) or "NULL", params


def _ids(cards: Iterable[str]) -> list[int]:
    """The ids the chain's :class:`CardName` values carry."""
    return [i for i in (card_id_of(card) for card in cards) if i is not None]


def card_inputs(
    *, connection: Connection, cards: Sequence[str], rules: Rules
) -> dict[str, CardInput]:
    """カード末尾4桁 → the engine's input of each card from its own records (trips, exchanges,
    stops — an incident's 利用停止 among them —, adjustments, 通勤パス months). ``cards`` are
    the cards of one registration (:class:`CardName` values, read by id)."""
    from etcbook.models.card_refs import card_by_id
    from etcbook.models.mileage_inputs import load_own_card_inputs

    refs = [
        ref
        for ref in (
            card_by_id(connection=connection, card_id=card_id_for(connection=connection, card=c))
            for c in cards
        )
        if ref is not None
    ]
    inputs = load_own_card_inputs(connection=connection, cards=refs, rules=rules)
    return {card.last4: inputs[card.id] for card in refs}


def registration_of(
    *, connection: Connection, card: str
) -> tuple[tuple[str, ...], tuple[CardLink, ...]]:
    """The cards of the registration ``card`` belongs to (oldest first, :class:`CardName`
    values) and its links, followed by card id: another card with the same digits is not in it."""
    row = card_row(connection=connection, last4=card)
    named = CardName.of(row["last4"], row["id"])
    links = registration_links(load_links(connection=connection), row["id"])
    return tuple(segment.card for segment in registration_segments(named, links)), links


@dataclass(frozen=True, slots=True)
class Registration:
    """A card's mileage registration replayed.

    Attributes:
        card: the card asked about.
        cards: the cards of its chain, oldest first.
        links: the links of this registration (another card's, sharing digits, left out).
        state: the engine's state of the registration at ``until``.
        input: the registration's engine input.
    """

    card: str
    cards: tuple[str, ...]
    links: tuple[CardLink, ...]
    state: CardState
    input: CardInput


def replay_registration(
    *, connection: Connection, card: str, until: dt.datetime, rules: Rules
) -> Registration:
    """Replay the registration ``card`` belongs to up to ``until``."""
    chain, links = registration_of(connection=connection, card=card)
    inputs = card_inputs(connection=connection, cards=chain, rules=rules)
    chained = registration_input(chain[-1], inputs, links)
    return Registration(card, chain, links, replay(chained, rules, until), chained)


def _earning(rules: Rules, operator: str, day: dt.date) -> tuple[str | None, int, int]:
    rule = rules.operators.get(operator)
    if rule is None or rule.pool is None or rule.earning is None or not rule.earns_points_on(day):
        return None, 0, 0
    return rule.pool, rule.earning.yen_per_unit, rule.earning.points_per_unit


def trip_line(
    row: _Row, result: TripResult | None, rules: Rules, *, registered: bool = True
) -> TripLine:
    """A stored trip with the engine's figures (or, when the engine did not replay it, the
    file's rebate and the points it would have earned)."""
    pool, unit, per = _earning(rules, row.operator, row.exit_at.date())
    if result is not None:
        applied, billed, points = result.rebate_applied, result.billed, result.points
        if result.stopped:
            pool, unit, per = None, 0, 0
    else:
        applied = row.rebate_applied or 0
        billed = row.toll - applied
        points = billed // unit * per if unit and billed > 0 else 0
        if registered:
            pool, unit, per = None, 0, 0
    return TripLine(
        trip_id=row.trip_id,
        card=row.card,
        exit_at=row.exit_at,
        entry_at=row.entry_at,
        entry_ic=row.entry_ic,
        exit_ic=row.exit_ic,
        toll=row.toll,
        rebate_applied=applied,
        billed=billed,
        points=points,
        pool=pool,
        yen_per_unit=unit,
        points_per_unit=per,
        provisional=(row.status or "").startswith(PROVISIONAL),
        registered=registered,
    )


def _rebate_flow(state: CardState, month: dt.date) -> RebateFlow:
    before = None
    for item in state.rebate_months:
        if item.month == month:
            return RebateFlow(
                opening=item.opening,
                exchanged=item.exchanged,
                morning_evening=item.morning_evening,
                adjustments=item.adjusted,
                inferred=item.inferred,
                applied=item.applied,
                closing=item.closing,
            )
        if item.month < month:
            before = item
    balance = 0 if before is None else before.closing
    return RebateFlow(opening=balance, closing=balance)


def _morning_evening(
    state: CardState, month: dt.date, lines: Mapping[int, TripLine], tolls: Mapping[int, int]
) -> MorningEveningCredit | None:
    for item in state.morning_evening:
        if item.month == month and item.counted:
            return MorningEveningCredit(
                month=month,
                credit_on=item.credit_on,
                percent=item.percent,
                eligible=tuple((i, tolls.get(i, 0)) for i in item.counted),
                credits=item.credits,
                trips=tuple(lines[i] for i in item.counted if i in lines),
            )
    return None


def month_facts(
    *,
    connection: Connection,
    card: str,
    month: dt.date,
    as_of: dt.date,
    rules: Rules | None = None,
) -> MonthFacts:
    """Everything :func:`etcbook.domain.reconcile.reconcile` needs for ``card`` and ``month``."""
    rules = load_rules() if rules is None else rules
    start, end = month_bounds(month)
    grant_day = add_months(month, 1).replace(day=20)
    registration = replay_registration(
        connection=connection, card=card, until=end_of_day(grant_day), rules=rules
    )
    state, links = registration.state, registration.links
    results = {r.trip_id: r for r in state.trip_results}
    chain_ids = _ids(registration.cards)
    me = card_row(connection=connection, last4=card)

    def line(row: _Row) -> TripLine:
        registered = ledger_card_for(row.card, row.exit_at, links) == row.card
        return trip_line(row, results.get(row.trip_id), rules, registered=registered)

    window = dt.timedelta(minutes=BOUNDARY_MINUTES)
    own = _rows(
        connection,
        "t.card_id = :card AND t.dated_at >= :start AND t.dated_at < :end",
        {
            "card": me["id"],
            "start": (start - window).isoformat(),
            "end": (end + window).isoformat(),
        },
    )
    trips = tuple(line(r) for r in own if start <= r.exit_at < end)
    boundary = tuple(line(r) for r in own if not start <= r.exit_at < end)

    # 朝夕割: the counted trips of this month and of the previous one, with their tolls
    previous = add_months(month, -1)
    me_rows = _rows(
        connection,
        f"t.card_id IN ({_in(chain_ids)[0]}) AND t.morning_evening"
        " AND t.dated_at >= :from AND t.dated_at < :end",
        {**_in(chain_ids)[1], "from": previous.isoformat(), "end": end.isoformat()},
    )
    me_lines = {r.trip_id: line(r) for r in me_rows}
    tolls = {r.trip_id: r.toll for r in me_rows}

    # trips of other cards of the same holder, household or mileage ID in the month
    placeholders, chain_params = _in(chain_ids)
    other_rows = _rows(
        connection,
        f"t.card_id NOT IN ({placeholders}) AND t.dated_at >= :start AND t.dated_at < :end"
        " AND (c.holder = :holder OR c.household = :household OR c.mileage_id = :mileage_id)",
        {
            **chain_params,
            "start": start.isoformat(),
            "end": end.isoformat(),
            # NULL for an empty value: `= NULL` matches no card (PostgreSQL refuses a NUL
            # character in text, which served as the never-matching value before).
            "holder": me["holder"] or None,
            "household": me["household"] or None,
            "mileage_id": me["mileage_id"] or None,
        },
    )
    others = tuple(trip_line(r, None, rules, registered=False) for r in other_rows)

    # the card-switch nights of the chain falling in the month
    changes = []
    switch: list[TripLine] = []
    for link in links:
        if not (start <= link.effective_at <= end):
            continue
        changes.append(
            CardChange(link.old_card, link.new_card, link.registered_at, link.effective_at)
        )
        night = _rows(
            connection,
            "t.card_id IN (:old, :new) AND t.card_id <> :card AND t.dated_at >= :from"
            " AND t.dated_at < :to",
            {
                "old": card_id_of(link.old_card),
                "new": card_id_of(link.new_card),
                "card": me["id"],
                "from": dt.datetime.combine(link.registered_at.date(), dt.time()).isoformat(),
                "to": (link.effective_at + dt.timedelta(days=1)).isoformat(),
            },
        )
        switch.extend(line(r) for r in night)

    # points each pool could have paid an unrecorded exchange with during the month
    held: dict[str, int] = {}
    granted: dict[str, int] = {}
    twentieth = dt.datetime(month.year, month.month, 20)
    twentieth_credit = 0
    inferred = tuple((c.trip_id, c.yen) for c in state.inferred_credits if start <= c.at < end)
    for entry in state.ledger:
        if entry.at == twentieth and entry.kind in ("morning_evening", "auto_exchange"):
            twentieth_credit += entry.rebate
        if entry.pool is None:
            continue
        if entry.at < start:
            held[entry.pool] = held.get(entry.pool, 0) + entry.points
        elif entry.at < end and entry.points > 0:
            granted[entry.pool] = granted.get(entry.pool, 0) + entry.points
    pools_seen = set(held) | set(granted) | set(state.pools)
    grids = tuple(
        ExchangeGrid(
            pool,
            rules.pools[pool].name,
            rules.pools[pool].manual_units,
            max(held.get(pool, 0), 0) + granted.get(pool, 0),
        )
        for pool in rules.pools
        if pool in pools_seen
    )

    expectations = tuple(
        PoolExpectation(
            pool,
            rules.pools[pool].name if pool in rules.pools else pool,
            earning.base_points,
            earning.bonus_points,
            earning.grant_on,
        )
        for pool, earnings in state.earnings.items()
        for earning in earnings
        if earning.month == month
        and (earning.base_points or earning.bonus_points or earning.billed)
    )
    return MonthFacts(
        card=card,
        month=month,
        as_of=as_of,
        trips=trips,
        boundary_trips=boundary,
        other_trips=others,
        switch_trips=tuple(switch),
        card_changes=tuple(changes),
        rebate=_rebate_flow(state, month),
        pools=expectations,
        morning_evening=_morning_evening(state, month, me_lines, tolls),
        morning_evening_previous=_morning_evening(state, previous, me_lines, tolls),
        twentieth_credit=twentieth_credit,
        grids=grids,
        inferred=inferred,
    )


def pool_names(rules: Rules) -> dict[str, str]:
    """Pool key → Japanese name."""
    return {key: pool.name for key, pool in rules.pools.items()}


@dataclass(frozen=True, slots=True)
class MonthReport:
    """A reconciliation with what surrounds it: the registration's cards, the latest snapshot
    and the changes of the month's trips since it.

    Attributes:
        result: the reconciliation.
        cards: the cards of the registration, oldest first.
        snapshot: the latest snapshot, or None when the month was never marked.
        changes: changes of the month's trips since the snapshot.
    """

    result: Reconciliation
    cards: tuple[str, ...]
    snapshot: Snapshot | None
    changes: tuple[TripChange, ...]


def reconcile_month(
    *,
    connection: Connection,
    card: str,
    month: dt.date,
    as_of: dt.date,
    given: Reported | None = None,
    rules: Rules | None = None,
) -> MonthReport:
    """Reconcile ``card``'s ``month``: the saved figures, overridden by ``given``."""
    rules = load_rules() if rules is None else rules
    key = f"{month:%Y-%m}"
    reported = load_reported(connection=connection, card=card, month=key)
    if given is not None:
        reported = merge_reported(reported, given)
    facts = month_facts(connection=connection, card=card, month=month, as_of=as_of, rules=rules)
    result = reconcile(facts, reported, pool_names=pool_names(rules))
    snapshot = latest_snapshot(connection=connection, card=card, month=key)
    changes = () if snapshot is None else changes_since(snapshot.trips, facts.trips)
    chain, _links = registration_of(connection=connection, card=card)
    return MonthReport(result, chain, snapshot, changes)


# --- the inquiry memo ------------------------------------------------------------------------


class MemoError(ValueError):
    """The memo cannot be made as asked; the message is Japanese."""


MEMO_TRIPS = 12
"""At most this many trips of a month's findings are listed in its memo."""

RECENT_CHANGE_DAYS = 365
"""Card changes and incidents within this many days are listed as recent changes."""


def _recent_changes(
    connection: Connection, chain: Sequence[str], links: Sequence[CardLink], as_of: dt.date
) -> list[MemoChange]:
    from etcbook.domain.incidents import INCIDENT_KIND_LABELS, step_spec

    since = as_of - dt.timedelta(days=RECENT_CHANGE_DAYS)
    chain_ids = set(_ids(chain))
    changes = [
        MemoChange(
            link.registered_at.date(),
            f"登録カード変更 末尾{link.old_card}→末尾{link.new_card}"
            f"（{link.effective_at.month}月{link.effective_at.day}日0:00から新カード）",
        )
        for link in links
        if (card_id_of(link.old_card) in chain_ids or card_id_of(link.new_card) in chain_ids)
        and since <= link.registered_at.date() <= as_of
    ]
    for incident in list_incidents(connection=connection):
        if (
            card_id_of(incident.card) not in chain_ids
            or not since <= incident.noticed_at.date() <= as_of
        ):
            continue
        changes.append(
            MemoChange(
                incident.noticed_at.date(),
                f"カード末尾{incident.card}の{INCIDENT_KIND_LABELS[incident.kind]}",
            )
        )
        for record in incident.steps:
            if record.step in ("card_change", "reissue_ordered"):
                continue
            reference = f"（受付番号 {record.reference}）" if record.reference else ""
            changes.append(
                MemoChange(record.at.date(), f"{step_spec(record.step).label}{reference}")
            )
    return sorted(changes, key=lambda c: c.on)


def build_memo(
    *,
    connection: Connection,
    card: str,
    as_of: dt.date,
    trip_ids: Sequence[int] = (),
    month: dt.date | None = None,
    finding: int | None = None,
    actual_points: int | None = None,
    extra_changes: Sequence[MemoChange] = (),
    rules: Rules | None = None,
) -> Memo:
    """The inquiry memo for ``card``: chosen trips, or a month's reconciliation (all of its
    findings, or the ``finding``-th, 1-based), with the card's identifiers and recent changes."""
    rules = load_rules() if rules is None else rules
    row = card_row(connection=connection, last4=card)
    ids = list(dict.fromkeys(trip_ids))
    figures: list[MemoFigure] = []
    notes: list[str] = []
    subject = ""
    if month is not None:
        report = reconcile_month(
            connection=connection, card=card, month=month, as_of=as_of, rules=rules
        )
        result = report.result
        chosen = result.findings
        if finding is not None:
            if not 1 <= finding <= len(result.findings):
                raise MemoError(
                    f"{month:%Y-%m}の照合には説明が{len(result.findings)}件です（--finding {finding}）。"
                )
            chosen = (result.findings[finding - 1],)
            ids += [t.trip_id for t in chosen[0].trips if t.trip_id not in ids]
        notes = [f.message for f in chosen]
        if not ids and finding is None:
            # the trips the findings name, the month's first ones first
            named = sorted(
                {
                    t.trip_id: t for f in chosen for t in f.trips if card_id_of(t.card) == row["id"]
                }.values(),
                key=lambda t: (t.exit_at, t.trip_id),
            )
            ids = [t.trip_id for t in named[:MEMO_TRIPS]]
            if len(named) > MEMO_TRIPS:
                notes.append(f"説明に関わる走行はほかに{len(named) - MEMO_TRIPS}件あります。")
        wanted = {(f.difference, f.pool) for f in chosen}
        for equation in result.equations:
            key, _, pool = equation.key.partition(":")
            difference = {"rebate": "rebate_closing", "statement": "statement_total"}.get(
                key, "points"
            )
            if finding is not None and (difference, pool or None) not in wanted:
                continue
            if equation.reported is None and finding is None and equation.computed == 0:
                continue
            figures.append(
                MemoFigure(
                    f"{equation.label}（{month.year}年{month.month}月）",
                    equation.computed,
                    equation.reported,
                    equation.unit,
                )
            )
        subject = f"{month.year}年{month.month}月の還元額・ポイント・請求の照合"
    if not ids and month is None:
        raise MemoError("走行（--trip）か照合する月（--month）を指定してください。")
    chain, links = registration_of(connection=connection, card=card)
    chain_ids = set(_ids(chain))
    trips: list[MemoTrip] = []
    if ids:
        placeholders, params = _in([str(i) for i in ids], "t")
        rows = _rows(connection, f"t.id IN ({placeholders})", params)
        found = {r.trip_id for r in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            from etcbook.models.refusals import not_yours

            refused = [not_yours(connection, "trips", i) for i in missing]
            raise MemoError(
                next((r for r in refused if r), None)
                or f"走行ID {', '.join(map(str, missing))} はありません。"
            )
        foreign = [r.trip_id for r in rows if card_id_of(r.card) not in chain_ids]
        if foreign:
            digits = row["last4"]
            shared = f"（id:{row['id']}）" if digits in shared_last4(connection=connection) else ""
            raise MemoError(
                f"走行ID {', '.join(map(str, foreign))} はカード末尾{card}{shared}の走行ではありません。"
            )
        latest = max(r.exit_at for r in rows)
        until = end_of_day(max(as_of, add_months(latest.date(), 1).replace(day=20)))
        registration = replay_registration(
            connection=connection, card=card, until=until, rules=rules
        )
        results = {r.trip_id: r for r in registration.state.trip_results}
        for r in rows:
            registered = ledger_card_for(r.card, r.exit_at, links) == r.card
            line = trip_line(r, results.get(r.trip_id), rules, registered=registered)
            trips.append(
                MemoTrip(
                    r.trip_id,
                    r.exit_at,
                    r.entry_ic,
                    r.exit_ic,
                    r.toll,
                    line.rebate_applied,
                    line.billed,
                    line.points if registered else None,
                )
            )
        if actual_points is not None:
            figures.append(
                MemoFigure(
                    "ポイント（これらの走行）",
                    sum(t.points or 0 for t in trips),
                    actual_points,
                    "points",
                )
            )
    subject = subject_for(trips, figures) if not subject or finding is not None else subject
    return Memo(
        created_on=as_of,
        subject=subject,
        card=MemoCard(
            last4=card,
            holder=row["holder"] or "",
            mileage_id=row["mileage_id"],
            obu_number=row["obu_number"],
            plate=row["plate"],
            login_id=row["login_id"],
        ),
        trips=tuple(trips),
        figures=tuple(figures),
        notes=tuple(notes),
        changes=tuple(
            sorted(
                [*_recent_changes(connection, chain, links, as_of), *extra_changes],
                key=lambda c: c.on,
            )
        ),
    )
