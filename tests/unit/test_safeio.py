"""Atomic writes: the target is replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from etcbook.safeio import atomic_writer
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
