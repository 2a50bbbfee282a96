"""``etcbook reconcile`` through a subprocess, on a store with planted differences."""

from __future__ import annotations

import pytest

from tests.unit.reconcile.planted import PLANTED_JULY, PLANTED_MAY


@pytest.fixture
def planted(cli, write_meisai):  # type: ignore[no-untyped-def]
    cli("card", "add", "--holder", "山田太郎", "--last4", "1234", check=True)
    cli("import", str(write_meisai("may.csv", "1234", PLANTED_MAY)), check=True)
    cli("import", str(write_meisai("july.csv", "1234", PLANTED_JULY)), check=True)
    return cli


def test_clean_month_reconciles_with_no_finding(planted) -> None:  # type: ignore[no-untyped-def]
    document = planted(
        "reconcile",
        "--card",
        "1234",
        "--month",
        "2025-07",
        "--as-of",
        "2025-09-01",
        "--site-opening",
        "0",
        "--site-closing",
        "0",
        "--statement-total",
        "11854",
        "--site-points",
        "nexco=1183",
        "--json",
        check=True,
    ).json()
    assert set(document) >= {
        "card",
        "month",
        "computed",
        "reported",
        "differences",
        "findings",
        "unexplained",
    }
    assert document["computed"]["statement_total"] == 11854
    assert document["computed"]["points"]["nexco"]["total"] == 1183
    assert document["computed"]["morning_evening"]["this_month"]["total"] == 1395
    assert document["findings"] == []
    assert document["balanced"] is True
    assert document["differences"]["rebate_closing"] == 0


def test_planted_timing_rounding_and_exchange_each_to_the_yen(planted) -> None:  # type: ignore[no-untyped-def]
    """Issue 7, done when: a 朝夕割 timing difference, a rounding difference and an unrecorded
    exchange (2,000P → 1,000円, 600円 of it used by July's trips) are each explained."""
    document = planted(
        "reconcile",
        "--card",
        "1234",
        "--month",
        "2025-07",
        "--as-of",
        "2025-09-01",
        "--site-closing",
        str(1395 + 1000 - 600),
        "--statement-total",
        str(11854 - 600),
        "--site-points",
        "nexco=1185",
        "--json",
        check=True,
    ).json()
    found = [(f["kind"], f["difference"], f["amount"]) for f in document["findings"]]
    assert found == [
        ("morning_evening_next_month", "rebate_closing", 1395),
        ("unrecorded_exchange", "rebate_closing", 400),
        ("unrecorded_exchange", "statement_total", -600),
        ("rounding", "points", 2),
    ]
    assert document["differences"] == {
        "rebate_opening": None,
        "rebate_closing": 1795,
        "statement_total": -600,
        "points": {"nexco": 2},
        "rebate_inferred": 0,
    }
    assert document["unexplained"] == {
        "rebate_opening": None,
        "rebate_closing": 0,
        "statement_total": 0,
        "points": {"nexco": 0},
        "rebate_inferred": 0,
    }
    me = document["findings"][0]
    assert len(me["trips"]) == 5 and {t["amount"] for t in me["trips"]} == {279}
    assert "2,000P→1,000円" in document["findings"][1]["message"]
    rounding = document["findings"][3]
    assert sorted(t["amount"] for t in rounding["trips"]) == [7, 8, 9]

    # the figures were kept: a run without them shows the same reconciliation
    again = planted(
        "reconcile",
        "--card",
        "1234",
        "--month",
        "2025-07",
        "--as-of",
        "2025-09-01",
        "--json",
        check=True,
    ).json()
    assert again["findings"] == document["findings"]


def test_mark_then_a_later_change_is_flagged(planted, write_meisai) -> None:  # type: ignore[no-untyped-def]
    marked = planted(
        "reconcile",
        "--card",
        "1234",
        "--month",
        "2025-07",
        "--as-of",
        "2025-09-01",
        "--statement-total",
        "11854",
        "--mark",
        "--json",
        check=True,
    ).json()
    assert marked["marked"] is True and marked["snapshot"]["changes"] == []
    late = write_meisai(
        "late.csv", "1234", [("2025-07-30T18:10", "横浜町田", "厚木", 1240, "確定")]
    )
    planted("import", str(late), check=True)
    after = planted(
        "reconcile",
        "--card",
        "1234",
        "--month",
        "2025-07",
        "--as-of",
        "2025-09-01",
        "--json",
        check=True,
    )
    document = after.json()
    (change,) = document["snapshot"]["changes"]
    assert change["change"] == "added" and "照合後に追加" in change["message"]
    assert "変わっています" in after.stderr
    assert document["unexplained"]["statement_total"] == -1240
    reminders = planted("reminders", "--as-of", "2025-09-01", "--json", check=True).json()
    by_kind = {r["kind"]: r for r in reminders["reminders"]}
    assert by_kind["reconciled_changed"]["months"] == ["2025-07"]
    assert by_kind["unreconciled_months"]["months"] == ["2025-05"]


def test_human_output_and_bad_input(planted) -> None:  # type: ignore[no-untyped-def]
    shown = planted(
        "reconcile",
        "--card",
        "1234",
        "--month",
        "2025-07",
        "--as-of",
        "2025-09-01",
        "--site-closing",
        "1395",
        check=True,
    ).stdout
    assert "朝夕割は翌月20日付与" in shown and "差はすべて説明できました" in shown
    assert planted("reconcile", "--card", "9999", "--month", "2025-07").returncode == 3
    bad = planted("reconcile", "--card", "1234", "--month", "2025-07", "--site-points", "nexco")
    assert bad.returncode == 2


@pytest.mark.both_backends
def test_memo_from_a_finding_and_from_trips(planted, tmp_path) -> None:  # type: ignore[no-untyped-def]
    planted(
        "reconcile",
        "--card",
        "1234",
        "--month",
        "2025-07",
        "--as-of",
        "2025-09-01",
        "--site-points",
        "nexco=1185",
        check=True,
    )
    memo = planted(
        "memo",
        "--card",
        "1234",
        "--month",
        "2025-07",
        "--finding",
        "1",
        "--as-of",
        "2025-09-01",
        "--json",
        check=True,
    ).json()
    assert (
        "ポイント（NEXCO 3社・宮城県道路公社）（2025年7月）: 期待 1,183P ／ 実績 1,185P ／ 差 +2P"
        in memo["text"]
    )
    assert "7月12日11時、入口東京→出口静岡、請求額2,347円" in memo["text"]
    assert [t["id"] for t in memo["trips"]] == [7, 8, 9]

    pdf = tmp_path / "memo.pdf"
    by_trips = planted(
        "memo",
        "--card",
        "1234",
        "--trip",
        "2",
        "3",
        "--actual-points",
        "150",
        "--as-of",
        "2025-09-01",
        "--change",
        "2025-08-01 住所変更",
        "--pdf",
        str(pdf),
        check=True,
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "7月1日7時、入口厚木→出口横浜町田、請求額930円" in by_trips.stdout
    assert "期待 186P ／ 実績 150P ／ 差 −36P" in by_trips.stdout
    assert "2025年8月1日 住所変更" in by_trips.stdout
    assert planted("memo", "--card", "1234", "--trip", "999").returncode == 3
    assert planted("memo", "--card", "1234").returncode == 3


@pytest.mark.both_backends
def test_reminders_on_the_demo_store(demo_store_target) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import Cli

    cli = Cli(demo_store_target)
    document = cli("reminders", "--as-of", "2026-10-05", "--json", check=True).json()
    assert document["as_of"] == "2026-10-05"
    by_kind: dict[str, list[dict[str, object]]] = {}
    for item in document["reminders"]:
        by_kind.setdefault(str(item["kind"]), []).append(item)
    assert {"statement_window", "login_inactive", "next_twentieth", "unreconciled_months"} <= set(
        by_kind
    )
    login = by_kind["login_inactive"][0]
    assert login["card"] == "5678" and login["due"] == "2026-12-08"
    assert all(
        isinstance(item["message"], str) and item["message"] for item in document["reminders"]
    )
    severities = [item["severity"] for item in document["reminders"]]
    order = {"urgent": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.__getitem__)
