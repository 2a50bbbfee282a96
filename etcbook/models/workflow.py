"""Month closing and claims as a workflow (submitted → approved or returned → submitted again).

The database enforces the rules (triggers from migration roles_0001 and, on a shared ledger,
the policies and triggers of :mod:`etcbook.models.roles`); these functions do the work and
ask first, so the refusal the user sees is a sentence, not the database's words.
On SQLite the single user has every right.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from etcbook import clock
from etcbook.models.audit import append_audit
from etcbook.models.dialect import as_date, as_datetime
from etcbook.models.roles import login_name, my_role
from etcbook.models.store import Store

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
        }


_CLAIM_SELECT = (
    "SELECT k.id, c.last4, k.card_id, k.driver, k.date_from, k.date_to, k.total, k.status,"
    " k.submitted_at, k.decided_by, k.decided_at, k.comment, k.pdf_sha256, k.csv_sha256,"
    " k.bundle_sha256, k.folder FROM claims k JOIN cards c ON c.id = k.card_id"
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
    )


def list_claims(connection: Connection, status: str | None = None) -> list[ClaimRecord]:
    where, params = "", {}
    if status:
        if status not in CLAIM_STATUSES:
            raise ValueError(f"状態は {', '.join(CLAIM_STATUSES)} のどれかです: {status}")
        where, params = " WHERE k.status = :s", {"s": status}
    rows = connection.execute(text(_CLAIM_SELECT + where + " ORDER BY k.id"), params).all()
    return [_record(r) for r in rows]


def get_claim(connection: Connection, claim_id: int) -> ClaimRecord:
    row = connection.execute(text(_CLAIM_SELECT + " WHERE k.id = :i"), {"i": claim_id}).first()
    if row is None:
        from etcbook.models.refusals import not_yours

        raise Refused(
            not_yours(connection, "claims", claim_id)
            or f"申請 {claim_id} はありません（番号の誤りです）"
        )
    return _record(row)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def claims_folder(store: Store) -> Path:
    """Where frozen claims' files are kept on this computer (beside the store or its vault)."""
    if store.address is not None:
        return store.address.local_folder() / "claims"
    return store.path.parent / f"{store.path.stem}-claims"


def submit_claim(
    *, store: Store, card: str, date_from: dt.date, date_to: dt.date, out: Path | None = None
) -> tuple[ClaimRecord, Any]:
    """Freeze the claim for ``card`` over the period: its trips and amounts, its PDF/CSV/bundle
    and their SHA-256. A returned claim for the same card and period is replaced by this one
    (its status stays in the audit log); a submitted or approved one refuses a second."""
    from etcbook.export.bundle import OriginalFile, write_claim_outputs
    from etcbook.models.cards import resolve_card
    from etcbook.models.claims import claim_from_store

    with store.transaction() as connection:
        card_id = resolve_card(connection, card).id
        last4 = connection.execute(
            text("SELECT last4 FROM cards WHERE id = :i"), {"i": card_id}
        ).scalar_one()
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
    claim, documents = claim_from_store(
        store=store, card=last4, date_from=date_from, date_to=date_to, prepared_on=clock.today()
    )
    with store.transaction() as connection:
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
        outputs = write_claim_outputs(
            claim, folder, [OriginalFile(d.path, d.kind, d.sha256) for d in documents]
        )
        trips = connection.execute(
            text(
                "SELECT id, toll, business_share, purpose FROM trips WHERE card_id = :c"
                " AND business_share > 0 AND exit_at >= :f AND exit_at < :t"
            ),
            {
                "c": card_id,
                "f": dt.datetime.combine(date_from, dt.time()).isoformat(),
                "t": dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()).isoformat(),
            },
        ).all()
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
            text(
                "UPDATE claims SET pdf_sha256 = :p, csv_sha256 = :c, bundle_sha256 = :b,"
                " folder = :folder WHERE id = :i"
            ),
            {
                "p": _sha256(outputs.pdf),
                "c": _sha256(outputs.csv),
                "b": _sha256(outputs.bundle),
                "folder": str(folder),
                "i": claim_id,
            },
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
    *, store: Store, claim_id: int, approve: bool, comment: str = ""
) -> tuple[ClaimRecord, Path | None]:
    """Approve or return a submitted claim (accounts only); an approved claim's PDF is drawn
    again with the approver and the date in the 承認者 box."""
    with store.transaction() as connection:
        _require_accounts(connection, "申請の承認・差し戻し")
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
        trip_ids = list(
            connection.execute(
                text("SELECT trip_id FROM claim_trips WHERE claim_id = :i"), {"i": claim_id}
            ).scalars()
        )
    pdf = approved_pdf(store=store, record=decided, trip_ids=trip_ids) if approve else None
    return decided, pdf


def approved_pdf(*, store: Store, record: ClaimRecord, trip_ids: list[int]) -> Path:
    """The approved claim's PDF, with the approver and the day in the 承認者 box, written beside
    the frozen files (``<stem>_承認済.pdf``)."""
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
    folder = Path(record.folder) if record.folder else claims_folder(store) / f"claim-{record.id}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{claim.file_stem}_承認済.pdf"
    write_bytes_atomically(path, claim_pdf_bytes(claim))
    return path
