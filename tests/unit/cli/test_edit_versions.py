"""Optimistic version checks (issue 15 item 5): an edit that started from a trip, card or claim
another client has changed since is refused with a sentence (exit 3), and nothing is lost."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import Cli

pytestmark = pytest.mark.both_backends

STALE_TRIP = "この走行は他の利用者が変更しました。最新の内容を読み込んでからやり直してください"


def _trip(cli: Cli) -> dict[str, Any]:
    cli("card", "add", "--last4", "1111", "--holder", "山田", check=True)
    added = cli(
        "trip",
        "add",
        "--card",
        "1111",
        "--exit",
        "2026-03-10T09:00",
        "--to",
        "横浜町田",
        "--toll",
        "1200",
        "--json",
        check=True,
    ).json()
    return added["trip"]  # type: ignore[index,no-any-return]


def _stored_trip(cli: Cli) -> dict[str, Any]:
    return cli("trips", "--json", check=True).json()["trips"][0]  # type: ignore[index,no-any-return]


def test_a_trip_edit_from_an_old_version_is_refused_and_nothing_is_lost(cli: Cli) -> None:
    trip = _trip(cli)
    read = trip["version"]  # both clients read the trip at this version
    first = cli(
        "trip", "edit", str(trip["id"]), "--purpose", "営業", "--version", str(read), "--json"
    )
    assert first.returncode == 0, first.stderr
    assert first.json()["trip"]["version"] > read  # type: ignore[index]
    second = cli("trip", "edit", str(trip["id"]), "--business-share", "100", "--version", str(read))
    assert second.returncode == 3
    assert STALE_TRIP in second.stderr, second.stderr
    stored = _stored_trip(cli)
    assert (stored["purpose"], stored["business_share"]) == ("営業", 0)
    # Read again, edit again: accepted, and the first client's purpose is still there.
    again = cli(
        "trip",
        "edit",
        str(trip["id"]),
        "--business-share",
        "100",
        "--version",
        str(stored["version"]),
        check=True,
    )
    assert again.returncode == 0
    stored = _stored_trip(cli)
    assert (stored["purpose"], stored["business_share"]) == ("営業", 100)


def test_an_edit_that_changes_nothing_keeps_the_version(cli: Cli) -> None:
    trip = _trip(cli)
    cli("trip", "edit", str(trip["id"]), "--purpose", "", "--version", str(trip["version"]))
    assert _stored_trip(cli)["version"] == trip["version"]


def test_a_card_edit_from_an_old_version_is_refused(cli: Cli) -> None:
    cli("card", "add", "--last4", "2222", "--holder", "山田", check=True)
    read = cli("card", "list", "--json", check=True).json()["cards"][0]["version"]  # type: ignore[index]
    cli("card", "edit", "2222", "--driver", "鈴木", "--version", str(read), check=True)
    refused = cli("card", "edit", "2222", "--department", "営業部", "--version", str(read))
    assert refused.returncode == 3
    assert "このカードは他の利用者が変更しました" in refused.stderr, refused.stderr
    card = cli("card", "list", "--json", check=True).json()["cards"][0]  # type: ignore[index]
    assert (card["driver"], card["department"]) == ("鈴木", "")
    assert card["version"] > read


def test_a_claim_decided_by_someone_else_meanwhile_is_refused(cli: Cli) -> None:
    trip = _trip(cli)
    cli("trip", "edit", str(trip["id"]), "--business-share", "100", check=True)
    submitted = cli(
        "claim", "submit", "--card", "1111", "--from", "2026-03-01", "--to", "2026-03-31", "--json"
    )
    assert submitted.returncode == 0, submitted.stderr
    listed = cli("claim", "list", "--json", check=True).json()["claims"][0]  # type: ignore[index]
    claim, read = str(listed["id"]), str(listed["version"])
    cli(
        "claim", "return", claim, "--comment", "用途を書いてください", "--version", read, check=True
    )
    refused = cli("claim", "approve", claim, "--version", read)
    assert refused.returncode == 3
    assert "この申請は他の利用者が変更しました" in refused.stderr, refused.stderr
    after = cli("claim", "list", "--json", check=True).json()["claims"][0]  # type: ignore[index]
    assert (after["status"], after["comment"]) == ("returned", "用途を書いてください")


def test_any_other_writer_bumps_the_version(store: Any) -> None:
    """A change by a path that knows nothing of versions (the importer's 確定 replacement,
    the claims workflow, a script) still makes an edit started before it stale."""
    from etcbook.models.audit import edit_trip
    from etcbook.models.versions import StaleEdit

    trip_id, read = _bare_trip(store)
    with store.transaction() as connection:
        connection.execute(text("UPDATE trips SET toll = 1300 WHERE id = :i"), {"i": trip_id})
    with pytest.raises(StaleEdit), store.transaction() as connection:
        edit_trip(
            connection=connection,
            trip_id=trip_id,
            changes={"purpose": "営業"},
            expected_version=read,
        )
    with store.engine.connect() as connection:
        row = connection.execute(
            text("SELECT purpose, toll, version FROM trips WHERE id = :i"), {"i": trip_id}
        ).one()
    assert (row.purpose, row.toll, row.version) == ("", 1300, read + 1)


def _bare_trip(store: Any) -> tuple[int, int]:
    from etcbook import clock

    with store.transaction() as connection:
        card = connection.execute(
            text(
                "INSERT INTO cards (last4, holder, created_at) VALUES ('3333', '山田', :at)"
                " RETURNING id"
            ),
            {"at": clock.now().isoformat()},
        ).scalar_one()
        trip = connection.execute(
            text(
                "INSERT INTO trips (card_id, exit_at, exit_ic, toll, trip_key)"
                " VALUES (:c, '2026-03-10T09:00:00', '横浜町田', 1200, 'k1') RETURNING id, version"
            ),
            {"c": card},
        ).one()
    return int(trip.id), int(trip.version)


def test_two_sessions_editing_at_once_the_second_is_refused(store_target: Path | str) -> None:
    """Two clients read the trip, both write; the first holds its transaction open while the
    second tries: the second waits for it, then is refused; the first one's change stays."""
    from etcbook.models.store import open_store
    from etcbook.models.ui_queries import update_trips
    from etcbook.models.versions import StaleEdit

    first_store = open_store(store_target)
    second_store = open_store(store_target)
    try:
        trip_id, read = _bare_trip(first_store)
        outcome: dict[str, Any] = {}
        first_wrote = threading.Event()
        release = threading.Event()

        def first() -> None:
            with first_store.transaction() as connection:
                update_trips(
                    connection=connection, ids=[trip_id], purpose="営業", versions={trip_id: read}
                )
                first_wrote.set()
                release.wait(10)

        def second() -> None:
            first_wrote.wait(10)
            try:
                with second_store.transaction(wait_s=30) as connection:
                    update_trips(
                        connection=connection,
                        ids=[trip_id],
                        purpose="私用",
                        business_share=0,
                        versions={trip_id: read},
                    )
                outcome["second"] = "written"
            except StaleEdit as refused:
                outcome["second"] = str(refused)

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        first_wrote.wait(10)
        threading.Timer(0.5, release.set).start()  # the second is waiting on the first by then
        for thread in threads:
            thread.join(60)
        assert STALE_TRIP in outcome["second"]
        with first_store.engine.connect() as connection:
            purpose = connection.execute(
                text("SELECT purpose FROM trips WHERE id = :i"), {"i": trip_id}
            ).scalar_one()
        assert purpose == "営業"
    finally:
        first_store.close()
        second_store.close()
