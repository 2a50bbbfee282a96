"""``memo``: the inquiry memo the ETCマイレージ service desk asks for, as text or a PDF.

    etcbook memo --card 1234 --trip 101 102 [--actual-points 150] [--pdf memo.pdf]
    etcbook memo --card 1234 --month 2025-07 [--finding 2]

Trips read "○月○日○時、入口××→出口△△、請求額□□円"; the memo adds the card's IDs, expected and
actual points or rebate with the difference, what reconciliation found, and recent card changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from etcbook import clock
from etcbook.cli.common import (
    BadInput,
    CliContext,
    add_json_flag,
    card_reference,
    emit,
    parse_date,
    parse_int,
    parse_month,
    say,
)


def parse_change(text: str) -> tuple[dt.date, str]:
    """argparse type for ``YYYY-MM-DD 内容`` (a recent change the store does not know of)."""
    day, _, what = text.strip().partition(" ")
    try:
        return dt.date.fromisoformat(day), what.strip() or "変更"
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"変更は「YYYY-MM-DD 内容」で指定してください（例 2025-06-01 住所変更）: {text!r}"
        ) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "memo", help="問い合わせメモ（事務局に伝える要点、テキストかPDF）"
    )
    parser.add_argument("--card", required=True, type=card_reference, metavar="CARD")
    parser.add_argument(
        "--trip", type=parse_int, nargs="+", default=[], metavar="ID", help="走行ID"
    )
    parser.add_argument("--month", type=parse_month, metavar="YYYY-MM", help="その月の照合から")
    parser.add_argument("--finding", type=parse_int, metavar="N", help="照合の説明の番号（1から）")
    parser.add_argument(
        "--actual-points",
        type=parse_int,
        metavar="N",
        help="指定の走行についてサイトが示すポイント",
    )
    parser.add_argument(
        "--change",
        type=parse_change,
        action="append",
        default=[],
        metavar="'YYYY-MM-DD 内容'",
        help="最近の変更（住所変更など、繰り返し可）",
    )
    parser.add_argument("--as-of", type=parse_date, metavar="YYYY-MM-DD", help="作成日")
    parser.add_argument("--pdf", type=Path, metavar="FILE", help="PDFに保存する")
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_memo, card_ids=True)


def cmd_memo(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.domain.memo import MemoChange, memo_text, trip_sentence
    from etcbook.models.cards import CardNotFound
    from etcbook.models.reconcile_facts import MemoError, build_memo

    if args.finding is not None and args.month is None:
        raise BadInput("--finding には --month が必要です。")
    month = None
    if args.month is not None:
        month = dt.date(int(args.month[:4]), int(args.month[5:]), 1)
    with context.store.engine.connect() as connection:
        try:
            memo = build_memo(
                connection=connection,
                card=args.card,
                as_of=args.as_of or clock.today(),
                trip_ids=args.trip,
                month=month,
                finding=args.finding,
                actual_points=args.actual_points,
                extra_changes=[MemoChange(day, what) for day, what in args.change],
            )
        except (MemoError, CardNotFound) as exc:
            raise BadInput(str(exc)) from None
    text = memo_text(memo)
    pdf = None
    if args.pdf is not None:
        from etcbook.export.memo_pdf import write_memo_pdf

        try:
            pdf = write_memo_pdf(memo, args.pdf)
        except OSError as exc:
            raise BadInput(f"{args.pdf}: 書き込めません（{exc.strerror or exc}）。") from None
        say(f"PDFを保存しました: {pdf}")
    document = {
        "card": args.card,
        "subject": memo.subject,
        "text": text,
        "trips": [
            {"id": t.trip_id, "sentence": trip_sentence(t), "billed": t.billed, "points": t.points}
            for t in memo.trips
        ],
        "figures": [
            {
                "label": f.label,
                "expected": f.expected,
                "actual": f.actual,
                "difference": f.difference,
                "unit": f.unit,
            }
            for f in memo.figures
        ],
        "pdf": None if pdf is None else str(pdf),
    }
    emit(args, document, lambda: text)
    return 0
