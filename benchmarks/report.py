"""Benchmark: a 1,000-trip claim PDF against a bare reportlab table of the same rows and font.

Both are built in this run, alternately, several times; the medians are compared.
Goal: the claim under 3 s and at most 1.3 × the bare table.

    PYTHONPATH=. python benchmarks/report.py [--trips 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Table

from etcbook.domain.claims import Claim
from etcbook.export.claim_pdf import (
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    TABLE_FONT_SIZE,
    TRIP_COLUMNS,
    claim_pdf_bytes,
    yen,
)
from etcbook.export.fonts import register_japanese_font
from etcbook.export.sample import sample_claim

GOAL_SECONDS = 3.0
GOAL_RATIO = 1.3


def bare_rows(claim: Claim) -> list[list[str]]:
    """The same cells as the claim's trip table, unwrapped."""
    rows = [[label.replace("\n", "") for label, _ in TRIP_COLUMNS]]
    for line in claim.lines:
        rows.append(
            [
                line.exit_at.strftime("%Y/%m/%d %H:%M"),
                line.route,
                line.operator,
                line.vehicle,
                line.purpose,
                yen(line.toll),
                yen(line.rebate_applied),
                yen(line.billed),
                f"{line.business_share}%",
                yen(line.claimed),
            ]
        )
    return rows


def bare_table_pdf(rows: list[list[str]], font: str) -> bytes:
    """The baseline: one reportlab Table, same rows, font, column widths and margins."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
    )
    table = Table(rows, colWidths=[width for _, width in TRIP_COLUMNS], repeatRows=1)
    table.setStyle([("FONT", (0, 0), (-1, -1), font, TABLE_FONT_SIZE)])
    doc.build([table])
    return buffer.getvalue()


def timed(job: object) -> float:
    start = time.perf_counter()
    job()  # type: ignore[operator]
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    font = register_japanese_font()  # parse the .ttf once, outside both timings
    claim = sample_claim(args.trips)
    rows = bare_rows(claim)
    claim_pdf_bytes(sample_claim(5))  # warm imports and caches for both
    bare_table_pdf(rows[:5], font)

    ours: list[float] = []
    base: list[float] = []
    for _ in range(args.repeat):
        base.append(timed(lambda: bare_table_pdf(rows, font)))
        ours.append(timed(lambda: claim_pdf_bytes(claim)))
    ours_s, base_s = statistics.median(ours), statistics.median(base)
    ratio = ours_s / base_s
    runs = f"(median of {args.repeat})"
    print(f"claim PDF, {args.trips} trips (etcbook):      {ours_s:.3f} s  {runs}")
    print(f"bare reportlab table, same rows and font:  {base_s:.3f} s  {runs}")
    print(f"ratio: {ratio:.2f}  (goal ≤ {GOAL_RATIO}; etcbook goal < {GOAL_SECONDS} s)")
    met = ours_s < GOAL_SECONDS and ratio <= GOAL_RATIO
    print("goal met" if met else "goal NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
