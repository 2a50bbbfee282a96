"""``reminders``: what to do soon, for every card (card expiry, logins, statements about to
leave the download window, points expiring, inactivity, the next 20th, months to reconcile,
open incidents)."""

from __future__ import annotations

import argparse

from etcbook import clock
from etcbook.cli.common import CliContext, add_json_flag, emit, parse_date, table


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("reminders", help="リマインダー（期限・失効・未照合など）")
    parser.add_argument(
        "--as-of", type=parse_date, metavar="YYYY-MM-DD", help="基準日（既定: 今日）"
    )
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_reminders)


SEVERITY_LABELS = {"urgent": "至急", "warning": "注意", "info": "お知らせ"}


def cmd_reminders(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.domain.reminders import REMINDER_LABELS, reminder_json
    from etcbook.models.reminders import dashboard_reminders

    as_of = args.as_of or clock.today()
    with context.store.engine.connect() as connection:
        items = dashboard_reminders(connection=connection, as_of=as_of)
    document = {"as_of": as_of.isoformat(), "reminders": [reminder_json(r) for r in items]}

    def human() -> str:
        if not items:
            return "リマインダーはありません。"
        return table(
            ["", "カード", "種類", "内容"],
            [
                [SEVERITY_LABELS[r.severity], r.card, REMINDER_LABELS[r.kind], r.message]
                for r in items
            ],
        )

    emit(args, document, human)
    return 0
