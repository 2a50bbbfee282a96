"""``copy-store`` at 100,000 trips: SQLite → PostgreSQL and back, against bare copies of the same
rows measured in the same run.

* SQLite → PostgreSQL: ``copy_store`` (every table, one transaction, sequences reset) against a
  bare psycopg ``COPY`` of the trips table's rows (every column), read from the same file, into a
  plain table of the same column types (no index, key or trigger);
* PostgreSQL → SQLite: ``copy_store`` back into a new file against a bare read of the same rows
  from the server and ``executemany`` into a plain SQLite table.

Also checks that ``status`` computes the same document on all three ledgers. Then a ledger of
``--originals`` vault originals of ``--size-mb`` MiB (random bytes) goes SQLite → PostgreSQL
(into ``document_chunks``) and back (into files), against a bare move of the same bytes: the
files read and COPYed in 1 MiB rows into a plain table, and those rows read back into files.
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
from vault_storage import originals as random_originals

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etcbook.models.copy_store import copy_store  # noqa: E402
from etcbook.models.store import open_store  # noqa: E402
from etcbook.models.vault import add_document, verify_vault  # noqa: E402


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


def originals_store(path: Path, files: list[Path]) -> None:
    """A new SQLite ledger whose vault holds ``files``."""
    store = open_store(path)
    try:
        for n, file in enumerate(files):
            add_document(
                store=store,
                source=file,
                kind="statement",
                card="1234",
                month=f"2026-{n % 12 + 1:02d}",
            )
    finally:
        store.close()


def bare_bytes_round_trip(url: str, files: list[Path], folder: Path) -> tuple[float, float]:
    """The files' bytes COPYed in 1 MiB rows into a plain table, then read back into files."""
    chunk = 1 << 20
    with psycopg.connect(url) as db:
        db.execute("CREATE TABLE bare_bytes (file integer, seq integer, data bytea)")
        db.commit()
        start = time.perf_counter()
        with db.cursor() as cursor, cursor.copy("COPY bare_bytes FROM STDIN") as copy:
            for n, file in enumerate(files):
                with open(file, "rb") as handle:
                    seq = 0
                    while data := handle.read(chunk):
                        copy.write_row((n, seq, data))
                        seq += 1
        db.commit()
        there = time.perf_counter() - start
        folder.mkdir()
        start = time.perf_counter()
        for n in range(len(files)):
            with open(folder / f"{n}.pdf", "wb") as out:
                for (data,) in db.execute(
                    "SELECT data FROM bare_bytes WHERE file = %s ORDER BY seq", (n,)
                ):
                    out.write(data)
        back = time.perf_counter() - start
    return there, back


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("ETCBOOK_TEST_PG_URL", ""))
    parser.add_argument("--trips", type=int, default=100_000)
    parser.add_argument("--originals", type=int, default=100)
    parser.add_argument("--size-mb", type=float, default=1.0)
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

            files = random_originals(folder / "in", args.originals, int(args.size_mb * (1 << 20)))
            with_originals = folder / "originals.sqlite3"
            originals_store(with_originals, files)
            created.append(vault_server := new_database(args.server))
            open_store(vault_server).close()
            originals_to, _ = timed_copy(with_originals, vault_server)
            vault_back = folder / "originals back.sqlite3"
            open_store(vault_back).close()
            originals_from, _ = timed_copy(vault_server, vault_back)
            created.append(bare_vault := new_database(args.server))
            bare_there, bare_back = bare_bytes_round_trip(bare_vault, files, folder / "bare-out")
            intact = True
            for checked in (vault_server, vault_back):
                opened = open_store(checked)
                try:
                    check = verify_vault(store=opened)
                    intact = intact and check.intact and check.checked == len(files)
                finally:
                    opened.close()
            what = f"{args.originals} originals of {args.size_mb:g} MiB"
            print(
                f"copy-store {what}: SQLite → PostgreSQL {originals_to:.2f} s (bare COPY of the"
                f" bytes {bare_there:.2f} s), PostgreSQL → SQLite {originals_from:.2f} s (bare"
                f" read into files {bare_back:.2f} s); verified on both: {intact}"
            )
            report_result(
                f"copy-store {what} SQLite → PostgreSQL vs bare COPY of the bytes",
                etcbook_s=originals_to,
                baseline_s=bare_there,
                goal="every original verified on the target",
                met=intact,
            )
            report_result(
                f"copy-store {what} PostgreSQL → SQLite vs bare read into files",
                etcbook_s=originals_from,
                baseline_s=bare_back,
                goal="every original verified on the target",
                met=intact,
            )
    finally:
        for url in created:
            drop_database(args.server, url)
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
