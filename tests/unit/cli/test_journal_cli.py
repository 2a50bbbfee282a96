"""``etcbook journal`` and ``journal-settings`` on the demo store, through a subprocess."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from pgkit import run_sql

pytestmark = pytest.mark.both_backends

SEPTEMBER = ("--from", "2026-09-01", "--to", "2026-09-30")
OCTOBER = ("--from", "2026-10-01", "--to", "2026-10-31")


@pytest.fixture
def demo_cli(cli_for: Any, demo_target: Path | str) -> Any:
    """The CLI on a private copy of the demo store, on the test's backend."""
    return cli_for(demo_target)


def run_json(cli: Any, *args: str) -> dict[str, Any]:
    done = cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = done.json()
    return document


def sql(db: Path | str, statement: str, **params: object) -> list[tuple[Any, ...]]:
    return run_sql(db, statement, **params)


def yayoi_debits(path: Path) -> int:
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("cp932"), newline="")))
    return sum(int(r[8]) if r[4] == "旅費交通費" else -int(r[8]) for r in rows)


@pytest.mark.parametrize("fmt", ["yayoi", "freee", "mf"])
def test_journal_total_is_the_report_claimed_total(demo_cli: Any, tmp_path: Path, fmt: str) -> None:
    report = run_json(
        demo_cli, "report", "--card", "9012", *SEPTEMBER, "--out", str(tmp_path / "r")
    )
    out = tmp_path / "仕訳 9月 #1.csv"
    journal = run_json(
        demo_cli, "journal", "--format", fmt, "--card", "9012", *SEPTEMBER, "--out", str(out)
    )
    assert set(journal) >= {"file", "format", "entries", "total", "skipped"}
    assert journal["file"] == str(out) and journal["format"] == fmt
    assert journal["total"] == report["claimed_total"] > 0
    assert journal["entries"] == report["trips"]
    assert journal["skipped"] == []
    if fmt == "yayoi":
        assert yayoi_debits(out) == report["claimed_total"]


def test_a_second_export_writes_nothing_unless_again(demo_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "journal.csv"
    args = ("journal", "--format", "yayoi", "--card", "9012", *SEPTEMBER)
    first = run_json(demo_cli, *args, "--out", str(out))
    written = out.read_bytes()
    second_out = tmp_path / "again.csv"
    second = run_json(demo_cli, *args, "--out", str(second_out))
    assert (second["entries"], second["total"], second["file"]) == (0, 0, None)
    assert not second_out.exists() and out.read_bytes() == written
    assert len(second["skipped"]) == first["entries"]
    assert all(
        "書き出し済み" in s["reason"] and "journal.csv" in s["reason"] for s in second["skipped"]
    )
    same_path = run_json(demo_cli, *args, "--out", str(out))  # the first file is not emptied
    assert same_path["entries"] == 0 and out.read_bytes() == written
    done = demo_cli(*args, "--out", str(second_out))
    assert done.returncode == 0 and "--again" in done.stderr
    again = run_json(demo_cli, *args, "--out", str(second_out), "--again")
    assert (again["entries"], again["total"]) == (first["entries"], first["total"])
    assert second_out.read_bytes() == written
    exports = sql(demo_cli.db, "SELECT format, entries, total FROM journal_exports ORDER BY id")
    assert exports == [("yayoi", first["entries"], first["total"])] * 2
    remembered = sql(demo_cli.db, "SELECT count(*) FROM journal_export_trips")
    assert remembered == [(2 * first["entries"],)]


def test_provisional_and_passage_rows_are_left_out_and_listed(
    demo_cli: Any, tmp_path: Path
) -> None:
    db = demo_cli.db
    sql(
        db,
        "UPDATE trips SET business_share = 100, purpose = '営業' WHERE card_id ="
        " (SELECT id FROM cards WHERE last4 = '1234') AND exit_at >= '2026-10-01'",
    )
    provisional = {r[0] for r in sql(db, "SELECT id FROM trips WHERE status = '確認中'")}
    confirmed = sql(
        db, "SELECT id FROM trips WHERE status = '確定' AND exit_at >= '2026-10-01' ORDER BY id"
    )
    passage = confirmed[0][0]
    sql(db, "UPDATE trips SET flags = 'passage' WHERE id = :id", id=passage)
    assert provisional
    args = ("journal", "--format", "mf", "--card", "1234", *OCTOBER)
    result = run_json(demo_cli, *args, "--out", str(tmp_path / "a.csv"))
    reasons = {s["trip"]: s["reason"] for s in result["skipped"]}
    assert {t for t, r in reasons.items() if "確認中" in r} == provisional
    assert "通過記録" in reasons[passage]
    fully_rebated = {
        r[0]
        for r in sql(
            db,
            "SELECT id FROM trips WHERE status IS NOT NULL AND exit_at >= '2026-10-01'"
            " AND toll = rebate_applied",
        )
    }
    confirmed_ids = {t[0] for t in confirmed}
    left_out = (fully_rebated & confirmed_ids) - {passage}
    assert {t for t, r in reasons.items() if "精算額 0 円" in r} == left_out
    assert result["entries"] == len(confirmed) - len(left_out) - 1
    report = run_json(demo_cli, "report", "--card", "1234", *OCTOBER, "--out", str(tmp_path / "r"))
    with_provisional = run_json(
        demo_cli, *args, "--out", str(tmp_path / "b.csv"), "--include-provisional"
    )
    # The confirmed ones are exported already; the provisional ones not paid by rebate follow.
    assert with_provisional["entries"] == len(provisional - fully_rebated) > 0
    assert {s["trip"] for s in with_provisional["skipped"]} == confirmed_ids | (
        provisional & fully_rebated
    )
    assert all(
        "書き出し済み" in s["reason"] or s["trip"] in fully_rebated | {passage}
        for s in with_provisional["skipped"]
    )
    passage_toll = sql(
        db, "SELECT toll - coalesce(rebate_applied, 0) FROM trips WHERE id = :id", id=passage
    )
    assert (
        result["total"] + with_provisional["total"] + passage_toll[0][0] == report["claimed_total"]
    )


def test_a_character_cp932_cannot_carry_stops_the_export(demo_cli: Any, tmp_path: Path) -> None:
    db = demo_cli.db
    trip = sql(
        db,
        "SELECT t.id FROM trips t JOIN cards c ON c.id = t.card_id WHERE c.last4 = '9012'"
        " AND t.business_share > 0 AND t.exit_at >= '2026-09-01' ORDER BY t.exit_at LIMIT 1",
    )[0][0]
    sql(db, "UPDATE trips SET purpose = '納品🚚' WHERE id = :id", id=trip)
    out = tmp_path / "out" / "j.csv"
    out.parent.mkdir()
    done = demo_cli("journal", "--format", "freee", "--card", "9012", *SEPTEMBER, "--out", str(out))
    assert done.returncode == 3
    assert str(trip) in done.stderr and "備考" in done.stderr and "🚚" in done.stderr
    assert list(out.parent.iterdir()) == []
    assert sql(db, "SELECT count(*) FROM journal_exports") == [(0,)]
    utf8 = run_json(
        demo_cli,
        "journal",
        "--format",
        "freee",
        "--card",
        "9012",
        *SEPTEMBER,
        "--out",
        str(out),
        "--encoding",
        "utf-8",
    )
    assert utf8["entries"] > 0 and "納品🚚" in out.read_bytes().decode("utf-8-sig")


def test_desktop_yayoi_is_cp932_only(demo_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "y.csv"
    args = ("journal", "--format", "yayoi", "--card", "9012", *SEPTEMBER, "--out", str(out))
    refused = demo_cli(*args, "--encoding", "utf-8")
    assert refused.returncode == 3 and "弥生会計 Next" in refused.stderr and not out.exists()
    done = run_json(demo_cli, *args, "--encoding", "utf-8", "--yayoi-next")
    assert done["format"] == "yayoi-next"
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert {len(r) for r in rows} == {27}


def test_settings_change_the_credit_side_and_labels(demo_cli: Any, tmp_path: Path) -> None:
    shown = run_json(demo_cli, "journal-settings", "show")
    assert shown["settings"]["debit_account"] == "旅費交通費"
    assert shown["settings"]["rebate_treatment"] == "net"
    assert shown["cards"]["9012"]["credit"] == "company"  # ETCコーポレートカード
    assert shown["cards"]["1234"]["credit_account"] == "事業主借"
    for key, value, card in (
        ("credit", "employee", "9012"),
        ("credit_account", "未払費用", "9012"),
        ("credit_sub", "佐藤一郎", "9012"),
        ("mf.tax", "課税仕入-返還 10%", None),
        ("debit_sub", "高速代", None),
    ):
        extra = ("--card", card) if card else ()
        assert demo_cli("journal-settings", "set", key, value, *extra).returncode == 0
    out = tmp_path / "mf.csv"
    run_json(demo_cli, "journal", "--format", "mf", "--card", "9012", *SEPTEMBER, "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("cp932"), newline="")))
    assert {
        (r["借方補助科目"], r["借方税区分"], r["貸方勘定科目"], r["貸方補助科目"]) for r in rows
    } == {("高速代", "課税仕入-返還 10%", "未払費用", "佐藤一郎")}
    for args in (
        ("no_such_key", "x"),
        ("rebate_treatment", "gross"),
        ("debit_account", ""),
        ("credit", "company"),  # per card: needs --card
        ("debit_account", "車両費", "--card", "9012"),  # for all cards: no --card
        ("credit", "company", "--card", "0000"),
    ):
        refused = demo_cli("journal-settings", "set", *args)
        assert refused.returncode == 3, args
        assert refused.stderr.strip()
    after = run_json(demo_cli, "journal-settings", "show", "--card", "9012")
    assert after["settings"]["debit_account"] == "旅費交通費"
    assert after["cards"] == {
        "9012": {
            "credit": "employee",
            "credit_account": "未払費用",
            "credit_sub": "佐藤一郎",
            "freee.wallet": "",
        }
    }


def test_all_cards_book_every_card(demo_cli: Any, tmp_path: Path) -> None:
    totals = 0
    for card in ("1234", "5678", "9012"):
        report = run_json(
            demo_cli, "report", "--card", card, *SEPTEMBER, "--out", str(tmp_path / card)
        )
        totals += report["claimed_total"]
    journal = run_json(
        demo_cli,
        "journal",
        "--format",
        "yayoi",
        "--all",
        *SEPTEMBER,
        "--out",
        str(tmp_path / "all.csv"),
    )
    assert journal["total"] == totals
    assert demo_cli("journal", "--format", "yayoi", *SEPTEMBER, "--out", "x.csv").returncode == 2
