"""``suggest``: what to exchange, when and why (必要額だけ交換), as JSON.

    etcbook suggest --card L4 (--need YEN --by YYYY-MM-DD [--operator KEY] | --plan FILE.csv)
                    [--as-of YYYY-MM-DD] [--text]

The plan file is a CSV with a date, an operator and a toll per planned trip; the header may be
in English (``date,operator,toll``) or Japanese (``日付,事業者,料金``), the file UTF-8 or
Shift_JIS. ``--need 0`` plans only what expiry demands.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from etcbook.cli.common import (
    CARD_HELP,
    EXIT_USAGE,
    BadInput,
    CliContext,
    add_json_flag,
    card_reference,
    parse_date,
    parse_yen,
    print_json,
    say,
)
from etcbook.domain.planner_types import Plan, PlannedExchange, PlannedTrip
from etcbook.domain.points import OPERATOR_KEYS

if TYPE_CHECKING:
    from etcbook.domain.mileage import CardState
    from etcbook.domain.rules import Rules

DATE_HEADERS = ("date", "day", "日付", "利用日", "走行日", "年月日", "予定日")
OPERATOR_HEADERS = ("operator", "road", "事業者", "道路事業者", "道路", "会社")
TOLL_HEADERS = ("toll", "yen", "amount", "料金", "通行料金", "金額", "予定料金", "見込み料金")

OPERATOR_ALIASES: dict[str, str] = {
    "nexco": "nexco",
    "nexco東日本": "nexco",
    "nexco中日本": "nexco",
    "nexco西日本": "nexco",
    "東日本高速道路": "nexco",
    "中日本高速道路": "nexco",
    "西日本高速道路": "nexco",
    "宮城県道路公社": "miyagi",
    "本四": "honshi",
    "本四高速": "honshi",
    "本州四国連絡高速道路": "honshi",
    "阪神高速8号京都線": "hanshin_kyoto",
    "阪神高速": "hanshin",
    "名古屋高速": "nagoya",
    "名古屋高速道路公社": "nagoya",
    "愛知県道路公社": "aichi",
    "神戸市道路公社": "kobe",
    "広島高速": "hiroshima",
    "広島高速道路公社": "hiroshima",
    "福岡高速": "fukuoka",
    "北九州高速": "kitakyushu",
    "首都高": "shutoko",
    "首都高速": "shutoko",
    "首都高速道路": "shutoko",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "suggest",
        help="必要額だけ交換: いつ・何ポイントを交換するかの提案（JSON）",
        description="予定の通行に備えて、失効・割の悪い交換・付かなくなるポイントを避ける交換を提案します。",
    )
    parser.add_argument(
        "--card", required=True, type=card_reference, metavar="CARD", help=CARD_HELP
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--need",
        type=parse_yen,
        metavar="YEN",
        help="還元額で払いたい通行料金の見込み（0: 失効対策のみ）",
    )
    what.add_argument(
        "--plan", type=Path, metavar="FILE.csv", help="予定の走行（日付,事業者,料金）のCSV"
    )
    parser.add_argument(
        "--by", type=parse_date, metavar="YYYY-MM-DD", help="--need の期限（この日までの通行）"
    )
    parser.add_argument(
        "--operator", metavar="KEY", default=None, help="--need の事業者キー（既定: nexco）"
    )
    parser.add_argument(
        "--as-of", type=parse_date, metavar="YYYY-MM-DD", help="基準日（既定: 今日）"
    )
    parser.add_argument("--text", action="store_true", help="JSONの代わりに説明文を表示する")
    add_json_flag(parser)
    parser.set_defaults(handler=cmd_suggest, card_ids=True)


def cmd_suggest(args: argparse.Namespace, context: CliContext) -> int:
    from etcbook import clock
    from etcbook.domain.planner import Need, PlannerInputError, plan_exchanges
    from etcbook.domain.planner_adapter import planner_input
    from etcbook.domain.rules import RulesError, load_rules

    as_of: dt.date = args.as_of or clock.today()
    if args.need is None and args.by is not None:
        return _usage("--by は --need と一緒に指定します")
    if args.need is not None and args.need > 0 and args.by is None:
        return _usage("--need には --by YYYY-MM-DD（この日までの通行）も指定してください")
    if args.need is None and args.operator is not None:
        return _usage(
            "--operator は --need と一緒に指定します（予定ファイルでは事業者の列を使います）"
        )
    try:
        rules = load_rules()
    except RulesError as exc:
        raise BadInput(f"事業者ルールを読めません: {exc}") from None
    names = {key: rule.name for key, rule in rules.operators.items()}
    need: Need | None = None
    trips: tuple[PlannedTrip, ...] = ()
    if args.need is not None:
        if args.need < 0:
            raise BadInput(f"--need は0以上の円で指定してください: {args.need}")
        by: dt.date = args.by or as_of
        if by < as_of:
            raise BadInput(f"--by {by.isoformat()} が基準日 {as_of.isoformat()} より前です")
        need = Need(args.need, by, (resolve_operator(args.operator or "nexco", names),))
    else:
        trips = read_plan_csv(
            args.plan, default_operator="nexco", operator_names=names, not_before=as_of
        )
    state, auto_exchange = load_card_state(context, args.card, as_of, rules)
    request = planner_input(
        state, rules, auto_exchange=auto_exchange, need=need, trips=trips, as_of=as_of
    )
    try:
        plan = plan_exchanges(request)
    except PlannerInputError as exc:
        raise BadInput(str(exc)) from None
    print_plan(plan, text=args.text)
    return 0


def _usage(message: str) -> int:
    say(f"etcbook suggest: 使い方の誤り: {message}")
    return EXIT_USAGE


def resolve_operator(text: str, names: Mapping[str, str]) -> str:
    """An operator key from a key or a Japanese name; ``BadInput`` otherwise."""
    found = operator_lookup(names).get(_norm(text))
    if found is None:
        raise BadInput(f"事業者が分かりません: {text!r}（キー: {', '.join(OPERATOR_KEYS)}）")
    return found


def load_card_state(
    context: CliContext, last4: str, as_of: dt.date, rules: Rules
) -> tuple[CardState, bool]:
    """The card's state at the end of the as-of day (trips, exchanges, stops, adjustments as
    stored) and its auto-exchange setting."""
    from etcbook.domain.mileage import state_at_end_of
    from etcbook.models.card_refs import find_card
    from etcbook.models.mileage_inputs import load_card_inputs

    with context.store.engine.connect() as connection:
        card = find_card(connection=connection, last4=last4)
        if card is None:
            raise BadInput(
                f"カード末尾{last4}は登録されていません（etcbook card list で確認できます）"
            )
        inputs = load_card_inputs(connection=connection, cards=[card], rules=rules)
    return state_at_end_of(inputs[card.id], rules, as_of), card.auto_exchange


# -- the plan file ---------------------------------------------------------------------------


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: 予定ファイルを読めません（{exc.strerror or exc}）") from None
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadInput(f"{path}: 文字コードが UTF-8 でも Shift_JIS でもありません")


def _column(header: Sequence[str], names: Sequence[str]) -> int | None:
    wanted = {_norm(n) for n in names}
    for index, cell in enumerate(header):
        if _norm(cell) in wanted:
            return index
    return None


def _parse_plan_date(text: str) -> dt.date | None:
    cleaned = _norm(text).replace("/", "-").replace(".", "-")
    for suffix in ("年", "月"):
        cleaned = cleaned.replace(suffix, "-")
    cleaned = cleaned.rstrip("日")
    parts = cleaned.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def _parse_plan_toll(text: str) -> int | None:
    cleaned = _norm(text).replace(",", "").replace("円", "").replace("¥", "").replace("\\", "")
    if not cleaned.isdigit():
        return None
    return int(cleaned)


def operator_lookup(names: Mapping[str, str]) -> dict[str, str]:
    """Normalised spelling -> operator key: the keys, the rules' Japanese names, aliases."""
    lookup = {_norm(key): key for key in OPERATOR_KEYS}
    for key, name in names.items():
        lookup[_norm(name)] = key
    for alias, key in OPERATOR_ALIASES.items():
        lookup.setdefault(_norm(alias), key)
    return lookup


def read_plan_csv(
    path: Path,
    *,
    default_operator: str,
    operator_names: Mapping[str, str] | None = None,
    not_before: dt.date | None = None,
) -> tuple[PlannedTrip, ...]:
    """The planned trips of a plan file; ``BadInput`` naming the file and line on any error."""
    text = _decode(path)
    rows = list(csv.reader(io.StringIO(text)))
    lookup = operator_lookup(operator_names or {})
    header_line = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if header_line is None:
        raise BadInput(f"{path}: 予定ファイルが空です")
    header = rows[header_line]
    date_col = _column(header, DATE_HEADERS)
    toll_col = _column(header, TOLL_HEADERS)
    operator_col = _column(header, OPERATOR_HEADERS)
    if date_col is None or toll_col is None:
        missing = "、".join(
            name
            for name, col in (("日付(date)", date_col), ("料金(toll)", toll_col))
            if col is None
        )
        raise BadInput(
            f"{path}: {header_line + 1}行目: 見出しに {missing} の列がありません"
            "（例: date,operator,toll または 日付,事業者,料金）"
        )
    trips: list[PlannedTrip] = []
    for index in range(header_line + 1, len(rows)):
        row = rows[index]
        line = index + 1
        if not any(cell.strip() for cell in row):
            continue
        width = max(date_col, toll_col, operator_col if operator_col is not None else 0) + 1
        if len(row) < width:
            raise BadInput(f"{path}: {line}行目: 列が足りません（{len(row)}列）")
        day = _parse_plan_date(row[date_col])
        if day is None:
            raise BadInput(f"{path}: {line}行目: 日付が読めません: {row[date_col]!r}（YYYY-MM-DD）")
        if not_before is not None and day < not_before:
            raise BadInput(
                f"{path}: {line}行目: {day.isoformat()} は基準日 {not_before.isoformat()} より前です"
            )
        toll = _parse_plan_toll(row[toll_col])
        if toll is None:
            raise BadInput(f"{path}: {line}行目: 料金が読めません: {row[toll_col]!r}（整数の円）")
        operator = default_operator
        if operator_col is not None and row[operator_col].strip():
            found = lookup.get(_norm(row[operator_col]))
            if found is None:
                raise BadInput(
                    f"{path}: {line}行目: 事業者が分かりません: {row[operator_col]!r}"
                    f"（キー: {', '.join(OPERATOR_KEYS)}）"
                )
            operator = found
        trips.append(PlannedTrip(day, operator, toll))
    if not trips:
        raise BadInput(f"{path}: 予定の走行が1件もありません")
    return tuple(trips)


# -- output ----------------------------------------------------------------------------------


def exchange_json(exchange: PlannedExchange) -> dict[str, object]:
    """``{"at","pool","units","points","yen"}``; units are the points of each unit, as
    ``exchange --units`` takes them."""
    return {
        "at": exchange.at.isoformat(),
        "pool": exchange.pool,
        "units": [unit.points for unit in exchange.units],
        "points": exchange.points,
        "yen": exchange.yen,
    }


def plan_json(plan: Plan) -> dict[str, object]:
    """The document ``suggest`` prints."""
    return {
        "exchanges": [exchange_json(e) for e in plan.exchanges],
        "covered": plan.covered,
        "shortfall": plan.shortfall,
        "rebate_after": plan.rebate_after,
        "points_lost": plan.points_lost,
        "explanation": list(plan.explanation),
        "alternatives": [
            {
                "label": alt.label,
                "exchanges": [exchange_json(e) for e in alt.exchanges],
                "points": alt.points,
                "yen": alt.yen,
                "covered": alt.covered,
                "shortfall": alt.shortfall,
                "rebate_after": alt.rebate_after,
                "points_lost": alt.points_lost,
                "value": alt.value,
                "reason": alt.reason,
            }
            for alt in plan.alternatives
        ],
    }


def print_plan(plan: Plan, *, text: bool) -> None:
    if not text:
        print_json(plan_json(plan))
        return
    for line in plan.explanation:
        print(line)
