"""Every command-line argument that takes a value, fuzzed: exit 0, 2, 3 or 75, never a traceback.

The argument list is read from the real parser, so a command another engineer adds is fuzzed
too (its required arguments get the defaults below, or a placeholder). Runs in-process for
volume; a sample goes through a real subprocess.

An oracle per option (:func:`must_refuse`) names the values that option has to refuse, with
exit 2 or 3 and the store unchanged: by the option's type (a date that does not exist such as
``2025-02-30``, an amount that is not a whole number of yen, fewer than four digits for a card,
a word outside the option's choices) and by what the option means (a negative rebate balance,
a business share over 100 %, an id below 1). Other values may be accepted or refused.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import robustkit
import tally
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etcbook.cli import build_parser, main
from etcbook.cli.common import YEARS
from etcbook.models.imports import import_files
from etcbook.models.store import open_store

ALLOWED_EXITS = (0, 2, 3, 75)
TALLY = "command-line values fuzzed"
"""The group under which the values tried per option are counted (printed after the run)."""
REFUSALS = "command-line values the oracle required to be refused"


@dataclass(frozen=True)
class Option:
    """One argument that takes a value, and where it lives."""

    command: tuple[str, ...]
    flag: str | None  # None for a positional argument
    dest: str
    is_path: bool
    kind: str = ""  # the name of its argparse type ("parse_date", "int", …), "" for text
    choices: tuple[str, ...] = ()

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
            kind = getattr(action.type, "__name__", "") if action.type is not None else ""
            choices = tuple(map(str, action.choices)) if action.choices else ()
            found.append(Option(prefix, flag, action.dest, is_path, kind, choices))
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


# --- the oracle: what each option must refuse ------------------------------------------------

_WIDE_DIGITS = str.maketrans("０１２３４５６７８９－＋", "0123456789-+")
"""Full-width digits and signs, as an IME types them, read like ASCII ones."""

_INTEGER = re.compile(r"[+-]?[0-9]+")
_CALENDAR_DATE = re.compile(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})")
_WEEK_DATE = re.compile(r"([0-9]{4})-?W[0-9]{2}(?:-?[1-7])?")
_TIME = re.compile(r".([0-9]{2})(?::?([0-9]{2})(?::?([0-9]{2})(?:[.,][0-9]+)?)?)?(.*)", re.DOTALL)


def _not_a_date(text: str) -> bool:
    """Not an ISO 8601 date (YYYY-MM-DD or YYYYMMDD; a week date is not judged) of a year
    etcbook takes (1900–2999): 2025-02-30, 25/02/30, 9999-12-31, 2025-13, …"""
    if week := _WEEK_DATE.fullmatch(text):
        return int(week[1]) not in YEARS
    match = _CALENDAR_DATE.fullmatch(text)
    if match is None:
        return True
    try:
        day = dt.date(*map(int, match.groups()))
    except ValueError:
        return True
    return day.year not in YEARS


def _not_a_datetime(text: str) -> bool:
    """Not an ISO 8601 date, optionally with a time of day, without a time zone (Japan time)."""
    date = _CALENDAR_DATE.match(text) or _WEEK_DATE.match(text)
    if date is None or _not_a_date(date[0]):
        return True
    rest = text[date.end() :]
    if not rest:
        return False
    time_of_day = _TIME.fullmatch(rest)
    if time_of_day is None:
        return True
    hour, minute, second, zone = time_of_day.groups()
    return int(hour) > 24 or int(minute or 0) > 59 or int(second or 0) > 59 or bool(zone)


def _not_a_month(text: str) -> bool:
    """Not YYYY-MM (or YYYY-M) of a real month and a year etcbook takes."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})", text.translate(_WIDE_DIGITS))
    return match is None or int(match[1]) not in YEARS or not 1 <= int(match[2]) <= 12


def _integer(text: str, *, drop: str = ",") -> int | None:
    """The whole number ``text`` writes (ASCII or full-width digits, ``drop`` ignored)."""
    cleaned = text.strip().translate(_WIDE_DIGITS)
    for character in drop:
        cleaned = cleaned.replace(character, "")
    return int(cleaned) if _INTEGER.fullmatch(cleaned) else None


def _below(minimum: int, *, drop: str = ",") -> Callable[[str], bool]:
    def refused(text: str) -> bool:
        value = _integer(text, drop=drop)
        return value is not None and value < minimum

    return refused


def _outside(low: int, high: int) -> Callable[[str], bool]:
    def refused(text: str) -> bool:
        value = _integer(text)
        return value is not None and not low <= value <= high

    return refused


def _not_a_card(text: str) -> bool:
    typed = text.strip()
    digits_only = re.fullmatch(r"[0-9０-９*＊\s\-]+", typed) is not None
    return not typed or (
        digits_only and len(re.findall("[0-9]", typed.translate(_WIDE_DIGITS))) < 4
    )


BY_TYPE: dict[str, Callable[[str], bool]] = {
    "parse_date": _not_a_date,
    "parse_datetime": _not_a_datetime,
    "parse_month": _not_a_month,
    "parse_yen": lambda text: _integer(text, drop=",円") is None,
    "parse_last4": lambda text: len(re.findall("[0-9]", text.translate(_WIDE_DIGITS))) < 4,
    # A card: id:N, a label, or digits (a card number: at least 4 of them).
    "card_reference": lambda text: _not_a_card(text),
    "card_or_new_last4": lambda text: _not_a_card(text),
    "parse_int": lambda text: _integer(text) is None,
    "int": lambda text: _integer(text) is None,  # int() also reads "٢٣٤٥": use parse_int
    "_positive_int": lambda text: _integer(text) is None or _below(1)(text),
    "_nonzero_int": lambda text: _integer(text, drop=",円P") in (None, 0),
    # --db: a PostgreSQL URL carrying a password (USER:PASSWORD@ or password=) is refused.
    "db_argument": lambda text: bool(
        re.match(r"(?i)postgres(ql)?://[^/@]*:[^/@]*@", text)
        or re.search(r"(?i)[?&]password=", text)
    ),
}
"""Values an option of each argparse type must refuse."""

BY_MEANING: dict[str, Callable[[str], bool]] = {
    "reconcile --site-opening": _below(0, drop=",円"),  # a rebate balance is never negative
    "reconcile --site-closing": _below(0, drop=",円"),
    "suggest --need": _below(0, drop=",円"),  # yen needed for planned trips
    "trip add --rebate-applied": _below(0, drop=",円"),  # rebate paid part of a toll
    "trip edit --business-share": _outside(0, 100),  # per cent
    "memo --finding": _below(1),  # numbered from 1
    "memo --actual-points": _below(0),
    "memo --trip": _below(1),  # ids
    "trip edit TRIP_ID": _below(1),
    "evidence remove ID": _below(1),
    **{f"incident {verb} INCIDENT_ID": _below(1) for verb in ("step", "contact", "show", "close")},
}
"""Values an option must refuse for what it means (a negative amount where none is allowed)."""


def must_refuse(option: Option, value: str) -> bool:
    """Whether ``option`` has to refuse ``value`` (exit 2 or 3, nothing changed)."""
    if option.choices and value not in option.choices:
        return True
    by_type = BY_TYPE.get(option.kind)
    by_meaning = BY_MEANING.get(str(option))
    return bool((by_type and by_type(value)) or (by_meaning and by_meaning(value)))


def test_the_oracle_knows_every_typed_option() -> None:
    """A new argparse type needs its refusals in BY_TYPE (text and paths have none)."""
    kinds = {o.kind for o in OPTIONS} - {"", "Path"}
    assert kinds - BY_TYPE.keys() <= {"parse_change", "parse_pool_points", "_unit_list"}
    assert BY_MEANING.keys() <= {str(o) for o in OPTIONS}


@pytest.mark.parametrize(
    ("kind", "value", "refused"),
    [
        ("parse_date", "2025-02-30", True),
        ("parse_date", "2025-02-28", False),
        ("parse_date", "20250228", False),
        ("parse_date", "9999-12-31", True),
        ("parse_date", "25/02/28", True),
        ("parse_datetime", "2025-02-01T25:00", True),
        ("parse_datetime", "2025-02-01T09:30", False),
        ("parse_datetime", "2025-02-01T09:30+09:00", True),
        ("parse_month", "2025-13", True),
        ("parse_month", "2025-1", False),
        ("parse_yen", "-1", False),
        ("parse_yen", "1,200円", False),
        ("parse_yen", "١٢٠٠", True),
        ("parse_yen", "1e9", True),
        ("parse_last4", "１２３٤", True),
        ("parse_last4", "4980-1234-5678-9012", False),
        ("parse_int", "٢٣٤٥", True),
        ("parse_int", "1_000", True),
        ("_positive_int", "0", True),
    ],
)
def test_the_oracle_itself(kind: str, value: str, refused: bool) -> None:
    assert BY_TYPE[kind](value) is refused


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
    if option.dest != "db" and must_refuse(option, value):
        tally.count(REFUSALS, str(option))
        assert status in (2, 3), f"{argv}: exit {status}, but {value!r} must be refused\n{err}"
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


FIXED_VALUES = ("", "-", "a" * 5000, "2025-02-30", "٢٣٤٥", "-1", "1_000")


@pytest.mark.parametrize("option", OPTIONS, ids=str)
def test_each_value_option_with_fixed_nasty_values(world: dict[str, Path], option: Option) -> None:
    """Every option with each of the same few values, every time (hypothesis picks at random)."""
    for value in FIXED_VALUES:
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
