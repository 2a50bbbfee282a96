"""The planted month of the reconciliation tests (issue 7, "done when")."""

from __future__ import annotations

Row = tuple[str, str, str, int, str]

PLANTED_MAY: list[Row] = [("2025-05-12T10:00", "東京", "名古屋", 20_000, "確定")]
"""2,000P granted on 2025-06-20: enough for the unrecorded 2,000P → 1,000円 exchange."""

PLANTED_JULY: list[Row] = [
    ("2025-07-01T07:40", "厚木", "横浜町田", 930, "確定;（朝夕）"),
    ("2025-07-02T07:38", "厚木", "横浜町田", 930, "確定;（朝夕）"),
    ("2025-07-03T07:41", "厚木", "横浜町田", 930, "確定;（朝夕）"),
    ("2025-07-04T07:35", "厚木", "横浜町田", 930, "確定;（朝夕）"),
    ("2025-07-07T07:44", "厚木", "横浜町田", 930, "確定;（朝夕）"),
    ("2025-07-12T11:20", "東京", "静岡", 2347, "確定"),
    ("2025-07-19T15:05", "静岡", "浜松", 1288, "確定"),
    ("2025-07-26T10:10", "浜松", "名古屋", 3569, "確定"),
]
"""July 2025: five counted 朝夕割 trips (30 % → 1,395円 on 2025-08-20) and three trips whose
billed amounts leave 7 + 8 + 9 yen below the 10円 unit (2 points of rounding on the total)."""
