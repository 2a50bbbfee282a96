"""One store, several processes: who else has it open, and what to tell the user when it is busy.

Two kinds of sharing are expected and both are safe:

- Command-line runs and a window writing the same store at once. SQLite serialises them (WAL,
  ``busy_timeout``, ``BEGIN IMMEDIATE`` for writers); a writer that waited longer than the busy
  timeout gets an ``OperationalError`` that :func:`store_problem` turns into a sentence.
- A second *window* on a store already open in another window. That is allowed by SQLite but
  confuses people (two windows showing different states), so the window claims the store with
  :func:`claim_store` and, when someone else holds it, shows :attr:`StoreClaim.message`.

The claim is an advisory lock on a file beside the store (``etcbook.sqlite3.lock``), taken with
``flock`` on POSIX and ``msvcrt.locking`` on Windows. The operating system drops it when the
process ends, even when it is killed, so a crash never leaves the store "open elsewhere". A
clean release removes the file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import platform
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

from etcbook import clock
from etcbook.safeio import open_binary_fd

LOCK_SUFFIX = ".lock"

_WINDOWS = sys.platform == "win32"
_INFO_OFFSET = 1
"""Windows locks byte 0 only, so the holder's details are written after it and stay readable."""


@dataclass(frozen=True)
class Holder:
    """Who holds a store: process id, computer name, program and since when (Japan time)."""

    pid: int
    host: str
    program: str
    since: str

    def describe(self) -> str:
        if self.pid <= 0:
            return self.program
        since = self.since.replace("T", " ")[:16]
        where = (
            "このコンピューター" if self.host == platform.node() else f"コンピューター {self.host}"
        )
        return f"{self.program}（{where}、プロセス {self.pid}、{since} から）"


def lock_path_for(store_path: Path) -> Path:
    """The lock file beside a store: ``etcbook.sqlite3`` → ``etcbook.sqlite3.lock``."""
    store_path = Path(store_path)
    return store_path.with_name(store_path.name + LOCK_SUFFIX)


_HELD_ERRNOS = frozenset(
    {errno.EACCES, errno.EAGAIN, errno.EWOULDBLOCK, getattr(errno, "EDEADLOCK", errno.EDEADLK)}
)
"""The answers that mean "another process holds the lock" (msvcrt: EACCES or EDEADLOCK)."""


def _held(exc: OSError) -> bool:
    """True when a refused lock means another holder; False when the file system has no locks
    (ENOTSUP, ENOLCK on macOS smbfs/afp, some NAS and FUSE mounts): then there is nobody to
    name, and the store is used without the claim rather than reported open elsewhere."""
    return exc.errno in _HELD_ERRNOS


def _try_lock(fd: int) -> bool:
    if _WINDOWS:
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError as exc:
            return not _held(exc)
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return not _held(exc)
    return True


def _unlock(fd: int) -> None:
    # A file system without locks refuses the unlock as it refused the lock.
    with contextlib.suppress(OSError):
        if _WINDOWS:
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)


def _read_holder(path: Path) -> Holder | None:
    try:
        with open(path, "rb") as handle:
            handle.seek(_INFO_OFFSET)
            data = json.loads(handle.read(4096).decode("utf-8").strip() or "null")
        return Holder(
            pid=int(data["pid"]),
            host=str(data["host"]),
            program=str(data["program"]),
            since=str(data["since"]),
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None


@dataclass
class StoreClaim:
    """The answer of :func:`claim_store`: this process holds the store, or another one does.

    Keep the claim for as long as the window is open; :meth:`release` (or process exit) ends it.
    """

    store_path: Path
    acquired: bool
    other: Holder | None = None
    _fd: int | None = field(default=None, repr=False)

    @property
    def message(self) -> str | None:
        """The notice for the user when the store is open elsewhere, else None."""
        if self.acquired:
            return None
        who = self.other.describe() if self.other else "別の etcbook"
        return (
            f"このストアはすでに別の場所で開かれています: {who}。\n"
            f"{self.store_path}\n"
            "同じストアを2つのウィンドウで開くと、片方の画面が古いままになります。"
            "もう一方のウィンドウを閉じてから開き直してください。"
        )

    def release(self) -> None:
        """End the claim and remove the lock file (a clean exit leaves nothing behind)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        path = lock_path_for(self.store_path)
        try:
            if not _WINDOWS:
                # Removed while still locked: whoever opens the name next makes a new file
                # (claim_store checks that the file it locked is still the one named).
                with contextlib.suppress(OSError):
                    path.unlink()
            _unlock(fd)
        finally:
            os.close(fd)
        if _WINDOWS:
            # Windows refuses while another process has the file open: it is theirs then.
            with contextlib.suppress(OSError):
                path.unlink()
        self.acquired = False

    def __enter__(self) -> StoreClaim:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def claim_store(store_path: Path, *, program: str = "etcbook ウィンドウ") -> StoreClaim:
    """Claim ``store_path`` for this process (the window calls this once at start-up).

    Returns a claim with ``acquired`` True, or False with ``other`` describing the holder and
    ``message`` ready to show. Never blocks. The lock file is created readable only by the user.
    """
    store_path = Path(store_path).expanduser().absolute()
    path = lock_path_for(store_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = open_binary_fd(path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            return StoreClaim(store_path=store_path, acquired=False, other=_read_holder(path))
        if _WINDOWS or _is_same_file(fd, path):
            break
        # The holder removed the file between our open and our lock: lock the new one.
        _unlock(fd)
        os.close(fd)
    info = {
        "pid": os.getpid(),
        "host": platform.node(),
        "program": program,
        "since": clock.now().isoformat(),
    }
    os.ftruncate(fd, _INFO_OFFSET)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b" " * _INFO_OFFSET + json.dumps(info, ensure_ascii=False).encode("utf-8"))
    return StoreClaim(store_path=store_path, acquired=True, _fd=fd)


def _is_same_file(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino)


def store_holder(store_path: Path) -> Holder | None:
    """Who holds the store right now (None when nobody does); does not claim it."""
    claim = claim_store(store_path, program="check")
    if claim.acquired:
        claim.release()
        return None
    return claim.other or Holder(pid=0, host=platform.node(), program="別の etcbook", since="")


def _sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            return current
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def _server_error(exc: BaseException) -> BaseException | None:
    """The PostgreSQL driver's (psycopg) error behind ``exc``, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__module__.startswith("psycopg"):
            return current
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


SERVER_RETRYABLE = ("40001", "40P01", "55P03", "57014")
"""Serialization failure, deadlock, lock not available, statement timeout: try again."""


def is_store_busy(exc: BaseException) -> bool:
    """True when ``exc`` means another process kept the store locked longer than we waited
    (on PostgreSQL: a conflict with another client that a second try resolves)."""
    server = _server_error(exc)
    if server is not None:
        return getattr(server, "sqlstate", None) in SERVER_RETRYABLE
    error = _sqlite_error(exc)
    return isinstance(error, sqlite3.OperationalError) and (
        "locked" in str(error) or "busy" in str(error)
    )


def _server_problem(error: BaseException, where: str) -> str | None:
    state = str(getattr(error, "sqlstate", None) or "")
    if state in SERVER_RETRYABLE:
        return (
            f"{where}ほかの利用者の変更と重なりました。何も変更していません。"
            "もう一度実行してください。"
        )
    if state == "42501":
        return (
            f"{where}この操作をする権限がありません（{str(error).strip()}）。何も変更していません。"
        )
    if state.startswith("08") or (not state and "connection" in str(error).lower()):
        return f"{where}PostgreSQL サーバーとの接続が切れたか、つながりません（{str(error).strip()}）。"
    if state == "53100":
        return f"{where}サーバーのディスクがいっぱいです。何も変更していません。"
    return None


def store_problem(exc: BaseException, store_path: object | None = None) -> str | None:
    """A sentence for the user when ``exc`` is SQLite refusing the store, else None.

    Covers a store busy in another process, a read-only or missing location, a full disk and
    a damaged file. In every case the transaction was rolled back: nothing was changed.
    """
    from etcbook.models.refusals import refusal

    refused = refusal(exc)
    if refused is not None:
        return refused
    where = f"{store_path}: " if store_path else ""
    server = _server_error(exc)
    if server is not None:
        return _server_problem(server, where)
    error = _sqlite_error(exc)
    if error is None:
        return None
    text = str(error).lower()
    if is_store_busy(exc):
        return (
            f"{where}ストアは別の etcbook（ウィンドウまたはコマンド）が書き込み中で、待ちきれませんでした。"
            "何も変更していません。しばらくしてからもう一度実行してください。"
        )
    if "readonly" in text or "read-only" in text:
        return f"{where}ストアに書き込めません（読み取り専用）。何も変更していません。"
    if "unable to open" in text or "cannot open" in text:
        return f"{where}ストアのファイルを開けません（フォルダの有無と権限を確かめてください）。"
    if "disk is full" in text or "database or disk is full" in text:
        return f"{where}ディスクがいっぱいです。何も変更していません。空きを作ってからやり直してください。"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return (
            f"{where}ストアのファイルが壊れています。バックアップから戻してください"
            "（etcbook restore FILE.zip）。"
        )
    if "disk i/o" in text:
        return f"{where}ストアの読み書きでディスクのエラーが起きました。何も変更していません。"
    return None
