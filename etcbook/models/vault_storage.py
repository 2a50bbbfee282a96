"""Where the vault keeps the originals' bytes (証憑の保管先): one API, two backends.

- :class:`FolderStorage` (a SQLite store): files beside the store, in ``<store name>.etc/`` for
  the vault's documents and in the claim's folder for a claim's frozen files; each file
  read-only, never overwritten (placed with a hard link, which fails on an existing name).
- :class:`DatabaseStorage` (a PostgreSQL ledger): the bytes in the database itself, in rows of
  at most :data:`CHUNK` bytes (``document_chunks``, ``claim_file_chunks``), written in the
  transaction that records the file; one server and one ``pg_dump`` hold everything, and
  row-level security keeps a driver's originals from other drivers. The database refuses
  UPDATE and DELETE on these rows (migration vault_0001).

:func:`storage_for` picks the backend from the store; callers (etcbook.models.vault, the claims
workflow) go through :class:`VaultStorage` only. Files are streamed in chunks both ways: a large
original is never held whole in memory by a write, a check or a copy to a file.

Every read can be checked against the recorded SHA-256 and size (:meth:`VaultStorage.verified_chunks`,
:meth:`VaultStorage.read_verified`, :meth:`VaultStorage.save_verified`): a mismatch or a missing
original raises :class:`OriginalUnreadable`, whose text is the sentence for the user.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from etcbook.safeio import atomic_output, fsync_fully

if TYPE_CHECKING:
    from etcbook.models.store import Store

CHUNK = 1 << 20
"""Bytes per read, write and database row (1 MiB)."""
SERVER_DIGEST_LIMIT = 64 << 20
"""Up to this size the database computes a stored file's SHA-256 itself (one query, no bytes
sent); a larger file is streamed to this computer and hashed here."""

_CHUNK_TABLES = {
    "documents": ("document_chunks", "document_id"),
    "claim_files": ("claim_file_chunks", "claim_file_id"),
}


class VaultError(ValueError):
    """A vault operation refused (bad input, duplicate, unknown document); nothing changed."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One stored file: a vault document or a claim's frozen file, as its row records it.

    Attributes:
        table: the table of the row that describes it (``documents`` or ``claim_files``).
        id: the row's id.
        name: the file's name, for messages.
        sha256: the digest recorded when it was stored.
        size: the size recorded, in bytes.
        file: where it is on this computer when the store keeps files (SQLite), else ``None``.
    """

    table: str
    id: int
    name: str
    sha256: str
    size: int
    file: Path | None = None


class OriginalUnreadable(VaultError):
    """A stored original is missing or its bytes differ from the recorded SHA-256 or size.

    Its text is the sentence for the user; ``missing`` tells which of the two.
    """

    def __init__(self, stored: StoredFile, *, missing: bool) -> None:
        self.stored = stored
        self.missing = missing
        if missing:
            sentence = (
                f"{stored.name}: 保管している原本が見つかりません"
                "（etcbook evidence verify で確かめてください）"
            )
        else:
            sentence = (
                f"{stored.name}: 保管している原本の内容が記録と違います（SHA-256 が一致しません）。"
                "改変されたおそれがあるため使いません（etcbook evidence verify で確かめてください）"
            )
        super().__init__(sentence)


def file_chunks(path: Path) -> Iterator[bytes]:
    """The bytes of the file at ``path``, :data:`CHUNK` at a time."""
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def file_digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of the file at ``path``, read in chunks."""
    return _measure(file_chunks(path))


def _measure(chunks: Iterable[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def make_read_only(path: Path) -> None:
    os.chmod(path, stat.S_IRUSR)


def unlink_read_only(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        path.unlink()


def write_temporary(chunks: Iterable[bytes], folder: Path) -> tuple[Path, int, str]:
    """Write ``chunks`` to a new temporary file in ``folder``, fsynced; its path, size, digest."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(prefix=".adding.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            fsync_fully(out.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    return Path(name), size, digest.hexdigest()


def place_new(temporary: Path, target: Path) -> None:
    """Give a checked copy its final name, never replacing an existing file."""
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


def _check_written(stored: StoredFile, size: int, digest: str) -> None:
    if (size, digest) != (stored.size, stored.sha256):
        raise VaultError(
            f"{stored.name}: 書き込んだ内容が記録と一致しません"
            "（元のファイルが途中で変わったか、ディスクやデータベースの異常です）"
        )


class VaultStorage:
    """Where a store keeps its originals' bytes; see the module's description."""

    in_database = False
    """True when the bytes are rows of the database (no file on this computer)."""

    def write(self, connection: Connection, stored: StoredFile, chunks: Iterable[bytes]) -> None:
        """Store ``chunks`` as ``stored`` (whose row is in ``connection``'s transaction).

        The bytes written must have the recorded size and SHA-256, and the stored copy is read
        back and checked; otherwise :class:`VaultError` is raised and nothing is kept. After a
        successful write, a transaction that fails later must call :meth:`discard`.
        """
        raise NotImplementedError

    def discard(self, stored: StoredFile) -> None:
        """Undo :meth:`write` when the transaction recording it failed (files only)."""

    def chunks(self, stored: StoredFile, connection: Connection | None = None) -> Iterator[bytes]:
        """The stored bytes as they are, unchecked; :class:`OriginalUnreadable` when missing."""
        raise NotImplementedError

    def exists(self, stored: StoredFile, connection: Connection | None = None) -> bool:
        """Whether the bytes are there (unchecked)."""
        raise NotImplementedError

    def measure(
        self, stored: StoredFile, connection: Connection | None = None
    ) -> tuple[int, str] | None:
        """Size and SHA-256 of the stored bytes, or ``None`` when they are missing."""
        raise NotImplementedError

    def verified_chunks(
        self, stored: StoredFile, connection: Connection | None = None
    ) -> Iterator[bytes]:
        """The stored bytes, chunk by chunk; after the last one, :class:`OriginalUnreadable` is
        raised when they differ from the record. A consumer keeps nothing until the iteration
        ended without it (write to a temporary file, then rename)."""
        digest = hashlib.sha256()
        size = 0
        for chunk in self.chunks(stored, connection):
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        if (size, digest.hexdigest()) != (stored.size, stored.sha256):
            raise OriginalUnreadable(stored, missing=False)

    def read_verified(self, stored: StoredFile, connection: Connection | None = None) -> bytes:
        """The stored bytes, checked against the record (:class:`OriginalUnreadable` else)."""
        return b"".join(self.verified_chunks(stored, connection))

    def save_verified(self, stored: StoredFile, target: Path) -> Path:
        """Copy the stored bytes to ``target`` (replaced in one rename), checked first: a
        mismatch leaves ``target`` as it was and raises :class:`OriginalUnreadable`."""
        with atomic_output(Path(target)) as temporary, open(temporary, "wb") as out:
            for chunk in self.verified_chunks(stored):
                out.write(chunk)
        return Path(target)

    def move(self, stored: StoredFile, target: Path) -> bool:
        """Move a file to ``target`` (the vault's trash); False when there was none to move.
        Bytes kept in the database stay where they are (True)."""
        raise NotImplementedError

    def move_back(self, stored: StoredFile, target: Path) -> None:
        """Undo :meth:`move`."""

    def taken(self, connection: Connection, relpath: str, file: Path | None) -> bool:
        """Whether a vault name (a trash name) is in use."""
        raise NotImplementedError


class FolderStorage(VaultStorage):
    """Files beside a SQLite store (``StoredFile.file``), read-only."""

    in_database = False

    def write(self, connection: Connection, stored: StoredFile, chunks: Iterable[bytes]) -> None:
        target = _file_of(stored)
        temporary, size, digest = write_temporary(chunks, target.parent)
        try:
            _check_written(stored, size, digest)
            if file_digest(temporary) != (size, digest):  # what reached the disk
                raise VaultError(
                    f"{stored.name}: コピーが元のファイルと一致しません（ディスクを確認してください）"
                )
            _set_aside_orphan(target)
            place_new(temporary, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        make_read_only(target)

    def discard(self, stored: StoredFile) -> None:
        unlink_read_only(_file_of(stored))

    def chunks(self, stored: StoredFile, connection: Connection | None = None) -> Iterator[bytes]:
        try:
            handle = open(_file_of(stored), "rb")  # noqa: SIM115 (closed by the with below)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise OriginalUnreadable(stored, missing=True) from None
        with handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def exists(self, stored: StoredFile, connection: Connection | None = None) -> bool:
        return stored.file is not None and stored.file.is_file()

    def measure(
        self, stored: StoredFile, connection: Connection | None = None
    ) -> tuple[int, str] | None:
        file = _file_of(stored)
        if not file.is_file():
            return None
        if file.stat().st_size != stored.size:
            return file.stat().st_size, ""
        return file_digest(file)

    def move(self, stored: StoredFile, target: Path) -> bool:
        from etcbook.safeio import FILE_IN_USE, FileInUse, replace_file

        file = _file_of(stored)
        if not file.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            replace_file(file, target)
        except FileInUse:
            # Windows: a viewer (Acrobat, Explorer's preview) holds the file.
            raise VaultError(f"{file.name}: {FILE_IN_USE}。") from None
        return True

    def move_back(self, stored: StoredFile, target: Path) -> None:
        os.replace(target, _file_of(stored))

    def taken(self, connection: Connection, relpath: str, file: Path | None) -> bool:
        return file is not None and file.exists()


def _set_aside_orphan(target: Path) -> None:
    """Rename a file already at ``target`` to a hidden name beside it, keeping its bytes.

    The caller has just recorded ``target``'s vault path in its transaction (the path is unique
    among the records), so a file there belongs to no record: the copy of an add that was
    interrupted between placing its file and committing (a crash, a kill). Without this, that
    name could never be used again.
    """
    if not target.exists():
        return
    stamp = f"{os.getpid()}-{int(os.path.getmtime(target))}"
    os.replace(target, target.with_name(f".orphan-{stamp}-{target.name}"))


def _file_of(stored: StoredFile) -> Path:
    if stored.file is None:
        raise VaultError(f"{stored.name}: この保管庫のファイルの場所がわかりません")
    return stored.file


class DatabaseStorage(VaultStorage):
    """Rows of at most :data:`CHUNK` bytes in the ledger's database (PostgreSQL)."""

    in_database = True

    def __init__(self, store: Store) -> None:
        self._store = store

    def write(self, connection: Connection, stored: StoredFile, chunks: Iterable[bytes]) -> None:
        table, key = _CHUNK_TABLES[stored.table]
        insert = text(f"INSERT INTO {table} ({key}, seq, data) VALUES (:k, :seq, :data)")
        digest = hashlib.sha256()
        size = 0
        seq = 0
        for chunk in _rechunk(chunks):
            digest.update(chunk)
            size += len(chunk)
            connection.execute(insert, {"k": stored.id, "seq": seq, "data": chunk})
            seq += 1
        if seq == 0:  # an empty file is one empty row: "there" and "missing" differ
            connection.execute(insert, {"k": stored.id, "seq": 0, "data": b""})
        _check_written(stored, size, digest.hexdigest())
        if self.measure(stored, connection) != (stored.size, stored.sha256):
            raise VaultError(f"{stored.name}: データベースに書き込んだ内容が一致しません")

    def chunks(self, stored: StoredFile, connection: Connection | None = None) -> Iterator[bytes]:
        table, key = _CHUNK_TABLES[stored.table]
        query = text(f"SELECT data FROM {table} WHERE {key} = :k AND seq = :seq")
        with self._connection(connection) as reading:
            seq = 0
            while True:
                data = reading.execute(query, {"k": stored.id, "seq": seq}).scalar()
                if data is None:
                    break
                if data:
                    yield bytes(data)
                seq += 1
        if seq == 0:
            raise OriginalUnreadable(stored, missing=True)

    def exists(self, stored: StoredFile, connection: Connection | None = None) -> bool:
        table, key = _CHUNK_TABLES[stored.table]
        with self._connection(connection) as reading:
            return (
                reading.execute(
                    text(f"SELECT 1 FROM {table} WHERE {key} = :k AND seq = 0"), {"k": stored.id}
                ).first()
                is not None
            )

    def measure(
        self, stored: StoredFile, connection: Connection | None = None
    ) -> tuple[int, str] | None:
        table, key = _CHUNK_TABLES[stored.table]
        with self._connection(connection) as reading:
            count, size = reading.execute(
                text(
                    f"SELECT count(*), coalesce(sum(length(data)), 0) FROM {table} WHERE {key} = :k"
                ),
                {"k": stored.id},
            ).one()
            if not count:
                return None
            if size != stored.size:
                return int(size), ""
            if size > SERVER_DIGEST_LIMIT:
                return _measure(self.chunks(stored, reading))
            digest = reading.execute(
                text(
                    f"SELECT encode(sha256(string_agg(data, ''::bytea ORDER BY seq)), 'hex')"
                    f" FROM {table} WHERE {key} = :k"
                ),
                {"k": stored.id},
            ).scalar_one()
        return int(size), str(digest)

    def move(self, stored: StoredFile, target: Path) -> bool:
        return self.exists(stored)  # the bytes stay in their rows; the record says "trash"

    def taken(self, connection: Connection, relpath: str, file: Path | None) -> bool:
        return (
            connection.execute(
                text("SELECT 1 FROM documents WHERE trash_path = :t OR path = :t"), {"t": relpath}
            ).first()
            is not None
        )

    @contextlib.contextmanager
    def _connection(self, connection: Connection | None) -> Iterator[Connection]:
        if connection is not None:
            yield connection
            return
        with self._store.engine.connect() as own:
            yield own


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The same bytes in pieces of at most :data:`CHUNK` (a caller may hand bigger ones)."""
    for chunk in chunks:
        view = memoryview(chunk)
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start : start + CHUNK])


def storage_for(store: Store) -> VaultStorage:
    """The store's backend: rows in the database on PostgreSQL, files beside it on SQLite."""
    return DatabaseStorage(store) if store.on_server else FolderStorage()
