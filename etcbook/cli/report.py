"""``report``: an expense claim (PDF, CSV and the evidence bundle) for one card and period."""

from __future__ import annotations

import argparse
from pathlib import Path

from etcbook.cli.common import (
    CARD_HELP,
    BadInput,
    CliContext,
    add_json_flag,
    card_or_new_last4,
    emit,
    parse_date,
    say,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("report", help="経費精算書（PDF・CSV・証憑一式ZIP）を書き出す")
    parser.add_argument(
        "--card", required=True, type=card_or_new_last4, metavar="CARD", help=CARD_HELP
    )
    parser.add_argument("--from", dest="date_from", required=True, type=parse_date, metavar="DATE")
    parser.add_argument("--to", dest="date_to", required=True, type=parse_date, metavar="DATE")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="書き出すフォルダ")
    parser.add_argument("--claimant", help="申請者（既定: カードの名義）")
    parser.add_argument("--department", help="所属（既定: 走行に記録された部署）")
    parser.add_argument("--basis", default="", help="私用分を除外した根拠（精算書に記載）")
    parser.add_argument(
        "--no-mileage-id", action="store_true", help="ETCマイレージIDを精算書に載せない"
    )
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_report, card_ids=True)


def cmd_report(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook import clock
    from etcbook.export.bundle import BundleError, write_claim_outputs
    from etcbook.models.claims import ClaimError, claim_from_store
    from etcbook.models.vault import missing_originals, original_files

    if args.out.exists() and not args.out.is_dir():
        raise BadInput(f"--out はフォルダを指定してください: {args.out}")
    try:
        claim, documents = claim_from_store(
            store=context.store,
            card=args.card,
            card_id=args.card.id,
            date_from=args.date_from,
            date_to=args.date_to,
            claimant=args.claimant,
            department=args.department,
            include_mileage_id=not args.no_mileage_id,
            private_use_basis=args.basis,
            prepared_on=clock.today(),
        )
    except ClaimError as exc:
        raise BadInput(str(exc)) from None
    if not claim.lines:
        say("対象期間に業務割合の付いた走行がありません（精算額 0 円の精算書を作ります）。")
    missing = missing_originals(store=context.store, documents=documents)
    if missing:
        raise BadInput(
            "保管庫のファイルが見つかりません: "
            + ", ".join(d.relpath for d in missing)
            + "（evidence verify で確かめてください）"
        )
    try:
        outputs = write_claim_outputs(claim, args.out, original_files(context.store, documents))
    except BundleError as exc:
        raise BadInput(str(exc)) from None
    totals = outputs.claim.totals
    for path in (outputs.pdf, outputs.csv, outputs.bundle):
        say(f"書き出しました: {path}")
    emit(
        args,
        {
            "pdf": str(outputs.pdf),
            "csv": str(outputs.csv),
            "bundle": str(outputs.bundle),
            "claimed_total": outputs.claimed_total,
            "trips": totals.trips,
            "billed_total": totals.billed,
            "attachments": [a.file_name for a in outputs.claim.attachments],
        },
        lambda: f"精算額 {outputs.claimed_total:,} 円（走行 {totals.trips:,} 件）",
    )
    return 0
