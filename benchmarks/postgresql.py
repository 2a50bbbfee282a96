"""PostgreSQL benchmarks (issue 15): each figure against a baseline measured in the same run.

* import 100,000 rows into a PostgreSQL ledger (``import_files``: COPY, merge, advisory locks)
  against a bare psycopg ``COPY`` of the same file's rows (csv module + cp932) into a plain table;
* ``status`` at 100,000 trips on PostgreSQL against the same work on SQLite (the same rows);
* 8 clients (``etcbook import`` processes) importing overlapping 10,000-row files at once:
  duplicates, lost trips and exit statuses (0, or 75 with a retryable sentence).

Server: ``--server URL`` (a role that may CREATE DATABASE), else ETCBOOK_TEST_PG_URL, else a
throwaway PostgreSQL 15 cluster started here as ``scripts/test`` does (Unix socket in a temporary
folder, fsync off; as the ``postgres`` user when run as root) and stopped at the end. Databases it
creates are dropped at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from benchkit import report_result
from import_100k import write_meisai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etcbook.models.imports import import_files  # noqa: E402
from etcbook.models.store import open_store  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class ThrowawayCluster:
    """A PostgreSQL 15 cluster in a temporary folder, for this run only."""

    def __init__(self, tcp_port: int | None = None) -> None:
        """``tcp_port``: listen on 127.0.0.1 at that port too (``tcp_url``), not only the socket."""
        self.folder = Path(tempfile.mkdtemp(prefix="etcbook-pg-bench."))
        self.run: list[str] = []
        if os.geteuid() == 0:
            import shutil

            shutil.chown(self.folder, "postgres")
            self.run = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.folder, 0o700)
        data = self.folder / "data"
        subprocess.run(
            [
                *self.run,
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
        )
        listen = f"-c listen_addresses=127.0.0.1 -p {tcp_port}" if tcp_port else ""
        if not listen:
            listen = "-c listen_addresses=''"
        options = f"{listen} -k {self.folder} -c fsync=off -c max_connections=200"
        subprocess.run(
            [
                *self.run,
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-o",
                options,
                "-l",
                str(self.folder / "server.log"),
                "start",
            ],
            check=True,
            capture_output=True,
        )
        self.url = f"postgresql://postgres@/postgres?host={self.folder}"
        self.tcp_url = f"postgresql://postgres@127.0.0.1:{tcp_port}/postgres" if tcp_port else ""

    def stop(self) -> None:
        import shutil

        subprocess.run(
            [
                *self.run,
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def new_database(server: str) -> str:
    name = f"etcbook_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def drop_database(server: str, url: str) -> None:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {urlsplit(url).path.lstrip('/')} WITH (FORCE)")


def bare_copy(url: str, csv_path: Path) -> float:
    """The floor: the file's rows as they are, COPYed into a plain 15-column table."""
    with psycopg.connect(url) as db:
        db.execute("CREATE TABLE bare (" + ", ".join(f"c{i} text" for i in range(15)) + ")")
        db.commit()
        start = time.perf_counter()
        with open(csv_path, encoding="cp932", newline="") as handle:
            rows = csv.reader(handle)
            next(rows)
            with db.cursor() as cursor, cursor.copy("COPY bare FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        db.commit()
        return time.perf_counter() - start


def schema_floor(server: str, ledger: str) -> float:
    """What trips' own shape costs: the rows the import stored, inserted with one
    ``INSERT … SELECT`` into the trips table of a fresh ledger (its unique identity, foreign
    keys, indexes and triggers; no file, no staging, no merge). Seconds."""
    columns = (
        "id, card_id, entry_at, exit_at, entry_ic, exit_ic, toll_before_discount, etc_discount,"
        " toll, rebate_applied, deferred_toll, vehicle_class, vehicle_number, remarks, status,"
        " flags, morning_evening, operator, trip_key, seq, batch_id, source, operator_source"
    )
    target = new_database(server)
    try:
        open_store(target).close()
        with psycopg.connect(ledger) as source, psycopg.connect(target) as db:
            for table, select in (
                ("cards", "SELECT * FROM cards"),
                ("import_batches", "SELECT * FROM import_batches"),
            ):
                with (
                    source.cursor().copy(f"COPY ({select}) TO STDOUT (FORMAT binary)") as out,
                    db.cursor().copy(f"COPY {table} FROM STDIN (FORMAT binary)") as into,
                ):
                    for data in out:
                        into.write(data)
            db.execute(f"CREATE TEMP TABLE src AS SELECT {columns} FROM trips WHERE false")
            with (
                source.cursor().copy(
                    f"COPY (SELECT {columns} FROM trips ORDER BY id) TO STDOUT (FORMAT binary)"
                ) as out,
                db.cursor().copy("COPY src FROM STDIN (FORMAT binary)") as into,
            ):
                for data in out:
                    into.write(data)
            db.execute("ANALYZE src")
            db.commit()
            start = time.perf_counter()
            db.execute(f"INSERT INTO trips ({columns}) SELECT {columns} FROM src ORDER BY id")
            db.commit()
            return time.perf_counter() - start
    finally:
        drop_database(server, target)


def time_import(url: str, csv_path: Path) -> tuple[float, int]:
    store = open_store(url)
    try:
        start = time.perf_counter()
        result = import_files(store, [csv_path])
        seconds = time.perf_counter() - start
        assert result.ok and result.committed, result.to_json()
        return seconds, result.inserted
    finally:
        store.close()


def copy_sqlite_to_server(sqlite_path: Path, url: str) -> None:
    """The benchmark's SQLite store copied whole into the new server ledger, as
    ``etcbook copy-store`` does (every table, ids kept, sequences reset)."""
    from etcbook.models.copy_store import copy_store

    source, target = open_store(sqlite_path), open_store(url)
    try:
        copy_store(source=source, target=target)
    finally:
        source.close()
        target.close()


def concurrent_clients(
    server: str, url: str, folder: Path, clients: int, rows: int
) -> dict[str, object]:
    """``clients`` processes import overlapping files at once; count what the ledger holds."""
    whole = folder / "whole.csv"
    write_meisai(whole, rows + (clients - 1) * rows // 4, seed=5)
    lines = whole.read_bytes().split(b"\r\n")
    header, body = lines[0], [line for line in lines[1:] if line]
    files = []
    for i in range(clients):
        part = body[i * rows // 4 : i * rows // 4 + rows]
        path = folder / f"client{i}.csv"
        path.write_bytes(b"\r\n".join([header, *part]) + b"\r\n")
        files.append(path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ETCBOOK_DB": ""}
    start = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "etcbook", "--db", url, "import", str(path), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for path in files
    ]
    codes = [process.wait() for process in processes]
    seconds = time.perf_counter() - start
    # What one client alone stores from all rows: the expected trips and passages.
    alone = new_database(server)
    try:
        store = open_store(alone)
        expected = import_files(store, [whole]).inserted
        store.close()
    finally:
        drop_database(server, alone)
    with psycopg.connect(url) as db:
        stored = db.execute(
            "SELECT (SELECT count(*) FROM trips) + (SELECT count(*) FROM passages)"
        ).fetchone()[0]
        duplicates = db.execute(
            "SELECT count(*) - count(DISTINCT (card_id, trip_key, seq)) FROM trips"
        ).fetchone()[0]
    return {
        "seconds": seconds,
        "exit_codes": codes,
        "expected": expected,
        "stored": stored,
        "duplicates": duplicates,
        "lost": expected - stored,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("ETCBOOK_TEST_PG_URL", ""))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trips", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--client-rows", type=int, default=10_000)
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

            csv_path = folder / "meisai.csv"
            write_meisai(csv_path, args.rows)
            created.append(bare := new_database(args.server))
            floor = bare_copy(bare, csv_path)
            created.append(ledger := new_database(args.server))
            open_store(ledger).close()  # migrated before the clock starts
            seconds, inserted = time_import(ledger, csv_path)
            shape = schema_floor(args.server, ledger)
            print(
                f"import {args.rows:,} rows: etcbook {seconds:.2f} s, bare COPY {floor:.2f} s;"
                f" the same trips INSERTed into an empty ledger's trips table {shape:.2f} s"
                f" ({shape / floor:.1f}× the bare COPY: trips' own identity, keys and indexes)"
            )
            report_result(
                f"PostgreSQL import {args.rows:,} rows vs bare COPY",
                etcbook_s=seconds,
                baseline_s=floor,
                goal="ratio <= 2.0",
                met=seconds <= 2.0 * floor,
                inserted=inserted,
                trips_insert_s=round(shape, 3),
            )

            from status import AS_OF, build_store, time_status

            sqlite_path = folder / "status.sqlite3"
            build_store(sqlite_path, args.trips)
            created.append(status_url := new_database(args.server))
            copy_sqlite_to_server(sqlite_path, status_url)
            on_sqlite, _, sqlite_document = time_status(sqlite_path, 3)
            on_server, _, server_document = time_status(status_url, 3)  # type: ignore[arg-type]
            same = sqlite_document == server_document
            print(
                f"status at {args.trips:,} trips (as of {AS_OF}): PostgreSQL {on_server:.2f} s,"
                f" SQLite {on_sqlite:.2f} s, same document: {same}"
            )
            report_result(
                f"status at {args.trips:,} trips, PostgreSQL vs SQLite",
                etcbook_s=on_server,
                baseline_s=on_sqlite,
                goal="ratio <= 2.0 and the same document",
                met=same and on_server <= 2.0 * on_sqlite,
            )

            created.append(shared := new_database(args.server))
            open_store(shared).close()
            found = concurrent_clients(args.server, shared, folder, args.clients, args.client_rows)
            print(f"{args.clients} clients, overlapping {args.client_rows:,}-row files: {found}")
            codes = found["exit_codes"]
            assert isinstance(codes, list)
            report_result(
                f"{args.clients} clients importing overlapping {args.client_rows:,}-row files",
                etcbook_s=float(found["seconds"]),  # type: ignore[arg-type]
                baseline_s=None,
                goal="0 duplicates, 0 lost, every exit 0 or 75",
                met=found["duplicates"] == 0
                and found["lost"] == 0
                and all(code in (0, 75) for code in codes),
                **{k: v for k, v in found.items() if k != "seconds"},
            )
    finally:
        for url in created:
            drop_database(args.server, url)
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
