"""A charge at an entry gate on a claim: dated by its entry, and no exit is ever shown."""

from __future__ import annotations

import datetime as dt

from etcbook.domain.claims import ClaimLine
from etcbook.export.claim_csv import row_of

ENTRY = dt.datetime(2025, 9, 9, 20, 12)


def line(**changes: object) -> ClaimLine:
    values: dict[str, object] = {
        "exit_at": ENTRY,  # the time that dates it: its entry
        "entry_at": ENTRY,
        "entry_ic": "玉出",
        "exit_ic": "",
        "operator": "阪神高速",
        "vehicle": "",
        "purpose": "営業",
        "toll": 3110,
        "rebate_applied": 0,
        "business_share": 100,
    }
    values.update(changes)
    return ClaimLine(**values)  # type: ignore[arg-type]


def test_the_route_says_it_was_charged_at_the_entry() -> None:
    assert line().charged_at_entry
    assert line().route == "玉出（入口で課金）"
    mainline = line(entry_ic="", entry_at=None, exit_ic="本線料金所")
    assert not mainline.charged_at_entry and mainline.route == "本線料金所"


def test_the_claim_csv_leaves_the_exit_time_blank() -> None:
    cells = row_of(line())
    assert cells[0] == "" and cells[1] == "2025-09-09 20:12"
    assert row_of(line(exit_ic="岸和田北", entry_ic="玉出"))[0] == "2025-09-09 20:12"
