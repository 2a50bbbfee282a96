"""reconcile, memo, journal, suggest and incident with two cards sharing their last 4 digits
(normal in a fleet): by id and by 呼び名 each command acts on the card named and on no other; the
shared digits are refused with both candidates listed, and nothing changes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.conftest import Cli, add_two_cards_sharing_6789
from tests.pgkit import run_sql

pytestmark = pytest.mark.both_backends

FIRST = "id:1（末尾6789 山田 営業部）"
SECOND = "id:2（末尾6789 2号車 配送部）"
AS_OF = ("--as-of", "2025-06-01")


def _refused(cli: Cli, *args: str) -> None:
    """``args`` with the shared digits: exit 3, both cards listed as candidates."""
    refused = cli(*args)
    assert refused.returncode == 3, (args, refused.stdout, refused.stderr)
    assert FIRST in refused.stderr and SECOND in refused.stderr, (args, refused.stderr)
    assert "id:番号か呼び名で指定してください" in refused.stderr, refused.stderr
    assert refused.stdout == "", refused.stdout


@pytest.fixture
def fleet(cli: Cli) -> dict[str, int]:
    """Cards id:1 (山田, 営業部) and id:2 (2号車, 山田, 配送部), both ****6789, and id:3 ****1111
    (山田): 30,000円 of NEXCO trips on id:1 and 1,000円 on id:2 in April 2025 → trip ids."""
    add_two_cards_sharing_6789(cli)
    cli("card", "add", "--last4", "1111", "--holder", "山田", check=True)
    trips = {}
    for key, card, day, toll in (
        ("first", "id:1", "2025-04-10", "30000"),
        ("second", "2号車", "2025-04-15", "1000"),
        ("second_late", "2号車", "2025-05-12", "700"),
        ("first_late", "id:1", "2025-05-12", "800"),
    ):
        added = cli(
            "trip",
            "add",
            "--card",
            card,
            "--exit",
            f"{day}T09:00",
            "--to",
            "静岡",
            "--toll",
            toll,
            "--json",
            check=True,
        ).json()["trip"]  # type: ignore[index]
        trips[key] = int(added["id"])
    return trips


def test_reconcile_reads_and_keeps_the_figures_of_the_card_named(
    cli: Cli, store_target: Path | str, fleet: dict[str, int]
) -> None:
    month = ("--month", "2025-04", *AS_OF)
    _refused(cli, "reconcile", "--card", "6789", *month, "--statement-total", "5", "--mark")
    assert run_sql(store_target, "SELECT count(*) FROM reconcile_reports") == [(0,)]
    assert run_sql(store_target, "SELECT count(*) FROM reconcile_snapshots") == [(0,)]

    first = cli(
        "reconcile", "--card", "id:1", *month, "--statement-total", "30000", "--json", check=True
    ).json()
    second = cli(
        "reconcile", "--card", "2号車", *month, "--statement-total", "999", "--mark", "--json"
    )
    assert second.returncode == 0, second.stderr
    figures = {
        name: (doc["card"], doc["computed"]["statement_total"], doc["computed"]["trips"])  # type: ignore[index]
        for name, doc in (("first", first), ("second", second.json()))
    }
    assert figures == {"first": ("6789", 30000, 1), "second": ("6789", 1000, 1)}
    assert first["differences"]["statement_total"] == 0  # type: ignore[index]
    # the other card of the same holder may be mixed into a statement: named, never merged
    assert second.json()["differences"]["statement_total"] == -1  # type: ignore[index]
    rows = run_sql(
        store_target, "SELECT card_id, statement_total FROM reconcile_reports ORDER BY card_id"
    )
    assert rows == [(1, 30000), (2, 999)]
    assert run_sql(store_target, "SELECT card_id FROM reconcile_snapshots") == [(2,)]
    # each card's saved figures come back to it alone
    again = cli("reconcile", "--card", "id:2", *month, "--json", check=True).json()
    assert again["reported"]["statement_total"] == 999  # type: ignore[index]
    assert again["snapshot"] is not None  # type: ignore[index]
    plain = cli("reconcile", "--card", "id:1", *month, "--json", check=True).json()
    assert plain["reported"]["statement_total"] == 30000 and plain["snapshot"] is None  # type: ignore[index]


def test_memo_names_the_card_and_its_own_trips(cli: Cli, fleet: dict[str, int]) -> None:
    _refused(cli, "memo", "--card", "6789", "--trip", str(fleet["first"]))
    memo = cli(
        "memo", "--card", "id:1", "--trip", str(fleet["first"]), *AS_OF, "--json", check=True
    ).json()
    assert memo["card"] == "6789"  # type: ignore[index]
    assert [(t["id"], t["billed"]) for t in memo["trips"]] == [(fleet["first"], 30000)]  # type: ignore[index]
    theirs = cli("memo", "--card", "2号車", "--trip", str(fleet["first"]), *AS_OF)
    assert theirs.returncode == 3
    assert f"走行ID {fleet['first']} はカード末尾6789（id:2）の走行ではありません" in theirs.stderr
    own = cli("memo", "--card", "2号車", "--month", "2025-04", *AS_OF, "--json", check=True).json()
    statement = next(f for f in own["figures"] if f["label"].startswith("カード請求"))  # type: ignore[index]
    assert statement["expected"] == 1000, own["figures"]  # type: ignore[index]


def test_journal_writes_and_sets_up_the_card_named(
    cli: Cli, store_target: Path | str, fleet: dict[str, int], tmp_path: Path
) -> None:
    for trip in fleet.values():
        cli("trip", "edit", str(trip), "--business-share", "100", "--purpose", "配送", check=True)
    period = ("--format", "freee", "--from", "2025-04-01", "--to", "2025-04-30")
    out = tmp_path / "仕訳 #1.csv"
    _refused(cli, "journal", *period, "--card", "6789", "--out", str(out))
    assert not out.exists()
    assert run_sql(store_target, "SELECT count(*) FROM journal_exports") == [(0,)]
    second = cli(
        "journal", *period, "--card", "2号車", "--out", str(out), "--json", check=True
    ).json()
    assert (second["entries"], second["total"]) == (1, 1000)  # type: ignore[index]
    exported = run_sql(store_target, "SELECT trip_id FROM journal_export_trips")
    assert exported == [(fleet["second"],)]
    first = cli(
        "journal", *period, "--card", "id:1", "--out", str(out), "--json", check=True
    ).json()
    assert (first["entries"], first["total"]) == (1, 30000)  # type: ignore[index]

    # per-card settings: each card its own, shown under id:N where the digits are shared
    _refused(cli, "journal-settings", "set", "credit", "private", "--card", "6789")
    assert run_sql(store_target, "SELECT count(*) FROM journal_settings") == [(0,)]
    cli("journal-settings", "set", "credit", "company", "--card", "2号車", check=True)
    assert run_sql(store_target, "SELECT card_id, value FROM journal_settings") == [(2, "company")]
    shown = cli("journal-settings", "show", "--json", check=True).json()["cards"]  # type: ignore[index]
    assert set(shown) == {"id:1", "id:2", "1111"}
    assert (shown["id:1"]["credit"], shown["id:2"]["credit"]) == ("private", "company")
    one = cli("journal-settings", "show", "--card", "2号車", "--json", check=True).json()
    assert one["cards"] == {"id:2": shown["id:2"]}  # type: ignore[index]
    _refused(cli, "journal-settings", "show", "--card", "6789")


def test_suggest_plans_with_the_points_of_the_card_named(cli: Cli, fleet: dict[str, int]) -> None:
    need = ("--need", "2000", "--by", "2025-06-30", *AS_OF)
    _refused(cli, "suggest", "--card", "6789", *need)
    rich = cli("suggest", "--card", "id:1", *need, check=True).json()  # 3,000P on 20 May
    poor = cli("suggest", "--card", "2号車", *need, check=True).json()  # 100P
    assert rich["shortfall"] == 0 and rich["exchanges"], rich  # type: ignore[index]
    assert poor["shortfall"] > 0 and not poor["exchanges"], poor  # type: ignore[index]


def test_incidents_belong_to_the_card_named(
    cli: Cli, store_target: Path | str, fleet: dict[str, int]
) -> None:
    _refused(cli, "incident", "open", "--card", "6789", "--kind", "lost")
    assert run_sql(store_target, "SELECT count(*) FROM incidents") == [(0,)]
    opened = cli(
        "incident",
        "open",
        "--card",
        "2号車",
        "--kind",
        "lost",
        "--noticed-at",
        "2025-05-01T08:00",
        "--json",
        check=True,
    ).json()["incident"]  # type: ignore[index]
    assert run_sql(store_target, "SELECT card_id FROM incidents") == [(2,)]
    incident = str(opened["id"])
    cli("incident", "step", incident, "mileage_stop", "--at", "2025-05-01T08:20", check=True)
    assert run_sql(store_target, "SELECT card_id FROM card_stops") == [(2,)]
    # lists and suspicious trips: the card named only (id:1 was never stopped)
    _refused(cli, "incident", "list", "--card", "6789")
    listed = {
        card: [
            i["id"]
            for i in cli("incident", "list", "--card", card, "--json", check=True).json()[
                "incidents"
            ]
        ]  # type: ignore[index]
        for card in ("id:1", "2号車")
    }
    assert listed == {"id:1": [], "2号車": [opened["id"]]}
    _refused(cli, "incident", "suspicious", "--card", "6789")
    flagged = {
        card: [
            t["id"]
            for t in cli("incident", "suspicious", "--card", card, "--json", check=True).json()[
                "trips"
            ]
        ]  # type: ignore[index]
        for card in ("id:1", "2号車", "1111")
    }
    assert flagged == {"id:1": [], "2号車": [fleet["second_late"]], "1111": []}
    everything = cli("incident", "suspicious", "--json", check=True).json()["trips"]  # type: ignore[index]
    assert [t["id"] for t in everything] == [fleet["second_late"]]
    # the new card given by its 呼び名 or id; the change links the card named
    cli("card", "edit", "1111", "--label", "3号車", check=True)
    cli(
        "incident",
        "step",
        incident,
        "reissue_received",
        "--at",
        "2025-05-20T10:00",
        "--new-card",
        "3号車",
        check=True,
    )
    cli(
        "incident",
        "step",
        incident,
        "card_change",
        "--at",
        "2025-05-20T11:00",
        "--new-card",
        "id:3",
        check=True,
    )
    assert run_sql(store_target, "SELECT old_card_id, new_card_id FROM card_links") == [(2, 3)]
    # a change by the shared digits is refused; id:1 keeps no link
    _refused(
        cli,
        "incident",
        "change-card",
        "--card",
        "6789",
        "--new-card",
        "1111",
        "--at",
        "2025-05-21T10:00",
    )
    assert run_sql(store_target, "SELECT count(*) FROM card_links") == [(1,)]
    # the registration of id:2 goes on with id:3; id:1's reconciliation stays its own
    first = cli(
        "reconcile", "--card", "id:1", "--month", "2025-05", *AS_OF, "--json", check=True
    ).json()
    assert first["registration"] == ["6789"]  # type: ignore[index]
    assert first["computed"]["statement_total"] == 800  # type: ignore[index]
    chained = cli(
        "reconcile", "--card", "3号車", "--month", "2025-05", *AS_OF, "--json", check=True
    ).json()
    assert chained["registration"] == ["6789", "1111"]  # type: ignore[index]


def test_a_card_change_between_cards_sharing_digits_is_refused(
    cli: Cli, store_target: Path | str, fleet: dict[str, int]
) -> None:
    refused = cli(
        "incident",
        "change-card",
        "--card",
        "id:1",
        "--new-card",
        "2号車",
        "--at",
        "2025-05-21T10:00",
    )
    assert refused.returncode == 3
    assert "末尾4桁が同じカードどうしの登録カード変更は記録できません" in refused.stderr
    assert run_sql(store_target, "SELECT count(*) FROM card_links") == [(0,)]


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._SubParsersAction)]


def _parsers(
    parser: argparse.ArgumentParser, path: str = "etcbook"
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _parsers(sub, f"{path} {name}")
    return found


@pytest.mark.sqlite_only  # no store: the parsers only
def test_every_card_option_and_argument_tells_cards_apart_by_id() -> None:
    from etcbook.cli import build_parser
    from etcbook.cli.common import card_or_new_last4, card_reference

    with_cards = {}
    for path, parser in _parsers(build_parser()):
        cards = [
            a.dest
            for a in _options(parser)
            if a.type in (card_reference, card_or_new_last4) or "card" in a.dest.split("_")
        ]
        if cards:
            with_cards[path] = (cards, parser.get_default("card_ids"))
    # the commands the issue names are among them, each through the resolver, by id
    for command in ("reconcile", "memo", "journal", "journal-settings set", "suggest"):
        assert f"etcbook {command}" in with_cards, sorted(with_cards)
    assert {p for p, (_cards, by_id) in with_cards.items() if not by_id} == set()
    typed = {
        path: [
            a.dest
            for a in _options(parser)
            if "card" in a.dest.split("_") and a.type not in (card_reference, card_or_new_last4)
        ]
        for path, parser in _parsers(build_parser())
    }
    # every option naming a card goes through the resolver (card add --last4 creates one)
    assert {p: d for p, d in typed.items() if d} == {}


def test_reminders_read_each_cards_own_points_and_incidents(
    cli: Cli, store_target: Path | str, fleet: dict[str, int]
) -> None:
    import datetime as dt

    from etcbook.domain.rules import load_rules
    from etcbook.models.reminders import reminder_facts
    from etcbook.models.store import open_store

    cli("incident", "open", "--card", "2号車", "--kind", "lost", check=True)
    store = open_store(store_target if isinstance(store_target, str) else Path(store_target))
    try:
        with store.engine.connect() as connection:
            facts = reminder_facts(
                connection=connection, as_of=dt.date(2025, 6, 1), rules=load_rules()
            )
    finally:
        store.close()
    seen = [
        (f.card, sum(lot.points for lot in f.lots), len(f.incidents))
        for f in facts
        if f.card == "6789"
    ]
    # ids 1 then 2: 3,000P granted on 20 May for id:1, 100P for id:2; the incident is id:2's
    assert seen == [("6789", 3000, 0), ("6789", 100, 1)]


def test_reminders_name_each_cards_own_months(cli: Cli, fleet: dict[str, int]) -> None:
    # id:2's April is reconciled; id:1's is not: a month marked for one card is not the other's
    cli("reconcile", "--card", "2号車", "--month", "2025-04", *AS_OF, "--mark", check=True)
    document = cli("reminders", *AS_OF, "--json", check=True).json()
    unreconciled = {
        r["card_id"]: r["months"]  # type: ignore[index]
        for r in document["reminders"]  # type: ignore[union-attr]
        if r["kind"] == "unreconciled_months" and r["card"] == "6789"  # type: ignore[index]
    }
    assert unreconciled == {1: ["2025-04", "2025-05"], 2: ["2025-05"]}
    # the messages name the card apart: its 呼び名 beside the shared digits
    said = {
        r["card_id"]: r["message"]  # type: ignore[index]
        for r in document["reminders"]  # type: ignore[union-attr]
        if r["kind"] == "unreconciled_months" and r["card"] == "6789"  # type: ignore[index]
    }
    assert said[2].startswith("カード末尾6789（2号車）の") and said[1].startswith(
        "カード末尾6789の"
    )
    # the card whose digits no other card shares is named by its digits alone
    assert all(
        "card_id" not in r
        for r in document["reminders"]  # type: ignore[union-attr]
        if r["card"] == "1111"  # type: ignore[index]
    )


def test_missing_statements_are_each_cards_own(
    cli: Cli, fleet: dict[str, int], tmp_path: Path
) -> None:
    """id:1's statement and certificate for a month do not cover id:2's trips that month."""
    from etcbook import clock
    from etcbook.domain.calendar import add_months

    month = f"{add_months(clock.today().replace(day=1), -2):%Y-%m}"
    for card in ("id:1", "2号車"):
        cli(
            "trip",
            "add",
            "--card",
            card,
            "--exit",
            f"{month}-10T09:00",
            "--to",
            "静岡",
            "--toll",
            "500",
            check=True,
        )
    for kind in ("statement", "certificate"):
        original = tmp_path / f"{kind}.pdf"
        original.write_bytes(f"%PDF-1.4 {kind} of id:1".encode())
        cli(
            "evidence",
            "add",
            str(original),
            "--kind",
            kind,
            "--card",
            "id:1",
            "--month",
            month,
            check=True,
        )
    rows = cli("evidence", "missing", "--all", "--json", check=True).json()["months"]
    found = {
        (r["card_id"], r["lacking"])  # type: ignore[index]
        for r in rows  # type: ignore[union-attr]
        if r["card"] == "6789" and r["month"] == month  # type: ignore[index]
    }
    assert found == {(1, False), (2, True)}
    # a card whose digits no other card shares is named by its digits alone
    assert all(
        "card_id" not in r
        for r in rows  # type: ignore[union-attr]
        if r["card"] == "1111"  # type: ignore[index]
    )
