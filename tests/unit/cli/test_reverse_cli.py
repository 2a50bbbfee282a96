"""``etcbook reverse``: a mistaken exchange or adjustment is reversed, kept, and audited."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.both_backends

EXIT_BAD_INPUT = 3


def test_reverse_an_exchange_and_then_the_adjustment_it_needed(cli: Any) -> None:
    cli("card", "add", "--holder", "山田太郎", "--last4", "1234", check=True)
    adjustment = cli(
        "adjust", "--card", "1234", "--pool", "nexco", "--points", "3000",
        "--on", "2025-05-20", "--reason", "キャンペーン加算", "--json", check=True,
    ).json()["adjustment"]  # fmt: skip
    exchange = cli(
        "exchange", "--card", "1234", "--pool", "nexco", "--units", "3000",
        "--at", "2025-06-01T10:00", "--json", check=True,
    ).json()  # fmt: skip
    listed = cli("reverse", "--card", "1234", "--json", check=True).json()["records"]
    assert [(r["kind"], r["points"], r["rebate"]) for r in listed] == [
        ("exchange", 3000, 2500),
        ("adjustment", 3000, 0),
    ]
    exchange_id = listed[0]["id"]
    assert exchange_id == exchange["id"]

    # The exchange needs the adjustment's points: reversing the adjustment first is refused.
    refused = cli("reverse", "--adjustment", str(adjustment["id"]), "--reason", "誤り", "--json")
    assert refused.returncode == EXIT_BAD_INPUT and refused.stdout == ""
    assert "後の記録" in refused.stderr

    no_reason = cli("reverse", "--exchange", str(exchange_id))
    assert no_reason.returncode == EXIT_BAD_INPUT and "--reason" in no_reason.stderr
    done = cli(
        "reverse", "--exchange", str(exchange_id), "--reason", "サイトでは交換していない", "--json"
    )
    assert done.returncode == 0, done.stderr
    assert done.json()["reversed"]["reversed_reason"] == "サイトでは交換していない"
    again = cli("reverse", "--exchange", str(exchange_id), "--reason", "もう一度")
    assert again.returncode == EXIT_BAD_INPUT and "すでに取り消されています" in again.stderr
    card = cli("status", "--card", "1234", "--json", check=True).json()["cards"][0]
    assert card["rebate_balance"] == 0  # computed as if the exchange had not been recorded
    assert card["pools"][0]["points"] == 3000

    assert cli("reverse", "--adjustment", str(adjustment["id"]), "--reason", "誤り").returncode == 0
    assert cli("reverse", "--card", "1234", "--json", check=True).json()["records"] == []
    everything = cli("reverse", "--card", "1234", "--all", "--json", check=True).json()
    assert all(r["reversed_at"] for r in everything["records"])
    assert len(everything["records"]) == 2
