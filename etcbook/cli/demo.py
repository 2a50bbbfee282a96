"""``demo``: fill an empty store with the deterministic sample."""

from __future__ import annotations

import argparse

from etcbook.cli.common import BadInput, CliContext, add_json_flag, emit, say


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="空のストアにサンプル（世帯のカード2枚と法人カード1枚、18か月分、証憑の見本つき）を作る",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.demo import fill_demo
    from etcbook.models.vault import vault_location

    try:
        counts = fill_demo(context.store)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    say(f"サンプルを作りました: {context.store.name}")
    emit(
        args,
        {"store": context.store.name, **counts},
        lambda: (
            f"カード {counts['cards']}枚、走行 {counts['trips']:,}件（明細CSV {counts['files']}ファイル）、"
            f"証憑 {counts['documents']}件（{vault_location(context.store)}）"
        ),
    )
    return 0
