"""``backup --out FILE.zip`` and ``restore FILE.zip``: the store and its vault in one archive."""

from __future__ import annotations

import argparse
from pathlib import Path

from etcbook.cli.common import EXIT_BUSY, BadInput, CliContext, add_json_flag, emit, say


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="ストアと証憑フォルダをZIPにバックアップする",
        description=(
            "ストア（SQLiteのオンラインバックアップで、使用中でも一貫した内容）と証憑フォルダ ETC/ を、"
            "SHA-256 の一覧（manifest.json）付きのZIPに書き出します。毎月1回がおすすめです。"
        ),
    )
    backup.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE.zip",
        help="書き出すZIPファイル（フォルダを指定すると日時入りの名前で作ります）",
    )
    backup.add_argument("--overwrite", action="store_true", help="同じ名前のZIPがあれば置き換える")
    add_json_flag(backup)
    backup.set_defaults(handler=cmd_backup)

    restore = subparsers.add_parser(
        "restore",
        help="バックアップZIPからストアと証憑フォルダを戻す",
        description=(
            "ZIPの中身をすべて検査してから戻します。壊れたZIPや etcbook のバックアップでないものは"
            "何も変更せずに断ります（終了コード3）。いまのストアは .before-restore-日時 の名前で残します。"
        ),
    )
    restore.add_argument("archive", type=Path, metavar="FILE.zip")
    restore.add_argument(
        "--check", action="store_true", help="検査だけして戻さない（ZIPが使えるか確かめる）"
    )
    add_json_flag(restore)
    restore.set_defaults(handler=cmd_restore)


def cmd_backup(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook import clock
    from etcbook.models.backup import BackupError, create_backup, expand

    try:
        out = expand(args.out)
        if out.is_dir():
            out = out / f"etcbook-backup-{clock.now():%Y%m%d-%H%M%S}.zip"
        result = create_backup(context.store, out, overwrite=args.overwrite)
    except BackupError as exc:
        raise BadInput(str(exc)) from None
    say(f"バックアップしました: {result.path}")
    emit(
        args,
        result.to_json(),
        lambda: (
            f"{result.path}  {result.size:,}バイト  カード {result.cards}枚、走行 {result.trips:,}件、"
            f"証憑 {result.vault_files}ファイル"
        ),
    )
    return 0


def cmd_restore(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.backup import (
        BackupError,
        RestoreIncomplete,
        StoreInUse,
        check_backup,
        restore_backup,
        server_ledger_refused,
    )

    try:
        if args.check:
            checked = check_backup(args.archive)
            say(f"使えるバックアップです（{checked['created_at']} 作成）。")
            emit(
                args,
                {"ok": True, **checked},
                lambda: (
                    f"カード {checked['cards']}枚、走行 {checked['trips']:,}件、証憑 {checked['vault_files']}ファイル"
                ),
            )
            return 0
        if not isinstance(context.target, Path):
            raise BackupError(server_ledger_refused(str(context.target)))
        result = restore_backup(args.archive, context.db_path)
    except StoreInUse as exc:
        say(str(exc))
        return EXIT_BUSY
    except RestoreIncomplete as exc:  # something did change: the message says what and where
        raise BadInput(str(exc)) from None
    except BackupError as exc:
        raise BadInput(f"{exc}何も変更していません。") from None
    if result.kept_store:
        say(f"戻す前のストアを残しました: {result.kept_store}")
    if result.kept_vault:
        say(f"戻す前の証憑フォルダを残しました: {result.kept_vault}")
    say(f"戻しました（{result.backup_created_at} のバックアップ）: {result.store}")
    emit(
        args,
        result.to_json(),
        lambda: (
            f"カード {result.cards}枚、走行 {result.trips:,}件、証憑 {result.vault_files}ファイル"
        ),
    )
    return 0
