"""Atomic writes: the target is replaced whole or not at all, also on Windows."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from etcbook import safeio
from etcbook.safeio import FILE_IN_USE, FileInUse, atomic_outputs, atomic_writer, open_binary_fd
from etcbook.safeio import write_bytes_atomically as atomic_write_bytes


def test_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_the_temporary_file_is_in_the_target_folder(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with atomic_writer(target) as handle:
        temporaries = [p for p in tmp_path.iterdir() if p.name != "out.bin"]
        assert len(temporaries) == 1
        assert temporaries[0].parent == tmp_path
        assert not target.exists()
        handle.write(b"x")
    assert target.read_bytes() == b"x"


# -- Windows: binary descriptors, files held open by other programs, retries ------------------

WINDOWS_ONLY = pytest.mark.skipif(
    sys.platform != "win32",
    reason="text-mode descriptors and sharing violations exist only on Windows",
)


def refuse_replace(monkeypatch: pytest.MonkeyPatch, refused: Callable[[Path], bool]) -> list[Path]:
    """os.replace raises PermissionError (as Windows does for a file held open) for the targets
    ``refused`` picks; returns the targets replaced."""
    real = os.replace
    replaced: list[Path] = []

    def replace(source: Any, target: Any) -> None:
        if refused(Path(target)):
            raise PermissionError(13, "Access is denied", str(source), None, str(target))
        real(source, target)
        replaced.append(Path(target))

    monkeypatch.setattr(os, "replace", replace)
    return replaced


def test_open_binary_fd_asks_for_binary_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Linux has no O_BINARY; give os one (0x8000 is O_LARGEFILE here: harmless) and look.
    monkeypatch.setattr(os, "O_BINARY", 0x8000, raising=False)
    seen: list[int] = []
    real = os.open

    def spy(path: Any, flags: int, mode: int = 0o777) -> int:
        seen.append(flags)
        return real(path, flags, mode)

    monkeypatch.setattr(os, "open", spy)
    os.close(open_binary_fd(tmp_path / "x", os.O_CREAT | os.O_WRONLY))
    assert seen and seen[0] & 0x8000


@WINDOWS_ONLY
def test_open_binary_fd_keeps_line_feeds_on_windows(tmp_path: Path) -> None:
    text_mode = tmp_path / "text"
    with os.fdopen(os.open(text_mode, os.O_CREAT | os.O_WRONLY), "wb") as out:
        out.write(b"a\nb")
    assert text_mode.read_bytes() == b"a\r\nb"  # why O_BINARY is needed
    binary = tmp_path / "binary"
    with os.fdopen(open_binary_fd(binary, os.O_CREAT | os.O_WRONLY), "wb") as out:
        out.write(b"a\nb")
    assert binary.read_bytes() == b"a\nb"


def test_a_target_that_cannot_be_replaced_is_a_sentence_and_stays_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "経理#2" / "精算.csv"
    target.parent.mkdir()
    target.write_bytes(b"old")
    refuse_replace(monkeypatch, lambda path: path == target)
    with pytest.raises(FileInUse) as caught:
        atomic_write_bytes(target, b"new")
    assert str(caught.value) == f"{target}: {FILE_IN_USE}。"
    assert FILE_IN_USE == "ファイルが別のアプリで開かれています。閉じてからやり直してください"
    assert isinstance(caught.value, PermissionError)
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["精算.csv"]


def test_a_refused_replace_is_tried_again_on_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.pdf"
    refusals = iter([True, True, False])
    refuse_replace(monkeypatch, lambda _path: next(refusals))
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(safeio.time, "sleep", lambda _s: None)
    atomic_write_bytes(target, b"new")  # a scan held the file for a moment
    assert target.read_bytes() == b"new"


def test_elsewhere_a_refused_replace_is_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusals = iter([True, False])
    refuse_replace(monkeypatch, lambda _path: next(refusals))
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(FileInUse):
        atomic_write_bytes(tmp_path / "out.pdf", b"new")


@pytest.mark.parametrize("refused", ["a.pdf", "b.csv", "c.zip"])
def test_several_files_are_replaced_together_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: str
) -> None:
    folder = tmp_path / "精算 100%"
    folder.mkdir()
    paths = [folder / name for name in ("a.pdf", "b.csv", "c.zip")]
    for path in paths[:2]:  # c.zip does not exist yet
        path.write_bytes(b"old " + path.name.encode())
    replaced = refuse_replace(monkeypatch, lambda path: path.name == refused)
    with pytest.raises(FileInUse), atomic_outputs(paths) as temps:
        for temp, path in zip(temps, paths, strict=True):
            temp.write_bytes(b"new " + path.name.encode())
    # Each file before the refused one was replaced, then given its old content back.
    assert len(replaced) == 2 * paths.index(folder / refused)
    assert [p.read_bytes() for p in paths[:2]] == [b"old a.pdf", b"old b.csv"]
    assert sorted(p.name for p in folder.iterdir()) == ["a.pdf", "b.csv"]


def test_several_files_replace_their_old_versions(tmp_path: Path) -> None:
    paths = [tmp_path / "a.pdf", tmp_path / "b.csv"]
    paths[0].write_bytes(b"old")
    with atomic_outputs(paths) as temps:
        for temp in temps:
            temp.write_bytes(b"new")
    assert [p.read_bytes() for p in paths] == [b"new", b"new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "b.csv"]


@WINDOWS_ONLY
def test_a_file_open_in_another_program_is_file_in_use_on_windows(tmp_path: Path) -> None:
    target = tmp_path / "精算.csv"
    target.write_bytes(b"old")
    # Python opens without FILE_SHARE_DELETE, as Excel does: replacing the file is refused.
    with open(target, "rb"), pytest.raises(FileInUse):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl is POSIX")
def test_macos_asks_the_drive_to_flush(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    asked: list[int] = []
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(fcntl, "F_FULLFSYNC", 51, raising=False)
    monkeypatch.setattr(fcntl, "fcntl", lambda _fd, command, *_a: asked.append(command))
    atomic_write_bytes(tmp_path / "out.pdf", b"x")
    assert asked == [51]
