"""Invented trips and the golden journal files written from them (one per product and option).

Used by the golden-file test and by tests/data/export/journal/regenerate.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from etcbook.domain.claims import ClaimLine
from etcbook.domain.journal import (
    Booking,
    CreditKind,
    CreditSide,
    JournalSettings,
    JournalTrip,
    Treatment,
    book,
    credit_side_from,
)
from etcbook.export.journal import JournalFormat, Product

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "data" / "export" / "journal"
CARD = "1234"


def line(
    day: int,
    entry_ic: str,
    exit_ic: str,
    toll: int,
    *,
    rebate: int = 0,
    share: int = 100,
    purpose: str = "客先訪問",
) -> ClaimLine:
    return ClaimLine(
        exit_at=dt.datetime(2025, 9, day, 18, 30),
        entry_ic=entry_ic,
        exit_ic=exit_ic,
        operator="NEXCO",
        vehicle="CarA",
        purpose=purpose,
        toll=toll,
        rebate_applied=rebate,
        business_share=share,
    )


TRIPS: tuple[JournalTrip, ...] = (
    *(
        JournalTrip(trip_id=trip_id, card=CARD, status=status, line=ln)
        for trip_id, status, ln in (
            (101, "確定", line(14, "東京", "横浜青葉", 1320)),
            (
                102,
                "確定",
                line(15, "厚木", "静岡", 3110, share=80, purpose="納品（私用分20%除く）"),
            ),
            (103, "確定", line(16, "静岡", "浜松", 1530, rebate=300)),
            (104, "確定", line(17, "", "大師", 1050, purpose="首都高 単一料金所")),
            (105, "確定", line(18, "吹田", "岡山", -1050, purpose="料金の訂正")),
            (106, "確定", line(19, "東京", "霞が関", 800, rebate=800)),
            (107, None, line(20, "名古屋", "一宮", 620, purpose='展示会, "搬入"')),
            (
                108,
                "確定",
                line(
                    21,
                    "仙台宮城",
                    "松島海岸",
                    930,
                    share=33,
                    purpose="東北支店の定例会議と倉庫の棚卸しの立会い、帰りに取引先へ挨拶",
                ),
            ),
            (109, "確認中", line(22, "東京", "川崎", 460)),
            (110, "確定", line(23, "東京", "八王子", 990, share=0, purpose="私用")),
        )
    ),
    JournalTrip(
        trip_id=111, card=CARD, status="確定", line=None, flags=("passage",), business_share=100
    ),
    JournalTrip(trip_id=112, card=CARD, status="確定", line=None, flags=("passage",)),
)
"""Whole, part-business, rebate, single gate, negative, fully rebated, hand-entered with a
comma and quotes, long purpose, provisional, private, and passage rows without a toll (one
marked as business, one not)."""


def credit(kind: CreditKind, **values: str) -> CreditSide:
    return credit_side_from(
        {"credit": str(kind), **values}, card_last4=CARD, card_kind="credit", holder="山田太郎"
    )


@dataclass(frozen=True)
class Case:
    """One golden file: the format, the settings and how the card is paid."""

    name: str
    fmt: JournalFormat
    settings: JournalSettings
    credit: CreditSide

    @property
    def path(self) -> Path:
        return GOLDEN_DIR / f"{self.name}.csv"

    def booking(self) -> Booking:
        return book(TRIPS, self.settings, {CARD: self.credit})


DEFAULT = JournalSettings()
CASES: tuple[Case, ...] = (
    Case("yayoi_company", JournalFormat(Product.YAYOI), DEFAULT, credit(CreditKind.COMPANY)),
    Case(
        "yayoi_private_exclusive_income",
        JournalFormat(Product.YAYOI),
        JournalSettings(accounting="税抜", treatment=Treatment.INCOME, debit_sub="高速代"),
        credit(CreditKind.PRIVATE),
    ),
    Case(
        "yayoi_next_utf-8",
        JournalFormat(Product.YAYOI, encoding="utf-8", yayoi_next=True),
        JournalSettings(treatment=Treatment.BILLED, department="営業部"),
        credit(CreditKind.EMPLOYEE, credit_account="未払費用"),
    ),
    Case(
        "yayoi_next_cp932",
        JournalFormat(Product.YAYOI, yayoi_next=True),
        DEFAULT,
        credit(CreditKind.COMPANY),
    ),
    Case(
        "freee_private_settled", JournalFormat(Product.FREEE), DEFAULT, credit(CreditKind.PRIVATE)
    ),
    Case(
        "freee_company_unsettled_utf-8",
        JournalFormat(Product.FREEE, encoding="utf-8"),
        DEFAULT,
        credit(CreditKind.COMPANY),
    ),
    Case(
        "freee_income",
        JournalFormat(Product.FREEE),
        JournalSettings(treatment=Treatment.INCOME),
        credit(CreditKind.COMPANY, **{"freee.wallet": "ETCカード"}),
    ),
    Case("mf_company", JournalFormat(Product.MF), DEFAULT, credit(CreditKind.COMPANY)),
    Case(
        "mf_employee_utf-8",
        JournalFormat(Product.MF, encoding="utf-8"),
        JournalSettings(mf_invoice=""),
        credit(CreditKind.EMPLOYEE),
    ),
    Case(
        "mf_private_income",
        JournalFormat(Product.MF),
        JournalSettings(treatment=Treatment.INCOME, rebate_account="事業主借"),
        credit(CreditKind.PRIVATE),
    ),
)
