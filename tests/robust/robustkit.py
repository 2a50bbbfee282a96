"""Helpers for the robustness tests: big 明細CSV files, store fingerprints, a CLI runner.

Imported by the tests in this folder as ``robustkit`` (pytest puts the folder on ``sys.path``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from etcbook.phases import ENV

ROOT = Path(__file__).resolve().parents[2]

HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)
HEADER_13 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,車種,車両番号,ＥＴＣカード番号,備考"
)

_ICS = ("東京", "横浜町田", "厚木", "御殿場", "静岡", "浜松", "名古屋", "京都東", "吹田", "高崎")


def meisai_lines(
    rows: int,
    *,
    card: str = "********87651234",
    start: dt.datetime = dt.datetime(2025, 1, 1, 6, 0),
    seed: int = 8,
) -> list[str]:
    """Valid 15-column rows (no header), each a distinct trip, in exit-time order."""
    rng = random.Random(seed)
    out = []
    at = start
    for _ in range(rows):
        at += dt.timedelta(minutes=rng.randrange(7, 90))
        entry = at - dt.timedelta(minutes=rng.randrange(10, 120))
        before = rng.randrange(3, 500) * 10
        discount = -(before * 3 // 10 // 10 * 10) if rng.random() < 0.3 else 0
        toll = before + discount
        rebate = min(toll, rng.choice((0, 0, 0, 300, 1000)))
        a, b = rng.sample(_ICS, 2)
        out.append(
            ",".join(
                (
                    entry.strftime("%y/%m/%d"),
                    entry.strftime("%H:%M"),
                    at.strftime("%y/%m/%d"),
                    at.strftime("%H:%M"),
                    a,
                    b,
                    str(before) if discount else "",
                    str(discount) if discount else "",
                    str(toll),
                    str(rebate),
                    str(toll - rebate),
                    "1",
                    "1234",
                    card,
                    "確定;深夜割引" if discount else "確定",
                )
            )
        )
    return out


def write_meisai(path: Path, rows: int, **kwargs: object) -> Path:
    """A cp932, CRLF 明細CSV of ``rows`` distinct trips."""
    lines = [HEADER_15, *meisai_lines(rows, **kwargs)]  # type: ignore[arg-type]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return path


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection that sees committed data (WAL is read, never checkpointed away)."""
    from etcbook.models.store import sqlite_uri

    return sqlite3.connect(sqlite_uri(path, read_only=True), uri=True, timeout=30)


def integrity(path: Path) -> str:
    db = sqlite3.connect(path, timeout=30)
    try:
        return ";".join(r[0] for r in db.execute("PRAGMA integrity_check"))
    finally:
        db.close()


def trip_count(path: Path | str) -> int:
    """The store's trips: a SQLite file, or a PostgreSQL ledger's URL."""
    if isinstance(path, str):
        import psycopg

        with psycopg.connect(path) as server:
            row = server.execute("SELECT count(*) FROM trips").fetchone()
            return int(row[0]) if row else 0
    db = sqlite3.connect(path, timeout=30)
    try:
        return db.execute("SELECT count(*) FROM trips").fetchone()[0]
    finally:
        db.close()


def content_digest(path: Path | str) -> str:
    """SHA-256 of every user table's rows in a fixed order: equal digests mean equal content.

    ``path``: a SQLite file, or a PostgreSQL ledger's URL."""
    if isinstance(path, str):
        import psycopg

        with psycopg.connect(path) as server:
            digest = hashlib.sha256()
            tables = server.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_type = 'BASE TABLE' ORDER BY table_name"
            ).fetchall()
            for (table,) in tables:
                digest.update(f"\x00table {table}\x00".encode())
                rows = server.execute(f'SELECT * FROM "{table}"').fetchall()
                for text in sorted(map(repr, rows)):  # rows of equal first columns too
                    digest.update(text.encode())
            return digest.hexdigest()
    db = sqlite3.connect(path, timeout=30)
    try:
        digest = hashlib.sha256()
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for table in tables:
            digest.update(f"\x00table {table}\x00".encode())
            for row in db.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        db.close()


def etcbook_argv(db: Path | str, *args: str) -> list[str]:
    return [sys.executable, "-m", "etcbook", "--db", str(db), *args]


def etcbook_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ETCBOOK_DB": "", **extra}


def start_etcbook(
    db: Path | str, *args: str, phases: PhaseLog | None = None, **popen: object
) -> subprocess.Popen[bytes]:
    """``etcbook --db DB ARGS…`` started in a subprocess (not waited for).

    With ``phases``, the process marks the steps of its write transactions there.
    """
    env = etcbook_env(**({ENV: str(phases.path)} if phases is not None else {}))
    return subprocess.Popen(  # type: ignore[call-overload]
        etcbook_argv(db, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        **popen,
    )


KILL_REPORT = "kills landed mid-write"
"""The group of the kill tests' per-run reports in the counts printed after the run."""


def report_kills(text: str) -> None:
    """Print a kill test's per-run report and keep it for the counts printed after the run."""
    import tally

    print(f"\n{text}")
    tally.note(KILL_REPORT, text)


WRITING = "writing"
"""A job's phase between the start of its write transaction and the call to commit."""
COMMITTING = "committing"
"""Between the call to commit and its return: the kill may come before or after the commit."""
MID_WRITE = (WRITING, COMMITTING)
"""The phases in which a kill lands while the job is writing."""


def watch_writes(folder: Path, process: subprocess.Popen[bytes], files: int) -> float:
    """Seconds from the first entry appearing in ``folder`` to ``files`` finished files being
    there, polled while ``process`` runs (0 if that was not seen). Work in progress has a
    hidden name: etcbook.safeio's ``.NAME….part``, the backup's ``.etcbook-backup-…`` folder."""
    first = None
    while process.poll() is None:
        entries = os.listdir(folder) if folder.exists() else []
        now = time.monotonic()
        if entries and first is None:
            first = now
        if first is not None and sum(not e.startswith(".") for e in entries) >= files:
            return now - first
        time.sleep(0.001)
    return 0.0


def wait_for_entries(folder: Path, process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until something is in ``folder`` (``True``), or the process ends first."""
    deadline = time.monotonic() + timeout
    while not (folder.exists() and os.listdir(folder)):
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


class PhaseLog:
    """The marks ``etcbook.phases`` writes for the processes started with it (one file)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def marks(self, job: str) -> list[tuple[str, float]]:
        """``(event, monotonic time)`` of every complete mark of ``job``, in order."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found = []
        for line in text.split("\n")[:-1]:  # the last piece may be a line being written
            _pid, name, event, at = line.split(" ")
            if name == job:
                found.append((event, float(at)))
        return found

    def phase(self, job: str) -> str:
        """Where ``job`` was when its process stopped: ``before`` it began writing,
        :data:`WRITING`, :data:`COMMITTING`, or ``after`` it had finished."""
        events = [event for event, _at in self.marks(job)]
        if not events:
            return "before"
        return {"start": WRITING, "commit": COMMITTING, "end": "after"}[events[-1]]

    def wait_for(
        self, job: str, event: str, process: subprocess.Popen[bytes], timeout: float = 300
    ) -> bool:
        """Wait until ``job`` marks ``event`` (``True``), or the process ends first (``False``)."""
        deadline = time.monotonic() + timeout
        while not any(e == event for e, _at in self.marks(job)):
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def writing_time(self, job: str) -> float:
        """Seconds from the start of ``job``'s write transaction to its commit (last run)."""
        times = dict(self.marks(job))
        return times["commit"] - times["start"]
