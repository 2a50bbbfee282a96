"""``etcbook suggest`` through the command line, on a temporary store (issue 4 §3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli, copy_to_server

pytestmark = pytest.mark.both_backends

KEYS = {
    "exchanges",
    "covered",
    "shortfall",
    "rebate_after",
    "points_lost",
    "explanation",
    "alternatives",
}
HEADER_13 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,車種,車両番号,ＥＴＣカード番号,備考"
)


def meisai(path: Path, rows: list[tuple[str, int]]) -> Path:
    """A 13-column 明細CSV (cp932, CRLF) of trips ``(YY/MM/DD, toll)`` on card ****4321."""
    lines = [HEADER_13]
    for day, toll in rows:
        lines.append(f"{day},09:00,{day},10:30,東京,静岡,,,{toll},1,1234,************4321,")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return path


@pytest.fixture(scope="module")
def card_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with card 4321: 30,000円 of NEXCO trips in April 2025 (3,000P granted on
    20 May 2025, expiring 2027-03-31) and 8,000円 in February 2024 (800P granted on 20 March
    2024, expiring 2025-03-31). Built once; tests get a copy."""
    folder = tmp_path_factory.mktemp("suggest")
    cli = Cli(folder / "etcbook.sqlite3")
    cli("card", "add", "--holder", "山田太郎", "--last4", "4321", check=True)
    source = meisai(
        folder / "meisai.csv",
        [("24/02/05", 8000), ("25/04/10", 20000), ("25/04/24", 10000)],
    )
    cli("import", "--card", "4321", str(source), check=True)
    return cli.db


@pytest.fixture
def card(card_store: Path, tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Cli:
    """The CLI on a private copy of ``card_store`` (on PostgreSQL: copied into ``pg_url``)."""
    from etcbook.models.store import backup_copy

    if backend == "postgresql":
        return Cli(copy_to_server(card_store, str(request.getfixturevalue("pg_url"))))
    target = tmp_path / "etcbook.sqlite3"
    backup_copy(card_store, "copy").rename(target)
    return Cli(target)


def suggest(cli: Cli, *args: str) -> dict[str, object]:
    result = cli("suggest", "--card", "4321", *args)
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert isinstance(document, dict)
    return document


def test_need_1200_with_3000p_suggests_3000p_for_2500_yen(card: Cli) -> None:
    out = suggest(card, "--need", "1200", "--by", "2025-06-30", "--as-of", "2025-06-01")

    assert set(out) == KEYS
    assert out["exchanges"] == [
        {"at": "2025-06-01", "pool": "nexco", "units": [3000], "points": 3000, "yen": 2500}
    ]
    assert (out["covered"], out["shortfall"], out["rebate_after"], out["points_lost"]) == (
        1200,
        0,
        1300,
        0,
    )
    explanation = out["explanation"]
    assert isinstance(explanation, list) and all(isinstance(s, str) for s in explanation)
    assert any("3,000P→2,500円" in s and "1P=0.5円" in s for s in explanation)
    alternatives = out["alternatives"]
    assert isinstance(alternatives, list)
    small = [a for a in alternatives if a["exchanges"] and a["exchanges"][0]["units"] == [1000] * 3]
    assert small and small[0]["yen"] == 1500 and small[0]["reason"]


def test_need_json_flag_is_accepted_and_text_prints_the_explanation(card: Cli) -> None:
    with_flag = card(
        "suggest",
        "--card",
        "4321",
        "--need",
        "1200",
        "--by",
        "2025-06-30",
        "--as-of",
        "2025-06-01",
        "--json",
    )
    text = card(
        "suggest",
        "--card",
        "4321",
        "--need",
        "1200",
        "--by",
        "2025-06-30",
        "--as-of",
        "2025-06-01",
        "--text",
    )

    assert with_flag.returncode == 0 and set(with_flag.json()) == KEYS  # type: ignore[arg-type]
    assert text.returncode == 0 and "2025年6月1日にNEXCO" in text.stdout


def test_need_zero_plans_only_what_expiry_demands(card: Cli) -> None:
    calm = suggest(card, "--need", "0", "--as-of", "2025-06-01")
    expiring = suggest(card, "--need", "0", "--as-of", "2025-03-05")

    assert calm["exchanges"] == [] and calm["covered"] == 0 and calm["shortfall"] == 0
    # 800P expire on 31 March 2025 and make no 1,000P unit: reported lost, with the amount
    assert expiring["exchanges"] == []
    assert expiring["points_lost"] == 800
    assert any("800Pが失効" in s for s in expiring["explanation"])  # type: ignore[union-attr]


def test_plan_file_with_an_english_header_gives_a_staircase(card: Cli, tmp_path: Path) -> None:
    # no trips since April: 3,000P will not grow, so 3,000P -> 2,500円 is their best use
    plan = tmp_path / "plan.csv"
    plan.write_text("date,operator,toll\n2025-09-12,nexco,620\n2025-09-13,nexco,1380\n")

    out = suggest(card, "--plan", str(plan), "--as-of", "2025-09-01")

    assert out["exchanges"] == [
        {"at": "2025-09-12", "pool": "nexco", "units": [3000], "points": 3000, "yen": 2500}
    ]
    assert (out["covered"], out["shortfall"], out["rebate_after"]) == (2000, 0, 500)


def test_plan_file_waits_for_5000p_while_earnings_will_reach_it(card: Cli, tmp_path: Path) -> None:
    # 1,000P a month lately: 3,000P -> 2,500円 now would waste 500円 of what they can become
    plan = tmp_path / "plan.csv"
    plan.write_text("date,operator,toll\n2025-06-12,nexco,620\n2025-06-13,nexco,380\n")

    out = suggest(card, "--plan", str(plan), "--as-of", "2025-06-01")

    assert out["exchanges"] == [] and out["shortfall"] == 1000
    assert any("ポイントを貯めてから交換" in s for s in out["explanation"])  # type: ignore[union-attr]
    alternatives = out["alternatives"]
    assert isinstance(alternatives, list)
    naive = next(a for a in alternatives if "最小単位" in a["label"])
    assert naive["exchanges"][0]["units"] == [1000, 1000]
    assert "見込み価値" in naive["reason"]


def test_plan_file_with_a_japanese_header_in_shift_jis(card: Cli, tmp_path: Path) -> None:
    plan = tmp_path / "予定.csv"
    plan.write_bytes('日付,事業者,料金\r\n2025/9/12,NEXCO中日本,"1,200"\r\n'.encode("cp932"))

    out = suggest(card, "--plan", str(plan), "--as-of", "2025-09-01")

    assert out["exchanges"] == [
        {"at": "2025-09-12", "pool": "nexco", "units": [3000], "points": 3000, "yen": 2500}
    ]
    assert out["covered"] == 1200


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("date,operator,toll\n2025-06-12,nexco,620\n2025-13-40,nexco,380\n", "3行目"),
        ("date,operator,toll\n2025-06-12,nexco,abc\n", "2行目"),
        ("date,operator,toll\n2025-06-12,tokyo-bay,620\n", "2行目"),
        ("date,operator,toll\n2025-05-12,nexco,620\n", "2行目"),
        ("when,what\n2025-06-12,620\n", "1行目"),
        ("", "空"),
    ],
)
def test_a_bad_plan_file_exits_3_naming_the_file_and_line(
    card: Cli, tmp_path: Path, content: str, where: str
) -> None:
    plan = tmp_path / "plan.csv"
    plan.write_text(content)

    result = card("suggest", "--card", "4321", "--plan", str(plan), "--as-of", "2025-06-01")

    assert result.returncode == 3
    assert str(plan) in result.stderr and where in result.stderr
    assert result.stdout == ""


def test_an_unreadable_plan_file_exits_3_naming_it(card: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nothing.csv"

    result = card("suggest", "--card", "4321", "--plan", str(missing))

    assert result.returncode == 3 and str(missing) in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--card", "9999", "--need", "1000", "--by", "2025-06-30", "--as-of", "2025-06-01"),
        ("--card", "4321", "--need", "1000", "--by", "2025-05-30", "--as-of", "2025-06-01"),
        ("--card", "4321", "--need", "1000", "--by", "2025-06-30", "--operator", "moon"),
        ("--card", "4321", "--need", "-5", "--by", "2025-06-30"),
    ],
)
def test_bad_input_exits_3(card: Cli, args: tuple[str, ...]) -> None:
    result = card("suggest", *args)

    assert result.returncode == 3, result.stderr
    assert result.stdout == "" and result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--card", "4321"),
        ("--card", "4321", "--need", "1000"),
        ("--card", "4321", "--need", "1000", "--by", "2025-06-30", "--plan", "x.csv"),
        ("--card", "4321", "--need", "1000", "--by", "2025-13-01"),
        ("--need", "1000", "--by", "2025-06-30"),
    ],
)
def test_usage_errors_exit_2(card: Cli, args: tuple[str, ...]) -> None:
    result = card("suggest", *args)

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""


def test_need_on_another_operator(card: Cli) -> None:
    out = suggest(
        card,
        "--need",
        "1200",
        "--by",
        "2025-06-30",
        "--operator",
        "shutoko",
        "--as-of",
        "2025-06-01",
    )

    assert out["exchanges"] == [] and out["covered"] == 0 and out["shortfall"] == 1200


def test_exchanges_already_recorded_are_taken_into_account(card: Cli) -> None:
    card(
        "exchange",
        "--card",
        "4321",
        "--pool",
        "nexco",
        "--units",
        "1000",
        "--at",
        "2025-05-25T08:00",
        check=True,
    )

    out = suggest(card, "--need", "1200", "--by", "2025-06-30", "--as-of", "2025-06-01")

    # 2,000P and 500円 of rebate left: 2 × 1,000P -> 1,000円 covers the other 700円
    assert out["exchanges"] == [
        {"at": "2025-06-01", "pool": "nexco", "units": [1000, 1000], "points": 2000, "yen": 1000}
    ]
    assert (out["covered"], out["shortfall"], out["rebate_after"]) == (1200, 0, 300)
    assert any("還元額残高は500円" in s for s in out["explanation"])  # type: ignore[union-attr]
