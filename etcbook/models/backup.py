"""Backup and restore: one ZIP holding a consistent copy of the store, the vault and a manifest.

Layout of the archive::

    manifest.json              format, versions, counts, SHA-256 and size of every other entry
    store/etcbook.sqlite3      the store, copied with SQLite's online backup API (consistent
                               even while another process writes), as a single file (no WAL)
    ETC/2025/11/…              the store's evidence vault (``<store name>.etc`` beside it),
                               byte for byte

A backup is written beside its final name and renamed into place when complete, so a crash
never leaves half an archive under that name. A restore checks everything first (every
entry's SHA-256, the store's ``PRAGMA integrity_check``, its migration revisions), keeps a copy
of the current store and moves the current vault aside, then copies the store in with the
backup API (one transaction: another process sees the old store or the new one, never a mix).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from etcbook import __version__, clock
from etcbook.models.backup_reminder import LAST_BACKUP_SUFFIX as LAST_BACKUP_SUFFIX
from etcbook.models.backup_reminder import REMIND_AFTER_DAYS as REMIND_AFTER_DAYS
from etcbook.models.backup_reminder import backup_reminder as backup_reminder
from etcbook.models.backup_reminder import last_backup as last_backup
from etcbook.models.backup_reminder import last_backup_path
from etcbook.models.instance import StoreClaim, claim_store
from etcbook.models.store import Store, backup_copy, sqlite_uri
from etcbook.models.vault import vault_path_for
from etcbook.safeio import FileInUse, atomic_output, open_binary_fd, replace_file

FORMAT = "etcbook-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STORE_ENTRY = "store/etcbook.sqlite3"
ARCHIVE_VAULT_FOLDER = "ETC"
"""The vault's folder inside a backup ZIP (whatever the store's vault is named on disk)."""
VAULT_PREFIX = f"{ARCHIVE_VAULT_FOLDER}/"

_CHUNK = 1 << 20
_COMPRESSED = {".pdf", ".png", ".jpg", ".jpeg", ".zip", ".xlsx", ".gz", ".webp", ".heic"}


class BackupError(ValueError):
    """The archive cannot be used (damaged, not an etcbook backup, from a newer etcbook) or the
    backup cannot be written; the message is for the user and nothing was changed."""


class StoreInUse(BackupError):
    """Restore refused because a window has the store open; nothing was changed."""


class RestoreIncomplete(BackupError):
    """A restore failed part-way and the previous store or vault could not be put back; the
    message says where the kept copies are."""


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote."""

    path: Path
    size: int
    created_at: str
    store_sha256: str
    trips: int
    cards: int
    vault_files: int

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "size": self.size,
            "created_at": self.created_at,
            "store_sha256": self.store_sha256,
            "trips": self.trips,
            "cards": self.cards,
            "vault_files": self.vault_files,
        }


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did, and where the previous store and vault were kept."""

    store: Path
    kept_store: Path | None
    kept_vault: Path | None
    backup_created_at: str
    trips: int
    cards: int
    vault_files: int
    upgraded: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "store": str(self.store),
            "kept_store": str(self.kept_store) if self.kept_store else None,
            "kept_vault": str(self.kept_vault) if self.kept_vault else None,
            "backup_created_at": self.backup_created_at,
            "trips": self.trips,
            "cards": self.cards,
            "vault_files": self.vault_files,
            "upgraded": self.upgraded,
        }


@dataclass
class Manifest:
    """The checked contents of an archive."""

    created_at: str
    etcbook: str
    store: dict[str, Any]
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def entries(self) -> dict[str, dict[str, Any]]:
        return {STORE_ENTRY: self.store, **{f["path"]: f for f in self.files}}


# --- small helpers ---------------------------------------------------------------------------


def expand(path: Path | str) -> Path:
    """``~`` expanded and made absolute; an unknown user's ``~name`` is a BackupError."""
    try:
        return Path(path).expanduser().absolute()
    except RuntimeError:
        raise BackupError(f"{path}: ホームフォルダが見つかりません。") from None


def vault_for(store_path: Path) -> Path:
    """The store's own vault folder (:func:`etcbook.models.vault.vault_path_for`)."""
    return vault_path_for(Path(store_path))


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _counts(db: sqlite3.Connection) -> tuple[int, int]:
    trips = db.execute("SELECT count(*) FROM trips").fetchone()[0]
    cards = db.execute("SELECT count(*) FROM cards").fetchone()[0]
    return int(trips), int(cards)


def _revisions(db: sqlite3.Connection) -> list[str]:
    try:
        return sorted(r[0] for r in db.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.DatabaseError:
        return []


def _vault_files(vault: Path) -> list[Path]:
    """Every file in the vault, trash included; partial copies (``.…tmp``) left out."""
    if not vault.is_dir():
        return []
    files = []
    for path in sorted(vault.rglob("*")):
        if path.is_file() and not (path.name.startswith(".") and path.name.endswith(".tmp")):
            files.append(path)
    return files


def _snapshot(source: Path, target: Path) -> None:
    """Copy a live store to ``target`` with the online backup API, as one self-contained file."""
    fd = open_binary_fd(target, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    os.close(fd)
    src = sqlite3.connect(sqlite_uri(source, read_only=True), uri=True, timeout=30)
    try:
        dest = sqlite3.connect(target)
        try:
            src.backup(dest)
            dest.execute("PRAGMA journal_mode=DELETE")
            check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dest.close()
    finally:
        src.close()
    if check != "ok":
        raise BackupError(
            f"{source}: ストアに不整合があるため、バックアップを作れません（integrity_check: {check}）。"
        )


def _private_tempdir(near: Path) -> Path:
    """A temporary folder (0700) beside ``near``, on the same file system."""
    near.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".etcbook-backup-", dir=near))


# --- backup ----------------------------------------------------------------------------------


def server_ledger_refused(name: str) -> str:
    """Why backup and restore refuse a PostgreSQL ledger."""
    return (
        f"{name}: PostgreSQL の帳簿はサーバーの管理者がバックアップします（pg_dump）。"
        "etcbook backup / restore は SQLite のストアだけを扱います。"
    )


def create_backup(store: Store, out: Path, *, overwrite: bool = False) -> BackupResult:
    """Write a backup ZIP of ``store`` and its vault to ``out`` (a SQLite store only)."""
    if store.on_server:
        raise BackupError(server_ledger_refused(store.name))
    out = expand(out)
    if out.exists() and not overwrite:
        raise BackupError(f"{out}: すでにあります（上書きしません。別の名前を指定してください）。")
    if out.exists() and out.is_dir():
        raise BackupError(f"{out}: フォルダです。ZIPファイルの名前を指定してください。")
    created_at = clock.now().isoformat()
    vault = vault_for(store.path)
    # The snapshot is built in the computer's own temporary folder: beside the output it
    # would be uploaded while built when the output is in OneDrive or on a network drive.
    work = _private_tempdir(Path(tempfile.gettempdir()))
    try:
        snapshot = work / "etcbook.sqlite3"
        _snapshot(store.path, snapshot)
        db = sqlite3.connect(snapshot)
        try:
            trips, cards = _counts(db)
            revisions = _revisions(db)
        finally:
            db.close()
        store_sha, store_size = _sha256_file(snapshot)
        files: list[dict[str, Any]] = []
        sources: list[tuple[Path, str]] = []
        for path in _vault_files(vault):
            digest, size = _sha256_file(path)
            # NFC: an old macOS (HFS+) volume hands out decomposed names, which would not
            # match the vault paths the store records once restored elsewhere.
            relative = PurePosixPath(*path.relative_to(vault).parts)
            name = unicodedata.normalize("NFC", f"{VAULT_PREFIX}{relative}")
            files.append({"path": name, "sha256": digest, "size": size})
            sources.append((path, name))
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": created_at,
            "etcbook": __version__,
            "store": {
                "path": STORE_ENTRY,
                "sha256": store_sha,
                "size": store_size,
                "revisions": revisions,
                "trips": trips,
                "cards": cards,
            },
            "files": files,
        }
        with atomic_output(out) as temp, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
            zf.write(snapshot, STORE_ENTRY)
            for source, name in sources:
                kind = (
                    zipfile.ZIP_STORED
                    if source.suffix.lower() in _COMPRESSED
                    else zipfile.ZIP_DEFLATED
                )
                zf.write(source, name, compress_type=kind)
    except OSError as exc:
        raise BackupError(f"{out}: バックアップを書けません（{exc.strerror or exc}）。") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _record_last_backup(store.path, out, created_at)
    return BackupResult(
        path=out,
        size=out.stat().st_size,
        created_at=created_at,
        store_sha256=store_sha,
        trips=trips,
        cards=cards,
        vault_files=len(files),
    )


def _record_last_backup(store_path: Path, out: Path, created_at: str) -> None:
    with contextlib.suppress(OSError), atomic_output(last_backup_path(store_path)) as temp:
        temp.write_text(
            json.dumps({"created_at": created_at, "path": str(out)}, ensure_ascii=False),
            encoding="utf-8",
        )


# --- checking an archive ---------------------------------------------------------------------


def _safe_entry_name(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or ":" in name:
        return False
    parts = PurePosixPath(name).parts
    return ".." not in parts and "." not in parts


def _load_manifest(zf: zipfile.ZipFile, archive: Path) -> Manifest:
    foreign = (
        f"{archive}: etcbook のバックアップではありません（manifest.json がないか読めません）。"
    )
    try:
        raw = zf.read(MANIFEST)
    except KeyError:
        raise BackupError(foreign) from None
    except (zipfile.BadZipFile, EOFError, zlib.error):
        raise BackupError(
            f"{archive}: バックアップが壊れています（途中で切れているか、書き換えられています）。"
        ) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BackupError(foreign) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(foreign)
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise BackupError(foreign)
    if version > FORMAT_VERSION:
        raise BackupError(
            f"{archive}: より新しい etcbook で作られたバックアップです（形式 {version}）。"
            "etcbook を更新してから戻してください。"
        )
    store = data.get("store")
    files = data.get("files", [])
    if not isinstance(store, dict) or not isinstance(files, list):
        raise BackupError(foreign)
    for entry in [store, *files]:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("path"), str)
            or not isinstance(entry.get("sha256"), str)
            or not isinstance(entry.get("size"), int)
        ):
            raise BackupError(foreign)
    if store["path"] != STORE_ENTRY:
        raise BackupError(foreign)
    for entry in files:
        if not entry["path"].startswith(VAULT_PREFIX) or not _safe_entry_name(entry["path"]):
            raise BackupError(
                f"{archive}: バックアップに不正なファイル名があります: {entry['path']!r}"
            )
    return Manifest(
        created_at=str(data.get("created_at", "")),
        etcbook=str(data.get("etcbook", "")),
        store=store,
        files=files,
    )


def _extract_checked(
    zf: zipfile.ZipFile, name: str, expected: dict[str, Any], target: Path
) -> None:
    """Extract one entry to ``target``, checking its size and SHA-256 on the way."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    # Binary: a Windows text-mode descriptor would write every LF as CR LF.
    fd = open_binary_fd(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out, zf.open(name) as source:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > expected["size"]:
                break
            digest.update(chunk)
            out.write(chunk)
    if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
        raise zipfile.BadZipFile(name)


def _check_store_file(path: Path, archive: Path) -> tuple[list[str], int, int]:
    damaged = f"{archive}: バックアップのストアが壊れています。"
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(damaged)
    db = sqlite3.connect(path)
    try:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(damaged)
        revisions = _revisions(db)
        trips, cards = _counts(db)
    except sqlite3.DatabaseError:
        raise BackupError(damaged) from None
    finally:
        db.close()
    known = _known_revisions()
    unknown = [r for r in revisions if r not in known]
    if not revisions:
        raise BackupError(damaged)
    if unknown:
        raise BackupError(
            f"{archive}: より新しい etcbook で作られたストアです（{', '.join(unknown)}）。"
            "etcbook を更新してから戻してください。"
        )
    return revisions, trips, cards


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from etcbook.models.store import _alembic_config

    script = ScriptDirectory.from_config(_alembic_config())
    return {r.revision for r in script.walk_revisions()}


def _unpack(archive: Path, work: Path) -> tuple[Manifest, Path, Path, int, int]:
    """Check and extract an archive into ``work``: (manifest, store file, vault folder, trips, cards)."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: ファイルがありません。")
    damaged = f"{archive}: バックアップが壊れています（途中で切れているか、書き換えられています）。"
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        with open(archive, "rb") as handle:
            head = handle.read(4)
        if head.startswith(b"PK"):
            raise BackupError(damaged) from None
        raise BackupError(
            f"{archive}: ZIPファイルではありません（etcbook のバックアップを選んでください）。"
        ) from None
    with zf:
        manifest = _load_manifest(zf, archive)
        names = [info.filename for info in zf.infolist() if not info.is_dir()]
        expected = manifest.entries
        extra = sorted(set(names) - set(expected) - {MANIFEST})
        if extra:
            raise BackupError(
                f"{archive}: バックアップに記録にないファイルがあります（{', '.join(extra[:3])}）。"
            )
        if len(names) != len(set(names)):
            raise BackupError(damaged)
        missing = sorted(set(expected) - set(names))
        if missing:
            raise BackupError(damaged)
        store_file = work / "etcbook.sqlite3"
        vault = work / ARCHIVE_VAULT_FOLDER
        try:
            _extract_checked(zf, STORE_ENTRY, manifest.store, store_file)
            for entry in manifest.files:
                relative = entry["path"][len(VAULT_PREFIX) :]
                _extract_checked(zf, entry["path"], entry, vault / relative)
        except (zipfile.BadZipFile, EOFError, zlib.error):
            raise BackupError(damaged) from None
        except FileExistsError as exc:
            # Names that differ only in case are one name on Windows and macOS.
            raise BackupError(
                f"{archive}: 大文字と小文字だけが違う名前の証憑があり、このコンピューターには"
                f"戻せません（{Path(str(exc.filename)).name}）。"
            ) from None
    _revisions_found, trips, cards = _check_store_file(store_file, archive)
    if (trips, cards) != (manifest.store.get("trips", trips), manifest.store.get("cards", cards)):
        raise BackupError(damaged)
    return manifest, store_file, vault, trips, cards


def check_backup(archive: Path) -> dict[str, Any]:
    """Check an archive completely without restoring it; raises :class:`BackupError`."""
    archive = expand(archive)
    work = _private_tempdir(Path(tempfile.gettempdir()))
    try:
        manifest, _store, _vault, trips, cards = _unpack(archive, work)
    finally:
        _remove_tree(work)
    return {
        "path": str(archive),
        "created_at": manifest.created_at,
        "etcbook": manifest.etcbook,
        "trips": trips,
        "cards": cards,
        "vault_files": len(manifest.files),
    }


def _remove_tree(path: Path) -> None:
    """Remove a folder, read-only vault files included."""
    if not path.exists():
        return
    for inner in path.rglob("*"):
        with contextlib.suppress(OSError):
            os.chmod(inner, stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)


# --- restore ---------------------------------------------------------------------------------


def restore_backup(
    archive: Path, store_path: Path, *, held: StoreClaim | None = None
) -> RestoreResult:
    """Replace the store at ``store_path`` (and its vault) by the contents of ``archive``.

    Everything is checked before anything changes. The current store is kept as
    ``<name>.before-restore-<time>.sqlite3`` and the current vault moved to
    ``<store name>.etc.before-restore-<time>``. Refused while a window has the store open, unless the
    caller is that window and passes its claim as ``held`` (close its Store first).
    """
    archive = expand(archive)
    store_path = expand(store_path)
    if held is not None and not (held.acquired and held.store_path == store_path):
        raise ValueError("held must be this process's claim on the same store")
    if store_path.is_dir():
        raise BackupError(f"{store_path}: フォルダです。ストアのファイル名を指定してください。")
    if store_path.exists() and store_path.stat().st_size:
        with open(store_path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise BackupError(
                    f"{store_path}: etcbook のストア（SQLiteファイル）ではないので、上書きしません。"
                )
    work = _private_tempdir(store_path.parent)
    try:
        manifest, restored_store, restored_vault, trips, cards = _unpack(archive, work)
        claiming = (
            contextlib.nullcontext(held)
            if held is not None
            else claim_store(store_path, program="etcbook restore")
        )
        with claiming as claim:
            if not claim.acquired:
                who = claim.other.describe() if claim.other else "別の etcbook"
                raise StoreInUse(
                    f"{store_path}: ストアは {who} で開かれています。ウィンドウを閉じてから戻してください。"
                    "何も変更していません。"
                )
            stamp = clock.now().strftime("%Y%m%d-%H%M%S")
            store_existed = store_path.exists()
            kept_store = _keep_current_store(store_path, stamp)
            kept_vault = _swap_in(
                store_path, restored_store, restored_vault, kept_store, store_existed, stamp, work
            )
    finally:
        _remove_tree(work)
    from etcbook.models.store import open_store

    opened = open_store(store_path)  # upgrades a backup of an older version (copy kept first)
    upgraded = opened.backup is not None
    opened.close()
    return RestoreResult(
        store=store_path,
        kept_store=kept_store,
        kept_vault=kept_vault,
        backup_created_at=manifest.created_at,
        trips=trips,
        cards=cards,
        vault_files=len(manifest.files),
        upgraded=upgraded,
    )


def _swap_in(
    store_path: Path,
    restored_store: Path,
    restored_vault: Path,
    kept_store: Path | None,
    store_existed: bool,
    stamp: str,
    work: Path,
) -> Path | None:
    """Put the checked vault and store in place; return where the previous vault was kept.

    The folder moves come first (a file held open by another program or a scan refuses them
    before the store has changed), the store is copied in last. On any failure everything is
    put back as it was and the error is raised; when putting back fails too,
    :class:`RestoreIncomplete` says where the kept copies are.
    """
    vault = vault_for(store_path)
    kept_vault = vault.with_name(f"{vault.name}.before-restore-{stamp}") if vault.exists() else None
    moved_aside = placed = copying = False
    try:
        if kept_vault is not None:
            replace_file(vault, kept_vault)
            moved_aside = True
        if restored_vault.exists():
            replace_file(restored_vault, vault)
            placed = True
            _make_vault_read_only(vault)
        copying = True
        _copy_store_in(restored_store, store_path)
    except BaseException as exc:
        try:
            if copying:
                _put_back_store(kept_store, store_path, store_existed)
            if placed:
                replace_file(vault, work / f"{vault.name}.not-restored")
            if moved_aside and kept_vault is not None:
                replace_file(kept_vault, vault)
        except Exception as undo:
            raise RestoreIncomplete(
                f"{store_path}: 戻す途中で失敗し（{_reason(exc)}）、元の状態にも戻せませんでした"
                f"（{_reason(undo)}）。それまでのストア: {kept_store or 'なし'}、"
                f"それまでの保管書類: {kept_vault or 'なし'}。"
                "ほかのアプリを閉じてから、もう一度戻してください。"
            ) from exc
        if kept_store is not None:
            # The store is as it was: its copy would only suggest a restore happened.
            for kept in (kept_store, *(Path(f"{kept_store}{s}") for s in ("-wal", "-shm"))):
                with contextlib.suppress(OSError):
                    kept.unlink(missing_ok=True)
        if isinstance(exc, FileInUse):
            raise BackupError(str(exc)) from None
        raise
    return kept_vault


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileInUse | BackupError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc.strerror or exc)
    return str(exc) or type(exc).__name__


def _put_back_store(kept_store: Path | None, store_path: Path, store_existed: bool) -> None:
    """Make the store what it was before the restore began, from the copy kept of it."""
    sides = [store_path.with_name(store_path.name + suffix) for suffix in ("-wal", "-shm")]
    if kept_store is None:  # there was no store, or an empty file
        if store_existed:
            with open(store_path, "wb"):
                pass
        else:
            store_path.unlink(missing_ok=True)
        for side in sides:
            side.unlink(missing_ok=True)
        return
    try:
        _copy_store_in(kept_store, store_path)
    except (sqlite3.DatabaseError, BackupError):
        # The store was damaged (its bytes were kept as they were): put the bytes back.
        for side in sides:
            side.unlink(missing_ok=True)
        shutil.copyfile(kept_store, store_path)
        for suffix, side in zip(("-wal", "-shm"), sides, strict=True):
            kept_side = kept_store.with_name(kept_store.name + suffix)
            if kept_side.exists():
                shutil.copyfile(kept_side, side)


def _keep_current_store(store_path: Path, stamp: str) -> Path | None:
    if not store_path.exists() or store_path.stat().st_size == 0:
        return None
    try:
        return backup_copy(store_path, f"before-restore-{stamp}")
    except sqlite3.DatabaseError:
        # A damaged store (the reason to restore) cannot be read by SQLite: keep its bytes.
        target = store_path.with_name(
            f"{store_path.stem}.before-restore-{stamp}{store_path.suffix}"
        )
        shutil.copyfile(store_path, target)
        os.chmod(target, 0o600)
        for suffix in ("-wal", "-shm"):
            side = store_path.with_name(store_path.name + suffix)
            if side.exists():
                shutil.copyfile(side, target.with_name(target.name + suffix))
        return target


def _copy_store_in(source: Path, store_path: Path) -> None:
    """Make the store at ``store_path`` a copy of ``source`` in one SQLite transaction."""
    if not store_path.exists():
        fd = open_binary_fd(store_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    src = sqlite3.connect(sqlite_uri(source, read_only=True), uri=True)
    try:
        dest = sqlite3.connect(store_path, timeout=30)
        try:
            try:
                src.backup(dest)
            except sqlite3.DatabaseError:
                # The current file is damaged beyond SQLite's reach (it was kept above):
                # start from an empty file and copy in again.
                dest.close()
                for suffix in ("-wal", "-shm"):
                    store_path.with_name(store_path.name + suffix).unlink(missing_ok=True)
                with open(store_path, "wb"):
                    pass
                dest = sqlite3.connect(store_path, timeout=30)
                src.backup(dest)
            dest.execute("PRAGMA journal_mode=WAL")
            if dest.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{store_path}: 戻したストアの検査に失敗しました。")
        finally:
            dest.close()
    finally:
        src.close()


def _make_vault_read_only(vault: Path) -> None:
    """Originals in the vault are read-only, as the vault keeps them; folders are 0700."""
    for path in vault.rglob("*"):
        if path.is_file():
            os.chmod(path, stat.S_IRUSR)
        elif path.is_dir():
            os.chmod(path, stat.S_IRWXU)
    os.chmod(vault, stat.S_IRWXU)
