"""Smoke job for an installed or frozen etcbook, run from a folder outside the checkout.

    python packaging/smoke.py --work DIR -- COMMAND...      # e.g. -- dist/etcbook/etcbook

COMMAND is how a user starts etcbook there (``venv/bin/etcbook``, ``dist/etcbook/etcbook``).
In DIR (a folder with a space and a Japanese name is used below it) it runs:

1. ``etcbook --db STORE demo``: the sample store, its vault and sample originals;
2. ``status --json``: one JSON document with the three sample cards;
3. ``import 明細.csv --json``: a real-format 明細CSV (cp932) copied from tests/data;
4. ``report --card 9012 … --out D --json``: the claim PDF, CSV and ZIP; the PDF must embed
   IPAexGothic (a FontFile2 subset), checked with pypdf;
5. the window on the store, offscreen: it must claim the store (its lock file names its
   process, the first thing the window does once shown), draw the dashboard's charts (checked
   on Linux: matplotlib's font renderer is loaded in the process), write no traceback (a failed
   operation writes one to stderr) and still run a few seconds later.

The environment has no PYTHONPATH, ETCBOOK_DB or user folders of the caller: nothing of the
checkout can be imported by accident. Raises SmokeFailure (exit 1) naming the step that failed;
prints each step's time. tests/install/test_wheel_install.py, .ci/run, the GitHub workflow
and benchmarks/packaging.py use it; build_wheel and install_wheel make the wheel and its
environment as a user would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEISAI = ROOT / "tests" / "data" / "meisai" / "15col.csv"
CLAIM_CARD = "9012"
"""The sample's corporate card: its trips carry business shares, so a claim has lines."""


class SmokeFailure(RuntimeError):
    """A step of the smoke job failed; the message says which and shows its output."""


_CHECKOUT_VARIABLES = {"PYTHONPATH", "PYTHONHOME", "ETCBOOK_DB", "VIRTUAL_ENV", "PYTHONSTARTUP"}

_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "out", "sample-store"
)


def build_wheel(source: Path, outdir: Path) -> Path:
    """``python -m build --wheel`` on a copy of the checkout (nothing is written into it)."""
    copy = outdir.parent / "source"
    shutil.copytree(source, copy, ignore=_NOT_SOURCE)
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(copy)],
        env=_without_checkout(dict(os.environ)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise SmokeFailure(
            f"python -m build --wheel: exit {done.returncode}\n{done.stderr[-4000:]}"
        )
    (wheel,) = outdir.glob("etcbook-*.whl")
    return wheel


def venv_bin(venv: Path) -> Path:
    """The folder of a virtual environment's programs (bin, or Scripts on Windows)."""
    return venv / ("Scripts" if os.name == "nt" else "bin")


def _without_checkout(env: dict[str, str]) -> dict[str, str]:
    """``env`` without the variables that would let a child import or see the checkout."""
    return {k: v for k, v in env.items() if k not in _CHECKOUT_VARIABLES}


def install_wheel(wheel: Path, venv: Path) -> Path:
    """A new virtual environment with ``wheel`` installed (pip may use its cache); its bin folder.

    Without PYTHONPATH: a checkout on it (benchmarks/run_all.py puts it there) would show pip
    the editable install's metadata, and pip would skip the wheel as already installed."""
    env = _without_checkout(dict(os.environ))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, env=env)
    python = venv_bin(venv) / ("python.exe" if os.name == "nt" else "python")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise SmokeFailure(
            f"pip install {wheel.name}: exit {done.returncode}\n{done.stderr[-4000:]}"
        )
    return venv_bin(venv)


def clean_env(work: Path) -> dict[str, str]:
    """The caller's environment without anything pointing into the checkout or the user's data:
    user folders (QSettings, the sample store) go below ``work``; Qt runs offscreen."""
    env = _without_checkout(dict(os.environ))
    home = work / "home"
    for name in ("config", "data", "cache"):
        (home / name).mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "QT_QPA_PLATFORM": "offscreen",
            "QT_LOGGING_RULES": "qt.qpa.*=false",
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "MPLCONFIGDIR": str(home / "cache" / "matplotlib"),
        }
    )
    return env


def run(
    command: Sequence[str], args: Sequence[str], *, cwd: Path, env: dict[str, str], step: str
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise SmokeFailure(
            f"{step}: exit {done.returncode}\n$ {' '.join([*command, *args])}\n"
            f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
        )
    return done


def run_json(
    command: Sequence[str], args: Sequence[str], *, cwd: Path, env: dict[str, str], step: str
) -> dict[str, object]:
    done = run(command, args, cwd=cwd, env=env, step=step)
    try:
        document = json.loads(done.stdout)
    except ValueError as exc:
        raise SmokeFailure(
            f"{step}: stdout is not one JSON document ({exc}):\n{done.stdout}"
        ) from exc
    if not isinstance(document, dict):
        raise SmokeFailure(f"{step}: expected a JSON object, got {type(document).__name__}")
    return document


def embedded_fonts(pdf: Path) -> set[str]:
    """Base names of the fonts whose program is embedded in ``pdf`` (FontFile, 2 or 3)."""
    from pypdf import PdfReader

    found: set[str] = set()
    for page in PdfReader(pdf).pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        for ref in (fonts.get_object() if fonts is not None else {}).values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            for candidate in [font, *(d.get_object() for d in (descendants or []))]:
                descriptor = candidate.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    found.add(str(candidate.get("/BaseFont", "")).lstrip("/"))
    return found


def _lock_holder(lock: Path) -> object:
    """The holder details a window wrote into its store's lock file (JSON after byte 0, which
    Windows keeps locked: it is not read), or None."""
    try:
        with lock.open("rb") as handle:
            handle.seek(1)
            return json.loads(handle.read(4096).decode("utf-8").strip() or "null")
    except (OSError, ValueError):
        return None


def _charts_drawn(pid: int) -> bool | None:
    """Whether process ``pid`` has loaded matplotlib's font renderer (the dashboard drew its
    charts, so numpy and matplotlib load in it); None where /proc does not say (not Linux)."""
    maps = Path(f"/proc/{pid}/maps")
    try:
        return "ft2font" in maps.read_text(errors="replace")
    except OSError:
        return None


def wait_for_window(
    command: Sequence[str],
    store: Path,
    *,
    cwd: Path,
    env: dict[str, str],
    stay_s: float,
    charts: bool = False,
) -> float:
    """Start the window on ``store``; return seconds from the spawn until it claimed the store.

    The window claims its store right after it is first shown (the lock file beside the store
    then holds the process id). With ``charts``, on Linux, it must then draw the dashboard's
    charts within 90 s. It must still be running ``stay_s`` seconds later, and have written no
    traceback (a failed operation writes its details to stderr).
    """
    lock = store.with_name(store.name + ".lock")
    with tempfile.TemporaryDirectory(prefix="etcbook-window-") as folder:
        err_path = Path(folder) / "stderr.txt"

        def failed() -> bool:
            return "Traceback" in err_path.read_text(encoding="utf-8", errors="replace")

        with err_path.open("wb") as err_handle:
            started = time.perf_counter()
            process = subprocess.Popen(
                [*command, "--db", str(store)],
                cwd=cwd,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err_handle,
            )
            shown: float | None = None
            drawn: bool | None = None
            try:
                deadline = started + 120
                while shown is None and time.perf_counter() < deadline and process.poll() is None:
                    holder = _lock_holder(lock)
                    if isinstance(holder, dict) and holder.get("pid") == process.pid:
                        shown = time.perf_counter() - started
                    else:
                        time.sleep(0.005)
                if shown is not None and charts:
                    deadline = time.perf_counter() + 90
                    while time.perf_counter() < deadline and process.poll() is None:
                        drawn = _charts_drawn(process.pid)
                        if drawn is not False or failed():
                            break
                        time.sleep(0.1)
                if shown is not None:
                    time.sleep(stay_s)
                alive = process.poll() is None
            finally:
                if process.poll() is None:
                    process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        err = err_path.read_text(encoding="utf-8", errors="replace")
    problem = None
    if shown is None:
        problem = "never claimed its store"
    elif "Traceback" in err:
        problem = "wrote a traceback"
    elif drawn is False:
        problem = "the dashboard drew no chart (matplotlib did not load)"
    elif not alive:
        problem = "did not stay up"
    if problem:
        raise SmokeFailure(
            f"window: {problem} (exit {process.returncode})\n--- stderr\n{err[-4000:]}"
        )
    return shown


def claim_period(trips: object) -> tuple[dt.date, dt.date]:
    """The last month in which the claim card has business trips: (first day, last day)."""
    if not isinstance(trips, list):
        raise SmokeFailure("trips: no list of trips")
    business = [t["exit_at"] for t in trips if t.get("business_share")]
    if not business:
        raise SmokeFailure(f"trips: card {CLAIM_CARD} has no business trips")
    last = dt.date.fromisoformat(max(business)[:10])
    first = last.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def smoke(command: Sequence[str], work: Path, *, stay_s: float = 3.0) -> dict[str, float]:
    """Run every step in ``work``; return each step's seconds (and the window's start time)."""
    folder = work / "作業 フォルダ"
    folder.mkdir(parents=True, exist_ok=True)
    env = clean_env(work)
    store = folder / "ストア" / "etcbook.sqlite3"
    store.parent.mkdir(exist_ok=True)
    db = ["--db", str(store)]
    times: dict[str, float] = {}

    def timed(name: str, begin: float) -> None:
        times[name] = time.perf_counter() - begin
        print(f"  {name}: {times[name]:.1f} s", file=sys.stderr, flush=True)

    begin = time.perf_counter()
    run(command, [*db, "demo"], cwd=folder, env=env, step="demo")
    timed("demo", begin)

    begin = time.perf_counter()
    status = run_json(command, [*db, "status", "--json"], cwd=folder, env=env, step="status")
    cards = sorted(c["card"] for c in status.get("cards", []))  # type: ignore[attr-defined]
    if CLAIM_CARD not in cards or len(cards) != 3:
        raise SmokeFailure(f"status: expected the three sample cards, got {cards}")
    timed("status", begin)

    begin = time.perf_counter()
    csv = folder / "明細 2024-11.csv"
    shutil.copyfile(MEISAI, csv)
    imported = run_json(
        command, [*db, "import", str(csv), "--json"], cwd=folder, env=env, step="import"
    )
    if not imported.get("committed") or not imported.get("inserted"):
        raise SmokeFailure(f"import: nothing stored: {imported}")
    timed("import", begin)

    begin = time.perf_counter()
    trips = run_json(
        command, [*db, "trips", "--card", CLAIM_CARD, "--json"], cwd=folder, env=env, step="trips"
    )["trips"]
    first, last = claim_period(trips)
    out = folder / "精算書"
    period = ["--from", str(first), "--to", str(last)]
    claim = run_json(
        command,
        [*db, "report", "--card", CLAIM_CARD, *period, "--out", str(out), "--json"],
        cwd=folder,
        env=env,
        step="report",
    )
    pdf = Path(str(claim.get("pdf")))
    if not pdf.is_file() or not Path(str(claim.get("bundle"))).is_file():
        raise SmokeFailure(f"report: files missing: {claim}")
    fonts = embedded_fonts(pdf)
    if not any(name.endswith("IPAexGothic") for name in fonts):
        raise SmokeFailure(f"report: IPAexGothic is not embedded in {pdf.name} (embedded: {fonts})")
    timed("report", begin)

    times["window_shown"] = wait_for_window(
        command, store, cwd=folder, env=env, stay_s=stay_s, charts=True
    )
    print(f"  window claimed its store after {times['window_shown']:.2f} s", file=sys.stderr)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="an empty folder to work in")
    parser.add_argument("command", nargs="+", help="how to start etcbook (after --)")
    args = parser.parse_args(argv)
    program = Path(args.command[0])
    if not program.exists() and program.with_suffix(".exe").exists():
        program = program.with_suffix(".exe")  # dist/etcbook/etcbook on Windows
    command = [str(program.absolute()) if program.exists() else args.command[0], *args.command[1:]]
    try:
        times = smoke(command, args.work.absolute())
    except SmokeFailure as exc:
        print(f"smoke job failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
