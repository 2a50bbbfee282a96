"""SIGKILL during ``etcbook evidence add``, on SQLite and on a PostgreSQL ledger: an original is
kept whole with its record, or not at all, and the vault verifies afterwards.

On SQLite the copy is a file placed beside the store before the record commits; on PostgreSQL
the bytes are rows written in the record's transaction. Each kill waits for the add's write
transaction to begin (``etcbook.phases``) and lands at a random moment of the time a whole add
took. Afterwards every kept original must read back as the file that was added, ``evidence
verify`` must pass, and a new add must still work (a kill must not block a name).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import robustkit

from etcbook.models.store import open_store
from etcbook.models.vault import read_original, search_documents, verify_vault

pytestmark = [pytest.mark.both_backends, pytest.mark.slow]

KILLS = 6
MID_WRITE_AT_LEAST = 3
SIZE = 24 << 20
"""Bytes per original: 24 rows of 1 MiB on PostgreSQL, long enough a write to land in."""


def _original(folder: Path, n: int) -> Path:
    path = folder / f"seikyu_{n}.pdf"
    path.write_bytes(b"%PDF-1.4\n" + os.urandom(SIZE))
    return path


def _add(db: Path | str, source: Path, phases: robustkit.PhaseLog) -> subprocess.Popen[bytes]:
    return robustkit.start_etcbook(
        db,  # type: ignore[arg-type]
        "evidence", "add", str(source), "--kind", "statement", "--card", "1234",
        "--month", "2026-03",
        phases=phases,
    )  # fmt: skip


def _check(db: Path | str, added: dict[str, bytes]) -> int:
    """The kept originals: each one of the files added, intact; the vault verifies."""
    store = open_store(db)
    try:
        check = verify_vault(store=store)
        assert check.intact, check
        documents = search_documents(store=store)
        for document in documents:
            data = read_original(store=store, document=document)
            assert added[hashlib.sha256(data).hexdigest()] == data
        return len(documents)
    finally:
        store.close()


def test_evidence_add_killed_at_random_moments_is_all_or_nothing(
    store_target: Path | str, tmp_path: Path
) -> None:
    if isinstance(store_target, Path):
        store_target.parent.mkdir(parents=True, exist_ok=True)
    open_store(store_target).close()
    phases = robustkit.PhaseLog(tmp_path / "phases.log")
    added: dict[str, bytes] = {}

    first = _original(tmp_path, 0)
    added[hashlib.sha256(first.read_bytes()).hexdigest()] = first.read_bytes()
    whole = _add(store_target, first, phases)
    _out, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err.decode()
    writing = phases.writing_time("evidence_add")
    assert _check(store_target, added) == 1

    seed = int(os.environ.get("ETCBOOK_CRASH_SEED") or random.SystemRandom().randrange(1 << 30))
    rng = random.Random(seed)
    seen: Counter[str] = Counter()
    kept = 1
    for kill in range(1, KILLS + 1):
        source = _original(tmp_path, kill)
        added[hashlib.sha256(source.read_bytes()).hexdigest()] = source.read_bytes()
        phases = robustkit.PhaseLog(tmp_path / f"phases-{kill}.log")
        process = _add(store_target, source, phases)
        assert phases.wait_for("evidence_add", "start", process), kill
        time.sleep(rng.uniform(0.0, writing))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        seen[phases.phase("evidence_add")] += 1
        now = _check(store_target, added)
        assert now in (kept, kept + 1), (kill, kept, now)
        kept = now

    last = _original(tmp_path, KILLS + 1)
    added[hashlib.sha256(last.read_bytes()).hexdigest()] = last.read_bytes()
    after = _add(store_target, last, robustkit.PhaseLog(tmp_path / "phases-last.log"))
    _out, err = after.communicate(timeout=300)
    assert after.returncode == 0, err.decode()
    assert _check(store_target, added) == kept + 1

    mid_write = sum(seen[phase] for phase in robustkit.MID_WRITE)
    backend = "PostgreSQL" if isinstance(store_target, str) else "SQLite"
    report = (
        f"{mid_write} of {KILLS} evidence-add kills on {backend} landed while it was writing"
        f" (at least {MID_WRITE_AT_LEAST} required; seed {seed}, writing {writing * 1000:.0f} ms):"
        f" phases {dict(seen)}, kept {kept - 1} of {KILLS}"
    )
    robustkit.report_kills(report)
    assert mid_write >= MID_WRITE_AT_LEAST, report


def test_clients_adding_at_once_keep_each_original_once_and_number_versions_in_turn(
    store_target: Path | str, tmp_path: Path
) -> None:
    """Four clients add the same file at once: it is kept once, the others are told so. Four
    add four corrections of one statement at once: versions 1 to 4, none lost or doubled."""
    if isinstance(store_target, Path):
        store_target.parent.mkdir(parents=True, exist_ok=True)
    open_store(store_target).close()
    same = _original(tmp_path, 0)
    argv = ("evidence", "add", str(same), "--kind", "certificate", "--card", "5678",
            "--month", "2026-04")  # fmt: skip
    clients = [robustkit.start_etcbook(store_target, *argv) for _ in range(4)]  # type: ignore[arg-type]
    done = [(c.wait(timeout=300), c.communicate()[1].decode()) for c in clients]
    assert sorted(code for code, _err in done) == [0, 3, 3, 3], done
    assert all("すでに保管" in err for code, err in done if code == 3), done

    sources = [_original(tmp_path, n) for n in range(1, 5)]
    argv = ("evidence", "add", "--kind", "statement", "--card", "5678", "--month", "2026-04")
    clients = [
        robustkit.start_etcbook(store_target, *argv, str(source))  # type: ignore[arg-type]
        for source in sources
    ]
    outputs = [c.communicate(timeout=300) for c in clients]
    assert [c.returncode for c in clients] == [0, 0, 0, 0], [e.decode() for _o, e in outputs]
    store = open_store(store_target)
    try:
        statements = [d for d in search_documents(store=store) if d.kind == "statement"]
        assert sorted(d.version for d in statements) == [1, 2, 3, 4]
        by_bytes = {hashlib.sha256(s.read_bytes()).hexdigest() for s in sources}
        assert {d.sha256 for d in statements} == by_bytes
        assert verify_vault(store=store).intact
    finally:
        store.close()
