"""Tables and keyword-only queries of 月次照合 and incidents.

- ``reconcile_reports``: the figures the user read on the site and the card statement, per card
  and month (each optional), kept so the window and later runs show them again;
- ``reconcile_snapshots``: a month marked reconciled — the reconciliation document and a
  fingerprint of each of the month's trips, so later changes are flagged against it;
- ``incidents``, ``incident_steps``, ``incident_contacts``: a lost, stolen or damaged card, the
  steps of DOMAIN.md §5 with their date-times and references, and the contact log;
- ``card_links``: 登録カード変更 from an old card to a new one (same holder only).

The rules live in :mod:`etcbook.domain.incidents` and :mod:`etcbook.domain.reconcile`; this
module stores and loads, and applies a step's effects in the same transaction as the step.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from etcbook import clock
from etcbook.domain.incidents import (
    CardChangeRefused,
    CardFacts,
    CardLink,
    ContactEntry,
    Incident,
    IncidentKind,
    StepRecord,
    TripRef,
    check_card_change,
    check_step,
    suspicious_trips,
)
from etcbook.domain.reconcile import Reported, TripLine
from etcbook.models.card_links import load_links
from etcbook.models.card_refs import CardName, card_id_for, card_id_of
from etcbook.models.cards import CardNotFound
from etcbook.models.columns import IsoDateTime
from etcbook.models.dialect import as_datetime, month_of
from etcbook.privacy import free_text

# --- tables ----------------------------------------------------------------------------------


class ReconcileReport(SQLModel, table=True):
    """Figures read on the ETCマイレージ site and the card statement for one card and month."""

    __tablename__ = "reconcile_reports"
    __table_args__ = (UniqueConstraint("card_id", "month", name="uq_reconcile_reports_card_month"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT")
    month: str
    rebate_opening: int | None = None
    rebate_closing: int | None = None
    statement_total: int | None = None
    points: str = "{}"
    updated_at: dt.datetime = Field(sa_type=IsoDateTime)


class ReconcileSnapshot(SQLModel, table=True):
    """A month marked reconciled: the reconciliation as it was, and its trips' fingerprints."""

    __tablename__ = "reconcile_snapshots"
    __table_args__ = (Index("ix_reconcile_snapshots_card_month", "card_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT")
    month: str
    marked_at: dt.datetime = Field(sa_type=IsoDateTime)
    document: str
    trips: str


class IncidentRow(SQLModel, table=True):
    """紛失・盗難・破損 of a card."""

    __tablename__ = "incidents"

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT", index=True)
    kind: str
    noticed_at: dt.datetime = Field(sa_type=IsoDateTime)
    closed_at: dt.datetime | None = Field(default=None, sa_type=IsoDateTime)
    note: str = ""
    created_at: dt.datetime = Field(sa_type=IsoDateTime)


class IncidentStepRow(SQLModel, table=True):
    """A step of an incident done, with its date-time and references."""

    __tablename__ = "incident_steps"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", ondelete="CASCADE", index=True)
    step: str
    at: dt.datetime = Field(sa_type=IsoDateTime)
    desk: str = ""
    reference: str = ""
    person: str = ""
    details: str = "{}"
    note: str = ""
    recorded_at: dt.datetime = Field(sa_type=IsoDateTime)


class IncidentContactRow(SQLModel, table=True):
    """One line of an incident's contact log."""

    __tablename__ = "incident_contacts"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", ondelete="CASCADE", index=True)
    at: dt.datetime = Field(sa_type=IsoDateTime)
    desk: str
    person: str = ""
    reference: str = ""
    summary: str = ""
    recorded_at: dt.datetime = Field(sa_type=IsoDateTime)


class CardLinkRow(SQLModel, table=True):
    """登録カード変更: the old card's mileage registration passes to the new card."""

    __tablename__ = "card_links"
    __table_args__ = (
        UniqueConstraint("old_card_id", name="uq_card_links_old"),
        UniqueConstraint("new_card_id", name="uq_card_links_new"),
    )

    id: int | None = Field(default=None, primary_key=True)
    old_card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT")
    new_card_id: int = Field(foreign_key="cards.id", ondelete="RESTRICT")
    registered_at: dt.datetime = Field(sa_type=IsoDateTime)
    effective_at: dt.datetime = Field(sa_type=IsoDateTime)
    incident_id: int | None = Field(default=None, foreign_key="incidents.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(sa_type=IsoDateTime)


# --- helpers ---------------------------------------------------------------------------------


class IncidentError(ValueError):
    """An incident operation refused; the message is Japanese and nothing changed."""


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: str | None) -> dt.datetime | None:
    return None if value is None else as_datetime(value)


def card_row(*, connection: Connection, last4: str) -> dict[str, Any]:
    """A card as a dict (id, last4, holder, mileage_id, status, auto_exchange, …).

    ``last4`` names the card as :func:`etcbook.models.card_refs.card_id_for` reads it: a
    :class:`CardName` by its id; plain digits only when one card has them (``AmbiguousCard``
    otherwise: cards of a fleet may share their last 4 digits)."""
    card_id = card_id_for(connection=connection, card=last4)
    row = (
        connection.execute(text("SELECT * FROM cards WHERE id = :id"), {"id": card_id})
        .mappings()
        .first()
    )
    if row is None:
        raise CardNotFound(last4)
    return dict(row)


def _card_facts(row: Mapping[str, Any]) -> CardFacts:
    return CardFacts(
        last4=row["last4"],
        holder=row["holder"] or "",
        mileage_id=row["mileage_id"],
        status=row["status"],
    )


# --- reported figures and snapshots ----------------------------------------------------------


def load_reported(*, connection: Connection, card: str, month: str) -> Reported:
    """The figures saved for the card and month (empty when none)."""
    row = (
        connection.execute(
            text(
                "SELECT r.* FROM reconcile_reports r WHERE r.card_id = :card AND r.month = :month"
            ),
            {"card": card_id_for(connection=connection, card=card), "month": month},
        )
        .mappings()
        .first()
    )
    if row is None:
        return Reported()
    return Reported(
        rebate_opening=row["rebate_opening"],
        rebate_closing=row["rebate_closing"],
        statement_total=row["statement_total"],
        points={str(k): int(v) for k, v in json.loads(row["points"]).items()},
    )


def merge_reported(saved: Reported, given: Reported) -> Reported:
    """``given`` figures replace the saved ones; figures not given keep their saved value."""
    return Reported(
        rebate_opening=given.rebate_opening
        if given.rebate_opening is not None
        else saved.rebate_opening,
        rebate_closing=given.rebate_closing
        if given.rebate_closing is not None
        else saved.rebate_closing,
        statement_total=given.statement_total
        if given.statement_total is not None
        else saved.statement_total,
        points={**saved.points, **given.points},
    )


def save_reported(*, connection: Connection, card: str, month: str, reported: Reported) -> None:
    """Keep the figures for the card and month (replacing what was saved)."""
    card_id = card_row(connection=connection, last4=card)["id"]
    connection.execute(
        text(
            "INSERT INTO reconcile_reports (card_id, month, rebate_opening, rebate_closing,"
            " statement_total, points, updated_at) VALUES (:card_id, :month, :opening, :closing,"
            " :statement, :points, :now) ON CONFLICT (card_id, month) DO UPDATE SET"
            " rebate_opening = excluded.rebate_opening, rebate_closing = excluded.rebate_closing,"
            " statement_total = excluded.statement_total, points = excluded.points,"
            " updated_at = excluded.updated_at"
        ),
        {
            "card_id": card_id,
            "month": month,
            "opening": reported.rebate_opening,
            "closing": reported.rebate_closing,
            "statement": reported.statement_total,
            "points": json.dumps(dict(sorted(reported.points.items()))),
            "now": clock.now().isoformat(),
        },
    )


def trip_fingerprint(trip: TripLine) -> dict[str, Any]:
    """What a snapshot keeps of a trip to notice later changes."""
    return {
        "card": trip.card,
        "exit_at": trip.exit_at.isoformat(),
        "entry_ic": trip.entry_ic,
        "exit_ic": trip.exit_ic,
        "toll": trip.toll,
        "rebate_applied": trip.rebate_applied,
        "billed": trip.billed,
        "points": trip.points,
        "provisional": trip.provisional,
    }


TRIP_FIELDS = ("card", "exit_at", "entry_ic", "exit_ic", "toll", "provisional")
"""What makes a trip "changed" since a snapshot: the statement's own facts. The billed amount
and the points are kept in the fingerprint for reference only: they move when an exchange or a
stop is recorded later, which is not a change of the month's trips."""

FINGERPRINT_LABELS = {
    "card": "カード",
    "exit_at": "出口日時",
    "entry_ic": "入口",
    "exit_ic": "出口",
    "toll": "通行料金",
    "rebate_applied": "還元額充当",
    "billed": "請求額",
    "points": "ポイント",
    "provisional": "確認中",
}


@dataclass(frozen=True, slots=True)
class TripChange:
    """A change of a reconciled month's trips since it was marked.

    Attributes:
        trip_id: the trip.
        change: added, removed or changed.
        fields: (field, before, after) for a changed trip.
        message: Japanese description.
    """

    trip_id: int
    change: str
    fields: tuple[tuple[str, Any, Any], ...]
    message: str


def changes_since(
    marked: Mapping[str, Mapping[str, Any]], trips: Sequence[TripLine]
) -> tuple[TripChange, ...]:
    """How the month's trips differ from the fingerprints of a snapshot (keys are trip ids):
    trips added or removed, and :data:`TRIP_FIELDS` changed."""
    now = {str(t.trip_id): trip_fingerprint(t) for t in trips}
    changes: list[TripChange] = []
    for trip_id in sorted(set(marked) | set(now), key=int):
        before, after = marked.get(trip_id), now.get(trip_id)
        if before is None and after is not None:
            changes.append(
                TripChange(
                    int(trip_id),
                    "added",
                    (),
                    f"走行ID {trip_id}（{after['exit_at'][:16].replace('T', ' ')} "
                    f"{after['exit_ic']}、{after['billed']:,}円）が照合後に追加されました。",
                )
            )
        elif after is None and before is not None:
            changes.append(
                TripChange(
                    int(trip_id),
                    "removed",
                    (),
                    f"走行ID {trip_id}（{before['exit_at'][:16].replace('T', ' ')} "
                    f"{before['exit_ic']}）が照合後になくなりました。",
                )
            )
        elif before is not None and after is not None:
            fields = tuple(
                (name, before.get(name), after[name])
                for name in TRIP_FIELDS
                if before.get(name) != after[name]
            )
            if fields:
                what = "、".join(
                    f"{FINGERPRINT_LABELS.get(name, name)} {old}→{new}" for name, old, new in fields
                )
                changes.append(
                    TripChange(
                        int(trip_id),
                        "changed",
                        fields,
                        f"走行ID {trip_id}が照合後に変わりました（{what}）。",
                    )
                )
    return tuple(changes)


def save_snapshot(
    *,
    connection: Connection,
    card: str,
    month: str,
    document: Mapping[str, Any],
    trips: Sequence[TripLine],
) -> dt.datetime:
    """Mark the month reconciled: keep the document and the trips' fingerprints."""
    card_id = card_row(connection=connection, last4=card)["id"]
    marked_at = clock.now()
    connection.execute(
        text(
            "INSERT INTO reconcile_snapshots (card_id, month, marked_at, document, trips)"
            " VALUES (:card_id, :month, :at, :document, :trips)"
        ),
        {
            "card_id": card_id,
            "month": month,
            "at": marked_at.isoformat(),
            "document": json.dumps(document, ensure_ascii=False, default=str),
            "trips": json.dumps({str(t.trip_id): trip_fingerprint(t) for t in trips}),
        },
    )
    return marked_at


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The latest snapshot of a card and month.

    Attributes:
        marked_at: when the month was marked reconciled.
        document: the reconciliation as it was then.
        trips: trip id → fingerprint.
    """

    marked_at: dt.datetime
    document: Mapping[str, Any]
    trips: Mapping[str, Mapping[str, Any]]


def latest_snapshot(*, connection: Connection, card: str, month: str) -> Snapshot | None:
    """The month's latest snapshot, or None when it was never marked."""
    row = connection.execute(
        text(
            "SELECT s.marked_at, s.document, s.trips FROM reconcile_snapshots s"
            " WHERE s.card_id = :card AND s.month = :month"
            " ORDER BY s.marked_at DESC, s.id DESC LIMIT 1"
        ),
        {"card": card_id_for(connection=connection, card=card), "month": month},
    ).first()
    if row is None:
        return None
    return Snapshot(as_datetime(row[0]), json.loads(row[1]), json.loads(row[2]))


def reconciled_months(*, connection: Connection) -> dict[int, set[str]]:
    """Card id → the months marked reconciled (by id: cards may share their last 4 digits)."""
    found: dict[int, set[str]] = {}
    for card_id, month in connection.execute(
        text("SELECT DISTINCT card_id, month FROM reconcile_snapshots")
    ):
        found.setdefault(card_id, set()).add(month)
    return found


def trip_months(*, connection: Connection) -> dict[int, set[str]]:
    """Card id → the months (of exit) with trips (by id: cards may share their last 4 digits)."""
    found: dict[int, set[str]] = {}
    for card_id, month in connection.execute(
        text(f"SELECT DISTINCT card_id, {month_of('dated_at', connection)} FROM trips")
    ):
        found.setdefault(card_id, set()).add(month)
    return found


# --- incidents -------------------------------------------------------------------------------


def open_incident(
    *,
    connection: Connection,
    card: str,
    kind: IncidentKind,
    noticed_at: dt.datetime,
    note: str = "",
) -> int:
    """Start an incident for ``card``; returns its id."""
    card_id = card_row(connection=connection, last4=card)["id"]
    open_ = connection.execute(
        text("SELECT id FROM incidents WHERE card_id = :c AND closed_at IS NULL"), {"c": card_id}
    ).scalar()
    if open_ is not None:
        raise IncidentError(
            f"カード末尾{card}にはまだ完了していない記録（ID {open_}）があります。"
            f"そちらに手順を記録してください（etcbook incident show {open_}）。"
        )
    result = connection.execute(
        text(
            "INSERT INTO incidents (card_id, kind, noticed_at, note, created_at)"
            " VALUES (:card_id, :kind, :noticed_at, :note, :now) RETURNING id"
        ),
        {
            "card_id": card_id,
            "kind": kind,
            "noticed_at": noticed_at.isoformat(),
            "note": free_text(note),
            "now": clock.now().isoformat(),
        },
    )
    incident_id = int(result.scalar_one())
    return int(incident_id)


def load_incident(*, connection: Connection, incident_id: int) -> Incident:
    """An incident with its steps and contact log; IncidentError when there is none."""
    row = (
        connection.execute(
            text(
                "SELECT i.*, c.last4 FROM incidents i JOIN cards c ON c.id = i.card_id"
                " WHERE i.id = :id"
            ),
            {"id": incident_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        from etcbook.models.refusals import not_yours

        raise IncidentError(
            not_yours(connection, "incidents", incident_id)
            or f"記録 ID {incident_id} はありません（etcbook incident list）。"
        )
    steps = tuple(
        StepRecord(
            step=r["step"],
            at=as_datetime(r["at"]),
            desk=r["desk"],
            reference=r["reference"],
            person=r["person"],
            details={str(k): str(v) for k, v in json.loads(r["details"]).items()},
            note=r["note"],
            record_id=r["id"],
        )
        for r in connection.execute(
            text("SELECT * FROM incident_steps WHERE incident_id = :id ORDER BY id"),
            {"id": incident_id},
        ).mappings()
    )
    contacts = tuple(
        ContactEntry(
            at=as_datetime(r["at"]),
            desk=r["desk"],
            person=r["person"],
            reference=r["reference"],
            summary=r["summary"],
            entry_id=r["id"],
        )
        for r in connection.execute(
            text("SELECT * FROM incident_contacts WHERE incident_id = :id ORDER BY at, id"),
            {"id": incident_id},
        ).mappings()
    )
    return Incident(
        card=CardName.of(row["last4"], row["card_id"]),
        kind=row["kind"],
        noticed_at=as_datetime(row["noticed_at"]),
        steps=steps,
        contacts=contacts,
        closed_at=_dt(row["closed_at"]),
        note=row["note"],
        incident_id=row["id"],
    )


def list_incidents(
    *, connection: Connection, card: str | None = None, open_only: bool = False
) -> list[Incident]:
    """Incidents, newest first."""
    clauses, params = [], {}
    if card is not None:
        clauses.append("i.card_id = :card")
        params["card"] = card_id_for(connection=connection, card=card)
    if open_only:
        clauses.append("i.closed_at IS NULL")
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    ids = connection.execute(
        text(f"SELECT i.id FROM incidents i{where} ORDER BY i.noticed_at DESC, i.id DESC"),
        params,
    ).scalars()
    return [load_incident(connection=connection, incident_id=i) for i in list(ids)]


def change_card(
    *,
    connection: Connection,
    old: str,
    new: str,
    registered_at: dt.datetime,
    incident_id: int | None = None,
) -> CardLink:
    """Record 登録カード変更 from ``old`` to ``new``: refused (CardChangeRefused) unless the same
    holder. The old card becomes ``replaced``; the new card takes the old card's マイレージID
    (when it has none) and its auto-exchange setting, which belong to the registration.
    """
    old_row = card_row(connection=connection, last4=old)
    new_row = card_row(connection=connection, last4=new)
    if old_row["id"] != new_row["id"] and old_row["last4"] == new_row["last4"]:
        # A registration's chain names its cards by their digits (the site does too).
        raise CardChangeRefused(
            f"カード id:{old_row['id']} と id:{new_row['id']} は末尾4桁（{old_row['last4']}）が同じです。"
            "末尾4桁が同じカードどうしの登録カード変更は記録できません。"
        )
    ids = {old_row["id"], new_row["id"]}
    # Links of other cards that share these digits are no concern of this change.
    touching = [
        link
        for link in load_links(connection=connection)
        if card_id_of(link.old_card) in ids or card_id_of(link.new_card) in ids
    ]
    link = check_card_change(_card_facts(old_row), _card_facts(new_row), touching, registered_at)
    connection.execute(
        text(
            "INSERT INTO card_links (old_card_id, new_card_id, registered_at, effective_at,"
            " incident_id, created_at) VALUES (:old, :new, :registered, :effective, :incident,"
            " :now)"
        ),
        {
            "old": old_row["id"],
            "new": new_row["id"],
            "registered": link.registered_at.isoformat(),
            "effective": link.effective_at.isoformat(),
            "incident": incident_id,
            "now": clock.now().isoformat(),
        },
    )
    connection.execute(
        text("UPDATE cards SET status = 'replaced' WHERE id = :id"), {"id": old_row["id"]}
    )
    connection.execute(
        text(
            "UPDATE cards SET mileage_id = coalesce(nullif(mileage_id, ''), :mileage_id),"
            " auto_exchange = :auto WHERE id = :id"
        ),
        {
            "mileage_id": old_row["mileage_id"],
            "auto": old_row["auto_exchange"],
            "id": new_row["id"],
        },
    )
    return CardLink(
        CardName.of(old_row["last4"], old_row["id"]),
        CardName.of(new_row["last4"], new_row["id"]),
        link.registered_at,
        link.effective_at,
        incident_id,
    )


def record_step(
    *, connection: Connection, incident_id: int, record: StepRecord
) -> tuple[int, list[str]]:
    """Record a step and apply its effects in the same transaction; returns (id, warnings).

    - ``mileage_stop``: a card stop for the mileage engine (card_stops) at the step's time, and
      the card's status becomes ``stopped``;
    - ``reissue_received``: the new card must be registered in etcbook (same holder);
    - ``card_change``: the card link (:func:`change_card`), refused for another holder.

    Raises IncidentError (or CardChangeRefused) with the reason; nothing is stored then.
    """
    incident = load_incident(connection=connection, incident_id=incident_id)
    if incident.closed_at is not None:
        raise IncidentError(f"記録 ID {incident_id} は完了しています。")
    errors, warnings = check_step(incident, record)
    if errors:
        raise IncidentError(" ".join(errors))
    new_card = record.details.get("new_card")
    if record.step in ("reissue_received", "card_change") and new_card:
        try:
            card_row(connection=connection, last4=new_card)
        except CardNotFound:
            raise IncidentError(
                f"新しいカード（末尾{new_card}）がetcbookにありません。先に登録してください"
                f"（etcbook card add --last4 {new_card} --holder 名義）。"
            ) from None
    if record.step == "card_change":
        if incident.record("card_change") is not None:
            raise IncidentError("登録カード変更はすでに記録されています。")
        assert new_card is not None
        change_card(
            connection=connection,
            old=incident.card,
            new=new_card,
            registered_at=record.at,
            incident_id=incident_id,
        )
    elif record.step == "mileage_stop":
        from etcbook.models.mileage import stop_events

        card = card_row(connection=connection, last4=incident.card)
        stopped_then = False
        for event_at, event_stopped in stop_events(connection=connection, card_id=card["id"]):
            if event_at <= record.at:
                stopped_then = event_stopped
        if stopped_then:
            # Already recorded (on the cards page, say): the step is kept, the stop not doubled.
            warnings.append(
                f"カード末尾{incident.card}は{record.at:%Y-%m-%d %H:%M}の時点ですでに利用停止中です。"
                "停止の記録は追加しません。"
            )
        else:
            from etcbook.models.mileage_changes import record_stop

            record_stop(
                connection=connection,
                last4=incident.card,
                at=record.at,
                stopped=True,
                note=f"紛失・トラブル 記録 ID {incident_id}",
            )
    result = connection.execute(
        text(
            "INSERT INTO incident_steps (incident_id, step, at, desk, reference, person, details,"
            " note, recorded_at) VALUES (:incident, :step, :at, :desk, :reference, :person,"
            " :details, :note, :now) RETURNING id"
        ),
        {
            "incident": incident_id,
            "step": record.step,
            "at": record.at.isoformat(),
            "desk": free_text(record.desk),
            "reference": record.reference,
            "person": free_text(record.person),
            "details": free_text(json.dumps(dict(record.details), ensure_ascii=False)),
            "note": free_text(record.note),
            "now": clock.now().isoformat(),
        },
    )
    return int(result.scalar_one()), warnings


def add_contact(*, connection: Connection, incident_id: int, entry: ContactEntry) -> int:
    """Append a line to the incident's contact log; returns its id."""
    load_incident(connection=connection, incident_id=incident_id)
    if not entry.desk.strip():
        raise IncidentError("連絡先の窓口を入力してください。")
    result = connection.execute(
        text(
            "INSERT INTO incident_contacts (incident_id, at, desk, person, reference, summary,"
            " recorded_at) VALUES (:incident, :at, :desk, :person, :reference, :summary, :now) RETURNING id"
        ),
        {
            "incident": incident_id,
            "at": entry.at.isoformat(),
            "desk": free_text(entry.desk),
            "person": free_text(entry.person),
            "reference": entry.reference,
            "summary": free_text(entry.summary),
            "now": clock.now().isoformat(),
        },
    )
    return int(result.scalar_one())


def close_incident(*, connection: Connection, incident_id: int, at: dt.datetime) -> None:
    """Mark the incident done."""
    incident = load_incident(connection=connection, incident_id=incident_id)
    if incident.closed_at is not None:
        raise IncidentError(f"記録 ID {incident_id} はすでに完了しています。")
    connection.execute(
        text("UPDATE incidents SET closed_at = :at WHERE id = :id"),
        {"at": at.isoformat(), "id": incident_id},
    )


def trip_refs(
    *,
    connection: Connection,
    card_ids: Sequence[int] | None = None,
    since: dt.datetime | None = None,
) -> list[TripRef]:
    """Trips as :class:`TripRef`, optionally of some cards (by id) and from a date-time on."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if card_ids is not None:
        names = {f"c{i}": int(card_id) for i, card_id in enumerate(card_ids)}
        if not names:
            return []
        clauses.append(f"t.card_id IN ({', '.join(':' + n for n in names)})")
        params.update(names)
    if since is not None:
        clauses.append("t.dated_at >= :since")
        params["since"] = since.isoformat()
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return [
        TripRef(r[0], r[1], as_datetime(r[2]), r[3], r[4], r[5])
        for r in connection.execute(
            text(
                "SELECT t.id, c.last4, t.dated_at, t.entry_ic, coalesce(t.exit_ic, ''), t.toll"
                f" FROM trips t JOIN cards c ON c.id = t.card_id{where} ORDER BY t.dated_at, t.id"
            ),
            params,
        )
    ]


def suspicious_trip_list(*, connection: Connection, card: str | None = None) -> list[Any]:
    """Trips on a card after its stop or replacement (:func:`suspicious_trips`)."""
    incidents = list_incidents(connection=connection)
    links = load_links(connection=connection)
    concerned = {card_id_of(i.card) for i in incidents if i.stop_at is not None} | {
        card_id_of(link.old_card) for link in links
    }
    if card is not None:
        concerned &= {card_id_for(connection=connection, card=card)}
    found: list[Any] = []
    # One card at a time: the domain keys cards by their last 4 digits, which cards of a fleet
    # may share; each card is judged by its own incidents and links only.
    for card_id in sorted(i for i in concerned if i is not None):
        found += suspicious_trips(
            trip_refs(connection=connection, card_ids=[card_id]),
            [i for i in incidents if card_id_of(i.card) == card_id],
            [link for link in links if card_id_of(link.old_card) == card_id],
        )
    return sorted(found, key=lambda s: (s.trip.exit_at, s.trip.trip_id))


def incident_json(incident: Incident) -> dict[str, Any]:
    """The JSON shape of an incident, with the guide's progress."""
    from etcbook.domain.incidents import INCIDENT_KIND_LABELS, progress

    return {
        "id": incident.incident_id,
        "card": incident.card,
        "kind": incident.kind,
        "kind_label": INCIDENT_KIND_LABELS[incident.kind],
        "noticed_at": _iso(incident.noticed_at),
        "closed_at": _iso(incident.closed_at),
        "stop_at": _iso(incident.stop_at),
        "note": incident.note,
        "steps": [
            {
                "step": item.spec.key,
                "label": item.spec.label,
                "state": item.state,
                "guidance": item.spec.guidance,
                "at": None if item.record is None else _iso(item.record.at),
                "desk": None if item.record is None else item.record.desk,
                "reference": None if item.record is None else item.record.reference,
                "person": None if item.record is None else item.record.person,
                "details": {} if item.record is None else dict(item.record.details),
                "note": None if item.record is None else item.record.note,
            }
            for item in progress(incident)
        ],
        "contacts": [
            {
                "id": c.entry_id,
                "at": _iso(c.at),
                "desk": c.desk,
                "person": c.person,
                "reference": c.reference,
                "summary": c.summary,
            }
            for c in incident.contacts
        ],
    }
