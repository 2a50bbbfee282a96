"""The evidence vault (証憑): electronic originals kept intact beside the store, and found again.

Each store owns its vault, a folder named after the store beside it (``etcbook.sqlite3`` ->
``etcbook.etc``)::

    etcbook.etc/2025/11/2025-11_CARD1234_CarA_請求.pdf        read-only copy of the original
    etcbook.etc/2025/11/2025-11_CARD1234_CarA_請求_v2.pdf     a corrected file, beside v1
    etcbook.etc/_trash/20261122-101500_2025-11_CARD1234_明細.csv   a removed file

Earlier versions kept one ``ETC`` folder beside the store, shared by every store in the same
folder. :func:`split_shared_vault` gives a store its own copy of the files it references when it
is opened; the shared folder is left as it was.

Adding copies the file in (the source is only read), checks the copy's SHA-256, makes it
read-only and records it with its transaction date, amount and counterparty (電子帳簿保存法's
search keys). Nothing is ever overwritten: a file for the same card, kind, month (or day) and
vehicle becomes the next version. Removing moves the file to the trash and records who, when
and why. Every vault change is appended to the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from etcbook import clock, phases
from etcbook.domain.evidence import (
    SCREEN_KINDS,
    kind_keys,
    safe_name_part,
    vault_file_name,
    vault_folder,
)
from etcbook.models.audit import append_audit, os_user
from etcbook.models.dialect import as_date, contains, lock_for_transaction, month_of
from etcbook.models.store import Store
from etcbook.models.vault_storage import (
    OriginalUnreadable,
    StoredFile,
    VaultError,
    file_chunks,
    file_digest,
    make_read_only,
    storage_for,
    unlink_read_only,
    write_temporary,
)
from etcbook.privacy import free_text, make_private_dir
from etcbook.safeio import display_name

if TYPE_CHECKING:
    from etcbook.export.bundle import OriginalFile

__all__ = ["OriginalUnreadable", "VaultError"]  # raised by this module's functions

VAULT_SUFFIX = ".etc"
SHARED_VAULT_FOLDER = "ETC"
"""The vault folder of earlier versions, shared by every store in one folder."""
TRASH_FOLDER = "_trash"
CHECKED_MONTHS = 15
"""ETC利用照会サービス keeps statements for about 15 months."""
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def vault_path_for(store_path: Path) -> Path:
    """The vault of the store at ``store_path``: ``<store name>.etc`` beside it."""
    store_path = Path(store_path)
    return store_path.with_name(f"{store_path.stem}{VAULT_SUFFIX}")


def vault_root(store: Store) -> Path:
    """The store's own vault folder (:func:`vault_path_for`)."""
    return vault_path_for(store.path)


def _files_root(store: Store) -> Path | None:
    """The folder of the originals' files, or ``None`` when the database holds their bytes."""
    return None if storage_for(store).in_database else vault_root(store)


def vault_location(store: Store) -> str:
    """Where the originals are, for messages and JSON: the vault's folder, or the ledger's URL
    when they are kept in the database."""
    root = _files_root(store)
    return store.name if root is None else str(root)


@dataclass(frozen=True, slots=True)
class VaultSplit:
    """What :func:`split_shared_vault` copied from the shared ``ETC`` folder.

    Attributes:
        copied: vault paths copied into the store's own vault.
        skipped: vault paths left behind: missing in ``ETC`` or with other bytes than recorded.
    """

    copied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def split_shared_vault(*, store: Store) -> VaultSplit:
    """Give ``store`` its own vault, copied from a shared ``ETC`` folder of an earlier version.

    Runs when the store's own vault does not exist yet and an ``ETC`` folder is beside it.
    Every file the store's documents reference (removed ones in the trash included) is copied
    and checked against its recorded SHA-256 (live documents); a file another store wrote
    under the same name is left behind. The copy is assembled in a temporary folder and renamed
    into place, so an interrupted split is simply done again. ``ETC`` itself is not changed:
    it stays as the copy, with the files of the other stores.
    """
    own = vault_root(store)
    shared = store.path.parent / SHARED_VAULT_FOLDER
    if own.exists() or not shared.is_dir():
        return VaultSplit()
    with store.engine.connect() as connection:
        has_table = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'documents'")
        ).first()
        rows = (
            connection.execute(text("SELECT path, sha256, removed_at, trash_path FROM documents"))
            .mappings()
            .all()
            if has_table
            else []
        )
    if not rows:
        return VaultSplit()
    staging = own.with_name(f".{own.name}.splitting")
    if staging.exists():
        _remove_tree(staging)
    make_private_dir(staging)
    copied: list[str] = []
    skipped: list[str] = []
    for row in rows:
        relpath = row["trash_path"] if row["removed_at"] is not None else row["path"]
        if not relpath:
            continue
        source = shared / PurePosixPath(relpath)
        if not source.is_file() or (
            row["removed_at"] is None and file_digest(source)[1] != row["sha256"]
        ):
            skipped.append(relpath)
            continue
        target = staging / PurePosixPath(relpath)
        temporary, _size, _digest = write_temporary(file_chunks(source), target.parent)
        os.replace(temporary, target)
        make_read_only(target)
        copied.append(relpath)
    os.replace(staging, own)
    with store.transaction() as connection:
        append_audit(
            connection=connection,
            entity="vault",
            entity_id=0,
            action="split",
            old={"vault": str(shared)},
            new={"vault": str(own), "copied": len(copied), "skipped": skipped},
            reason="証憑フォルダをストアごとに分けました（元の ETC フォルダは残しています）",
        )
    return VaultSplit(copied=tuple(copied), skipped=tuple(skipped))


def _remove_tree(folder: Path) -> None:
    """Remove a folder of read-only copies (an interrupted split's staging folder)."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir():
            path.rmdir()
        else:
            unlink_read_only(path)
    folder.rmdir()


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A document as stored.

    Attributes:
        id: row id.
        path: absolute path of the file in the vault on this computer (or where it was, once
            removed); ``None`` when the ledger's database holds the bytes (PostgreSQL). Read
            an original through :func:`read_original` / :func:`save_original`, on both.
        relpath: path inside the vault, ``/``-separated.
        sha256: digest recorded when the file was added.
        size: bytes.
        kind: document kind key.
        card: card last 4.
        month: ``YYYY-MM``.
        date: transaction date (取引年月日) or ``None``.
        amount: transaction amount (取引金額) in yen or ``None``.
        counterparty: 取引先.
        vehicle: vehicle name used in the file name.
        version: 1, 2, … (a correction is the next version).
        supersedes_id: the document this one corrects.
        original_name: the file's name when it was added.
        added_at: when it was added.
        added_by: the OS user who added it.
        removed_at: when it was moved to the trash, or ``None``.
        removed_reason: why.
        trash_path: where in the vault's trash it went.
        card_id: the card's id (cards of a fleet may share their last 4 digits); ``None`` for
            digits no card had when it was added, or several had (``cardids_0001``).
    """

    id: int
    path: Path | None
    relpath: str
    sha256: str
    size: int
    kind: str
    card: str
    month: str
    date: dt.date | None
    amount: int | None
    counterparty: str
    vehicle: str
    version: int
    supersedes_id: int | None
    original_name: str
    added_at: str
    added_by: str
    removed_at: str | None = None
    removed_reason: str | None = None
    trash_path: str | None = None
    card_id: int | None = None

    @property
    def name(self) -> str:
        """The file's name in the vault (``2025-11_CARD1234_CarA_請求.pdf``)."""
        return PurePosixPath(self.relpath).name

    @property
    def location(self) -> str:
        """The file's path on this computer, or its path inside the ledger's vault when the
        database holds the bytes."""
        return self.relpath if self.path is None else str(self.path)

    def to_json(self, *, with_card_id: bool = False) -> dict[str, Any]:
        """The ``evidence list/search --json`` shape; ``with_card_id`` adds ``card_id`` (said
        for a card whose last 4 digits another card shares)."""
        return {
            "id": self.id,
            "path": self.location,
            "sha256": self.sha256,
            "kind": self.kind,
            "card": self.card,
            **({"card_id": self.card_id} if with_card_id else {}),
            "month": self.month,
            "date": self.date.isoformat() if self.date else None,
            "amount": self.amount,
            "counterparty": self.counterparty,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class DocumentSearch:
    """Search conditions, all optional and combined with AND.

    Attributes:
        date_from: transaction date on or after.
        date_to: transaction date on or before.
        min_amount: amount at least.
        max_amount: amount at most.
        counterparty: part of the counterparty (case-insensitive).
        kind: document kind key.
        card: card last 4.
        month: ``YYYY-MM``.
        include_removed: also documents moved to the trash.
        card_id: the card by id (wins over ``card``: cards may share their last 4 digits).
    """

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    counterparty: str | None = None
    kind: str | None = None
    card: str | None = None
    month: str | None = None
    include_removed: bool = False
    card_id: int | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if not self.include_removed:
            clauses.append("removed_at IS NULL")
        if self.date_from:
            clauses.append("doc_date >= :date_from")
            params["date_from"] = self.date_from.isoformat()
        if self.date_to:
            clauses.append("doc_date <= :date_to")
            params["date_to"] = self.date_to.isoformat()
        if self.min_amount is not None:
            clauses.append("amount >= :min_amount")
            params["min_amount"] = self.min_amount
        if self.max_amount is not None:
            clauses.append("amount <= :max_amount")
            params["max_amount"] = self.max_amount
        if self.counterparty:
            escaped = (
                self.counterparty.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            clauses.append(contains("counterparty", "counterparty"))
            params["counterparty"] = f"%{escaped}%"
        if self.kind:
            clauses.append("kind = :kind")
            params["kind"] = self.kind
        if self.card_id is not None:
            clauses.append("card_id = :card_id")
            params["card_id"] = self.card_id
        elif self.card:
            clauses.append("card_last4 = :card")
            params["card"] = self.card
        if self.month:
            clauses.append("month = :month")
            params["month"] = self.month
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_COLUMNS = (
    "id, path, sha256, size, kind, card_last4, month, doc_date, amount, counterparty, vehicle,"
    " version, supersedes_id, original_name, added_at, added_by, removed_at, removed_reason,"
    " trash_path, card_id"
)


def _record(root: Path | None, row: Any) -> DocumentRecord:
    date = row["doc_date"]
    if isinstance(date, str):
        date = as_date(date)
    return DocumentRecord(
        id=row["id"],
        path=None if root is None else root / PurePosixPath(row["path"]),
        relpath=row["path"],
        sha256=row["sha256"],
        size=row["size"],
        kind=row["kind"],
        card=row["card_last4"],
        month=row["month"],
        date=date,
        amount=row["amount"],
        counterparty=row["counterparty"],
        vehicle=row["vehicle"],
        version=row["version"],
        supersedes_id=row["supersedes_id"],
        original_name=row["original_name"],
        added_at=str(row["added_at"]),
        added_by=row["added_by"],
        removed_at=row["removed_at"],
        removed_reason=row["removed_reason"],
        trash_path=row["trash_path"],
        card_id=row["card_id"],
    )


def search_documents(
    *, store: Store, search: DocumentSearch | None = None, connection: Connection | None = None
) -> list[DocumentRecord]:
    """Documents matching ``search``, by month, card, kind and version."""
    where, params = (search or DocumentSearch()).where()
    sql = text(
        f"SELECT {_COLUMNS} FROM documents{where} ORDER BY month, card_last4, kind, version, id"
    )
    root = _files_root(store)
    if connection is not None:
        return [_record(root, r) for r in connection.execute(sql, params).mappings()]
    with store.engine.connect() as own:
        return [_record(root, r) for r in own.execute(sql, params).mappings()]


def get_document(
    *, store: Store, document_id: int, connection: Connection | None = None
) -> DocumentRecord:
    """One document by id; :class:`VaultError` when there is none (or it is not visible to
    this login on a shared ledger)."""
    query = text(f"SELECT {_COLUMNS} FROM documents WHERE id = :id")
    if connection is not None:
        row = connection.execute(query, {"id": document_id}).mappings().first()
    else:
        with store.engine.connect() as own:
            row = own.execute(query, {"id": document_id}).mappings().first()
    if row is None:
        raise VaultError(f"証憑 {document_id} はありません")
    return _record(_files_root(store), row)


def stored_file(store: Store, document: DocumentRecord) -> StoredFile:
    """Where ``document``'s bytes are, for the store's backend (a removed document's file is in
    the vault's trash)."""
    file = None
    if document.path is not None:
        root = vault_root(store)
        where = document.trash_path if document.removed_at is not None else None
        file = root / PurePosixPath(where or document.relpath)
    return StoredFile(
        table="documents",
        id=document.id,
        name=document.name,
        sha256=document.sha256,
        size=document.size,
        file=file,
    )


# --- reading and writing originals (the entry points for copies between stores) -------------


def read_original(
    *, store: Store, document: DocumentRecord, connection: Connection | None = None
) -> bytes:
    """The original's bytes, checked against its recorded SHA-256 and size.

    Raises :class:`OriginalUnreadable` (a sentence) when it is missing or altered; altered
    bytes are never returned. Holds the whole file in memory: for a copy, prefer
    :func:`iter_original` or :func:`save_original`.
    """
    return storage_for(store).read_verified(stored_file(store, document), connection)


def iter_original(
    *, store: Store, document: DocumentRecord, connection: Connection | None = None
) -> Iterator[bytes]:
    """The original's bytes in chunks of at most 1 MiB; after the last chunk
    :class:`OriginalUnreadable` is raised when they differ from the record, so a consumer keeps
    nothing until the iteration has ended (see :func:`put_original`, which checks again)."""
    return storage_for(store).verified_chunks(stored_file(store, document), connection)


def save_original(*, store: Store, document: DocumentRecord, target: Path) -> Path:
    """Copy the original to the file ``target`` (created or replaced in one rename), checked
    first: a missing or altered original raises :class:`OriginalUnreadable` and writes nothing."""
    return storage_for(store).save_verified(stored_file(store, document), Path(target))


def put_original(
    *, store: Store, connection: Connection, document_id: int, chunks: Iterable[bytes]
) -> DocumentRecord:
    """Store the bytes of a ``documents`` row already written in ``connection``'s transaction
    (a copy of a store brings its rows, then each original's bytes): in the database, or as the
    read-only file at its vault path (its trash path once removed), never over an existing file.

    The bytes must match the row's SHA-256 and size, else :class:`VaultError` and nothing is
    kept (the caller's transaction should roll back). On a later failure of that transaction,
    a file written here stays behind on SQLite: call :func:`discard_original`.
    """
    document = get_document(store=store, document_id=document_id, connection=connection)
    stored = stored_file(store, document)
    if stored.file is not None:
        make_private_dir(vault_root(store))
    storage_for(store).write(connection, stored, chunks)
    return document


def discard_original(*, store: Store, document: DocumentRecord) -> None:
    """Undo :func:`put_original` after its transaction failed (removes the file on SQLite)."""
    storage_for(store).discard(stored_file(store, document))


def original_files(store: Store, documents: Sequence[DocumentRecord]) -> list[OriginalFile]:
    """The documents as attachments of a claim bundle, read from the store's backend (the
    bundle checks each one's bytes against the recorded SHA-256)."""
    from etcbook.export.bundle import OriginalFile

    storage = storage_for(store)

    def reader(stored: StoredFile) -> Callable[[], bytes]:
        return lambda: b"".join(storage.chunks(stored))

    return [
        OriginalFile(
            PurePosixPath(d.name) if d.path is None else d.path,
            d.kind,
            d.sha256,
            read=reader(stored_file(store, d)),
        )
        for d in documents
    ]


def missing_originals(*, store: Store, documents: Sequence[DocumentRecord]) -> list[DocumentRecord]:
    """The documents whose bytes are not in the store (a file deleted outside etcbook)."""
    storage = storage_for(store)
    return [d for d in documents if not storage.exists(stored_file(store, d))]


def _check_inputs(kind: str, card: str, month: str, source: Path) -> None:
    if kind not in kind_keys():
        raise VaultError(f"種類「{kind}」は使えません（{', '.join(kind_keys())}）")
    if len(card) != 4 or not card.isascii() or not card.isdigit():
        raise VaultError(f"カード末尾4桁が正しくありません: {card!r}")
    if not _MONTH.fullmatch(month):
        raise VaultError(f"月は YYYY-MM で指定してください: {month!r}")
    if not source.is_file():
        raise VaultError(f"ファイルがありません: {display_name(source)}")


def _document_card(
    connection: Connection, card: str, card_id: int | None
) -> tuple[int | None, bool]:
    """The card an original is kept for, and whether its file name carries the card's id.

    Without ``card_id``: the one card with the digits (None when no card has them yet);
    digits several cards share are refused, never guessed. The name carries the id when other
    cards share the digits or the card has a 呼び名 (every card but the first of shared digits
    has one): under row-level security a driver does not see the other driver's card, and
    the two files must not get the same name."""
    rows = connection.execute(
        text("SELECT id, label FROM cards WHERE last4 = :card ORDER BY id"), {"card": card}
    ).all()
    owners = [row.id for row in rows]
    labelled = {row.id for row in rows if row.label}
    if card_id is None:
        if len(owners) > 1:
            listed = "、".join(f"id:{owner}" for owner in owners)
            raise VaultError(
                f"カード末尾{card}のカードが{len(owners)}枚あります（{listed}）。"
                "id か呼び名でカードを指定してください"
            )
        return (owners[0] if owners else None), False
    if card_id not in owners:
        raise VaultError(f"カード id:{card_id} の末尾は{card}ではありません")
    return card_id, len(owners) > 1 or card_id in labelled


def add_document(
    *,
    store: Store,
    source: Path,
    kind: str,
    card: str,
    month: str,
    date: dt.date | None = None,
    amount: int | None = None,
    counterparty: str = "",
    vehicle: str = "",
    user: str | None = None,
    card_id: int | None = None,
) -> DocumentRecord:
    """Copy ``source`` into the vault, read-only, and record it (and the change in the audit log).

    A file with the same bytes already in the vault is refused. A file for the same card, kind,
    month (a screenshot: day) and vehicle as an existing one becomes its next version, beside it.
    The source file is only read. ``card_id`` names the card when others share its last 4
    digits ``card`` (refused without it then); by default, the one card with those digits.
    """
    source = Path(source)
    _check_inputs(kind, card, month, source)
    if date is not None and kind in SCREEN_KINDS and date.strftime("%Y-%m") != month:
        raise VaultError(f"撮影日 {date} が月 {month} と合いません")
    vehicle = safe_name_part(free_text(vehicle))
    counterparty = free_text(counterparty)
    # A name that is not UTF-8 (cp932 from a Windows ZIP) can be neither stored nor printed as is.
    original_name = free_text(display_name(source.name))
    storage = storage_for(store)
    root = _files_root(store)
    if root is not None:
        make_private_dir(root)  # 0700: the originals are readable by the user only
    size, sha256 = file_digest(source)
    who = user or os_user()
    now = clock.now()
    stored: StoredFile | None = None
    try:
        with store.transaction() as connection:
            phases.mark("evidence_add", "start")
            card_id, named = _document_card(connection, card, card_id)
            day = date if kind in SCREEN_KINDS else None
            # Two clients adding the same bytes, or the next version of one series, take turns
            # (the duplicate check and the version number below read what the other writes).
            lock_for_transaction(
                connection,
                f"vault-bytes:{sha256}",
                f"vault-series:{card}:{card_id}:{kind}:{month}:{vehicle.lower()}:{day}",
            )
            duplicate = connection.execute(
                text(
                    "SELECT id, path FROM documents WHERE sha256 = :sha AND removed_at IS NULL"
                    " ORDER BY id LIMIT 1"
                ),
                {"sha": sha256},
            ).first()
            if duplicate is not None:
                raise VaultError(
                    f"{original_name} は証憑 {duplicate.id}（{duplicate.path}）と同じ内容で、すでに保管されています"
                )
            identity = (
                "SELECT id, version, removed_at, path, sha256 FROM documents"
                " WHERE card_last4 = :card AND card_id IS NOT DISTINCT FROM :card_id"
                " AND kind = :kind AND month = :month"
                # Windows and macOS file names ignore case: "CarA" and "cara" are one series.
                " AND lower(vehicle) = lower(:vehicle)"
            )
            if kind in SCREEN_KINDS:  # screenshots are per day
                identity += " AND doc_date IS NOT DISTINCT FROM :day"
            same = connection.execute(
                text(identity + " ORDER BY version"),
                {
                    "card": card,
                    "card_id": card_id,
                    "kind": kind,
                    "month": month,
                    "vehicle": vehicle,
                    "day": day.isoformat() if day else None,
                },
            ).all()
            version = max((r.version for r in same), default=0) + 1
            current = [r for r in same if r.removed_at is None]
            supersedes = current[-1] if current else None
            name = vault_file_name(
                kind=kind,
                card_last4=card,
                card_id=card_id if named else None,
                month=month,
                suffix=source.suffix,
                vehicle=vehicle,
                day=day,
                version=version,
            )
            relpath = f"{vault_folder(month)}/{name}"
            result = connection.execute(
                text(
                    "INSERT INTO documents (path, original_name, sha256, size, kind, card_last4,"
                    " month, doc_date, amount, counterparty, vehicle, version, supersedes_id,"
                    " added_at, added_by, card_id) VALUES (:path, :original_name, :sha256, :size,"
                    " :kind, :card, :month, :doc_date, :amount, :counterparty, :vehicle,"
                    " :version, :supersedes, :added_at, :added_by, :card_id) RETURNING id"
                ),
                {
                    "path": relpath,
                    "original_name": original_name,
                    "sha256": sha256,
                    "size": size,
                    "kind": kind,
                    "card": card,
                    "month": month,
                    "doc_date": date.isoformat() if date else None,
                    "amount": amount,
                    "counterparty": counterparty,
                    "vehicle": vehicle,
                    "version": version,
                    "supersedes": supersedes.id if supersedes else None,
                    "added_at": now.isoformat(),
                    "added_by": who,
                    "card_id": card_id,
                },
            )
            document_id = int(result.scalar_one())
            candidate = StoredFile(
                table="documents",
                id=document_id,
                name=original_name,
                sha256=sha256,
                size=size,
                file=None if root is None else root / PurePosixPath(relpath),
            )
            # Read again while copying: a source that changed since it was hashed is refused.
            storage.write(connection, candidate, file_chunks(source))
            stored = candidate
            append_audit(
                connection=connection,
                entity="document",
                entity_id=document_id,
                action="version" if supersedes else "add",
                old=(
                    {"id": supersedes.id, "path": supersedes.path, "sha256": supersedes.sha256}
                    if supersedes
                    else None
                ),
                new={
                    "path": relpath,
                    "sha256": sha256,
                    "size": size,
                    "kind": kind,
                    "card": card,
                    "month": month,
                    "date": date.isoformat() if date else None,
                    "amount": amount,
                    "counterparty": counterparty,
                    "original_name": original_name,
                },
                user=who,
                at=now,
            )
            phases.mark("evidence_add", "commit")
    except BaseException:
        if stored is not None:  # a file placed on SQLite whose record did not commit
            storage.discard(stored)
        raise
    phases.mark("evidence_add", "end")
    return get_document(store=store, document_id=document_id)


def remove_document(
    *, store: Store, document_id: int, reason: str, user: str | None = None
) -> DocumentRecord:
    """Move a document's file to the vault's trash and record who removed it, when and why."""
    if not reason.strip():
        raise VaultError("削除の理由を入力してください")
    document = get_document(store=store, document_id=document_id)
    if document.removed_at is not None:
        raise VaultError(f"証憑 {document_id} はすでに削除されています")
    storage = storage_for(store)
    stored = stored_file(store, document)
    root = _files_root(store)
    now = clock.now()
    stamp = now.strftime("%Y%m%d-%H%M%S")

    def trash_name(n: int) -> str:
        return f"{TRASH_FOLDER}/{stamp}{'' if n == 1 else f'-{n}'}_{document.name}"

    def in_files(relpath: str) -> Path | None:
        return None if root is None else root / PurePosixPath(relpath)

    n = 1
    with store.engine.connect() as connection:
        while storage.taken(connection, trash_name(n), in_files(trash_name(n))):
            n += 1
    target = in_files(trash_name(n))
    moved = storage.move(stored, target) if target is not None else storage.exists(stored)
    trash_rel = trash_name(n) if moved else None
    who = user or os_user()
    try:
        with store.transaction() as connection:
            marked = connection.execute(
                text(
                    "UPDATE documents SET removed_at = :at, removed_by = :by,"
                    " removed_reason = :reason, trash_path = :trash"
                    " WHERE id = :id AND removed_at IS NULL"
                ),
                {
                    "at": now.isoformat(),
                    "by": who,
                    "reason": free_text(reason),
                    "trash": trash_rel,
                    "id": document_id,
                },
            )
            if not marked.rowcount:  # another client removed it a moment ago
                raise VaultError(f"証憑 {document_id} はすでに削除されています")
            append_audit(
                connection=connection,
                entity="document",
                entity_id=document_id,
                action="remove",
                old={"path": document.relpath, "sha256": document.sha256},
                new={"trash_path": trash_rel},
                reason=reason,
                user=who,
                at=now,
            )
    except BaseException:
        if moved and target is not None:
            storage.move_back(stored, target)
        raise
    return get_document(store=store, document_id=document_id)


@dataclass(frozen=True, slots=True)
class VaultCheck:
    """The vault's files against their recorded digests.

    Attributes:
        checked: documents checked (those not removed).
        missing: vault paths of documents whose file is gone.
        altered: vault paths of documents whose bytes changed.
    """

    checked: int
    missing: tuple[str, ...]
    altered: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.missing and not self.altered


def verify_vault(*, store: Store) -> VaultCheck:
    """Recompute the SHA-256 of every document in the vault (files on this computer, or the
    rows in the ledger's database, where the server computes the digests)."""
    documents = search_documents(store=store)
    storage = storage_for(store)
    missing, altered = [], []
    for document in documents:
        found = storage.measure(stored_file(store, document))
        if found is None:
            missing.append(document.relpath)
        elif found != (document.size, document.sha256):
            altered.append(document.relpath)
    return VaultCheck(checked=len(documents), missing=tuple(missing), altered=tuple(altered))


@dataclass(frozen=True, slots=True)
class MonthCoverage:
    """Whether one card's month has its statement and usage certificate in the vault.

    Attributes:
        card: card last 4.
        month: ``YYYY-MM``.
        trips: trips of the card exiting in that month.
        statement: a 請求書 is in the vault.
        certificate: a 利用証明書 is in the vault.
        card_id: the card's id (cards of a fleet may share their last 4 digits).
    """

    card: str
    month: str
    trips: int
    statement: bool
    certificate: bool
    card_id: int | None = None

    @property
    def lacking(self) -> bool:
        """The month had trips and its statement or its certificate is not in the vault."""
        return self.trips > 0 and not (self.statement and self.certificate)


def recent_months(today: dt.date, count: int = CHECKED_MONTHS) -> list[str]:
    """The ``count`` complete months before ``today``'s month, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(f"{year:04d}-{month:02d}")
    return months[::-1]


def month_coverage(
    *, store: Store, today: dt.date | None = None, count: int = CHECKED_MONTHS
) -> list[MonthCoverage]:
    """Each card × each of the last ``count`` complete months: trips, statement, certificate.

    The download window of ETC利用照会サービス is about 15 months and closes silently, so the
    view lists every month with trips that lacks its statement or certificate while there is
    still time to fetch it.
    """
    months = recent_months(today or clock.today(), count)
    first, last = months[0], months[-1]
    end_year, end_month = (int(p) for p in last.split("-"))
    end = dt.date(end_year + end_month // 12, end_month % 12 + 1, 1)
    # By card id: cards of a fleet may share their last 4 digits. An original kept under the
    # digits before any card had them (no card id) counts for the one card with those digits,
    # for none where several share them (a month then errs on the side of lacking).
    with store.engine.connect() as connection:
        cards = connection.execute(text("SELECT id, last4 FROM cards ORDER BY last4, id")).all()
        trips = {
            (r.card_id, r.month): r.n
            for r in connection.execute(
                text(
                    f"SELECT card_id, {month_of('dated_at', connection)} AS month,"
                    " count(*) AS n FROM trips"
                    " WHERE dated_at >= :start AND dated_at < :end GROUP BY 1, 2"
                ),
                {"start": f"{first}-01", "end": end.isoformat()},
            )
        }
        held = {
            (r.card_id, r.month, r.kind)
            for r in connection.execute(
                text(
                    "SELECT DISTINCT coalesce(d.card_id, c.id) AS card_id, d.month, d.kind"
                    " FROM documents d LEFT JOIN cards c ON d.card_id IS NULL"
                    " AND c.last4 = d.card_last4 AND NOT EXISTS (SELECT 1 FROM cards c2"
                    " WHERE c2.last4 = c.last4 AND c2.id <> c.id)"
                    " WHERE d.removed_at IS NULL AND d.kind IN ('statement', 'certificate')"
                    " AND d.month >= :first AND d.month <= :last"
                ),
                {"first": first, "last": last},
            )
        }
    return [
        MonthCoverage(
            card=card.last4,
            month=month,
            trips=trips.get((card.id, month), 0),
            statement=(card.id, month, "statement") in held,
            certificate=(card.id, month, "certificate") in held,
            card_id=card.id,
        )
        for card in cards
        for month in months
    ]
