"""紛失・盗難・破損 (card incidents): the guided steps of DOMAIN.md §5 and what they change.

Order of the steps: issuer stop → ETCマイレージ 利用停止 (not cancellation) → police report
(遺失届/盗難届: 受理番号・受理年月日・警察署) → reissue ordered and received (same holder) →
登録カード変更 → old card destroyed. Each step is recorded with its date-time and reference;
a contact log keeps every call (date-time, desk, person, reference number, what was agreed).

Effects, computed here and applied by the store:

- the 利用停止 is a card stop for the mileage engine: no points, no rebate from then on;
- 登録カード変更 links the old and the new card (same holder only), takes effect at 00:00 the
  next day and moves the rebate and the points to the new card: the mileage registration is
  one ledger that the old card holds until the change and the new card after it
  (:func:`registration_segments`); trips that night still count on the old card;
- trips on the old card after its stop time (or after the change took effect) are suspicious.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:  # the engine is imported when a registration is built, not with the rules
    from etcbook.domain.mileage import Adjustment, CardInput, ExchangeInput, StopEvent, TripInput

IncidentKind = Literal["lost", "stolen", "damaged"]

INCIDENT_KINDS: Final[tuple[IncidentKind, ...]] = ("lost", "stolen", "damaged")

INCIDENT_KIND_LABELS: Final[Mapping[IncidentKind, str]] = {
    "lost": "紛失",
    "stolen": "盗難",
    "damaged": "破損",
}

StepKey = Literal[
    "issuer_stop",
    "mileage_stop",
    "police_report",
    "reissue_ordered",
    "reissue_received",
    "card_change",
    "old_card_destroyed",
]

StepState = Literal["done", "next", "pending", "not_needed"]


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step of the incident guide.

    Attributes:
        key: step key.
        label: Japanese name.
        guidance: what to do, in Japanese.
        needs: detail fields the step must carry (see :data:`DETAIL_LABELS`).
        not_for: incident kinds the step is not needed for.
    """

    key: StepKey
    label: str
    guidance: str
    needs: tuple[str, ...] = ()
    not_for: tuple[IncidentKind, ...] = ()


STEPS: Final[tuple[StepSpec, ...]] = (
    StepSpec(
        "issuer_stop",
        "カード発行元へ利用停止の連絡",
        "クレジットカード会社の紛失・盗難デスク（ETCパーソナルカードは専用窓口）に電話し、"
        "カードを止めてもらいます。受付番号と担当者名を控えてください。",
        needs=("desk",),
    ),
    StepSpec(
        "mileage_stop",
        "ETCマイレージの利用停止",
        "ETCマイレージサービスで「利用停止」を申請します（退会ではありません）。"
        "停止中はポイントが付かず、還元額も使われません。",
    ),
    StepSpec(
        "police_report",
        "警察へ遺失届・盗難届",
        "最寄りの警察署・交番で届け出て、受理番号・受理年月日・警察署名を控えます。",
        needs=("police_station", "accepted_number", "accepted_on"),
        not_for=("damaged",),
    ),
    StepSpec(
        "reissue_ordered",
        "再発行の手配",
        "発行元で再発行を申し込みます。名義は旧カードと同じです。到着の目安を控えます。",
    ),
    StepSpec(
        "reissue_received",
        "再発行カードの受け取り",
        "新しいカードを受け取ったら、etcbookにカード（末尾4桁・同じ名義）を登録します。",
        needs=("new_card",),
    ),
    StepSpec(
        "card_change",
        "ETCマイレージの登録カード変更",
        "マイページ（または書面）で登録カードを新しいカードに変更します。翌日0:00から"
        "新カードで計上され、ポイントと還元額は新カードに引き継がれます。当日の夜の走行は"
        "旧カードの扱いです。",
        needs=("new_card",),
    ),
    StepSpec(
        "old_card_destroyed",
        "旧カードの破棄",
        "見つかった旧カードは切断して破棄し、写真を残します。",
    ),
)
"""The steps in DOMAIN.md §5's order."""

STEP_KEYS: Final[tuple[StepKey, ...]] = tuple(step.key for step in STEPS)

DETAIL_LABELS: Final[Mapping[str, str]] = {
    "desk": "窓口",
    "reference": "受付番号",
    "person": "担当者",
    "police_station": "警察署",
    "accepted_number": "受理番号",
    "accepted_on": "受理年月日",
    "new_card": "新カード末尾4桁",
}


def step_spec(key: str) -> StepSpec:
    """The step ``key``; ValueError (Japanese) for an unknown key."""
    for step in STEPS:
        if step.key == key:
            return step
    raise ValueError(f"手順「{key}」はありません（{', '.join(STEP_KEYS)}）")


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A step done, with when and the references kept.

    Attributes:
        step: step key.
        at: when it was done.
        desk: the desk (窓口) contacted.
        reference: reference or reception number (受付番号).
        person: the person who handled it.
        details: further fields (police_station, accepted_number, accepted_on, new_card).
        note: free text.
        record_id: store id, or None.
    """

    step: StepKey
    at: dt.datetime
    desk: str = ""
    reference: str = ""
    person: str = ""
    details: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    record_id: int | None = None

    def detail(self, name: str) -> str:
        """A field by name: desk, reference, person or one of ``details``."""
        if name in ("desk", "reference", "person"):
            value: str = getattr(self, name)
            return value
        return self.details.get(name, "")


@dataclass(frozen=True, slots=True)
class ContactEntry:
    """One line of the contact log (連絡記録).

    Attributes:
        at: date-time of the call or visit.
        desk: who was contacted (窓口).
        person: the person spoken to.
        reference: reference number given.
        summary: what was said and agreed.
        entry_id: store id, or None.
    """

    at: dt.datetime
    desk: str
    person: str = ""
    reference: str = ""
    summary: str = ""
    entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class Incident:
    """A lost, stolen or damaged card and what was done about it.

    Attributes:
        card: カード末尾4桁 of the card concerned.
        kind: lost, stolen or damaged.
        noticed_at: when the user noticed.
        steps: steps done (at most one record per step; a later record replaces an earlier one).
        contacts: the contact log, in time order.
        closed_at: when the user closed the incident, or None.
        note: free text.
        incident_id: store id, or None.
    """

    card: str
    kind: IncidentKind
    noticed_at: dt.datetime
    steps: tuple[StepRecord, ...] = ()
    contacts: tuple[ContactEntry, ...] = ()
    closed_at: dt.datetime | None = None
    note: str = ""
    incident_id: int | None = None

    def record(self, step: StepKey) -> StepRecord | None:
        """The latest record of ``step``, or None."""
        found = None
        for record in self.steps:
            if record.step == step:
                found = record
        return found

    @property
    def stop_at(self) -> dt.datetime | None:
        """The card's stop time: the earlier of the issuer stop and the 利用停止, if any."""
        times = [r.at for r in self.steps if r.step in ("issuer_stop", "mileage_stop")]
        return min(times) if times else None


@dataclass(frozen=True, slots=True)
class StepProgress:
    """Where one step stands.

    Attributes:
        spec: the step.
        state: done, next (the first step not done), pending or not_needed.
        record: its record when done.
    """

    spec: StepSpec
    state: StepState
    record: StepRecord | None


def progress(incident: Incident) -> tuple[StepProgress, ...]:
    """Each step of the guide with its state; the first needed step not done is ``next``."""
    out: list[StepProgress] = []
    next_given = False
    for spec in STEPS:
        record = incident.record(spec.key)
        if record is not None:
            out.append(StepProgress(spec, "done", record))
        elif incident.kind in spec.not_for:
            out.append(StepProgress(spec, "not_needed", None))
        elif not next_given:
            out.append(StepProgress(spec, "next", None))
            next_given = True
        else:
            out.append(StepProgress(spec, "pending", None))
    return tuple(out)


def next_step(incident: Incident) -> StepSpec | None:
    """The first needed step not done yet, or None when all are done."""
    for item in progress(incident):
        if item.state == "next":
            return item.spec
    return None


def check_step(incident: Incident, record: StepRecord) -> tuple[list[str], list[str]]:
    """Check a step about to be recorded: ``(errors, warnings)``, Japanese.

    Errors refuse the record (a missing required field, a step not needed for the kind, a time
    before the incident was noticed by more than a day is allowed — people notice late — but a
    time in an impossible order for the card change is refused). Warnings note steps done out of
    the recommended order.
    """
    errors: list[str] = []
    warnings: list[str] = []
    spec = step_spec(record.step)
    if incident.kind in spec.not_for:
        errors.append(
            f"{INCIDENT_KIND_LABELS[incident.kind]}の場合、「{spec.label}」は必要ありません。"
        )
    for name in spec.needs:
        if not record.detail(name).strip():
            errors.append(f"「{spec.label}」には{DETAIL_LABELS[name]}が必要です。")
    accepted_on = record.details.get("accepted_on", "")
    if accepted_on:
        try:
            dt.date.fromisoformat(accepted_on)
        except ValueError:
            errors.append(f"受理年月日は YYYY-MM-DD で入力してください（{accepted_on}）。")
    if record.step == "card_change":
        received = incident.record("reissue_received")
        if received is not None and received.details.get("new_card") not in (
            None,
            "",
            record.details.get("new_card"),
        ):
            warnings.append(
                f"受け取った再発行カード（末尾{received.details['new_card']}）と、変更先のカード"
                f"（末尾{record.details.get('new_card')}）が違います。"
            )
    position = STEP_KEYS.index(spec.key)
    for earlier in STEPS[:position]:
        if incident.kind in earlier.not_for or incident.record(earlier.key) is not None:
            continue
        if earlier.key in ("issuer_stop", "mileage_stop"):
            warnings.append(f"「{earlier.label}」がまだ記録されていません。先に行ってください。")
    for done in incident.steps:
        if STEP_KEYS.index(done.step) < position and done.at > record.at:
            warnings.append(
                f"「{step_spec(done.step).label}」（{done.at:%Y-%m-%d %H:%M}）より前の日時です。"
            )
    return errors, warnings


# --- card change -----------------------------------------------------------------------------


class CardChangeRefused(ValueError):
    """登録カード変更 that cannot be made; the message gives the reason (Japanese)."""


@dataclass(frozen=True, slots=True)
class CardFacts:
    """What the card change checks about a card.

    Attributes:
        last4: カード末尾4桁.
        holder: 名義.
        mileage_id: マイレージID, None when unknown.
        status: card status in the store.
    """

    last4: str
    holder: str
    mileage_id: str | None = None
    status: str = "active"


@dataclass(frozen=True, slots=True)
class CardLink:
    """A recorded card change: the old card's registration passes to the new card.

    Attributes:
        old_card: old card's last 4.
        new_card: new card's last 4.
        registered_at: when the change was made (受付).
        effective_at: when it takes effect (00:00 the next day).
        incident_id: the incident it belongs to, or None.
    """

    old_card: str
    new_card: str
    registered_at: dt.datetime
    effective_at: dt.datetime
    incident_id: int | None = None


_SPACES = re.compile(r"[\s\u3000]+")


def normalise_holder(holder: str) -> str:
    """名義 compared loosely: NFKC, no spaces (full- or half-width), case-folded."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", holder)).casefold()


def same_holder(a: str, b: str) -> bool:
    """Both names are given and name the same holder."""
    return bool(normalise_holder(a)) and normalise_holder(a) == normalise_holder(b)


def effective_at(registered_at: dt.datetime) -> dt.datetime:
    """登録カード変更 takes effect at 00:00 of the day after it was made."""
    day = registered_at.date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day)


def check_card_change(
    old: CardFacts, new: CardFacts, links: Sequence[CardLink], registered_at: dt.datetime
) -> CardLink:
    """The link a 登録カード変更 from ``old`` to ``new`` makes; refused with the reason otherwise.

    Refused: the same card; a new card without a holder; a different holder (family or another
    company's card is a separate ledger, never merged); a new card registered under another
    マイレージID; an old card already changed to another card; a new card already linked.
    """
    if old.last4 == new.last4:
        raise CardChangeRefused("変更前と変更後が同じカードです。")
    if not new.holder.strip():
        raise CardChangeRefused(
            f"カード末尾{new.last4}の名義が未入力です。名義を登録してから変更してください"
            f"（etcbook card edit {new.last4} --holder …）。"
        )
    if not same_holder(old.holder, new.holder):
        raise CardChangeRefused(
            f"名義が違うため登録カード変更できません（旧カード末尾{old.last4}: {old.holder or '未入力'}、"
            f"新カード末尾{new.last4}: {new.holder}）。再発行カードは同じ名義に限られます。"
            "家族や別の会社のカードは別の台帳で、ポイントや還元額を移すことはできません。"
        )
    if old.mileage_id and new.mileage_id and old.mileage_id != new.mileage_id:
        raise CardChangeRefused(
            f"カード末尾{new.last4}は別のマイレージID（{new.mileage_id}）に登録されています。"
            "他のIDに登録済みのカードには変更できません。"
        )
    for link in links:
        if link.old_card == old.last4:
            raise CardChangeRefused(
                f"カード末尾{old.last4}はすでに末尾{link.new_card}へ変更済みです"
                f"（{link.effective_at:%Y-%m-%d %H:%M}から）。"
            )
        if link.new_card == new.last4:
            raise CardChangeRefused(
                f"カード末尾{new.last4}はすでに末尾{link.old_card}からの変更先です。"
            )
        if link.new_card == old.last4 and link.effective_at > registered_at:
            raise CardChangeRefused(
                f"カード末尾{old.last4}への変更（{link.effective_at:%Y-%m-%d %H:%M}から）が"
                "有効になる前に、さらに変更することはできません。"
            )
    return CardLink(old.last4, new.last4, registered_at, effective_at(registered_at))


@dataclass(frozen=True, slots=True)
class Segment:
    """A period during which ``card`` holds the mileage registration.

    Attributes:
        card: カード末尾4桁.
        start: first instant (None: since always).
        end: first instant after (None: until further notice).
    """

    card: str
    start: dt.datetime | None
    end: dt.datetime | None

    def covers(self, at: dt.datetime) -> bool:
        """Whether ``at`` falls in the segment."""
        return (self.start is None or self.start <= at) and (self.end is None or at < self.end)


def registration_segments(card: str, links: Iterable[CardLink]) -> tuple[Segment, ...]:
    """The chain of cards that held the registration ``card`` belongs to, oldest first.

    Points and rebate are one ledger along the chain: the old card's until the change takes
    effect, the new card's after it, keeping every lot's grant and expiry dates.
    """
    by_old = {link.old_card: link for link in links}
    by_new = {link.new_card: link for link in by_old.values()}
    first = card
    seen = {first}
    while first in by_new:
        first = by_new[first].old_card
        if first in seen:  # a cycle cannot be recorded, but never loop on bad data
            break
        seen.add(first)
    segments: list[Segment] = []
    current, start = first, None
    visited: set[str] = set()
    while current not in visited:
        visited.add(current)
        link = by_old.get(current)
        if link is None:
            segments.append(Segment(current, start, None))
            break
        segments.append(Segment(current, start, link.effective_at))
        current, start = link.new_card, link.effective_at
    return tuple(segments)


def ledger_card_for(card: str, at: dt.datetime, links: Iterable[CardLink]) -> str | None:
    """The card whose registration a trip made with ``card`` at ``at`` counts on.

    ``card`` itself while it holds the registration, None when it does not (a new card before
    the change takes effect, an old card after it).

    >>> link = CardLink("1234", "4321", dt.datetime(2026, 3, 10, 23, 50), dt.datetime(2026, 3, 11))
    >>> ledger_card_for("1234", dt.datetime(2026, 3, 10, 23, 55), [link])
    '1234'
    >>> ledger_card_for("4321", dt.datetime(2026, 3, 11, 0, 5), [link])
    '4321'
    >>> ledger_card_for("4321", dt.datetime(2026, 3, 10, 23, 55), [link]) is None
    True
    """
    for segment in registration_segments(card, links):
        if segment.card == card:
            return card if segment.covers(at) else None
    return None


def current_card(card: str, links: Iterable[CardLink]) -> str:
    """The card that holds (or last held) the registration ``card`` belongs to."""
    return registration_segments(card, links)[-1].card


def registration_input(
    card: str, inputs: Mapping[str, CardInput], links: Sequence[CardLink]
) -> CardInput:
    """The mileage engine's input of ``card``, seen as part of its mileage registration.

    登録カード変更 moves the rebate and the points to the new card: the registration is one
    ledger, held by each card of the chain in turn (:func:`registration_segments`). So the
    input is made of each card's trips while it held the registration — the old card's until
    00:00 after the change, the new card's from then — the exchanges, adjustments and 通勤パス
    months of all of them, each card's stops while it held the registration, and a resume at
    each change (the new card is registered and active). Lots keep their grant and expiry
    dates because they are never moved: they stay in the one ledger. Trips of a card while it
    does not hold the registration (the new card before the change, the old card after it)
    are left out: they earn nothing and take no rebate.

    The chain is taken up to ``card``: for the card holding the registration now, the whole
    registration; for a replaced card, the registration up to its change, handed over then
    (``handed_over_at``: from that instant it holds nothing). The input is labelled ``card``
    and takes its auto-exchange setting. ``inputs`` maps カード末尾4桁 to each card's own input;
    a card without links gets its own input back unchanged.
    """
    from dataclasses import replace

    from etcbook.domain.mileage import CardInput, StopEvent

    segments = registration_segments(card, links)
    own_input = inputs.get(card) or CardInput(card=card)
    if len(segments) == 1:
        return own_input
    upto = next(i for i, segment in enumerate(segments) if segment.card == card)
    trips: list[TripInput] = []
    exchanges: list[ExchangeInput] = []
    adjustments: list[Adjustment] = []
    stops: list[StopEvent] = []
    commute: set[dt.date] = set()
    for index, segment in enumerate(segments[: upto + 1]):
        own = inputs.get(segment.card)
        if own is None:
            continue
        trips.extend(trip for trip in own.trips if segment.covers(trip.exit_at))
        exchanges.extend(own.exchanges)
        adjustments.extend(own.adjustments)
        commute |= own.commute_pass_months
        if index > 0 and segment.start is not None:
            stops.append(StopEvent(segment.start, stopped=False))
        stops.extend(stop for stop in own.stops if segment.covers(stop.at))
    return replace(
        own_input,
        trips=tuple(trips),
        exchanges=tuple(exchanges),
        stops=tuple(sorted(stops, key=lambda stop: stop.at)),
        adjustments=tuple(adjustments),
        commute_pass_months=frozenset(commute),
        handed_over_at=segments[upto].end,
    )


# --- suspicious trips ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TripRef:
    """A trip as the incident checks see it.

    Attributes:
        trip_id: store id.
        card: カード末尾4桁.
        exit_at: exit time.
        entry_ic: entry IC, None for a mainline gate.
        exit_ic: exit IC.
        toll: 通行料金.
    """

    trip_id: int
    card: str
    exit_at: dt.datetime
    entry_ic: str | None
    exit_ic: str
    toll: int


@dataclass(frozen=True, slots=True)
class SuspiciousTrip:
    """A trip on a card after it was stopped or replaced (不正利用の疑い).

    Attributes:
        trip: the trip.
        since: the stop or change time it comes after.
        reason: Japanese explanation.
        incident_id: the incident concerned, or None.
    """

    trip: TripRef
    since: dt.datetime
    reason: str
    incident_id: int | None = None


def suspicious_trips(
    trips: Iterable[TripRef], incidents: Sequence[Incident], links: Sequence[CardLink]
) -> tuple[SuspiciousTrip, ...]:
    """Trips on a card after its stop time (issuer stop or 利用停止) or after it was replaced.

    A trip exiting at the very minute of a stop is not flagged (the user noted the time of the
    call, the passage may have been just before it); a trip on the old card at or after the
    card change's 00:00 is.
    """
    # card -> (threshold, inclusive, reason, incident)
    stops: dict[str, tuple[dt.datetime, bool, str, int | None]] = {}
    for incident in incidents:
        stop_at = incident.stop_at
        if stop_at is None:
            continue
        known = stops.get(incident.card)
        if known is None or stop_at < known[0]:
            label = INCIDENT_KIND_LABELS[incident.kind]
            stops[incident.card] = (
                stop_at,
                False,
                f"{label}で{stop_at:%Y-%m-%d %H:%M}に利用停止したカードの走行です。不正利用でないか"
                "カード会社に確認してください。",
                incident.incident_id,
            )
    for link in links:
        known = stops.get(link.old_card)
        if known is None or link.effective_at < known[0]:
            stops[link.old_card] = (
                link.effective_at,
                True,
                f"{link.effective_at:%Y-%m-%d %H:%M}に末尾{link.new_card}へ登録カード変更した"
                "旧カードの走行です。ポイントは付きません。不正利用でないか確認してください。",
                link.incident_id,
            )
    found = []
    for trip in trips:
        stop = stops.get(trip.card)
        if stop is None:
            continue
        since, inclusive, reason, incident_id = stop
        if trip.exit_at > since or (inclusive and trip.exit_at == since):
            found.append(SuspiciousTrip(trip, since, reason, incident_id))
    found.sort(key=lambda s: (s.trip.exit_at, s.trip.trip_id))
    return tuple(found)
