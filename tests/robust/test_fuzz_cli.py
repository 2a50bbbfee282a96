"""Every command-line argument that takes a value, fuzzed: exit 0, 2, 3 or 75, never a traceback.

The argument list is read from the real parser, so a command another engineer adds is fuzzed
too (its required arguments get the defaults below, or a placeholder). Runs in-process for
volume; a sample goes through a real subprocess.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import robustkit
import tally
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etcbook.cli import build_parser, main
from etcbook.models.imports import import_files
from etcbook.models.store import open_store

ALLOWED_EXITS = (0, 2, 3, 75)
TALLY = "command-line values fuzzed"
"""The group under which the values tried per option are counted (printed after the run)."""


@dataclass(frozen=True)
class Option:
    """One argument that takes a value, and where it lives."""

    command: tuple[str, ...]
    flag: str | None  # None for a positional argument
    dest: str
    is_path: bool

    def __str__(self) -> str:
        return " ".join([*self.command, self.flag or self.dest.upper()])


def _value_options(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[Option]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _value_options(sub, (*prefix, name))
        elif action.nargs != 0 and not isinstance(
            action, argparse._HelpAction | argparse._VersionAction
        ):
            is_path = action.type is Path or action.dest in {"out", "file", "files", "db"}
            flag = action.option_strings[-1] if action.option_strings else None
            found.append(Option(prefix, flag, action.dest, is_path))
    return found


def _required(parser: argparse.ArgumentParser, command: tuple[str, ...]) -> list[argparse.Action]:
    for name in command:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return [
        a
        for a in parser._actions
        if (a.required or not a.option_strings) and a.nargs != 0 and a.dest != "help"
    ]


OPTIONS = _value_options(build_parser())
LEAF_COMMANDS = sorted({o.command for o in OPTIONS if o.command})


def test_the_fuzzer_sees_every_value_option() -> None:
    names = {str(o) for o in OPTIONS}
    assert {"--db", "import FILES", "import --card", "card add --last4", "trips --month"} <= names
    print(f"\n{len(OPTIONS)} value options in {len(LEAF_COMMANDS)} commands")


NASTY = (
    "",
    " ",
    "-",
    "--",
    "-1",
    "0",
    "00",
    "1234",
    "12345678901234567890",
    "9" * 400,
    "2025-02-30",
    "2025-13",
    "2025-1",
    "0000-00",
    "9999-12-31",
    "25/02/30",
    "2025-02-01T25:00",
    "1e9",
    "nan",
    "-inf",
    "１２３４",
    "٢٣٤٥",
    "²³²³",
    "＊＊＊＊１２３４",
    "4980-1234-1234-1234",
    "\u3000",
    "\t\n",
    "null",
    "true",
    "'; DROP TABLE trips; --",
    "%s%s%n",
    "{0}",
    "../../etc/passwd",
    "~",
    "~nosuchuser_etcbook/x.sqlite3",
    "/",
    ".",
    "/proc/self/status",
    "/dev/null",
    "CON",
    "a" * 5000,
)


def _values(option: Option) -> st.SearchStrategy[str]:
    text = st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=40,
    )
    return st.one_of(st.sampled_from(NASTY), text)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, small_meisai: Path) -> dict[str, Path]:
    """A store with a card and trips, a valid file, and a few odd paths to point at."""
    folder = tmp_path_factory.mktemp("cliworld")
    store_path = folder / "etcbook.sqlite3"
    store = open_store(store_path)
    assert import_files(store, [small_meisai]).ok
    store.close()
    (folder / "empty.csv").write_bytes(b"")
    (folder / "folder").mkdir()
    return {"store": store_path, "folder": folder, "valid": small_meisai}


@pytest.fixture(scope="module", autouse=True)
def _work_in_a_scratch_folder(world: dict[str, Path]) -> Iterator[None]:
    """Relative paths the fuzzer makes up (``~``, ``out.zip``) land in a scratch folder."""
    scratch = world["folder"] / "cwd"
    scratch.mkdir()
    before = Path.cwd()
    os.chdir(scratch)
    try:
        yield
    finally:
        os.chdir(before)


_DEFAULTS = {
    "holder": "山田太郎",
    "last4": "5678",
    "files": "{valid}",
    "file": "{valid}",
    "out": "{folder}/out.zip",
    "month": "2025-01",
}


def _argv(option: Option, value: str, world: dict[str, Path]) -> list[str]:
    """Argv with ``value`` for ``option`` and harmless defaults for the other required ones."""
    if option.dest == "db":
        path = value if value.startswith(("/", "~")) else str(world["folder"] / "db" / value)
        return ["--db", path, "card", "list"]
    parser = build_parser()
    argv = ["--db", str(world["store"]), *option.command]
    for action in _required(parser, option.command):
        if action.dest == option.dest:
            continue
        default = _DEFAULTS.get(action.dest, "x").format(**world)
        argv += [action.option_strings[-1], default] if action.option_strings else [default]
    if option.is_path and not value.startswith(("/", "~")):
        value = str(world["folder"] / value) if value else value
    if option.flag is None:
        argv += ["--", value]
    else:
        argv.append(f"{option.flag}={value}")
    return argv


def _run_in_process(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 2
    return status, err.getvalue()


def _check(option: Option, value: str, world: dict[str, Path]) -> None:
    tally.count(TALLY, str(option))
    argv = _argv(option, value, world)
    before = robustkit.content_digest(world["store"])
    status, err = _run_in_process(argv)
    assert status in ALLOWED_EXITS, f"{argv}: exit {status}\n{err}"
    assert "Traceback" not in err, f"{argv}\n{err}"
    if status != 0:
        assert err.strip(), f"{argv}: failed without saying why"
        assert robustkit.content_digest(world["store"]) == before, f"{argv} changed the store"


def _fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    )


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Option, str]:
    option = draw(st.sampled_from(OPTIONS))
    return option, draw(_values(option))


@_fuzz_settings(150)
@given(case=_cases())
def test_every_value_option_fuzzed(world: dict[str, Path], case: tuple[Option, str]) -> None:
    _check(*case, world)


@pytest.mark.slow
def test_every_value_option_fuzzed_many(world: dict[str, Path]) -> None:
    @_fuzz_settings(1000)
    @given(_cases())
    def run(case: tuple[Option, str]) -> None:
        _check(*case, world)

    run()


@pytest.mark.parametrize("option", OPTIONS, ids=str)
@pytest.mark.parametrize("value", ["", "-", "a" * 5000, "2025-02-30", "٢٣٤٥"])
def test_each_value_option_with_fixed_nasty_values(
    world: dict[str, Path], option: Option, value: str
) -> None:
    """Every option, every time (hypothesis picks options at random)."""
    _check(option, value, world)


@pytest.mark.parametrize(
    "argv",
    [
        ["card", "add", "--holder", "山田", "--last4", "１２３٤"],
        ["trips", "--month", "2025-13", "--json"],
        ["trips", "--from", "2025-02-30"],
        ["import", "/proc/self/status"],
        ["import", "/"],
        ["card", "edit", "0000", "--holder", "x"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_command_line_sample_in_a_subprocess(
    tmp_path: Path, small_meisai: Path, argv: list[str]
) -> None:
    # A store of its own: the fuzzed commands that succeed (a card 0000 added, say) change
    # the module's shared store.
    store_path = tmp_path / "etcbook.sqlite3"
    store = open_store(store_path)
    assert import_files(store, [small_meisai]).ok
    store.close()
    tally.count(TALLY, "(in a subprocess)")
    before = robustkit.content_digest(store_path)
    process = robustkit.start_etcbook(store_path, *argv)
    _out, err = process.communicate(timeout=120)
    text = err.decode("utf-8")
    assert process.returncode in (2, 3), text
    assert "Traceback" not in text and text.strip()
    assert robustkit.content_digest(store_path) == before


def test_db_path_with_unknown_user_home(tmp_path: Path) -> None:
    """``--db ~nosuchuser/store``: expanding an unknown user's home is a usage error."""
    status, err = _run_in_process(["--db", "~nosuchuser_etcbook/x.sqlite3", "card", "list"])
    assert status in (2, 3), err
    assert "Traceback" not in err
