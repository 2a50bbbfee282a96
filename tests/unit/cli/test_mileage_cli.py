"""The mileage commands through the CLI, in a subprocess on a fresh store: trip add/edit,
exchange, card stop/resume, adjust, status, and the engine's figures in ``trips --json``."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.both_backends

EXIT_USAGE = 2
EXIT_BAD_INPUT = 3


def run_json(cli: Any, *args: str) -> Any:
    result = cli(*args, "--json", check=True)
    return result.json()


@pytest.fixture
def card(cli: Any) -> Any:
    """The CLI on a fresh store holding card 1234."""
    cli("card", "add", "--holder", "山田太郎", "--last4", "1234", check=True)
    return cli


def add_trip(cli: Any, exit_at: str, toll: int, *extra: str) -> dict[str, Any]:
    document = run_json(
        cli,
        "trip",
        "add",
        "--card",
        "1234",
        "--exit",
        exit_at,
        "--to",
        "厚木",
        "--toll",
        str(toll),
        *extra,
    )
    return document["trip"]


def status(cli: Any, as_of: str) -> dict[str, Any]:
    document = run_json(cli, "status", "--card", "1234", "--as-of", as_of)
    assert document["as_of"] == as_of
    (card_status,) = document["cards"]
    return card_status


def pool(card_status: dict[str, Any], key: str) -> dict[str, Any]:
    return next(p for p in card_status["pools"] if p["pool"] == key)


def test_rebate_5000_trips_a_b_c_bill_700_and_earn_70_points(card: Any) -> None:
    adjusted = run_json(
        card,
        "adjust",
        "--card",
        "1234",
        "--rebate",
        "5000",
        "--on",
        "2025-06-01",
        "--reason",
        "キャンペーン",
    )
    assert adjusted["adjustment"]["rebate"] == 5000
    a = add_trip(card, "2025-06-02T10:00", 2400, "--from", "東京")
    assert (a["rebate_applied"], a["billed"], a["points"]) == (2400, 0, 0)
    add_trip(card, "2025-06-02T15:00", 1300)
    add_trip(card, "2025-06-03T09:30", 2000)

    trips = run_json(card, "trips", "--card", "1234")["trips"]
    assert [(t["rebate_applied"], t["billed"], t["points"]) for t in trips] == [
        (2400, 0, 0),
        (1300, 0, 0),
        (1300, 700, 70),
    ]

    june = status(card, "2025-06-30")
    assert june["rebate_balance"] == 0
    assert pool(june, "nexco")["points"] == 0
    assert pool(june, "nexco")["pending_points"] == 70

    granted = status(card, "2025-07-20")
    nexco = pool(granted, "nexco")
    assert (nexco["points"], nexco["pending_points"]) == (70, 0)
    assert nexco["buckets"] == {"this_month": 0, "next_month": 0, "month_after": 0, "later": 70}
    assert nexco["lots"] == [
        {"granted_on": "2025-07-20", "expires_on": "2027-03-31", "granted": 70, "remaining": 70}
    ]
    assert set(granted) >= {"card", "rebate_balance", "points_lost_total", "pools", "alerts"}
    assert granted["card"] == "1234"
    assert granted["points_lost_total"] == 0


def test_exchange_2000_points_then_620_and_380_leave_zero(card: Any) -> None:
    run_json(
        card,
        "adjust",
        "--card",
        "1234",
        "--pool",
        "nexco",
        "--points",
        "2000",
        "--on",
        "2025-05-20",
        "--reason",
        "付与",
    )
    exchanged = run_json(
        card,
        "exchange",
        "--card",
        "1234",
        "--pool",
        "nexco",
        "--points",
        "2000",
        "--at",
        "2025-06-02T21:00",
    )
    assert exchanged == {
        "id": exchanged["id"],
        "card": "1234",
        "pool": "nexco",
        "units": [1000, 1000],
        "points": 2000,
        "yen": 1000,
        "at": "2025-06-02T21:00:00",
    }
    first = add_trip(card, "2025-06-03T07:50", 620)
    second = add_trip(card, "2025-06-03T18:20", 380)
    assert (first["rebate_applied"], second["rebate_applied"]) == (620, 380)
    after = status(card, "2025-06-03")
    assert after["rebate_balance"] == 0
    assert pool(after, "nexco")["points"] == 0


def test_exchange_picks_the_most_yen_and_refuses_when_short(card: Any) -> None:
    run_json(
        card,
        "adjust",
        "--card",
        "1234",
        "--pool",
        "nexco",
        "--points",
        "5500",
        "--on",
        "2025-05-20",
        "--reason",
        "付与",
    )
    short = card("exchange", "--card", "1234", "--pool", "nexco", "--points", "6000", "--json")
    assert short.returncode == EXIT_BAD_INPUT
    assert short.stdout == ""
    assert "ポイントが足りません" in short.stderr
    assert status(card, "2025-06-01")["rebate_balance"] == 0  # nothing recorded

    off_grid = card("exchange", "--card", "1234", "--pool", "nexco", "--units", "2000")
    assert off_grid.returncode == EXIT_BAD_INPUT
    unknown_pool = card("exchange", "--card", "1234", "--pool", "tokyo", "--points", "1000")
    assert unknown_pool.returncode == EXIT_BAD_INPUT
    both = card(
        "exchange", "--card", "1234", "--pool", "nexco", "--points", "1000", "--units", "1000"
    )
    assert both.returncode == EXIT_USAGE

    done = run_json(
        card,
        "exchange",
        "--card",
        "1234",
        "--pool",
        "nexco",
        "--units",
        "5000",
        "--at",
        "2025-06-01T12:00",
    )
    assert (done["points"], done["yen"]) == (5000, 5000)
    # an earlier exchange that would leave the recorded one short is refused too
    earlier = card(
        "exchange",
        "--card",
        "1234",
        "--pool",
        "nexco",
        "--units",
        "1000",
        "--at",
        "2025-05-30T12:00",
    )
    assert earlier.returncode == EXIT_BAD_INPUT
    assert status(card, "2025-06-01")["rebate_balance"] == 5000


def test_stopped_card_gets_no_rebate_and_no_points(card: Any) -> None:
    run_json(
        card,
        "adjust",
        "--card",
        "1234",
        "--rebate",
        "3000",
        "--on",
        "2025-06-01",
        "--reason",
        "訂正",
    )
    stopped = run_json(card, "card", "stop", "1234", "--at", "2025-06-04T09:00")
    assert (stopped["event"], stopped["stopped"]) == ("stop", True)
    assert card("card", "stop", "1234", "--at", "2025-06-05T09:00").returncode == EXIT_BAD_INPUT
    during = add_trip(card, "2025-06-05T10:00", 1000)
    assert (during["rebate_applied"], during["billed"], during["points"]) == (0, 1000, 0)
    stopped_status = status(card, "2025-06-06")
    assert [a["kind"] for a in stopped_status["alerts"]] == ["card_stopped", "stopped_card_trips"]
    assert all(a["message"] for a in stopped_status["alerts"])

    run_json(card, "card", "resume", "1234", "--at", "2025-06-10T00:00")
    assert card("card", "resume", "1234", "--at", "2025-06-11T00:00").returncode == EXIT_BAD_INPUT
    after = add_trip(card, "2025-06-12T10:00", 1000)
    assert (after["rebate_applied"], after["points"]) == (1000, 0)
    cards = run_json(card, "card", "list")["cards"]
    assert cards[0]["status"] == "active"


def test_adjustments_take_effect_at_00_00_of_their_day(card: Any) -> None:
    add = run_json(
        card,
        "adjust",
        "--card",
        "1234",
        "--pool",
        "miyagi",
        "--points",
        "1200",
        "--on",
        "2025-05-20",
        "--reason",
        "キャンペーン加算",
    )
    assert add["adjustment"]["pool"] == "nexco"  # miyagi points go to the NEXCO pool
    lots = pool(status(card, "2025-05-20"), "nexco")["lots"]
    assert lots == [
        {"granted_on": "2025-05-20", "expires_on": "2027-03-31", "granted": 1200, "remaining": 1200}
    ]
    too_much = card(
        "adjust",
        "--card",
        "1234",
        "--pool",
        "nexco",
        "--points",
        "-2000",
        "--on",
        "2025-06-01",
        "--reason",
        "訂正",
    )
    assert too_much.returncode == EXIT_BAD_INPUT
    run_json(
        card,
        "adjust",
        "--card",
        "1234",
        "--pool",
        "nexco",
        "--points",
        "-200",
        "--on",
        "2025-06-01",
        "--reason",
        "訂正",
    )
    assert pool(status(card, "2025-06-01"), "nexco")["points"] == 1000
    assert card(
        "adjust", "--card", "1234", "--points", "5", "--on", "2025-06-01", "--reason", "x"
    ).returncode == (EXIT_BAD_INPUT)
    assert (
        card("adjust", "--card", "1234", "--rebate", "5", "--reason", "x").returncode == EXIT_USAGE
    )


def test_expiring_points_alert_in_japanese(card: Any) -> None:
    run_json(
        card,
        "adjust",
        "--card",
        "1234",
        "--pool",
        "nexco",
        "--points",
        "1234",
        "--on",
        "2024-05-20",
        "--reason",
        "付与",
    )
    card_status = status(card, "2026-01-01")
    (alert,) = card_status["alerts"]
    assert alert["kind"] == "points_expiring"
    assert (alert["points"], alert["date"], alert["pool"]) == (1234, "2026-03-31", "nexco")
    assert "1,234P" in alert["message"] and "2026年3月31日" in alert["message"]
    assert pool(card_status, "nexco")["buckets"]["month_after"] == 1234
    gone = status(card, "2026-04-01")
    assert gone["points_lost_total"] == 1234


def test_trip_edit_changes_operator_and_flags(card: Any) -> None:
    run_json(
        card,
        "adjust",
        "--card",
        "1234",
        "--rebate",
        "3000",
        "--on",
        "2025-06-01",
        "--reason",
        "訂正",
    )
    trip = add_trip(card, "2025-06-02T10:00", 1000)
    assert trip["rebate_applied"] == 1000
    edited = run_json(
        card,
        "trip",
        "edit",
        str(trip["id"]),
        "--operator",
        "shutoko",
        "--morning-evening",
        "--purpose",
        "客先訪問",
    )["trip"]
    assert (edited["operator"], edited["rebate_applied"], edited["billed"], edited["points"]) == (
        "shutoko",
        0,
        1000,
        0,
    )
    assert edited["morning_evening"] is True
    assert edited["purpose"] == "客先訪問"
    cleared = run_json(card, "trip", "edit", str(trip["id"]), "--no-morning-evening")["trip"]
    assert cleared["morning_evening"] is False
    assert card("trip", "edit", "999", "--purpose", "x").returncode == EXIT_BAD_INPUT
    assert (
        card("trip", "edit", str(trip["id"]), "--business-share", "150").returncode
        == EXIT_BAD_INPUT
    )
    assert card("trip", "edit", str(trip["id"]), "--operator", "tokyo").returncode == EXIT_BAD_INPUT


def test_file_rebate_beyond_the_known_balance_is_booked(card: Any) -> None:
    trip = add_trip(card, "2025-06-02T10:00", 2000, "--rebate-applied", "1200")
    assert (trip["rebate_applied"], trip["billed"], trip["points"]) == (1200, 800, 80)
    assert status(card, "2025-06-02")["rebate_balance"] == 0
    assert (
        card(
            "trip",
            "add",
            "--card",
            "1234",
            "--exit",
            "2025-06-02T11:00",
            "--to",
            "厚木",
            "--toll",
            "500",
            "--rebate-applied",
            "600",
        ).returncode
        == EXIT_BAD_INPUT
    )


def test_bad_input_and_usage_errors(card: Any) -> None:
    assert card("status", "--card", "9999").returncode == EXIT_BAD_INPUT
    assert card("status", "--as-of", "2025/06/01").returncode == EXIT_USAGE
    assert card(
        "trip",
        "add",
        "--card",
        "9999",
        "--exit",
        "2025-06-02T10:00",
        "--to",
        "厚木",
        "--toll",
        "100",
    ).returncode == (EXIT_BAD_INPUT)
    assert card("card", "stop", "9999").returncode == EXIT_BAD_INPUT


def test_commute_pass_months(card: Any) -> None:
    assert run_json(card, "commute-pass", "--card", "1234", "--month", "2025-09")["months"] == [
        "2025-09"
    ]
    assert (
        run_json(card, "commute-pass", "--card", "1234", "--month", "2025-09", "--remove")["months"]
        == []
    )


@pytest.mark.sqlite_only  # the demo on PostgreSQL: tests/unit/server/test_same_results.py
def test_status_on_the_demo_store(cli: Any, demo_store_path: Any) -> None:
    cli = type(cli)(demo_store_path)  # the shared runner, on a copy of the demo store
    document = run_json(cli, "status", "--as-of", "2026-10-31")
    assert len(document["cards"]) == 3
    for card_status in document["cards"]:
        assert card_status["rebate_balance"] >= 0
        assert all(p["points"] >= 0 for p in card_status["pools"])
    trips = run_json(cli, "trips", "--month", "2026-09")["trips"]
    assert trips and all({"rebate_applied", "billed", "points"} <= set(t) for t in trips)
    assert all(t["billed"] == t["toll"] - t["rebate_applied"] for t in trips)
