"""``trip add`` and ``trip edit``: trips entered or corrected by hand.

The JSON of a trip is the ``trips --json`` shape, with the mileage engine's ``rebate_applied``,
``billed`` and ``points``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from etcbook.cli.common import (
    BadInput,
    CliContext,
    add_json_flag,
    card_or_new_last4,
    emit,
    parse_datetime,
    parse_int,
    parse_yen,
    say,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trip = subparsers.add_parser("trip", help="走行を手で追加・変更する")
    actions = trip.add_subparsers(dest="trip_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="走行を追加する（明細にない走行、取り込み前の走行）")
    add.add_argument("--card", type=card_or_new_last4, metavar="CARD", required=True)
    add.add_argument("--exit", type=parse_datetime, metavar="YYYY-MM-DDTHH:MM", required=True)
    add.add_argument("--entry", type=parse_datetime, metavar="YYYY-MM-DDTHH:MM")
    add.add_argument("--from", dest="entry_ic", metavar="IC", help="入口IC")
    add.add_argument("--to", dest="exit_ic", metavar="IC", required=True, help="出口IC")
    add.add_argument("--toll", type=parse_yen, metavar="YEN", required=True, help="通行料金")
    add.add_argument("--operator", metavar="KEY", default="nexco", help="事業者キー（既定 nexco）")
    add.add_argument("--morning-evening", action="store_true", help="平日朝夕割引の対象")
    add.add_argument(
        "--rebate-applied", type=parse_yen, metavar="YEN", help="明細の還元額適用料金（分かるとき）"
    )
    add_json_flag(add)
    add.set_defaults(handler=cmd_trip_add, card_ids=True)

    edit = actions.add_parser("edit", help="走行の事業者・朝夕割・用途・業務割合を変更する")
    edit.add_argument("trip_id", type=parse_int, metavar="ID")
    edit.add_argument("--operator", metavar="KEY")
    flag = edit.add_mutually_exclusive_group()
    flag.add_argument(
        "--morning-evening", dest="morning_evening", action="store_true", default=None
    )
    flag.add_argument("--no-morning-evening", dest="morning_evening", action="store_false")
    edit.add_argument("--purpose", metavar="TEXT", help="用途")
    edit.add_argument("--business-share", type=parse_int, metavar="PCT", help="業務割合（0〜100）")
    edit.add_argument(
        "--version",
        dest="expected_version",
        type=parse_int,
        metavar="N",
        help="読み込んだときの版（trips --json の version）。他で変更されていたら変更しない",
    )
    add_json_flag(edit)
    edit.set_defaults(handler=cmd_trip_edit)


def trip_document(connection: Connection, trip_id: int) -> dict[str, Any]:
    """One trip as ``trips --json`` shows it, with the engine's figures."""
    from sqlalchemy import text

    from etcbook import clock
    from etcbook.models.mileage_inputs import trip_results_for
    from etcbook.models.trips import TRIP_COLUMNS, trip_json

    row = connection.execute(
        text(
            f"SELECT {TRIP_COLUMNS} FROM trips t JOIN cards c ON c.id = t.card_id WHERE t.id = :id"
        ),
        {"id": trip_id},
    ).first()
    if row is None:
        raise BadInput(f"走行ID {trip_id} はありません（etcbook trips で確認できます）")
    mapping = dict(row._mapping)
    document = {**trip_json(mapping, with_version=True), "card_id": mapping["card_id"]}
    results = trip_results_for(
        connection=connection, card_ids=[mapping["card_id"]], as_of=clock.today()
    )
    return with_engine_figures(document, results)


def with_engine_figures(document: dict[str, Any], results: dict[int, Any]) -> dict[str, Any]:
    """Fill ``rebate_applied`` and ``billed`` from the engine, and add ``points``."""
    result = results.get(document["id"])
    if result is None:
        document["points"] = 0
        return document
    document["rebate_applied"] = result.rebate_applied
    document["billed"] = result.billed
    document["points"] = result.points
    return document


def _human(trip: dict[str, Any]) -> str:
    route = f"{trip['entry_ic'] or '（本線）'} → {trip['exit_ic'] or '（入口で課金）'}"
    return (
        f"ID {trip['id']}  {str(trip['dated_at']).replace('T', ' ')[:16]}  {route}"
        f"  通行料金 {trip['toll']:,}円  還元充当 {trip['rebate_applied']:,}円"
        f"  請求額 {trip['billed']:,}円  ポイント {trip['points']:,}P"
    )


def cmd_trip_add(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.cli.mileage import refusals_as_bad_input
    from etcbook.models.mileage_changes import add_trip_by_hand

    with refusals_as_bad_input(), context.store.transaction() as connection:
        trip_id = add_trip_by_hand(
            connection=connection,
            last4=args.card,
            exit_at=args.exit,
            exit_ic=args.exit_ic,
            toll=args.toll,
            entry_at=args.entry,
            entry_ic=args.entry_ic,
            operator=args.operator,
            morning_evening=args.morning_evening,
            rebate_applied=args.rebate_applied,
        )
        document = trip_document(connection, trip_id)
    say(f"走行を追加しました（ID {trip_id}）。")
    emit(args, {"trip": document}, lambda: _human(document))
    return 0


def cmd_trip_edit(args: argparse.Namespace, context: CliContext) -> int:
    from sqlalchemy import text

    from etcbook.models.ui_queries import update_trips

    if (
        args.operator is None
        and args.morning_evening is None
        and args.purpose is None
        and args.business_share is None
    ):
        raise BadInput("変更する項目を指定してください（例: --operator nagoya）")
    with context.store.transaction() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM trips WHERE id = :id"), {"id": args.trip_id}
        ).first()
        if exists is None:
            from etcbook.models.refusals import not_yours

            raise BadInput(
                not_yours(connection, "trips", args.trip_id)
                or f"走行ID {args.trip_id} はありません（etcbook trips で確認できます）"
            )
        try:
            update_trips(
                connection=connection,
                ids=[args.trip_id],
                purpose=args.purpose,
                business_share=args.business_share,
                operator=args.operator,
                morning_evening=args.morning_evening,
                versions=(
                    None if args.expected_version is None else {args.trip_id: args.expected_version}
                ),
            )
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        document = trip_document(connection, args.trip_id)
    emit(args, {"trip": document}, lambda: _human(document))
    return 0
