"""From the store to journal files: settings, the trips offered, and the memory of exports.

Every export is remembered (``journal_exports``: format, file, when, period, totals;
``journal_export_trips``: which trips, with which amount), so that a trip already exported is
left out of the next file unless asked for again: 弥生 imports a file twice without a warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from etcbook.domain.journal import (
    Booking,
    CreditSide,
    JournalSettings,
    JournalTrip,
    book,
    check_setting,
    credit_side_from,
    settings_from,
)
from etcbook.export.journal import JournalFormat, render_journal
from etcbook.models.card_refs import card_id_for, shared_last4
from etcbook.models.claims import line_of
from etcbook.models.store import Store
from etcbook.models.trips import TripFilter, list_trip_rows
from etcbook.privacy import free_text
from etcbook.safeio import write_bytes_atomically


class JournalError(ValueError):
    """A journal cannot be written or a setting stored; the message is for the user."""


@dataclass(frozen=True, slots=True)
class JournalRequest:
    """What to export.

    Attributes:
        fmt: product, encoding, variant.
        card: the card (a ``CardName`` carrying its id, ``id:N``, or digits one card has), or
            ``None`` for every card.
        date_from: first exit date, inclusive.
        date_to: last exit date, inclusive.
        include_provisional: book 確認中 trips too.
        again: book trips already exported too.
    """

    fmt: JournalFormat
    card: str | None
    date_from: dt.date
    date_to: dt.date
    include_provisional: bool = False
    again: bool = False

    @property
    def format_key(self) -> str:
        return "yayoi-next" if self.fmt.yayoi_next else str(self.fmt.product)


@dataclass(frozen=True, slots=True)
class JournalResult:
    """What an export did.

    Attributes:
        file: the file written, or ``None`` when there was nothing to write.
        booking: the entries written and the trips left out.
        export_id: the remembered export, or ``None`` when nothing was written.
    """

    file: Path | None
    booking: Booking
    export_id: int | None


# -- settings -------------------------------------------------------------------------------------


def _card_id(connection: Connection, card: str) -> int:
    """The id of ``card``: a :class:`~etcbook.models.card_refs.CardName` by its id, a settings
    key (:func:`settings_key`: ``id:N`` for digits several cards share), or digits one card has."""
    from etcbook.models.cards import AmbiguousCard, CardNotFound

    if card.startswith("id:") and card[3:].isascii() and card[3:].isdigit():
        found = connection.execute(
            text("SELECT id FROM cards WHERE id = :i"), {"i": int(card[3:])}
        ).scalar()
        if found is None:
            raise JournalError(f"カード {card} はストアにありません")
        return int(found)
    try:
        return card_id_for(connection=connection, card=card)
    except CardNotFound:
        raise JournalError(f"カード末尾 {card} はストアにありません") from None
    except AmbiguousCard as exc:
        raise JournalError(str(exc)) from None


def settings_key(last4: str, card_id: int, shared: set[str]) -> str:
    """How the settings name a card: its last 4 digits, or ``id:N`` when another card shares
    them (each card of a fleet keeps its own credit side)."""
    return f"id:{card_id}" if last4 in shared else last4


def card_settings_key(*, connection: Connection, card: str) -> str:
    """The settings key (:func:`settings_key`) of the card ``card`` names."""
    card_id = _card_id(connection, card)
    last4 = connection.execute(text("SELECT last4 FROM cards WHERE id = :i"), {"i": card_id})
    return settings_key(str(last4.scalar_one()), card_id, shared_last4(connection=connection))


def _stored(connection: Connection) -> dict[int | None, dict[str, str]]:
    values: dict[int | None, dict[str, str]] = {}
    for card_id, key, value in connection.execute(
        text("SELECT card_id, key, value FROM journal_settings ORDER BY id")
    ):
        values.setdefault(card_id, {})[key] = value
    return values


def load_settings(*, connection: Connection) -> tuple[JournalSettings, dict[str, CreditSide]]:
    """The global settings and every card's credit side (defaults filled in)."""
    stored = _stored(connection)
    settings = settings_from(stored.get(None, {}))
    credits = {}
    shared = shared_last4(connection=connection)
    for card_id, last4, kind, holder in connection.execute(
        text("SELECT id, last4, kind, holder FROM cards ORDER BY last4, id")
    ):
        credits[settings_key(last4, card_id, shared)] = credit_side_from(
            stored.get(card_id, {}), card_last4=last4, card_kind=kind, holder=holder
        )
    return settings, credits


def card_holders(*, connection: Connection) -> dict[str, str]:
    """Settings key (カード末尾4桁, ``id:N`` for shared digits) → 名義 of every card, in card
    order (the dialog's rows)."""
    shared = shared_last4(connection=connection)
    rows = connection.execute(text("SELECT id, last4, holder FROM cards ORDER BY last4, id"))
    return {settings_key(last4, card_id, shared): holder for card_id, last4, holder in rows}


def card_names(*, connection: Connection) -> dict[str, tuple[str, str, str]]:
    """Settings key (:func:`settings_key`) → (カード末尾4桁, 呼び名, 名義) of every card, in card
    order: how the dialogs name each card."""
    shared = shared_last4(connection=connection)
    rows = connection.execute(text("SELECT id, last4, label, holder FROM cards ORDER BY last4, id"))
    return {
        settings_key(last4, card_id, shared): (last4, label or "", holder or "")
        for card_id, last4, label, holder in rows
    }


def save_setting(*, store: Store, key: str, value: str, card: str | None = None) -> None:
    """Store one setting (for every card, or for ``card``); refuses a key or value that
    cannot be used, with the reason. A card number typed into a name is masked (privacy)."""
    problem = check_setting(key, value, per_card=card is not None)
    if problem:
        raise JournalError(problem)
    with store.engine.begin() as connection:
        card_id = _card_id(connection, card) if card is not None else None
        connection.execute(
            text("DELETE FROM journal_settings WHERE key = :k AND card_id IS NOT DISTINCT FROM :c"),
            {"k": key, "c": card_id},
        )
        connection.execute(
            text("INSERT INTO journal_settings (card_id, key, value) VALUES (:c, :k, :v)"),
            {"c": card_id, "k": key, "v": free_text(value)},
        )


def save_settings(
    *, store: Store, values: Mapping[str, str], cards: Mapping[str, Mapping[str, str]]
) -> None:
    """Store many settings at once (the window's dialog): all of them or none."""
    for key, value in values.items():
        problem = check_setting(key, value, per_card=False)
        if problem:
            raise JournalError(problem)
    for card_values in cards.values():
        for key, value in card_values.items():
            problem = check_setting(key, value, per_card=True)
            if problem:
                raise JournalError(problem)
    with store.engine.begin() as connection:
        scoped: list[tuple[int | None, Mapping[str, str]]] = [(None, values)]
        scoped += [(_card_id(connection, card), v) for card, v in cards.items()]
        for card_id, pairs in scoped:
            for key, value in pairs.items():
                connection.execute(
                    text(
                        "DELETE FROM journal_settings WHERE key = :k AND card_id IS NOT DISTINCT FROM :c"
                    ),
                    {"k": key, "c": card_id},
                )
                connection.execute(
                    text("INSERT INTO journal_settings (card_id, key, value) VALUES (:c, :k, :v)"),
                    {"c": card_id, "k": key, "v": free_text(value)},
                )


# -- trips and exports ----------------------------------------------------------------------------


def _exported(connection: Connection) -> dict[int, tuple[str, int]]:
    """trip id → (a sentence saying when and where it was last exported, its amount)."""
    rows = connection.execute(
        text(
            "SELECT et.trip_id, et.amount, e.exported_at, e.format, e.file"
            " FROM journal_export_trips et JOIN journal_exports e ON e.id = et.export_id"
            " ORDER BY e.id"
        )
    )
    done: dict[int, tuple[str, int]] = {}
    for trip_id, amount, exported_at, fmt, file in rows:
        when = str(exported_at)[:16].replace("T", " ")
        done[trip_id] = (f"{when} {fmt} {Path(file).name}", amount)
    return done


def _journal_trip(
    row: dict[str, Any], exported: Mapping[int, tuple[str, int]], shared: set[str]
) -> JournalTrip:
    flags = tuple(f for f in (row["flags"] or "").split(";") if f)
    done = exported.get(row["id"])
    when = str(row["exit_at"])[:10].replace("-", "/")
    route = f"{row['entry_ic']}→{row['exit_ic']}" if row["entry_ic"] else row["exit_ic"]
    return JournalTrip(
        trip_id=row["id"],
        card=settings_key(row["card"], row["card_id"], shared),
        status=row["status"],
        flags=flags,
        line=None if row["toll"] is None else line_of(row),
        exported=done[0] if done else None,
        exported_amount=done[1] if done else None,
        label=f"{when} {route}",
        business_share=row["business_share"] or 0,
    )


def prepare_journal(*, store: Store, request: JournalRequest) -> Booking:
    """The entries the request would write and the trips it would leave out (nothing stored)."""
    if request.date_to < request.date_from:
        raise JournalError("--from が --to より後になっています")
    with store.engine.connect() as connection:
        card_id = None if request.card is None else _card_id(connection, request.card)
        settings, credits = load_settings(connection=connection)
        rows = list_trip_rows(
            connection=connection,
            trip_filter=TripFilter(
                card=request.card,
                card_id=card_id,
                date_from=request.date_from,
                date_to=request.date_to,
            ),
        )
        exported = _exported(connection)
        shared = shared_last4(connection=connection)
    trips = [_journal_trip(row, exported, shared) for row in rows]
    return book(
        trips,
        settings,
        credits,
        include_provisional=request.include_provisional,
        again=request.again,
    )


def export_journal(
    *, store: Store, request: JournalRequest, out: Path, now: dt.datetime
) -> JournalResult:
    """Write the journal file and remember the export, both or neither.

    With no entry to write, no file is written (an earlier file at ``out`` stays as it was)
    and nothing is remembered. Raises :class:`etcbook.export.journal.UnencodableText` when a
    field cannot be carried by the encoding (nothing written).
    """
    problem = request.fmt.problem()
    if problem:
        raise JournalError(problem)
    if out.exists() and out.is_dir():
        raise JournalError(f"--out はファイルを指定してください（フォルダです）: {out}")
    booking = prepare_journal(store=store, request=request)
    if not booking.entries:
        return JournalResult(file=None, booking=booking, export_id=None)
    with store.engine.connect() as connection:
        settings, _credits = load_settings(connection=connection)
    data = render_journal(booking.entries, settings, request.fmt)
    with store.engine.begin() as connection:
        export_id = connection.execute(
            text(
                "INSERT INTO journal_exports (format, encoding, file, exported_at, date_from,"
                " date_to, entries, total, treatment) VALUES (:f, :enc, :file, :at, :df, :dt,"
                " :n, :total, :treatment) RETURNING id"
            ),
            {
                "f": request.format_key,
                "enc": request.fmt.encoding,
                "file": str(out.resolve()),
                "at": now.replace(microsecond=0).isoformat(),
                "df": request.date_from.isoformat(),
                "dt": request.date_to.isoformat(),
                "n": len(booking.entries),
                "total": booking.total,
                "treatment": str(settings.treatment),
            },
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO journal_export_trips (export_id, trip_id, amount) VALUES (:e, :t, :a)"
            ),
            [{"e": export_id, "t": e.trip_id, "a": e.claimed} for e in booking.entries],
        )
        # Written inside the transaction: if the file cannot be written, nothing is remembered.
        write_bytes_atomically(out, data)
    return JournalResult(file=out, booking=booking, export_id=int(export_id))


def export_history(*, store: Store) -> list[dict[str, Any]]:
    """Every remembered export, newest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, format, encoding, file, exported_at, date_from, date_to, entries,"
                " total, treatment FROM journal_exports ORDER BY id DESC"
            )
        )
        return [dict(row._mapping) for row in rows]
