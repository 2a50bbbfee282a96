"""Every distinct input the fuzzers and crash tests found breaking etcbook, fixed and kept here.

Each test names the input and what went wrong before the fix.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import fuzzkit
import pytest
import robustkit

from etcbook.importers.meisai import read_meisai_bytes
from etcbook.models.imports import import_files
from etcbook.models.store import open_store

pytestmark = pytest.mark.both_backends

HEADER_UTF8 = robustkit.HEADER_15.encode("utf-8")
ROW = "25/03/01,00:04,25/03/01,01:54,浜松,御殿場,,,4270,300,3970,{klass},1234,{card},確定"


def _one_row(*, card: str = "********87651234", klass: str = "1", date: str = "") -> bytes:
    row = ROW.format(card=card, klass=klass)
    if date:
        row = date + row[len("25/03/01") :]
    return HEADER_UTF8 + b"\r\n" + row.encode("utf-8") + b"\r\n"


@pytest.mark.parametrize("card", ["********٢٣٤٥", "********²³²³", "****1234٥"])
def test_card_number_in_non_ascii_digits_is_an_error(card: str) -> None:
    """Found by the parser fuzzer: Arabic-Indic or superscript digits were stored as a last 4."""
    rows, errors = read_meisai_bytes(_one_row(card=card), "meisai.csv")
    assert rows == []
    assert [e.line for e in errors] == [2]
    assert "ＥＴＣカード番号" in errors[0].message


def test_full_width_card_digits_still_read() -> None:
    rows, errors = read_meisai_bytes(_one_row(card="＊＊＊＊１２３４"), "meisai.csv")
    assert errors == [] and rows[0].card_last4 == "1234"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"klass": "²"}, "車種"),
        ({"date": "²5/03/01"}, "日付"),
        ({"date": "٢٥/٠٣/٠١"}, "日付"),
    ],
)
def test_non_ascii_digits_in_date_or_class_get_a_japanese_message(
    case: dict[str, str], expected: str
) -> None:
    """Found by the parser fuzzer: Python's "invalid literal for int()" reached the user."""
    rows, errors = read_meisai_bytes(_one_row(**case), "meisai.csv")
    assert rows == []
    assert [e.line for e in errors] == [2]
    fuzzkit.check_message(errors[0].message)
    assert expected in errors[0].message


def test_file_with_cr_only_line_ends_is_read_not_imported_empty() -> None:
    """Found by the parser fuzzer: a file saved as "CSV (Macintosh)" imported as 0 rows.
    (Fixed on main by reading lone CRs as line ends; this branch had refused such files.)"""
    lines = [robustkit.HEADER_15, *robustkit.meisai_lines(3)]
    data = "\r".join(lines).encode("cp932") + b"\r"
    rows, errors = read_meisai_bytes(data, "meisai.csv")
    assert errors == [] and len(rows) == 3


def test_card_number_in_a_wrong_column_is_masked_in_the_message() -> None:
    """Found by the privacy test: an amount error echoed a full card number to stderr."""
    data = _one_row().replace(b",4270,", b",4980123412341234,")
    _rows, errors = read_meisai_bytes(data, "meisai.csv")
    assert [e.line for e in errors] == [2]
    assert "4980123412341234" not in errors[0].message
    assert "************1234" in errors[0].message


def test_file_name_that_is_not_utf8_imports(tmp_path: Path, store_target: Path | str) -> None:
    """Found by the command-line fuzzer: a cp932 file name (from a Windows ZIP unpacked on
    Linux) crashed the import with UnicodeEncodeError when stored and printed as JSON."""
    folder = os.fsencode(tmp_path)
    name = "明細.csv".encode("cp932")
    path = folder + b"/" + name
    with open(path, "wb") as handle:
        handle.write(robustkit.HEADER_15.encode("cp932") + b"\r\n")
        handle.write(("\r\n".join(robustkit.meisai_lines(5)) + "\r\n").encode("cp932"))
    done = subprocess.run(
        [*robustkit.etcbook_argv(store_target, "import", "--json"), path],
        capture_output=True,
        env=robustkit.etcbook_env(),
        cwd=robustkit.ROOT,
        timeout=120,
    )
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0
    document = json.loads(done.stdout)
    assert document["inserted"] == 5
    assert document["files"][0]["file"].endswith("明細.csv")
    store = open_store(store_target)
    with store.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT file_name FROM import_batches").scalar()
    store.close()
    assert stored == "明細.csv"


def test_bad_file_name_in_an_error_message(tmp_path: Path, store_target: Path | str) -> None:
    """The same cp932 name on a file that is not a 明細CSV: a clean refusal naming it."""
    path = os.fsencode(tmp_path) + b"/" + "請求書.pdf".encode("cp932")
    with open(path, "wb") as handle:
        handle.write(b"%PDF-1.7\n")
    store = open_store(store_target)
    result = import_files(store, [Path(os.fsdecode(path))])
    store.close()
    assert not result.ok
    document = json.dumps(result.to_json(), ensure_ascii=False)
    assert "請求書.pdf" in document
    document.encode("utf-8")  # printable


@pytest.mark.parametrize(
    "argv",
    [
        ["trips", "--to", "9999-12-31"],
        ["trips", "--month", "9999-12"],
        ["reminders", "--as-of", "9999-12-31"],
        ["trips", "--from", "0001-01-01"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_dates_near_the_end_of_the_calendar_are_usage_errors(
    store_target: Path | str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the argument fuzzer: OverflowError / "year 10000 is out of range" from date
    arithmetic in trips and reminders. Command-line dates are now years 1900-2999."""
    from etcbook.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(store_target), *argv, "--json"])
    assert exit_.value.code == 2
    assert "年までの日付" in capsys.readouterr().err


@pytest.mark.parametrize(
    "db",
    ["{tmp}/" + "a" * 5000, "{tmp}/file.sqlite3/inside.sqlite3", "~nosuchuser_etcbook/x.sqlite3"],
    ids=["name too long", "parent is a file", "unknown user's home"],
)
def test_unusable_store_path_is_a_sentence(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the argument fuzzer: OSError / RuntimeError tracebacks from open_store.
    Paths of store files: SQLite-only by nature."""
    from etcbook.cli import main

    (tmp_path / "file.sqlite3").write_bytes(b"")
    status = main(["--db", db.format(tmp=tmp_path), "card", "list"])
    err = capsys.readouterr().err
    assert status == 3
    assert "ストア" in err and "Traceback" not in err


def test_option_value_double_dash_is_a_usage_error(
    store_target: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the argument fuzzer: ``--holder=--`` became an empty list and crashed SQLite."""
    from etcbook.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(store_target), "card", "add", "--last4", "1234", "--holder=--"])
    assert exit_.value.code == 2
    assert "--holder" in capsys.readouterr().err


def _file(path: Path, header: str, row: str) -> Path:
    path.write_bytes((header + "\r\n" + row + "\r\n").encode("cp932"))
    return path


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            (
                robustkit.HEADER_15,
                "25/03/01,10:00,25/03/01,11:00,浜松,御殿場,,,4270,300,3970,1,1234,****1234,確認中",
            ),
            (
                robustkit.HEADER_13,
                "25/03/01,10:00,25/03/01,11:00,浜松,御殿場,,,4270,1,1234,****1234,",
            ),
        ),
        (
            (
                robustkit.HEADER_13,
                "25/03/01,10:00,25/03/01,11:00,浜松,御殿場,,,4270,1,1234,****1234,",
            ),
            (
                robustkit.HEADER_15,
                "25/03/01,10:00,25/03/01,11:00,浜松,御殿場,,,4270,,,1,1234,****1234,確定",
            ),
        ),
    ],
    ids=["15-column 確認中 then 13-column", "13-column then 15-column 確定 without rebate"],
)
def test_same_trip_from_both_layouts_is_a_duplicate_not_a_crash(
    tmp_path: Path, store_target: Path | str, first: tuple[str, str], second: tuple[str, str]
) -> None:
    """Found by the store fuzzer: IntegrityError "NOT NULL constraint failed: matches.replaces"
    when a trip stored from one layout came again in the other (a NULL status made the
    "replaces" test NULL)."""
    store = open_store(store_target)
    try:
        assert import_files(store, [_file(tmp_path / "a.csv", *first)]).inserted == 1
        again = import_files(store, [_file(tmp_path / "b.csv", *second)])
    finally:
        store.close()
    assert again.ok and again.inserted == 0
    assert again.updated + again.duplicates == 1


@pytest.mark.parametrize(
    "argv",
    [["incident", "show", "9" * 20], ["evidence", "remove", "9" * 20, "--reason", "x"]],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_huge_number_argument_is_a_usage_error(
    store_target: Path | str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the argument fuzzer: OverflowError "Python int too large to convert to SQLite
    INTEGER" from an id of 20 digits."""
    from etcbook.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(store_target), *argv])
    assert exit_.value.code == 2
    assert "大きすぎます" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["backup", "--out", "~nosuchuser_etcbook/b.zip"], ["restore", "~nosuchuser_etcbook/b.zip"]],
    ids=["backup", "restore"],
)
@pytest.mark.sqlite_only  # backup and restore copy a store file; a server ledger is pg_dump's
def test_unknown_users_home_in_backup_paths_is_a_sentence(
    store_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the argument fuzzer: RuntimeError "Could not determine home directory"."""
    from etcbook.cli import main

    assert main(["--db", str(store_path), *argv]) == 3
    assert "ホームフォルダが見つかりません" in capsys.readouterr().err
