"""``reverse``: list a card's exchanges and adjustments, or reverse a mistaken one.

``etcbook reverse --card LAST4 [--json]`` lists what can be reversed (newest first, with ids);
``etcbook reverse --exchange ID --reason TEXT`` (or ``--adjustment ID``) reverses one. A
reversal keeps the record, marked 取消 with when and why, and the audit log keeps both; the
points and rebate are computed as if it had not been recorded. Refused (exit 3, nothing
changed) when a later record would no longer hold.
"""

from __future__ import annotations

import argparse

from etcbook.cli.common import BadInput, CliContext, add_json_flag, card_or_new_last4, emit, say


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "reverse",
        help="誤って記録した交換・調整を取り消す（記録は取消として残る）",
        description=(
            "--card だけを付けると、取り消せる交換と調整を一覧します。"
            "--exchange ID または --adjustment ID と --reason で1件を取り消します。"
        ),
    )
    parser.add_argument("--card", type=card_or_new_last4, metavar="CARD", help="一覧するカード")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--exchange", type=int, metavar="ID", help="取り消す交換のID")
    which.add_argument("--adjustment", type=int, metavar="ID", help="取り消す調整のID")
    parser.add_argument("--reason", metavar="TEXT", help="取り消す理由")
    parser.add_argument("--all", action="store_true", help="一覧に取消済みも含める")
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_reverse, card_ids=True)


def cmd_reverse(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.cli.mileage import _rules, refusals_as_bad_input
    from etcbook.models.mileage_changes import reverse_record, reversible_records

    if args.exchange is None and args.adjustment is None:
        if args.card is None:
            raise BadInput(
                "--card（一覧）または --exchange / --adjustment（取消）を指定してください"
            )
        with refusals_as_bad_input(), context.store.engine.connect() as connection:
            records = reversible_records(
                connection=connection, last4=args.card, include_reversed=args.all
            )
        emit(
            args,
            {"records": [record.to_json() for record in records]},
            lambda: (
                "\n".join(
                    f"{record.kind} {record.id}: {record.describe()}"
                    + (f"  （取消済み: {record.reversed_reason}）" if record.reversed_at else "")
                    for record in records
                )
                or "取り消せる交換・調整はありません。"
            ),
        )
        return 0
    if not args.reason:
        raise BadInput("取り消す理由を --reason で指定してください")
    kind, record_id = (
        ("exchange", args.exchange)
        if args.exchange is not None
        else ("adjustment", args.adjustment)
    )
    rules = _rules()
    with refusals_as_bad_input(), context.store.transaction() as connection:
        reversed_record = reverse_record(
            connection=connection, rules=rules, kind=kind, record_id=record_id, reason=args.reason
        )
    say(f"取り消しました: {reversed_record.describe()}（{args.reason}）。")
    emit(args, {"reversed": reversed_record.to_json()}, reversed_record.describe)
    return 0
