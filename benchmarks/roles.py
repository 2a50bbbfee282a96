"""Roles benchmark (issue 16): a company ledger under row-level security, each figure against a
baseline measured in the same run.

Ledger: ``--drivers`` drivers (default 500), two cards each, ``--trips`` trips (default
1,000,000) spread over 12 months, built with ``generate_series`` and secured by ``admin init``.

* a driver's trips page, month filter (the rows of their cards in one month; row-level security
  adds ``card_id = ANY(my_card_ids())``) against the superuser running the same query with that
  condition written out (no row-level security);
* the accounts desk's month totals across all cards and departments against the superuser's
  same query (no row-level security).

Server: ``--server URL`` (a superuser), else ETCBOOK_TEST_PG_URL, else a throwaway cluster as in
benchmarks/postgresql.py. Roles it creates and the database are dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from benchkit import report_result
from postgresql import PG_BIN, ThrowawayCluster, drop_database, new_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etcbook.models.roles import add_user, init_roles
from etcbook.models.store import open_store

MONTH_QUERY = (
    "SELECT t.id, t.dated_at, t.entry_ic, t.exit_ic, t.toll, t.purpose, t.business_share"
    " FROM trips t WHERE t.dated_at >= '2026-03-01' AND t.dated_at < '2026-04-01'{extra}"
    " ORDER BY t.dated_at, t.id"
)
TOTALS_QUERY = (
    "SELECT c.department, count(*), sum(t.toll), sum(t.toll * t.business_share / 100)"
    " FROM trips t JOIN cards c ON c.id = t.card_id"
    " WHERE t.dated_at >= '2026-03-01' AND t.dated_at < '2026-04-01'"
    " GROUP BY c.department ORDER BY c.department"
)


def as_user(url: str, login: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{login}@{parts.hostname or ''}"))


def build(url: str, drivers: int, trips: int, suffix: str) -> list[str]:
    cards = drivers * 2
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "INSERT INTO cards (last4, holder, department, created_at)"
            " SELECT lpad(g::text, 4, '0'), '運転者' || g, '部署' || (g %% 20), now()"
            " FROM generate_series(1, %s) g",
            (cards,),
        )
        c.execute(
            "INSERT INTO trips (card_id, exit_at, exit_ic, entry_ic, toll, trip_key, seq,"
            " business_share, purpose, source)"
            " SELECT 1 + (g %% %s), timestamp '2026-01-01' + (g %% 365) * interval '1 day'"
            " + (g %% 600) * interval '1 minute', '横浜町田', '東京', 500 + g %% 3000,"
            " 'k' || g, 0, (g %% 2) * 100, '', 'import' FROM generate_series(1, %s) g",
            (cards, trips),
        )
        c.execute("ANALYZE")
    engine = open_store(url).engine
    logins = []
    with engine.begin() as connection:
        init_roles(connection)
        for d in range(drivers):
            login = f"bench_drv_{d}_{suffix}"
            add_user(connection, login, "driver")
            logins.append(login)
        accounts = f"bench_acct_{suffix}"
        add_user(connection, accounts, "accounts")
        logins.append(accounts)
        connection.exec_driver_sql(
            "INSERT INTO card_holders (card_id, db_role)"
            f" SELECT id, 'bench_drv_' || ((id - 1) / 2) || '_{suffix}' FROM cards"
        )
    engine.dispose()
    return logins


def median_ms(
    connection: psycopg.Connection, query: str, params: tuple = (), runs: int = 15
) -> float:  # type: ignore[type-arg]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        connection.execute(query, params).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("ETCBOOK_TEST_PG_URL", ""))
    parser.add_argument("--drivers", type=int, default=500)
    parser.add_argument("--trips", type=int, default=1_000_000)
    args = parser.parse_args()
    cluster = None
    if not args.server:
        if not (PG_BIN / "initdb").exists():
            print("No PostgreSQL: pass --server URL or install postgresql-15.", file=sys.stderr)
            return 2
        cluster = ThrowawayCluster()
        args.server = cluster.url
    suffix = uuid.uuid4().hex[:6]
    url = new_database(args.server)
    logins: list[str] = []
    try:
        open_store(url).close()
        started = time.perf_counter()
        logins = build(url, args.drivers, args.trips, suffix)
        print(f"ledger built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        driver = logins[args.drivers // 2]
        with psycopg.connect(as_user(url, driver), autocommit=True) as c:
            rls_ms = median_ms(c, MONTH_QUERY.format(extra=""))
            rows = len(c.execute(MONTH_QUERY.format(extra="")).fetchall())
        with psycopg.connect(url, autocommit=True) as c:
            card_ids = [
                r[0]
                for r in c.execute(
                    "SELECT card_id FROM card_holders WHERE db_role = %s", (driver,)
                ).fetchall()
            ]
            base_ms = median_ms(
                c, MONTH_QUERY.format(extra=" AND t.card_id = ANY(%s)"), (card_ids,)
            )
            totals_base_ms = median_ms(c, TOTALS_QUERY, runs=5)
        report_result(
            f"driver's trips, one month ({args.trips:,} trips, RLS) vs the same query without RLS",
            etcbook_s=rls_ms / 1000,
            baseline_s=base_ms / 1000,
            goal="< 100 ms",
            met=rls_ms < 100,
            rows=rows,
        )
        with psycopg.connect(as_user(url, logins[-1]), autocommit=True) as c:
            totals_ms = median_ms(c, TOTALS_QUERY, runs=5)
        report_result(
            f"accounts' month totals by department ({args.trips:,} trips, RLS) vs without RLS",
            etcbook_s=totals_ms / 1000,
            baseline_s=totals_base_ms / 1000,
            goal="< 1 s",
            met=totals_ms < 1000,
        )
    finally:
        drop_database(args.server, url)
        with psycopg.connect(args.server, autocommit=True) as c:
            for login in logins:
                c.execute(f'DROP ROLE IF EXISTS "{login}"')
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
