"""SIGKILL during work: the store stays sound and an import is all there or not there at all.

Each kill lands at a random moment of a real ``etcbook import`` of a 100,000-row file in a
subprocess (the moments are spread over the time a whole import takes, measured first).
Afterwards SQLite's own ``PRAGMA integrity_check`` must say ``ok``, the store must open with
etcbook again, and the file's trips must be either all stored or none of them, with everything
that was in the store before unchanged.
"""

from __future__ import annotations

import io
import os
import random
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
import robustkit

from etcbook.models.imports import import_files
from etcbook.models.store import backup_copy, open_store

KILLS = 24
"""At least 20, as the issue asks; a few more so every phase (start-up, staging, merge) is hit."""


def _seed() -> int:
    return int(os.environ.get("ETCBOOK_CRASH_SEED") or random.SystemRandom().randrange(1 << 30))


def _base_store(folder: Path, small: Path) -> Path:
    """A store that already holds another card's trips, so we can see nothing else is touched."""
    path = folder / "base.sqlite3"
    store = open_store(path)
    assert import_files(store, [small]).ok
    store.close()
    return path


def _fresh_copy(base: Path, target: Path) -> Path:
    copy = backup_copy(base, "copy")
    copy.rename(target)
    return target


def _import_batches(path: Path) -> list[tuple[str, int]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT file_name, inserted FROM import_batches ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.mark.slow
def test_import_killed_at_random_moments_is_all_or_nothing(
    tmp_path: Path, big_meisai: Path, small_meisai: Path
) -> None:
    seed = _seed()
    rng = random.Random(seed)
    base = _base_store(tmp_path, small_meisai)
    base_trips = robustkit.trip_count(base)
    base_digest = robustkit.content_digest(base)
    rows = 100_000

    # Calibrate: how long does a whole import take here, start-up included?
    calibration = _fresh_copy(base, tmp_path / "calibration.sqlite3")
    started = time.monotonic()
    process = robustkit.start_etcbook(calibration, "import", str(big_meisai))
    _out, err = process.communicate(timeout=300)
    whole = time.monotonic() - started
    assert process.returncode == 0, err.decode()
    assert robustkit.trip_count(calibration) == base_trips + rows

    outcomes: Counter[str] = Counter()
    for kill in range(KILLS):
        # One kill in four hits a store that does not exist yet (creation and migration too).
        fresh = kill % 4 == 3
        path = tmp_path / f"kill{kill:02d}.sqlite3"
        if not fresh:
            _fresh_copy(base, path)
        before_trips = 0 if fresh else base_trips
        delay = rng.uniform(0.0, whole * 1.05)
        process = robustkit.start_etcbook(path, "import", str(big_meisai))
        time.sleep(delay)
        wal = path.with_name(path.name + "-wal")
        wal_bytes = wal.stat().st_size if wal.exists() else 0
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        context = f"kill {kill} after {delay:.2f}s (seed {seed}, whole import {whole:.2f}s)"

        if not path.exists():
            outcomes["before the store existed"] += 1
            continue
        assert robustkit.integrity(path) == "ok", context
        store = open_store(path)  # recovers the WAL and opens like a user would
        store.close()
        assert robustkit.integrity(path) == "ok", context
        trips = robustkit.trip_count(path)
        assert trips in (before_trips, before_trips + rows), f"{context}: {trips} trips"
        if trips == before_trips:
            outcomes["none stored" + (" (mid-write)" if wal_bytes else "")] += 1
            if not fresh:
                assert robustkit.content_digest(path) == base_digest, context
        else:
            outcomes["all stored"] += 1
            batches = _import_batches(path)
            assert batches[-1] == (big_meisai.name, rows), context
        if kill % 4 == 0:
            # The killed import can simply be run again, and then everything is there once.
            again = robustkit.start_etcbook(path, "import", str(big_meisai))
            _out, err = again.communicate(timeout=300)
            assert again.returncode == 0, f"{context}: {err.decode()}"
            assert robustkit.trip_count(path) == before_trips + rows, context
            assert robustkit.integrity(path) == "ok", context
        path.unlink()
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    print(f"\n{KILLS} kills survived (seed {seed}): {dict(outcomes)}")
    assert sum(outcomes.values()) == KILLS
    # The kills are meant to land during the import, not only before or after it.
    assert outcomes["none stored (mid-write)"] + outcomes["none stored"] >= 1


def _claim_outputs_complete(folder: Path, reference: dict[str, bytes]) -> dict[str, str]:
    """Each claim file under its final name is absent or whole; returns name -> state."""
    import zipfile

    import pypdfium2

    states = {}
    for name, whole in reference.items():
        path = folder / name
        if not path.exists():
            states[name] = "absent"
            continue
        data = path.read_bytes()
        if name.endswith(".pdf"):
            pdf = pypdfium2.PdfDocument(data)  # raises on a cut PDF
            assert len(pdf) == len(pypdfium2.PdfDocument(whole)), name
            pdf.close()
        elif name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                assert zf.testzip() is None, name
                assert sorted(zf.namelist()) == sorted(
                    zipfile.ZipFile(io.BytesIO(whole)).namelist()
                )
        else:
            assert data == whole, name
        states[name] = "whole"
    return states


@pytest.mark.slow
def test_claim_export_killed_at_random_moments_leaves_no_half_file(
    tmp_path: Path, demo_store_path: Path
) -> None:
    """SIGKILL during ``etcbook report``: the PDF, CSV and ZIP are absent or whole, never cut."""
    store = tmp_path / "home" / "etcbook.sqlite3"
    store.parent.mkdir()
    demo_store_path.rename(store)
    (demo_store_path.parent / "demo.etc").rename(
        store.parent / "etcbook.etc"
    )  # its vault goes with it
    original = tmp_path / "seikyu.pdf"
    original.write_bytes(b"%PDF-1.4\n" + os.urandom(3_000_000) + b"\n%%EOF\n")
    added = robustkit.start_etcbook(
        store, "evidence", "add", str(original), "--kind", "statement", "--card", "9012",
        "--month", "2026-03",
    )  # fmt: skip
    _out, err = added.communicate(timeout=120)
    assert added.returncode == 0, err.decode()
    argv = ("report", "--card", "9012", "--from", "2025-05-01", "--to", "2026-10-31")
    started = time.monotonic()
    full = robustkit.start_etcbook(store, *argv, "--out", str(tmp_path / "whole"))
    _out, err = full.communicate(timeout=300)
    whole = time.monotonic() - started
    assert full.returncode == 0, err.decode()
    reference = {p.name: p.read_bytes() for p in (tmp_path / "whole").iterdir()}
    assert sorted(n.rsplit(".", 1)[1] for n in reference) == ["csv", "pdf", "zip"]

    rng = random.Random(_seed())
    seen: Counter[str] = Counter()
    for kill in range(16):
        out = tmp_path / f"k{kill}"
        process = robustkit.start_etcbook(store, *argv, "--out", str(out))
        # Start-up and the query come first: wait for the output folder, then kill at random.
        deadline = time.monotonic() + whole * 2
        while not out.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, whole * 0.4))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        states = _claim_outputs_complete(out, reference) if out.exists() else {}
        seen.update(f"{n.rsplit('.', 1)[1]} {s}" for n, s in states.items())
    print(f"\n16 claim-export kills: {dict(sorted(seen.items()))}")
