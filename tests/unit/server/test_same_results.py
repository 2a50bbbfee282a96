"""Every job, same results: the sample ledger built on PostgreSQL answers as on SQLite."""

from __future__ import annotations

from pathlib import Path

CARDS = ("1234", "5678", "9012")


def _documents(cli: object, out: Path) -> dict[str, object]:
    """What the commands print (as JSON) on one store, paths aside."""
    run = cli  # type: ignore[assignment]
    found: dict[str, object] = {
        "status": run("status", "--json", check=True).json(),  # type: ignore[operator]
        "trips": run("trips", "--json", check=True).json(),  # type: ignore[operator]
    }
    for card, month in zip(CARDS, ("2025-11", "2026-06", "2026-09"), strict=True):
        found[f"reconcile {card} {month}"] = run(  # type: ignore[operator]
            "reconcile", "--card", card, "--month", month, "--json", check=True
        ).json()
    for card in CARDS[2:]:
        report = run(  # type: ignore[operator]
            "report",
            "--card",
            card,
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
            "--out",
            str(out / card),
            "--json",
            check=True,
        ).json()
        found[f"report {card}"] = {
            key: value for key, value in report.items() if key not in ("pdf", "csv", "bundle")
        }
        found[f"report {card} csv"] = Path(report["csv"]).read_bytes()
    return found


def test_demo_on_postgresql_prints_what_it_prints_on_sqlite(
    pg_url: str, tmp_path: Path, cli_for: type
) -> None:
    on_sqlite = cli_for(tmp_path / "sqlite" / "demo.sqlite3")
    (tmp_path / "sqlite").mkdir()
    on_server = cli_for(pg_url)
    made = [cli("demo", "--json", check=True).json() for cli in (on_sqlite, on_server)]
    assert made[1]["store"] == pg_url
    assert {**made[0], "store": None} == {**made[1], "store": None}
    sqlite = _documents(on_sqlite, tmp_path / "out-sqlite")
    server = _documents(on_server, tmp_path / "out-server")
    assert sqlite["status"]["cards"]  # type: ignore[index]
    assert len(sqlite["trips"]["trips"]) > 800  # type: ignore[index]
    for key, value in sqlite.items():
        assert server[key] == value, key
