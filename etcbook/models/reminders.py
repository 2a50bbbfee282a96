"""From the store, the engine and the vault to :func:`etcbook.domain.reminders.reminders_at`.

:func:`dashboard_reminders` is what the dashboard and ``etcbook reminders`` call: every card's
reminders at a date, most urgent first. The window passes the card states its shared engine
run already has (``states``); the command line lets it replay each registration once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from sqlalchemy import Connection, text

from etcbook import clock
from etcbook.domain.calendar import end_of_day
from etcbook.domain.incidents import (
    INCIDENT_KIND_LABELS,
    next_step,
    registration_segments,
)
from etcbook.domain.mileage import CardInput, CardState, DueOnTwentieth, due_on_twentieth, replay
from etcbook.domain.reminders import (
    CardReminderFacts,
    IncidentNote,
    PointLot,
    Reminder,
    UpcomingGrant,
    next_twentieth,
    reminders_at,
)
from etcbook.domain.rules import Rules, load_rules
from etcbook.models.card_links import load_links, registration_links
from etcbook.models.card_name import CardName
from etcbook.models.card_refs import CardRef, card_id_of, shared_last4
from etcbook.models.dialect import as_date
from etcbook.models.mileage_inputs import load_card_inputs
from etcbook.models.reconcile import (
    TRIP_FIELDS,
    list_incidents,
    reconciled_months,
    suspicious_trip_list,
    trip_months,
)

VAULT_KINDS = ("certificate", "detail_csv")
"""The documents of ETC利用照会サービス (利用証明書, 走行明細CSV): a month holding one of them in
the vault no longer needs downloading before the 15-month window closes."""


def _month(text_: str) -> dt.date:
    return dt.date(int(text_[:4]), int(text_[5:7]), 1)


def changed_reconciled_months(*, connection: Connection) -> dict[int, set[str]]:
    """Card id → reconciled months whose trips changed (added, removed, other amounts or times)
    since their latest snapshot."""
    latest = connection.execute(
        text(
            "SELECT s.card_id, s.month, s.trips FROM reconcile_snapshots s"
            " WHERE s.id = (SELECT s2.id FROM reconcile_snapshots s2 WHERE s2.card_id = s.card_id"
            " AND s2.month = s.month ORDER BY s2.marked_at DESC, s2.id DESC LIMIT 1)"
        )
    ).all()
    changed: dict[int, set[str]] = {}
    for card_id, month, trips_json in latest:
        marked = {
            trip_id: tuple(values.get(f) for f in TRIP_FIELDS)
            for trip_id, values in json.loads(trips_json).items()
        }
        start = _month(month)
        end = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        now = {
            str(r[0]): (r[1], r[2], r[3] or None, r[4], r[5], (r[6] or "").startswith("確認中"))
            for r in connection.execute(
                text(
                    "SELECT t.id, c.last4, t.dated_at, t.entry_ic, t.exit_ic, t.toll, t.status"
                    " FROM trips t JOIN cards c ON c.id = t.card_id"
                    " WHERE t.card_id = :card AND t.dated_at >= :start AND t.dated_at < :end"
                ),
                {"card": card_id, "start": start.isoformat(), "end": end.isoformat()},
            )
        }
        if marked != now:
            changed.setdefault(card_id, set()).add(month)
    return changed


def vault_months(*, connection: Connection) -> dict[int, set[str]] | None:
    """Card id → months with a 利用証明書 or 走行明細CSV in the vault; None without a vault table.

    An original kept under last 4 digits before any card had them (no card id) counts for the
    one card with those digits; where several cards share them it counts for none of them, so
    that a reminder errs on the side of downloading."""
    from sqlalchemy import inspect

    if not inspect(connection).has_table("documents"):
        return None
    found: dict[int, set[str]] = {}
    for card_id, month in connection.execute(
        text(
            "SELECT DISTINCT coalesce(d.card_id, c.id), d.month FROM documents d"
            " LEFT JOIN cards c ON d.card_id IS NULL AND c.last4 = d.card_last4"
            " AND NOT EXISTS (SELECT 1 FROM cards c2 WHERE c2.last4 = c.last4 AND c2.id <> c.id)"
            " WHERE d.removed_at IS NULL"
            f" AND d.kind IN ({', '.join(repr(k) for k in VAULT_KINDS)})"
        )
    ):
        if card_id is not None:
            found.setdefault(card_id, set()).add(month)
    return found


def _trips_before_twentieth_after(connection: Connection, as_of: dt.date) -> bool:
    """Whether a trip exits after ``as_of`` in the month the next 20th pays for: a state at the
    end of ``as_of`` does not hold it (``as_of`` in the past), so that 20th must be replayed."""
    grant_month_end = next_twentieth(as_of).replace(day=1)
    found = connection.execute(
        text("SELECT 1 FROM trips WHERE dated_at >= :after AND dated_at < :before LIMIT 1"),
        {
            "after": (as_of + dt.timedelta(days=1)).isoformat(),
            "before": grant_month_end.isoformat(),
        },
    ).first()
    return found is not None


def reminder_facts(
    *,
    connection: Connection,
    as_of: dt.date,
    rules: Rules,
    states: Mapping[int | str, CardState] | None = None,
) -> list[CardReminderFacts]:
    """What the reminders need about every card at the end of ``as_of``.

    ``states`` (card id, or カード末尾4桁 where one card has them → the engine's state of the
    card's registration at the end of ``as_of``, as :func:`etcbook.models.mileage_inputs.card_states`
    gives them) spares the replays; a card missing from it is replayed here. What the next 20th brings is read from
    the state (:func:`~etcbook.domain.mileage.due_on_twentieth`), or replayed up to that day
    when trips after ``as_of`` still count for it (an ``as_of`` in the past).
    """
    for last4, state in (states or {}).items():
        if state.as_of != end_of_day(as_of):
            raise ValueError(f"state of card {last4} is at {state.as_of}, not the end of {as_of}")
    cards = connection.execute(
        text(
            "SELECT last4, holder, status, expires, login_id, last_login_on, auto_exchange, id,"
            " label FROM cards ORDER BY last4, id"
        )
    ).all()
    links = load_links(connection=connection)
    months = trip_months(connection=connection)
    reconciled = reconciled_months(connection=connection)
    changed = changed_reconciled_months(connection=connection)
    vault = vault_months(connection=connection)
    incidents = list_incidents(connection=connection, open_only=True)
    # By card id: cards of a fleet may share their last 4 digits.
    suspicious: dict[int | None, int] = {}
    for item in suspicious_trip_list(connection=connection):
        card_id = card_id_of(item.trip.card)
        suspicious[card_id] = suspicious.get(card_id, 0) + 1
    shared = shared_last4(connection=connection)
    twentieth = next_twentieth(as_of)
    read_ahead = _trips_before_twentieth_after(connection, as_of)
    loaded: dict[int, CardInput] = {}

    def chained(card_id: int) -> CardInput:
        if not loaded:  # read once, for every card, the first time one is needed
            refs = [CardRef(c[7], c[0], bool(c[6])) for c in cards]
            loaded.update(load_card_inputs(connection=connection, cards=refs, rules=rules))
        return loaded[card_id]

    facts = []
    for last4, holder, status, expires, login_id, last_login, auto, card_id, label in cards:
        segments = registration_segments(last4, registration_links(links, card_id))
        holds_registration = segments[-1].card == last4
        lots: tuple[PointLot, ...] = ()
        grants: tuple[UpcomingGrant, ...] = ()
        credit = 0
        last_change = None
        auto_units: Mapping[str, object] = {}
        if holds_registration:
            given = None if states is None else states.get(card_id)
            if given is None and states is not None and last4 not in shared:
                given = states.get(last4)
            now = replay(chained(card_id), rules, end_of_day(as_of)) if given is None else given
            lots = tuple(
                PointLot(pool, rules.pools[pool].name, lot.expires_on, lot.remaining)
                for pool, state in now.pools.items()
                for lot in state.lots
            )
            if read_ahead:
                due = _replayed_due(chained(card_id), rules, twentieth)
            else:
                due = due_on_twentieth(now, twentieth)
            credit = due.rebate
            grants = tuple(
                UpcomingGrant(pool, rules.pools[pool].name, points)
                for pool, points in due.points.items()
            )
            last_change = now.last_change_at
            auto_units = {key: pool.auto_unit for key, pool in rules.pools.items()}
        facts.append(
            CardReminderFacts(
                # digits another card shares carry the card's id (``reminders --json`` says it)
                card=CardName.of(last4, card_id) if last4 in shared else last4,
                holder=holder or "",
                status=status,
                expires=expires,
                login_id=login_id,
                last_login_on=None if last_login is None else as_date(str(last_login)),
                lots=lots,
                last_change_at=last_change,
                next_grants=grants,
                next_rebate_credit=credit,
                auto_exchange=bool(auto),
                auto_units=auto_units,  # type: ignore[arg-type]
                trip_months=frozenset(_month(m) for m in months.get(card_id, ())),
                reconciled_months=frozenset(_month(m) for m in reconciled.get(card_id, ())),
                changed_months=frozenset(_month(m) for m in changed.get(card_id, ())),
                vault_months=None
                if vault is None
                else frozenset(_month(m) for m in vault.get(card_id, ())),
                incidents=tuple(
                    IncidentNote(
                        incident_id=i.incident_id or 0,
                        kind_label=INCIDENT_KIND_LABELS[i.kind],
                        next_step=None if (step := next_step(i)) is None else step.label,
                        noticed_on=i.noticed_at.date(),
                    )
                    for i in incidents
                    if card_id_of(i.card) == card_id
                ),
                suspicious_trips=suspicious.get(card_id, 0),
                label=(label or "") if last4 in shared else "",
            )
        )
    return facts


def _replayed_due(card: CardInput, rules: Rules, twentieth: dt.date) -> DueOnTwentieth:
    """What the 20th brings, from the ledger of a replay up to the end of that day."""
    ahead = replay(card, rules, end_of_day(twentieth))
    at = dt.datetime(twentieth.year, twentieth.month, twentieth.day)
    by_pool: dict[str, int] = {}
    credit = 0
    for entry in ahead.ledger:
        if entry.at != at:
            continue
        if entry.kind == "grant" and entry.pool is not None:
            by_pool[entry.pool] = by_pool.get(entry.pool, 0) + entry.points
        elif entry.kind == "morning_evening":
            credit += entry.rebate
    return DueOnTwentieth(twentieth, by_pool, credit)


def dashboard_reminders(
    *,
    connection: Connection,
    as_of: dt.date | None = None,
    rules: Rules | None = None,
    states: Mapping[int | str, CardState] | None = None,
) -> tuple[Reminder, ...]:
    """Every card's reminders at the end of ``as_of`` (default: today), most urgent first.

    For the dashboard and ``etcbook reminders``; each item has ``kind``, ``card``,
    ``severity`` (urgent / warning / info), a Japanese ``message`` and, where it applies,
    ``due``, ``days_left``, ``pool``, ``points``, ``yen``, ``months`` and ``ref``
    (see :class:`etcbook.domain.reminders.Reminder`; :func:`~etcbook.domain.reminders.reminder_json`
    gives the JSON shape).

    ``states``: the engine's card states at the end of ``as_of`` when the caller has them
    (the window's shared engine run), by card id (or カード末尾4桁); see :func:`reminder_facts`.
    """
    as_of = clock.today() if as_of is None else as_of
    rules = load_rules() if rules is None else rules
    facts = reminder_facts(connection=connection, as_of=as_of, rules=rules, states=states)
    return reminders_at(as_of, facts)
