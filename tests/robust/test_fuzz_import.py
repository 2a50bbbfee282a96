"""Bad input, fuzzed: every generated file ends in a clean error naming the problem and the line.

The parser is driven in-process for volume (10,000 inputs in the slow run), the store import
for a few hundred, and the real command line in a subprocess for a sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import fuzzkit
import pytest
import robustkit
import tally
from hypothesis import HealthCheck, given, settings

from etcbook.importers.meisai import NotMeisaiError, read_meisai_bytes
from etcbook.models.imports import import_files
from etcbook.models.store import open_store

FAST_EXAMPLES = 400
SLOW_EXAMPLES = 10_000


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


MUST_BE_REFUSED = (*fuzzkit.FOREIGN_HEADS, "empty", "blank")

TALLY = "明細CSV inputs fuzzed"
"""The group under which the inputs fed to each target are counted (printed after the run)."""


def _parse_one(case: fuzzkit.FuzzInput) -> None:
    tally.count(TALLY, "parser")
    try:
        rows, errors = read_meisai_bytes(case.data, "meisai.csv")
    except NotMeisaiError as exc:
        message = str(exc)
        assert message.startswith("meisai.csv: "), message
        fuzzkit.check_message(message)
        assert case.kind != "tampered" or case.lines >= 1
        return
    assert case.kind not in MUST_BE_REFUSED, f"{case.kind} file accepted"
    fuzzkit.check_parse(case, rows, errors)


@fuzz_settings(FAST_EXAMPLES)
@given(fuzzkit.bad_inputs())
def test_parser_never_crashes_and_names_the_line(case: fuzzkit.FuzzInput) -> None:
    _parse_one(case)


@pytest.mark.slow
def test_parser_fuzzed_with_ten_thousand_inputs() -> None:
    parsed = 0

    @fuzz_settings(SLOW_EXAMPLES)
    @given(fuzzkit.bad_inputs())
    def run(case: fuzzkit.FuzzInput) -> None:
        nonlocal parsed
        _parse_one(case)
        parsed += 1

    run()
    assert parsed >= SLOW_EXAMPLES


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory, small_meisai: Path):
    """One store holding 300 trips, shared by the examples of one test (it only grows)."""
    store = open_store(tmp_path_factory.mktemp("fuzzstore") / "etcbook.sqlite3")
    assert import_files(store, [small_meisai]).ok
    yield store
    store.close()


def _import_one(store, folder: Path, case: fuzzkit.FuzzInput) -> None:  # type: ignore[no-untyped-def]
    tally.count(TALLY, "store import")
    path = folder / "meisai.csv"
    path.write_bytes(case.data)
    before = robustkit.content_digest(store.path)
    trips_before = robustkit.trip_count(store.path)
    result = import_files(store, [path])
    if result.ok:
        assert result.committed
        assert robustkit.trip_count(store.path) == trips_before + result.inserted
        return
    assert not result.committed
    assert robustkit.content_digest(store.path) == before, "a rejected file changed the store"
    for file in result.files:
        for error in file.error_dicts():
            fuzzkit.check_message(str(error["message"]))


@fuzz_settings(60)
@given(case=fuzzkit.bad_inputs())
def test_store_unchanged_by_any_rejected_file(
    fuzz_store, tmp_path_factory: pytest.TempPathFactory, case: fuzzkit.FuzzInput
) -> None:
    _import_one(fuzz_store, tmp_path_factory.mktemp("case", numbered=True), case)


@pytest.mark.slow
def test_store_unchanged_by_any_rejected_file_many(
    fuzz_store, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("many")

    @fuzz_settings(300)
    @given(fuzzkit.bad_inputs())
    def run(case: fuzzkit.FuzzInput) -> None:
        _import_one(fuzz_store, folder, case)

    run()


def _cli_one(cli_store: Path, folder: Path, case: fuzzkit.FuzzInput) -> None:
    tally.count(TALLY, "command line")
    path = folder / "meisai.csv"
    path.write_bytes(case.data)
    before = robustkit.content_digest(cli_store)
    process = robustkit.start_etcbook(cli_store, "import", str(path), "--json")
    out, err = process.communicate(timeout=120)
    stderr = err.decode("utf-8")
    assert "Traceback" not in stderr, stderr
    assert process.returncode in (0, 3), stderr
    document = json.loads(out)
    if process.returncode == 3:
        assert robustkit.content_digest(cli_store) == before
        assert "何も取り込みませんでした" in stderr
        errors = document["files"][0]["errors"]
        assert errors
        for error in errors:
            fuzzkit.check_message(error["message"])
            if error["line"] is not None:
                # FILE:LINE: reason, as editors and compilers print it
                assert f"{path}:{error['line']}: " in stderr


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory, small_meisai: Path) -> Path:
    path = tmp_path_factory.mktemp("clistore") / "etcbook.sqlite3"
    store = open_store(path)
    assert import_files(store, [small_meisai]).ok
    store.close()
    return path


@fuzz_settings(4)
@given(case=fuzzkit.bad_inputs())
def test_command_line_import_of_bad_files(
    cli_store: Path, tmp_path_factory: pytest.TempPathFactory, case: fuzzkit.FuzzInput
) -> None:
    _cli_one(cli_store, tmp_path_factory.mktemp("cli", numbered=True), case)


@pytest.mark.slow
def test_command_line_import_of_bad_files_many(
    cli_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("climany")

    @fuzz_settings(12)
    @given(fuzzkit.bad_inputs())
    def run(case: fuzzkit.FuzzInput) -> None:
        _cli_one(cli_store, folder, case)

    run()
