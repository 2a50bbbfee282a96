"""``etcbook evidence …`` and ``etcbook report`` run as a user's script would, on a temporary store."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from vaultkit import bytes_at, tamper_at

pytestmark = pytest.mark.both_backends

DOCUMENT_KEYS = {
    "id",
    "path",
    "sha256",
    "kind",
    "card",
    "month",
    "date",
    "amount",
    "counterparty",
    "version",
}


@pytest.fixture
def demo_cli(cli, demo_target: Path | str):  # type: ignore[no-untyped-def]
    """The CLI on a private copy of the demo store (on the test's backend)."""
    return type(cli)(demo_target)


def exported(cli, document_id: int, folder: Path) -> bytes:  # type: ignore[no-untyped-def]
    """The original's bytes as ``evidence export`` writes them (checked on the way out)."""
    done = cli("evidence", "export", str(document_id), "--out", str(folder), "--json", check=True)
    return Path(done.json()["file"]).read_bytes()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "downloads"
    folder.mkdir()
    out = {}
    for name, data in {
        "statement.pdf": b"%PDF-1.4 invented statement",
        "statement_fixed.pdf": b"%PDF-1.4 invented statement, corrected",
        "certificate.pdf": b"%PDF-1.4 invented certificate",
        "rebate.png": b"\x89PNG invented screenshot",
    }.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out


def test_add_list_search_and_versions(cli, files: dict[str, Path], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    added = cli(
        "evidence",
        "add",
        str(files["statement.pdf"]),
        "--kind",
        "statement",
        "--card",
        "1234",
        "--month",
        "2025-11",
        "--date",
        "2025-12-10",
        "--amount",
        "45,230",
        "--counterparty",
        "テストカード",
        "--vehicle",
        "CarA",
        "--json",
        check=True,
    ).json()["document"]
    assert set(added) == DOCUMENT_KEYS
    assert Path(added["path"]).name == "2025-11_CARD1234_CarA_請求.pdf"
    assert exported(cli, added["id"], tmp_path) == files["statement.pdf"].read_bytes()
    assert bytes_at(cli.db, added["id"]) == files["statement.pdf"].read_bytes()
    assert added["amount"] == 45230 and added["date"] == "2025-12-10"

    again = cli(
        "evidence",
        "add",
        str(files["statement.pdf"]),
        "--kind",
        "statement",
        "--card",
        "1234",
        "--month",
        "2025-11",
    )
    assert again.returncode == 3 and "すでに保管" in again.stderr

    fixed = cli(
        "evidence",
        "add",
        str(files["statement_fixed.pdf"]),
        "--kind",
        "statement",
        "--card",
        "1234",
        "--month",
        "2025-11",
        "--vehicle",
        "CarA",
        "--json",
        check=True,
    ).json()["document"]
    assert fixed["version"] == 2
    assert bytes_at(cli.db, added["id"]) == files["statement.pdf"].read_bytes()
    assert bytes_at(cli.db, fixed["id"]) == files["statement_fixed.pdf"].read_bytes()

    cli(
        "evidence",
        "add",
        str(files["rebate.png"]),
        "--kind",
        "screen_rebate",
        "--card",
        "1234",
        "--month",
        "2025-11",
        "--date",
        "2025-11-30",
        check=True,
    )
    listed = cli("evidence", "list", "--json", check=True).json()
    assert list(listed) == ["documents"]
    assert len(listed["documents"]) == 3
    assert all(set(d) == DOCUMENT_KEYS for d in listed["documents"])

    found = cli(
        "evidence",
        "search",
        "--from",
        "2025-12-01",
        "--to",
        "2025-12-31",
        "--min-amount",
        "1000",
        "--max-amount",
        "50000",
        "--counterparty",
        "テスト",
        "--kind",
        "statement",
        "--card",
        "1234",
        "--json",
        check=True,
    ).json()["documents"]
    assert [d["id"] for d in found] == [added["id"]]
    assert cli("evidence", "search", "--card", "9999", "--json", check=True).json() == {
        "documents": []
    }


def test_bad_kind_is_a_usage_error_and_a_missing_file_bad_input(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    usage = cli(
        "evidence", "add", "x.pdf", "--kind", "photo", "--card", "1234", "--month", "2025-11"
    )
    assert usage.returncode == 2
    missing = cli(
        "evidence",
        "add",
        str(tmp_path / "nope.pdf"),
        "--kind",
        "other",
        "--card",
        "1234",
        "--month",
        "2025-11",
    )
    assert missing.returncode == 3


def test_verify_the_vault(cli, files: dict[str, Path], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = [
        cli(
            "evidence",
            "add",
            str(files[name]),
            "--kind",
            kind,
            "--card",
            "1234",
            "--month",
            "2025-11",
            "--json",
            check=True,
        ).json()["document"]
        for name, kind in (("statement.pdf", "statement"), ("certificate.pdf", "certificate"))
    ]
    ok = cli("evidence", "verify", "--json")
    assert ok.returncode == 0
    assert ok.json()["intact"] is True
    altered = Path(docs[0]["path"])
    tamper_at(cli.db, docs[0], b"forged")
    tamper_at(cli.db, docs[1], None)
    bad = cli("evidence", "verify", "--json")
    assert bad.returncode == 3
    document = bad.json()
    assert document["intact"] is False
    assert [Path(p).name for p in document["altered"]] == [altered.name]
    assert [Path(p).name for p in document["missing"]] == [Path(docs[1]["path"]).name]
    assert altered.name in bad.stderr
    # an altered original is never handed out
    refused = cli("evidence", "export", str(docs[0]["id"]), "--out", str(tmp_path / "x.pdf"))
    assert refused.returncode == 3 and "記録と違います" in refused.stderr, refused.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_report_writes_claim_and_bundle_that_verifies(
    demo_cli, files: dict[str, Path], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    demo_cli(
        "evidence",
        "add",
        str(files["statement.pdf"]),
        "--kind",
        "certificate",
        "--card",
        "9012",
        "--month",
        "2026-09",
        check=True,
    )
    out = tmp_path / "claims"
    result = demo_cli(
        "report",
        "--card",
        "9012",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
        "--out",
        str(out),
        "--claimant",
        "佐藤 一郎",
        "--department",
        "物流2課",
        "--json",
        check=True,
    ).json()
    assert Path(result["pdf"]).name == "2026-09_CARD9012_経費精算.pdf"
    assert Path(result["csv"]).name == "2026-09_CARD9012_経費精算.csv"
    assert Path(result["bundle"]).name == "2026-09_CARD9012_経費精算.zip"
    trips = demo_cli(
        "trips",
        "--card",
        "9012",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
        "--json",
        check=True,
    ).json()["trips"]
    expected = sum(t["billed"] * t["business_share"] // 100 for t in trips if t["business_share"])
    assert result["claimed_total"] == expected > 0
    assert result["trips"] == sum(1 for t in trips if t["business_share"])
    certificate = "originals/2026-09_CARD9012_利用証明.pdf"  # the one just added
    with zipfile.ZipFile(result["bundle"]) as archive:
        originals = sorted(n for n in archive.namelist() if n.startswith("originals/"))
    # with the statement and 明細CSV the sample keeps for that month
    assert originals == sorted(
        [certificate, "originals/2026-09_CARD9012_請求.pdf", "originals/2026-09_CARD9012_明細.csv"]
    )

    verified = demo_cli("evidence", "verify", "--bundle", result["bundle"], "--json")
    assert verified.returncode == 0 and verified.json()["intact"] is True

    with zipfile.ZipFile(result["bundle"]) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    with zipfile.ZipFile(result["bundle"], "w") as archive:
        for name, data in members.items():
            if name == "2026-09_CARD9012_経費精算.csv":
                continue
            archive.writestr(name, data + b"!" if name == certificate else data)
    tampered = demo_cli("evidence", "verify", "--bundle", result["bundle"], "--json")
    assert tampered.returncode == 3
    document = tampered.json()
    assert document["missing"] == ["2026-09_CARD9012_経費精算.csv"]
    assert document["altered"] == [certificate]


def test_report_refuses_an_unknown_card(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "report",
        "--card",
        "4321",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
        "--out",
        str(tmp_path / "o"),
        "--json",
    )
    assert result.returncode == 3
    assert result.stdout == ""


def test_remove_missing_and_audit(cli, files: dict[str, Path], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = cli(
        "evidence",
        "add",
        str(files["statement.pdf"]),
        "--kind",
        "statement",
        "--card",
        "1234",
        "--month",
        "2025-11",
        "--json",
        check=True,
    ).json()["document"]
    removed = cli(
        "evidence", "remove", str(doc["id"]), "--reason", "別カード", "--json", check=True
    )
    assert removed.json()["document"]["id"] == doc["id"]
    if Path(doc["path"]).is_absolute():  # a file beside the store (SQLite): moved to the trash
        assert not Path(doc["path"]).exists()
    # the removed original is kept, intact
    assert exported(cli, doc["id"], tmp_path) == files["statement.pdf"].read_bytes()
    assert cli("evidence", "list", "--json", check=True).json() == {"documents": []}
    months = cli("evidence", "missing", "--all", "--json", check=True).json()["months"]
    assert isinstance(months, list)
    audit_csv = tmp_path / "audit.csv"
    audit = cli("evidence", "audit", "--csv", str(audit_csv), "--json", check=True).json()
    assert [e["action"] for e in audit["entries"]] == ["add", "remove"]
    assert audit["entries"][1]["reason"] == "別カード"
    assert audit_csv.read_bytes().startswith(b"\xef\xbb\xbf")


def test_verify_bundle_that_is_not_a_bundle(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.zip"
    path.write_bytes(b"nope")
    result = cli("evidence", "verify", "--bundle", str(path), "--json")
    assert result.returncode == 3
    assert json.loads(result.stdout or "null") is None


def test_report_refuses_an_altered_vault_original(
    demo_cli, files: dict[str, Path], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    doc = demo_cli(
        "evidence",
        "add",
        str(files["statement.pdf"]),
        "--kind",
        "statement",
        "--card",
        "9012",
        "--month",
        "2026-09",
        "--json",
        check=True,
    ).json()["document"]
    tamper_at(demo_cli.db, doc, b"forged")
    result = demo_cli(
        "report",
        "--card",
        "9012",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
        "--out",
        str(tmp_path / "o"),
        "--json",
    )
    assert result.returncode == 3
    assert "記録と内容が違う" in result.stderr
    assert result.stdout == ""
