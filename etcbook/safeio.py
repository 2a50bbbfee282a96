"""Writing files so that a crash never leaves half a file under its final name.

``atomic_output(path)`` hands out a temporary file beside ``path`` (same folder, so the final
``os.replace`` is atomic), flushes it to disk, then renames it over ``path``; on any error, or
when the process is killed, the final name is untouched and only a ``.part`` file may remain.
Exports (PDF, CSV, ZIP) and backups write through it; :func:`atomic_outputs` replaces several
files together or not at all (a claim's PDF, CSV and ZIP).

Windows rules kept here for every caller: descriptors from ``os.open`` are binary
(:func:`open_binary_fd`; without ``O_BINARY`` the C runtime writes LF as CR LF), and a file that
cannot be replaced because another program holds it open (Excel, Acrobat, an antivirus scan)
raises :class:`FileInUse`, whose message is a sentence for the user.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

PART_SUFFIX = ".part"
FILE_IN_USE = "ファイルが別のアプリで開かれています。閉じてからやり直してください"
"""What the user reads when a file cannot be replaced or moved because a program holds it."""

REPLACE_TRIES = 10
REPLACE_PAUSE_S = 0.1
"""On Windows a file just written may be held for a moment by an antivirus scan or the search
indexer: a refused rename is tried again this many times, this long apart."""


class FileInUse(PermissionError):
    """A file could not be replaced or moved because another program holds it open.

    ``str()`` is the sentence for the user, naming the file; nothing was changed.
    """

    def __init__(self, path: Path | str) -> None:
        super().__init__(errno.EACCES, FILE_IN_USE, os.fspath(path))

    def __str__(self) -> str:
        return f"{self.filename}: {FILE_IN_USE}。"


def open_binary_fd(path: Path | str, flags: int, mode: int = 0o600) -> int:
    """``os.open`` in binary mode: on Windows ``O_BINARY`` keeps LF bytes as they are."""
    return os.open(path, flags | getattr(os, "O_BINARY", 0), mode)


def fsync_fully(fd: int) -> None:
    """Flush a file to the disk itself: on macOS ``fsync`` leaves it in the drive's cache, so
    ``F_FULLFSYNC`` is asked for (falling back to ``fsync`` where the file system refuses)."""
    if sys.platform == "darwin":
        import fcntl

        full = getattr(fcntl, "F_FULLFSYNC", None)
        if full is not None:
            try:
                fcntl.fcntl(fd, full)
                return
            except OSError:
                pass
    os.fsync(fd)


def _fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(source: Path | str, target: Path | str) -> None:
    """``os.replace(source, target)``; a refusal because ``target`` (or ``source``) is held by
    another program becomes :class:`FileInUse` naming ``target``.

    On Windows the rename is tried again for about a second first, since a scan of a file
    just written holds it only briefly. A refusal on another system is not retried.
    """
    tries = REPLACE_TRIES if sys.platform == "win32" else 1
    for attempt in range(tries):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if attempt + 1 < tries:
                time.sleep(REPLACE_PAUSE_S)
                continue
            # Both names are in one folder the temporary was just created in, so a refusal
            # means a program holds one of the files (WinError 5 or 32), not a folder's rights.
            raise FileInUse(target) from None


@contextmanager
def atomic_output(path: Path, *, mode: int = 0o600) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``path`` in one rename.

    The file is created with ``mode`` (default readable only by the user). Write to the
    yielded path (open it, or hand it to reportlab / zipfile); do not keep it open after.
    """
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART_SUFFIX, dir=folder)
    os.close(fd)
    temp = Path(temp_name)
    try:
        if sys.platform != "win32":
            os.chmod(temp, mode)
        yield temp
        with open(temp, "rb+") as handle:
            fsync_fully(handle.fileno())
        replace_file(temp, path)
        _fsync_folder(folder)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_outputs(paths: Sequence[Path | str], *, mode: int = 0o600) -> Iterator[list[Path]]:
    """Yield temporaries for several files that replace ``paths`` together or not at all.

    Every temporary is written first; then each file is replaced in turn. When one cannot be
    replaced (held open by another program), the ones already replaced get their previous
    content back and files that did not exist before are removed, so the set never mixes old
    and new; the error (usually :class:`FileInUse`) is raised.
    """
    targets = [Path(p) for p in paths]
    temps: list[Path] = []
    kept: list[Path | None] = []
    replaced: list[Path] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=PART_SUFFIX, dir=target.parent
            )
            os.close(fd)
            temps.append(Path(name))
            if sys.platform != "win32":
                os.chmod(name, mode)
        yield list(temps)
        for temp in temps:
            with open(temp, "rb+") as handle:
                fsync_fully(handle.fileno())
        for target in targets:
            # The previous content, to put back if a later file cannot be replaced.
            try:
                kept.append(_keep_copy(target) if target.exists() else None)
            except PermissionError:
                raise FileInUse(target) from None
        for temp, target in zip(temps, targets, strict=True):
            replace_file(temp, target)
            replaced.append(target)
        for folder in {target.parent for target in targets}:
            _fsync_folder(folder)
    except BaseException:
        for target, old in zip(reversed(replaced), reversed(kept[: len(replaced)]), strict=True):
            with contextlib.suppress(OSError):
                if old is None:
                    target.unlink()
                else:
                    os.replace(old, target)
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise
    finally:
        for old in kept:
            if old is not None:
                old.unlink(missing_ok=True)


def _keep_copy(path: Path) -> Path:
    """A copy of ``path`` beside it (the original stays in place, held or not)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent)
    os.close(fd)
    shutil.copyfile(path, name)
    return Path(name)


@contextmanager
def atomic_writer(path: Path | str, *, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` only when the ``with`` block ends without error."""
    with atomic_output(Path(path), mode=mode) as temp, open(temp, "wb") as handle:
        yield handle


def write_bytes_atomically(path: Path | str, data: bytes, *, mode: int = 0o600) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with atomic_output(Path(path), mode=mode) as temp:
        temp.write_bytes(data)
    return Path(path)


def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def display_name(name: str | os.PathLike[str]) -> str:
    """A file name as printable text.

    On Linux a name that is not UTF-8 (a cp932 name unpacked from a Windows ZIP) reaches Python
    with surrogate escapes, which can be neither printed as UTF-8 nor stored in SQLite; it is
    decoded as cp932 instead, or shown with replacement characters.
    """
    text = os.fspath(name)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    raw = os.fsencode(text)
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
