"""Cards of a fleet sharing their last 4 digits: every ``--card`` takes the card's id (``id:N``),
its 呼び名 (label) or last 4 digits only one card has; digits several cards share are refused with
the candidates, and an import never guesses which card a 明細CSV's digits mean."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import MEISAI, Cli, add_two_cards_sharing_6789

pytestmark = pytest.mark.both_backends

SAMPLE = MEISAI / "13col.csv"  # cards ****6789 and ****5678, 2024-10


def _one_card_file(path: Path, last4: str = "6789") -> Path:
    """The sample's header and its rows of one card (cp932, CRLF as downloaded)."""
    lines = SAMPLE.read_bytes().split(b"\r\n")
    path.write_bytes(
        b"\r\n".join([lines[0], *(line for line in lines[1:] if f"{last4},".encode() in line)])
        + b"\r\n"
    )
    return path


def _trip_counts(store_target: Path | str) -> dict[int, int]:
    from etcbook.models.store import open_store

    store = open_store(store_target)
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT card_id, count(*) FROM trips GROUP BY card_id")
            ).all()
    finally:
        store.close()
    return {int(card): int(n) for card, n in rows}


def test_a_second_card_with_the_same_last4_needs_a_label_of_its_own(cli: Cli) -> None:
    cli("card", "add", "--last4", "6789", "--holder", "山田", check=True)
    unnamed = cli("card", "add", "--last4", "6789", "--holder", "佐藤")
    assert unnamed.returncode == 3
    assert "--label" in unnamed.stderr and "id:1（山田）" in unnamed.stderr, unnamed.stderr
    added = cli("card", "add", "--last4", "6789", "--holder", "佐藤", "--label", "2号車", "--json")
    assert added.returncode == 0, added.stderr
    assert added.json()["card"]["label"] == "2号車"  # type: ignore[index]
    taken = cli("card", "add", "--last4", "1111", "--holder", "x", "--label", "2号車")
    assert taken.returncode == 3 and "すでに id:" in taken.stderr, taken.stderr
    for confusing in ("1234", "id:9", "****5678"):
        refused = cli("card", "add", "--last4", "2222", "--holder", "x", "--label", confusing)
        assert refused.returncode == 3 and "紛らわしい" in refused.stderr, (confusing, refused)
    cards = cli("card", "list", "--json", check=True).json()["cards"]  # type: ignore[index]
    assert sorted((c["id"], c["last4"], c["label"]) for c in cards) == [
        (1, "6789", None),
        (2, "6789", "2号車"),
    ]


def test_every_card_option_tells_shared_digits_apart_or_refuses_them(cli: Cli) -> None:
    add_two_cards_sharing_6789(cli)
    cli("card", "add", "--last4", "1111", "--holder", "佐藤", "--driver", "鈴木", check=True)
    # ambiguous: refused with the candidates (id, last 4, label/名義, 部署), nothing changed
    for args in (
        ("trips", "--card", "6789"),
        ("status", "--card", "6789"),
        ("card", "edit", "6789", "--notes", "x"),
        ("trip", "add", "--card", "6789", "--exit", "2026-03-01T09:00", "--to", "X", "--toll", "1"),
        ("card", "edit", "山田", "--notes", "x"),
    ):
        refused = cli(*args)
        assert refused.returncode == 3, (args, refused.stderr)
        assert "id:1（末尾6789 山田 営業部）" in refused.stderr, (args, refused.stderr)
        assert "id:2（末尾6789 2号車 配送部）" in refused.stderr, (args, refused.stderr)
    # by id and by label
    cli("card", "edit", "id:1", "--driver", "田中", check=True)
    cli("card", "edit", "2号車", "--driver", "高橋", check=True)
    cards = {c["id"]: c for c in cli("card", "list", "--json", check=True).json()["cards"]}  # type: ignore[index]
    assert (cards[1]["driver"], cards[2]["driver"], cards[3]["driver"]) == ("田中", "高橋", "鈴木")
    assert all(c["notes"] == "" for c in cards.values())
    # a card whose digits are its own works as before, by last 4, id, or a 利用者 only it has
    for card in ("1111", "id:3", "鈴木", "************1111"):
        done = cli("trips", "--card", card, "--json")
        assert done.returncode == 0, (card, done.stderr)
    # unknown references
    assert cli("trips", "--card", "id:99").returncode == 3
    unknown = cli("trips", "--card", "3号車")
    assert unknown.returncode == 3 and "カード「3号車」は登録されていません" in unknown.stderr
    assert cli("trips", "--card", "12").returncode == 2  # digits are a card number


def test_a_card_table_cannot_fill_cards_sharing_their_digits(cli: Cli, tmp_path: Path) -> None:
    add_two_cards_sharing_6789(cli)
    table = tmp_path / "cards.csv"
    table.write_text("末尾,利用者\n6789,高橋\n", encoding="utf-8")
    refused = cli("card", "fill", str(table))
    assert refused.returncode == 3
    assert "カード末尾6789のカードが2枚" in refused.stderr and "id:2（2号車）" in refused.stderr
    cards = cli("card", "list", "--json", check=True).json()["cards"]  # type: ignore[index]
    assert {c["driver"] for c in cards} == {""}


def test_an_import_never_guesses_which_card_shared_digits_mean(
    cli: Cli, store_target: Path | str, tmp_path: Path
) -> None:
    add_two_cards_sharing_6789(cli)
    sample = _one_card_file(tmp_path / "明細 #1.csv")
    refused = cli("import", str(sample), "--json")
    assert refused.returncode == 3
    assert "明細 #1.csv" in refused.stderr and "カード末尾6789のカードが2枚" in refused.stderr
    assert "id:1（末尾6789 山田 営業部）" in refused.stderr
    assert "id:2（末尾6789 2号車 配送部）" in refused.stderr
    assert refused.json()["committed"] is False  # type: ignore[index]
    assert _trip_counts(store_target) == {}
    # a file of other digits beside it: refused whole too
    other = _one_card_file(tmp_path / "other.csv", "5678")
    both = cli("import", str(other), str(sample))
    assert both.returncode == 3 and _trip_counts(store_target) == {}
    # --card picks the card, by label or id
    done = cli("import", "--card", "2号車", str(sample), "--json")
    assert done.returncode == 0, done.stderr
    inserted = done.json()["inserted"]  # type: ignore[index]
    assert inserted > 0 and _trip_counts(store_target) == {2: inserted}
    again = cli("import", "--card", "id:1", str(sample), "--json", check=True).json()
    assert again["inserted"] == inserted  # type: ignore[index]
    assert _trip_counts(store_target) == {1: inserted, 2: inserted}
    # digits only one card has import exactly as before (new cards are still created)
    alone = cli("import", str(other), "--json", check=True).json()
    assert alone["new_cards"] == ["5678"]  # type: ignore[index]


def test_cards_sharing_digits_keep_their_own_trips_points_and_claims(
    cli: Cli, tmp_path: Path
) -> None:
    add_two_cards_sharing_6789(cli)
    sample = _one_card_file(tmp_path / "明細.csv")
    imported = cli("import", "--card", "id:1", str(sample), "--json", check=True).json()
    added = cli(
        "trip",
        "add",
        "--card",
        "2号車",
        "--exit",
        "2024-10-20T09:00",
        "--to",
        "東京",
        "--toll",
        "1000",
        "--json",
        check=True,
    ).json()["trip"]  # type: ignore[index]
    assert (added["card"], added["card_id"]) == ("6789", 2)
    # trips: each card its own rows, by id or label; the list of all tells them apart
    first = cli("trips", "--card", "id:1", "--json", check=True).json()["trips"]  # type: ignore[index]
    second = cli("trips", "--card", "2号車", "--json", check=True).json()["trips"]  # type: ignore[index]
    assert len([t for t in first if not t["passage"]]) == imported["inserted"]  # type: ignore[index]
    assert {t["card_id"] for t in first} == {1} and {t["card"] for t in first} == {"6789"}
    assert [(t["id"], t["card_id"], t["billed"]) for t in second] == [(added["id"], 2, 1000)]
    assert second[0]["points"] == added["points"] > 0
    everything = cli("trips", "--json", check=True).json()["trips"]  # type: ignore[index]
    assert sorted(t["card_id"] for t in everything) == sorted([1] * len(first) + [2] * len(second))
    # points: an adjustment and an exchange of id:2 leave id:1 as it was
    as_of = ("--as-of", "2024-10-31")
    before = cli("status", "--card", "id:1", *as_of, "--json", check=True).json()["cards"]  # type: ignore[index]
    adjusted = cli(
        "adjust",
        "--card",
        "id:2",
        "--pool",
        "nexco",
        "--points",
        "1000",
        "--on",
        "2024-10-01",
        "--reason",
        "キャンペーン",
        "--json",
        check=True,
    ).json()["adjustment"]  # type: ignore[index]
    assert (adjusted["card"], adjusted["card_id"]) == ("6789", 2)
    exchanged = cli(
        "exchange",
        "--card",
        "2号車",
        "--pool",
        "nexco",
        "--points",
        "1000",
        "--at",
        "2024-10-02T12:00",
        "--json",
        check=True,
    ).json()
    assert (exchanged["card"], exchanged["card_id"], exchanged["points"]) == ("6789", 2, 1000)  # type: ignore[index]
    # the records of id:2 only, and its exchange reversed on its own card
    records = cli("reverse", "--card", "2号車", "--json", check=True).json()["records"]  # type: ignore[index]
    assert sorted((r["kind"], r["id"]) for r in records) == [
        ("adjustment", adjusted["id"]),
        ("exchange", exchanged["id"]),  # type: ignore[index]
    ]
    assert cli("reverse", "--card", "id:1", "--json", check=True).json() == {"records": []}
    undone = cli(
        "reverse",
        "--exchange",
        str(exchanged["id"]),
        "--reason",
        "記録の誤り",
        "--json",  # type: ignore[index]
    )
    assert undone.returncode == 0, undone.stderr
    exchanged = cli(
        "exchange",
        "--card",
        "2号車",
        "--pool",
        "nexco",
        "--points",
        "1000",
        "--at",
        "2024-10-02T12:00",
        "--json",
        check=True,
    ).json()
    after = cli("status", "--card", "id:1", *as_of, "--json", check=True).json()["cards"]  # type: ignore[index]
    assert after == before and [c["card_id"] for c in after] == [1]
    (own,) = cli("status", "--card", "2号車", *as_of, "--json", check=True).json()["cards"]  # type: ignore[index]
    assert own["card_id"] == 2
    (trip,) = cli("trips", "--card", "id:2", "--json", check=True).json()["trips"]  # type: ignore[index]
    assert trip["rebate_applied"] > 0  # the exchange's rebate pays the trip of id:2
    assert own["rebate_balance"] == exchanged["yen"] - trip["rebate_applied"]  # type: ignore[index]
    listed = cli("status", *as_of, "--json", check=True).json()["cards"]  # type: ignore[index]
    assert {c["card_id"]: c for c in listed} == {1: before[0], 2: own}
    human = cli("status", *as_of, check=True).stdout
    assert "id:1（末尾6789）" in human and "id:2（末尾6789）" in human
    # a claim of each card holds that card's trips only
    cli("trip", "edit", str(added["id"]), "--business-share", "100", check=True)
    cli("trip", "edit", str(first[0]["id"]), "--business-share", "100", check=True)
    period = ("--from", "2024-10-01", "--to", "2024-10-31", "--json")
    claimed = {
        card: cli("claim", "submit", "--card", card, *period, check=True).json()
        for card in ("id:1", "2号車")
    }
    assert claimed["2号車"]["trips"] == 1 and claimed["2号車"]["total"] == trip["toll"]  # type: ignore[index]
    assert claimed["id:1"]["trips"] == 1 and claimed["id:1"]["total"] == first[0]["toll"]  # type: ignore[index]
    for card, out in (("2号車", "report 2"), ("id:1", "report 1")):
        report = cli(
            "report",
            "--card",
            card,
            "--from",
            "2024-10-01",
            "--to",
            "2024-10-31",
            "--out",
            str(tmp_path / out),
            "--json",
            check=True,
        ).json()
        assert report["trips"] == 1, report  # type: ignore[index]
        assert report["claimed_total"] == claimed[card]["total"]  # type: ignore[index]


def test_originals_of_cards_sharing_digits_are_kept_apart(cli: Cli, tmp_path: Path) -> None:
    add_two_cards_sharing_6789(cli)
    added = {}
    for card in ("id:1", "2号車"):
        source = tmp_path / f"明細 {card[-1]}.pdf"
        source.write_bytes(f"%PDF-1.4 statement of {card}".encode())
        added[card] = cli(
            "evidence",
            "add",
            str(source),
            "--kind",
            "statement",
            "--card",
            card,
            "--month",
            "2024-10",
            "--json",
            check=True,
        ).json()["document"]  # type: ignore[index]
    # same digits, kind and month: two series, named apart, each its own version 1
    assert [(d["card"], d["card_id"], d["version"]) for d in added.values()] == [
        ("6789", 1, 1),
        ("6789", 2, 1),
    ]
    assert "CARD6789-id1_" in added["id:1"]["path"] and "CARD6789-id2_" in added["2号車"]["path"]
    for card, command in (("id:1", "search"), ("2号車", "list")):
        found = cli("evidence", command, "--card", card, "--json", check=True).json()
        assert [d["id"] for d in found["documents"]] == [added[card]["id"]]  # type: ignore[index]
    ambiguous = tmp_path / "which.pdf"
    ambiguous.write_bytes(b"%PDF-1.4 which card")
    refused = cli(
        "evidence",
        "add",
        str(ambiguous),
        "--kind",
        "statement",
        "--card",
        "6789",
        "--month",
        "2024-10",
    )
    assert refused.returncode == 3 and "id:2（末尾6789 2号車 配送部）" in refused.stderr
    # digits no card has are kept under the digits, and the card registered later takes them
    later = tmp_path / "later.pdf"
    later.write_bytes(b"%PDF-1.4 card to come")
    kept = cli(
        "evidence",
        "add",
        str(later),
        "--kind",
        "statement",
        "--card",
        "4321",
        "--month",
        "2024-10",
        "--json",
        check=True,
    ).json()["document"]  # type: ignore[index]
    assert "card_id" not in kept  # said only for digits several cards share
    cli("card", "add", "--last4", "4321", "--holder", "鈴木", check=True)
    # listed by the card's id (id:3), so the card took the original
    (taken,) = cli("evidence", "list", "--card", "id:3", "--json", check=True).json()["documents"]  # type: ignore[index]
    assert taken["id"] == kept["id"]
