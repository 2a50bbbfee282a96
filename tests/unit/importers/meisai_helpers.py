"""Building 明細CSV bytes in tests (the real layouts, CRLF, cp932 unless told otherwise)."""

from __future__ import annotations

HEADER_13 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,車種,車両番号,ＥＴＣカード番号,備考"
)
HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)
COLUMNS_15 = HEADER_15.split(",")
COLUMNS_13 = HEADER_13.split(",")

CARD = "*******123456789"
"""A masked card number; its last 4 are 6789."""


def row15(
    *,
    entry: str = "24/11/05 08:54",
    exit: str = "24/11/05 10:51",
    entry_ic: str = "静岡",
    exit_ic: str = "浜松",
    before: str = "",
    discount: str = "",
    toll: str = "1000",
    rebate: str = "0",
    deferred: str | None = None,
    vehicle_class: str = "1",
    vehicle_number: str = "1234",
    card: str = CARD,
    remarks: str = "確定",
) -> str:
    """One 15-column row; ``entry``/``exit`` are ``YY/MM/DD HH:MM`` (entry may be "")."""
    entry_d, _, entry_t = entry.partition(" ")
    exit_d, _, exit_t = exit.partition(" ")
    if deferred is None:
        try:
            deferred = str(int(toll.replace("－", "-")) - int(rebate or 0))
        except ValueError:
            deferred = toll
    return ",".join(
        [
            entry_d,
            entry_t,
            exit_d,
            exit_t,
            entry_ic,
            exit_ic,
            before,
            discount,
            toll,
            rebate,
            deferred,
            vehicle_class,
            vehicle_number,
            card,
            remarks,
        ]
    )


def row13(**fields: str) -> str:
    """One 13-column row (the 15-column row without 還元額適用料金 and 後納料金)."""
    cells = row15(**fields).split(",")  # type: ignore[arg-type]
    return ",".join(cells[:9] + cells[11:])


def meisai(
    rows: list[str], *, header: str = HEADER_15, encoding: str = "cp932", newline: str = "\r\n"
) -> bytes:
    """A whole file: header, rows, a final newline."""
    return (newline.join([header, *rows]) + newline).encode(encoding)
