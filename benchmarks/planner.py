"""Exchange planner benchmark: a 12-month horizon with 200 planned trips (goal: under 50 ms).

Prints the planner's time (median of several runs, the whole ``plan_exchanges`` call including
explanations and simulated alternatives), a baseline measured in the same run — the naive
greedy policy (smallest unit, just enough, before each trip) over the same trips and pools —
and their ratio.

    PYTHONPATH=. python benchmarks/planner.py [--runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from functools import partial

from etcbook.domain.planner import (
    EarningRule,
    PlannedTrip,
    PlannerInput,
    PoolState,
    naive_plan,
    plan_exchanges,
)
from etcbook.domain.points import ExchangeUnit, Lot

GOAL_MS = 50.0
NEXCO_GRID = (ExchangeUnit(1000, 500), ExchangeUnit(3000, 2500), ExchangeUnit(5000, 5000))


def card(*, auto: bool, seed: int = 4) -> PlannerInput:
    """A card with three pools, points expiring inside the year, and 200 planned trips."""
    rng = random.Random(seed)
    as_of = dt.date(2025, 4, 1)
    nexco = PoolState(
        pool="nexco",
        lots=(
            Lot("nexco", dt.date(2024, 3, 20), dt.date(2025, 3, 31), 0, 0),
            Lot("nexco", dt.date(2024, 6, 20), dt.date(2026, 3, 31), 2600, 2600),
            Lot("nexco", dt.date(2025, 3, 20), dt.date(2026, 3, 31), 1900, 1900),
            Lot("nexco", dt.date(2025, 4, 20), dt.date(2027, 3, 31), 1200, 1200),
        ),
        grid=NEXCO_GRID,
        auto_unit=ExchangeUnit(5000, 5000),
        auto_exchange=auto,
        recent_monthly_points=(900, 1100, 1000),
        operators=("nexco", "miyagi"),
        earning=EarningRule(10, 1),
    )
    nagoya = PoolState(
        pool="nagoya",
        lots=(Lot("nagoya", dt.date(2024, 8, 20), dt.date(2026, 3, 31), 700, 700),),
        grid=(ExchangeUnit(100, 100),),
        auto_unit=ExchangeUnit(1000, 1000),
        recent_monthly_points=(60,),
        operators=("nagoya",),
        earning=EarningRule(100, 1),
    )
    kobe = PoolState(
        pool="kobe",
        lots=(Lot("kobe", dt.date(2024, 4, 20), dt.date(2026, 3, 31), 950, 950),),
        grid=(ExchangeUnit(200, 100),),
        auto_unit=ExchangeUnit(1000, 500),
        operators=("kobe",),
        earning=EarningRule(50, 3),
    )
    operators = ["nexco", "miyagi", "nagoya", "kobe", "shutoko", "other_rebate"]
    weights = [62, 5, 13, 5, 10, 5]
    trips = sorted(
        (
            PlannedTrip(
                as_of + dt.timedelta(days=rng.randrange(365)),
                rng.choices(operators, weights)[0],
                rng.randrange(300, 4000, 10),
            )
            for _ in range(200)
        ),
        key=lambda t: t.on,
    )
    return PlannerInput(
        as_of=as_of,
        pools=(nexco, nagoya, kobe),
        rebate_balance=0,
        rebate_operators=frozenset({"nexco", "miyagi", "nagoya", "kobe", "other_rebate"}),
        trips=tuple(trips),
    )


def median_ms(job: Callable[[], object], runs: int) -> float:
    job()  # warm caches and imports
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for auto in (False, True):
        request = card(auto=auto)
        plan = plan_exchanges(request)
        naive_exchanges, naive_covered, _ = naive_plan(request)
        planner_ms = median_ms(partial(plan_exchanges, request), args.runs)
        baseline_ms = median_ms(partial(naive_plan, request), args.runs)
        verdict = "ok" if planner_ms < GOAL_MS else "OVER GOAL"
        print(
            f"auto-exchange {'on ' if auto else 'off'}: 200 trips, "
            f"{request.as_of} .. {request.trips[-1].on}\n"
            f"  planner  {planner_ms:7.2f} ms  ({len(plan.exchanges)} exchanges, "
            f"{len(plan.alternatives)} alternatives, covered {plan.covered:,} yen, "
            f"value {plan.value:,} yen, lost {plan.points_lost:,} P)  goal < {GOAL_MS:.0f} ms: "
            f"{verdict}\n"
            f"  baseline {baseline_ms:7.2f} ms  (naive greedy: {len(naive_exchanges)} exchanges, "
            f"covered {naive_covered:,} yen)\n"
            f"  ratio    {planner_ms / baseline_ms:7.2f}x"
        )


if __name__ == "__main__":
    main()
