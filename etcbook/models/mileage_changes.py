"""Checked changes of the mileage ledger, shared by the ``etcbook`` commands and the window:
a manual exchange, a card's 利用停止・再開, a manual adjustment of points or rebate, 通勤パス months, a trip
entered by hand, and the check that a change keeps the card's timeline valid.

Each function works in the caller's write transaction. It either records the change or raises
:class:`ChangeRefused` with the reason in Japanese; the caller's transaction then rolls back
and nothing is stored. Changes the engine could refuse (an adjustment taking away more than
the balance of that day, an exchange without the points) are replayed with the card's
timeline first, and refused as well when they would make a change recorded later fail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, text

from etcbook import clock
from etcbook.domain.alerts import Alert
from etcbook.domain.calendar import end_of_day
from etcbook.domain.mileage import Adjustment, CardInput, CardState, ExchangeInput, replay
from etcbook.domain.points import DEFAULT_OPERATOR, ExchangeUnit
from etcbook.domain.rules import Rules
from etcbook.models.audit import append_audit
from etcbook.models.card_refs import card_by_id
from etcbook.models.mileage import (
    CardRef,
    commute_pass_months,
    create_adjustment,
    create_exchange,
    create_manual_trip,
    create_stop,
    find_card,
    set_commute_pass_month,
    stop_events,
)
from etcbook.models.mileage_inputs import load_card_inputs
from etcbook.privacy import free_text


class ChangeRefused(ValueError):
    """A change that is not recorded; the message (Japanese) says why."""


class UnknownCard(ChangeRefused):
    """No card with these last 4 digits in the store."""


def card_for(*, connection: Connection, last4: str) -> CardRef:
    """The card ``last4``; :class:`UnknownCard` when it is not registered."""
    card = find_card(connection=connection, last4=last4)
    if card is None:
        raise UnknownCard(f"カード末尾{last4}は登録されていません")
    return card


# --- the engine's check ----------------------------------------------------------------------


def card_input(*, connection: Connection, card: CardRef, rules: Rules) -> CardInput:
    """The engine's input of ``card``'s registration as stored now."""
    return load_card_inputs(connection=connection, cards=[card], rules=rules)[card.id]


def replay_horizon(card: CardInput, *moments: dt.datetime) -> dt.datetime:
    """A replay end covering today, ``moments`` and everything recorded on the card."""
    latest = [clock.now(), *moments]
    latest.extend(trip.exit_at for trip in card.trips)
    latest.extend(exchange.at for exchange in card.exchanges)
    latest.extend(stop.at for stop in card.stops)
    latest.extend(dt.datetime.combine(a.on, dt.time()) for a in card.adjustments)
    return end_of_day(max(latest).date())


def _refusals(state: CardState, kinds: tuple[str, ...]) -> dict[int | None, Alert]:
    return {alert.ref: alert for alert in state.alerts if alert.kind in kinds}


def check_change(
    before: CardInput, after: CardInput, rules: Rules, until: dt.datetime, kinds: tuple[str, ...]
) -> None:
    """Refuse a change (``before`` → ``after``) that the replay refuses (alerts of ``kinds``
    about the new record), or one that makes a change recorded before it fail."""
    old = _refusals(replay(before, rules, until), kinds)
    new = _refusals(replay(after, rules, until), kinds)
    if None in new:
        refused = new[None]
        if refused.kind == "adjustment_clamped":
            amount = (
                f"{-refused.points:,}P"
                if refused.points is not None
                else f"{-(refused.yen or 0):,}円"
            )
            message = f"減らす量（{amount}）がその日の残高を超えています。"
        else:
            message = refused.message.split(": ", 1)[-1]
        raise ChangeRefused(f"記録しませんでした。{message}")
    broken = [alert for ref, alert in new.items() if ref not in old]
    if broken:
        raise ChangeRefused(
            f"記録しませんでした。記録すると後の記録が成り立たなくなります: {broken[0].message}"
        )


# --- exchanges -------------------------------------------------------------------------------


def record_exchanges(
    *,
    connection: Connection,
    rules: Rules,
    last4: str,
    exchanges: Sequence[tuple[dt.datetime, str, tuple[ExchangeUnit, ...]]],
) -> list[int]:
    """Record manual exchanges ``(at, pool, units)`` of one card; return their ids.

    Replayed with the card's timeline first: refused (nothing written) when the engine refuses
    one (not enough points at that time, a unit off the grid) or one makes an exchange already
    recorded fail.
    """
    if not exchanges:
        return []
    card = card_for(connection=connection, last4=last4)
    before = card_input(connection=connection, card=card, rules=rules)
    added = tuple(ExchangeInput(at, pool, units) for at, pool, units in exchanges)
    after = replace(before, exchanges=(*before.exchanges, *added))
    until = replay_horizon(before, *(at for at, _pool, _units in exchanges))
    check_change(before, after, rules, until, ("exchange_refused",))
    ids = []
    for at, pool, units in exchanges:
        exchange_id = create_exchange(
            connection=connection, card_id=card.id, at=at, pool=pool, units=units
        )
        append_audit(
            connection=connection,
            entity="point_exchanges",
            entity_id=exchange_id,
            action="add",
            new={
                "card": card.last4,
                "at": at.isoformat(),
                "pool": pool,
                "points": sum(unit.points for unit in units),
                "rebate": sum(unit.yen for unit in units),
            },
        )
        ids.append(exchange_id)
    return ids


# --- 利用停止・再開 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StopRecorded:
    """A recorded 利用停止 (``stopped``) or 再開 of ``card`` at ``at``; ``id`` of its row."""

    id: int
    card: str
    at: dt.datetime
    stopped: bool


def record_stop(
    *, connection: Connection, last4: str, at: dt.datetime, stopped: bool, note: str = ""
) -> StopRecorded:
    """Record ETCマイレージ 利用停止 (``stopped``) or 利用再開 of a card at ``at``.

    Refused: a stop while the card is already stopped then, a resume while it is not. When
    it is the card's latest event, the card's status follows (利用停止中 / 有効).
    """
    card = card_for(connection=connection, last4=last4)
    events = stop_events(connection=connection, card_id=card.id)
    state = False
    for event_at, event_stopped in events:
        if event_at <= at:
            state = event_stopped
    if stopped and state:
        raise ChangeRefused(
            f"カード末尾{card.last4}は{at:%Y-%m-%d %H:%M}の時点ですでに利用停止中です"
        )
    if not stopped and not state:
        raise ChangeRefused(
            f"カード末尾{card.last4}は{at:%Y-%m-%d %H:%M}の時点で利用停止されていません"
        )
    event_id = create_stop(
        connection=connection, card_id=card.id, at=at, stopped=stopped, note=note.strip()
    )
    append_audit(
        connection=connection,
        entity="card_stops",
        entity_id=event_id,
        action="stop" if stopped else "resume",
        new={"card": card.last4, "at": at.isoformat()},
        reason=note.strip(),
    )
    if all(event_at <= at for event_at, _ in events):
        connection.execute(
            text(
                "UPDATE cards SET status = :status WHERE id = :id"
                " AND status IN ('active', 'stopped', 'details_missing')"
            ),
            {"status": "stopped" if stopped else "active", "id": card.id},
        )
    return StopRecorded(event_id, card.last4, at, stopped)


# --- adjustments -----------------------------------------------------------------------------

REASON_EXAMPLES = "キャンペーン加算、サイトの残高に合わせる"
"""Examples of an adjustment's reason, for messages and placeholders."""


@dataclass(frozen=True)
class AdjustmentRecorded:
    """A recorded manual adjustment (points of ``pool``, or rebate when ``pool`` is None)."""

    id: int
    card: str
    on: dt.date
    pool: str | None
    points: int
    rebate: int
    reason: str


def record_adjustment(
    *,
    connection: Connection,
    rules: Rules,
    last4: str,
    on: dt.date,
    reason: str,
    pool: str | None = None,
    points: int = 0,
    rebate: int = 0,
) -> AdjustmentRecorded:
    """Record a manual adjustment of one pool's points or of the rebate, effective at 00:00 of
    ``on`` (a campaign credit, a correction to match the site).

    Refused: no reason; nothing or both to adjust; points without a known pool, rebate with
    one; taking away more than the balance of that day; making a later record fail.
    """
    reason = free_text(reason.strip())
    if not reason:
        raise ChangeRefused(f"調整の理由を書いてください（例: {REASON_EXAMPLES}）")
    if points and rebate:
        raise ChangeRefused("ポイントと還元額は別々に調整してください")
    if not points and not rebate:
        raise ChangeRefused("0は調整になりません")
    pool_key: str | None = None
    if points:
        if not pool:
            raise ChangeRefused("ポイントの調整にはプールの指定が必要です")
        try:
            pool_key = rules.pool(pool).key
        except KeyError:
            raise ChangeRefused(
                f"プール「{pool}」はありません（{', '.join(rules.pools)}）"
            ) from None
    elif pool:
        raise ChangeRefused("還元額の調整にプールは指定しません")
    adjustment = Adjustment(on, reason, pool=pool_key, points=points, rebate=rebate)
    card = card_for(connection=connection, last4=last4)
    before = card_input(connection=connection, card=card, rules=rules)
    after = replace(before, adjustments=(*before.adjustments, adjustment))
    until = replay_horizon(before, dt.datetime.combine(on, dt.time()))
    check_change(before, after, rules, until, ("adjustment_clamped",))
    adjustment_id = create_adjustment(
        connection=connection,
        card_id=card.id,
        on=on,
        reason=reason,
        pool=pool_key,
        points=points,
        rebate=rebate,
    )
    append_audit(
        connection=connection,
        entity="mileage_adjustments",
        entity_id=adjustment_id,
        action="add",
        new={
            "card": card.last4,
            "on": on.isoformat(),
            "pool": pool_key,
            "points": points,
            "rebate": rebate,
            "reason": reason,
        },
        reason=reason,
    )
    return AdjustmentRecorded(adjustment_id, card.last4, on, pool_key, points, rebate, reason)


# --- 通勤パス months ---------------------------------------------------------------------------


def check_month(month: str) -> str:
    """``YYYY-MM`` as given, or ChangeRefused."""
    try:
        value = dt.datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise ChangeRefused(f"月は YYYY-MM で指定してください: {month!r}") from None
    return value.strftime("%Y-%m")


def set_commute_pass(
    *, connection: Connection, last4: str, month: str | None = None, present: bool = True
) -> list[str]:
    """Mark (``present``) or unmark ``month`` as a 通勤パス month of the card (no 平日朝夕割引
    that month); return the card's 通勤パス months after. Without ``month``, only read them."""
    card = card_for(connection=connection, last4=last4)
    if month is not None:
        set_commute_pass_month(
            connection=connection, card_id=card.id, month=check_month(month), present=present
        )
    return commute_pass_months(connection=connection, card_id=card.id)


# --- trips by hand ---------------------------------------------------------------------------


def add_trip_by_hand(
    *,
    connection: Connection,
    last4: str,
    exit_at: dt.datetime,
    exit_ic: str,
    toll: int,
    entry_at: dt.datetime | None = None,
    entry_ic: str | None = None,
    operator: str = DEFAULT_OPERATOR,
    morning_evening: bool = False,
    rebate_applied: int | None = None,
) -> int:
    """Add a trip that is not in (or not yet imported from) a 明細CSV; return its id.

    A later import of the statement recognises it (same card, times and ICs) rather than
    adding it twice. Refused: an unknown operator key, an entry after the exit, no exit IC,
    a 還元額適用料金 outside 0 … toll.
    """
    from etcbook.models.trips import check_operator

    try:
        operator = check_operator(operator)
    except ValueError as exc:
        raise ChangeRefused(str(exc)) from None
    if entry_at is not None and entry_at > exit_at:
        raise ChangeRefused("入口の日時が出口の日時より後になっています")
    exit_ic = exit_ic.strip()
    if not exit_ic:
        raise ChangeRefused("出口ICを指定してください")
    if rebate_applied is not None and not (min(0, toll) <= rebate_applied <= max(0, toll)):
        raise ChangeRefused("還元額適用料金は0から通行料金までの金額です")
    card = card_for(connection=connection, last4=last4)
    trip_id = create_manual_trip(
        connection=connection,
        values={
            "card_id": card.id,
            "entry_at": entry_at,
            "exit_at": exit_at,
            "entry_ic": (entry_ic or "").strip() or None,
            "exit_ic": exit_ic,
            "toll": toll,
            "rebate_applied": rebate_applied,
            "deferred_toll": None if rebate_applied is None else toll - rebate_applied,
            "operator": operator,
            "morning_evening": morning_evening,
            "flags": "（朝夕）" if morning_evening else "",
        },
    )
    append_audit(
        connection=connection,
        entity="trip",
        entity_id=trip_id,
        action="add",
        new={
            "card": card.last4,
            "entry_at": entry_at.isoformat() if entry_at else None,
            "exit_at": exit_at.isoformat(),
            "exit_ic": exit_ic,
            "toll": toll,
        },
        reason="手で追加",
    )
    return trip_id


# --- reversals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReversibleRecord:
    """A recorded exchange or adjustment of a card, as the reversal lists it.

    Attributes:
        kind: ``exchange`` or ``adjustment``.
        id: its row id.
        card: card last 4.
        at: when it takes effect.
        pool: pool key (``None`` for a rebate adjustment).
        points: points (spent by an exchange; signed for an adjustment).
        rebate: yen of rebate (received by an exchange; signed for an adjustment).
        note: the adjustment's reason, or the exchange's units.
        reversed_at: when it was reversed, or ``None``.
        reversed_reason: why.
    """

    kind: str
    id: int
    card: str
    at: dt.datetime
    pool: str | None
    points: int
    rebate: int
    note: str
    reversed_at: dt.datetime | None = None
    reversed_reason: str | None = None

    def describe(self) -> str:
        """One line in Japanese: ``2026-11-20 09:00 交換 nexco 3,000P → 2,500円``."""
        when = f"{self.at:%Y-%m-%d %H:%M}"
        if self.kind == "exchange":
            return f"{when} 交換 {self.pool} {self.points:,}P → {self.rebate:,}円"
        what = f"{self.pool} {self.points:+,}P" if self.points else f"還元額 {self.rebate:+,}円"
        return f"{self.at:%Y-%m-%d} 調整 {what}（{self.note}）"

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "id": self.id,
            "card": self.card,
            "at": self.at.isoformat(),
            "pool": self.pool,
            "points": self.points,
            "rebate": self.rebate,
            "note": self.note,
            "reversed_at": self.reversed_at.isoformat() if self.reversed_at else None,
            "reversed_reason": self.reversed_reason,
        }


_REVERSIBLE = {
    "exchange": (
        "SELECT e.id, c.last4, e.at, e.pool, e.points, e.yen AS rebate, e.units AS note,"
        " e.reversed_at, e.reversed_reason, c.id AS card_id"
        " FROM point_exchanges e JOIN cards c ON c.id = e.card_id"
    ),
    "adjustment": (
        'SELECT a.id, c.last4, a."on" AS at, a.pool, a.points, a.rebate, a.reason AS note,'
        " a.reversed_at, a.reversed_reason, c.id AS card_id FROM mileage_adjustments a"
        " JOIN cards c ON c.id = a.card_id"
    ),
}
_TABLES = {"exchange": "point_exchanges", "adjustment": "mileage_adjustments"}


def _reversible(kind: str, row: Any) -> ReversibleRecord:
    at = row.at if isinstance(row.at, dt.datetime) else dt.datetime.fromisoformat(str(row.at))
    reversed_at = (
        dt.datetime.fromisoformat(str(row.reversed_at)) if row.reversed_at is not None else None
    )
    return ReversibleRecord(
        kind, row.id, row.last4, at, row.pool, row.points, row.rebate, row.note or "",
        reversed_at, row.reversed_reason,
    )  # fmt: skip


def reversible_records(
    *, connection: Connection, last4: str, include_reversed: bool = False
) -> list[ReversibleRecord]:
    """The card's recorded exchanges and adjustments, newest first."""
    card = card_for(connection=connection, last4=last4)
    records = []
    for kind, sql in _REVERSIBLE.items():
        where = " WHERE c.id = :card" + ("" if include_reversed else " AND reversed_at IS NULL")
        for row in connection.execute(text(sql + where), {"card": card.id}):
            records.append(_reversible(kind, row))
    return sorted(records, key=lambda r: (r.at, r.kind, r.id), reverse=True)


def reverse_record(
    *, connection: Connection, rules: Rules, kind: str, record_id: int, reason: str
) -> ReversibleRecord:
    """Reverse a mistaken exchange or adjustment: it stays in the store marked 取消 (when, why)
    and the engine leaves it out; the audit log keeps the record and its reversal.

    Refused: no reason; an unknown or already reversed record; a reversal that makes a later
    record fail (an exchange that needed the points an adjustment added).
    """
    if kind not in _TABLES:
        raise ChangeRefused(f"取り消せるのは交換と調整です（{kind}）")
    reason = free_text(reason.strip())
    if not reason:
        raise ChangeRefused(
            "取り消す理由を書いてください（例: 記録の誤り、サイトで交換していない）"
        )
    row = connection.execute(
        text(_REVERSIBLE[kind] + " WHERE " + kind[0] + ".id = :id"), {"id": record_id}
    ).first()
    if row is None:
        from etcbook.models.refusals import not_yours

        raise ChangeRefused(
            not_yours(connection, _TABLES[kind], record_id)
            or f"{'交換' if kind == 'exchange' else '調整'} {record_id} はありません"
        )
    record = _reversible(kind, row)
    if record.reversed_at is not None:
        raise ChangeRefused(f"{record.describe()} はすでに取り消されています")
    # The record's own card, by id (another card may share its last 4 digits).
    card = card_by_id(connection=connection, card_id=row.card_id)
    assert card is not None  # the record's card, read in the same statement
    before = card_input(connection=connection, card=card, rules=rules)
    if kind == "exchange":
        after = replace(
            before, exchanges=tuple(x for x in before.exchanges if x.exchange_id != record_id)
        )
    else:
        after = replace(
            before,
            adjustments=tuple(a for a in before.adjustments if a.adjustment_id != record_id),
        )
    check_change(
        before,
        after,
        rules,
        replay_horizon(before, record.at),
        ("exchange_refused", "adjustment_clamped"),
    )
    now = clock.now().replace(microsecond=0)
    connection.execute(
        text(
            f"UPDATE {_TABLES[kind]} SET reversed_at = :at, reversed_reason = :reason"
            " WHERE id = :id AND reversed_at IS NULL"
        ),
        {"at": now.isoformat(), "reason": reason, "id": record_id},
    )
    append_audit(
        connection=connection,
        entity=_TABLES[kind],
        entity_id=record_id,
        action="reverse",
        old=record.to_json(),
        new={"reversed_at": now.isoformat(), "reversed_reason": reason},
        reason=reason,
        at=now,
    )
    return replace(record, reversed_at=now, reversed_reason=reason)
