"""``admin`` (roles on a shared PostgreSQL ledger), ``month`` (closing) and ``claim`` (the
claims workflow)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from etcbook.cli.common import (
    CARD_HELP,
    BadInput,
    CliContext,
    add_json_flag,
    card_reference,
    emit,
    parse_date,
    parse_int,
    say,
    table,
)

EXIT_REFUSED = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = subparsers.add_parser("admin", help="共有の帳簿（PostgreSQL）の利用者と役割")
    sub = admin.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="役割・所有者・行レベルセキュリティを設定する（再実行可）")
    add_json_flag(init)
    init.set_defaults(handler=_handler(cmd_init))
    add = sub.add_parser("add-user", help="利用者（ログインロール）を追加する")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=("driver", "accounts"))
    add.set_defaults(handler=_handler(cmd_add_user))
    assign = sub.add_parser("assign-card", help="カードを利用者の担当にする")
    assign.add_argument("login")
    assign.add_argument("card", type=card_reference, metavar="CARD", help=CARD_HELP)
    assign.set_defaults(handler=_handler(cmd_assign), card_ids=True)
    unassign = sub.add_parser("unassign-card", help="カードの担当を外す")
    unassign.add_argument("login")
    unassign.add_argument("card", type=card_reference, metavar="CARD", help=CARD_HELP)
    unassign.set_defaults(handler=_handler(cmd_unassign), card_ids=True)
    users = sub.add_parser("users", help="利用者と担当カードの一覧")
    add_json_flag(users)
    users.set_defaults(handler=_handler(cmd_users))
    check = sub.add_parser(
        "check", help="スーパーユーザー・BYPASSRLS・テーブル所有の点検（問題があれば終了コード3）"
    )
    add_json_flag(check)
    check.set_defaults(handler=_handler(cmd_check))

    month = subparsers.add_parser("month", help="月締め（締めた月の走行は変更できません）")
    msub = month.add_subparsers(dest="action", metavar="ACTION", required=True)
    close = msub.add_parser("close", help="月を締める（経理担当）")
    close.add_argument("month", metavar="YYYY-MM")
    add_json_flag(close)
    close.set_defaults(handler=_handler(cmd_month_close))
    reopen = msub.add_parser(
        "reopen", help="月締めを解除する（経理担当、理由は監査ログに残ります）"
    )
    reopen.add_argument("month", metavar="YYYY-MM")
    reopen.add_argument("--reason", required=True)
    add_json_flag(reopen)
    reopen.set_defaults(handler=_handler(cmd_month_reopen))
    mlist = msub.add_parser("list", help="締めた月の一覧")
    add_json_flag(mlist)
    mlist.set_defaults(handler=_handler(cmd_month_list))

    claim = subparsers.add_parser("claim", help="精算の申請・承認・差し戻し")
    csub = claim.add_subparsers(dest="action", metavar="ACTION", required=True)
    submit = csub.add_parser("submit", help="精算を申請する（走行・金額・精算書を固定）")
    submit.add_argument(
        "--card", required=True, type=card_reference, metavar="CARD", help=CARD_HELP
    )
    submit.add_argument("--from", dest="date_from", required=True, type=parse_date, metavar="DATE")
    submit.add_argument("--to", dest="date_to", required=True, type=parse_date, metavar="DATE")
    add_json_flag(submit)
    submit.set_defaults(handler=_handler(cmd_claim_submit), card_ids=True)
    clist = csub.add_parser("list", help="申請の一覧")
    clist.add_argument("--status", choices=("submitted", "approved", "returned", "withdrawn"))
    add_json_flag(clist)
    clist.set_defaults(handler=_handler(cmd_claim_list))
    approve = csub.add_parser("approve", help="申請を承認する（経理担当）")
    approve.add_argument("id", type=int)
    approve.add_argument("--comment", default="")
    approve.add_argument(
        "--version",
        dest="expected_version",
        type=parse_int,
        metavar="N",
        help="読み込んだときの版（claim list --json の version）。他で変更されていたら変更しない",
    )
    add_json_flag(approve)
    approve.set_defaults(handler=_handler(cmd_claim_approve))
    ret = csub.add_parser("return", help="申請を差し戻す（経理担当、コメント必須）")
    ret.add_argument("id", type=int)
    ret.add_argument("--comment", required=True)
    ret.add_argument(
        "--version",
        dest="expected_version",
        type=parse_int,
        metavar="N",
        help="読み込んだときの版（claim list --json の version）。他で変更されていたら変更しない",
    )
    add_json_flag(ret)
    ret.set_defaults(handler=_handler(cmd_claim_return))
    files = csub.add_parser(
        "files",
        help="申請で固定した書類（精算書PDF・CSV・一式ZIP・承認済PDF）の一覧と書き出し",
    )
    files.add_argument("id", type=int)
    files.add_argument(
        "--out", type=Path, metavar="DIR", help="書き出すフォルダ（内容を記録と照合してから）"
    )
    add_json_flag(files)
    files.set_defaults(handler=_handler(cmd_claim_files))


def _handler(
    command: Callable[[argparse.Namespace, CliContext], int],
) -> Callable[[argparse.Namespace, CliContext], int]:
    """Rule and role refusals as sentences (exit 3): nothing changed."""

    def run(args: argparse.Namespace, context: CliContext) -> int:
        from etcbook.models.cards import AmbiguousCard, CardNotFound
        from etcbook.models.roles import RolesError
        from etcbook.models.workflow import Refused

        try:
            return command(args, context)
        except (Refused, RolesError, AmbiguousCard, CardNotFound, ValueError) as exc:
            text = exc.args[0] if exc.args else str(exc)
            raise BadInput(str(text)) from None

    return run


def _server_only(context: CliContext) -> Any:
    store = context.store
    if not store.on_server:
        raise BadInput(
            "利用者と役割は PostgreSQL の共有帳簿だけのものです（SQLite の帳簿は一人で使い、すべてできます）"
        )
    return store


def cmd_init(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.roles import init_roles

    store = _server_only(context)
    with store.transaction() as connection:
        result = init_roles(connection)
    emit(args, result, lambda: f"役割を設定しました（テーブル {result['tables']} 個）")
    return EXIT_REFUSED if result["problems"] else 0


def cmd_add_user(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.roles import add_user

    store = _server_only(context)
    with store.transaction() as connection:
        add_user(connection, args.login, args.role)
    say(f"利用者 {args.login} を {args.role} にしました。")
    return 0


def cmd_assign(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.roles import assign_card

    store = _server_only(context)
    with store.transaction() as connection:
        assign_card(connection, args.login, f"id:{args.card.known_id}")
    say(f"カード id:{args.card.known_id}（末尾{args.card}）を {args.login} の担当にしました。")
    return 0


def cmd_unassign(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.roles import unassign_card

    store = _server_only(context)
    with store.transaction() as connection:
        removed = unassign_card(connection, args.login, f"id:{args.card.known_id}")
    say(
        f"カード id:{args.card.known_id}（末尾{args.card}）の担当を外しました。"
        if removed
        else "その担当はありませんでした。"
    )
    return 0


def cmd_users(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.roles import list_users

    store = _server_only(context)
    with store.engine.connect() as connection:
        users = list_users(connection)
    emit(
        args,
        {"users": [u.as_json() for u in users]},
        lambda: table(
            ("利用者", "役割", "担当カード"),
            [(u.login, u.role, ", ".join(u.cards)) for u in users],
        ),
    )
    return 0


def cmd_check(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.roles import check_roles

    store = _server_only(context)
    with store.engine.connect() as connection:
        problems = check_roles(connection)
    emit(
        args,
        {"ok": not problems, "problems": problems},
        lambda: "\n".join(problems) if problems else "問題はありません。",
    )
    return EXIT_REFUSED if problems else 0


def cmd_month_close(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.workflow import close_month

    with context.store.transaction() as connection:
        changed = close_month(connection, args.month)
    emit(
        args,
        {"month": args.month, "closed": True, "changed": changed},
        lambda: f"{args.month} を締めました。" if changed else f"{args.month} は締め済みです。",
    )
    return 0


def cmd_month_reopen(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.workflow import reopen_month

    with context.store.transaction() as connection:
        changed = reopen_month(connection, args.month, args.reason)
    emit(
        args,
        {"month": args.month, "closed": False, "changed": changed},
        lambda: (
            f"{args.month} の月締めを解除しました。"
            if changed
            else f"{args.month} は締められていません。"
        ),
    )
    return 0


def cmd_month_list(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.workflow import closed_months

    with context.store.engine.connect() as connection:
        months = closed_months(connection)
    emit(
        args,
        {"closed_months": months},
        lambda: table(
            ("月", "締めた日時", "締めた人"),
            [(m["month"], m["closed_at"], m["closed_by"]) for m in months],
        ),
    )
    return 0


def cmd_claim_submit(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.workflow import submit_claim

    if args.date_to < args.date_from:
        raise BadInput("--from が --to より後になっています")
    record, outputs = submit_claim(
        store=context.store,
        card=f"id:{args.card.known_id}",
        date_from=args.date_from,
        date_to=args.date_to,
    )
    document = {
        "claim": record.id,
        "status": record.status,
        "total": record.total,
        "card": record.card,
        "driver": record.driver,
        "from": record.date_from.isoformat(),
        "to": record.date_to.isoformat(),
        "trips": outputs.claim.totals.trips,
        "pdf": str(outputs.pdf),
        "csv": str(outputs.csv),
        "bundle": str(outputs.bundle),
        "pdf_sha256": record.pdf_sha256,
        "csv_sha256": record.csv_sha256,
        "bundle_sha256": record.bundle_sha256,
    }
    emit(args, document, lambda: f"申請 {record.id} を出しました（精算額 {record.total:,} 円）")
    return 0


def cmd_claim_list(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.workflow import list_claims

    with context.store.engine.connect() as connection:
        claims = list_claims(connection, args.status)
    emit(
        args,
        {"claims": [c.as_json() for c in claims]},
        lambda: table(
            ("番号", "カード", "申請者", "期間", "精算額", "状態", "コメント"),
            [
                (
                    str(c.id),
                    c.card,
                    c.driver,
                    f"{c.date_from}〜{c.date_to}",
                    f"{c.total:,}",
                    c.status,
                    c.comment,
                )
                for c in claims
            ],
        ),
    )
    return 0


def _decide(args: argparse.Namespace, context: CliContext, approve: bool) -> int:
    from etcbook.models.workflow import decide_claim

    record, pdf = decide_claim(
        store=context.store,
        claim_id=args.id,
        approve=approve,
        comment=args.comment,
        expected_version=args.expected_version,
    )
    document = record.as_json()
    if pdf is not None:
        document["pdf"] = str(pdf)
    emit(
        args,
        document,
        lambda: f"申請 {record.id} を{'承認' if approve else '差し戻し'}ました。",
    )
    return 0


def cmd_claim_approve(args: argparse.Namespace, context: CliContext) -> int:
    return _decide(args, context, True)


def cmd_claim_return(args: argparse.Namespace, context: CliContext) -> int:
    return _decide(args, context, False)


def cmd_claim_files(args: argparse.Namespace, context: CliContext) -> int:
    """The claim's frozen files; with ``--out``, written there after their SHA-256 is checked
    (on a shared ledger they come from the database, whoever submitted the claim)."""
    from etcbook.models.workflow import claim_files, get_claim, save_claim_files

    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise BadInput(f"--out はフォルダを指定してください: {args.out}")
    with context.store.engine.connect() as connection:
        get_claim(connection, args.id)
        files = claim_files(connection, args.id)
    written: dict[str, str] = {}
    if args.out is not None:
        for path in save_claim_files(store=context.store, claim_id=args.id, folder=args.out):
            written[path.name] = str(path)
            say(f"書き出しました: {path}")
    document = {
        "claim": args.id,
        "files": [{**f.as_json(), "path": written.get(f.name)} for f in files],
    }
    emit(
        args,
        document,
        lambda: (
            table(
                ("種類", "ファイル", "サイズ", "SHA-256"),
                [(f.kind, f.name, f"{f.size:,}", f.sha256) for f in files],
            )
            if files
            else f"申請 {args.id} には保管された書類がありません。"
        ),
    )
    return 0
