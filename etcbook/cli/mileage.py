"""ETCマイレージ commands: ``status``, ``exchange``, ``adjust``, ``card stop``, ``card resume``,
``commute-pass``.

Every change is checked by replaying the card with it first; a change the site would refuse
(too few points, a stop on a stopped card) exits 3 and records nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from etcbook.cli.common import (
    BadInput,
    CliContext,
    add_json_flag,
    card_or_new_last4,
    emit,
    parse_date,
    parse_datetime,
    parse_month,
    say,
    table,
    whole_number,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from etcbook.domain.alerts import Alert
    from etcbook.domain.mileage import CardState
    from etcbook.domain.rules import Rules
    from etcbook.models.card_refs import CardRef


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = subparsers.add_parser(
        "status", help="ポイント・還元額・失効予定・注意（ETCマイレージの状態）"
    )
    status.add_argument("--card", type=card_or_new_last4, metavar="CARD")
    status.add_argument(
        "--as-of", type=parse_date, metavar="YYYY-MM-DD", help="この日の終わりの状態（既定: 今日）"
    )
    add_json_flag(status)
    status.set_defaults(handler=cmd_status, card_ids=True, light_reads=True)

    exchange = subparsers.add_parser("exchange", help="ポイントを還元額に交換したことを記録する")
    exchange.add_argument("--card", type=card_or_new_last4, metavar="CARD", required=True)
    exchange.add_argument("--pool", required=True, metavar="POOL", help="nexco, honshi, aichi, …")
    amount = exchange.add_mutually_exclusive_group(required=True)
    amount.add_argument(
        "--points",
        type=_positive_int,
        metavar="N",
        help="交換するポイント数（最も得な単位の組み合わせ）",
    )
    amount.add_argument(
        "--units", type=_unit_list, metavar="U,U,…", help="交換単位のポイント数（例 5000,1000）"
    )
    exchange.add_argument(
        "--at", type=parse_datetime, metavar="YYYY-MM-DDTHH:MM", help="交換した日時（既定: 今）"
    )
    add_json_flag(exchange)
    exchange.set_defaults(handler=cmd_exchange, card_ids=True)

    adjust = subparsers.add_parser(
        "adjust", help="ポイントか還元額を手で調整する（キャンペーン、サイトに合わせた訂正）"
    )
    adjust.add_argument("--card", type=card_or_new_last4, metavar="CARD", required=True)
    adjust.add_argument("--pool", metavar="POOL")
    kind = adjust.add_mutually_exclusive_group(required=True)
    kind.add_argument("--points", type=_nonzero_int, metavar="N", help="ポイント（負で減らす）")
    kind.add_argument("--rebate", type=_nonzero_int, metavar="YEN", help="還元額（負で減らす）")
    adjust.add_argument("--on", type=parse_date, metavar="YYYY-MM-DD", required=True)
    adjust.add_argument("--reason", required=True, metavar="TEXT")
    add_json_flag(adjust)
    adjust.set_defaults(handler=cmd_adjust, card_ids=True)

    commute = subparsers.add_parser(
        "commute-pass", help="通勤パスの月（その月は平日朝夕割引なし）の登録・一覧"
    )
    commute.add_argument("--card", type=card_or_new_last4, metavar="CARD", required=True)
    commute.add_argument("--month", type=parse_month, metavar="YYYY-MM")
    commute.add_argument("--remove", action="store_true", help="登録を外す")
    add_json_flag(commute)
    commute.set_defaults(handler=cmd_commute_pass, card_ids=True)

    card_actions = _card_actions(subparsers)
    for name, stopped, help_text in (
        ("stop", True, "ETCマイレージの利用停止を記録する（停止中はポイントも充当もなし）"),
        ("resume", False, "ETCマイレージの利用再開を記録する"),
    ):
        parser = card_actions.add_parser(name, help=help_text)
        parser.add_argument("last4", type=card_or_new_last4, metavar="CARD")
        parser.add_argument(
            "--at", type=parse_datetime, metavar="YYYY-MM-DDTHH:MM", help="日時（既定: 今）"
        )
        parser.add_argument("--note", default="", help="メモ（窓口、受付番号など）")
        add_json_flag(parser)
        parser.set_defaults(handler=cmd_card_stop, stopped=stopped, card_ids=True)


def _card_actions(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The ``card`` group's actions (``card`` is the card ledger's module; add to it)."""
    card = subparsers.choices.get("card")
    if card is not None:
        for action in card._actions:
            if isinstance(action, argparse._SubParsersAction):
                found: argparse._SubParsersAction[argparse.ArgumentParser] = action
                return found
    else:
        card = subparsers.add_parser("card", help="カード")
    return card.add_subparsers(dest="card_command", metavar="ACTION", required=True)


def _positive_int(text: str) -> int:
    try:
        value = whole_number(text, ignore=",")
    except ValueError:
        raise argparse.ArgumentTypeError(f"整数で指定してください: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"1以上で指定してください: {text!r}")
    return value


def _nonzero_int(text: str) -> int:
    try:
        value = whole_number(text, ignore=",円P")
    except ValueError:
        raise argparse.ArgumentTypeError(f"整数で指定してください: {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0は調整になりません")
    return value


def _unit_list(text: str) -> list[int]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("交換単位をカンマ区切りで指定してください（例 5000,1000）")
    return [_positive_int(part) for part in parts]


# --- shared ----------------------------------------------------------------------------------


def _rules() -> Rules:
    from etcbook.domain.rules import RulesError, load_rules

    try:
        return load_rules()
    except RulesError as exc:
        raise BadInput(f"規則ファイルの誤り: {exc}") from None


def _card(connection: Connection, last4: str) -> CardRef:
    from etcbook.models.card_refs import find_card

    card = find_card(connection=connection, last4=last4)
    if card is None:
        raise BadInput(f"カード末尾{last4}は登録されていません（etcbook card list で確認できます）")
    return card


def _shown_card_id(connection: Connection, card: str) -> dict[str, int]:
    """``{"card_id": …}`` for a card whose last 4 digits another card shares, else nothing
    (the JSON of a store without shared digits stays as it was)."""
    from etcbook.models.card_refs import shared_last4

    card_id = getattr(card, "id", None)
    if card_id is None or card not in shared_last4(connection=connection):
        return {}
    return {"card_id": card_id}


@contextmanager
def refusals_as_bad_input() -> Iterator[None]:
    """A change the store refuses (:mod:`etcbook.models.mileage_changes`) exits 3 with its
    reason; put it outside the transaction, which rolls back first."""
    from etcbook.models.mileage_changes import ChangeRefused, UnknownCard

    try:
        yield
    except UnknownCard as exc:
        raise BadInput(f"{exc}（etcbook card list で確認できます）") from None
    except ChangeRefused as exc:
        raise BadInput(str(exc)) from None


# --- status ----------------------------------------------------------------------------------


def alert_json(alert: Alert) -> dict[str, Any]:
    """An alert as JSON: ``kind`` and ``message``, then whatever else it carries."""
    document: dict[str, Any] = {"kind": alert.kind, "message": alert.message}
    for name, key in (
        ("pool", "pool"),
        ("points", "points"),
        ("yen", "yen"),
        ("on", "date"),
        ("days_left", "days_left"),
        ("last_change_on", "last_change_on"),
        ("notice_on", "notice_on"),
        ("cancellation_on", "cancellation_on"),
        ("count", "count"),
        ("ref", "ref"),
    ):
        value = getattr(alert, name)
        if value is not None:
            document[key] = value.isoformat() if isinstance(value, dt.date) else value
    return document


def card_status_json(state: CardState, *, with_id: bool = False) -> dict[str, Any]:
    """One card of ``status --json``; ``with_id`` adds ``card_id`` (said for a card whose last
    4 digits another card shares, so that the two can be told apart)."""
    return {
        "card": state.card,
        **({"card_id": state.card_id} if with_id else {}),
        "rebate_balance": state.rebate_balance,
        "points_lost_total": state.points_lost_total,
        "pending_rebate": state.pending_rebate,
        "stopped": state.stopped,
        "pools": [
            {
                "pool": pool.pool,
                "points": pool.points,
                "pending_points": pool.pending_points,
                "buckets": {
                    "this_month": pool.buckets.this_month,
                    "next_month": pool.buckets.next_month,
                    "month_after": pool.buckets.month_after,
                    "later": pool.buckets.later,
                },
                "lots": [
                    {
                        "granted_on": lot.granted_on.isoformat(),
                        "expires_on": lot.expires_on.isoformat(),
                        "granted": lot.granted,
                        "remaining": lot.remaining,
                    }
                    for lot in pool.lots
                ],
            }
            for pool in state.pools.values()
        ],
        "alerts": [alert_json(alert) for alert in state.alerts],
    }


def cmd_status(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook import clock
    from etcbook.models.card_refs import shared_last4
    from etcbook.models.mileage_inputs import card_states

    as_of = args.as_of or clock.today()
    rules = _rules()
    with context.reading() as connection:
        card_ids = None
        if args.card:
            card_ids = [_card(connection, args.card).id]
        states = card_states(connection=connection, as_of=as_of, card_ids=card_ids, rules=rules)
        shared = shared_last4(connection=connection) if states else set()
    document = {
        "as_of": as_of.isoformat(),
        "cards": [card_status_json(s, with_id=s.card in shared) for s in states],
    }

    def human() -> str:
        if not states:
            return "カードは登録されていません。"
        blocks = []
        for state in states:
            name = f"id:{state.card_id}（末尾{state.card}）" if state.card in shared else ""
            head = (
                (name or f"カード末尾{state.card}") + f"  還元額 {state.rebate_balance:,}円"
                f"  失効累計 {state.points_lost_total:,}P"
                + ("  （利用停止中）" if state.stopped else "")
            )
            rows = [
                [
                    rules.pools[pool.pool].name if pool.pool in rules.pools else pool.pool,
                    f"{pool.points:,}",
                    f"{pool.pending_points:,}",
                    f"{pool.buckets.this_month:,}",
                    f"{pool.buckets.next_month:,}",
                    f"{pool.buckets.month_after:,}",
                    f"{pool.buckets.later:,}",
                ]
                for pool in state.pools.values()
            ]
            body = (
                table(
                    [
                        "プール",
                        "ポイント",
                        "付与予定",
                        "今月失効",
                        "来月失効",
                        "再来月失効",
                        "以降",
                    ],
                    rows,
                    right=(1, 2, 3, 4, 5, 6),
                )
                if rows
                else "ポイントはありません。"
            )
            notes = "\n".join(f"注意: {alert.message}" for alert in state.alerts)
            blocks.append("\n".join(part for part in (head, body, notes) if part))
        return f"{as_of.isoformat()} の終わりの状態\n\n" + "\n\n".join(blocks)

    emit(args, document, human)
    return 0


# --- exchange --------------------------------------------------------------------------------


def cmd_exchange(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook import clock
    from etcbook.domain.exchange import units_for_request
    from etcbook.domain.money import exchange_totals
    from etcbook.models.mileage_changes import record_exchanges

    rules = _rules()
    try:
        pool = rules.pool(args.pool)
    except KeyError:
        raise BadInput(f"プール「{args.pool}」はありません（{', '.join(rules.pools)}）") from None
    try:
        units = units_for_request(pool, points=args.points, unit_points=args.units)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    at = args.at or clock.now()
    points, yen = exchange_totals(units)
    with refusals_as_bad_input(), context.store.transaction() as connection:
        [exchange_id] = record_exchanges(
            connection=connection, rules=rules, last4=args.card, exchanges=[(at, pool.key, units)]
        )
        card_id = _shown_card_id(connection, args.card)
    say(f"{pool.name}の{points:,}Pを還元額{yen:,}円に交換しました（{at:%Y-%m-%d %H:%M}）。")
    document = {
        "id": exchange_id,
        "card": args.card,
        **card_id,
        "pool": pool.key,
        "units": [unit.points for unit in units],
        "points": points,
        "yen": yen,
        "at": at.isoformat(),
    }
    emit(
        args,
        document,
        lambda: f"{pool.name}: {' + '.join(f'{u.points:,}P' for u in units)} → {yen:,}円",
    )
    return 0


# --- adjust ----------------------------------------------------------------------------------


def cmd_adjust(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.mileage_changes import record_adjustment

    rules = _rules()
    with refusals_as_bad_input(), context.store.transaction() as connection:
        recorded = record_adjustment(
            connection=connection,
            rules=rules,
            last4=args.card,
            on=args.on,
            reason=args.reason,
            pool=args.pool,
            points=args.points or 0,
            rebate=args.rebate or 0,
        )
        card_id = _shown_card_id(connection, args.card)
    document = {
        "adjustment": {
            "id": recorded.id,
            "card": recorded.card,
            **card_id,
            "on": recorded.on.isoformat(),
            "pool": recorded.pool,
            "points": recorded.points,
            "rebate": recorded.rebate,
            "reason": recorded.reason,
        }
    }
    what = (
        f"{recorded.pool} {recorded.points:+,}P"
        if recorded.points
        else f"還元額 {recorded.rebate:+,}円"
    )
    on = recorded.on.isoformat()
    say(f"カード末尾{recorded.card}: {on} に {what} を記録しました（{recorded.reason}）。")
    emit(args, document, lambda: f"{on} {what} {recorded.reason}")
    return 0


# --- card stop / resume ----------------------------------------------------------------------


def cmd_card_stop(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook import clock
    from etcbook.models.mileage_changes import record_stop

    at = args.at or clock.now()
    with refusals_as_bad_input(), context.store.transaction() as connection:
        recorded = record_stop(
            connection=connection, last4=args.last4, at=at, stopped=args.stopped, note=args.note
        )
        card_id = _shown_card_id(connection, args.last4)
    verb = "利用停止" if recorded.stopped else "利用再開"
    say(f"カード末尾{recorded.card}の{verb}を記録しました（{at:%Y-%m-%d %H:%M}）。")
    document = {
        "id": recorded.id,
        "card": recorded.card,
        **card_id,
        "event": "stop" if recorded.stopped else "resume",
        "stopped": recorded.stopped,
        "at": at.isoformat(),
    }
    emit(args, document, lambda: f"{recorded.card} {verb} {at:%Y-%m-%d %H:%M}")
    return 0


# --- commute pass ----------------------------------------------------------------------------


def cmd_commute_pass(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook.models.mileage_changes import set_commute_pass

    if args.remove and not args.month:
        raise BadInput("--remove には --month が必要です")
    with refusals_as_bad_input(), context.store.transaction() as connection:
        months = set_commute_pass(
            connection=connection, last4=args.card, month=args.month, present=not args.remove
        )
        card_id = _shown_card_id(connection, args.card)
    emit(
        args,
        {"card": args.card, **card_id, "months": months},
        lambda: "通勤パスの月: " + ("、".join(months) if months else "なし"),
    )
    return 0
