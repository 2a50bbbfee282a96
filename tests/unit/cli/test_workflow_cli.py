"""Month closing and the claims workflow on a personal (SQLite) ledger: one user, every right;
the same database triggers refuse changes to a closed month or an approved claim's trips."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MEISAI, Cli

pytestmark = pytest.mark.both_backends


def _fill(cli: Cli) -> list[int]:
    cli("card", "add", "--last4", "1111", "--holder", "山田", check=True)
    ids = []
    for day in ("2026-03-10T09:00", "2026-04-10T09:00"):
        added = cli(
            "trip",
            "add",
            "--card",
            "1111",
            "--exit",
            day,
            "--to",
            "横浜町田",
            "--toll",
            "1200",
            "--json",
            check=True,
        ).json()
        ids.append(int(added["trip"]["id"]))  # type: ignore[index]
    return ids


def test_month_close_and_reopen(cli: Cli) -> None:
    march, april = _fill(cli)
    assert cli("month", "close", "2026-13").returncode == 3
    cli("month", "close", "2026-03", check=True)
    assert (
        cli("month", "list", "--json", check=True).json()["closed_months"][0]["month"] == "2026-03"
    )  # type: ignore[index]
    edit = cli("trip", "edit", str(march), "--purpose", "営業")
    assert edit.returncode == 3 and "月締め済み" in edit.stderr, edit.stderr
    added = cli(
        "trip",
        "add",
        "--card",
        "1111",
        "--exit",
        "2026-03-20T09:00",
        "--to",
        "横浜町田",
        "--toll",
        "500",
    )
    assert added.returncode == 3 and "月締め済み" in added.stderr
    cli("trip", "edit", str(april), "--purpose", "営業", check=True)
    cli("month", "reopen", "2026-03", "--reason", "訂正", check=True)
    cli("trip", "edit", str(march), "--purpose", "営業", check=True)
    audit = cli("evidence", "audit", "--json", check=True).json()
    assert "訂正" in str(audit)


def test_claim_workflow(cli: Cli, tmp_path: Path) -> None:
    march, _ = _fill(cli)
    cli("trip", "edit", str(march), "--purpose", "営業", "--business-share", "50", check=True)
    submitted = cli(
        "claim",
        "submit",
        "--card",
        "山田",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--json",
        check=True,
    ).json()
    assert submitted["status"] == "submitted" and submitted["total"] == 600  # type: ignore[index]
    claim = str(submitted["claim"])  # type: ignore[index]
    assert cli("claim", "return", claim).returncode == 2  # --comment is required
    cli("claim", "return", claim, "--comment", "用途を詳しく", check=True)
    again = cli(
        "claim",
        "submit",
        "--card",
        "1111",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--json",
        check=True,
    ).json()
    approved = cli("claim", "approve", str(again["claim"]), "--json", check=True).json()  # type: ignore[index]
    assert approved["status"] == "approved"  # type: ignore[index]
    shown = subprocess.run(
        ["pdftotext", "-layout", approved["pdf"], "-"],  # type: ignore[index]
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert approved["decided_by"] in shown  # type: ignore[index]
    assert approved["decided_at"][:10].replace("-", "/") in shown  # type: ignore[index]
    # the frozen files and the approved PDF, kept with the claim (in the database on a server)
    kept = cli(
        "claim", "files", str(again["claim"]), "--out", str(tmp_path / "k"), "--json", check=True
    ).json()  # type: ignore[index]
    files = {f["kind"]: f for f in kept["files"]}  # type: ignore[index]
    assert list(files) == ["pdf", "csv", "bundle", "approved_pdf"]
    for kind in ("pdf", "csv", "bundle"):
        data = Path(files[kind]["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == again[f"{kind}_sha256"]  # type: ignore[index]
        assert data == Path(again[kind]).read_bytes()  # type: ignore[index]
    approved_pdf = Path(files["approved_pdf"]["path"]).read_bytes()
    assert approved_pdf == Path(approved["pdf"]).read_bytes()  # type: ignore[index]
    claims = cli("claim", "list", "--json", check=True).json()["claims"]  # type: ignore[index]
    assert [c["status"] for c in claims] == ["withdrawn", "approved"]
    assert claims[0]["comment"] == "用途を詳しく"
    locked = cli("trip", "edit", str(march), "--business-share", "100")
    assert locked.returncode == 3 and "承認済み" in locked.stderr, locked.stderr
    unknown = cli("claim", "submit", "--card", "9999", "--from", "2026-03-01", "--to", "2026-03-31")
    assert unknown.returncode == 3 and "9999" in unknown.stderr


def test_an_import_touching_a_closed_month_is_refused_whole(cli: Cli) -> None:
    sample = MEISAI / "13col.csv"
    cli("month", "close", "2024-10", check=True)
    refused = cli("import", str(sample))
    assert refused.returncode == 3
    assert "2024-10 は月締め済みです" in refused.stderr, refused.stderr
    assert cli("trips", "--json", check=True).json()["trips"] == []  # type: ignore[index]
    cli("month", "reopen", "2024-10", "--reason", "明細の取り込み", check=True)
    assert cli("import", str(sample)).returncode == 0


def test_a_card_named_by_a_label_two_cards_share_is_refused_with_the_candidates(cli: Cli) -> None:
    _fill(cli)
    cli("card", "add", "--last4", "2222", "--holder", "山田", check=True)
    refused = cli("claim", "submit", "--card", "山田", "--from", "2026-03-01", "--to", "2026-03-31")
    assert refused.returncode == 3
    assert "id:1（末尾1111 山田）" in refused.stderr and "id:2（末尾2222 山田）" in refused.stderr
    by_id = cli(
        "claim",
        "submit",
        "--card",
        "id:2",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--json",
        check=True,
    ).json()
    assert by_id["card"] == "2222"  # type: ignore[index]
