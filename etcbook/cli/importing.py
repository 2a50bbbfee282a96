"""``import FILE… [--card LAST4] [--dry-run]``: 明細CSV files into the store, all or nothing.

After an import, each file is kept in the vault as an original (``detail_csv``, once per content);
the JSON document lists them under ``originals``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from etcbook.cli.common import (
    EXIT_BAD_INPUT,
    CliContext,
    add_json_flag,
    card_or_new_last4,
    emit,
    say,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import",
        help="ETC利用照会サービスの明細CSVを取り込む",
        description="明細CSVを取り込みます。どれか1行でも誤りがあれば何も保存しません。",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--card",
        type=card_or_new_last4,
        metavar="CARD",
        help="このカードの明細として取り込む（カード番号が空の行に使い、別カードの行は誤りとする）。"
        "末尾4桁、id:番号、呼び名。末尾4桁が同じカードが複数あるときは必須",
    )
    parser.add_argument("--dry-run", action="store_true", help="取り込まずに件数だけ確かめる")
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_import, card_ids=True)


def cmd_import(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.imports import import_files

    result = import_files(
        context.store,
        args.files,
        card_last4=args.card,
        card_id=args.card.id if args.card is not None else None,
        dry_run=args.dry_run,
    )
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

    kept = []
    if result.ok and result.committed:
        from etcbook.models.originals import keep_detail_csvs

        kept = keep_detail_csvs(store=context.store, paths=args.files, card_last4=args.card)
        for original in kept:
            if original.problem:
                say(f"原本として保管できませんでした: {original.problem}")

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
        added = sum(1 for original in kept if original.new)
        if kept:
            lines.append(
                f"明細CSVを原本として証憑フォルダに保管: 新しく {added}件"
                f"（同じ内容で保管済み {sum(1 for o in kept if o.document_id and not o.new)}件）"
            )
        return "\n".join(lines)

    document = result.to_json()
    document["originals"] = [original.to_json() for original in kept]
    emit(args, document, human)
    return 0 if result.ok else EXIT_BAD_INPUT
