"""``etcbook trips``, ``card`` and ``demo`` through a subprocess (issue 2 §5)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.both_backends

Snapshot = Callable[[Path], dict[str, list[tuple[object, ...]]]]

TRIP_KEYS = {
    "id",
    "card",
    "entry_at",
    "exit_at",
    "entry_ic",
    "exit_ic",
    "toll_before_discount",
    "etc_discount",
    "toll",
    "rebate_applied",
    "billed",
    "operator",
    "status",
    "flags",
    "purpose",
    "business_share",
}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def trips(cli: Any, *args: str) -> list[dict[str, Any]]:
    done = cli("trips", *args, "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"trips"}
    result: list[dict[str, Any]] = document["trips"]
    return result


# --- trips --------------------------------------------------------------------------------------


FROM_THE_FILE = TRIP_KEYS - {"rebate_applied", "billed"}
"""What ``trips --json`` takes from the imported rows; rebate applied and billed come from the
mileage engine (the file's 還元額適用料金 is what the golden trips hold)."""


@pytest.mark.parametrize("name", ["15col", "13col", "15col_later"])
def test_trips_json_matches_the_golden_file(cli: Any, meisai_dir: Path, name: str) -> None:
    expected = json.loads((meisai_dir / f"{name}.expected.json").read_text(encoding="utf-8"))
    for before in expected.get("imported_before", []):
        assert cli("import", str(meisai_dir / before)).returncode == 0
    assert cli("import", str(meisai_dir / f"{name}.csv")).returncode == 0
    listed = trips(cli)
    assert [{k: t[k] for k in FROM_THE_FILE} for t in listed] == [
        {k: t[k] for k in FROM_THE_FILE} for t in expected["trips"]
    ]
    for trip in listed:
        assert trip["billed"] == trip["toll"] - trip["rebate_applied"]


def test_trips_json_keys_and_types(cli: Any, meisai_dir: Path) -> None:
    assert (
        cli("import", str(meisai_dir / "15col.csv"), str(meisai_dir / "13col.csv")).returncode == 0
    )
    listed = trips(cli)
    assert len(listed) == 18
    for trip in listed:
        assert set(trip) >= TRIP_KEYS
        assert ISO.match(trip["exit_at"])
        assert trip["entry_at"] is None or ISO.match(trip["entry_at"])
        for key in ("toll", "rebate_applied", "billed", "business_share", "id"):
            assert type(trip[key]) is int, key
        for key in ("toll_before_discount", "etc_discount"):
            assert trip[key] is None or type(trip[key]) is int
        assert trip["billed"] == trip["toll"] - trip["rebate_applied"]
        assert isinstance(trip["flags"], list)
        assert re.fullmatch(r"\d{4}", trip["card"])
    assert [t["exit_at"] for t in listed] == sorted(t["exit_at"] for t in listed)


def test_trips_filters(cli: Any, meisai_dir: Path) -> None:
    assert (
        cli("import", str(meisai_dir / "15col.csv"), str(meisai_dir / "13col.csv")).returncode == 0
    )
    everything = trips(cli)

    def expected(keep: Callable[[dict[str, Any]], bool]) -> list[int]:
        return [t["id"] for t in everything if keep(t)]

    assert [t["id"] for t in trips(cli, "--card", "5678")] == expected(
        lambda t: t["card"] == "5678"
    )
    november = trips(cli, "--month", "2024-11")
    assert [t["id"] for t in november] == expected(lambda t: t["exit_at"].startswith("2024-11"))
    # The month of a trip is the month of its exit: 10/31 23:40 -> 11/01 00:20 is November.
    assert any(t["entry_at"] == "2024-10-31T23:40:00" for t in november)
    ranged = trips(cli, "--from", "2024-10-07", "--to", "2024-10-12")
    assert [t["id"] for t in ranged] == expected(
        lambda t: "2024-10-07" <= t["exit_at"][:10] <= "2024-10-12"
    )
    assert len(ranged) == 4  # 10/07 twice (identical rows), 10/10, 10/12
    both = trips(cli, "--card", "6789", "--month", "2024-10")
    assert [t["id"] for t in both] == expected(
        lambda t: t["card"] == "6789" and t["exit_at"].startswith("2024-10")
    )
    assert trips(cli, "--month", "2023-01") == []


def test_trips_card_filter_accepts_a_full_number(cli: Any, meisai_dir: Path) -> None:
    assert cli("import", str(meisai_dir / "15col.csv")).returncode == 0
    assert trips(cli, "--card", "4980123456780042") == trips(cli, "--card", "0042")


def test_trips_human_output(cli: Any, meisai_dir: Path) -> None:
    assert cli("import", str(meisai_dir / "15col.csv")).returncode == 0
    done = cli("trips", "--card", "5678")
    assert done.returncode == 0
    assert "大宮①" in done.stdout and "2件" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["trips", "--month", "2024-13"],
        ["trips", "--month", "202411"],
        ["trips", "--from", "2024/11/01"],
        ["trips", "--card", "12"],
        ["trips", "--bogus"],
        ["card"],
        ["card", "add", "--last4", "1234"],
        ["card", "add", "--holder", "山田", "--last4", "1234", "--kind", "gold"],
        ["card", "edit"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(cli: Any, args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 2, (args, done.stderr)
    assert done.stdout == ""


def test_from_after_to_is_bad_input(cli: Any) -> None:
    done = cli("trips", "--from", "2024-11-02", "--to", "2024-11-01")
    assert done.returncode == 3 and "--from" in done.stderr


# --- cards ----------------------------------------------------------------------------------------


def test_card_add_list_edit(cli: Any) -> None:
    added = cli(
        "card",
        "add",
        "--holder",
        "山田太郎",
        "--last4",
        "1234",
        "--kind",
        "credit",
        "--expires",
        "2027-03",
        "--mileage-id",
        "M001",
        "--auto-exchange",
        "--plate",
        "品川 300 あ 12-34",
        "--obu",
        "1234-5678-9012-3456-789",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    card = json.loads(added.stdout)["card"]
    assert card["last4"] == "1234" and card["obu_number"] == "1234567890123456789"
    assert (card["expires"], card["auto_exchange"], card["status"]) == ("2027-03", True, "active")
    listed = json.loads(cli("card", "list", "--json").stdout)["cards"]
    assert [c["last4"] for c in listed] == ["1234"]
    edited = cli("card", "edit", "1234", "--driver", "山田花子", "--no-auto-exchange", "--json")
    assert edited.returncode == 0, edited.stderr
    card = json.loads(edited.stdout)["card"]
    assert (card["driver"], card["auto_exchange"], card["holder"]) == (
        "山田花子",
        False,
        "山田太郎",
    )


def test_full_card_number_is_cut_to_its_last_4(
    cli: Any, store_target: Path | str, snapshot: Snapshot
) -> None:
    done = cli("card", "add", "--holder", "山田太郎", "--last4", "4980 1234 5678 0042", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["card"]["last4"] == "0042"
    stored = repr(snapshot(store_target))
    assert "0042" in stored
    assert "4980123456780042" not in stored and "4980 1234" not in stored
    if isinstance(store_target, Path):  # SQLite: not even in the file's free pages or its WAL
        for path in (store_target, store_target.with_name(store_target.name + "-wal")):
            assert not path.exists() or b"4980123456780042" not in path.read_bytes()
            assert not path.exists() or b"4980 1234" not in path.read_bytes()
    assert cli("card", "edit", "4980123456780042", "--notes", "更新", "--json").returncode == 0


@pytest.mark.parametrize(
    "obu",
    ["123456789012345678", "12345678901234567890", "1234567890123456７89", "abcdefghijklmnopqrs"],
)
def test_bad_onboard_unit_number_exits_3_with_a_message(
    cli: Any, obu: str, store_target: Path | str, snapshot: Snapshot
) -> None:
    assert cli("card", "add", "--holder", "山田太郎", "--last4", "1234").returncode == 0
    before = snapshot(store_target)
    added = cli("card", "add", "--holder", "山田花子", "--last4", "5678", "--obu", obu)
    assert added.returncode == 3 and "車載器管理番号は19桁" in added.stderr
    edited = cli("card", "edit", "1234", "--obu", obu)
    assert edited.returncode == 3 and "車載器管理番号は19桁" in edited.stderr
    assert snapshot(store_target) == before


def test_duplicate_card_and_unknown_card_exit_3(cli: Any) -> None:
    assert cli("card", "add", "--holder", "山田太郎", "--last4", "1234").returncode == 0
    again = cli("card", "add", "--holder", "山田花子", "--last4", "****1234")
    assert again.returncode == 3 and "すでに登録" in again.stderr
    missing = cli("card", "edit", "9999", "--holder", "誰か")
    assert missing.returncode == 3 and "9999" in missing.stderr


def test_card_created_by_import_gets_details_then_becomes_active(
    cli: Any, meisai_dir: Path
) -> None:
    assert cli("import", str(meisai_dir / "13col.csv")).returncode == 0
    cards = {c["last4"]: c for c in json.loads(cli("card", "list", "--json").stdout)["cards"]}
    assert cards["6789"]["status"] == "details_missing" and cards["6789"]["holder"] == ""
    assert cli("card", "edit", "6789", "--holder", "山田太郎").returncode == 0
    cards = {c["last4"]: c for c in json.loads(cli("card", "list", "--json").stdout)["cards"]}
    assert cards["6789"]["status"] == "active"


# --- demo -----------------------------------------------------------------------------------------


def test_demo_twice_is_refused_the_second_time(
    cli: Any, store_target: Path | str, snapshot: Snapshot
) -> None:
    first = cli("demo", "--json")
    assert first.returncode == 0, first.stderr
    counts = json.loads(first.stdout)
    assert counts["cards"] == 3 and counts["trips"] > 500
    vault = cli("evidence", "verify", "--json")  # the sample's originals, beside the store
    assert vault.returncode == 0
    assert vault.json()["intact"] is True and vault.json()["checked"] == counts["documents"] > 0
    before = snapshot(store_target)
    second = cli("demo", "--json")
    assert second.returncode == 3 and "すでに走行があります" in second.stderr
    assert second.stdout == ""
    assert snapshot(store_target) == before


def test_demo_store_through_trips(cli: Any) -> None:
    assert cli("demo").returncode == 0
    listed = trips(cli)
    operators = {t["operator"] for t in listed}
    assert {"nexco", "hanshin_kyoto", "nagoya", "shutoko"} <= operators
    exits = [dt.datetime.fromisoformat(t["exit_at"]) for t in listed]
    months = {(e.year, e.month) for e in exits}
    assert len(months) == 18
    assert any(t["purpose"] for t in listed) and any("（朝夕）" in t["flags"] for t in listed)
