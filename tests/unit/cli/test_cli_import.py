"""``etcbook import`` through a subprocess, as a user's script runs it (issue 2 §5)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.both_backends

Snapshot = Callable[[Path], dict[str, list[tuple[object, ...]]]]

HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)


def csv_file(folder: Path, name: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_bytes(("\r\n".join([HEADER_15, *rows]) + "\r\n").encode("cp932"))
    return path


def row(
    exit_at: str = "24/11/05,10:51",
    toll: str = "1000",
    card: str = "*******123456789",
    remarks: str = "確定",
) -> str:
    return f"24/11/05,08:54,{exit_at},静岡,浜松,,,{toll},0,{toll},1,1234,{card},{remarks}"


def test_import_json_has_exactly_the_documented_shape(cli: Any, meisai_dir: Path) -> None:
    done = cli("import", str(meisai_dir / "15col.csv"), str(meisai_dir / "13col.csv"), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert {"files", "inserted", "updated", "duplicates", "new_cards"} <= set(document)
    assert [set(f) for f in document["files"]] == [
        {
            "file",
            "rows",
            "inserted",
            "updated",
            "duplicates",
            "passages",  # of inserted: passage rows (issue 20)
            "unknown_gates",  # gates no route rule knows (issue 20)
            "errors",
        }
    ] * 2
    assert document["files"][0] == {
        "file": str(meisai_dir / "15col.csv"),
        "rows": 10,
        "inserted": 10,
        "updated": 0,
        "duplicates": 0,
        "passages": 0,
        "unknown_gates": ["仙台宮城", "善通寺", "本線料金所", "静岡", "髙松中央"],
        "errors": [],
    }
    assert (document["inserted"], document["updated"], document["duplicates"]) == (18, 0, 0)
    assert document["new_cards"] == ["0042", "5678", "6789"]
    for key in ("inserted", "updated", "duplicates"):
        assert document[key] == sum(f[key] for f in document["files"])
        assert isinstance(document[key], int)


def test_stdout_is_exactly_one_json_document_and_messages_go_to_stderr(
    cli: Any, meisai_dir: Path
) -> None:
    done = cli("import", str(meisai_dir / "15col.csv"), "--json")
    json.loads(done.stdout)  # exactly one document, nothing else
    assert "0042" in done.stderr and "詳細未入力" in done.stderr


def test_reimport_and_overlap_through_the_cli(cli: Any, meisai_dir: Path) -> None:
    assert cli("import", str(meisai_dir / "15col.csv"), "--json").returncode == 0
    again = json.loads(cli("import", str(meisai_dir / "15col.csv"), "--json").stdout)
    assert (again["inserted"], again["updated"], again["duplicates"]) == (0, 0, 10)
    later = json.loads(cli("import", str(meisai_dir / "15col_later.csv"), "--json").stdout)
    assert (later["inserted"], later["updated"], later["duplicates"]) == (2, 2, 8)
    assert later["new_cards"] == []


def test_malformed_file_exits_3_names_the_line_and_changes_nothing(
    cli: Any, store_target: Path | str, snapshot: Snapshot, meisai_dir: Path, tmp_path: Path
) -> None:
    assert cli("import", str(meisai_dir / "13col.csv")).returncode == 0
    before = snapshot(store_target)
    bad = csv_file(
        tmp_path, "bad.csv", [row(), row("24/11/06,10:00", toll="12x"), row("24/11/07,10:00")]
    )
    done = cli("import", str(bad), "--json")
    assert done.returncode == 3
    assert f"{bad}:3: 通行料金: 金額「12x」は整数の円ではありません" in done.stderr.splitlines()
    document = json.loads(done.stdout)
    assert document["files"][0]["errors"] == [
        {"line": 3, "message": "通行料金: 金額「12x」は整数の円ではありません"}
    ]
    assert snapshot(store_target) == before


def test_every_bad_line_is_on_stderr(cli: Any, meisai_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad_rows.csv"
    shutil.copy(meisai_dir / "bad_rows.csv", bad)
    done = cli("import", str(bad))
    assert done.returncode == 3
    named = [line.split(":")[1] for line in done.stderr.splitlines() if line.startswith(str(bad))]
    assert named == ["3", "4", "5", "6", "7", "9", "10", "11", "12"]
    assert "何も取り込みませんでした" in done.stderr
    assert done.stdout.strip()  # the human summary still lists the file


def test_failed_import_does_not_claim_to_have_created_cards(
    cli: Any, tmp_path: Path, store_target: Path | str, snapshot: Snapshot
) -> None:
    good = csv_file(tmp_path, "good.csv", [row(card="****1111")])
    bad = csv_file(tmp_path, "bad.csv", [row(toll="x")])
    done = cli("import", str(good), str(bad), "--json")
    assert done.returncode == 3
    assert "1111" not in done.stderr
    assert json.loads(done.stdout)["committed"] is False
    cards = json.loads(cli("card", "list", "--json").stdout)["cards"]
    assert cards == []


@pytest.mark.parametrize(
    ("name", "data", "phrase"),
    [
        ("statement.pdf", b"%PDF-1.7\n", "PDF"),
        ("book.xlsx", b"PK\x03\x04\x14\x00", "Excel"),
        ("empty.csv", b"", "空のファイル"),
        ("bank.csv", "日付,摘要,金額\r\n".encode("cp932"), "明細CSVではありません"),
    ],
)
def test_not_meisai_files_exit_3_with_one_sentence(
    cli: Any, tmp_path: Path, name: str, data: bytes, phrase: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    done = cli("import", str(path), "--json")
    assert done.returncode == 3
    sentence = next(line for line in done.stderr.splitlines() if line.startswith(f"{name}: "))
    assert phrase in sentence and sentence.count("。") == 1
    assert json.loads(done.stdout)["files"][0]["errors"] == [{"line": None, "message": sentence}]


def test_missing_file_exits_3(cli: Any, tmp_path: Path) -> None:
    done = cli("import", str(tmp_path / "nowhere.csv"))
    assert done.returncode == 3 and "nowhere.csv" in done.stderr


def test_card_option(
    cli: Any, tmp_path: Path, store_target: Path | str, snapshot: Snapshot
) -> None:
    blank_card = csv_file(tmp_path, "blank.csv", [row(card="")])
    refused = cli("import", str(blank_card))
    assert refused.returncode == 3 and "--card" in refused.stderr
    done = cli("import", str(blank_card), "--card", "4980123456786789", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["new_cards"] == ["6789"]
    before = snapshot(store_target)
    other = csv_file(tmp_path, "other.csv", [row("24/11/09,10:00", card="****0001")])
    wrong = cli("import", str(other), "--card", "6789")
    assert wrong.returncode == 3
    assert f"{other}:2: カード末尾0001の行です（指定されたカードは末尾6789）" in wrong.stderr
    assert snapshot(store_target) == before


def test_dry_run_changes_nothing(
    cli: Any, meisai_dir: Path, store_target: Path | str, snapshot: Snapshot
) -> None:
    assert cli("card", "list").returncode == 0  # creates the store
    before = snapshot(store_target)
    done = cli("import", str(meisai_dir / "15col.csv"), "--dry-run", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["inserted"] == 10
    assert snapshot(store_target) == before


@pytest.mark.parametrize(
    "args",
    [["import"], ["import", "a.csv", "--card", "12"], ["import", "a.csv", "--bogus"]],
)
def test_import_usage_errors_exit_2(cli: Any, args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 2 and "使い方の誤り" in done.stderr
    assert done.stdout == ""


def test_imported_files_are_kept_as_originals_once(
    cli: Any, meisai_dir: Path, store_target: Path | str
) -> None:
    from etcbook.models.store import open_store
    from etcbook.models.vault import read_original, search_documents

    def kept_bytes() -> list[bytes]:
        """The vault's originals as kept (files beside a SQLite store, rows on a server)."""
        opened = open_store(store_target)
        try:
            return [read_original(store=opened, document=d) for d in search_documents(store=opened)]
        finally:
            opened.close()

    first = cli("import", str(meisai_dir / "15col_passages.csv"), "--json")
    assert first.returncode == 0, first.stderr
    kept = json.loads(first.stdout)["originals"]
    assert [(o["new"], o["problem"]) for o in kept] == [(True, None)]
    again = json.loads(cli("import", str(meisai_dir / "15col_passages.csv"), "--json").stdout)
    assert again["originals"] == [{**kept[0], "new": False}]  # the same bytes: kept once
    documents = json.loads(cli("evidence", "list", "--json").stdout)
    listed = documents["documents"] if isinstance(documents, dict) else documents
    assert [d["kind"] for d in listed] == ["detail_csv"]
    assert kept_bytes() == [(meisai_dir / "15col_passages.csv").read_bytes()]
    # A file showing a whole card number is imported (its last 4 digits kept) but not kept
    # as an original: its bytes would carry the number.
    unmasked = json.loads(cli("import", str(meisai_dir / "15col.csv"), "--json").stdout)
    [(new_doc, problem)] = [(o["new"], o["problem"]) for o in unmasked["originals"]]
    assert not new_doc and "カード番号が伏せられていない" in problem
    assert kept_bytes() == [(meisai_dir / "15col_passages.csv").read_bytes()]
    dry = json.loads(cli("import", str(meisai_dir / "13col.csv"), "--dry-run", "--json").stdout)
    assert dry["originals"] == []
