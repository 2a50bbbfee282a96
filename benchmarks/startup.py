"""Start-up of the window on a 100,000-trip store, against a bare PySide6 window; month filter.

    python benchmarks/startup.py [--trips 100000] [--runs 5] [--platform offscreen|xcb]

1. Builds (once, cached in benchmarks/out/) a store of 100,000 trips on three cards over ten
   years, written as real-format 明細CSV files and imported with etcbook's importer.
2. Starts the processes alternately, the same way (``python -c …``, a QApplication
   created first, then the window, then the event loop), and measures the time from just
   before the process is spawned to the first paint of the main window:
     - baseline: a bare ``QMainWindow`` with an empty ``QTableView``;
     - etcbook: ``etcbook.cli.main(["--db", STORE])``, the real entry point (``etcbook``
       without a command); also: until the first page shows its data (its ``loaded``
       signal: the dashboard's numbers, read before the store opens when its kept results
       are those of the data as they are: etcbook.models.first_look; goal ≤ 3× the
       baseline), and until its charts are drawn too (``charts_drawn``, after the store
       opened and the page read it again; for reference). Each run ends by closing
       the window as a user does, so the store's kept results (etcbook.models.engine_cache)
       are those of an unchanged store, as on a second start the same day.
   Prints the medians and the ratio etcbook/baseline (goal ≤ 1.5). Modules are compiled
   once before timing (as an installed package is), whatever PYTHONDONTWRITEBYTECODE says.
3. In this process: opens the 走行明細 page on the store and times a month filter (the ids,
   the totals and the first screen of rows), median of several months (goal < 100 ms), and
   for reference clearing the filter (all 100,000 rows) and jumping to the last row.

No assertion: the figures are printed for the closing note.
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
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))
# This folder (benchkit) after the installed packages: its packaging.py would otherwise stand
# for the "packaging" distribution that matplotlib imports when the dashboard draws its charts.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]

HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)
ROUTES = (
    ("厚木", "横浜町田", 930),
    ("東京", "静岡", 4300),
    ("名古屋", "京都東", 3340),
    ("吹田", "岡山", 3910),
    ("高崎", "前橋", 420),
    ("一宮", "小牧", 510),
    ("上鳥羽", "山科", 460),
    ("名古屋", "東新町", 770),
    ("東京", "霞が関", 1320),
)


# -- the 100,000-trip store --------------------------------------------------------------------


def build_store(path: Path, trips: int) -> Path:
    """A store of ``trips`` trips on 3 cards over 10 years, imported from 明細CSV files."""
    from etcbook.models.imports import import_files
    from etcbook.models.store import open_store

    rng = random.Random(100_000)
    start = dt.datetime(2016, 4, 1, 6, 0)
    span_minutes = 10 * 365 * 24 * 60
    cards = ("1234", "5678", "9012")
    with tempfile.TemporaryDirectory(prefix="etcbook-bench-") as folder:
        files = []
        per_card = trips // len(cards)
        for number, last4 in enumerate(cards):
            count = per_card + (trips - per_card * len(cards) if number == 0 else 0)
            stamps = sorted(rng.randrange(span_minutes) for _ in range(count))
            lines = [HEADER_15]
            for minute in stamps:
                entry_ic, exit_ic, toll = rng.choice(ROUTES)
                entry = start + dt.timedelta(minutes=minute)
                exit_ = entry + dt.timedelta(minutes=rng.randrange(10, 120))
                rebate = rng.choice((0, 0, 0, 300)) if toll > 300 else 0
                flags = "確定;（朝夕）" if entry.hour in (7, 18) and rng.random() < 0.5 else "確定"
                lines.append(
                    f"{entry:%y/%m/%d},{entry:%H:%M},{exit_:%y/%m/%d},{exit_:%H:%M},"
                    f"{entry_ic},{exit_ic},,,{toll},{rebate},{toll - rebate},1,1234,"
                    f"************{last4},{flags}"
                )
            csv = Path(folder) / f"meisai_{last4}.csv"
            csv.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
            files.append(csv)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        store = open_store(partial)
        try:
            for last4, holder in zip(cards, ("山田太郎", "山田花子", "みなと物流"), strict=True):
                from etcbook.models.cards import create_card

                with store.session(write=True) as session:
                    create_card(session=session, last4=last4, holder=holder, household="山田家")
            result = import_files(store, files)
            if not result.ok:
                raise SystemExit(f"building the store failed: {result.to_json()}")
        finally:
            store.close()
        os.replace(partial, path)
    return path


def _opens(path: Path) -> bool:
    from etcbook.models.store import StoreError, open_store

    try:
        open_store(path).close()
    except StoreError:
        return False
    return True


# -- the child processes -----------------------------------------------------------------------

_PROBE = r"""
import json, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

marks = {}

class Probe(QObject):
    def eventFilter(self, obj, event):
        if (
            "shown" not in marks
            and event.type() == QEvent.Type.Paint
            and isinstance(obj, QWidget)
            and isinstance(obj.window(), QMainWindow)
        ):
            marks["shown"] = time.time()
            window = obj.window()
            ready = getattr(window, "page_changed", None)
            if ready is None:
                QTimer.singleShot(0, finish)
            else:
                ready.connect(lambda key: page_shown(window, key))
        return False

pending = set()

def page_shown(window, key):
    # The first page is on screen; when it loads its data off the GUI thread, wait for that,
    # and for its charts when it draws them after its numbers.
    page = window.page_widget(key)
    loaded = getattr(page, "loaded", None)
    charts = getattr(page, "charts_drawn", None)
    pending.add("data")
    if loaded is None:
        QTimer.singleShot(0, lambda: mark("data"))
    else:
        loaded.connect(lambda: QTimer.singleShot(0, lambda: mark("data")))
    if charts is not None:
        pending.add("charts")
        charts.connect(lambda: QTimer.singleShot(0, lambda: mark("charts")))

def mark(name):
    if name not in marks:
        QApplication.processEvents()
        marks[name] = time.time()
    pending.discard(name)
    if not pending:
        finish()

def finish():
    print(json.dumps(marks), flush=True)
    for widget in QApplication.topLevelWidgets():
        widget.close()  # as a user closes it: the window finishes its work first
    QApplication.instance().quit()

app = QApplication(sys.argv[:1])
probe = Probe()
app.installEventFilter(probe)
QTimer.singleShot(60_000, app.quit)
"""

BASELINE = (
    _PROBE
    + r"""
from PySide6.QtWidgets import QMainWindow, QTableView
window = QMainWindow()
window.setWindowTitle("baseline")
window.setCentralWidget(QTableView())
window.resize(1280, 800)
window.show()
sys.exit(app.exec())
"""
)

ETCBOOK = (
    _PROBE
    + r"""
from etcbook.cli import main
sys.exit(main(["--db", sys.argv[1]]))
"""
)

WINDOW_ONLY = (
    _PROBE
    + r"""
from pathlib import Path
from etcbook.ui.app import run_app
sys.exit(run_app(Path(sys.argv[1])))
"""
)
"""The same window without the command line in front (``etcbook.ui.app.run_app`` directly):
shows what the CLI's argument parser adds to the start-up."""


def run_child(code: str, args: list[str], env: dict[str, str]) -> dict[str, float]:
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    marks = json.loads(lines[-1])
    return {name: (stamp - started) * 1000 for name, stamp in marks.items()}


# -- month filter on the trips page ------------------------------------------------------------


def time_month_filter(store: Path, settings_dir: Path) -> dict[str, float]:
    from PySide6.QtCore import QSettings

    from etcbook.ui.app import make_application, make_main_window

    app = make_application()
    settings = QSettings(str(settings_dir / "settings.ini"), QSettings.Format.IniFormat)
    window = make_main_window(store, settings=settings, sample_path=settings_dir / "sample.db")
    window.resize(1280, 800)
    window.show()
    window.context.open_store_now()
    app.processEvents()
    window.show_page("trips")
    page = window.page_widget("trips")
    deadline = time.monotonic() + 60
    while (window.context.operations.busy or page.model.figures is None) and (
        time.monotonic() < deadline
    ):  # the engine's per-trip figures: the totals then use them, as a user sees them
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()
    months = [m for m in (page.month_from.itemData(i) for i in range(page.month_from.count())) if m]
    picks = months[:: max(1, len(months) // 12)][:12]

    cpu_times: list[float] = []

    def timed(action) -> float:  # type: ignore[no-untyped-def]
        begin, cpu = time.perf_counter(), time.process_time()
        action()
        page.view.viewport().repaint()  # the rows on screen are fetched and painted
        cpu_times.append((time.process_time() - cpu) * 1000)
        return (time.perf_counter() - begin) * 1000

    month_times = [timed(lambda m=m: page.set_month_range(m, m)) for m in picks]
    month_cpu = statistics.median(cpu_times)
    rows_in_month = page.model.rowCount()
    all_rows = timed(page.clear_filters)
    total_rows = page.model.rowCount()
    jump = timed(lambda: page.view.scrollToBottom())
    fetches = page.model.fetch_count
    window.close()
    return {
        "month_filter_ms": statistics.median(month_times),
        "month_filter_max_ms": max(month_times),
        "month_filter_cpu_ms": month_cpu,
        "rows_in_a_month": rows_in_month,
        "all_rows_ms": all_rows,
        "all_rows": total_rows,
        "jump_to_last_row_ms": jump,
        "page_fetches": fetches,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform

    store = OUT / f"startup_{args.trips}.sqlite3"
    if store.exists() and not _opens(store):
        store.unlink()  # built by an older etcbook: build it again
    if not store.exists():
        print(f"building a store of {args.trips:,} trips …", file=sys.stderr)
        begin = time.perf_counter()
        build_store(store, args.trips)
        print(f"  built in {time.perf_counter() - begin:.1f} s: {store}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="etcbook-startup-") as folder:
        env = {
            **os.environ,
            # As installed: modules compiled once (pip does it at install time), not at every
            # start. PYTHONDONTWRITEBYTECODE would make etcbook compile its sources each run
            # while PySide6's come precompiled; bytecode goes to a private folder here.
            "PYTHONPYCACHEPREFIX": str(Path(folder) / "pycache"),
            "PYTHONPATH": str(ROOT),
            "QT_QPA_PLATFORM": args.platform,
            "XDG_CONFIG_HOME": folder,  # QSettings of the child: a fresh, private file
            "XDG_DATA_HOME": folder,
            "QT_LOGGING_RULES": "qt.qpa.*=false",
        }
        baseline: list[float] = []
        shown: list[float] = []
        window_only: list[float] = []
        with_data: list[float] = []
        with_charts: list[float] = []
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        run_child(BASELINE, [], env)  # warm the file cache and compile, for all
        run_child(ETCBOOK, [str(store)], env)
        run_child(WINDOW_ONLY, [str(store)], env)
        for _ in range(args.runs):
            baseline.append(run_child(BASELINE, [], env)["shown"])
            marks = run_child(ETCBOOK, [str(store)], env)
            shown.append(marks["shown"])
            with_data.append(marks.get("data", float("nan")))
            with_charts.append(marks.get("charts", marks.get("data", float("nan"))))
            window_only.append(run_child(WINDOW_ONLY, [str(store)], env)["shown"])
        filter_figures = time_month_filter(store, Path(folder))

    base = statistics.median(baseline)
    ours = statistics.median(shown)
    data = statistics.median(with_data)
    charts = statistics.median(with_charts)
    direct = statistics.median(window_only)
    print(f"platform: {args.platform}, store: {args.trips:,} trips, runs: {args.runs} (medians)")
    print(f"baseline (bare QMainWindow + QTableView) shown: {base:7.0f} ms")
    print(f"etcbook main window shown:                     {ours:7.0f} ms")
    print(f"ratio etcbook / baseline:                       {ours / base:7.2f}   (goal ≤ 1.5)")
    print(
        f"  the window without the CLI in front (run_app): {direct:7.0f} ms  ({direct / base:.2f}×)"
    )
    print(
        f"etcbook first page with its data:              {data:7.0f} ms  ({data / base:.2f}×)"
        "   (goal ≤ 3)"
    )
    print(
        f"  … and with its charts drawn:                 {charts:7.0f} ms  ({charts / base:.2f}×)"
    )
    print(
        f"month filter on the trips page ({filter_figures['rows_in_a_month']:,} rows of "
        f"{filter_figures['all_rows']:,}): {filter_figures['month_filter_ms']:.1f} ms median, "
        f"{filter_figures['month_filter_max_ms']:.1f} ms max, CPU time "
        f"{filter_figures['month_filter_cpu_ms']:.1f} ms   (goal < 100 ms)"
    )
    print(
        f"clearing the filter (all {filter_figures['all_rows']:,} rows): "
        f"{filter_figures['all_rows_ms']:.1f} ms; jump to the last row: "
        f"{filter_figures['jump_to_last_row_ms']:.1f} ms; pages fetched in all: "
        f"{filter_figures['page_fetches']}"
    )
    from benchkit import report_result  # the RESULT lines for run_all.py

    report_result(
        f"main window shown, {args.trips:,} trips",
        etcbook_s=ours / 1000,
        baseline_s=base / 1000,
        goal="ratio <= 1.5",
        met=ours / base <= 1.5,
        first_page_with_data_s=data / 1000,
    )
    report_result(
        f"first page with its data, {args.trips:,} trips",
        etcbook_s=data / 1000,
        baseline_s=base / 1000,
        goal="ratio <= 3.0",
        met=data / base <= 3.0,
        with_charts_s=round(charts / 1000, 3),
    )
    report_result(
        f"month filter on the trips page, {filter_figures['all_rows']:,} rows",
        etcbook_s=filter_figures["month_filter_ms"] / 1000,
        baseline_s=None,
        goal="< 100 ms",
        met=filter_figures["month_filter_ms"] < 100,
        cpu_ms=round(filter_figures["month_filter_cpu_ms"], 1),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
