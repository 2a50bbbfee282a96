"""``journal`` and ``journal-settings``: journal files for 弥生, freee and マネーフォワード."""

from __future__ import annotations

import argparse
from pathlib import Path

from etcbook.cli.common import (
    BadInput,
    CliContext,
    add_json_flag,
    card_reference,
    emit,
    parse_date,
    say,
    table,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "journal", help="会計ソフト（弥生・freee・マネーフォワード）に取り込む仕訳を書き出す"
    )
    parser.add_argument("--format", required=True, choices=("yayoi", "freee", "mf"))
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--card", type=card_reference, metavar="CARD")
    which.add_argument("--all", action="store_true", help="すべてのカード")
    parser.add_argument("--from", dest="date_from", required=True, type=parse_date, metavar="DATE")
    parser.add_argument("--to", dest="date_to", required=True, type=parse_date, metavar="DATE")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE")
    parser.add_argument(
        "--encoding",
        choices=("cp932", "utf-8"),
        default="cp932",
        help="文字コード（既定 cp932。弥生会計デスクトップ版は cp932 のみ）",
    )
    parser.add_argument(
        "--yayoi-next",
        action="store_true",
        help="弥生会計 Next の27項目形式（借方・貸方取引先名つき）",
    )
    parser.add_argument("--include-provisional", action="store_true", help="確認中の走行も書き出す")
    parser.add_argument("--again", action="store_true", help="書き出し済みの走行も書き出す")
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_journal, card_ids=True)

    settings = subparsers.add_parser(
        "journal-settings", help="仕訳の科目・税区分・カードごとの貸方・還元額の処理"
    )
    actions = settings.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="設定を表示する")
    show.add_argument("--card", type=card_reference, metavar="CARD", help="このカードの設定だけ")
    add_json_flag(show)
    show.set_defaults(handler=cmd_settings_show, card_ids=True)
    put = actions.add_parser("set", help="設定を変える: KEY VALUE（カードごとの設定は --card）")
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE")
    put.add_argument("--card", type=card_reference, metavar="CARD")
    add_json_flag(put)
    put.set_defaults(handler=cmd_settings_set, card_ids=True)


def cmd_journal(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook import clock
    from etcbook.export.journal import JournalFormat, Product, TooManyLines, UnencodableText
    from etcbook.models.journal import JournalError, JournalRequest, export_journal

    fmt = JournalFormat(
        product=Product(args.format), encoding=args.encoding, yayoi_next=args.yayoi_next
    )
    problem = fmt.problem()
    if problem:
        raise BadInput(problem)
    request = JournalRequest(
        fmt=fmt,
        card=None if args.all else args.card,
        date_from=args.date_from,
        date_to=args.date_to,
        include_provisional=args.include_provisional,
        again=args.again,
    )
    try:
        result = export_journal(store=context.store, request=request, out=args.out, now=clock.now())
    except (JournalError, UnencodableText, TooManyLines) as exc:
        raise BadInput(str(exc)) from None
    booking = result.booking
    if result.file is None:
        say(
            "書き出す仕訳はありません（ファイルは書いていません）。"
            + (
                "書き出し済みの走行をもう一度書き出すには --again を付けます。"
                if booking.skipped
                else ""
            )
        )
    else:
        say(f"書き出しました: {result.file}")
    for skipped in booking.skipped:
        say(f"  除外 走行 {skipped.trip_id}（{skipped.label}）: {skipped.reason}")

    def human() -> str:
        return f"{fmt.label}: 仕訳 {len(booking.entries):,} 件、合計 {booking.total:,} 円、除外 {len(booking.skipped):,} 件"

    emit(
        args,
        {
            "file": None if result.file is None else str(result.file),
            "format": request.format_key,
            "encoding": fmt.encoding,
            "entries": len(booking.entries),
            "total": booking.total,
            "skipped": [
                {"trip": s.trip_id, "reason": s.reason, "label": s.label} for s in booking.skipped
            ],
        },
        human,
    )
    return 0


def _settings_document(context: CliContext) -> dict[str, object]:
    from etcbook.domain.journal import credit_side_values, settings_values
    from etcbook.models.journal import load_settings

    with context.store.engine.connect() as connection:
        settings, credits = load_settings(connection=connection)
    return {
        "settings": settings_values(settings),
        "yayoi_tax_label": settings.yayoi_tax_label,
        "cards": {card: credit_side_values(side) for card, side in credits.items()},
    }


def _settings_text(document: dict[str, object]) -> str:
    from etcbook.domain.journal import CARD_KEYS, GLOBAL_KEYS, TAX_ADVICE

    values = document["settings"]
    assert isinstance(values, dict)
    rows = [(key, values[key], GLOBAL_KEYS[key]) for key in GLOBAL_KEYS]
    out = [table(("KEY", "VALUE", "内容"), rows)]
    cards = document["cards"]
    assert isinstance(cards, dict)
    for card, card_values in cards.items():
        out.append("")
        named = f"カード {card}" if card.startswith("id:") else f"カード末尾 {card}"
        out.append(f"{named}（--card {card}）")
        out.append(
            table(("KEY", "VALUE", "内容"), [(k, card_values[k], CARD_KEYS[k]) for k in CARD_KEYS])
        )
    out.append("")
    out.append(TAX_ADVICE)
    return "\n".join(out)


def cmd_settings_show(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.journal import JournalError, card_settings_key

    document = _settings_document(context)
    if args.card is not None:
        cards = document["cards"]
        assert isinstance(cards, dict)
        try:
            with context.store.engine.connect() as connection:
                key = card_settings_key(connection=connection, card=args.card)
        except JournalError as exc:
            raise BadInput(str(exc)) from None
        if key not in cards:
            raise BadInput(f"カード末尾 {args.card} はストアにありません")
        document["cards"] = {key: cards[key]}
    emit(args, document, lambda: _settings_text(document))
    return 0


def cmd_settings_set(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.journal import JournalError, save_setting

    try:
        save_setting(store=context.store, key=args.key, value=args.value, card=args.card)
    except JournalError as exc:
        raise BadInput(str(exc)) from None
    say(
        f"設定しました: {args.key} = {args.value}"
        + (f"（カード末尾 {args.card}）" if args.card else "")
    )
    document = _settings_document(context)
    emit(args, document, lambda: _settings_text(document))
    return 0
