"""Filling the details of many cards at once from a pasted table (issue 20 §4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from etcbook.importers.card_table import read_card_table
from etcbook.models.cards import fill_cards
from etcbook.models.store import Store
from etcbook.models.tables import Card

pytestmark = pytest.mark.both_backends

MEISAI = Path(__file__).resolve().parents[2] / "data" / "meisai"


def add_cards(store: Store, *last4s: str) -> None:
    import datetime as dt

    with store.session(write=True) as session:
        for last4 in last4s:
            session.add(
                Card(last4=last4, status="details_missing", created_at=dt.datetime(2025, 1, 1))
            )
        session.commit()


def cards(store: Store) -> dict[str, tuple[str, str, str, str]]:
    with store.session() as session:
        return {
            c.last4: (c.holder, c.driver, c.department, c.status)
            for c in session.exec(select(Card))
        }


def test_a_pasted_spreadsheet_table_fills_every_card(store: Store) -> None:
    add_cards(store, "0001", "0002", "0003")
    table = (
        "カード番号\t名義\t利用者\t部署\t備考\r\n"
        "*******900010001\t株式会社サンプル\t山田太郎\t営業部\tx\r\n"
        "0002\t株式会社サンプル\t\t総務部\t\r\n"
    ).encode()
    with store.session(write=True) as session:
        result = fill_cards(session=session, data=table)
    assert result.ok and result.committed and result.ignored_columns == ["備考"]
    assert cards(store) == {
        "0001": ("株式会社サンプル", "山田太郎", "営業部", "active"),
        "0002": ("株式会社サンプル", "", "総務部", "active"),
        "0003": ("", "", "", "details_missing"),
    }
    assert [c["last4"] for c in result.changes] == ["0001", "0002"]


def test_a_cp932_csv_with_english_headers_reads_the_same() -> None:
    data = "last4,holder,driver,department\r\n0001,名義,運転者,部\r\n".encode("cp932")
    table = read_card_table(data)
    assert table.errors == []
    assert table.rows[0].values == {"holder": "名義", "driver": "運転者", "department": "部"}


def test_any_bad_row_changes_nothing_and_names_its_line(store: Store) -> None:
    add_cards(store, "0001", "0002")
    before = cards(store)
    table = (
        "末尾4桁,名義,部署\n"
        "0001,山田,営業部\n"
        "9999,田中,総務部\n"  # 3: not a registered card
        "0001,山田,営業部\n"  # 4: the same card twice
        "****,佐藤,経理部\n"  # 5: no last 4 digits
        ",鈴木,経理部\n"  # 6: no card
    ).encode()
    with store.session(write=True) as session:
        result = fill_cards(session=session, data=table)
    assert not result.ok and not result.committed
    assert [e.line for e in result.errors] == [3, 4, 5, 6]
    assert "9999" in result.errors[0].message and "2行目" in result.errors[1].message
    assert cards(store) == before


def test_a_dry_run_changes_nothing(store: Store) -> None:
    add_cards(store, "0001")
    with store.session(write=True) as session:
        result = fill_cards(session=session, data="末尾,名義\n0001,山田\n".encode(), dry_run=True)
    assert result.ok and not result.committed and result.changes[0]["after"] == {"holder": "山田"}
    assert cards(store)["0001"] == ("", "", "", "details_missing")


@pytest.mark.parametrize(
    "table",
    ["名義,部署\n山田,営業\n", "末尾\n0001\n", ""],
    ids=["no card column", "no detail column", "empty"],
)
def test_a_table_without_the_columns_is_refused_whole(table: str) -> None:
    with pytest.raises(ValueError):
        read_card_table(table.encode())


def test_card_fill_on_the_cli_after_a_corporate_import(cli: Any, tmp_path: Path) -> None:
    assert cli("import", str(MEISAI / "13col_many_cards.csv")).returncode == 0
    listed = cli("card", "list", "--json").json()["cards"]
    assert len(listed) == 8 and {c["status"] for c in listed} == {"details_missing"}
    table = tmp_path / "カード 一覧 #1.tsv"
    lines = ["末尾\t名義\t利用者\t部署"] + [
        f"{c['last4']}\t株式会社サンプル\t社員{i}\t第{i % 3}課" for i, c in enumerate(listed)
    ]
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli("card", "fill", str(table), "--dry-run", "--json").json()["committed"] is False
    done = cli("card", "fill", str(table), "--json")
    assert done.returncode == 0 and len(done.json()["changes"]) == 8
    filled = cli("card", "list", "--json").json()["cards"]
    assert {c["status"] for c in filled} == {"active"}
    assert {c["department"] for c in filled} == {"第0課", "第1課", "第2課"}
    bad = tmp_path / "bad.csv"
    bad.write_text("末尾,名義\n0001,山田\n1234,田中\n", encoding="utf-8")
    refused = cli("card", "fill", str(bad))
    assert refused.returncode == 3
    assert "bad.csv:3: カード末尾1234は登録されていません" in refused.stderr
