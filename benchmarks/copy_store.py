"""``copy-store`` at 100,000 trips: SQLite → PostgreSQL and back, against bare copies of the same
rows measured in the same run.

* SQLite → PostgreSQL: ``copy_store`` (every table, one transaction, sequences reset) against a
  bare psycopg ``COPY`` of the trips table's rows (every column), read from the same file, into a
  plain table of the same column types (no index, key or trigger);
* PostgreSQL → SQLite: ``copy_store`` back into a new file against a bare read of the same rows
  from the server and ``executemany`` into a plain SQLite table.

Also checks that ``status`` computes the same document on all three ledgers.
Server: ``--server URL``, else ETCBOOK_TEST_PG_URL, else a throwaway cluster (benchmarks/postgresql.py).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from benchkit import report_result
from postgresql import PG_BIN, ThrowawayCluster, drop_database, new_database
from status import build_store, status_document

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etcbook.models.copy_store import copy_store  # noqa: E402
from etcbook.models.store import open_store  # noqa: E402


def trip_columns(sqlite_path: Path) -> str:
    """Every stored column of ``trips`` (the generated ``dated_at`` aside)."""
    db = sqlite3.connect(sqlite_path)
    names = [row[1] for row in db.execute("PRAGMA table_xinfo(trips)") if row[6] == 0]
    db.close()
    return ", ".join(f'"{name}"' for name in names)


def timed_copy(source: Path | str, target: Path | str) -> tuple[float, int]:
    opened_source, opened_target = open_store(source), open_store(target)
    try:
        start = time.perf_counter()
        report = copy_store(source=opened_source, target=opened_target)
        return time.perf_counter() - start, sum(report.tables.values())
    finally:
        opened_source.close()
        opened_target.close()


def bare_to_server(sqlite_path: Path, url: str, columns: str) -> float:
    """The trips' rows, every column, COPYed into a plain table of the same column types."""
    with psycopg.connect(url) as db:
        db.execute("CREATE TABLE bare (LIKE trips)")
        db.execute("ALTER TABLE bare DROP COLUMN dated_at")
        db.commit()
        source = sqlite3.connect(sqlite_path)
        start = time.perf_counter()
        with db.cursor() as cursor, cursor.copy(f"COPY bare ({columns}) FROM STDIN") as copy:
            for row in source.execute(f"SELECT {columns} FROM trips ORDER BY id"):
                copy.write_row(row)
        db.commit()
        seconds = time.perf_counter() - start
        source.close()
        return seconds


def bare_from_server(url: str, sqlite_path: Path, columns: str) -> float:
    """The trips' rows, every column, read from the server and inserted into a plain table."""
    target = sqlite3.connect(sqlite_path)
    target.execute(f"CREATE TABLE bare ({columns})")
    start = time.perf_counter()
    with psycopg.connect(url) as db:
        rows = db.execute(f"SELECT {columns} FROM trips ORDER BY id").fetchall()
    marks = ", ".join("?" for _ in columns.split(","))
    target.executemany(f"INSERT INTO bare VALUES ({marks})", rows)
    target.commit()
    seconds = time.perf_counter() - start
    target.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("ETCBOOK_TEST_PG_URL", ""))
    parser.add_argument("--trips", type=int, default=100_000)
    args = parser.parse_args()
    cluster = None
    if not args.server:
        if not (PG_BIN / "initdb").exists():
            print("No PostgreSQL: pass --server URL or install postgresql-15.", file=sys.stderr)
            return 2
        cluster = ThrowawayCluster()
        args.server = cluster.url
    created: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as folder_name:
            folder = Path(folder_name)
            os.environ["ETCBOOK_SERVER_FILES"] = str(folder / "server-files")
            source = folder / "source.sqlite3"
            build_store(source, args.trips)
            created.append(server := new_database(args.server))
            open_store(server).close()  # migrated before the clock starts
            to_server, rows = timed_copy(source, server)
            created.append(bare := new_database(args.server))
            open_store(bare).close()  # for the trips table's column types
            columns = trip_columns(source)
            floor_to = bare_to_server(source, bare, columns)
            back = folder / "back.sqlite3"
            open_store(back).close()
            from_server, _ = timed_copy(server, back)
            floor_from = bare_from_server(server, folder / "bare.sqlite3", columns)
            same = status_document(source) == status_document(back)
            print(
                f"copy-store {args.trips:,} trips ({rows:,} rows): SQLite → PostgreSQL"
                f" {to_server:.2f} s (bare COPY of the trips' rows {floor_to:.2f} s),"
                f" PostgreSQL → SQLite {from_server:.2f} s (bare read + insert {floor_from:.2f} s);"
                f" the same status after the round trip: {same}"
            )
            report_result(
                f"copy-store {args.trips:,} trips SQLite → PostgreSQL vs bare COPY",
                etcbook_s=to_server,
                baseline_s=floor_to,
                goal=None,
                met=None,
                rows=rows,
            )
            report_result(
                f"copy-store {args.trips:,} trips PostgreSQL → SQLite vs bare insert",
                etcbook_s=from_server,
                baseline_s=floor_from,
                goal="the same status document",
                met=same,
                rows=rows,
            )
    finally:
        for url in created:
            drop_database(args.server, url)
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
