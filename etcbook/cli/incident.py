"""``incident``: a lost, stolen or damaged card — the guided steps, the contact log, card change.

    etcbook incident open --card 1234 --kind lost [--noticed-at 2026-03-10T08:00]
    etcbook incident step ID issuer_stop --at … --desk カード会社紛失デスク --reference R-123
    etcbook incident step ID police_report --at … --police-station 厚木警察署 \\
        --accepted-number 第123号 --accepted-on 2026-03-10
    etcbook incident step ID card_change --at 2026-03-20T23:50 --new-card 4321
    etcbook incident contact ID --at … --desk 事務局 --person 佐藤 --reference … --summary …
    etcbook incident show ID | list [--card L4] [--open] | close ID | guide
    etcbook incident change-card --card OLD --new-card NEW --at …   (without an incident)
    etcbook incident suspicious [--card L4]
"""

from __future__ import annotations

import argparse
from typing import Any

from etcbook import clock
from etcbook.cli.common import (
    BadInput,
    CliContext,
    add_json_flag,
    card_or_new_last4,
    card_reference,
    emit,
    parse_date,
    parse_datetime,
    parse_int,
    say,
    table,
)
from etcbook.domain.incidents import (
    DETAIL_LABELS,
    INCIDENT_KIND_LABELS,
    INCIDENT_KINDS,
    STEP_KEYS,
    STEPS,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "incident", help="カードの紛失・盗難・破損（手順の記録、連絡記録、登録カード変更）"
    )
    sub = parser.add_subparsers(dest="incident_command", metavar="ACTION", required=True)

    start = sub.add_parser("open", help="紛失・盗難・破損の記録を始める")
    start.add_argument("--card", required=True, type=card_reference, metavar="CARD")
    start.add_argument(
        "--kind", required=True, choices=INCIDENT_KINDS, help="lost / stolen / damaged"
    )
    start.add_argument("--noticed-at", type=parse_datetime, metavar="YYYY-MM-DDTHH:MM")
    start.add_argument("--note", default="")
    add_json_flag(start)
    start.set_defaults(handler=cmd_open, card_ids=True)

    step = sub.add_parser("step", help="手順を記録する（日時と受付番号など）")
    step.add_argument("incident_id", type=parse_int, metavar="ID")
    step.add_argument("step", choices=STEP_KEYS, metavar="STEP", help=" / ".join(STEP_KEYS))
    step.add_argument("--at", required=True, type=parse_datetime, metavar="YYYY-MM-DDTHH:MM")
    step.add_argument("--desk", default="", help="窓口")
    step.add_argument("--reference", default="", help="受付番号")
    step.add_argument("--person", default="", help="担当者")
    step.add_argument("--police-station", default="", help="警察署")
    step.add_argument("--accepted-number", default="", help="受理番号")
    step.add_argument("--accepted-on", type=parse_date, metavar="YYYY-MM-DD", help="受理年月日")
    step.add_argument(
        "--new-card",
        type=card_or_new_last4,
        metavar="CARD",
        help="新カード（末尾4桁、id:番号、呼び名）",
    )
    step.add_argument("--note", default="")
    add_json_flag(step)
    step.set_defaults(handler=cmd_step, card_ids=True)

    contact = sub.add_parser("contact", help="連絡記録を追加する")
    contact.add_argument("incident_id", type=parse_int, metavar="ID")
    contact.add_argument("--at", type=parse_datetime, metavar="YYYY-MM-DDTHH:MM")
    contact.add_argument("--desk", required=True, help="窓口")
    contact.add_argument("--person", default="", help="担当者")
    contact.add_argument("--reference", default="", help="受付番号")
    contact.add_argument("--summary", default="", help="内容・合意したこと")
    add_json_flag(contact)
    contact.set_defaults(handler=cmd_contact)

    show = sub.add_parser("show", help="記録と手順の進み具合")
    show.add_argument("incident_id", type=parse_int, metavar="ID")
    add_json_flag(show)
    show.set_defaults(handler=cmd_show)

    lst = sub.add_parser("list", help="記録の一覧")
    lst.add_argument("--card", type=card_reference, metavar="CARD")
    lst.add_argument("--open", action="store_true", help="完了していないものだけ")
    add_json_flag(lst)
    lst.set_defaults(handler=cmd_list, card_ids=True)

    close = sub.add_parser("close", help="記録を完了にする")
    close.add_argument("incident_id", type=parse_int, metavar="ID")
    close.add_argument("--at", type=parse_datetime, metavar="YYYY-MM-DDTHH:MM")
    add_json_flag(close)
    close.set_defaults(handler=cmd_close)

    guide = sub.add_parser("guide", help="手順の一覧（DOMAIN.md §5の順）")
    add_json_flag(guide)
    guide.set_defaults(handler=cmd_guide)

    change = sub.add_parser(
        "change-card", help="登録カード変更だけを記録する（紛失以外の番号変更）"
    )
    change.add_argument("--card", required=True, type=card_reference, metavar="OLD")
    change.add_argument("--new-card", required=True, type=card_reference, metavar="NEW")
    change.add_argument("--at", required=True, type=parse_datetime, metavar="YYYY-MM-DDTHH:MM")
    add_json_flag(change)
    change.set_defaults(handler=cmd_change_card, card_ids=True)

    suspicious = sub.add_parser("suspicious", help="停止・カード変更の後の走行（不正利用の疑い）")
    suspicious.add_argument("--card", type=card_reference, metavar="CARD")
    add_json_flag(suspicious)
    suspicious.set_defaults(handler=cmd_suspicious, card_ids=True)


def _human_incident(data: dict[str, Any]) -> str:
    closed = f"　完了 {data['closed_at'][:16].replace('T', ' ')}" if data["closed_at"] else ""
    lines = [
        f"記録 ID {data['id']}: カード末尾{data['card']}の{data['kind_label']}"
        f"（{data['noticed_at'][:16].replace('T', ' ')}に気づいた）{closed}"
    ]
    marks = {"done": "済", "next": "→次", "pending": "", "not_needed": "不要"}
    rows = []
    for step in data["steps"]:
        refs = [step["desk"], step["reference"], step["person"]]
        refs += [f"{DETAIL_LABELS.get(k, k)} {v}" for k, v in step["details"].items()]
        rows.append(
            [
                marks[step["state"]],
                step["label"],
                (step["at"] or "")[:16].replace("T", " "),
                " ".join(r for r in refs if r),
            ]
        )
    lines.append(table(["状態", "手順", "日時", "窓口・番号"], rows))
    nxt = next((s for s in data["steps"] if s["state"] == "next"), None)
    if nxt is not None:
        lines.append(f"次: {nxt['label']} — {nxt['guidance']}")
    if data["contacts"]:
        lines.append("")
        lines.append("連絡記録")
        lines.append(
            table(
                ["日時", "窓口", "担当者", "受付番号", "内容"],
                [
                    [
                        c["at"][:16].replace("T", " "),
                        c["desk"],
                        c["person"],
                        c["reference"],
                        c["summary"],
                    ]
                    for c in data["contacts"]
                ],
            )
        )
    return "\n".join(lines)


def _load(context: CliContext, incident_id: int) -> dict[str, Any]:
    from etcbook.models.reconcile import IncidentError, incident_json, load_incident

    with context.store.engine.connect() as connection:
        try:
            return incident_json(load_incident(connection=connection, incident_id=incident_id))
        except IncidentError as exc:
            raise BadInput(str(exc)) from None


def cmd_open(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.cards import CardNotFound
    from etcbook.models.reconcile import IncidentError, open_incident

    with context.store.transaction() as connection:
        try:
            incident_id = open_incident(
                connection=connection,
                card=args.card,
                kind=args.kind,
                noticed_at=args.noticed_at or clock.now(),
                note=args.note,
            )
        except (IncidentError, CardNotFound) as exc:
            raise BadInput(str(exc)) from None
    data = _load(context, incident_id)
    say(f"記録 ID {incident_id} を作りました。次: {data['steps'][0]['label']}")
    emit(args, {"incident": data}, lambda: _human_incident(data))
    return 0


def cmd_step(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.domain.incidents import CardChangeRefused, StepRecord
    from etcbook.models.reconcile import IncidentError, record_step

    details = {
        "police_station": args.police_station,
        "accepted_number": args.accepted_number,
        "accepted_on": args.accepted_on.isoformat() if args.accepted_on else "",
        "new_card": args.new_card or "",
    }
    record = StepRecord(
        step=args.step,
        at=args.at,
        desk=args.desk,
        reference=args.reference,
        person=args.person,
        details={k: v for k, v in details.items() if v},
        note=args.note,
    )
    with context.store.transaction() as connection:
        try:
            _, warnings = record_step(
                connection=connection, incident_id=args.incident_id, record=record
            )
        except (IncidentError, CardChangeRefused) as exc:
            raise BadInput(str(exc)) from None
    for warning in warnings:
        say(f"注意: {warning}")
    data = _load(context, args.incident_id)
    if args.step == "card_change":
        say(
            f"登録カード変更を記録しました: 末尾{data['card']}→{args.new_card}、"
            "翌日0:00から新カードで計上します。"
        )
    emit(args, {"incident": data, "warnings": warnings}, lambda: _human_incident(data))
    return 0


def cmd_contact(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.domain.incidents import ContactEntry
    from etcbook.models.reconcile import IncidentError, add_contact

    entry = ContactEntry(
        at=args.at or clock.now(),
        desk=args.desk,
        person=args.person,
        reference=args.reference,
        summary=args.summary,
    )
    with context.store.transaction() as connection:
        try:
            add_contact(connection=connection, incident_id=args.incident_id, entry=entry)
        except IncidentError as exc:
            raise BadInput(str(exc)) from None
    data = _load(context, args.incident_id)
    emit(args, {"incident": data}, lambda: _human_incident(data))
    return 0


def cmd_show(args: argparse.Namespace, context: CliContext) -> int:
    data = _load(context, args.incident_id)
    emit(args, {"incident": data}, lambda: _human_incident(data))
    return 0


def cmd_list(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.reconcile import incident_json, list_incidents

    with context.store.engine.connect() as connection:
        items = [
            incident_json(i)
            for i in list_incidents(connection=connection, card=args.card, open_only=args.open)
        ]

    def human() -> str:
        if not items:
            return "記録はありません。"
        return table(
            ["ID", "カード", "種別", "気づいた日時", "次の手順", "完了"],
            [
                [
                    i["id"],
                    i["card"],
                    i["kind_label"],
                    i["noticed_at"][:16].replace("T", " "),
                    next((s["label"] for s in i["steps"] if s["state"] == "next"), ""),
                    (i["closed_at"] or "")[:10],
                ]
                for i in items
            ],
            right=(0,),
        )

    emit(args, {"incidents": items}, human)
    return 0


def cmd_close(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.reconcile import IncidentError, close_incident

    with context.store.transaction() as connection:
        try:
            close_incident(
                connection=connection, incident_id=args.incident_id, at=args.at or clock.now()
            )
        except IncidentError as exc:
            raise BadInput(str(exc)) from None
    data = _load(context, args.incident_id)
    emit(args, {"incident": data}, lambda: _human_incident(data))
    return 0


def cmd_guide(args: argparse.Namespace, context: CliContext) -> int:
    steps = [
        {
            "step": s.key,
            "label": s.label,
            "guidance": s.guidance,
            "needs": list(s.needs),
            "not_for": list(s.not_for),
        }
        for s in STEPS
    ]

    def human() -> str:
        lines = []
        for number, s in enumerate(STEPS, 1):
            not_for = "、".join(INCIDENT_KIND_LABELS[k] for k in s.not_for)
            lines.append(
                f"{number}. {s.label}（{s.key}）" + (f" ※{not_for}は不要" if not_for else "")
            )
            lines.append(f"   {s.guidance}")
        return "\n".join(lines)

    emit(args, {"steps": steps}, human)
    return 0


def _link_json(link: Any) -> dict[str, Any]:
    return {
        "old_card": link.old_card,
        "new_card": link.new_card,
        "registered_at": link.registered_at.isoformat(),
        "effective_at": link.effective_at.isoformat(),
        "incident_id": link.incident_id,
    }


def cmd_change_card(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.domain.incidents import CardChangeRefused
    from etcbook.models.cards import CardNotFound
    from etcbook.models.reconcile import change_card

    with context.store.transaction() as connection:
        try:
            link = change_card(
                connection=connection, old=args.card, new=args.new_card, registered_at=args.at
            )
        except (CardChangeRefused, CardNotFound) as exc:
            raise BadInput(str(exc)) from None
    data = _link_json(link)
    emit(
        args,
        {"link": data},
        lambda: (
            f"登録カード変更: 末尾{link.old_card}→{link.new_card}"
            f"（{link.registered_at:%Y-%m-%d %H:%M}受付、{link.effective_at:%Y-%m-%d %H:%M}から新カード）"
        ),
    )
    return 0


def cmd_suspicious(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.reconcile import suspicious_trip_list

    with context.store.engine.connect() as connection:
        found = suspicious_trip_list(connection=connection, card=args.card)
    items = [
        {
            "id": s.trip.trip_id,
            "card": s.trip.card,
            "exit_at": s.trip.exit_at.isoformat(),
            "entry_ic": s.trip.entry_ic,
            "exit_ic": s.trip.exit_ic,
            "toll": s.trip.toll,
            "since": s.since.isoformat(),
            "incident_id": s.incident_id,
            "reason": s.reason,
        }
        for s in found
    ]

    def human() -> str:
        if not items:
            return "停止・カード変更の後の走行はありません。"
        return table(
            ["ID", "カード", "出口日時", "入口", "出口", "通行料金", "理由"],
            [
                [
                    i["id"],
                    i["card"],
                    i["exit_at"][:16].replace("T", " "),
                    i["entry_ic"] or "",
                    i["exit_ic"],
                    f"{i['toll']:,}",
                    i["reason"],
                ]
                for i in items
            ],
            right=(0, 5),
        )

    emit(args, {"trips": items}, human)
    return 0
