"""Helpers of the reconciliation tests: real-format 明細CSV files written on the fly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)

Row = tuple[str, str, str, int, str]
"""(exit ``YYYY-MM-DDTHH:MM``, entry IC, exit IC, toll, 備考 such as ``確定;（朝夕）``)."""

WriteMeisai = Callable[[str, str, Sequence[Row]], Path]


@pytest.fixture
def write_meisai(tmp_path: Path) -> WriteMeisai:
    """Write a 15-column 明細CSV (cp932, CRLF) for a card; the rebate columns are left blank
    so that the engine simulates the rebate. The entry is 20 minutes before the exit."""
    import datetime as dt

    def write(name: str, card: str, rows: Sequence[Row]) -> Path:
        lines = [HEADER_15]
        for exit_text, entry_ic, exit_ic, toll, remarks in rows:
            exit_at = dt.datetime.fromisoformat(exit_text)
            entry_at = exit_at - dt.timedelta(minutes=20)
            lines.append(
                ",".join(
                    [
                        entry_at.strftime("%y/%m/%d"),
                        entry_at.strftime("%H:%M"),
                        exit_at.strftime("%y/%m/%d"),
                        exit_at.strftime("%H:%M"),
                        entry_ic,
                        exit_ic,
                        "",
                        "",
                        str(toll),
                        "",
                        "",
                        "1",
                        "1234",
                        "*" * 12 + card,
                        remarks,
                    ]
                )
            )
        path = tmp_path / name
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
        return path

    return write
