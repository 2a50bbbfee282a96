"""Run every benchmark in this folder and collect their figures into one table.

Each ``benchmarks/*.py`` (except this file, ``benchkit.py`` and names starting with ``_``) runs
in its own process with its default settings, printing its own figures as it goes; its last
``RESULT {json}`` line (see benchmarks/README.md) gives one or more rows of the table:

    job | etcbook | baseline | ratio | peak memory | goal

    python benchmarks/run_all.py                       # all of them, table on stdout
    python benchmarks/run_all.py --only import_100k status
    python benchmarks/run_all.py --out benchmarks/out/results.md --json benchmarks/out/results.json

Exit status 0 when every benchmark ran and reported, 1 otherwise (the table says which).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULT_PREFIX = "RESULT "
NOT_BENCHMARKS = {"run_all", "benchkit"}


@dataclass
class Outcome:
    """One benchmark's run: its RESULT rows, or why there are none."""

    name: str
    seconds: float
    returncode: int | None
    process_peak_mb: float | None
    results: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None


def discover(folder: Path = HERE) -> list[Path]:
    return sorted(
        p
        for p in folder.glob("*.py")
        if p.stem not in NOT_BENCHMARKS and not p.stem.startswith("_")
    )


def parse_results(stdout: str) -> list[dict[str, Any]]:
    """Every ``RESULT {json}`` line on stdout, in order (a benchmark may report several jobs)."""
    results = []
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line[len(RESULT_PREFIX) :])
            if not isinstance(data, dict) or not isinstance(data.get("job"), str):
                raise ValueError(f"RESULT line without a job: {line}")
            results.append(data)
    return results


def _wait_with_peak(
    process: subprocess.Popen[str], timeout: float
) -> tuple[int | None, float | None]:
    """Wait for ``process``; its exit status and peak memory (largest process in its tree, MB)."""
    deadline = time.monotonic() + timeout
    if hasattr(os, "wait4"):
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                scale = 1e6 if sys.platform == "darwin" else 1024
                return process.returncode, usage.ru_maxrss / scale
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                return None, None
            time.sleep(0.05)
    try:
        return process.wait(timeout=timeout), None
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None, None


def run_one(path: Path, *, timeout: float, echo: bool = True) -> Outcome:
    """Run one benchmark, echoing its output (on stderr) and keeping its RESULT rows."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "PYTHONUNBUFFERED": "1",
    }
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    lines: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if echo and not line.startswith(RESULT_PREFIX):
                sys.stderr.write(f"  {path.stem}: {line}")
                sys.stderr.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    returncode, peak = _wait_with_peak(process, timeout)
    reader.join(timeout=10)
    assert process.stdout is not None
    process.stdout.close()
    outcome = Outcome(path.stem, time.monotonic() - started, returncode, peak)
    try:
        outcome.results = parse_results("".join(lines))
    except ValueError as exc:
        outcome.problem = str(exc)
    if returncode is None:
        outcome.problem = f"no answer within {timeout:.0f} s (stopped)"
    elif returncode != 0:
        outcome.problem = f"exit status {returncode}"
    elif not outcome.results and outcome.problem is None:
        outcome.problem = "no RESULT line (see benchmarks/README.md)"
    return outcome


def _seconds(value: Any) -> str:
    if value is None:
        return "–"
    value = float(value)
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table of every row reported (and of every benchmark that failed)."""
    head = "| job | etcbook | baseline | ratio | peak memory | goal | benchmark |"
    lines = [head, "|---|---:|---:|---:|---:|---|---|"]
    for outcome in outcomes:
        for result in outcome.results:
            ratio = result.get("ratio")
            peak = result.get("peak_mb")
            peak_text = (
                f"{peak:.0f} MB"
                if peak is not None
                else (
                    f"{outcome.process_peak_mb:.0f} MB (process)"
                    if outcome.process_peak_mb
                    else "–"
                )
            )
            goal = result.get("goal") or ""
            met = result.get("met")
            if goal and met is not None:
                goal = f"{goal}: {'met' if met else 'NOT met'}"
            lines.append(
                f"| {result['job']} | {_seconds(result.get('etcbook_s'))}"
                f" | {_seconds(result.get('baseline_s'))}"
                f" | {'–' if ratio is None else f'{ratio:.2f}'}"
                f" | {peak_text} | {goal} | {outcome.name} |"
            )
        if outcome.problem:
            lines.append(f"| {outcome.name}: {outcome.problem} | | | | | | {outcome.name} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="benchmark names (file stems)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per benchmark")
    parser.add_argument("--dir", type=Path, default=HERE, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    parser.add_argument("--json", type=Path, help="also write every RESULT row here as JSON")
    parser.add_argument("--quiet", action="store_true", help="do not echo the benchmarks' output")
    args = parser.parse_args(argv)

    paths = discover(args.dir)
    if args.only:
        unknown = set(args.only) - {p.stem for p in paths}
        if unknown:
            parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")
        paths = [p for p in paths if p.stem in args.only]
    outcomes = []
    for path in paths:
        sys.stderr.write(f"== {path.name}\n")
        sys.stderr.flush()
        outcome = run_one(path, timeout=args.timeout, echo=not args.quiet)
        sys.stderr.write(
            f"== {path.name}: {outcome.seconds:.1f} s{', ' + outcome.problem if outcome.problem else ''}\n"
        )
        outcomes.append(outcome)
    rendered = table(outcomes)
    print(rendered)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(rendered + "\n", encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            {"benchmark": o.name, "process_peak_mb": o.process_peak_mb, **r}
            for o in outcomes
            for r in o.results
        ]
        problems = [{"benchmark": o.name, "problem": o.problem} for o in outcomes if o.problem]
        args.json.write_text(
            json.dumps({"results": rows, "problems": problems}, ensure_ascii=False, indent=2)
            + "\n",
            encoding="utf-8",
        )
    return 0 if all(o.problem is None for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
