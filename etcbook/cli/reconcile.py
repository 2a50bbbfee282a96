"""``reconcile``: 月次照合 of one card and month — etcbook's figures beside the site's and the
card statement's, and a finding for every difference.

    etcbook reconcile --card 1234 --month 2025-07 --site-opening 0 --site-closing 1795 \\
        --statement-total 11254 --site-points nexco=1185 --json
    etcbook reconcile --card 1234 --month 2025-07 --mark

Figures given are kept for the card and month (a figure not given keeps its saved value), so
the window and later runs show them again. ``--mark`` keeps a snapshot of the reconciliation;
later changes to that month's trips are then listed against it.
"""

from __future__ import annotations

import argparse
from typing import Any

from etcbook import clock
from etcbook.cli.common import (
    BadInput,
    CliContext,
    add_json_flag,
    card_reference,
    emit,
    parse_date,
    parse_month,
    parse_yen,
    say,
    table,
)


def parse_pool_points(text: str) -> tuple[str, int]:
    """argparse type for ``POOL=N`` (``nexco=1234``)."""
    pool, sep, value = text.partition("=")
    try:
        if not sep or not pool.strip():
            raise ValueError
        return pool.strip(), int(value.replace(",", "").replace("P", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"ポイントは プール=ポイント数 で指定してください（例 nexco=1234）: {text!r}"
        ) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "reconcile", help="月次照合（サイト・カード請求との突き合わせと差額の説明）"
    )
    parser.add_argument("--card", required=True, type=card_reference, metavar="CARD")
    parser.add_argument("--month", required=True, type=parse_month, metavar="YYYY-MM")
    parser.add_argument(
        "--site-opening", type=parse_yen, metavar="YEN", help="サイトの還元額（月初）"
    )
    parser.add_argument(
        "--site-closing", type=parse_yen, metavar="YEN", help="サイトの還元額（月末）"
    )
    parser.add_argument(
        "--statement-total", type=parse_yen, metavar="YEN", help="カード請求のETC合計"
    )
    parser.add_argument(
        "--site-points",
        type=parse_pool_points,
        action="append",
        default=[],
        metavar="POOL=N",
        help="その月の走行分として付与されたポイント（翌月20日付与、繰り返し可）",
    )
    parser.add_argument(
        "--as-of",
        type=parse_date,
        metavar="YYYY-MM-DD",
        help="サイト・請求の数字を読んだ日（既定: 今日）",
    )
    parser.add_argument("--mark", action="store_true", help="照合済みとして記録する")
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_reconcile, card_ids=True)


def _human(document: dict[str, Any]) -> str:
    from etcbook.domain.reconcile import DIFFERENCE_LABELS, amount_text

    lines = [f"カード末尾{document['card']}  {document['month']} の月次照合"]
    if len(document["registration"]) > 1:
        lines.append("登録カード: " + " → ".join(document["registration"]))
    rows = []
    for equation in document["equations"]:
        reported = equation["reported"]
        difference = equation["difference"]
        rows.append(
            [
                equation["label"],
                equation["text"],
                "" if reported is None else amount_text(reported, equation["unit"]),
                ""
                if not difference
                else ("+" if difference > 0 else "") + amount_text(difference, equation["unit"]),
            ]
        )
    lines.append(table(["", "etcbook", "サイト・請求", "差"], rows))
    if document["findings"]:
        lines.append("")
        lines.append("説明")
        for number, finding in enumerate(document["findings"], 1):
            where = DIFFERENCE_LABELS[finding["difference"]]
            if finding["pool"]:
                pool = document["computed"]["points"].get(finding["pool"], {})
                where += f"（{pool.get('name', finding['pool'])}）"
            mark = "" if finding["certain"] else "（可能性）"
            lines.append(
                f"{number}. [{finding['label']}{mark}] {where}の差のうち "
                f"{amount_text(finding['amount'], finding['unit'])}: {finding['message']}"
            )
    left = []
    for key, value in document["unexplained"].items():
        if key == "points":
            left += [
                f"付与ポイント（{pool}） {amount_text(v, 'points')}"
                for pool, v in value.items()
                if v
            ]
        elif value:
            left.append(f"{DIFFERENCE_LABELS[key]} {amount_text(value, 'yen')}")
    lines.append("")
    if left:
        lines.append("説明できない差: " + "、".join(left))
    elif any(e["reported"] is not None for e in document["equations"]):
        lines.append("差はすべて説明できました。")
    else:
        lines.append("サイト・カード請求の数字を --site-closing などで入れると突き合わせます。")
    snapshot = document["snapshot"]
    if snapshot is not None:
        lines.append(f"照合済み: {snapshot['marked_at'][:16].replace('T', ' ')}")
        for change in snapshot["changes"]:
            lines.append(f"  ! {change['message']}")
    return "\n".join(lines)


def cmd_reconcile(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.domain.reconcile import Reported, reconciliation_json
    from etcbook.domain.reminders import japanese_date
    from etcbook.models.cards import CardNotFound
    from etcbook.models.reconcile import save_reported, save_snapshot
    from etcbook.models.reconcile_facts import reconcile_month

    month = clock.today().replace(year=int(args.month[:4]), month=int(args.month[5:]), day=1)
    as_of = args.as_of or clock.today()
    given = Reported(
        rebate_opening=args.site_opening,
        rebate_closing=args.site_closing,
        statement_total=args.statement_total,
        points=dict(args.site_points),
    )
    with context.store.engine.connect() as connection:
        try:
            report = reconcile_month(
                connection=connection, card=args.card, month=month, as_of=as_of, given=given
            )
        except CardNotFound as exc:
            raise BadInput(str(exc)) from None
    document: dict[str, Any] = reconciliation_json(report.result)
    document["registration"] = list(report.cards)
    snapshot: dict[str, Any] | None = None
    if not given.empty or args.mark:
        with context.store.transaction() as connection:
            if not given.empty:
                save_reported(
                    connection=connection,
                    card=args.card,
                    month=args.month,
                    reported=report.result.reported,
                )
            if args.mark:
                marked_at = save_snapshot(
                    connection=connection,
                    card=args.card,
                    month=args.month,
                    document=document,
                    trips=report.result.facts.trips,
                )
                snapshot = {"marked_at": marked_at.isoformat(), "changes": []}
    if snapshot is None and report.snapshot is not None:
        snapshot = {
            "marked_at": report.snapshot.marked_at.isoformat(),
            "changes": [
                {
                    "trip": c.trip_id,
                    "change": c.change,
                    "fields": {name: {"before": b, "after": a} for name, b, a in c.fields},
                    "message": c.message,
                }
                for c in report.changes
            ],
        }
    document["snapshot"] = snapshot
    document["marked"] = bool(args.mark)
    if args.mark:
        say(f"{args.month}を照合済みにしました（{japanese_date(as_of)}）。")
    elif snapshot is not None and snapshot["changes"]:
        say(f"照合済みの{args.month}の走行が照合後に{len(snapshot['changes'])}件変わっています。")
    emit(args, document, lambda: _human(document))
    return 0
