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
from pathlib import Path

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


def trip_count(path: Path) -> int:
    db = sqlite3.connect(path, timeout=30)
    try:
        return db.execute("SELECT count(*) FROM trips").fetchone()[0]
    finally:
        db.close()


def content_digest(path: Path) -> str:
    """SHA-256 of every user table's rows in a fixed order: equal digests mean equal content."""
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


def etcbook_argv(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "etcbook", "--db", str(db), *args]


def etcbook_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ETCBOOK_DB": "", **extra}


def start_etcbook(db: Path, *args: str, **popen: object) -> subprocess.Popen[bytes]:
    """``etcbook --db DB ARGS…`` started in a subprocess (not waited for)."""
    return subprocess.Popen(  # type: ignore[call-overload]
        etcbook_argv(db, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=etcbook_env(),
        cwd=ROOT,
        **popen,
    )
