"""Benchmark: ``status`` for every card of a store with 100,000 trips over 10 years, against
the same store with 10,000 trips (the baseline, built and timed in the same run).

Each store has 3 cards (two with auto-exchange on), trips on a mix of operators with a third
marked for 平日朝夕割引, a manual exchange every quarter and a few adjustments. What is timed is
the work of the ``status`` command once the process is up: reading every card's timeline from
the store, replaying it, and building the JSON document. Python start-up and imports are not
(they are printed apart, for information). Goal: at most 0.5 s at 100,000 trips, and cost
growing linearly (at most 12 × for 10 × the trips).

    PYTHONPATH=. python benchmarks/status.py [--trips 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etcbook.cli.mileage import card_status_json  # noqa: E402
from etcbook.domain.rules import load_rules  # noqa: E402
from etcbook.models.mileage_inputs import card_states  # noqa: E402
from etcbook.models.store import open_store  # noqa: E402

GOAL_SECONDS = 0.5
GOAL_RATIO = 12.0
CARDS = 3
YEARS = 10
FIRST_DAY = dt.datetime(2016, 1, 1)
AS_OF = dt.date(2025, 12, 31)
OPERATORS = ["nexco"] * 12 + ["miyagi", "honshi", "aichi", "hiroshima", "fukuoka", "kitakyushu"]
OPERATORS += ["hanshin", "shutoko", "other_rebate", "nagoya", "kobe"]


def build_store(path: Path, trips: int, seed: int = 7) -> None:
    """A store with ``trips`` trips spread over 3 cards and 10 years."""
    store = open_store(path)
    rng = random.Random(seed)
    span_minutes = YEARS * 365 * 24 * 60
    now = "2026-01-01T00:00:00"
    with store.transaction() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        for card in range(CARDS):
            raw.execute(
                "INSERT INTO cards (last4, holder, auto_exchange, created_at) VALUES (?, ?, ?, ?)",
                (f"{1000 + card}", f"利用者{card}", card != 1, now),
            )
        rows = []
        for i in range(trips):
            card_id = i % CARDS + 1
            exit_at = FIRST_DAY + dt.timedelta(minutes=rng.randrange(span_minutes))
            entry_at = exit_at - dt.timedelta(minutes=rng.randrange(10, 180))
            toll = rng.randrange(200, 6000)
            from_file = None if rng.random() < 0.7 else 0
            rows.append(
                (
                    card_id,
                    entry_at.isoformat(timespec="seconds"),
                    exit_at.isoformat(timespec="seconds"),
                    "入口",
                    "出口",
                    toll,
                    from_file,
                    rng.random() < 0.33,
                    rng.choice(OPERATORS),
                    f"bench|{i}",
                )
            )
        raw.executemany(
            "INSERT INTO trips (card_id, entry_at, exit_at, entry_ic, exit_ic, toll,"
            " rebate_applied, morning_evening, operator, trip_key, seq, source)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'import')",
            rows,
        )
        for card in range(1, CARDS + 1):
            for quarter in range(YEARS * 4):
                at = FIRST_DAY + dt.timedelta(days=91 * quarter + 45, hours=card)
                raw.execute(
                    "INSERT INTO point_exchanges (card_id, at, pool, units, points, yen,"
                    " created_at) VALUES (?, ?, 'nexco', '1000', 1000, 500, ?)",
                    (card, at.isoformat(timespec="seconds"), now),
                )
            raw.execute(
                'INSERT INTO mileage_adjustments (card_id, "on", pool, points, rebate, reason,'
                " created_at) VALUES (?, '2018-06-20', 'nexco', 500, 0, 'キャンペーン', ?)",
                (card, now),
            )
            raw.execute(
                'INSERT INTO mileage_adjustments (card_id, "on", pool, points, rebate, reason,'
                " created_at) VALUES (?, '2020-02-01', NULL, 0, 1200, '訂正', ?)",
                (card, now),
            )
    store.close()


def status_document(path: Path) -> dict[str, object]:
    """What ``etcbook status --json`` computes, in this process, on an open store."""
    store = open_store(path)
    try:
        rules = load_rules()
        with store.engine.connect() as connection:
            states = card_states(connection=connection, as_of=AS_OF, rules=rules)
        return {"as_of": AS_OF.isoformat(), "cards": [card_status_json(s) for s in states]}
    finally:
        store.close()


def time_status(path: Path, repeat: int) -> tuple[float, float, dict[str, object]]:
    """Median wall and CPU seconds of the status work (the store is opened before the clock
    starts). On a shared machine the wall time includes waiting for a CPU; the CPU time is
    what the work itself costs."""
    store = open_store(path)
    rules = load_rules()
    times = []
    cpu_times = []
    document: dict[str, object] = {}
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            cpu_start = time.process_time()
            with store.engine.connect() as connection:
                states = card_states(connection=connection, as_of=AS_OF, rules=rules)
            document = {"as_of": AS_OF.isoformat(), "cards": [card_status_json(s) for s in states]}
            json.dumps(document, ensure_ascii=False)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    finally:
        store.close()
    return statistics.median(times), statistics.median(cpu_times), document


def cli_seconds(path: Path) -> float:
    """Wall time of a whole ``etcbook status --json`` process, start-up included."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ETCBOOK_DB": ""}
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "etcbook",
            "--db",
            str(path),
            "status",
            "--json",
            "--as-of",
            AS_OF.isoformat(),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trips", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    small_trips = args.trips // 10
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.sqlite3"
        small = Path(folder) / "small.sqlite3"
        build_store(big, args.trips)
        build_store(small, small_trips)
        # warm up once (first use of the holiday table, imports inside the commands)
        time_status(small, 1)
        small_seconds, small_cpu, _ = time_status(small, args.repeat)
        big_seconds, big_cpu, document = time_status(big, args.repeat)
        cli_big = cli_seconds(big)
        import_start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import etcbook.models, etcbook.cli"],
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        import_seconds = time.perf_counter() - import_start
    ratio = big_seconds / small_seconds
    cards = document["cards"]
    assert isinstance(cards, list)
    print(
        f"status, {CARDS} cards, {small_trips:,} trips over {YEARS} years: {small_seconds:.3f} s"
        f" (CPU {small_cpu:.3f} s)"
    )
    print(
        f"status, {CARDS} cards, {args.trips:,} trips over {YEARS} years: {big_seconds:.3f} s"
        f" (CPU {big_cpu:.3f} s)"
    )
    print(f"ratio: {ratio:.1f} × for {args.trips / small_trips:.0f} × the trips")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(f"load average during the run: {load:.1f} on {os.cpu_count()} CPUs")
    print(
        f"whole CLI process at {args.trips:,} trips: {cli_big:.2f} s"
        f" (of which Python start-up and imports alone: {import_seconds:.2f} s)"
    )
    met = big_seconds <= GOAL_SECONDS and ratio <= GOAL_RATIO
    print(
        f"goal ≤ {GOAL_SECONDS} s at {args.trips:,} trips and ratio ≤ {GOAL_RATIO:.0f}: "
        + ("met" if met else "NOT met")
        + (
            ""
            if met or big_cpu > GOAL_SECONDS
            else f" on wall time; the work itself took {big_cpu:.3f} s of CPU"
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
