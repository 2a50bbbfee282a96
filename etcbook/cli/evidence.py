"""``evidence add|list|search|verify|export|remove|missing|audit``: the vault of electronic
originals."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from etcbook.cli.common import (
    CARD_HELP,
    EXIT_BAD_INPUT,
    EXIT_OK,
    BadInput,
    CliContext,
    add_json_flag,
    card_or_new_last4,
    emit,
    parse_date,
    parse_int,
    parse_month,
    parse_yen,
    say,
    table,
    yen,
)
from etcbook.domain.evidence import kind_keys, kind_label


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evidence = subparsers.add_parser("evidence", help="証憑（電子原本）の保管・検索・検証")
    sub = evidence.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add", help="ファイルを保管庫にコピーして記録する（元のファイルは変更しない）"
    )
    add.add_argument("file", type=Path, metavar="FILE")
    add.add_argument("--kind", required=True, choices=kind_keys(), help="証憑の種類")
    add.add_argument(
        "--card", required=True, type=card_or_new_last4, metavar="CARD", help=CARD_HELP
    )
    add.add_argument("--month", required=True, type=parse_month, metavar="YYYY-MM", help="対象月")
    add.add_argument("--date", type=parse_date, metavar="DATE", help="取引年月日（撮影日）")
    add.add_argument("--amount", type=parse_yen, metavar="YEN", help="取引金額（円）")
    add.add_argument(
        "--counterparty", default="", metavar="TEXT", help="取引先（カード会社・道路事業者）"
    )
    add.add_argument(
        "--vehicle", default="", metavar="NAME", help="ファイル名に入れる車両名（例: CarA）"
    )
    add_json_flag(add)
    add.set_defaults(handler=cmd_add, card_ids=True)

    lst = sub.add_parser("list", help="保管している証憑の一覧")
    lst.add_argument("--card", type=card_or_new_last4, metavar="CARD")
    lst.add_argument("--kind", choices=kind_keys())
    lst.add_argument("--month", type=parse_month, metavar="YYYY-MM")
    lst.add_argument("--removed", action="store_true", help="削除（ごみ箱に移動）したものも出す")
    add_json_flag(lst)
    lst.set_defaults(handler=cmd_list, card_ids=True)

    search = sub.add_parser(
        "search", help="取引年月日・金額・取引先などで探す（条件はすべて満たすもの）"
    )
    search.add_argument("--from", dest="date_from", type=parse_date, metavar="DATE")
    search.add_argument("--to", dest="date_to", type=parse_date, metavar="DATE")
    search.add_argument("--min-amount", type=parse_yen, metavar="YEN")
    search.add_argument("--max-amount", type=parse_yen, metavar="YEN")
    search.add_argument("--counterparty", metavar="TEXT", help="取引先（部分一致）")
    search.add_argument("--kind", choices=kind_keys())
    search.add_argument("--card", type=card_or_new_last4, metavar="CARD")
    add_json_flag(search)
    search.set_defaults(handler=cmd_search, card_ids=True)

    verify = sub.add_parser(
        "verify", help="保管庫（または精算書の一式ZIP）のファイルが変わっていないか確かめる"
    )
    verify.add_argument(
        "--bundle", type=Path, metavar="ZIP", help="経費精算の一式（ZIPか展開したフォルダ）"
    )
    add_json_flag(verify)
    verify.set_defaults(handler=cmd_verify)

    export = sub.add_parser("export", help="保管している原本を書き出す（内容を記録と照合してから）")
    export.add_argument("id", type=parse_int, metavar="ID")
    export.add_argument(
        "--out", required=True, type=Path, metavar="PATH", help="書き出すフォルダかファイル名"
    )
    add_json_flag(export)
    export.set_defaults(handler=cmd_export)

    remove = sub.add_parser(
        "remove", help="証憑をごみ箱フォルダに移し、誰がいつなぜ削除したかを記録する"
    )
    remove.add_argument("id", type=parse_int, metavar="ID")
    remove.add_argument("--reason", required=True, help="削除の理由")
    add_json_flag(remove)
    remove.set_defaults(handler=cmd_remove)

    missing = sub.add_parser(
        "missing", help="直近15か月で請求書・利用証明書がない月（ダウンロード期限に注意）"
    )
    missing.add_argument("--all", action="store_true", help="足りている月も出す")
    add_json_flag(missing)
    missing.set_defaults(handler=cmd_missing)

    audit = sub.add_parser("audit", help="訂正・削除の記録（監査ログ）を見る・書き出す")
    audit.add_argument("--entity", choices=["trip", "document"])
    audit.add_argument("--csv", type=Path, metavar="FILE", help="CSV（UTF-8 BOM付き）に書き出す")
    add_json_flag(audit)
    audit.set_defaults(handler=cmd_audit)


def _documents_human(documents: list[Any]) -> str:
    if not documents:
        return "該当する証憑はありません。"
    return table(
        ["ID", "月", "カード", "種類", "版", "取引日", "金額", "取引先", "ファイル"],
        [
            [
                d.id,
                d.month,
                d.card,
                kind_label(d.kind),
                f"v{d.version}",
                d.date.isoformat() if d.date else "",
                yen(d.amount),
                d.counterparty,
                d.relpath + ("（削除済み）" if d.removed_at else ""),
            ]
            for d in documents
        ],
        right=(0, 6),
    )


def cmd_add(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.vault import VaultError, add_document

    try:
        document = add_document(
            store=context.store,
            source=args.file,
            kind=args.kind,
            card=args.card,
            month=args.month,
            date=args.date,
            amount=args.amount,
            counterparty=args.counterparty,
            vehicle=args.vehicle,
            card_id=args.card.id,
        )
    except VaultError as exc:
        raise BadInput(str(exc)) from None
    say(f"保管しました: {document.location}（v{document.version}, SHA-256 {document.sha256}）")
    shared = _shared_last4(context)
    emit(
        args,
        {"document": document.to_json(with_card_id=document.card in shared)},
        lambda: _documents_human([document]),
    )
    return EXIT_OK


def _shared_last4(context: CliContext) -> set[str]:
    """Last 4 digits several cards share: their documents' JSON says ``card_id`` too."""
    from etcbook.models.card_refs import shared_last4

    with context.store.engine.connect() as connection:
        return shared_last4(connection=connection)


def _emit_documents(args: argparse.Namespace, context: CliContext, documents: list[Any]) -> None:
    shared = _shared_last4(context) if documents else set()
    emit(
        args,
        {"documents": [d.to_json(with_card_id=d.card in shared) for d in documents]},
        lambda: _documents_human(documents),
    )


def cmd_list(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.vault import DocumentSearch, search_documents

    search = DocumentSearch(
        card=args.card,
        card_id=getattr(args.card, "id", None),
        kind=args.kind,
        month=args.month,
        include_removed=args.removed,
    )
    _emit_documents(args, context, search_documents(store=context.store, search=search))
    return EXIT_OK


def cmd_search(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.vault import DocumentSearch, search_documents

    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise BadInput("--from が --to より後になっています")
    if (
        args.min_amount is not None
        and args.max_amount is not None
        and args.min_amount > args.max_amount
    ):
        raise BadInput("--min-amount が --max-amount より大きくなっています")
    search = DocumentSearch(
        date_from=args.date_from,
        date_to=args.date_to,
        min_amount=args.min_amount,
        max_amount=args.max_amount,
        counterparty=args.counterparty,
        kind=args.kind,
        card=args.card,
        card_id=getattr(args.card, "id", None),
    )
    _emit_documents(args, context, search_documents(store=context.store, search=search))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, context: CliContext) -> int:
    if args.bundle is not None:
        from etcbook.export.bundle import BundleError, verify_bundle

        if not args.bundle.exists():
            raise BadInput(f"ファイルがありません: {args.bundle}")
        try:
            check = verify_bundle(args.bundle)
        except BundleError as exc:
            raise BadInput(f"検証できません: {exc}") from None
        document: dict[str, Any] = {
            "bundle": str(args.bundle),
            "intact": check.intact,
            "checked": check.checked,
            "missing": list(check.missing),
            "altered": list(check.altered),
            "unexpected": list(check.unexpected),
        }
    else:
        from etcbook.models.vault import vault_location, verify_vault

        vault = verify_vault(store=context.store)
        document = {
            "vault": vault_location(context.store),
            "intact": vault.intact,
            "checked": vault.checked,
            "missing": list(vault.missing),
            "altered": list(vault.altered),
        }
    for path in document["missing"]:
        say(f"見つかりません: {path}")
    for path in document["altered"]:
        say(f"改変されています: {path}")

    def human() -> str:
        if document["intact"]:
            return f"{document['checked']}件のファイルはすべて記録どおりです。"
        return (
            f"{document['checked']}件中、見つからない {len(document['missing'])}件、"
            f"改変 {len(document['altered'])}件。"
        )

    emit(args, document, human)
    return EXIT_OK if document["intact"] else EXIT_BAD_INPUT


def cmd_export(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.vault import VaultError, get_document, save_original

    try:
        document = get_document(store=context.store, document_id=args.id)
        target = args.out / document.name if args.out.is_dir() else args.out
        written = save_original(store=context.store, document=document, target=target)
    except VaultError as exc:
        raise BadInput(str(exc)) from None
    say(f"書き出しました: {written}")
    emit(
        args,
        {"document": document.to_json(), "file": str(written)},
        lambda: f"{document.name} を書き出しました（SHA-256 {document.sha256} を照合済み）",
    )
    return EXIT_OK


def cmd_remove(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.vault import VaultError, remove_document

    try:
        document = remove_document(store=context.store, document_id=args.id, reason=args.reason)
    except VaultError as exc:
        raise BadInput(str(exc)) from None
    say(f"ごみ箱に移しました: {document.trash_path}")
    emit(
        args,
        {"document": {**document.to_json(), "trash_path": document.trash_path}},
        lambda: _documents_human([document]),
    )
    return EXIT_OK


def cmd_missing(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.vault import month_coverage

    months = [m for m in month_coverage(store=context.store) if args.all or m.lacking]
    shared = _shared_last4(context) if months else set()
    rows: list[dict[str, Any]] = [
        {
            "card": m.card,
            # which card, for digits several cards share
            **({"card_id": m.card_id} if m.card in shared else {}),
            "month": m.month,
            "trips": m.trips,
            "statement": m.statement,
            "certificate": m.certificate,
            "lacking": m.lacking,
        }
        for m in months
    ]

    def human() -> str:
        if not rows:
            return "直近15か月の請求書・利用証明書はそろっています。"
        mark = {True: "あり", False: "なし"}
        return table(
            ["カード", "月", "走行", "請求書", "利用証明書"],
            [
                [
                    f"{r['card']} id:{r['card_id']}" if "card_id" in r else r["card"],
                    r["month"],
                    r["trips"],
                    mark[r["statement"]],
                    mark[r["certificate"]],
                ]
                for r in rows
            ],
            right=(2,),
        )

    emit(args, {"months": rows}, human)
    return EXIT_OK


def cmd_audit(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.audit import list_audit

    with context.store.engine.connect() as connection:
        entries = list_audit(connection=connection, entity=args.entity)
    if args.csv is not None:
        from etcbook.export.audit_csv import write_audit_csv

        write_audit_csv(entries, args.csv)
        say(f"書き出しました: {args.csv}")

    def human() -> str:
        if not entries:
            return "記録はありません。"
        return table(
            ["ID", "日時", "ユーザー", "対象", "ID", "操作", "項目", "変更前", "変更後", "理由"],
            [
                [
                    e["id"],
                    e["at"],
                    e["os_user"],
                    e["entity"],
                    e["entity_id"],
                    e["action"],
                    e["field"] or "",
                    _short(e["old"]),
                    _short(e["new"]),
                    e["reason"],
                ]
                for e in entries
            ],
            right=(0, 4),
        )

    emit(args, {"entries": entries}, human)
    return EXIT_OK


def _short(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = value.get("path") or value.get("trash_path") or value
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"
