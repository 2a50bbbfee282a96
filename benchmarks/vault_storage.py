"""The vault on PostgreSQL (originals in the database) against the vault on SQLite (files).

Adds ``--count`` originals of ``--size-mb`` MiB each (random bytes, so nothing compresses) to a
new ledger on each backend, then runs ``verify_vault`` and reads every original back checked
(``read_original``); prints the times and the ratio PostgreSQL / SQLite, and the peak memory of
adding one ``--big-mb`` MiB original on PostgreSQL (streamed in 1 MiB rows: the peak must not grow
with the file).

Server: ``--server URL`` (a role that may CREATE DATABASE), else ETCBOOK_TEST_PG_URL, else a
throwaway cluster (see postgresql.py). Databases it creates are dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from benchkit import peak_rss_mb, report_result
from postgresql import PG_BIN, ThrowawayCluster, drop_database, new_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etcbook.models.store import open_store  # noqa: E402
from etcbook.models.vault import (  # noqa: E402
    add_document,
    read_original,
    search_documents,
    verify_vault,
)


def originals(folder: Path, count: int, size: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"statement_{n:03d}.pdf"
        path.write_bytes(b"%PDF-1.4\n" + os.urandom(size - 9))
        paths.append(path)
    return paths


def run(target: Path | str, files: list[Path]) -> dict[str, float]:
    store = open_store(target)
    try:
        start = time.perf_counter()
        for n, path in enumerate(files):
            add_document(
                store=store,
                source=path,
                kind="statement",
                card=f"{1000 + n % 9000:04d}",
                month=f"{2020 + n // 12 % 6}-{1 + n % 12:02d}",
            )
        added = time.perf_counter()
        check = verify_vault(store=store)
        verified = time.perf_counter()
        assert check.intact and check.checked == len(files), check
        total = sum(
            len(read_original(store=store, document=d)) for d in search_documents(store=store)
        )
        read = time.perf_counter()
        assert total == sum(p.stat().st_size for p in files)
    finally:
        store.close()
    return {"add": added - start, "verify": verified - added, "read": read - verified}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("ETCBOOK_TEST_PG_URL", ""))
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--big-mb", type=int, default=200)
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
            files = originals(folder / "in", args.count, int(args.size_mb * (1 << 20)))
            on_sqlite = run(folder / "vault.sqlite3", files)
            created.append(url := new_database(args.server))
            on_server = run(url, files)
            what = f"{args.count} originals of {args.size_mb:g} MiB"
            for step in ("add", "verify", "read"):
                print(
                    f"{step} {what}: PostgreSQL {on_server[step]:.2f} s,"
                    f" SQLite {on_sqlite[step]:.2f} s"
                )
            report_result(
                f"vault: add, verify and read {what}, PostgreSQL vs SQLite",
                etcbook_s=sum(on_server.values()),
                baseline_s=sum(on_sqlite.values()),
                **{f"postgresql_{k}_s": round(v, 3) for k, v in on_server.items()},
                **{f"sqlite_{k}_s": round(v, 3) for k, v in on_sqlite.items()},
            )

            big = folder / "big.pdf"
            with open(big, "wb") as out:
                for _ in range(args.big_mb):
                    out.write(os.urandom(1 << 20))
            created.append(big_url := new_database(args.server))
            store = open_store(big_url)
            before = peak_rss_mb() or 0.0
            start = time.perf_counter()
            document = add_document(
                store=store, source=big, kind="other", card="1234", month="2026-01"
            )
            seconds = time.perf_counter() - start
            check = verify_vault(store=store)
            store.close()
            after = peak_rss_mb() or 0.0
            print(
                f"one {args.big_mb} MiB original on PostgreSQL: {seconds:.2f} s, peak memory"
                f" {before:.0f} -> {after:.0f} MB, verified {check.intact}"
            )
            report_result(
                f"one {args.big_mb} MiB original added to PostgreSQL",
                etcbook_s=seconds,
                baseline_s=None,
                peak_mb=after,
                goal="peak memory grows by less than the file's size",
                met=check.intact and after - before < args.big_mb and document.size > 0,
            )
    finally:
        for url in created:
            drop_database(args.server, url)
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
