"""A deterministic, invented claim for tests, the benchmark and previews.

No real people, cards or trips.
"""

from __future__ import annotations

import datetime as dt

from etcbook.domain.claims import AttachedOriginal, Claim, ClaimHeader, ClaimLine

_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("松島海岸", "富士", "NEXCO中日本"),
    ("高崎", "厚木", "NEXCO東日本"),
    ("広島", "小牧", "NEXCO西日本"),
    ("前橋", "高崎", "NEXCO東日本"),
    ("", "本線料金所（本線）", "NEXCO中日本"),
    ("東京外環自動車道 三郷南", "新空港（成田空港方面）", "NEXCO東日本"),
    ("坂出", "鳴門", "本四高速"),
    ("名古屋西", "楠", "名古屋高速"),
)
_PURPOSES: tuple[str, ...] = (
    "顧客訪問（株式会社サンプル商事）",
    "現場立会い",
    "展示会搬入",
    "本社会議",
    "=営業会議（社外）",
)
_TOLLS: tuple[int, ...] = (3960, 3750, 1530, 840, 1050, 2410, 1300, 780, 6550, 430)
_SHARES: tuple[int, ...] = (100, 100, 80, 100, 50, 100, 80, 100, 100, 33)


def sample_lines(count: int, *, year: int = 2025, month: int = 11) -> tuple[ClaimLine, ...]:
    """``count`` invented trips spread over one month, in exit-time order."""
    lines = []
    start = dt.datetime(year, month, 1, 6, 0)
    for i in range(count):
        entry, exit_ic, operator = _ROUTES[i % len(_ROUTES)]
        exit_at = start + dt.timedelta(minutes=(i * 29 * 24 * 60) // max(count, 1) + 37)
        toll = _TOLLS[i % len(_TOLLS)]
        rebate = min(toll, (300, 0, 0, 540, 0, 0, 1300, 0, 0, 0)[i % 10])
        lines.append(
            ClaimLine(
                exit_at=exit_at,
                entry_at=exit_at - dt.timedelta(minutes=45 + i % 90) if entry else None,
                entry_ic=entry,
                exit_ic=exit_ic,
                operator=operator,
                vehicle=("CarA", "CarB", "1234")[i % 3],
                purpose=_PURPOSES[i % len(_PURPOSES)],
                toll=toll,
                rebate_applied=rebate,
                business_share=_SHARES[i % len(_SHARES)],
            )
        )
    return tuple(lines)


def sample_header(*, year: int = 2025, month: int = 11) -> ClaimHeader:
    """An invented claimant for a one-month claim."""
    first = dt.date(year, month, 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return ClaimHeader(
        claimant="山田 太郎",
        department="営業部 第二課",
        holder="ヤマダ タロウ",
        card_last4="1234",
        period_start=first,
        period_end=last,
        mileage_id="ML-0000-1234",
        prepared_on=dt.date(year, month, 28) + dt.timedelta(days=5),
        private_use_basis="業務日誌の記載により、私用を含む走行は業務使用割合を按分しています。",
    )


def sample_claim(count: int = 24, *, year: int = 2025, month: int = 11) -> Claim:
    """An invented claim with ``count`` trips and two attached originals."""
    return Claim(
        header=sample_header(year=year, month=month),
        lines=sample_lines(count, year=year, month=month),
        attachments=(
            AttachedOriginal(
                file_name=f"{year:04d}-{month:02d}_CARD1234_CarA_請求.pdf",
                kind="statement",
                size=182_345,
                sha256="9f2c" + "0" * 56 + "beef",
            ),
            AttachedOriginal(
                file_name=f"{year:04d}-{month:02d}_CARD1234_明細.csv",
                kind="detail_csv",
                size=4_210,
                sha256="a1b2c3d4" * 8,
            ),
        ),
    )
