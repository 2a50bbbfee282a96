"""``etcbook`` command line: with no command it opens the window, with one it works headless.

Each module in this package defines ``register(subparsers)`` and is discovered here, so a
command group is added by adding a module.

Opening the window (``etcbook`` alone, or with ``--db PATH``) imports none of it: neither
argparse nor the command modules load before the window is shown.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import argparse


def _command_module(argv: Sequence[str]) -> str | None:
    """The one command module that registers the command ``argv`` names, or None (then every
    module is registered: no command, an unknown or shared one, or sources not readable as in
    the frozen app). A command then imports only its own module, not all of them."""
    import importlib.util
    import pkgutil
    import re

    registers = re.compile(r'\bsubparsers\.add_parser\(\s*"([\w-]+)"')
    args = iter(argv)
    command = None
    for arg in args:
        if arg == "--db":
            next(args, None)
        elif not arg.startswith("-"):
            command = arg
            break
    if command is None:
        return None
    found = []
    for module in pkgutil.iter_modules(__path__):
        spec = importlib.util.find_spec(f"{__name__}.{module.name}")
        loader = getattr(spec, "loader", None)
        try:
            source = loader.get_source(f"{__name__}.{module.name}") if loader else None
        except (ImportError, OSError):
            source = None
        if source is None:
            return None
        if command in registers.findall(source):
            found.append(module.name)
    return found[0] if len(found) == 1 else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command-line parser; given ``argv``, with only the module of the command it names
    when that one is known (see :func:`_command_module`)."""
    import importlib
    import pkgutil

    from etcbook import __version__
    from etcbook.cli.common import Parser, db_argument

    parser = Parser(
        prog="etcbook",
        description="ETC利用明細とETCマイレージの帳簿（オフライン）。コマンドなしでウィンドウを開きます。",
    )
    parser.add_argument("--version", action="version", version=f"etcbook {__version__}")
    parser.add_argument(
        "--db",
        type=db_argument,
        metavar="PATH|URL",
        help="ストアのファイル、または PostgreSQL のURL（postgresql://USER@HOST/DB、"
        "postgresql:///?service=NAME）。既定: 環境変数 ETCBOOK_DB、なければユーザーデータフォルダ",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    only = None if argv is None else _command_module(argv)
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name == "common" or (only is not None and module.name != only):
            continue
        importlib.import_module(f"{__name__}.{module.name}").register(subparsers)
    return parser


def _window_only(argv: Sequence[str]) -> Path | Literal[False] | None:
    """``etcbook`` or ``etcbook --db PATH`` opens the window: return the --db value (or None).

    Returns False for anything else, which goes through the full parser. Opening the window
    then skips importing every command module.
    """
    args = list(argv)
    if not args:
        return None
    if len(args) == 2 and args[0] == "--db":
        value = args[1]
    elif len(args) == 1 and args[0].startswith("--db="):
        value = args[0].removeprefix("--db=")
    else:
        return False
    # A server URL goes through the full parser, which checks it.
    return False if value.lower().startswith(("postgresql:", "postgres:")) else Path(value)


def _open_window(db: object) -> int:
    """The window, on a store file or a PostgreSQL ledger (a checked server address)."""
    from etcbook.ui.app import run_app

    if isinstance(db, Path):  # a file: nothing of etcbook.models before the window is shown
        return run_app(db)
    from etcbook.models.server import ServerAddress, ServerError, parse_address

    if isinstance(db, str):  # ETCBOOK_DB holding a URL
        try:
            db = parse_address(db)
        except ServerError as exc:
            print(exc, file=sys.stderr)
            return 3
    if not isinstance(db, Path | ServerAddress):
        raise TypeError(f"not a store location: {db!r}")
    return run_app(db)


def _closed_pipe(exc: OSError) -> bool:
    """True when writing to stdout failed because its reader went away: ``BrokenPipeError``,
    or on Windows ``OSError(EINVAL)`` without a file name (a pipe closed by ``more``)."""
    import errno

    if isinstance(exc, BrokenPipeError):
        return True
    return sys.platform == "win32" and exc.errno == errno.EINVAL and exc.filename is None


def _file_problem(exc: OSError) -> int:
    """A file named on the command line that cannot be read or written (a folder, no
    permission, a full disk): one sentence with the file's name, not a traceback; exit 3."""
    from etcbook.cli.common import EXIT_BAD_INPUT, say

    where = exc.filename if exc.filename not in (None, "") else "ファイル"
    say(f"{where}: 読み書きできません（{exc.strerror or exc}）。")
    return EXIT_BAD_INPUT


def gui_main() -> int:
    """The ``etcbook-gui`` entry point (a gui-script: no console window on Windows).

    The same command line as ``etcbook``; without a console (``pythonw``) the standard streams
    are None, so messages written to them go nowhere instead of failing.
    """
    import os

    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    window_db = _window_only(argv)
    if window_db is not False:
        from etcbook.paths import default_store_path

        return _open_window(window_db or default_store_path())
    from etcbook.cli.common import (
        EXIT_BAD_INPUT,
        EXIT_BUSY,
        EXIT_USAGE,
        BadInput,
        CliContext,
        configure_streams,
        resolve_card_references,
        say,
    )
    from etcbook.safeio import FileInUse

    configure_streams(json_output="--json" in argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    context = CliContext(db=args.db, light_reads=getattr(args, "light_reads", False))
    if args.command is None:
        return _open_window(context.target)
    if not hasattr(args, "handler"):
        parser.parse_args([*argv, "--help"])
        return EXIT_USAGE
    try:
        resolve_card_references(args, context)
        return int(args.handler(args, context) or 0)
    except BadInput as exc:
        say(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        say("中断しました。")
        return 130
    except FileInUse as exc:
        # Windows: a file to replace is open in another program (a CSV in Excel).
        say(str(exc))
        return EXIT_BAD_INPUT
    except OSError as exc:
        if not _closed_pipe(exc):
            return _file_problem(exc)
        # The reader of stdout went away (``etcbook trips | head``): not an error of ours.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        # SQLite refusing the store (busy elsewhere, read-only, disk full, damaged) is not a bug:
        # say so in one sentence instead of a traceback. The transaction was rolled back.
        from etcbook.models.instance import is_store_busy, store_problem

        problem = store_problem(exc, context.target)
        if problem is None:
            raise
        say(problem)
        return EXIT_BUSY if is_store_busy(exc) else EXIT_BAD_INPUT
    finally:
        context.close()
