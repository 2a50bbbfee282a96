"""What the accounts desk's pages read: claims filtered by month, department and driver, a
month's totals per department and per driver, the months with their state, the reopenings."""

from __future__ import annotations

import datetime as dt

import pytest

from etcbook.models.workflow import (
    close_month,
    decide_claim,
    list_claims,
    month_bounds,
    month_claim_totals,
    month_reopenings,
    month_states,
    reopen_month,
    submit_claim,
)
from tests.conftest import Cli

pytestmark = pytest.mark.both_backends


def _ledger(cli: Cli, store) -> None:  # type: ignore[no-untyped-def]
    """Cards 1111 (東京営業所) and 2222 (大阪営業所), business trips in March and April 2026."""
    from sqlalchemy import text

    for last4, holder, department in (
        ("1111", "山田", "東京営業所"),
        ("2222", "佐藤", "大阪営業所"),
    ):
        cli(
            "card",
            "add",
            "--last4",
            last4,
            "--holder",
            holder,
            "--department",
            department,
            check=True,
        )
        for day, toll in (
            ("2026-03-10T09:00", 1000),
            ("2026-03-20T09:00", 500),
            ("2026-04-10T09:00", 700),
        ):
            cli(
                "trip",
                "add",
                "--card",
                last4,
                "--exit",
                day,
                "--to",
                "横浜町田",
                "--toll",
                str(toll),
                check=True,
            )
    with store.transaction() as connection:
        connection.execute(text("UPDATE trips SET business_share = 100, purpose = '営業'"))


def test_claims_by_month_department_and_their_totals(cli: Cli, store) -> None:  # type: ignore[no-untyped-def]
    _ledger(cli, store)
    march, april = month_bounds("2026-03"), month_bounds("2026-04")
    assert march == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert month_bounds("2026-12") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    a_march, _ = submit_claim(store=store, card="1111", date_from=march[0], date_to=march[1])
    b_march, _ = submit_claim(store=store, card="2222", date_from=march[0], date_to=march[1])
    a_april, _ = submit_claim(store=store, card="1111", date_from=april[0], date_to=april[1])
    assert (a_march.total, a_march.department) == (1500, "東京営業所")
    decide_claim(store=store, claim_id=b_march.id, approve=True)
    decide_claim(store=store, claim_id=a_april.id, approve=False, comment="目的を")

    with store.engine.connect() as connection:
        assert [c.id for c in list_claims(connection, month="2026-03")] == [a_march.id, b_march.id]
        assert [c.id for c in list_claims(connection, month="2026-04")] == [a_april.id]
        assert [c.id for c in list_claims(connection, department="大阪営業所")] == [b_march.id]
        assert [c.id for c in list_claims(connection, "returned", driver=a_april.driver)] == [
            a_april.id
        ]
        assert list_claims(connection, driver="nobody") == []
        departments, drivers = month_claim_totals(connection, "2026-03")
        assert [(t.name, t.claims, t.submitted, t.approved, t.total) for t in departments] == [
            ("大阪営業所", 1, 0, 1500, 1500),
            ("東京営業所", 1, 1500, 0, 1500),
        ]
        assert [(t.claims, t.total) for t in drivers] == [(2, 3000)]  # one OS user on SQLite…
        # …or the one login the test connects as on PostgreSQL; a returned claim is not counted
        assert month_claim_totals(connection, "2026-04") == ([], [])


def test_months_with_their_state_and_reopenings(cli: Cli, store) -> None:  # type: ignore[no-untyped-def]
    _ledger(cli, store)
    with store.transaction() as connection:
        assert close_month(connection, "2026-03") is True
        assert close_month(connection, "2026-05") is True  # a month without trips
    with store.engine.connect() as connection:
        states = {m.month: (m.trips, m.closed) for m in month_states(connection)}
        assert list(states) == ["2026-05", "2026-04", "2026-03"]
        assert states == {"2026-05": (0, True), "2026-04": (2, False), "2026-03": (4, True)}
        assert month_reopenings(connection) == []
    with store.transaction() as connection:
        assert reopen_month(connection, "2026-03", "明細の訂正") is True
    with store.engine.connect() as connection:
        [reopening] = month_reopenings(connection)
        assert (reopening.month, reopening.reason) == ("2026-03", "明細の訂正")
        assert not {m.month: m.closed for m in month_states(connection)}["2026-03"]


def test_a_period_submitted_twice_at_once_is_claimed_once(
    cli: Cli,
    store,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """Two submissions of one card's month at once (two windows): the one stored while the
    other was drawing its PDF wins, the other is refused with a sentence; one claim, not two."""
    from sqlalchemy import text

    import etcbook.models.claims as claims
    from etcbook.models.workflow import Refused

    _ledger(cli, store)
    march = month_bounds("2026-03")
    prepare = claims.claim_from_store
    first: list[int] = []

    def another_window_submits_meanwhile(**kwargs):  # type: ignore[no-untyped-def]
        prepared = prepare(**kwargs)
        if not first:
            monkeypatch.setattr(claims, "claim_from_store", prepare)
            record, _ = submit_claim(
                store=store, card="1111", date_from=march[0], date_to=march[1], out=tmp_path / "b"
            )
            first.append(record.id)
        return prepared

    monkeypatch.setattr(claims, "claim_from_store", another_window_submits_meanwhile)
    with pytest.raises(Refused, match=r"この期間には申請中の申請 \d+ があります"):
        submit_claim(
            store=store, card="1111", date_from=march[0], date_to=march[1], out=tmp_path / "a"
        )
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT id FROM claims")).scalars().all()
    assert stored == first
