"""``etcbook incident …`` through a subprocess: steps, contact log, card change, suspicious trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from etcbook.models.store import open_store

pytestmark = pytest.mark.both_backends

HEADER_13 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,車種,車両番号,ＥＴＣカード番号,備考"
)


def write_meisai(path: Path, card: str, rows: list[tuple[str, str, str, str, int]]) -> Path:
    """A 13-column 明細CSV: rows of (exit date YY/MM/DD, exit time, entry IC, exit IC, toll)."""
    lines = [HEADER_13]
    for day, time, entry, exit_, toll in rows:
        lines.append(
            f"{day},{time[:2]}:{int(time[3:]) // 2:02d},{day},{time},{entry},{exit_},,,{toll},1,1234,"
            f"************{card},"
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return path


@pytest.fixture
def cards(cli):  # type: ignore[no-untyped-def]
    cli("card", "add", "--holder", "山田太郎", "--last4", "1234", "--mileage-id", "M1", check=True)
    cli("card", "add", "--holder", "山田 太郎", "--last4", "4321", check=True)
    cli("card", "add", "--holder", "山田花子", "--last4", "5678", check=True)
    return cli


def test_incident_walkthrough_and_card_change(cards, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli = cards
    opened = cli(
        "incident",
        "open",
        "--card",
        "1234",
        "--kind",
        "lost",
        "--noticed-at",
        "2026-03-10T08:00",
        "--json",
        check=True,
    ).json()
    incident_id = opened["incident"]["id"]
    assert [s["state"] for s in opened["incident"]["steps"]][:2] == ["next", "pending"]

    cli(
        "incident",
        "step",
        str(incident_id),
        "issuer_stop",
        "--at",
        "2026-03-10T08:20",
        "--desk",
        "カード会社 紛失デスク",
        "--reference",
        "R-1",
        "--person",
        "田中",
        check=True,
    )
    cli(
        "incident", "step", str(incident_id), "mileage_stop", "--at", "2026-03-10T08:30", check=True
    )
    missing = cli("incident", "step", str(incident_id), "police_report", "--at", "2026-03-10T10:00")
    assert missing.returncode == 3 and "受理番号" in missing.stderr
    cli(
        "incident",
        "step",
        str(incident_id),
        "police_report",
        "--at",
        "2026-03-10T10:00",
        "--police-station",
        "厚木警察署",
        "--accepted-number",
        "第123号",
        "--accepted-on",
        "2026-03-10",
        check=True,
    )
    contact = cli(
        "incident",
        "contact",
        str(incident_id),
        "--at",
        "2026-03-11T09:00",
        "--desk",
        "ETCマイレージサービス事務局",
        "--person",
        "佐藤",
        "--reference",
        "Q-9",
        "--summary",
        "利用停止を確認",
        "--json",
        check=True,
    ).json()
    assert contact["incident"]["contacts"][0]["reference"] == "Q-9"

    refused = cli(
        "incident",
        "step",
        str(incident_id),
        "card_change",
        "--at",
        "2026-03-20T23:50",
        "--new-card",
        "5678",
    )
    assert refused.returncode == 3
    assert "名義が違う" in refused.stderr and "山田花子" in refused.stderr

    changed = cli(
        "incident",
        "step",
        str(incident_id),
        "card_change",
        "--at",
        "2026-03-20T23:50",
        "--new-card",
        "4321",
        "--json",
        check=True,
    ).json()
    steps = {s["step"]: s for s in changed["incident"]["steps"]}
    assert steps["card_change"]["state"] == "done"
    assert steps["police_report"]["details"]["accepted_number"] == "第123号"
    listed = {c["last4"]: c for c in cli("card", "list", "--json", check=True).json()["cards"]}
    assert listed["1234"]["status"] == "replaced"
    assert listed["4321"]["mileage_id"] == "M1"

    again = cli(
        "incident",
        "step",
        str(incident_id),
        "card_change",
        "--at",
        "2026-03-21T10:00",
        "--new-card",
        "4321",
    )
    assert again.returncode == 3

    csv = write_meisai(
        tmp_path / "m.csv",
        "1234",
        [
            ("26/03/10", "07:50", "厚木", "横浜町田", 930),
            ("26/03/12", "18:40", "横浜町田", "厚木", 930),
        ],
    )
    cli("import", str(csv), check=True)
    suspicious = cli("incident", "suspicious", "--json", check=True).json()["trips"]
    assert [t["exit_at"] for t in suspicious] == ["2026-03-12T18:40:00"]
    assert suspicious[0]["incident_id"] == incident_id

    # the engine: the stop is a card stop, the points moved to the new card with their dates
    status = cli("status", "--as-of", "2026-05-01", "--json", check=True).json()
    cards_status = {c["card"]: c for c in status["cards"]}
    (new_pool,) = cards_status["4321"]["pools"]
    assert new_pool["pool"] == "nexco" and new_pool["points"] == 93
    assert [(lot["granted_on"], lot["expires_on"]) for lot in new_pool["lots"]] == [
        ("2026-04-20", "2028-03-31")
    ]
    assert all(pool["points"] == 0 for pool in cards_status["1234"]["pools"])
    assert cards_status["1234"]["rebate_balance"] == 0

    closed = cli(
        "incident", "close", str(incident_id), "--at", "2026-03-25T12:00", "--json", check=True
    ).json()
    assert closed["incident"]["closed_at"] == "2026-03-25T12:00:00"
    assert cli("incident", "list", "--open", "--json", check=True).json()["incidents"] == []


def test_change_card_without_incident(cards) -> None:  # type: ignore[no-untyped-def]
    cli = cards
    link = cli(
        "incident",
        "change-card",
        "--card",
        "1234",
        "--new-card",
        "4321",
        "--at",
        "2026-05-31T23:50",
        "--json",
        check=True,
    ).json()["link"]
    assert link["effective_at"] == "2026-06-01T00:00:00"
    refused = cli(
        "incident",
        "change-card",
        "--card",
        "4321",
        "--new-card",
        "5678",
        "--at",
        "2026-06-10T10:00",
    )
    assert refused.returncode == 3 and "名義が違う" in refused.stderr


def test_unknown_incident_and_bad_usage(cards) -> None:  # type: ignore[no-untyped-def]
    cli = cards
    assert cli("incident", "show", "99").returncode == 3
    assert cli("incident", "step", "1", "no_such_step", "--at", "2026-01-01T00:00").returncode == 2
    assert cli("incident", "open", "--card", "0000", "--kind", "lost").returncode == 3
    guide = cli("incident", "guide", "--json", check=True).json()["steps"]
    assert guide[0]["step"] == "issuer_stop"


def incident_with_issuer_stop(cli, kind: str) -> str:  # type: ignore[no-untyped-def]
    """An incident on card 5678 noticed 2026-03-10 06:30, the issuer told at 07:10; its id."""
    opened = cli(
        "incident", "open", "--card", "5678", "--kind", kind,
        "--noticed-at", "2026-03-10T06:30", "--json", check=True,
    ).json()  # fmt: skip
    incident_id = str(opened["incident"]["id"])
    cli("incident", "step", incident_id, "issuer_stop", "--at", "2026-03-10T07:10",
        "--desk", "カード会社 紛失・盗難デスク", check=True)  # fmt: skip
    return incident_id


def rows(cli, sql: str) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    """What ``sql`` reads from the CLI's store (a file or a server ledger)."""
    store = open_store(cli.db)
    try:
        with store.engine.connect() as connection:
            return [tuple(row) for row in connection.exec_driver_sql(sql)]
    finally:
        store.close()


def test_mileage_stop_step_on_a_card_already_stopped_is_not_doubled(cards) -> None:  # type: ignore[no-untyped-def]
    cli = cards
    cli("card", "stop", "5678", "--at", "2026-03-10T07:00", "--note", "電話で停止", check=True)
    incident_id = incident_with_issuer_stop(cli, "stolen")
    step = cli("incident", "step", incident_id, "mileage_stop", "--at", "2026-03-10T08:00",
               "--json", check=True)  # fmt: skip
    assert "すでに利用停止中" in step.stderr and "追加しません" in step.stderr
    stops = rows(cli, "SELECT at, stopped, note FROM card_stops")
    (status,) = rows(cli, "SELECT status FROM cards WHERE last4 = '5678'")[0]
    steps = rows(cli, "SELECT step FROM incident_steps ORDER BY id")
    assert stops == [("2026-03-10T07:00:00", True, "電話で停止")]
    assert status == "stopped"
    assert [s for (s,) in steps] == ["issuer_stop", "mileage_stop"]


def test_mileage_stop_step_stops_a_card_that_was_resumed(cards) -> None:  # type: ignore[no-untyped-def]
    cli = cards
    cli("card", "stop", "5678", "--at", "2026-03-01T07:00", check=True)
    cli("card", "resume", "5678", "--at", "2026-03-05T07:00", check=True)
    incident_id = incident_with_issuer_stop(cli, "lost")
    step = cli("incident", "step", incident_id, "mileage_stop", "--at", "2026-03-10T08:00",
               check=True)  # fmt: skip
    assert "すでに利用停止中" not in step.stderr
    stops = rows(cli, "SELECT at, stopped FROM card_stops ORDER BY at")
    (status,) = rows(cli, "SELECT status FROM cards WHERE last4 = '5678'")[0]
    assert stops[-1] == ("2026-03-10T08:00:00", True) and len(stops) == 3
    assert status == "stopped"
