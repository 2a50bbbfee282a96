"""Property: inserting passage rows (a bare －) anywhere into a valid 明細CSV changes no money
figure anywhere: points, rebate, billed amounts, totals, claims, reconciliation.

Each money view the store offers is one function of :data:`MONEY_FIGURES`; a new view that
shows money adds its function there and is covered too (the journal export is).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from meisai_helpers import HEADER_13, HEADER_15, meisai
from sqlalchemy import Connection, text

from etcbook.models.imports import import_files
from etcbook.models.store import Store, open_store

AS_OF = dt.date(2026, 3, 31)
CARDS = ("*******900000042", "********90000077")
CHARGED_GATES = (
    ("静岡", "浜松"),  # no rule: nexco, a guess
    ("吹田", "京都東"),  # nexco
    ("鴨川東", "山科"),  # 阪神高速 8号京都線
    ("東新町", "黒川"),  # 名古屋高速
    ("首都横浜青葉", "岸谷生麦下"),  # 首都高: no points, no rebate
    ("玉出", ""),  # a charge at an entry gate (阪神高速)
    ("", "本線料金所"),  # a single mainline gate
)
PASSAGE_GATES = (
    ("", "（上り）湾岸線本線"),
    ("京都東", "京田辺本線"),
    ("池田（本線）入", "南港中出"),
    ("", "門真本線"),
    ("八幡東", "若戸"),
)


def _when(minute: int) -> dt.datetime:
    return dt.datetime(2025, 9, 1, 6, 0) + dt.timedelta(minutes=minute)


@st.composite
def charged_rows(draw: st.DrawFn) -> list[tuple[str, ...]]:
    """A few charged rows: (card, entry, exit, entry IC, exit IC, toll, rebate, status) as
    cells ready to write (15 columns)."""
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        entry_ic, exit_ic = draw(st.sampled_from(CHARGED_GATES))
        start = draw(st.integers(0, 60 * 24 * 75))  # September to mid-November
        end = start + draw(st.integers(0, 180))
        toll = draw(st.integers(100, 9000))
        rebate = draw(st.sampled_from([0, 0, min(500, toll)]))
        rows.append(
            (
                draw(st.sampled_from(CARDS)),
                _when(start).strftime("%y/%m/%d,%H:%M") if entry_ic else ",",
                _when(end).strftime("%y/%m/%d,%H:%M") if exit_ic else ",",
                entry_ic,
                exit_ic,
                str(toll),
                str(rebate),
                str(toll - rebate),
                draw(st.sampled_from(["確定", "確認中", "確定;（朝夕）"])),
            )
        )
    return rows


@st.composite
def passage_rows(draw: st.DrawFn) -> list[tuple[int, tuple[str, ...]]]:
    """Passage rows with the position (index among the charged rows) they go before."""
    found = []
    for _ in range(draw(st.integers(1, 6))):
        entry_ic, exit_ic = draw(st.sampled_from(PASSAGE_GATES))
        start = draw(st.integers(0, 60 * 24 * 75))
        end = start + draw(st.integers(0, 60))
        found.append(
            (
                draw(st.integers(0, 8)),
                (
                    draw(st.sampled_from(CARDS)),
                    _when(start).strftime("%y/%m/%d,%H:%M") if entry_ic else ",",
                    _when(end).strftime("%y/%m/%d,%H:%M"),
                    entry_ic,
                    exit_ic,
                    "－",
                    "－",
                    "－",
                    draw(st.sampled_from(["確定", "確認中", ""])),
                ),
            )
        )
    return found


def _line(row: tuple[str, ...], columns: int) -> str:
    card, entry, exit_, entry_ic, exit_ic, toll, rebate, deferred, remarks = row
    amounts = [toll, rebate, deferred] if columns == 15 else [toll]
    return ",".join([entry, exit_, entry_ic, exit_ic, "", "", *amounts, "2", "0042", card, remarks])


def _file(rows: list[tuple[str, ...]], columns: int) -> bytes:
    header = HEADER_15 if columns == 15 else HEADER_13
    return meisai([_line(r, columns) for r in rows], header=header)


# --- the money views ---------------------------------------------------------------------------


def _status(connection: Connection, store: Store, cards: list[str]) -> object:
    from etcbook.models.mileage_inputs import card_states

    return [
        (
            s.card,
            s.rebate_balance,
            s.points_lost_total,
            {k: (p.points, p.pending_points) for k, p in s.pools.items()},
            [(r.trip_id, r.rebate_applied, r.billed, r.points) for r in s.trip_results],
            s.pending_rebate,
        )
        for s in card_states(connection=connection, as_of=AS_OF, last4=cards)
    ]


def _trip_totals(connection: Connection, store: Store, cards: list[str]) -> object:
    from etcbook.models.ui_queries import TripQuery, monthly_tolls, trip_totals

    return (
        trip_totals(connection=connection, query=TripQuery()),
        monthly_tolls(connection=connection, month_from="2025-08", month_to="2025-12"),
    )


def _claims(connection: Connection, store: Store, cards: list[str]) -> object:
    from etcbook.models.claims import claim_from_store

    found = []
    for last4 in cards:
        claim, _ = claim_from_store(
            store=store,
            card=last4,
            date_from=dt.date(2025, 8, 1),
            date_to=dt.date(2025, 12, 31),
            prepared_on=AS_OF,
        )
        found.append((claim.totals, claim.lines))
    return found


def _reconciliation(connection: Connection, store: Store, cards: list[str]) -> object:
    from etcbook.models.reconcile_facts import reconcile_month

    return [
        reconcile_month(connection=connection, card=last4, month=month, as_of=AS_OF).result
        for last4 in cards
        for month in (dt.date(2025, 9, 1), dt.date(2025, 10, 1), dt.date(2025, 11, 1))
    ]


def _journal(connection: Connection, store: Store, cards: list[str]) -> object:
    """The 仕訳 entries a journal export would write for each card over the files' period."""
    from etcbook.export.journal import JournalFormat, Product
    from etcbook.models.journal import JournalRequest, prepare_journal

    found = []
    for last4 in cards:
        booking = prepare_journal(
            store=store,
            request=JournalRequest(
                fmt=JournalFormat(Product.YAYOI),
                card=last4,
                date_from=dt.date(2025, 8, 1),
                date_to=dt.date(2025, 12, 31),
                include_provisional=True,
            ),
        )
        entries = [
            (e.trip_id, e.date, e.claimed, e.rebate_part, e.reversed, e.debit_total)
            for e in booking.entries
        ]
        found.append((booking.total, entries, [s.trip_id for s in booking.skipped]))
    return found


MONEY_FIGURES: list[Callable[[Connection, Store, list[str]], object]] = [
    _status,
    _trip_totals,
    _claims,
    _reconciliation,
    _journal,
]


def cards_of(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return list(connection.execute(text("SELECT last4 FROM cards ORDER BY last4")).scalars())


def money_figures(store: Store, cards: list[str]) -> list[object]:
    """Every money figure of ``cards`` (the cards of the file without passages: a passage of
    a card with no charged row creates that card, with nothing on it)."""
    with store.engine.connect() as connection:
        return [figures(connection, store, cards) for figures in MONEY_FIGURES]


# --- the property -------------------------------------------------------------------------------


def _imported(template: Path, folder: Path, name: str, data: bytes) -> Store:
    folder.mkdir()
    shutil.copyfile(template, folder / "store.sqlite3")
    store = open_store(folder / "store.sqlite3")
    path = folder / name
    path.write_bytes(data)
    result = import_files(store, [path])
    assert result.ok and result.committed, result.to_json()
    with store.transaction() as connection:  # every trip on the claim, as a business trip
        connection.execute(text("UPDATE trips SET business_share = 100, purpose = '営業'"))
    return store


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(charged=charged_rows(), passages=passage_rows(), columns=st.sampled_from([13, 15]))
def test_passage_rows_anywhere_change_no_money_figure(
    tmp_path_factory: Any,
    charged: list[tuple[str, ...]],
    passages: list[tuple[int, tuple[str, ...]]],
    columns: int,
) -> None:
    folder = tmp_path_factory.mktemp("property")
    template = folder / "template.sqlite3"
    open_store(template).close()
    with_passages = list(charged)
    for position, row in sorted(passages, key=lambda p: -p[0]):
        with_passages.insert(min(position, len(with_passages)), row)

    plain = _imported(template, folder / "plain", "plain.csv", _file(charged, columns))
    mixed = _imported(template, folder / "mixed", "mixed.csv", _file(with_passages, columns))
    try:
        cards = cards_of(plain)
        assert money_figures(mixed, cards) == money_figures(plain, cards)
        with mixed.engine.connect() as connection:
            stored = connection.execute(text("SELECT count(*) FROM passages")).scalar()
            extra = set(cards_of(mixed)) - set(cards)
            assert extra.isdisjoint(
                connection.execute(
                    text("SELECT c.last4 FROM trips t JOIN cards c ON c.id = t.card_id")
                ).scalars()
            )
        assert stored == len(passages)  # every passage row is kept
    finally:
        plain.close()
        mixed.close()
