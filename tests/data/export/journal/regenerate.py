"""Writes the golden journal files in this folder from tests/unit/export/journal_cases.py.

Run it after a deliberate change of the writers and review the diff before committing; the
tests compare the committed bytes and never call this script.

    python tests/data/export/journal/regenerate.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT))

from etcbook.export.journal import render_journal  # noqa: E402
from tests.unit.export.journal_cases import CASES  # noqa: E402

for case in CASES:
    case.path.write_bytes(render_journal(case.booking().entries, case.settings, case.fmt))
    print(case.path.relative_to(ROOT))
