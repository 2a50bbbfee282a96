"""Journal files: golden bytes per product and option, and every field re-read with the csv
module and checked against the format rules, from the invented trips themselves."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from etcbook.domain.journal import CreditKind, JournalTrip, Treatment
from etcbook.export.journal import (
    FREEE_HEADER,
    MF_HEADER,
    JournalFormat,
    Product,
    UnencodableText,
    render_journal,
    write_journal,
)
from tests.unit.export.journal_cases import CARD, CASES, TRIPS, Case

DATE = re.compile(r"^\d{4}/\d{2}/\d{2}$")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_written_file_matches_the_golden_file(case: Case, tmp_path: Path) -> None:
    written = write_journal(
        tmp_path / "仕訳 #1.csv", case.booking().entries, case.settings, case.fmt
    )
    assert written.read_bytes() == case.path.read_bytes(), (
        f"{case.path.name} differs: if the change is meant, run "
        "tests/data/export/journal/regenerate.py and review the diff"
    )


# -- an independent reading ------------------------------------------------------------------------


def expected_trips(case: Case) -> dict[int, dict[str, Any]]:
    """What the rules say each booked trip must carry, computed here from the raw trips."""
    wanted: dict[int, dict[str, Any]] = {}
    for trip in TRIPS:
        line = trip.line
        if line is None or trip.status == "確認中" or line.business_share == 0:
            continue
        claimed = (line.toll - line.rebate_applied) * line.business_share // 100
        gross = line.toll * line.business_share // 100
        rebate = gross - claimed if case.settings.treatment is Treatment.INCOME else 0
        if claimed == 0 and rebate == 0:
            continue
        route = f"{line.entry_ic}→{line.exit_ic}" if line.entry_ic else line.exit_ic
        wanted[trip.trip_id] = {
            "date": line.exit_at.strftime("%Y/%m/%d"),
            "claimed": claimed,
            "rebate": rebate,
            "route": route,
            "purpose": line.purpose,
        }
    return wanted


def read_rows(case: Case, folder: Path) -> list[list[str]]:
    """Write the case's file as the export does, then read it back with the csv module."""
    path = write_journal(folder / "仕訳.csv", case.booking().entries, case.settings, case.fmt)
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n") and re.search(rb"(?<!\r)\n|\r(?!\n)", raw) is None  # CRLF
    if case.fmt.encoding == "utf-8" and case.fmt.product is Product.FREEE:
        assert raw.startswith(b"\xef\xbb\xbf")
        text = raw[3:].decode("utf-8")
    else:
        assert not raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode(case.fmt.encoding)
    return list(csv.reader(io.StringIO(text, newline="")))


def trip_of(memo: str) -> int:
    match = re.fullmatch(r"etcbook:trip-(\d+)( 還元額\d+円控除)?", memo)
    assert match, memo
    return int(match.group(1))


def tax10(amount: int) -> str:
    return str(amount * 10 // 110)


def credit_account(case: Case) -> tuple[str, str]:
    kind = case.credit.kind
    default = {
        CreditKind.COMPANY: ("未払金", f"ETCカード{CARD}"),
        CreditKind.PRIVATE: ("事業主借", ""),
        CreditKind.EMPLOYEE: ("未払金", "山田太郎"),
    }[kind]
    return case.credit.account or default[0], case.credit.sub


def check_description(text: str, want: dict[str, Any], limit_bytes: int | None) -> None:
    assert text.startswith(f"ETC {want['route']}")
    if limit_bytes is not None:
        assert len(text.encode("cp932")) <= limit_bytes
        full = f"ETC {want['route']}" + (" 調整" if want["claimed"] < 0 else "")
        full += f" {want['purpose']}"
        assert full.startswith(text)
    else:
        assert text.endswith(want["purpose"])


YAYOI_CASES = [c for c in CASES if c.fmt.product is Product.YAYOI]
FREEE_CASES = [c for c in CASES if c.fmt.product is Product.FREEE]
MF_CASES = [c for c in CASES if c.fmt.product is Product.MF]


@pytest.mark.parametrize("case", YAYOI_CASES, ids=lambda c: c.name)
def test_yayoi_fields_follow_the_rules(case: Case, tmp_path: Path) -> None:
    rows = read_rows(case, tmp_path)
    wanted = expected_trips(case)
    seen: dict[int, list[list[str]]] = {}
    width = 27 if case.fmt.yayoi_next else 25
    taxed = "課対仕入内10%適格" if case.settings.accounting == "税抜" else "課対仕入込10%適格"
    payable, payable_sub = credit_account(case)
    for row in rows:
        assert len(row) == width  # no header row: every line is an entry
        assert row[0] == "2000" and row[1] == row[2] == ""
        assert DATE.match(row[3])
        assert row[8] == row[14] and int(row[8]) > 0  # balanced, positive
        assert (row[17], row[18], row[19], row[20]) == ("", "", "0", "")
        assert (row[22], row[23], row[24]) == ("0", "0", "no")
        if case.fmt.yayoi_next:
            assert row[25:] == ["", ""]
        seen.setdefault(trip_of(row[21]), []).append(row)
    assert set(seen) == set(wanted)
    for trip_id, entry_rows in seen.items():
        want = wanted[trip_id]
        travel_net = 0
        for row in entry_rows:
            assert row[3] == want["date"]
            check_description(row[16], want, 64)
            amount = int(row[8])
            debit, credit = row[4:10], row[10:16]
            for side in (debit, credit):
                if side[0] == case.settings.debit_account:
                    assert side[1] == case.settings.debit_sub
                    assert side[2] == case.settings.department
                    assert side[3] == taxed and side[5] == tax10(amount)
                else:
                    assert side[3] == "対象外" and side[5] == "0" and side[2] == ""
            if debit[0] == case.settings.debit_account:
                travel_net += amount
                assert (credit[0], credit[1]) in (
                    (payable, payable_sub),
                    (case.settings.rebate_account, ""),
                )
            else:
                assert (debit[0], debit[1]) == (payable, payable_sub)  # a reversal
                assert credit[0] == case.settings.debit_account
                travel_net -= amount
        assert travel_net == want["claimed"] + want["rebate"]


@pytest.mark.parametrize("case", FREEE_CASES, ids=lambda c: c.name)
def test_freee_fields_follow_the_rules(case: Case, tmp_path: Path) -> None:
    rows = read_rows(case, tmp_path)
    assert tuple(rows[0]) == FREEE_HEADER
    wanted = expected_trips(case)
    deals: dict[int, list[dict[str, str]]] = {}
    current = 0
    for values in rows[1:]:
        assert len(values) == 21
        row = dict(zip(FREEE_HEADER, values, strict=True))
        if row["収支区分"]:
            assert row["収支区分"] in ("支出", "収入")
            current = trip_of(row["管理番号"])
            assert DATE.match(row["発生日"])
        else:  # a further line of the same 取引
            assert row["管理番号"] == row["発生日"] == row["決済口座"] == ""
        deals.setdefault(current, []).append(row)
    assert set(deals) == set(wanted)
    for trip_id, lines in deals.items():
        want = wanted[trip_id]
        first = lines[0]
        sign = 1 if first["収支区分"] == "支出" else -1
        assert (sign < 0) == (want["claimed"] < 0)
        assert first["発生日"] == want["date"] and first["決済期日"] == ""
        total = 0
        for row in lines:
            check_description(row["備考"], want, None)
            amount = int(row["金額"])
            total += amount
            if row["勘定科目"] == case.settings.debit_account:
                assert row["税区分"] == "課対仕入10%" and row["税計算区分"] == "内税"
                assert row["税額"] == tax10(amount)
                assert sign * amount == want["claimed"] + want["rebate"]
            else:
                assert row["勘定科目"] == case.settings.rebate_account
                assert (row["税区分"], row["税額"]) == ("対象外", "0")
                assert amount == -want["rebate"] * sign
        assert sign * total == want["claimed"]
        if case.credit.wallet and want["claimed"]:
            assert first["決済口座"] == case.credit.wallet
            assert first["決済日"] == want["date"]
            assert int(first["決済金額"]) == abs(want["claimed"])
        else:  # unsettled: 未決済
            assert first["決済口座"] == first["決済日"] == first["決済金額"] == ""


@pytest.mark.parametrize("case", MF_CASES, ids=lambda c: c.name)
def test_mf_fields_follow_the_rules(case: Case, tmp_path: Path) -> None:
    rows = read_rows(case, tmp_path)
    assert tuple(rows[0]) == MF_HEADER
    wanted = expected_trips(case)
    payable, payable_sub = credit_account(case)
    numbers: dict[int, int] = {}
    travel: dict[int, int] = {}
    previous = 0
    for values in rows[1:]:
        assert len(values) == 27
        row = dict(zip(MF_HEADER, values, strict=True))
        number, trip_id = int(row["取引No"]), trip_of(row["仕訳メモ"])
        assert number in (previous, previous + 1) and number >= 1  # 1, 2, 3 … in order
        previous = number
        assert numbers.setdefault(trip_id, number) == number  # one 取引No per entry
        want = wanted[trip_id]
        assert row["取引日"] == want["date"]
        check_description(row["摘要"], want, None)
        assert row["借方金額(円)"] == row["貸方金額(円)"]
        amount = int(row["借方金額(円)"])
        assert amount > 0
        for side in ("借方", "貸方"):
            if row[f"{side}勘定科目"] == case.settings.debit_account:
                assert row[f"{side}税区分"] == "課税仕入 10%"
                assert row[f"{side}インボイス"] == case.settings.mf_invoice
                assert row[f"{side}税額"] == tax10(amount)
            else:
                assert row[f"{side}税区分"] == "対象外" and row[f"{side}税額"] == "0"
                assert row[f"{side}インボイス"] == ""
                assert (row[f"{side}勘定科目"], row[f"{side}補助科目"]) in (
                    (payable, payable_sub),
                    (case.settings.rebate_account, ""),
                )
        if row["借方勘定科目"] == case.settings.debit_account:
            travel[trip_id] = travel.get(trip_id, 0) + amount
        else:
            travel[trip_id] = travel.get(trip_id, 0) - amount
        assert all(row[name] == "" for name in MF_HEADER[20:])
    assert set(numbers) == set(wanted)
    assert len(set(numbers.values())) == len(numbers)
    for trip_id, net in travel.items():
        assert net == wanted[trip_id]["claimed"] + wanted[trip_id]["rebate"]


# -- what the encoding cannot carry ----------------------------------------------------------------


def with_purpose(purpose: str) -> list[JournalTrip]:
    import dataclasses

    first = TRIPS[0]
    assert first.line is not None
    return [dataclasses.replace(first, line=dataclasses.replace(first.line, purpose=purpose))]


@pytest.mark.parametrize("product", list(Product))
def test_a_character_cp932_cannot_carry_is_refused_naming_trip_and_field(
    product: Product, tmp_path: Path
) -> None:
    from etcbook.domain.journal import book

    case = next(c for c in CASES if c.fmt.product is product)
    booking = book(with_purpose("打合せ🚗"), case.settings, {CARD: case.credit})
    target = tmp_path / "out.csv"
    with pytest.raises(UnencodableText) as raised:
        write_journal(target, booking.entries, case.settings, JournalFormat(product))
    assert raised.value.trip_id == 101
    assert raised.value.field in ("摘要", "備考")
    assert "🚗" in str(raised.value) and "101" in str(raised.value)
    assert not target.exists() and not list(tmp_path.iterdir())
    if product is not Product.YAYOI:
        data = render_journal(booking.entries, case.settings, JournalFormat(product, "utf-8"))
        assert "🚗".encode() in data


def test_an_unencodable_account_name_is_named_too() -> None:
    import dataclasses

    from etcbook.domain.journal import book

    case = CASES[0]
    settings = dataclasses.replace(case.settings, debit_account="旅費交通費\u2460\U0001f600")
    booking = book(TRIPS, settings, {CARD: case.credit})
    with pytest.raises(UnencodableText) as raised:
        render_journal(booking.entries, settings, case.fmt)
    assert raised.value.field == "借方勘定科目"
    assert raised.value.char == "\U0001f600"


def test_desktop_yayoi_refuses_utf8() -> None:
    assert JournalFormat(Product.YAYOI, "utf-8").problem()
    assert JournalFormat(Product.YAYOI, "utf-8", yayoi_next=True).problem() is None
    assert JournalFormat(Product.MF, yayoi_next=True).problem()


def test_yayoi_next_refuses_more_than_1000_lines() -> None:
    import dataclasses

    from etcbook.domain.journal import book
    from etcbook.export.journal import YAYOI_NEXT_MAX_LINES, TooManyLines

    first = TRIPS[0]
    many = [dataclasses.replace(first, trip_id=i) for i in range(1, YAYOI_NEXT_MAX_LINES + 2)]
    case = CASES[0]
    booking = book(many, case.settings, {CARD: case.credit})
    next_format = JournalFormat(Product.YAYOI, yayoi_next=True)
    with pytest.raises(TooManyLines, match="1,001"):
        render_journal(booking.entries, case.settings, next_format)
    fits = booking.entries[:YAYOI_NEXT_MAX_LINES]
    assert render_journal(fits, case.settings, next_format).count(b"\r\n") == 1000
    desktop = render_journal(booking.entries, case.settings, JournalFormat(Product.YAYOI))
    assert desktop.count(b"\r\n") == 1001  # the desktop edition states no such limit
