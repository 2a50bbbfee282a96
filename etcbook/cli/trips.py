"""``trips``: the stored trips, filtered by card, month or date range."""

from __future__ import annotations

import argparse

from etcbook.cli.common import (
    BadInput,
    CliContext,
    add_json_flag,
    card_or_new_last4,
    emit,
    parse_date,
    parse_month,
    table,
    yen,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("trips", help="走行明細の一覧")
    parser.add_argument("--card", type=card_or_new_last4, metavar="CARD")
    parser.add_argument("--month", type=parse_month, metavar="YYYY-MM", help="出口の日時の月")
    parser.add_argument("--from", dest="date_from", type=parse_date, metavar="DATE")
    parser.add_argument("--to", dest="date_to", type=parse_date, metavar="DATE")
    parser.add_argument("--operator", metavar="KEY", help="事業者キー（nexco, shutoko, …）")
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_trips, card_ids=True)


def cmd_trips(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.passages import list_passage_rows, passage_json
    from etcbook.models.trips import TripFilter, list_trip_rows, trip_json

    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise BadInput("--from が --to より後になっています")
    trip_filter = TripFilter(
        card=args.card,
        card_id=getattr(args.card, "id", None),
        month=args.month,
        date_from=args.date_from,
        date_to=args.date_to,
        operator=args.operator,
    )
    with context.store.engine.connect() as connection:
        trips = [
            {**trip_json(r, with_version=True), "card_id": r["card_id"]}
            for r in list_trip_rows(connection=connection, trip_filter=trip_filter)
        ]
        if trips:
            # What each trip was really billed and earns, from the mileage engine.
            from etcbook import clock
            from etcbook.cli.trip_entry import with_engine_figures
            from etcbook.models.mileage_inputs import trip_results_for

            results = trip_results_for(
                connection=connection, card_ids={t["card_id"] for t in trips}, as_of=clock.today()
            )
            trips = [with_engine_figures(t, results) for t in trips]
        # Passages (a bare － in the file): listed with the trips, every money field null.
        passages = [
            {**passage_json(r), "version": None, "card_id": r["card_id"]}
            for r in list_passage_rows(connection=connection, trip_filter=trip_filter)
        ]
        if passages:
            trips = sorted(
                [*trips, *passages],
                key=lambda t: (t["dated_at"], t["passage"], t["id"] or t["passage_id"]),
            )

    def human() -> str:
        if not trips:
            return "該当する走行はありません。"
        body = table(
            [
                "ID",
                "カード",
                "日時",
                "入口",
                "出口",
                "通行料金",
                "還元充当",
                "請求額",
                "事業者",
                "状態",
                "用途",
            ],
            [
                [
                    t["id"] if t["id"] is not None else "",
                    t["card"],
                    str(t["dated_at"]).replace("T", " ")[:16],
                    t["entry_ic"] or "",
                    t["exit_ic"] or "",
                    "通過" if t["passage"] else yen(t["toll"]),
                    "" if t["passage"] else yen(t["rebate_applied"]),
                    "" if t["passage"] else yen(t["billed"]),
                    t["operator"] + ("?" if "operator_guess" in t["flags"] else ""),
                    t["status"] or "",
                    t["purpose"],
                ]
                for t in trips
            ],
            right=(0, 5, 6, 7),
        )
        total = sum(t["billed"] for t in trips if not t["passage"])
        passages_shown = sum(1 for t in trips if t["passage"])
        note = f"（うち通過 {passages_shown:,}件は金額なし）" if passages_shown else ""
        note = f"  {note}" if note else ""
        guessed = sum(1 for t in trips if "operator_guess" in t["flags"])
        if guessed:
            note += f"\n事業者「?」{guessed:,}件: 料金所名を知るルールがなく nexco と推定しています"
            note += "（etcbook route unknown / route add）"
        return f"{body}\n{len(trips):,}件  請求額合計 {total:,}円{note}"

    emit(args, {"trips": trips}, human)
    return 0
