"""Writes the golden claim CSV in this folder from the current code, for a human to review.

``claim_2025-11.csv`` is the claim CSV of ``golden_claim()`` (tests/unit/export/test_claim_csv.py):
12 invented trips and one hostile row. Its amounts were derived by hand from DOMAIN.md's rules
(差引後 = toll − rebate applied; 精算額 = 差引後 × 業務割合 %, rounded down per trip) and
checked against this file; after a change to the export, rerun this script and review the diff
before committing. Tests never call this script: they only read the committed file.

    python tests/data/export/regenerate.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
GOLDEN = HERE / "claim_2025-11.csv"


def main() -> int:
    sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit" / "export")]
    from test_claim_csv import golden_claim

    from etcbook.export.claim_csv import claim_csv_bytes

    GOLDEN.write_bytes(claim_csv_bytes(golden_claim()))
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
