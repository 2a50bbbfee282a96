"""``card add``, ``card list``, ``card edit``, ``card fill``."""

from __future__ import annotations

import argparse
from typing import Any

from etcbook.cli.common import (
    CARD_HELP,
    EXIT_BAD_INPUT,
    BadInput,
    CliContext,
    add_json_flag,
    card_reference,
    emit,
    parse_date,
    parse_int,
    parse_last4,
    say,
    table,
)
from etcbook.domain.cards import CARD_KIND_LABELS, CARD_KINDS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    card = subparsers.add_parser("card", help="カード台帳（追加・一覧・変更）")
    card_sub = card.add_subparsers(dest="card_command", metavar="ACTION", required=True)

    add = card_sub.add_parser("add", help="カードを登録する")
    add.add_argument("--holder", required=True, help="名義")
    add.add_argument("--last4", required=True, type=parse_last4, help="カード末尾4桁")
    _detail_options(add)
    add_json_flag(add)
    add.set_defaults(handler=cmd_add)

    lst = card_sub.add_parser("list", help="カードの一覧")
    add_json_flag(lst)
    lst.set_defaults(handler=cmd_list)

    edit = card_sub.add_parser("edit", help="カードの項目を変更する")
    edit.add_argument("last4", type=card_reference, metavar="CARD", help=CARD_HELP)
    edit.add_argument("--holder", help="名義")
    _detail_options(edit)
    edit.add_argument(
        "--no-auto-exchange", dest="auto_exchange", action="store_false", default=None
    )
    edit.add_argument("--status", choices=["active", "stopped", "replaced", "retired"])
    edit.add_argument(
        "--version",
        dest="expected_version",
        type=parse_int,
        metavar="N",
        help="読み込んだときの版（card list --json の version）。他で変更されていたら変更しない",
    )
    add_json_flag(edit)
    edit.set_defaults(handler=cmd_edit, card_ids=True)

    fill = card_sub.add_parser(
        "fill",
        help="多数のカードの名義・利用者・部署を表（CSV・TSV・表計算から貼り付け）でまとめて入力する",
        description="1行に1枚: カードの列（末尾4桁かカード番号）と、名義・利用者・部署・車両番号・"
        "グループ・メモの列（見出しで判断、空欄はそのまま）。1行でも誤りがあれば何も変えません。",
    )
    fill.add_argument("file", metavar="FILE", help="表のファイル（- で標準入力）")
    fill.add_argument("--dry-run", action="store_true", help="変更せずに結果だけ表示する")
    add_json_flag(fill)
    fill.set_defaults(handler=cmd_fill)


def _detail_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--label", help="呼び名（例: 2号車）。末尾4桁が同じカードを区別する、他と重ならない名前"
    )
    parser.add_argument("--driver", help="利用者")
    parser.add_argument("--department", help="部署")
    parser.add_argument("--kind", choices=CARD_KINDS, help="credit / personal / corporate")
    parser.add_argument("--expires", metavar="YYYY-MM", help="有効期限")
    parser.add_argument("--mileage-id", help="マイレージID")
    parser.add_argument("--login-id", help="ETC利用照会サービスのログインID")
    parser.add_argument(
        "--last-login", type=parse_date, metavar="YYYY-MM-DD", help="最終ログイン日"
    )
    parser.add_argument(
        "--auto-exchange", action="store_true", default=None, help="ポイント自動還元あり"
    )
    parser.add_argument("--plate", help="車両番号")
    parser.add_argument("--obu", metavar="DIGITS19", help="車載器管理番号（19桁）")
    parser.add_argument("--household", help="世帯・会社のまとまり（台帳のグループ）")
    parser.add_argument("--notes", help="メモ")


def _values(args: argparse.Namespace) -> dict[str, Any]:
    mapping = {
        "holder": "holder",
        "driver": "driver",
        "label": "label",
        "department": "department",
        "kind": "kind",
        "expires": "expires",
        "mileage_id": "mileage_id",
        "login_id": "login_id",
        "last_login": "last_login_on",
        "auto_exchange": "auto_exchange",
        "plate": "plate",
        "obu": "obu_number",
        "household": "household",
        "notes": "notes",
        "status": "status",
    }
    return {
        field: getattr(args, name)
        for name, field in mapping.items()
        if getattr(args, name, None) is not None
    }


def _human(cards: list[dict[str, object]]) -> str:
    if not cards:
        return "カードは登録されていません。"
    return table(
        ["末尾", "名義", "利用者", "部署", "種別", "有効期限", "自動還元", "状態", "グループ"],
        [
            [
                c["last4"],
                c["holder"],
                c["driver"],
                c["department"],
                CARD_KIND_LABELS.get(str(c["kind"]), c["kind"]),
                c["expires"] or "",
                "あり" if c["auto_exchange"] else "なし",
                c["status"],
                c["household"] or "",
            ]
            for c in cards
        ],
    )


def cmd_add(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.cards import card_json, create_card

    values = _values(args)
    holder = str(values.pop("holder"))
    with context.store.session(write=True) as session:
        try:
            card = create_card(session=session, last4=args.last4, holder=holder, **values)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        data = card_json(card)
    say(f"カード末尾{data['last4']}を登録しました（id:{data['id']}）。")
    emit(args, {"card": data}, lambda: _human([data]))
    return 0


def cmd_list(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.cards import card_json, list_cards

    with context.store.session() as session:
        cards = [card_json(c) for c in list_cards(session=session)]
    emit(args, {"cards": cards}, lambda: _human(cards))
    return 0


def cmd_edit(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.cards import CardNotFound, card_json, update_card

    values = _values(args)
    if not values:
        raise BadInput("変更する項目を指定してください（例: --holder 山田太郎）")
    with context.store.session(write=True) as session:
        try:
            card = update_card(
                session=session,
                card_id=args.last4.known_id,
                expected_version=args.expected_version,
                **values,
            )
        except (ValueError, CardNotFound) as exc:
            raise BadInput(str(exc)) from None
        data = card_json(card)
    emit(args, {"card": data}, lambda: _human([data]))
    return 0


def cmd_fill(args: argparse.Namespace, context: CliContext) -> int:
    import sys
    from pathlib import Path

    from etcbook.importers.meisai import format_errors
    from etcbook.models.cards import fill_cards
    from etcbook.safeio import display_name

    if args.file == "-":
        data, name = sys.stdin.buffer.read(), "<stdin>"
    else:
        path = Path(args.file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInput(f"{display_name(path)}: 読めません（{exc.strerror or exc}）") from None
        name = display_name(path)
    with context.store.session(write=True) as session:
        try:
            result = fill_cards(session=session, data=data, dry_run=args.dry_run)
        except ValueError as exc:
            raise BadInput(f"{name}: {exc}") from None
    document = {
        "file": name,
        "changes": result.changes,
        "unchanged": result.unchanged,
        "ignored_columns": result.ignored_columns,
        "errors": [{"line": e.line, "message": e.message} for e in result.errors],
        "committed": result.committed,
    }
    if not result.ok:
        for line in format_errors(name, result.errors):
            say(line)
        say("誤りがあるため、どのカードも変更しませんでした。")
        if args.json:
            emit(args, document, lambda: "")
        return EXIT_BAD_INPUT

    def human() -> str:
        lines = [
            f"末尾{c['last4']}: "
            + "、".join(f"{k} {c['before'][k] or '（空）'} → {v}" for k, v in c["after"].items())
            for c in result.changes
        ]
        verb = "変更しました" if result.committed else "変更します（--dry-run: 未変更）"
        lines.append(f"{len(result.changes)}枚を{verb}。変更なし {len(result.unchanged)}枚。")
        if result.ignored_columns:
            lines.append(f"使わなかった列: {'、'.join(result.ignored_columns)}")
        return "\n".join(lines)

    emit(args, document, human)
    return 0
