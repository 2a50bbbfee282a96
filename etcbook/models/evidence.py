"""Tables of the evidence vault (証憑) and the audit log (訂正削除の記録).

``documents``: one row per file in the vault (``<store name>.etc/<year>/<month>/`` beside the store).
A corrected file is a new row (version 2, 3 …) pointing at the one it supersedes; a removed
file keeps its row, marked with who removed it, when, why and where in the trash it went.

``audit_log``: append-only. Triggers in the migration refuse UPDATE and DELETE on it, so no
code path in the app (or a stray SQL statement) can rewrite history.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from etcbook.models.columns import IsoDate, IsoDateTime


class Document(SQLModel, table=True):
    """証憑: an electronic original kept in the vault, never edited in place."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_date", "doc_date"),
        Index("ix_documents_amount", "amount"),
        Index("ix_documents_counterparty", "counterparty"),
        Index("ix_documents_card_kind_month", "card_last4", "kind", "month"),
        Index("ix_documents_kind_month", "kind", "month"),
        Index("ix_documents_sha256", "sha256"),
        Index("ix_documents_path", "path", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    path: str
    """Path inside the vault, ``/``-separated (``2025/11/2025-11_CARD1234_CarA_請求.pdf``)."""
    original_name: str
    sha256: str
    size: int
    kind: str
    card_last4: str
    month: str
    """``YYYY-MM`` the document is about (a statement's billing month, a screen's day's month)."""
    doc_date: dt.date | None = Field(default=None, sa_type=IsoDate)
    """取引年月日: transaction date for 電子帳簿保存法 search."""
    amount: int | None = None
    """取引金額 in yen."""
    counterparty: str = ""
    """取引先: the card company or road operator."""
    vehicle: str = ""
    version: int = 1
    supersedes_id: int | None = Field(default=None, foreign_key="documents.id")
    added_at: dt.datetime = Field(sa_type=IsoDateTime)
    added_by: str = ""
    removed_at: dt.datetime | None = Field(default=None, sa_type=IsoDateTime)
    removed_by: str | None = None
    removed_reason: str | None = None
    trash_path: str | None = None
    card_id: int | None = Field(default=None, index=True)
    """The card (cards of a fleet may share their last 4 digits); None: digits no card had
    when it was added, or several cards had (migration ``cardids_0001``)."""


class AuditEntry(SQLModel, table=True):
    """One recorded change: a trip field edited, a document added, versioned or removed."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_type=IsoDateTime, index=True)
    os_user: str
    entity: str
    """``trip`` or ``document``."""
    entity_id: int
    action: str
    """``update`` (trip), ``add``, ``version``, ``remove`` (document)."""
    field: str | None = None
    old_value: str | None = None
    """JSON of the value before (``null`` for an addition)."""
    new_value: str | None = None
    """JSON of the value after."""
    reason: str = ""
    db_user: str = ""
    """On a PostgreSQL ledger, the login that made the change (set by the database from
    ``session_user``, whatever the client sends); empty on SQLite."""
