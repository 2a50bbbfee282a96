"""Import benchmark: etcbook's 明細CSV import against the floor, measured in the same run.

Writes a realistic cp932 明細CSV (15-column layout, varied rows: several cards with different
mask lengths, blank entry fields at mainline gates, discounts with ASCII and full-width minus,
adjustment rows, 確定/確認中 with flags, genuinely repeated rows, not strictly sorted), then:

* etcbook: ``import_files`` into a fresh store (migrated before the clock starts);
* floor: the standard library's csv module + cp932 decoding + sqlite3 ``executemany`` into an
  equivalent table (the trips columns, no validation, no dedupe) in one transaction.

Each runs in its own child process, so its peak memory (``ru_maxrss``) is its own; a bare
interpreter is measured too. Prints both times, the ratio etcbook/floor and the peak memory:
the best of the runs, and the medians (of each side's times, and of each run's ratio against
the floor of its own round, which shared its load). CPU time adds up both of the import's
threads (one reads the next chunk while SQLite merges the last), so its ratio is above the
wall-time one, which is the wait the goal is about.

    python benchmarks/import_100k.py               # 100,000 rows
    python benchmarks/import_100k.py --rows 1000000
    python benchmarks/import_100k.py --profile     # cProfile of the etcbook import (top 25)
    python benchmarks/import_100k.py --real-shapes # with the shapes of real downloads: about 9 %
                                                   # passage rows (a bare －), 2 % charges at an
                                                   # entry gate, urban-expressway gate names

Also: the same import into a store created after the clock starts (the schema's creation counts,
as in a first ``etcbook import``), against the floor with its table's creation.

Goals (issue 2): ratio <= 2.0; peak memory of the etcbook import at a million rows <= 300 MB.
Issue 18: into a new store, ratio <= 2.5.
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

HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)
IC_NAMES = (
    "東京",
    "用賀",
    "横浜町田",
    "厚木",
    "秦野中井",
    "御殿場",
    "富士",
    "静岡",
    "浜松",
    "豊川",
    "岡崎",
    "名古屋",
    "一宮",
    "小牧",
    "岐阜羽島",
    "彦根",
    "京都東",
    "吹田",
    "宝塚",
    "神戸西",
    "岡山",
    "広島",
    "髙松中央",
    "髙崎",
    "前橋",
    "伊勢崎",
    "仙台宮城",
    "仙台港北",
    "松島海岸",
    "浦和本線①",
    "大宮①",
    "三郷",
    "八王子",
    "相模湖",
    "甲府昭和",
    "諏訪",
    "松本",
    "長野",
    "上越",
    "新潟中央",
)
MAINLINE_GATES = ("本線料金所", "首都高本線", "東名川崎本線", "浦和本線①")
URBAN_GATES = ("玉出", "南港中", "池田（本線）入", "首都横浜青葉", "岸谷生麦下", "東新町", "天神北")
PASSAGE_GATES = ("（上り）湾岸線本線", "門真本線", "京田辺本線", "（上り）須磨", "名古屋本線（出）")
REMARKS = (
    ("確定", ""),
    ("確定", "深夜割引"),
    ("確定", "休日割引"),
    ("確定", "ＥＴＣ通常"),
    ("確定", "経路割引"),
    ("確定", "（朝夕）"),
    ("確認中", ""),
    ("確認中", "深夜割引"),
)


def card_numbers(count: int) -> list[str]:
    """Masked card numbers with different mask lengths (and one full number)."""
    out = []
    for i in range(count):
        digits = f"{4980_0000_0000_0000 + i * 7919:016d}"
        mask = (7, 8, 12)[i % 3]
        out.append("*" * mask + digits[mask:] if i else digits)
    return out


def write_meisai(path: Path, rows: int, *, seed: int = 20241002, real_shapes: bool = False) -> int:
    """Write ``rows`` data rows to ``path`` (cp932, CRLF). Returns the number of cards.

    ``real_shapes`` mixes in passage rows (about 9 %), charges at an entry gate (about 2 %) and
    urban-expressway gate names, as real downloads of a company carry them."""
    rng = random.Random(seed)
    cards = card_numbers(max(3, rows // 5000))
    # About 15 months (the statements' window), in time order with local disorder, as in
    # real downloads: exit times advance, and neighbouring rows are sometimes out of order.
    step = 15 * 30 * 24 * 60 / rows
    clock = dt.datetime(2024, 1, 1, 0, 0)
    written = 0
    with open(path, "wb") as handle:
        handle.write(HEADER_15.encode("cp932") + b"\r\n")
        chunk: list[str] = []
        while written < rows:
            clock += dt.timedelta(minutes=rng.expovariate(1 / step))
            exit_at = clock.replace(second=0, microsecond=0)
            card = rng.choice(cards)
            before = discount = ""
            toll = rng.randrange(15, 900) * 10
            kind = rng.random()
            if kind < 0.05:  # single mainline gate: no entry date, time or IC
                entry_d = entry_t = entry_ic = ""
                exit_ic = rng.choice(MAINLINE_GATES)
            else:
                entry_at = exit_at - dt.timedelta(minutes=rng.randrange(8, 300))
                entry_d, entry_t = entry_at.strftime("%y/%m/%d"), entry_at.strftime("%H:%M")
                entry_ic, exit_ic = rng.sample(IC_NAMES, 2)
                if kind < 0.40:
                    cut = toll * rng.choice((2, 3, 5)) // 10 // 10 * 10
                    minus = "－" if rng.random() < 0.02 else "-"
                    before, discount, toll = str(toll), f"{minus}{cut}", toll - cut
            if rng.random() < 0.005:  # adjustment row
                toll = -toll
            rebate = rng.choice((0, 0, 0, 300)) if toll > 300 else 0
            status, flag = rng.choice(REMARKS)
            remarks = f"{status};{flag}" if flag else status
            exit_d, exit_t = exit_at.strftime("%y/%m/%d"), exit_at.strftime("%H:%M")
            amounts = (before, discount, str(toll), str(rebate), str(toll - rebate))
            shape = rng.random() if real_shapes else 1.0
            if shape < 0.09:  # a passage row: no charge of its own
                amounts = ("", "", "－", "－", "－")
                exit_ic = rng.choice(PASSAGE_GATES)
                if rng.random() < 0.5:
                    entry_d = entry_t = entry_ic = ""
            elif shape < 0.11:  # a charge at an entry gate: no exit
                entry_d, entry_t = exit_d, exit_t
                entry_ic, exit_d, exit_t, exit_ic = rng.choice(URBAN_GATES), "", "", ""
            elif shape < 0.20:
                entry_ic = rng.choice(URBAN_GATES)
            line = ",".join(
                (
                    entry_d,
                    entry_t,
                    exit_d,
                    exit_t,
                    entry_ic,
                    exit_ic,
                    *amounts,
                    rng.choice("1111112234"),
                    f"{rng.randrange(1, 10000):04d}" if rng.random() < 0.9 else "",
                    card,
                    remarks,
                )
            )
            chunk.append(line)
            written += 1
            if rng.random() < 0.001 and written < rows:  # a genuinely repeated row
                chunk.append(line)
                written += 1
            if len(chunk) >= 2000 or written >= rows:
                for _ in range(len(chunk) // 20):  # rows are not strictly sorted
                    i = rng.randrange(len(chunk) - 1)
                    chunk[i], chunk[i + 1] = chunk[i + 1], chunk[i]
                handle.write(("\r\n".join(chunk) + "\r\n").encode("cp932"))
                chunk.clear()
    return len(cards)


# --- children -----------------------------------------------------------------------------


def _rss_now_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _maxrss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_etcbook(
    csv_path: Path, store_path: Path, profile: bool, *, new_store: bool = False
) -> dict[str, object]:
    """Import into a store migrated before the clock starts, or (``new_store``) into a store
    created after it: the schema's creation then counts too, as in a first ``etcbook import``."""
    sys.path.insert(0, str(ROOT))
    from etcbook.models.imports import import_files
    from etcbook.models.store import open_store

    opened, opened_cpu = time.perf_counter(), time.process_time()
    store = open_store(store_path)
    open_s, open_cpu = time.perf_counter() - opened, time.process_time() - opened_cpu
    before_kb = _rss_now_kb()
    maxrss_before_kb = _maxrss_kb()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        started, cpu = time.perf_counter(), time.process_time()
        profiler.enable()
        result = import_files(store, [csv_path])
        profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    else:
        started, cpu = time.perf_counter(), time.process_time()
        result = import_files(store, [csv_path])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.close()
    if not result.ok:
        raise SystemExit(f"etcbook rejected the benchmark file: {result.to_json()}")
    if new_store:
        seconds, cpu = seconds + open_s, cpu + open_cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "open_seconds": open_s,
        "rows": result.files[0].rows,
        "inserted": result.inserted,
        "duplicates": result.duplicates,
        "rss_before_kb": before_kb,
        "maxrss_before_kb": maxrss_before_kb,
        "maxrss_kb": _maxrss_kb(),
    }


FLOOR_TABLE = (
    "CREATE TABLE trips (id INTEGER PRIMARY KEY, entry_date TEXT, entry_time TEXT,"
    " exit_date TEXT, exit_time TEXT, entry_ic TEXT, exit_ic TEXT, toll_before_discount TEXT,"
    " etc_discount TEXT, toll TEXT, rebate_applied TEXT, deferred_toll TEXT,"
    " vehicle_class TEXT, vehicle_number TEXT, card_number TEXT, remarks TEXT)"
)


def child_floor(csv_path: Path, db_path: Path) -> dict[str, object]:
    import csv
    import sqlite3

    created, created_cpu = time.perf_counter(), time.process_time()
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(FLOOR_TABLE)
    create_s, create_cpu = time.perf_counter() - created, time.process_time() - created_cpu
    insert = f"INSERT INTO trips VALUES (NULL{', ?' * 15})"
    before_kb = _rss_now_kb()
    started, cpu = time.perf_counter(), time.process_time()
    with open(csv_path, encoding="cp932", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        db.execute("BEGIN")
        db.executemany(insert, reader)
        db.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = db.execute("SELECT count(*) FROM trips").fetchone()[0]
    db.close()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "new_seconds": seconds + create_s,
        "new_cpu": cpu + create_cpu,
        "rows": rows,
        "rss_before_kb": before_kb,
        "maxrss_kb": _maxrss_kb(),
    }


def child_bare() -> dict[str, object]:
    return {"maxrss_kb": _maxrss_kb()}


def _run_child(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if done.stderr:
        sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed with exit status {done.returncode}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _mb(kb: object) -> float:
    assert isinstance(kb, int)
    return kb / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs of each side, best time kept"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the etcbook import")
    parser.add_argument("--keep", type=Path, help="write the CSV and stores here and keep them")
    parser.add_argument(
        "--real-shapes",
        action="store_true",
        help="mix in passage rows, charges at an entry gate and urban gate names",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind in ("etcbook", "etcbook-new"):
            out = child_etcbook(
                Path(rest[0]), Path(rest[1]), rest[2] == "1", new_store=kind == "etcbook-new"
            )
        elif kind == "floor":
            out = child_floor(Path(rest[0]), Path(rest[1]))
        else:
            out = child_bare()
        print(json.dumps(out))
        return 0

    repeat = args.repeat or (5 if args.rows <= 200_000 else 2)
    folder_cm = None
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        folder = args.keep
    else:
        folder_cm = tempfile.TemporaryDirectory(prefix="etcbook-bench-")
        folder = Path(folder_cm.name)
    try:
        csv_path = folder / f"meisai_{args.rows}.csv"
        started = time.perf_counter()
        cards = write_meisai(csv_path, args.rows, real_shapes=args.real_shapes)
        size_mb = csv_path.stat().st_size / 1e6
        print(
            f"wrote {args.rows:,} rows, {cards} cards, {size_mb:.1f} MB (cp932)"
            f" in {time.perf_counter() - started:.1f} s",
            flush=True,
        )

        bare = _run_child("bare")
        etcbook_runs, floor_runs, new_runs = [], [], []
        for i in range(repeat):
            for db in folder.glob(f"run{i}-*"):
                db.unlink()
            floor_runs.append(_run_child("floor", str(csv_path), str(folder / f"run{i}-floor.db")))
            etcbook_runs.append(
                _run_child(
                    "etcbook",
                    str(csv_path),
                    str(folder / f"run{i}-etcbook.sqlite3"),
                    "1" if args.profile and i == 0 else "0",
                )
            )
            new_runs.append(
                _run_child("etcbook-new", str(csv_path), str(folder / f"run{i}-new.sqlite3"), "0")
            )
            print(
                f"  run {i + 1}/{repeat}: etcbook {etcbook_runs[-1]['seconds']:.2f} s"
                f" (cpu {etcbook_runs[-1]['cpu']:.2f}),"
                f" floor {floor_runs[-1]['seconds']:.2f} s (cpu {floor_runs[-1]['cpu']:.2f}),"
                f" new store {new_runs[-1]['seconds']:.2f} s (cpu {new_runs[-1]['cpu']:.2f})",
                flush=True,
            )
        for run in etcbook_runs + floor_runs + new_runs:
            if run["rows"] != args.rows or run.get("inserted", args.rows) != args.rows:
                raise SystemExit(f"row counts differ: {run}")

        def best(runs: list[dict[str, object]], key: str) -> float:
            return min(float(r[key]) for r in runs)  # type: ignore[arg-type]

        wall_e, wall_f = best(etcbook_runs, "seconds"), best(floor_runs, "seconds")
        cpu_e, cpu_f = best(etcbook_runs, "cpu"), best(floor_runs, "cpu")
        wall_n, wall_fn = best(new_runs, "seconds"), best(floor_runs, "new_seconds")
        cpu_n, cpu_fn = best(new_runs, "cpu"), best(floor_runs, "new_cpu")

        def median(runs: list[dict[str, object]], key: str) -> float:
            return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]

        def per_run(runs: list[dict[str, object]], key: str, floor_key: str) -> list[float]:
            """Each run's ratio against the floor of the same round (which shared its load)."""
            return [
                float(r[key]) / float(f[floor_key])  # type: ignore[arg-type]
                for r, f in zip(runs, floor_runs, strict=True)
            ]

        ratios = {
            "wall": per_run(etcbook_runs, "seconds", "seconds"),
            "cpu": per_run(etcbook_runs, "cpu", "cpu"),
            "new wall": per_run(new_runs, "seconds", "new_seconds"),
            "new cpu": per_run(new_runs, "cpu", "new_cpu"),
        }
        peak = max(_mb(r["maxrss_kb"]) for r in etcbook_runs)
        before = _mb(etcbook_runs[0]["rss_before_kb"])
        print(f"rows                 {args.rows:,}   (best of {repeat} runs each)")
        print(f"etcbook import       {wall_e:.2f} s   (CPU {cpu_e:.2f} s)")
        print(f"floor (csv+sqlite3)  {wall_f:.2f} s   (CPU {cpu_f:.2f} s)")
        print(
            f"ratio etcbook/floor  {wall_e / wall_f:.2f}   (goal <= 2.0, the wait;"
            f" CPU time ratio {cpu_e / cpu_f:.2f}: both of the import's threads)"
        )
        print(
            f"into a new store     {wall_n:.2f} s   (CPU {cpu_n:.2f} s; schema included), floor with"
            f" its table {wall_fn:.2f} s: ratio {wall_n / wall_fn:.2f} (goal <= 2.5;"
            f" CPU time ratio {cpu_n / cpu_fn:.2f})"
        )
        print(
            f"peak RSS etcbook     {peak:.0f} MB   (before the import {before:.0f} MB,"
            f" growth {peak - before:.0f} MB; bare interpreter {_mb(bare['maxrss_kb']):.0f} MB;"
            f" floor child {max(_mb(r['maxrss_kb']) for r in floor_runs):.0f} MB)"
        )
        print(
            f"medians of {repeat}      etcbook {median(etcbook_runs, 'seconds'):.2f} s"
            f" (CPU {median(etcbook_runs, 'cpu'):.2f}), floor {median(floor_runs, 'seconds'):.2f} s"
            f" (CPU {median(floor_runs, 'cpu'):.2f}), new store {median(new_runs, 'seconds'):.2f} s"
            f" (CPU {median(new_runs, 'cpu'):.2f}); per-run ratios, median: "
            + ", ".join(
                f"{name} {statistics.median(values):.2f}" for name, values in ratios.items()
            )
        )
        if args.rows >= 1_000_000:
            print(f"memory goal          peak <= 300 MB: {'met' if peak <= 300 else 'MISSED'}")
        from benchkit import report_result  # the RESULT line for run_all.py

        big = args.rows >= 1_000_000
        report_result(
            f"import {args.rows:,} rows" + (" (real shapes)" if args.real_shapes else ""),
            etcbook_s=wall_e,
            baseline_s=wall_f,
            peak_mb=peak,
            goal="ratio <= 2.0" + (", peak <= 300 MB" if big else ""),
            met=wall_e / wall_f <= 2.0 and (not big or peak <= 300),
            rows=args.rows,
            cpu_ratio=round(cpu_e / cpu_f, 3),
            median_ratio=round(statistics.median(ratios["wall"]), 3),
            median_cpu_ratio=round(statistics.median(ratios["cpu"]), 3),
        )
        report_result(
            f"import {args.rows:,} rows into a new store",
            etcbook_s=wall_n,
            baseline_s=wall_fn,
            goal="ratio <= 2.5",
            met=wall_n / wall_fn <= 2.5,
            rows=args.rows,
            cpu_ratio=round(cpu_n / cpu_fn, 3),
            median_ratio=round(statistics.median(ratios["new wall"]), 3),
            median_cpu_ratio=round(statistics.median(ratios["new cpu"]), 3),
            schema_s=round(min(float(r["open_seconds"]) for r in new_runs), 3),
        )
    finally:
        if folder_cm is not None:
            folder_cm.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
