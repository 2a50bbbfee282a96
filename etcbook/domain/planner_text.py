"""Japanese explanations of an exchange plan, as the driver reads them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from etcbook.domain.planner_grid import Grid, rate_text, twentieths_between
from etcbook.domain.planner_sim import Candidate, Context, Decision, Outcome, with_units
from etcbook.domain.planner_types import Alternative, ExpiryLoss, PlannedExchange, PoolState
from etcbook.domain.points import ExchangeUnit

POOL_LABELS: dict[str, str] = {
    "nexco": "NEXCO",
    "honshi": "本四高速",
    "hanshin_kyoto": "阪神高速（8号京都線）",
    "nagoya": "名古屋高速",
    "aichi": "愛知県道路公社",
    "kobe": "神戸市道路公社",
    "hiroshima": "広島高速",
    "fukuoka": "福岡北九州高速",
    "fukuoka_kitakyushu": "福岡北九州高速",
}

OPERATOR_LABELS: dict[str, str] = {
    "nexco": "NEXCO",
    "miyagi": "宮城県道路公社",
    "honshi": "本四高速",
    "hanshin_kyoto": "阪神高速8号京都線",
    "hanshin": "阪神高速",
    "nagoya": "名古屋高速",
    "aichi": "愛知県道路公社",
    "kobe": "神戸市道路公社",
    "hiroshima": "広島高速",
    "fukuoka": "福岡高速",
    "kitakyushu": "北九州高速",
    "shutoko": "首都高速",
    "other_rebate": "還元額が使える有料道路",
    "other": "対象外の有料道路",
}


def pool_label(spec: PoolState) -> str:
    """The pool's name for the driver."""
    return spec.label or POOL_LABELS.get(spec.pool, spec.pool)


def operator_label(key: str) -> str:
    """The operator's name for the driver."""
    return OPERATOR_LABELS.get(key, key)


def date_text(day: dt.date) -> str:
    """``2025年6月10日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def unit_text(unit: ExchangeUnit) -> str:
    """``3,000P→2,500円``."""
    return f"{unit.points:,}P→{unit.yen:,}円"


def units_text(units: Sequence[ExchangeUnit]) -> str:
    """``5,000P→5,000円＋1,000P→500円``, ``100P→100円×13``."""
    counts = Counter(units)
    parts = []
    for unit in sorted(counts, key=lambda u: (-u.points, -u.yen)):
        n = counts[unit]
        parts.append(unit_text(unit) + (f"×{n}" if n > 1 else ""))
    return "＋".join(parts)


def exchange_text(ex: PlannedExchange, spec: PoolState) -> str:
    """``NEXCOで3,000P→2,500円``."""
    return f"{pool_label(spec)}で{units_text(ex.units)}"


def _trips_text(sit_trips: Sequence[tuple[int, str]]) -> str:
    tolls = [toll for toll, _ in sit_trips]
    if len(tolls) == 1:
        return f"{tolls[0]:,}円の走行"
    if len(tolls) <= 4:
        return "・".join(f"{t:,}円" for t in tolls) + f"の走行（計{sum(tolls):,}円）"
    return f"{len(tolls)}件の走行（計{sum(tolls):,}円）"


def _naive_units(grid: Grid, short: int, usable: int) -> tuple[ExchangeUnit, ...]:
    unit = grid.min_unit
    count = min(-(-short // unit.yen), usable // unit.points)
    return (unit,) * max(count, 0)


def _decision_lines(ctx: Context, dec: Decision) -> list[str]:
    req = ctx.request
    sit = dec.situation
    chosen = dec.chosen
    day = date_text(sit.on)
    lines: list[str] = []
    short = max(0, sit.demand - sit.balance)
    rebate_trips = [(t.toll, t.operator) for t in sit.trips if t.operator in req.rebate_operators]
    if not chosen.picks:
        if sit.need:
            lines.append(
                f"{day}: 必要額に対し交換単位に届くポイントがなく、"
                f"{short:,}円は還元額で払えません。"
            )
        return lines
    exchanges = "、".join(
        f"{pool_label(req.pools[p.pool])}で{units_text(p.units)}" for p in chosen.picks
    )
    total = f"（計{chosen.points:,}P→{chosen.yen:,}円）" if len(chosen.picks) > 1 else ""
    rescue_parts = []
    for p in chosen.picks:
        at_risk = sit.at_risk[p.pool]
        expiry = sit.risk_expiry[p.pool]
        if at_risk and expiry is not None:
            spec = req.pools[p.pool]
            saved = min(at_risk, p.points)
            text = f"{pool_label(spec)}の{at_risk:,}Pが{date_text(expiry)}に失効するため"
            if spec.auto_exchange and spec.auto_unit is not None:
                text = (
                    f"{pool_label(spec)}は自動還元が{spec.auto_unit.points:,}P単位のため"
                    f"{sit.usable[p.pool]:,}Pでは自動交換されず、うち{at_risk:,}Pが"
                    f"{date_text(expiry)}に失効するため"
                )
            if saved < at_risk:
                text += f"（{saved:,}Pまで救済）"
            rescue_parts.append(text)
    if short > 0 and sit.need:
        line = f"{day}に{exchanges}を交換してください{total}。"
        if chosen.covered >= sit.demand:
            line += f"必要額{sit.demand:,}円を賄えます。"
        else:
            line += f"必要額{sit.demand:,}円のうち{chosen.covered:,}円まで賄えます。"
        line += _why_units(ctx, dec, short)
        if rescue_parts:
            line += "また、" + "、".join(rescue_parts) + "、この交換で先に使います。"
        if dec.margin:
            line += f"見積りのずれに備えて{dec.margin:,}円の余裕を含みます。"
        if chosen.leftover > 0:
            line += f"支払い後の還元額は{chosen.leftover:,}円で、次の通行に使われます"
            forgone = _forgone(ctx, chosen.leftover)
            line += f"（その分、約{forgone:,}Pが付かなくなります）。" if forgone else "。"
        lines.append(line)
    elif short > 0:
        line = f"{day}: {_trips_text(rebate_trips)}に備え、{exchanges}を交換{total}。"
        line += _why_units(ctx, dec, short)
        if rescue_parts:
            line += "、".join(rescue_parts) + "、この交換で先に使います。"
        line += f"走行後の還元額は{chosen.leftover:,}円"
        following = _next_rebate_trip_day(ctx, sit.on) if chosen.leftover > 0 else None
        line += f"（{date_text(following)}の走行に使われます）。" if following else "。"
        lines.append(line)
    else:
        line = f"{day}に{exchanges}を交換してください{total}。"
        if rescue_parts:
            reasons = "、".join(rescue_parts)
            line = f"{day}: {reasons}、{exchanges}を交換してください{total}。"
        lines.append(line)
    return lines


def _next_rebate_trip_day(ctx: Context, after: dt.date) -> dt.date | None:
    """The next planned trip day after ``after`` with a trip that rebate can pay."""
    rebate = ctx.request.rebate_operators
    days = [
        day
        for day, trips in ctx.trips_by_day.items()
        if day > after and any(t.operator in rebate for t in trips)
    ]
    return min(days, default=None)


def _why_units(ctx: Context, dec: Decision, short: int) -> str:
    """Why these units rather than the smallest ones, or another covering choice."""
    chosen = dec.chosen
    sit = dec.situation
    for p in chosen.picks:
        grid = ctx.grids[p.pool]
        if grid.single_rate:
            continue
        naive = _naive_units(grid, short, sit.usable[p.pool])
        naive_yen = sum(u.yen for u in naive)
        if naive and tuple(sorted(naive, key=lambda u: u.points)) != tuple(
            sorted(p.units, key=lambda u: u.points)
        ):
            best = max(p.units, key=lambda u: u.yen * 10**6 // u.points)
            text = (
                f"{units_text(naive)}（{naive_yen:,}円）でも足りますが{rate_text(grid.min_unit)}"
                f"と割高で、{unit_text(best)}なら{rate_text(best)}です。"
            )
            if naive_yen < short:
                text = (
                    f"{units_text(naive)}では{naive_yen:,}円にしかならず"
                    f"（{rate_text(grid.min_unit)}）、{unit_text(best)}なら{rate_text(best)}です。"
                )
            return text + _rival_text(ctx, dec, naive=naive)
        return _rival_text(ctx, dec)
    return ""


def _units_of(ctx: Context, cand: Candidate) -> list[tuple[ExchangeUnit, ...]]:
    return [with_units(ctx.grids[p.pool], p).units for p in cand.picks]


def _rival_text(ctx: Context, dec: Decision, naive: tuple[ExchangeUnit, ...] = ()) -> str:
    """The just-enough rival: another choice that covers as much with the least rebate left
    over, and the value it would give up."""
    chosen = dec.chosen
    rivals = [
        r
        for r in dec.ranked
        if r.picks
        and r.covered >= chosen.covered
        and r.saved >= chosen.saved
        and r.net < chosen.net
        and r.leftover < chosen.leftover
    ]
    if not rivals:
        return ""
    rival = min(rivals, key=lambda r: (r.leftover, -r.net))
    diff = (chosen.net - rival.net) // ctx.scale
    if diff <= 0:
        return ""
    rival_units = _units_of(ctx, rival)
    if len(rival_units) == 1 and sorted(rival_units[0], key=lambda u: u.points) == sorted(
        naive, key=lambda u: u.points
    ):
        return ""
    names = "、".join(units_text(units) for units in rival_units)
    return (
        f"{names}（{rival.yen:,}円）ならちょうど足りますが、残るポイントの価値が下がり、"
        f"見込みで{diff:,}円相当損になります。"
    )


def _forgone(ctx: Context, yen: int) -> int:
    rule = ctx.forgone_rule
    return rule.points_for(yen) if rule is not None else 0


def _billed_month_lines(
    ctx: Context, decisions: Sequence[Decision]
) -> list[tuple[dt.date, int, str]]:
    """Planned-trip days the plan leaves to the card, one line per month and reason."""
    req = ctx.request
    months: dict[tuple[int, int, bool], list[int]] = {}
    last_day: dict[tuple[int, int, bool], dt.date] = {}
    for dec in decisions:
        sit = dec.situation
        if dec.chosen.picks or sit.need:
            continue
        unpaid = sit.demand - min(sit.balance, sit.demand)
        if unpaid <= 0:
            continue
        waited = any(sit.usable[i] >= ctx.grids[i].min_unit.points for i in range(len(req.pools)))
        key = (sit.on.year, sit.on.month, waited)
        months.setdefault(key, []).append(unpaid)
        last_day[key] = sit.on
    out: list[tuple[dt.date, int, str]] = []
    for (year, month, waited), amounts in months.items():
        reason = (
            "今の残高で交換すると割安な単位になるため、ポイントを貯めてから交換します"
            if waited
            else "交換単位に届くポイントがないため"
        )
        out.append(
            (
                last_day[(year, month, waited)],
                1,
                f"{year}年{month}月: 走行{len(amounts)}日分の計{sum(amounts):,}円は、"
                f"還元額を使わずカード請求になります（{reason}。その分ポイントが付きます）。",
            )
        )
    return out


def _loss_line(ctx: Context, loss: ExpiryLoss) -> str:
    spec = next(p for p in ctx.request.pools if p.pool == loss.pool)
    grid = ctx.grids[ctx.request.pools.index(spec)]
    label = pool_label(spec)
    if loss.reason == "auto_below_unit" and spec.auto_unit is not None:
        return (
            f"{label}: 自動還元は{spec.auto_unit.points:,}P単位のため、{date_text(loss.on)}に"
            f"{loss.points:,}Pが失効します（手動の最小単位{grid.min_unit.points:,}Pにも足りません）。"
        )
    return (
        f"{label}: {date_text(loss.on)}に{loss.points:,}Pが失効します"
        f"（交換の最小単位{grid.min_unit.points:,}Pに足りないため）。"
    )


def _auto_line(ctx: Context, ex: PlannedExchange) -> str:
    spec = next(p for p in ctx.request.pools if p.pool == ex.pool)
    return (
        f"{date_text(ex.at)}: 自動還元で{pool_label(spec)}の{units_text(ex.units)}"
        "が交換される見込みです。"
    )


def _pool_status_line(ctx: Context, index: int) -> str | None:
    """For a pool the plan leaves alone: why waiting is right (or what to watch)."""
    req = ctx.request
    spec = req.pools[index]
    grid = ctx.grids[index]
    as_of = req.as_of
    lots = [lot for lot in spec.lots if lot.remaining > 0 and lot.expires_on >= as_of]
    held = sum(lot.remaining for lot in lots if lot.granted_on <= as_of)
    if held <= 0:
        return None
    soonest = min(lot.expires_on for lot in lots if lot.granted_on <= as_of)
    expiring = sum(
        lot.remaining for lot in lots if lot.granted_on <= as_of and lot.expires_on == soonest
    )
    label = pool_label(spec)
    if expiring < held:
        head = f"{label}: {held:,}P（うち{expiring:,}Pの期限が{date_text(soonest)}）。"
    else:
        head = f"{label}: {held:,}P（期限は{date_text(soonest)}）。"
    best = grid.best_rate_unit()
    if grid.single_rate or held >= best.points:
        return head + (
            "期限まではまだ間があるので、今は交換せず、走行の直前に必要な分だけ交換しましょう。"
        )
    monthly = spec.monthly_points
    now_yen = grid.best_within(held)
    if monthly > 0:
        months = -(-(best.points - held) // monthly)
        reach_day = _nth_twentieth(as_of, months)
        if reach_day <= soonest and twentieths_between(as_of, soonest) >= months:
            text = (
                head + f"月約{monthly:,}Pのペースなら{date_text(reach_day)}ごろ"
                f"{best.points:,}Pに届き、"
                f"{unit_text(best)}（{rate_text(best)}）で交換できるので、それまで待つのがお得です。"
            )
            if now_yen > 0:
                later = held * best.yen // best.points
                text += (
                    f"今交換すると{now_yen:,}円にしかならず、{later - now_yen:,}円相当損します。"
                )
            return text
    _, unit = grid.reach(held + monthly * twentieths_between(as_of, soonest))
    if unit is None:
        return head + (
            f"今のペースでは期限までに最小単位{grid.min_unit.points:,}Pに届かない見込みです。"
        )
    return (
        head + f"今のペースでは期限までに{best.points:,}Pに届かない見込みです。"
        f"急ぐ必要はありませんが、期限が近づいたら{unit_text(unit)}などで交換しましょう。"
    )


def _nth_twentieth(start: dt.date, n: int) -> dt.date:
    """The n-th 20th after ``start`` (n >= 1)."""
    index = start.year * 12 + start.month - 1 + (n - 1 if start.day < 20 else n)
    return dt.date(index // 12, index % 12 + 1, 20)


def explain(
    ctx: Context,
    outcome: Outcome,
    *,
    demand: int,
    shortfall: int,
    need_uncoverable: bool,
) -> tuple[str, ...]:
    """One short Japanese sentence per choice, in date order, then a summary."""
    req = ctx.request
    lines: list[str] = []
    if req.need is not None:
        ops = "・".join(operator_label(o) for o in req.need.operators)
        if req.need.yen > 0:
            lines.append(
                f"必要額{req.need.yen:,}円（{date_text(req.need.by)}までの{ops}の通行）に対し、"
                f"還元額残高は{req.rebate_balance:,}円です。"
            )
        else:
            lines.append(
                f"走行の予定なし（還元額残高{req.rebate_balance:,}円）: "
                "失効を防ぐのに必要な交換だけを計画します。"
            )
        if need_uncoverable:
            lines.append(f"{ops}では還元額が使えないため、交換しても支払いには充てられません。")
    elif req.trips:
        first, last = req.trips[0].on, max(t.on for t in req.trips)
        lines.append(
            f"予定の走行{len(req.trips)}件（{date_text(first)}〜{date_text(last)}、"
            f"還元額が使える道路で計{demand:,}円）に対し、還元額残高は{req.rebate_balance:,}円です。"
        )
    events: list[tuple[dt.date, int, str]] = []
    for dec in outcome.decisions:
        for line in _decision_lines(ctx, dec):
            events.append((dec.situation.on, 1, line))
    events.extend(_billed_month_lines(ctx, outcome.decisions))
    for ex in outcome.auto_exchanges:
        events.append((ex.at, 0, _auto_line(ctx, ex)))
    for loss in outcome.losses:
        events.append((loss.on, 2, _loss_line(ctx, loss)))
    events.sort(key=lambda e: (e[0], e[1]))
    lines.extend(text for _, _, text in events)
    touched = {ex.pool for ex in outcome.exchanges} | {loss.pool for loss in outcome.losses}
    touched |= {ex.pool for ex in outcome.auto_exchanges}
    for index, spec in enumerate(req.pools):
        if spec.pool in touched:
            continue
        status = _pool_status_line(ctx, index)
        if status:
            lines.append(status)
    if demand > 0:
        what = "必要額" if req.need is not None else "予定の走行のうち還元額が使える"
        if shortfall == 0:
            lines.append(f"{what}{demand:,}円は、すべて還元額で払えます。")
        else:
            lines.append(
                f"ポイントが足りず、{demand:,}円のうち{shortfall:,}円は還元額で払えません（カード請求）。"
            )
    after = f"計画後の還元額は{outcome.rebate_after:,}円です"
    forgone = _forgone(ctx, outcome.rebate_after)
    if outcome.rebate_after > 0 and forgone > 0:
        after += f"（今後の通行に充当されると、その分約{forgone:,}Pが付きません）"
    lines.append(after + "。")
    if outcome.points_lost:
        lines.append(f"この計画でも{outcome.points_lost:,}Pが失効します。")
    return tuple(lines)


def alternative_reason(best: Outcome, alt: Outcome, ctx: Context, *, margin: int = 0) -> str:
    """Why ``alt`` was rejected, from the figures."""
    parts: list[str] = []
    if alt.covered < best.covered:
        parts.append(f"還元額で払える額が{best.covered - alt.covered:,}円少ない")
    if alt.points_lost > best.points_lost:
        parts.append(f"失効が{alt.points_lost - best.points_lost:,}P多い")
    if alt.value < best.value:
        parts.append(f"見込み価値が{best.value - alt.value:,}円低い")
    extra_rebate = alt.rebate_after - best.rebate_after
    if extra_rebate > 0:
        forgone = _forgone(ctx, extra_rebate)
        text = f"還元額が{extra_rebate:,}円多く余る"
        if forgone:
            text += f"（その分約{forgone:,}Pが付かない）"
        parts.append(text)
    if parts:
        text = "、".join(parts) + "。"
        if alt.value > best.value:
            aim = "予定の走行に還元額を充てること" if ctx.request.trips else "必要額"
            text += f"見込み価値は{alt.value - best.value:,}円高いものの、{aim}を優先しました。"
        return text
    if margin and alt.rebate_after < best.rebate_after:
        return "余裕がないため、料金が見積りより少し高いだけで足りなくなります。"
    first_best = min((e.at for e in best.exchanges), default=None)
    first_alt = min((e.at for e in alt.exchanges), default=None)
    if first_alt is not None and (first_best is None or first_alt < first_best):
        return "結果は同じですが、交換は走行の直前まで待てば、予定が変わっても還元額が余りません。"
    return "見込みは同等です。"


def alternative_label(exchanges: Sequence[PlannedExchange], pools: Sequence[PoolState]) -> str:
    """``NEXCOで1,000P→500円×3`` for the first day's exchanges of an alternative."""
    if not exchanges:
        return "交換しない"
    by_key = {p.pool: p for p in pools}
    return "、".join(exchange_text(ex, by_key[ex.pool]) for ex in exchanges)


def make_alternative(
    label: str, outcome: Outcome, best: Outcome, ctx: Context, *, demand: int, margin: int = 0
) -> Alternative:
    """An alternative's record."""
    return Alternative(
        label=label,
        exchanges=outcome.exchanges,
        points=outcome.points,
        yen=outcome.yen,
        covered=outcome.covered,
        shortfall=demand - outcome.covered,
        rebate_after=outcome.rebate_after,
        points_lost=outcome.points_lost,
        value=outcome.value,
        reason=alternative_reason(best, outcome, ctx, margin=margin),
    )
