"""``copy-store``: copy the whole ledger into an empty one (SQLite ⇄ PostgreSQL, or file to file).

``etcbook [--db SOURCE] copy-store --to TARGET [--json]`` copies every table (ids kept), the
vault's originals and the claims' frozen files (SHA-256 checked) of the current ledger into
TARGET, a new or empty SQLite file or PostgreSQL database (a libpq URL), created or migrated
first; the bytes go where the target keeps them (files beside a SQLite file, rows on
PostgreSQL). A target that holds data, or a damaged original, is refused (exit 3, nothing
changed); a failure leaves it empty. ``--json``: rows per table, the originals and claim files
copied. Large tables report their progress on stderr.
"""

from __future__ import annotations

import argparse

from etcbook.cli.common import BadInput, CliContext, add_json_flag, db_argument, emit, say


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "copy-store",
        help="台帳をまるごと空の台帳へコピーする（SQLite ⇄ PostgreSQL）",
        description=(
            "現在の台帳（--db）の全データと証憑の原本・申請の書類を、--to の新しいファイルか空の PostgreSQL "
            "データベースへコピーします。IDはそのまま。コピー先にデータがあれば何もしません（終了コード3）。"
        ),
    )
    parser.add_argument(
        "--to",
        required=True,
        type=db_argument,
        metavar="TARGET",
        help="コピー先: SQLiteファイルのパス、または postgresql:// のURL",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_copy_store)


def cmd_copy_store(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.copy_store import CopyRefused, copy_store
    from etcbook.models.store import StoreError, open_store

    source = context.store
    try:
        target = open_store(args.to)
    except StoreError as exc:
        raise BadInput(str(exc)) from None

    def progress(table: str, done: int, total: int) -> None:
        say(f"{table}: {done:,} / {total:,} 行")

    try:
        report = copy_store(source=source, target=target, progress=progress)
    except CopyRefused as exc:
        raise BadInput(str(exc)) from None
    finally:
        target.close()
    rows = sum(report.tables.values())
    say(
        f"コピーしました: {source.name} → {target.name}"
        f"（{len(report.tables)} 表、{rows:,} 行、原本 {report.originals} 件、"
        f"申請の書類 {report.claim_files} 件、{report.seconds:.1f} 秒）"
    )
    emit(
        args,
        {"source": source.name, "target": target.name, **report.to_json()},
        lambda: "\n".join(f"{table}\t{count}" for table, count in report.tables.items()),
    )
    return 0
