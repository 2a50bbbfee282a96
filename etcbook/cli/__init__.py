"""``etcbook`` command line: with no command it opens the window, with one it works headless.

Each module in this package defines ``register(subparsers)`` and is discovered here, so a
command group is added by adding a module.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from etcbook import __version__
from etcbook.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_BUSY,
    EXIT_USAGE,
    BadInput,
    CliContext,
    say,
)


class _Parser(argparse.ArgumentParser):
    """argparse with Japanese-friendly usage errors on stderr and exit status 2."""

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> object:
        # argparse turns "--holder=--" into an empty list instead of a value or an error.
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            self.error(f"{action.option_strings[-1]} の値に「--」は使えません")
        return super()._get_values(action, arg_strings)

    def _get_value(self, action: argparse.Action, arg_string: str) -> object:
        value = super()._get_value(action, arg_string)
        # An id or amount SQLite cannot hold (64-bit) is a usage error, not an OverflowError.
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            name = action.option_strings[-1] if action.option_strings else action.metavar
            self.error(f"{name or action.dest} の値が大きすぎます: {arg_string}")
        return value

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        say(f"{self.prog}: 使い方の誤り: {message}")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="etcbook",
        description="ETC利用明細とETCマイレージの帳簿（オフライン）。コマンドなしでウィンドウを開きます。",
    )
    parser.add_argument("--version", action="version", version=f"etcbook {__version__}")
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="ストアのファイル（既定: 環境変数 ETCBOOK_DB、なければユーザーデータフォルダ）",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name == "common":
            continue
        importlib.import_module(f"{__name__}.{module.name}").register(subparsers)
    return parser


def _window_only(argv: Sequence[str]) -> Path | bool | None:
    """``etcbook`` or ``etcbook --db PATH`` opens the window: return the --db value (or None).

    Returns False for anything else, which goes through the full parser. Opening the window
    then skips importing every command module.
    """
    args = list(argv)
    if not args:
        return None
    if len(args) == 2 and args[0] == "--db":
        return Path(args[1])
    if len(args) == 1 and args[0].startswith("--db="):
        return Path(args[0].removeprefix("--db="))
    return False


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    window_db = _window_only(argv)
    if window_db is not False:
        from etcbook.ui.app import run_app

        return run_app(CliContext(db=window_db or None).db_path)
    parser = build_parser()
    args = parser.parse_args(argv)
    context = CliContext(db=args.db)
    if args.command is None:
        from etcbook.ui.app import run_app

        return run_app(context.db_path)
    if not hasattr(args, "handler"):
        parser.parse_args([*argv, "--help"])
        return EXIT_USAGE
    try:
        return int(args.handler(args, context) or 0)
    except BadInput as exc:
        say(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        say("中断しました。")
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (``etcbook trips | head``): not an error of ours.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        # A file named on the command line that cannot be read or written (a folder, no
        # permission, a full disk): one sentence with the file's name, not a traceback.
        where = exc.filename if exc.filename not in (None, "") else "ファイル"
        say(f"{where}: 読み書きできません（{exc.strerror or exc}）。")
        return EXIT_BAD_INPUT
    except Exception as exc:
        # SQLite refusing the store (busy elsewhere, read-only, disk full, damaged) is not a bug:
        # say so in one sentence instead of a traceback. The transaction was rolled back.
        from etcbook.models.instance import is_store_busy, store_problem

        problem = store_problem(exc, context.db_path)
        if problem is None:
            raise
        say(problem)
        return EXIT_BUSY if is_store_busy(exc) else EXIT_BAD_INPUT
    finally:
        context.close()
