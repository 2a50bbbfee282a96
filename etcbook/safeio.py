"""Writing files so that a crash never leaves half a file under its final name.

``atomic_output(path)`` hands out a temporary file beside ``path`` (same folder, so the final
``os.replace`` is atomic), flushes it to disk, then renames it over ``path``; on any error, or
when the process is killed, the final name is untouched and only a ``.part`` file may remain.
Exports (PDF, CSV, ZIP) and backups write through it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

PART_SUFFIX = ".part"


def _fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
            os.fsync(handle.fileno())
        os.replace(temp, path)
        _fsync_folder(folder)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


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
