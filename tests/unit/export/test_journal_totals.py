"""The journal's total is the claim's total: for random business shares, rebates and negative
rows, the files written for each product and rebate treatment, read back with the csv module,
book exactly the 精算額 of the claim (etcbook.domain.claims) of the same trips."""

from __future__ import annotations

import csv
import datetime as dt
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from etcbook.domain.claims import ClaimLine, claimable_lines, totals_of
from etcbook.domain.journal import (
    CreditKind,
    JournalSettings,
    JournalTrip,
    Treatment,
    book,
    credit_side_from,
)
from etcbook.export.journal import JournalFormat, Product, render_journal

CARDS = {"1111": CreditKind.COMPANY, "2222": CreditKind.PRIVATE, "3333": CreditKind.EMPLOYEE}
TRAVEL = "旅費交通費"
REBATE_ACCOUNT = "雑収入"


@st.composite
def trips(draw: st.DrawFn) -> list[JournalTrip]:
    count = draw(st.integers(min_value=0, max_value=25))
    result = []
    for trip_id in range(1, count + 1):
        negative = draw(st.booleans()) and draw(st.booleans())
        if negative:
            toll = -draw(st.integers(min_value=1, max_value=20_000))
            rebate = 0
        else:
            toll = draw(st.integers(min_value=0, max_value=60_000))
            rebate = draw(st.integers(min_value=0, max_value=toll))
        line = ClaimLine(
            exit_at=dt.datetime(2025, 9, 1) + dt.timedelta(minutes=draw(st.integers(0, 43_000))),
            entry_ic=draw(st.sampled_from(["", "東京", "厚木"])),
            exit_ic="横浜青葉",
            operator="NEXCO",
            vehicle="",
            purpose=draw(st.sampled_from(["", "客先訪問", "納品, 搬入"])),
            toll=toll,
            rebate_applied=rebate,
            business_share=draw(st.sampled_from([0, 1, 33, 50, 80, 99, 100]) | st.integers(0, 100)),
        )
        card = draw(st.sampled_from(sorted(CARDS)))
        result.append(JournalTrip(trip_id=trip_id, card=card, status="確定", line=line))
    return result


def credits() -> dict[str, object]:
    return {
        card: credit_side_from(
            {"credit": str(kind), "freee.wallet": f"口座{card}"},
            card_last4=card,
            card_kind="credit",
            holder="山田太郎",
        )
        for card, kind in CARDS.items()
    }


def postings(data: bytes, fmt: JournalFormat) -> list[tuple[str, str, int]]:
    """(debit account, credit account, amount) of every line of a 弥生 or MF file."""
    rows = list(csv.reader(io.StringIO(data.decode(fmt.encoding), newline="")))
    if fmt.product is Product.MF:
        assert all(r[8] == r[16] for r in rows[1:])  # each line balances
        return [(r[2], r[10], int(r[8])) for r in rows[1:]]
    assert all(r[8] == r[14] for r in rows)
    return [(r[4], r[10], int(r[8])) for r in rows]


def net(entries: list[tuple[str, str, int]], account: str) -> int:
    return sum(a for d, _c, a in entries if d == account) - sum(
        a for _d, c, a in entries if c == account
    )


def freee_sums(data: bytes) -> tuple[int, int, int]:
    """Net 旅費交通費, net 雑収入 (as a reduction) and Σ signed 決済金額 of a freee file."""
    rows = list(csv.DictReader(io.StringIO(data.decode("cp932"), newline="")))
    travel = income = settled = 0
    sign = 1
    for row in rows:
        if row["収支区分"]:
            sign = 1 if row["収支区分"] == "支出" else -1
            settled += sign * int(row["決済金額"] or 0)
        amount = sign * int(row["金額"])
        if row["勘定科目"] == TRAVEL:
            travel += amount
        else:
            assert row["勘定科目"] == REBATE_ACCOUNT
            income -= amount
    return travel, income, settled


@settings(max_examples=120, deadline=None)
@given(trips(), st.sampled_from(list(Treatment)))
def test_journal_books_exactly_the_claim_total(
    offered: list[JournalTrip], treatment: Treatment
) -> None:
    journal_settings = JournalSettings(treatment=treatment)
    booking = book(offered, journal_settings, credits())  # type: ignore[arg-type]
    lines = [t.line for t in offered if t.line is not None]
    claimed = totals_of(claimable_lines(lines)).claimed
    rebate = sum(
        (ln.toll * ln.business_share // 100) - ln.claimed for ln in lines if ln.business_share
    )
    assert booking.total == claimed
    for fmt in (JournalFormat(Product.YAYOI), JournalFormat(Product.MF)):
        written = postings(render_journal(booking.entries, journal_settings, fmt), fmt)
        assert all(amount > 0 for _d, _c, amount in written)  # negatives become reversals
        payable = sum(
            -net(written, account) for account in {"未払金", "事業主借"}
        )  # the card sides, credited
        assert payable == claimed
        if treatment is Treatment.INCOME:
            assert net(written, TRAVEL) == claimed + rebate
            assert -net(written, REBATE_ACCOUNT) == rebate
        else:  # the journal's debit total (net of reversals) is the claim total
            assert net(written, TRAVEL) == claimed
    travel, income, settled = freee_sums(
        render_journal(booking.entries, journal_settings, JournalFormat(Product.FREEE))
    )
    assert settled == claimed
    assert travel - income == claimed
    assert income == (rebate if treatment is Treatment.INCOME else 0)
