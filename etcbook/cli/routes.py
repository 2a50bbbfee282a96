"""``route``: which operator a gate belongs to (route rules), and gates no rule knows."""

from __future__ import annotations

import argparse
import dataclasses

from etcbook.cli.common import BadInput, CliContext, add_json_flag, emit, say, table


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    route = subparsers.add_parser(
        "route", help="料金所と道路事業者のルール（不明な料金所の一覧・追加・再適用）"
    )
    sub = route.add_subparsers(dest="route_command", metavar="ACTION", required=True)

    unknown = sub.add_parser(
        "unknown", help="どのルールも知らない料金所（事業者が nexco と推定のままの走行）"
    )
    add_json_flag(unknown)
    unknown.set_defaults(handler=cmd_unknown)

    add = sub.add_parser("add", help="料金所の事業者をルールにする（以後の取込に適用）")
    add.add_argument("gate", metavar="GATE", help="料金所名（明細の表記のまま）")
    add.add_argument("operator", metavar="OPERATOR", help="事業者キー（hanshin, shutoko, …）")
    add.add_argument(
        "--reapply", action="store_true", help="保存済みの走行にもすぐ再適用する（--apply と同じ）"
    )
    add_json_flag(add)
    add.set_defaults(handler=cmd_add)

    reapply = sub.add_parser(
        "reapply",
        help="ルールを保存済みの走行に再適用する（既定は確認だけ: ポイントの増減を表示）",
    )
    reapply.add_argument("--apply", action="store_true", help="確認した内容を保存する")
    add_json_flag(reapply)
    reapply.set_defaults(handler=cmd_reapply)


def cmd_unknown(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.routes import unknown_gates

    with context.store.engine.connect() as connection:
        gates = unknown_gates(connection=connection)

    def human() -> str:
        if not gates:
            return "どの走行も、ルールで事業者が決まっています。"
        body = table(
            ["料金所", "走行", "通過", "通行料金", "カード", "最初", "最後"],
            [
                [
                    g.gate,
                    g.trips,
                    g.passages,
                    f"{g.toll:,}",
                    g.cards,
                    g.first[:10],
                    g.last[:10],
                ]
                for g in gates
            ],
            right=(1, 2, 3, 4),
        )
        return (
            f"{body}\n{len(gates):,}か所。事業者を決めるには: etcbook route add 料金所 事業者キー"
        )

    emit(args, {"gates": [dataclasses.asdict(g) for g in gates]}, human)
    return 0


def _reapply_document(result: object) -> dict[str, object]:
    from etcbook.models.routes import ReapplyResult

    assert isinstance(result, ReapplyResult)
    return {
        "trips": result.trips,
        "passages": result.passages,
        "moves": [{"from": a, "to": b, "trips": n} for (a, b), n in sorted(result.moves.items())],
        "pools": [dataclasses.asdict(p) for p in result.pools],
        "committed": result.committed,
    }


def _reapply_human(document: dict[str, object]) -> str:
    moves = document["moves"]
    pools = document["pools"]
    assert isinstance(moves, list) and isinstance(pools, list)
    if not document["trips"] and not document["passages"]:
        return "再適用しても変わる走行はありません。"
    lines = [f"{m['from']} → {m['to']}: {m['trips']:,}件" for m in moves]
    if pools:
        lines.append(
            table(
                ["カード", "プール", "ポイント 前", "後", "付与予定 前", "後"],
                [
                    [
                        p["card"],
                        p["pool"],
                        f"{p['points_before']:,}",
                        f"{p['points_after']:,}",
                        f"{p['pending_before']:,}",
                        f"{p['pending_after']:,}",
                    ]
                    for p in pools
                    if p["points_before"] != p["points_after"]
                    or p["pending_before"] != p["pending_after"]
                ],
                right=(2, 3, 4, 5),
            )
        )
    done = "保存しました" if document["committed"] else "確認のみ（保存するには --apply）"
    lines.append(f"走行 {document['trips']:,}件・通過 {document['passages']:,}件: {done}")
    return "\n".join(lines)


def _reapply(context: CliContext, apply: bool) -> dict[str, object]:
    from etcbook import clock
    from etcbook.models.routes import reapply_route_rules

    with context.store.transaction() as connection:
        result = reapply_route_rules(connection=connection, as_of=clock.today(), apply=apply)
    return _reapply_document(result)


def cmd_add(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.routes import add_gate_rule

    with context.store.transaction() as connection:
        try:
            rule_id = add_gate_rule(connection=connection, gate=args.gate, operator=args.operator)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
    say(f"ルール {rule_id}: 料金所「{args.gate.strip()}」は {args.operator}")
    document = _reapply(context, apply=args.reapply)
    emit(args, {"rule_id": rule_id, "reapply": document}, lambda: _reapply_human(document))
    return 0


def cmd_reapply(args: argparse.Namespace, context: CliContext) -> int:
    document = _reapply(context, apply=args.apply)
    emit(args, document, lambda: _reapply_human(document))
    return 0
