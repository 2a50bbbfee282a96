"""The 明細CSV parser, one rule per test (DOMAIN.md §9, issue 2 §4)."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from meisai_helpers import (
    CARD,
    COLUMNS_13,
    COLUMNS_15,
    HEADER_13,
    HEADER_15,
    meisai,
    row13,
    row15,
)

from etcbook.importers.meisai import (
    MORNING_EVENING_FLAG,
    STATUS_CONFIRMED,
    STATUS_PENDING,
    LineError,
    MeisaiReader,
    MeisaiRow,
    NotMeisaiError,
    format_errors,
    read_meisai_bytes,
)


def one_row(data: bytes, **kwargs: str) -> MeisaiRow:
    rows, errors = read_meisai_bytes(data, "t.csv", **kwargs)
    assert errors == []
    assert len(rows) == 1
    return rows[0]


def one_error(data: bytes, **kwargs: str) -> LineError:
    rows, errors = read_meisai_bytes(data, "t.csv", **kwargs)
    assert rows == [] and len(errors) == 1, (rows, errors)
    return errors[0]


# --- columns, layouts, encodings -----------------------------------------------------------


def test_both_layouts_read_the_same_trip() -> None:
    fifteen = one_row(meisai([row15(before="2290", discount="-460", toll="1830")]))
    thirteen = one_row(
        meisai([row13(before="2290", discount="-460", toll="1830")], header=HEADER_13)
    )
    assert (fifteen.rebate_applied, fifteen.deferred_toll) == (0, 1830)
    assert (thirteen.rebate_applied, thirteen.deferred_toll) == (None, None)
    for name in (
        "entry_at",
        "exit_at",
        "entry_ic",
        "exit_ic",
        "toll_before_discount",
        "etc_discount",
        "toll",
        "vehicle_class",
        "vehicle_number",
        "card_last4",
    ):
        assert getattr(fifteen, name) == getattr(thirteen, name), name


@pytest.mark.parametrize("seed", range(5))
def test_columns_are_mapped_by_header_name_in_any_order(seed: int) -> None:
    order = list(range(15))
    random.Random(seed).shuffle(order)
    rows = [
        row15(before="5730", discount="-1150", toll="4580", rebate="300", remarks="確定;経路割引"),
        row15(entry="", entry_ic="", exit_ic="本線料金所", toll="410", vehicle_number=""),
    ]

    def shuffle(line: str) -> str:
        cells = line.split(",")
        return ",".join(cells[i] for i in order)

    plain, _ = read_meisai_bytes(meisai(rows))
    shuffled, errors = read_meisai_bytes(
        meisai([shuffle(r) for r in rows], header=shuffle(HEADER_15))
    )
    assert errors == []
    assert shuffled == plain


def test_unknown_extra_columns_are_ignored() -> None:
    data = meisai([row15() + ",メモ"], header=HEADER_15 + ",自分用メモ")
    assert one_row(data).toll == 1000


def test_header_spelled_with_half_width_letters_and_brackets_is_accepted() -> None:
    header = HEADER_15.replace("ＩＣ", "IC").replace("（", "(").replace("）", ")")
    header = header.replace("ＥＴＣ", "ETC")
    assert one_row(meisai([row15()], header=header)).exit_ic == "浜松"


def test_missing_required_column_rejects_the_file_in_one_sentence() -> None:
    header = ",".join(c for c in COLUMNS_15 if c != "通行料金")
    cells = row15().split(",")
    del cells[COLUMNS_15.index("通行料金")]
    with pytest.raises(NotMeisaiError) as info:
        read_meisai_bytes(meisai([",".join(cells)], header=header), "x.csv")
    message = str(info.value)
    assert message.startswith("x.csv: ") and "通行料金" in message and "\n" not in message


def test_same_column_twice_rejects_the_file() -> None:
    with pytest.raises(NotMeisaiError, match="2回"):
        read_meisai_bytes(meisai([row15() + ",1"], header=HEADER_15 + ",通行料金"))


@pytest.mark.parametrize(
    ("encoding", "bom"), [("cp932", b""), ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf")]
)
def test_cp932_and_utf8_with_or_without_bom(encoding: str, bom: bytes) -> None:
    data = bom + meisai(
        [row15(entry_ic="大宮①", exit_ic="髙崎", discount="－460", before="1520", toll="1060")],
        encoding=encoding,
    )
    row = one_row(data)
    assert (row.entry_ic, row.exit_ic, row.etc_discount) == ("大宮①", "髙崎", -460)


def test_cp932_characters_that_shift_jis_cannot_decode() -> None:
    data = meisai([row15(entry_ic="大宮①", exit_ic="髙松中央")])
    with pytest.raises(UnicodeDecodeError):
        data.decode("shift_jis")
    row = one_row(data)
    assert (row.entry_ic, row.exit_ic) == ("大宮①", "髙松中央")


def test_encoding_is_told_by_the_header_and_a_row_in_another_encoding_is_an_error() -> None:
    data = meisai([row15()]) + (row15(exit_ic="京都東") + "\r\n").encode("utf-8")
    rows, errors = read_meisai_bytes(data, "t.csv")
    assert len(rows) == 1
    assert errors == [LineError(3, "文字コード（cp932）として読めないバイトがあります")]


# --- dates, times, amounts -----------------------------------------------------------------


def test_two_digit_year_is_western_not_reiwa() -> None:
    row = one_row(meisai([row15(entry="25/08/01 09:00", exit="25/08/01 10:00")]))
    assert row.exit_at == dt.datetime(2025, 8, 1, 10, 0)


def test_spreadsheet_four_digit_year_and_single_digit_hour() -> None:
    line = row15().replace("24/11/05,08:54", "2024/11/05,8:54")
    assert one_row(meisai([line])).entry_at == dt.datetime(2024, 11, 5, 8, 54)


def test_trip_crossing_midnight_keeps_both_times() -> None:
    row = one_row(meisai([row15(entry="24/10/31 23:40", exit="24/11/01 00:20")]))
    assert row.entry_at == dt.datetime(2024, 10, 31, 23, 40)
    assert row.exit_at == dt.datetime(2024, 11, 1, 0, 20)


@pytest.mark.parametrize("date", ["25/02/30", "24/13/01", "24/00/10", "24/11/31"])
def test_impossible_dates_are_line_errors(date: str) -> None:
    error = one_error(meisai([row15(exit=f"{date} 10:00", entry="")]))
    assert error.line == 2 and date in error.message


@pytest.mark.parametrize("date", ["2024-11-05x", "24/11", "R6/11/05", "24/11/05/01", "１２３/1/1"])
def test_malformed_dates_are_line_errors(date: str) -> None:
    error = one_error(meisai([row15(exit=f"{date} 10:00", entry="")]))
    assert "日付" in error.message


@pytest.mark.parametrize("time", ["24:00", "10:60", "1000", "10:5a", "²:00", "-1:00"])
def test_bad_times_are_line_errors(time: str) -> None:
    data = meisai([row15(exit=f"24/11/05 {time}", entry="")], encoding="utf-8")
    error = one_error(data)
    assert "時刻" in error.message


@pytest.mark.parametrize(
    ("text", "value"),
    [("-6550", -6550), ("－6550", -6550), ("−6550", -6550), ("0", 0), ("１２０", 120)],
)
def test_discount_minus_signs(text: str, value: int) -> None:
    row = one_row(meisai([row15(before="10000", discount=text, toll="3450")]))
    assert row.etc_discount == value


def test_adjustment_row_with_negative_toll() -> None:
    row = one_row(meisai([row15(toll="-1050", rebate="0")]))
    assert (row.toll, row.deferred_toll) == (-1050, -1050)


@pytest.mark.parametrize("text", ["1e9", "1.5", "12,3", "①", "٣", "--5", "+", "", "1234567890"])
def test_amounts_that_are_not_integer_yen_are_line_errors(text: str) -> None:
    line = row15(toll=text, deferred="0")
    if text == "12,3":  # an extra comma makes an extra column
        error = one_error(meisai([line]))
        assert "列の数" in error.message
        return
    error = one_error(meisai([line], encoding="utf-8"))
    assert "通行料金" in error.message


def test_blank_discount_fields_are_none() -> None:
    row = one_row(meisai([row15(before="", discount="", toll="2570")]))
    assert (row.toll_before_discount, row.etc_discount, row.toll) == (None, None, 2570)


def test_single_mainline_gate_has_no_entry() -> None:
    row = one_row(
        meisai([row15(entry="", entry_ic="", exit_ic="本線料金所", toll="410", vehicle_number="")])
    )
    assert (row.entry_at, row.entry_ic, row.vehicle_number) == (None, None, None)
    assert row.exit_at == dt.datetime(2024, 11, 5, 10, 51)


def test_entry_date_without_entry_time_is_an_error() -> None:
    line = row15().replace("24/11/05,08:54,", "24/11/05,,", 1)
    assert "片方" in one_error(meisai([line])).message


@pytest.mark.parametrize(
    ("field", "message"),
    [("exit_ic", "利用ＩＣ（至）"), ("toll", "通行料金"), ("exit", "必須")],
)
def test_required_fields(field: str, message: str) -> None:
    line = row15(**{field: ""}) if field != "exit" else row15(exit=" ")
    assert message in one_error(meisai([line])).message


# --- card numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("mask", range(0, 13))
def test_masked_card_numbers_of_any_length_keep_the_last_4(mask: int) -> None:
    digits = "4980123456789012"
    number = "*" * mask + digits[mask:]
    assert one_row(meisai([row15(card=number)])).card_last4 == "9012"


@pytest.mark.parametrize(
    "number", ["*******123456789", "********12345678", "4980123456780042", "4980 1234 5678 0042"]
)
def test_card_number_forms(number: str) -> None:
    row = one_row(meisai([row15(card=number)]))
    assert len(row.card_last4) == 4 and number.endswith(row.card_last4)


def test_full_card_number_is_not_kept_anywhere_in_the_row() -> None:
    row = one_row(meisai([row15(card="4980123456780042")]))
    assert "49801234" not in repr(row)


@pytest.mark.parametrize("number", ["****************", "****12", "***123①", "****٣٤٥٦", "1234*"])
def test_card_numbers_without_4_ascii_digits_at_the_end_are_errors(number: str) -> None:
    data = meisai([row15(card=number)], encoding="utf-8")
    assert "ＥＴＣカード番号" in one_error(data).message


def test_given_card_fills_blank_card_cells_and_refuses_other_cards() -> None:
    data = meisai([row15(card=""), row15(card=CARD, exit="24/11/06 10:00"), row15(card="****0001")])
    rows, errors = read_meisai_bytes(data, "t.csv", card_last4="6789")
    assert [r.card_last4 for r in rows] == ["6789", "6789"]
    assert errors == [LineError(4, "カード末尾0001の行です（指定されたカードは末尾6789）")]


def test_blank_card_without_a_given_card_is_an_error() -> None:
    assert "--card" in one_error(meisai([row15(card="")])).message


# --- 備考: status and flags ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remarks", "status", "flags", "morning_evening"),
    [
        ("確定", STATUS_CONFIRMED, (), False),
        ("確認中", STATUS_PENDING, (), False),
        ("確定;（朝夕）", STATUS_CONFIRMED, (MORNING_EVENING_FLAG,), True),
        ("確認中;深夜割引", STATUS_PENDING, ("深夜割引",), False),
        ("確定;(朝夕)", STATUS_CONFIRMED, (MORNING_EVENING_FLAG,), True),
        ("確定;深夜割引;（朝夕）", STATUS_CONFIRMED, ("深夜割引", MORNING_EVENING_FLAG), True),
        ("", None, (), False),
    ],
)
def test_status_and_flags_of_15_column_remarks(
    remarks: str, status: str | None, flags: tuple[str, ...], morning_evening: bool
) -> None:
    row = one_row(meisai([row15(remarks=remarks)]))
    assert (row.status, row.flags, row.morning_evening) == (status, flags, morning_evening)
    assert row.remarks == remarks


@pytest.mark.parametrize("remarks", ["深夜割引", "経路割引", "休日割引", "ＥＴＣ通常"])
def test_13_column_remarks_are_discount_names_without_status(remarks: str) -> None:
    row = one_row(meisai([row13(remarks=remarks)], header=HEADER_13))
    assert (row.status, row.flags) == (None, (remarks,))


# --- lines ------------------------------------------------------------------------------------


def test_line_numbers_are_those_an_editor_shows() -> None:
    data = meisai([row15(), "", row15(toll="x"), row15(exit="24/11/06 10:00")])
    rows, errors = read_meisai_bytes(data, "t.csv")
    assert [r.line for r in rows] == [2, 5]
    assert [e.line for e in errors] == [4]
    assert format_errors("t.csv", errors) == [
        "t.csv:4: 通行料金: 金額「x」は整数の円ではありません"
    ]


@pytest.mark.parametrize("newline", ["\n", "\r"])
def test_lf_and_cr_line_endings(newline: str) -> None:
    data = meisai([row15(), row15(toll="x"), row15(exit="24/11/06 10:00")], newline=newline)
    rows, errors = read_meisai_bytes(data, "t.csv")
    assert [r.line for r in rows] == [2, 4]
    assert [e.line for e in errors] == [3]


def test_header_only_file_has_no_rows_and_no_errors() -> None:
    assert read_meisai_bytes(meisai([])) == ([], [])


def test_file_without_final_newline() -> None:
    data = meisai([row15()]).rstrip(b"\r\n")
    assert one_row(data).toll == 1000


def test_trailing_empty_cells_from_a_spreadsheet_are_ignored() -> None:
    assert one_row(meisai([row15() + ",,,"])).toll == 1000


@pytest.mark.parametrize("count", [14, 16])
def test_wrong_column_count_is_a_line_error(count: int) -> None:
    cells = row15().split(",")
    cells = cells[:count] if count < 15 else [*cells, "x"]
    error = one_error(meisai([",".join(cells)]))
    assert error.message == f"列の数が{count}です（見出しは15列）"


def test_quoted_cells_with_commas_inside() -> None:
    line = row15(exit_ic='"浜松,西"', remarks='"確定;深夜割引"')
    row = one_row(meisai([line]))
    assert (row.exit_ic, row.status, row.flags) == ("浜松,西", "確定", ("深夜割引",))


def test_overlong_line_is_an_error_not_a_crash() -> None:
    data = meisai([row15(exit_ic="浜" * 300_000), row15(exit="24/11/06 10:00")])
    rows, errors = read_meisai_bytes(data, "t.csv")
    assert [r.line for r in rows] == [3]
    assert len(errors) == 1 and errors[0].line == 2 and "長すぎ" in errors[0].message


def test_reader_streams_rows_with_counts() -> None:
    data = meisai([row15(), row15(toll="x")])
    reader = MeisaiReader(io.BytesIO(data), "t.csv")
    items = list(reader)
    assert [type(i) for i in items] == [MeisaiRow, LineError]
    assert (reader.rows_read, reader.errors_found, reader.encoding) == (2, 1, "cp932")


# --- not a 明細CSV at all ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b"", "空のファイル"),
        (b"\r\n\r\n", "空のファイル"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel（.xlsx）"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "Excel（.xls）"),
        ("利用年月日,金額\r\n".encode("utf-16"), "テキストではない"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00", "テキストではない"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "明細CSVではありません"),
        ("日付,摘要,金額\r\n2024/11/05,ETC,4580\r\n".encode("cp932"), "明細CSVではありません"),
        (b"\xff\xfe\xfd\xfc,\x80\x81\r\n", "文字コード"),
    ],
)
def test_files_that_are_not_meisai_get_one_sentence(data: bytes, phrase: str) -> None:
    with pytest.raises(NotMeisaiError) as info:
        read_meisai_bytes(data, "file.bin")
    message = str(info.value)
    assert phrase in message
    assert message.startswith("file.bin: ") and message.endswith("。") and "\n" not in message


def test_header_line_that_is_huge_is_not_a_crash() -> None:
    data = b'"' + b"a" * 2_000_000 + b'"\r\n'
    with pytest.raises(NotMeisaiError):
        read_meisai_bytes(data, "big.csv")


def test_morning_evening_flag_constant_matches_the_site() -> None:
    assert MORNING_EVENING_FLAG == "（朝夕）"
    assert [c for c in COLUMNS_15 if c not in ("還元額適用料金", "後納料金")] == COLUMNS_13
