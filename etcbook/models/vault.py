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

import contextlib
import datetime as dt
import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, text

from etcbook import clock
from etcbook.domain.evidence import (
    SCREEN_KINDS,
    kind_keys,
    safe_name_part,
    vault_file_name,
    vault_folder,
)
from etcbook.models.audit import append_audit, os_user
from etcbook.models.dialect import as_date, contains, month_of
from etcbook.models.store import Store
from etcbook.privacy import free_text, make_private_dir
from etcbook.safeio import FILE_IN_USE, FileInUse, display_name, fsync_fully, replace_file

VAULT_SUFFIX = ".etc"
SHARED_VAULT_FOLDER = "ETC"
"""The vault folder of earlier versions, shared by every store in one folder."""
TRASH_FOLDER = "_trash"
CHECKED_MONTHS = 15
"""ETC利用照会サービス keeps statements for about 15 months."""
_CHUNK = 1 << 20
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class VaultError(ValueError):
    """A vault operation refused (bad input, duplicate, unknown document); nothing changed."""


def vault_path_for(store_path: Path) -> Path:
    """The vault of the store at ``store_path``: ``<store name>.etc`` beside it."""
    store_path = Path(store_path)
    return store_path.with_name(f"{store_path.stem}{VAULT_SUFFIX}")


def vault_root(store: Store) -> Path:
    """The store's own vault folder (:func:`vault_path_for`)."""
    return vault_path_for(store.path)


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
            row["removed_at"] is None and _file_sha256(source) != row["sha256"]
        ):
            skipped.append(relpath)
            continue
        target = staging / PurePosixPath(relpath)
        temporary, _digest, _size = _copy_into(source, target.parent)
        os.replace(temporary, target)
        _make_read_only(target)
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
            _unlink_read_only(path)
    folder.rmdir()


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A document as stored.

    Attributes:
        id: row id.
        path: absolute path of the file in the vault (or where it was, once removed).
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
    """

    id: int
    path: Path
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

    def to_json(self) -> dict[str, Any]:
        """The ``evidence list/search --json`` shape."""
        return {
            "id": self.id,
            "path": str(self.path),
            "sha256": self.sha256,
            "kind": self.kind,
            "card": self.card,
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
        if self.card:
            clauses.append("card_last4 = :card")
            params["card"] = self.card
        if self.month:
            clauses.append("month = :month")
            params["month"] = self.month
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_COLUMNS = (
    "id, path, sha256, size, kind, card_last4, month, doc_date, amount, counterparty, vehicle,"
    " version, supersedes_id, original_name, added_at, added_by, removed_at, removed_reason,"
    " trash_path"
)


def _record(root: Path, row: Any) -> DocumentRecord:
    date = row["doc_date"]
    if isinstance(date, str):
        date = as_date(date)
    return DocumentRecord(
        id=row["id"],
        path=root / PurePosixPath(row["path"]),
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
    )


def search_documents(
    *, store: Store, search: DocumentSearch | None = None, connection: Connection | None = None
) -> list[DocumentRecord]:
    """Documents matching ``search``, by month, card, kind and version."""
    where, params = (search or DocumentSearch()).where()
    sql = text(
        f"SELECT {_COLUMNS} FROM documents{where} ORDER BY month, card_last4, kind, version, id"
    )
    root = vault_root(store)
    if connection is not None:
        return [_record(root, r) for r in connection.execute(sql, params).mappings()]
    with store.engine.connect() as own:
        return [_record(root, r) for r in own.execute(sql, params).mappings()]


def get_document(*, store: Store, document_id: int) -> DocumentRecord:
    """One document by id; :class:`VaultError` when there is none."""
    with store.engine.connect() as connection:
        row = (
            connection.execute(
                text(f"SELECT {_COLUMNS} FROM documents WHERE id = :id"), {"id": document_id}
            )
            .mappings()
            .first()
        )
    if row is None:
        raise VaultError(f"証憑 {document_id} はありません")
    return _record(vault_root(store), row)


def _copy_into(source: Path, folder: Path) -> tuple[Path, str, int]:
    """Copy ``source`` to a temporary file in ``folder``, fsynced; return it, its digest, size."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(prefix=".adding.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            fsync_fully(out.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    return Path(name), digest.hexdigest(), size


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _make_read_only(path: Path) -> None:
    os.chmod(path, stat.S_IRUSR)


def _unlink_read_only(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        path.unlink()


def _place(temporary: Path, target: Path) -> None:
    """Give the checked copy its final name, never replacing an existing file."""
    try:
        os.link(temporary, target)  # fails if target exists: no overwrite, even in a race
    except FileExistsError:
        raise VaultError(f"{target.name} はすでに保管庫にあります（上書きしません）") from None
    except OSError:
        # File systems without hard links: check, then rename.
        if target.exists():
            raise VaultError(f"{target.name} はすでに保管庫にあります（上書きしません）") from None
        os.replace(temporary, target)
        return
    temporary.unlink()


def _check_inputs(kind: str, card: str, month: str, source: Path) -> None:
    if kind not in kind_keys():
        raise VaultError(f"種類「{kind}」は使えません（{', '.join(kind_keys())}）")
    if len(card) != 4 or not card.isascii() or not card.isdigit():
        raise VaultError(f"カード末尾4桁が正しくありません: {card!r}")
    if not _MONTH.fullmatch(month):
        raise VaultError(f"月は YYYY-MM で指定してください: {month!r}")
    if not source.is_file():
        raise VaultError(f"ファイルがありません: {display_name(source)}")


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
) -> DocumentRecord:
    """Copy ``source`` into the vault, read-only, and record it (and the change in the audit log).

    A file with the same bytes already in the vault is refused. A file for the same card, kind,
    month (a screenshot: day) and vehicle as an existing one becomes its next version, beside it.
    The source file is only read.
    """
    source = Path(source)
    _check_inputs(kind, card, month, source)
    if date is not None and kind in SCREEN_KINDS and date.strftime("%Y-%m") != month:
        raise VaultError(f"撮影日 {date} が月 {month} と合いません")
    vehicle = safe_name_part(free_text(vehicle))
    counterparty = free_text(counterparty)
    # A name that is not UTF-8 (cp932 from a Windows ZIP) can be neither stored nor printed as is.
    original_name = free_text(display_name(source.name))
    root = vault_root(store)
    make_private_dir(root)  # 0700: the originals are readable by the user only
    folder = root / vault_folder(month)
    temporary, sha256, size = _copy_into(source, folder)
    placed: Path | None = None
    try:
        if _file_sha256(temporary) != sha256:
            raise VaultError(
                f"{original_name}: コピーが元のファイルと一致しません（ディスクを確認してください）"
            )
        who = user or os_user()
        now = clock.now()
        with store.transaction() as connection:
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
            day = date if kind in SCREEN_KINDS else None
            identity = (
                "SELECT id, version, removed_at, path, sha256 FROM documents"
                " WHERE card_last4 = :card AND kind = :kind AND month = :month"
                # Windows and macOS file names ignore case: "CarA" and "cara" are one series.
                " AND lower(vehicle) = lower(:vehicle)"
            )
            if kind in SCREEN_KINDS:  # screenshots are per day
                identity += " AND doc_date IS NOT DISTINCT FROM :day"
            same = connection.execute(
                text(identity + " ORDER BY version"),
                {
                    "card": card,
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
                month=month,
                suffix=source.suffix,
                vehicle=vehicle,
                day=day,
                version=version,
            )
            relpath = f"{vault_folder(month)}/{name}"
            placed = folder / name
            _place(temporary, placed)
            _make_read_only(placed)
            result = connection.execute(
                text(
                    "INSERT INTO documents (path, original_name, sha256, size, kind, card_last4,"
                    " month, doc_date, amount, counterparty, vehicle, version, supersedes_id,"
                    " added_at, added_by) VALUES (:path, :original_name, :sha256, :size, :kind,"
                    " :card, :month, :doc_date, :amount, :counterparty, :vehicle, :version,"
                    " :supersedes, :added_at, :added_by) RETURNING id"
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
                },
            )
            document_id = int(result.scalar_one())
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
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        if placed is not None:
            _unlink_read_only(placed)
        raise
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
    root = vault_root(store)
    now = clock.now()
    trash = root / TRASH_FOLDER
    trash.mkdir(parents=True, exist_ok=True)
    target = trash / f"{now.strftime('%Y%m%d-%H%M%S')}_{document.path.name}"
    n = 1
    while target.exists():
        n += 1
        target = trash / f"{now.strftime('%Y%m%d-%H%M%S')}-{n}_{document.path.name}"
    moved = False
    if document.path.exists():
        try:
            replace_file(document.path, target)
        except FileInUse:
            # Windows: a viewer (Acrobat, Explorer's preview) holds the file.
            raise VaultError(f"{document.path.name}: {FILE_IN_USE}。") from None
        moved = True
    trash_rel = f"{TRASH_FOLDER}/{target.name}" if moved else None
    who = user or os_user()
    try:
        with store.transaction() as connection:
            connection.execute(
                text(
                    "UPDATE documents SET removed_at = :at, removed_by = :by,"
                    " removed_reason = :reason, trash_path = :trash WHERE id = :id"
                ),
                {
                    "at": now.isoformat(),
                    "by": who,
                    "reason": free_text(reason),
                    "trash": trash_rel,
                    "id": document_id,
                },
            )
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
        if moved:
            os.replace(target, document.path)
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
    """Recompute the SHA-256 of every document in the vault."""
    documents = search_documents(store=store)
    missing, altered = [], []
    for document in documents:
        if not document.path.is_file():
            missing.append(document.relpath)
        elif (
            document.path.stat().st_size != document.size
            or _file_sha256(document.path) != document.sha256
        ):
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
    """

    card: str
    month: str
    trips: int
    statement: bool
    certificate: bool

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
    with store.engine.connect() as connection:
        cards = connection.execute(text("SELECT id, last4 FROM cards ORDER BY last4")).all()
        trips = {
            (r.last4, r.month): r.n
            for r in connection.execute(
                text(
                    f"SELECT c.last4, {month_of('t.dated_at', connection)} AS month,"
                    " count(*) AS n FROM trips t JOIN cards c ON c.id = t.card_id"
                    " WHERE t.dated_at >= :start AND t.dated_at < :end GROUP BY 1, 2"
                ),
                {"start": f"{first}-01", "end": end.isoformat()},
            )
        }
        held = {
            (r.card_last4, r.month, r.kind)
            for r in connection.execute(
                text(
                    "SELECT DISTINCT card_last4, month, kind FROM documents"
                    " WHERE removed_at IS NULL AND kind IN ('statement', 'certificate')"
                    " AND month >= :first AND month <= :last"
                ),
                {"first": first, "last": last},
            )
        }
    return [
        MonthCoverage(
            card=card.last4,
            month=month,
            trips=trips.get((card.last4, month), 0),
            statement=(card.last4, month, "statement") in held,
            certificate=(card.last4, month, "certificate") in held,
        )
        for card in cards
        for month in months
    ]
