"""Reading a table of cards to fill in (名義・利用者・部署): rows and line errors."""

from __future__ import annotations

from etcbook.importers.card_table import CardFill, decode, parse_card_table


def test_a_table_pasted_from_a_spreadsheet_with_its_header_in_any_order() -> None:
    rows, errors = parse_card_table(
        "部署\tカード\t名義\n物流1課\t2001\t株式会社みなと物流\n\t*******12342014\t株式会社みなと物流\n"
    )
    assert errors == []
    assert rows == [
        CardFill(2, "2001", holder="株式会社みなと物流", department="物流1課"),
        CardFill(3, "2014", holder="株式会社みなと物流"),
    ]
    assert rows[1].values() == {"holder": "株式会社みなと物流"}


def test_without_a_header_the_columns_are_card_holder_driver_department() -> None:
    rows, errors = parse_card_table("2001,株式会社A,佐藤,物流1課\r\n２０１４,,鈴木,\r\n")
    assert errors == []
    assert rows == [
        CardFill(1, "2001", "株式会社A", "佐藤", "物流1課"),
        CardFill(2, "2014", None, "鈴木", None),
    ]


def test_every_bad_line_is_named() -> None:
    rows, errors = parse_card_table(
        "カード,名義\n2001,A\n12ab,B\n2001,C\n2027,\n20,D\n" + "2040," + "長" * 101 + "\n"
    )
    assert [r.last4 for r in rows] == ["2001"]
    assert [(e.line, e.message) for e in errors] == [
        (3, "カード「12ab」を読めません（末尾4桁か、*で隠したカード番号で書いてください）"),
        (4, "カード末尾2001は2行目にもあります"),
        (5, "カード末尾2027に入れる名義・利用者・部署がありません"),
        (6, "カード「20」を読めません（末尾4桁か、*で隠したカード番号で書いてください）"),
        (7, "名義が長すぎます（100文字まで）"),
    ]
    assert parse_card_table("\n \n")[1][0].message == "カードの行がありません"


def test_csv_files_are_read_as_utf8_or_cp932() -> None:
    text = "カード,名義\n2001,山田太郎\n"
    assert decode(text.encode("cp932")) == text
    assert decode(("\ufeff" + text).encode("utf-8")) == text
