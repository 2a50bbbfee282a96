"""Month closing and claims as a workflow (submitted → approved or returned → submitted again).

The database enforces the rules (triggers from migration roles_0001 and, on a shared ledger,
the policies and triggers of :mod:`etcbook.models.roles`); these functions do the work and
ask first, so the refusal the user sees is a sentence, not the database's words.
On SQLite the single user has every right.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from etcbook import clock
from etcbook.models.audit import append_audit
from etcbook.models.dialect import as_date, as_datetime, lock_for_transaction
from etcbook.models.roles import login_name, my_role
from etcbook.models.store import Store
from etcbook.models.vault_storage import (
    StoredFile,
    VaultError,
    file_chunks,
    file_digest,
    storage_for,
)

CLAIM_STATUSES = ("submitted", "approved", "returned", "withdrawn")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Refused(PermissionError):
    """An action the user's role may not take, or a rule forbids; the message is for the user.
    Nothing was changed."""


def check_month(month: str) -> str:
    if not MONTH.match(month):
        raise ValueError(f"月は YYYY-MM で指定してください: {month}")
    return month


def _require_accounts(connection: Connection, what: str) -> None:
    if my_role(connection) == "driver":
        raise Refused(f"{what}は経理担当だけができます")


# --- month closing ---------------------------------------------------------------------------


def closed_months(connection: Connection) -> list[dict[str, Any]]:
    return [
        {"month": m, "closed_at": as_datetime(at).isoformat(), "closed_by": by}
        for m, at, by in connection.execute(
            text("SELECT month, closed_at, closed_by FROM closed_months ORDER BY month")
        )
    ]


def close_month(connection: Connection, month: str) -> bool:
    """Close ``month``; False when it was closed already."""
    _require_accounts(connection, "月締め")
    check_month(month)
    user = login_name(connection)
    inserted = connection.execute(
        text(
            "INSERT INTO closed_months (month, closed_at, closed_by) VALUES (:m, :at, :by)"
            " ON CONFLICT (month) DO NOTHING RETURNING month"
        ),
        {"m": month, "at": clock.now().isoformat(), "by": user},
    ).first()
    if inserted is None:
        return False
    _sqlite_month_triggers(connection, month, create=True)
    append_audit(
        connection=connection,
        entity="month",
        entity_id=_month_number(month),
        action="close",
        field="month",
        new=month,
        user=user,
    )
    return True


def reopen_month(connection: Connection, month: str, reason: str) -> bool:
    """Reopen ``month`` (the reason goes into the audit log); False when it was not closed."""
    _require_accounts(connection, "月締めの解除")
    check_month(month)
    if not reason.strip():
        raise ValueError("解除の理由（--reason）を書いてください")
    deleted = connection.execute(
        text("DELETE FROM closed_months WHERE month = :m RETURNING month"), {"m": month}
    ).first()
    if deleted is None:
        return False
    _sqlite_month_triggers(connection, month, create=False)
    append_audit(
        connection=connection,
        entity="month",
        entity_id=_month_number(month),
        action="reopen",
        field="month",
        old=month,
        reason=reason,
        user=login_name(connection),
    )
    return True


def _sqlite_month_triggers(connection: Connection, month: str, *, create: bool) -> None:
    """SQLite's RAISE takes no expression: a closed month also gets triggers of its own, so
    the refusal names it (the migration's triggers refuse it already, without the name)."""
    if connection.dialect.name != "sqlite":
        return
    name = month.replace("-", "_")
    for action, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        trigger = f"trips_closed_{name}_{action.lower()}"
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        if not create:
            continue
        condition = " OR ".join(
            f"substr(coalesce({r}.exit_at, {r}.entry_at), 1, 7) = '{month}'" for r in rows
        )
        connection.exec_driver_sql(
            f"CREATE TRIGGER {trigger} BEFORE {action} ON trips WHEN {condition}"
            f" BEGIN SELECT RAISE(ABORT, 'etcbook:closed_month:{month}'); END"
        )


def _month_number(month: str) -> int:
    return int(month.replace("-", ""))


# --- claims ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimRecord:
    id: int
    card: str
    card_id: int
    driver: str
    date_from: dt.date
    date_to: dt.date
    total: int
    status: str
    submitted_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str
    pdf_sha256: str
    csv_sha256: str
    bundle_sha256: str
    folder: str
    version: int = 1
    department: str = ""
    """The card's 部署 (the department the claim is totalled under)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "card": self.card,
            "driver": self.driver,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "total": self.total,
            "status": self.status,
            "submitted_at": self.submitted_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "comment": self.comment,
            "version": self.version,
        }


_CLAIM_SELECT = (
    "SELECT k.id, c.last4, k.card_id, k.driver, k.date_from, k.date_to, k.total, k.status,"
    " k.submitted_at, k.decided_by, k.decided_at, k.comment, k.pdf_sha256, k.csv_sha256,"
    " k.bundle_sha256, k.folder, k.version, c.department"
    " FROM claims k JOIN cards c ON c.id = k.card_id"
)


def _record(row: Any) -> ClaimRecord:
    return ClaimRecord(
        id=row[0],
        card=row[1],
        card_id=row[2],
        driver=row[3],
        date_from=as_date(row[4]),
        date_to=as_date(row[5]),
        total=row[6],
        status=row[7],
        submitted_at=as_datetime(row[8]),
        decided_by=row[9],
        decided_at=as_datetime(row[10]) if row[10] is not None else None,
        comment=row[11],
        pdf_sha256=row[12],
        csv_sha256=row[13],
        bundle_sha256=row[14],
        folder=row[15],
        version=row[16],
        department=row[17] or "",
    )


def list_claims(
    connection: Connection,
    status: str | None = None,
    *,
    month: str | None = None,
    department: str | None = None,
    driver: str | None = None,
) -> list[ClaimRecord]:
    """The claims the caller may see (row-level security narrows a driver's), oldest first;
    ``month`` keeps those whose period overlaps it, ``department`` those of the card's 部署,
    ``driver`` those submitted by that login."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if status:
        if status not in CLAIM_STATUSES:
            raise ValueError(f"状態は {', '.join(CLAIM_STATUSES)} のどれかです: {status}")
        conditions.append("k.status = :s")
        params["s"] = status
    if month:
        first, last = month_bounds(month)
        conditions.append("k.date_from <= :last AND k.date_to >= :first")
        params.update(first=first.isoformat(), last=last.isoformat())
    if department is not None:
        conditions.append("c.department = :department")
        params["department"] = department
    if driver is not None:
        conditions.append("k.driver = :driver")
        params["driver"] = driver
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    rows = connection.execute(text(_CLAIM_SELECT + where + " ORDER BY k.id"), params).all()
    return [_record(r) for r in rows]


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and the last day of ``YYYY-MM``."""
    check_month(month)
    first = dt.date(int(month[:4]), int(month[5:]), 1)
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def get_claim(connection: Connection, claim_id: int) -> ClaimRecord:
    row = connection.execute(text(_CLAIM_SELECT + " WHERE k.id = :i"), {"i": claim_id}).first()
    if row is None:
        from etcbook.models.refusals import not_yours

        raise Refused(
            not_yours(connection, "claims", claim_id)
            or f"申請 {claim_id} はありません（番号の誤りです）"
        )
    return _record(row)


# --- a claim's frozen files ------------------------------------------------------------------

CLAIM_FILE_KINDS = ("pdf", "csv", "bundle", "approved_pdf")


@dataclass(frozen=True)
class ClaimFile:
    """A file a claim froze: its PDF, CSV and bundle at submission, the approved PDF.

    On a PostgreSQL ledger its bytes are in the database (so the accounts desk on another
    computer opens the PDF the driver submitted); on SQLite in the claim's folder.

    Attributes:
        id: row id.
        claim_id: the claim.
        card_id: the claim's card.
        kind: ``pdf``, ``csv``, ``bundle`` or ``approved_pdf``.
        name: the file's name.
        sha256: its SHA-256 when it was frozen.
        size: bytes.
        created_at: when it was frozen.
        folder: the claim's folder on the computer that submitted it.
    """

    id: int
    claim_id: int
    card_id: int
    kind: str
    name: str
    sha256: str
    size: int
    created_at: dt.datetime
    folder: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "size": self.size, "sha256": self.sha256}


def claim_files(connection: Connection, claim_id: int | None = None) -> list[ClaimFile]:
    """The claim's frozen files, in the order pdf, csv, bundle, approved_pdf; without
    ``claim_id``, every claim's (by claim)."""
    where = "" if claim_id is None else " WHERE f.claim_id = :i"
    rows = connection.execute(
        text(
            "SELECT f.id, f.claim_id, f.card_id, f.kind, f.name, f.sha256, f.size, f.created_at,"
            " k.folder FROM claim_files f JOIN claims k ON k.id = f.claim_id" + where
        ),
        {"i": claim_id},
    ).all()
    files = [
        ClaimFile(
            id=r[0],
            claim_id=r[1],
            card_id=r[2],
            kind=r[3],
            name=r[4],
            sha256=r[5],
            size=r[6],
            created_at=as_datetime(r[7]),
            folder=r[8],
        )
        for r in rows
    ]
    return sorted(files, key=lambda f: (f.claim_id, CLAIM_FILE_KINDS.index(f.kind), f.id))


def stored_claim_file(store: Store, claim_file: ClaimFile) -> StoredFile:
    """Where a frozen file's bytes are for the store's backend."""
    in_folder = not storage_for(store).in_database and claim_file.folder
    return StoredFile(
        table="claim_files",
        id=claim_file.id,
        name=claim_file.name,
        sha256=claim_file.sha256,
        size=claim_file.size,
        file=Path(claim_file.folder) / claim_file.name if in_folder else None,
    )


def read_claim_file(
    *, store: Store, claim_file: ClaimFile, connection: Connection | None = None
) -> bytes:
    """A frozen file's bytes, checked against its SHA-256 (``OriginalUnreadable`` else)."""
    return storage_for(store).read_verified(stored_claim_file(store, claim_file), connection)


def iter_claim_file(
    *, store: Store, claim_file: ClaimFile, connection: Connection | None = None
) -> Iterator[bytes]:
    """A frozen file's bytes in chunks, checked after the last one (see
    :func:`etcbook.models.vault.iter_original`)."""
    return storage_for(store).verified_chunks(stored_claim_file(store, claim_file), connection)


def save_claim_files(*, store: Store, claim_id: int, folder: Path) -> list[Path]:
    """Write the claim's frozen files into ``folder``, each checked first (a missing or altered
    one raises ``OriginalUnreadable``; files already written stay)."""
    with store.engine.connect() as connection:
        get_claim(connection, claim_id)  # a sentence when it is not there or not visible
        files = claim_files(connection, claim_id)
    if not files:
        raise Refused(f"申請 {claim_id} には保管された書類がありません")
    storage = storage_for(store)
    return [
        storage.save_verified(stored_claim_file(store, f), Path(folder) / f.name) for f in files
    ]


def put_claim_file(
    *, store: Store, connection: Connection, claim_file_id: int, chunks: Iterable[bytes]
) -> ClaimFile:
    """Store the bytes of a ``claim_files`` row already written in ``connection``'s transaction
    (a copy of a store), checked against its SHA-256 and size (``VaultError`` else). On SQLite
    the file is written into the claim's folder, never over an existing file."""
    row = connection.execute(
        text("SELECT claim_id FROM claim_files WHERE id = :i"), {"i": claim_file_id}
    ).first()
    if row is None:
        raise VaultError(f"申請の書類 {claim_file_id} はありません")
    claim_file = next(f for f in claim_files(connection, row[0]) if f.id == claim_file_id)
    storage_for(store).write(connection, stored_claim_file(store, claim_file), chunks)
    return claim_file


def discard_claim_file(*, store: Store, claim_file: ClaimFile) -> None:
    """Undo :func:`put_claim_file` after its transaction failed (removes the file on SQLite)."""
    storage_for(store).discard(stored_claim_file(store, claim_file))


def adopt_claim_folders(*, store: Store, connection: Connection) -> None:
    """Give the claims just copied into ``store`` (rows in ``connection``'s transaction, before
    their files are put) this store's own folders: on SQLite a claim's files live in its folder,
    and the one recorded is the source's (another ledger's, or another computer's), so it
    becomes ``claims_folder(store)/claim-N``. A server ledger keeps the bytes in the database
    and the submitter's folder as recorded. Runs while the copy has the claims' triggers off
    (an approved claim refuses changes; the version stays as copied)."""
    if storage_for(store).in_database:
        return
    claim_ids = connection.execute(
        text("SELECT DISTINCT claim_id FROM claim_files ORDER BY claim_id")
    ).scalars()
    for claim_id in list(claim_ids):
        connection.execute(
            text("UPDATE claims SET folder = :folder WHERE id = :i"),
            {"folder": str(claims_folder(store) / f"claim-{claim_id}"), "i": claim_id},
        )


def _keep_claim_file(
    *, store: Store, connection: Connection, claim_id: int, card_id: int, kind: str, path: Path
) -> str:
    """Record a frozen file just written at ``path`` (and, on a server ledger, store its bytes
    in the database in the same transaction); its SHA-256."""
    size, sha256 = file_digest(path)
    file_id = connection.execute(
        text(
            "INSERT INTO claim_files (claim_id, card_id, kind, name, sha256, size, created_at)"
            " VALUES (:claim, :card, :kind, :name, :sha, :size, :at) RETURNING id"
        ),
        {
            "claim": claim_id,
            "card": card_id,
            "kind": kind,
            "name": path.name,
            "sha": sha256,
            "size": size,
            "at": clock.now().isoformat(),
        },
    ).scalar_one()
    storage = storage_for(store)
    if storage.in_database:
        stored = StoredFile("claim_files", int(file_id), path.name, sha256, size)
        storage.write(connection, stored, file_chunks(path))
    return sha256


def claims_folder(store: Store) -> Path:
    """Where frozen claims' files are kept on this computer (beside the store or its vault)."""
    if store.address is not None:
        return store.address.local_folder() / "claims"
    return store.path.parent / f"{store.path.stem}-claims"


def _refuse_an_open_claim(
    connection: Connection, card_id: int, date_from: dt.date, date_to: dt.date
) -> None:
    """Raise :class:`Refused` when a submitted or approved claim of the card overlaps the period."""
    open_claim = connection.execute(
        text(
            "SELECT id, status FROM claims WHERE card_id = :c AND date_from <= :t"
            " AND date_to >= :f AND status IN ('submitted', 'approved')"
        ),
        {"c": card_id, "f": date_from.isoformat(), "t": date_to.isoformat()},
    ).first()
    if open_claim is not None:
        state = "承認済み" if open_claim.status == "approved" else "申請中"
        raise Refused(f"この期間には{state}の申請 {open_claim.id} があります")


def submit_claim(
    *,
    store: Store,
    card: str,
    date_from: dt.date,
    date_to: dt.date,
    out: Path | None = None,
    trip_ids: Sequence[int] | None = None,
) -> tuple[ClaimRecord, Any]:
    """Freeze the claim for ``card`` over the period: its trips and amounts, its PDF/CSV/bundle
    and their SHA-256. A returned claim for the same card and period is replaced by this one
    (its status stays in the audit log); a submitted or approved one refuses a second.
    ``trip_ids`` narrows the claim to those trips (the window's ticked ones); by default every
    trip of the period with a business share is claimed."""
    from etcbook.export.bundle import write_claim_outputs
    from etcbook.models.cards import resolve_card
    from etcbook.models.claims import claim_from_store
    from etcbook.models.vault import original_files

    with store.transaction() as connection:
        card_id = resolve_card(connection, card).id
        last4 = connection.execute(
            text("SELECT last4 FROM cards WHERE id = :i"), {"i": card_id}
        ).scalar_one()
        _refuse_an_open_claim(connection, card_id, date_from, date_to)
    claim, documents = claim_from_store(
        store=store,
        card=last4,
        card_id=card_id,
        date_from=date_from,
        date_to=date_to,
        prepared_on=clock.today(),
        trip_ids=trip_ids,
    )
    with store.transaction() as connection:
        # Another submission of the card (a second window) may have been stored while this one
        # was prepared: asked again, one at a time per card, so a period is claimed once.
        lock_for_transaction(connection, f"claim-submit:{card_id}")
        _refuse_an_open_claim(connection, card_id, date_from, date_to)
        user = login_name(connection)
        row = connection.execute(
            text(
                "INSERT INTO claims (card_id, driver, date_from, date_to, total, status,"
                " submitted_at, comment) VALUES (:c, :d, :f, :t, :total, 'submitted', :at, '')"
                " RETURNING id"
            ),
            {
                "c": card_id,
                "d": user,
                "f": date_from.isoformat(),
                "t": date_to.isoformat(),
                "total": claim.totals.claimed,
                "at": clock.now().isoformat(),
            },
        ).scalar_one()
        claim_id = int(row)
        folder = (out or claims_folder(store)) / f"claim-{claim_id}"
        outputs = write_claim_outputs(claim, folder, original_files(store, documents))
        trips = connection.execute(
            text(
                "SELECT id, toll, business_share, purpose FROM trips WHERE card_id = :c"
                " AND business_share > 0 AND dated_at >= :f AND dated_at < :t"
            ),
            {
                "c": card_id,
                "f": dt.datetime.combine(date_from, dt.time()).isoformat(),
                "t": dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()).isoformat(),
            },
        ).all()
        if trip_ids is not None:
            wanted = set(trip_ids)
            trips = [trip for trip in trips if trip.id in wanted]
        for trip in trips:
            connection.execute(
                text(
                    "INSERT INTO claim_trips (claim_id, trip_id, card_id, toll, business_share,"
                    " purpose, amount) VALUES (:k, :t, :c, :toll, :share, :purpose, :amount)"
                ),
                {
                    "k": claim_id,
                    "t": trip.id,
                    "c": card_id,
                    "toll": trip.toll,
                    "share": trip.business_share,
                    "purpose": trip.purpose or "",
                    "amount": trip.toll * trip.business_share // 100,
                },
            )
        connection.execute(
            text("UPDATE claims SET folder = :folder WHERE id = :i"),
            {"folder": str(folder), "i": claim_id},
        )
        digests = {
            kind: _keep_claim_file(
                store=store,
                connection=connection,
                claim_id=claim_id,
                card_id=card_id,
                kind=kind,
                path=path,
            )
            for kind, path in (
                ("pdf", outputs.pdf),
                ("csv", outputs.csv),
                ("bundle", outputs.bundle),
            )
        }
        connection.execute(
            text(
                "UPDATE claims SET pdf_sha256 = :p, csv_sha256 = :c, bundle_sha256 = :b"
                " WHERE id = :i"
            ),
            {"p": digests["pdf"], "c": digests["csv"], "b": digests["bundle"], "i": claim_id},
        )
        connection.execute(
            text(
                "UPDATE claims SET status = 'withdrawn' WHERE card_id = :c AND status = 'returned'"
                " AND date_from = :f AND date_to = :t"
            ),
            {"c": card_id, "f": date_from.isoformat(), "t": date_to.isoformat()},
        )
        append_audit(
            connection=connection,
            entity="claim",
            entity_id=claim_id,
            action="submit",
            field="status",
            new="submitted",
            user=user,
        )
        record = get_claim(connection, claim_id)
    return record, outputs


def decide_claim(
    *,
    store: Store,
    claim_id: int,
    approve: bool,
    comment: str = "",
    expected_version: int | None = None,
) -> tuple[ClaimRecord, Path | None]:
    """Approve or return a submitted claim (accounts only); an approved claim's PDF is drawn
    again with the approver and the date in the 承認者 box. With ``expected_version`` (the
    claim's version when the desk read it), a claim changed since (decided by someone else) is
    refused with :class:`etcbook.models.versions.StaleEdit`."""
    from etcbook.models.versions import check_version

    with store.transaction() as connection:
        _require_accounts(connection, "申請の承認・差し戻し")
        check_version(connection, "claims", claim_id, expected_version)
        record = get_claim(connection, claim_id)
        if record.status != "submitted":
            raise Refused(f"申請 {claim_id} は申請中ではありません（{record.status}）")
        if not approve and not comment.strip():
            raise ValueError("差し戻しの理由（--comment）を書いてください")
        user = login_name(connection)
        now = clock.now()
        status = "approved" if approve else "returned"
        connection.execute(
            text(
                "UPDATE claims SET status = :s, decided_by = :u, decided_at = :at, comment = :c"
                " WHERE id = :i"
            ),
            {"s": status, "u": user, "at": now.isoformat(), "c": comment, "i": claim_id},
        )
        append_audit(
            connection=connection,
            entity="claim",
            entity_id=claim_id,
            action="approve" if approve else "return",
            field="status",
            old="submitted",
            new=status,
            reason=comment,
            user=user,
        )
        decided = get_claim(connection, claim_id)
        pdf = None
        if approve:
            trip_ids = list(
                connection.execute(
                    text("SELECT trip_id FROM claim_trips WHERE claim_id = :i"), {"i": claim_id}
                ).scalars()
            )
            pdf = approved_pdf(store=store, record=decided, trip_ids=trip_ids)
            _keep_claim_file(
                store=store,
                connection=connection,
                claim_id=claim_id,
                card_id=decided.card_id,
                kind="approved_pdf",
                path=pdf,
            )
    return decided, pdf


def approved_pdf(*, store: Store, record: ClaimRecord, trip_ids: list[int]) -> Path:
    """The approved claim's PDF, with the approver and the day in the 承認者 box, written beside
    the frozen files (``<stem>_承認済.pdf``); on a server ledger, in this computer's folder of
    the claim (the submitter's folder is on another computer)."""
    import dataclasses

    from etcbook.export.claim_pdf import claim_pdf_bytes
    from etcbook.models.claims import claim_from_store
    from etcbook.safeio import write_bytes_atomically

    claim, _ = claim_from_store(
        store=store,
        card=record.card,
        date_from=record.date_from,
        date_to=record.date_to,
        trip_ids=trip_ids,
        prepared_on=record.submitted_at.date(),
    )
    header = dataclasses.replace(
        claim.header,
        approved_by=record.decided_by or "",
        approved_on=record.decided_at.date() if record.decided_at else None,
    )
    claim = dataclasses.replace(claim, header=header)
    folder = (
        Path(record.folder)
        if record.folder and not store.on_server
        else claims_folder(store) / f"claim-{record.id}"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{claim.file_stem}_承認済.pdf"
    write_bytes_atomically(path, claim_pdf_bytes(claim))
    return path


# --- what the accounts desk reads --------------------------------------------------------------


@dataclass(frozen=True)
class ClaimTotal:
    """Claims of one department or driver in a month: how many, and their 精算額 by status.

    Attributes:
        name: the department (部署) or the driver's login; ``""`` when the card has none.
        claims: submitted and approved claims counted.
        submitted: 精算額 of the claims still waiting (申請中).
        approved: 精算額 of the approved claims.
    """

    name: str
    claims: int
    submitted: int
    approved: int

    @property
    def total(self) -> int:
        return self.submitted + self.approved


def month_claim_totals(
    connection: Connection, month: str
) -> tuple[list[ClaimTotal], list[ClaimTotal]]:
    """Per department and per driver: the submitted and approved claims whose period starts
    in ``month`` (a claim counts once, in its first month); returned and withdrawn ones are
    left out."""
    first, last = month_bounds(month)
    found: list[list[ClaimTotal]] = []
    for key in ("c.department", "k.driver"):
        rows = connection.execute(
            text(
                f"SELECT coalesce({key}, '') AS name, count(*) AS n,"
                " sum(CASE WHEN k.status = 'submitted' THEN k.total ELSE 0 END) AS waiting,"
                " sum(CASE WHEN k.status = 'approved' THEN k.total ELSE 0 END) AS approved"
                " FROM claims k JOIN cards c ON c.id = k.card_id"
                " WHERE k.status IN ('submitted', 'approved')"
                " AND k.date_from >= :first AND k.date_from <= :last"
                f" GROUP BY coalesce({key}, '') ORDER BY 1"
            ),
            {"first": first.isoformat(), "last": last.isoformat()},
        ).all()
        found.append(
            [ClaimTotal(r.name, int(r.n), int(r.waiting or 0), int(r.approved or 0)) for r in rows]
        )
    return found[0], found[1]


def claim_departments_and_drivers(connection: Connection) -> tuple[list[str], list[str]]:
    """The departments of cards with claims and the drivers who submitted any (the filters)."""
    departments = connection.execute(
        text(
            "SELECT DISTINCT c.department FROM claims k JOIN cards c ON c.id = k.card_id"
            " ORDER BY c.department"
        )
    ).scalars()
    drivers = connection.execute(text("SELECT DISTINCT driver FROM claims ORDER BY driver"))
    return [str(d or "") for d in departments], [str(d) for d in drivers.scalars()]


@dataclass(frozen=True)
class MonthState:
    """A month of the ledger: its trips, and whether (and by whom) it is closed."""

    month: str
    trips: int
    closed_at: dt.datetime | None
    closed_by: str | None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


def month_states(connection: Connection) -> list[MonthState]:
    """Every month from the first trip's to the last's, and any closed month, newest first.

    Counted month by month on the ``dated_at`` index (a range each): at a million trips on
    PostgreSQL about a third of the time of one ``GROUP BY`` over the month's text."""
    first, last = connection.execute(text("SELECT min(dated_at), max(dated_at) FROM trips")).one()
    counts: dict[str, int] = {}
    if first is not None and last is not None:
        month = as_datetime(first).date().replace(day=1)
        end = as_datetime(last).date()
        while month <= end:
            following = month_bounds(f"{month:%Y-%m}")[1] + dt.timedelta(days=1)
            counts[f"{month:%Y-%m}"] = int(
                connection.execute(
                    text("SELECT count(*) FROM trips WHERE dated_at >= :f AND dated_at < :t"),
                    {"f": month.isoformat(), "t": following.isoformat()},
                ).scalar_one()
            )
            month = following
    closed = {row["month"]: row for row in closed_months(connection)}
    return [
        MonthState(
            month=month_text,
            trips=counts.get(month_text, 0),
            closed_at=dt.datetime.fromisoformat(closed[month_text]["closed_at"])
            if month_text in closed
            else None,
            closed_by=closed[month_text]["closed_by"] if month_text in closed else None,
        )
        for month_text in sorted(set(counts) | set(closed), reverse=True)
    ]


@dataclass(frozen=True)
class Reopening:
    """One reopening of a closed month, from the audit log."""

    month: str
    at: dt.datetime
    by: str
    reason: str


def month_reopenings(connection: Connection) -> list[Reopening]:
    """The audit log's reopenings of closed months, newest first."""
    rows = connection.execute(
        text(
            "SELECT entity_id, at, os_user, reason FROM audit_log"
            " WHERE entity = 'month' AND action = 'reopen' ORDER BY at DESC, id DESC"
        )
    ).all()
    return [
        Reopening(
            month=f"{int(r.entity_id) // 100:04d}-{int(r.entity_id) % 100:02d}",
            at=as_datetime(r.at),
            by=str(r.os_user),
            reason=str(r.reason or ""),
        )
        for r in rows
    ]


def claim_pdf_for_review(*, store: Store, record: ClaimRecord) -> tuple[bytes, bool]:
    """The claim's PDF for the accounts desk: the frozen file (the approved one once decided),
    checked against its recorded SHA-256 (``True``), else — a claim kept before its files were
    stored — the PDF drawn again from the claim's frozen trips (``False``)."""
    from etcbook.export.claim_pdf import claim_pdf_bytes
    from etcbook.models.claims import claim_from_store

    with store.engine.connect() as connection:
        frozen = {f.kind: f for f in claim_files(connection, record.id)}
        shown = frozen.get("approved_pdf") or frozen.get("pdf")
        if shown is not None:
            # Checked against its SHA-256; on a server ledger the bytes come from the database,
            # so the desk sees the very PDF the driver submitted, from any computer.
            return read_claim_file(store=store, claim_file=shown, connection=connection), True
    with store.engine.connect() as connection:
        trip_ids = list(
            connection.execute(
                text("SELECT trip_id FROM claim_trips WHERE claim_id = :i ORDER BY trip_id"),
                {"i": record.id},
            ).scalars()
        )
    claim, _ = claim_from_store(
        store=store,
        card=record.card,
        date_from=record.date_from,
        date_to=record.date_to,
        trip_ids=trip_ids,
        prepared_on=record.submitted_at.date(),
    )
    return claim_pdf_bytes(claim), False
