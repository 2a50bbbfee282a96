"""What every benchmark prints last: one ``RESULT {json}`` line that ``run_all.py`` collects.

Use it at the end of a benchmark's ``main``::

    from benchkit import report_result  # benchmarks/ is on sys.path when a benchmark runs

    report_result(
        "import 100k rows",      # job: what was timed, short
        etcbook_s=1.84,          # etcbook's time for the job, seconds
        baseline_s=0.95,         # the baseline measured in the same run, seconds (or None)
        peak_mb=88.0,            # peak memory of the etcbook side, MB (or None: run_all
                                 # then shows the benchmark process's own peak)
        goal="ratio <= 2.0",     # the goal, as text (or None)
        met=True,                # whether the goal was met (or None)
        rows=100_000,            # anything else worth keeping: plain JSON values
    )

See benchmarks/README.md for the convention.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

RESULT_PREFIX = "RESULT "


def peak_rss_mb(*, children: bool = False) -> float | None:
    """Peak resident memory of this process (or of its largest waited-for child), in MB;
    None where the platform does not say (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS
    return usage.ru_maxrss / 1e6 if sys.platform == "darwin" else usage.ru_maxrss / 1024


def _number(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 6)


def report_result(
    job: str,
    *,
    etcbook_s: float,
    baseline_s: float | None,
    peak_mb: float | None = None,
    goal: str | None = None,
    met: bool | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Print the ``RESULT {json}`` line (the benchmark's last line on stdout) and return it."""
    ratio = None
    if baseline_s:
        ratio = etcbook_s / baseline_s
    result = {
        "job": job,
        "etcbook_s": _number(etcbook_s),
        "baseline_s": _number(baseline_s),
        "ratio": _number(ratio),
        "peak_mb": _number(peak_mb),
        "goal": goal,
        "met": met,
        **({"extra": extra} if extra else {}),
    }
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return result
