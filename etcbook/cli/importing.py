"""``import FILE… [--card LAST4] [--dry-run]``: 明細CSV files into the store, all or nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from etcbook.cli.common import EXIT_BAD_INPUT, CliContext, add_json_flag, emit, parse_last4, say


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import",
        help="ETC利用照会サービスの明細CSVを取り込む",
        description="明細CSVを取り込みます。どれか1行でも誤りがあれば何も保存しません。",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--card",
        type=parse_last4,
        metavar="LAST4",
        help="このカードの明細として取り込む（カード番号が空の行に使い、別カードの行は誤りとする）",
    )
    parser.add_argument("--dry-run", action="store_true", help="取り込まずに件数だけ確かめる")
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.imports import import_files

    result = import_files(context.store, args.files, card_last4=args.card, dry_run=args.dry_run)
    for file in result.files:
        if file.problem:
            say(file.problem)
        for error in file.errors:
            say(f"{file.file}:{error.line}: {error.message}")
    if not result.ok:
        say("誤りがあるため、何も取り込みませんでした。")
    for last4 in result.new_cards if result.ok else []:
        if result.committed:
            say(
                f"カード末尾{last4}は未登録のため「詳細未入力」で作成しました"
                f"（etcbook card edit {last4} …）。"
            )
        else:
            say(f"カード末尾{last4}は未登録です（取り込むと「詳細未入力」で作成されます）。")

    def human() -> str:
        lines = [
            f"{f.file}: {f.rows:,}行  追加 {f.inserted:,}  更新 {f.updated:,}  重複 {f.duplicates:,}"
            + (f"  （追加のうち通過 {f.passages:,}: 金額なし）" if f.passages else "")
            + ("" if f.ok else "  （エラー）")
            for f in result.files
        ]
        verb = "確認のみ（保存していません）" if args.dry_run else "取り込みました"
        if result.ok:
            lines.append(
                f"{verb}: 追加 {result.inserted:,}件、更新 {result.updated:,}件、重複 {result.duplicates:,}件"
            )
        return "\n".join(lines)

    emit(args, result.to_json(), human)
    return 0 if result.ok else EXIT_BAD_INPUT
