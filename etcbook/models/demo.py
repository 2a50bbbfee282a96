"""A realistic, deterministic sample store: one household's two cards and one corporate card.

The trips are written as real-format 明細CSV files (cp932) and imported through the importer,
so the sample also shows route rules at work: 阪神高速京都線, 名古屋高速 and 首都高 exits are
recognised by rules, and a commuting route is marked for 平日朝夕割引.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from etcbook import clock
from etcbook.models.dialect import as_datetime
from etcbook.models.imports import import_files
from etcbook.models.store import Store

FIRST_MONTH = dt.date(2025, 5, 1)
MONTHS = 18
"""Trips from May 2025 to October 2026."""

SAMPLE_ISSUER = "サンプルカード株式会社"
KEPT_FROM = dt.date(2025, 11, 1)
"""The first month whose originals the sample's users kept in the vault."""
CERTIFICATE_GAP = dt.date(2026, 9, 1)
"""The corporate card's one month without its 利用証明書, for the missing-months view."""

HEADER_13 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,車種,車両番号,ＥＴＣカード番号,備考"
)
HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)

CARDS = (
    {
        "last4": "1234",
        "holder": "山田太郎",
        "driver": "山田太郎",
        "kind": "credit",
        "expires": "2027-03",
        "mileage_id": "M0012345678",
        "login_id": "yamada.taro",
        "last_login_on": dt.date(2026, 10, 3),
        "obu_number": "1234567890123456789",
        "plate": "品川 300 あ 12-34",
        "household": "山田家",
        "auto_exchange": False,
    },
    {
        "last4": "5678",
        "holder": "山田花子",
        "driver": "山田花子",
        "kind": "credit",
        "expires": "2026-12",
        "mileage_id": "M0012345678",
        "login_id": "yamada.hanako",
        "last_login_on": dt.date(2025, 9, 14),
        "obu_number": "1234567890123456789",
        "plate": "品川 300 あ 12-34",
        "household": "山田家",
        "auto_exchange": True,
    },
    {
        "last4": "9012",
        "holder": "株式会社みなと物流",
        "driver": "佐藤一郎",
        "kind": "corporate",
        "expires": "2028-06",
        "mileage_id": "M0098765432",
        "login_id": "minato-logi-01",
        "last_login_on": dt.date(2026, 11, 2),
        "obu_number": "9876543210987654321",
        "plate": "横浜 100 さ 56-78",
        "household": "株式会社みなと物流",
        "auto_exchange": False,
    },
)

ROUTE_RULES = (
    # (entry pattern, exit pattern, operator, morning/evening eligible)
    (None, "上鳥羽", "hanshin_kyoto", None),
    (None, "鴨川東", "hanshin_kyoto", None),
    (None, "山科", "hanshin_kyoto", None),
    (None, "東新町", "nagoya", None),
    (None, "高針", "nagoya", None),
    (None, "楠", "nagoya", None),
    (None, "霞が関", "shutoko", None),
    (None, "箱崎", "shutoko", None),
    (None, "首都高本線", "shutoko", None),
    ("厚木", "横浜町田", None, True),
    ("横浜町田", "厚木", None, True),
)

NEXCO_ROUTES = (
    ("横浜町田", "御殿場", 1990),
    ("東京", "静岡", 4300),
    ("厚木", "浜松", 4610),
    ("名古屋", "京都東", 3340),
    ("吹田", "岡山", 3910),
    ("高崎", "前橋", 420),
    ("東京", "高崎", 2640),
    ("一宮", "小牧", 510),
    ("仙台宮城", "松島海岸", 730),
    ("静岡", "名古屋", 3810),
)
BUSINESS_PURPOSES = (
    "顧客訪問（港南商事）",
    "倉庫点検（厚木）",
    "納品立会い",
    "営業会議（名古屋支店）",
    "展示会設営",
)


@dataclass(frozen=True)
class _Row:
    entry_at: dt.datetime | None
    exit_at: dt.datetime
    entry_ic: str
    exit_ic: str
    before: int | None
    discount: int | None
    toll: int
    remarks: str


def _months() -> list[dt.date]:
    out = []
    year, month = FIRST_MONTH.year, FIRST_MONTH.month
    for _ in range(MONTHS):
        out.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _days(month: dt.date) -> list[dt.date]:
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return [month + dt.timedelta(days=i) for i in range((nxt - month).days)]


def _trip(
    rng: random.Random,
    day: dt.date,
    start_hour: int,
    entry: str,
    exit_: str,
    toll: int,
    minutes: int,
    remarks: str = "",
) -> _Row:
    entry_at = dt.datetime.combine(day, dt.time(start_hour, rng.randrange(0, 60)))
    exit_at = entry_at + dt.timedelta(minutes=minutes)
    before = discount = None
    if remarks in ("深夜割引", "休日割引"):
        before = toll
        discount = -(toll * 3 // 10 // 10 * 10)
        toll = before + discount
    return _Row(entry_at, exit_at, entry, exit_, before, discount, toll, remarks)


def _household_rows(rng: random.Random, month: dt.date, commuter: bool) -> list[_Row]:
    rows: list[_Row] = []
    for day in _days(month):
        weekday = day.weekday() < 5
        if commuter and weekday and rng.random() < 0.55:
            rows.append(_trip(rng, day, 7, "厚木", "横浜町田", 930, 35))
            if rng.random() < 0.7:
                rows.append(_trip(rng, day, 18, "横浜町田", "厚木", 930, 40))
        if not weekday and rng.random() < 0.35:
            entry, exit_, toll = rng.choice(NEXCO_ROUTES)
            rows.append(_trip(rng, day, rng.randrange(8, 15), entry, exit_, toll, 90, "休日割引"))
        if rng.random() < 0.06:
            rows.append(
                _trip(
                    rng,
                    day,
                    rng.randrange(10, 16),
                    "上鳥羽",
                    rng.choice(["鴨川東", "山科"]),
                    rng.choice([360, 460, 560]),
                    20,
                )
            )
        if rng.random() < 0.03:
            rows.append(
                _Row(
                    None,
                    dt.datetime.combine(day, dt.time(rng.randrange(9, 18), 5)),
                    "",
                    "首都高本線",
                    None,
                    None,
                    rng.choice([650, 980, 1320]),
                    "",
                )
            )
    return rows


def _corporate_rows(rng: random.Random, month: dt.date) -> list[_Row]:
    rows: list[_Row] = []
    for day in _days(month):
        if day.weekday() >= 5 or rng.random() < 0.45:
            continue
        entry, exit_, toll = rng.choice(NEXCO_ROUTES)
        rows.append(_trip(rng, day, rng.randrange(9, 15), entry, exit_, toll, 100))
        if rng.random() < 0.25:
            rows.append(
                _trip(
                    rng,
                    day,
                    16,
                    "名古屋",
                    rng.choice(["東新町", "高針", "楠"]),
                    rng.choice([510, 770, 1020]),
                    25,
                )
            )
        if rng.random() < 0.2:
            rows.append(
                _trip(
                    rng,
                    day,
                    11,
                    "東京",
                    rng.choice(["霞が関", "箱崎"]),
                    rng.choice([700, 1320, 1950]),
                    20,
                )
            )
        if rng.random() < 0.05:
            rows.append(_trip(rng, day, 23, "静岡", "東京", 4300, 120, "深夜割引"))
    return rows


def _write_csv(
    path: Path,
    last4: str,
    rows: list[_Row],
    *,
    cutoff: dt.date,
    rebate: dict[tuple[dt.datetime, str], int] | None = None,
) -> None:
    """Write rows as a 13-column file, or as a 15-column one when ``rebate`` gives each trip's
    還元額適用料金 (keyed by exit time and exit IC)."""
    fifteen = rebate is not None
    lines = [HEADER_15 if fifteen else HEADER_13]
    card = "*" * 12 + last4
    for r in sorted(rows, key=lambda r: r.exit_at):
        entry_d = r.entry_at.strftime("%y/%m/%d") if r.entry_at else ""
        entry_t = r.entry_at.strftime("%H:%M") if r.entry_at else ""
        amounts = [
            str(r.before) if r.before else "",
            str(r.discount) if r.discount else "",
            str(r.toll),
        ]
        if rebate is not None:
            applied = rebate.get((r.exit_at, r.exit_ic), 0)
            amounts += [str(applied), str(r.toll - applied)]
            status = "確認中" if r.exit_at.date() >= cutoff else "確定"
            remarks = ";".join(p for p in (status, r.remarks) if p)
        else:
            remarks = r.remarks
        lines.append(
            ",".join(
                [
                    entry_d,
                    entry_t,
                    r.exit_at.strftime("%y/%m/%d"),
                    r.exit_at.strftime("%H:%M"),
                    r.entry_ic,
                    r.exit_ic,
                    *amounts,
                    "1",
                    "" if not r.entry_at else "1234",
                    card,
                    remarks,
                ]
            )
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))


def _simulated_rebate(store: Store) -> dict[tuple[dt.datetime, str], int]:
    """Card 1234's rebate applied per trip, as the mileage engine replays it."""
    from etcbook.models.mileage_inputs import trip_results_for

    with store.engine.connect() as connection:
        results = trip_results_for(
            connection=connection, last4=["1234"], as_of=dt.date(2026, 11, 1)
        )
        trips = connection.execute(
            text(
                "SELECT t.id, t.exit_at, t.exit_ic FROM trips t JOIN cards c ON c.id = t.card_id"
                " WHERE c.last4 = '1234'"
            )
        ).all()
    return {
        (as_datetime(exit_at), exit_ic): results[trip_id].rebate_applied
        for trip_id, exit_at, exit_ic in trips
        if trip_id in results
    }


def fill_demo(store: Store) -> dict[str, int]:
    """Fill an empty store with the sample; returns counts. Refuses a store that has trips."""
    with store.engine.connect() as connection:
        if connection.execute(text("SELECT EXISTS (SELECT 1 FROM trips)")).scalar():
            raise ValueError(
                "このストアにはすでに走行があります。サンプルは空のストアにだけ作れます。"
            )
    now = clock.now()
    with store.transaction() as connection:
        for card in CARDS:
            exists = connection.execute(
                text("SELECT id FROM cards WHERE last4 = :last4"), {"last4": card["last4"]}
            ).scalar()
            if exists:
                continue
            connection.execute(
                text(
                    "INSERT INTO cards (last4, holder, driver, kind, expires, mileage_id, login_id,"
                    " last_login_on, obu_number, plate, household, auto_exchange, status, notes,"
                    " created_at) VALUES (:last4, :holder, :driver, :kind, :expires, :mileage_id,"
                    " :login_id, :last_login_on, :obu_number, :plate, :household, :auto_exchange,"
                    " 'active', 'サンプル', :created_at)"
                ),
                {**card, "created_at": now.isoformat()},
            )
        for entry, exit_, operator, morning_evening in ROUTE_RULES:
            connection.execute(
                text(
                    "INSERT INTO route_rules (entry_pattern, exit_pattern, operator, morning_evening,"
                    " created_at) VALUES (:e, :x, :o, :m, :c)"
                ),
                {"e": entry, "x": exit_, "o": operator, "m": morning_evening, "c": now.isoformat()},
            )
    rng = random.Random(20251)
    months = _months()
    cutoff = months[-1] + dt.timedelta(days=20)
    with tempfile.TemporaryDirectory(prefix="etcbook-demo-") as folder:
        files = []
        latest_rows: list[_Row] = []
        for month in months:
            for last4, rows in (
                ("1234", _household_rows(rng, month, commuter=True)),
                ("5678", _household_rows(rng, month, commuter=False)),
                ("9012", _corporate_rows(rng, month)),
            ):
                path = Path(folder) / f"meisai_{last4}_{month:%Y%m}.csv"
                _write_csv(path, last4, rows, cutoff=cutoff)
                files.append(path)
                if last4 == "1234" and month == months[-1]:
                    latest_rows = rows
        result = import_files(store, files)
        if not result.ok:  # the sample is generated by this module: a failure is a bug
            raise RuntimeError(f"sample import failed: {result.to_json()}")
        # The latest month as the site now offers it: the 15-column file with 確定/確認中 and
        # the 還元額適用料金 the engine computes, so re-importing it fills in those figures.
        latest = Path(folder) / f"meisai_1234_{months[-1]:%Y%m}_15col.csv"
        _write_csv(latest, "1234", latest_rows, cutoff=cutoff, rebate=_simulated_rebate(store))
        again = import_files(store, [latest])
        if not again.ok:
            raise RuntimeError(f"sample import failed: {again.to_json()}")
        documents = _add_documents(store, Path(folder), months, latest)
    with store.transaction() as connection:
        corporate = (
            connection.execute(
                text(
                    "SELECT t.id FROM trips t JOIN cards c ON c.id = t.card_id"
                    " WHERE c.last4 = '9012' ORDER BY t.exit_at, t.id"
                )
            )
            .scalars()
            .all()
        )
        for trip_id in corporate:
            if rng.random() < 0.85:
                share = 100 if rng.random() < 0.8 else 80
                connection.execute(
                    text(
                        "UPDATE trips SET purpose = :p, business_share = :s, department = :d WHERE id = :i"
                    ),
                    {"p": rng.choice(BUSINESS_PURPOSES), "s": share, "d": "物流2課", "i": trip_id},
                )
        household = (
            connection.execute(
                text(
                    "SELECT t.id FROM trips t JOIN cards c ON c.id = t.card_id"
                    " WHERE c.last4 = '1234' AND t.operator = 'nexco' AND NOT t.morning_evening"
                    " ORDER BY t.exit_at, t.id"
                )
            )
            .scalars()
            .all()
        )
        for trip_id in household[::9]:
            connection.execute(
                text(
                    "UPDATE trips SET purpose = '出張（社用）', business_share = 100 WHERE id = :i"
                ),
                {"i": trip_id},
            )
    return {
        "cards": len(CARDS),
        "trips": result.inserted,
        "files": len(files),
        "documents": documents,
    }


def _add_documents(store: Store, folder: Path, months: list[dt.date], latest_1234: Path) -> int:
    """Keep originals in the sample's vault, as its users would have; returns how many.

    The corporate card (9012) has every month's 明細CSV, and from ``KEPT_FROM`` its statements
    and certificates but one (``CERTIFICATE_GAP``). Card 1234 has its statements from
    ``KEPT_FROM`` and the latest month's CSV in two versions (13 columns, then 15). Card 5678
    has none, so the dashboard shows what a card without originals looks like.
    """
    from etcbook.export.sample_documents import (
        SITE,
        SampleLine,
        certificate_date,
        certificate_pdf_bytes,
        statement_date,
        statement_pdf_bytes,
    )
    from etcbook.models.mileage_inputs import trip_results_for
    from etcbook.models.vault import add_document

    holders = {card["last4"]: str(card["holder"]) for card in CARDS}
    with store.engine.connect() as connection:
        results = trip_results_for(
            connection=connection, last4=["1234", "9012"], as_of=months[-1] + dt.timedelta(days=60)
        )
        trips = connection.execute(
            text(
                "SELECT t.id, c.last4, t.exit_at, t.entry_ic, t.exit_ic, t.toll FROM trips t"
                " JOIN cards c ON c.id = t.card_id WHERE c.last4 IN ('1234', '9012')"
            )
        ).all()
    billed: dict[tuple[str, str], list[SampleLine]] = {}
    tolls: dict[tuple[str, str], list[SampleLine]] = {}
    for trip_id, last4, exit_at, entry_ic, exit_ic, toll in trips:
        at = as_datetime(exit_at)
        key = (last4, exit_at[:7])
        tolls.setdefault(key, []).append(SampleLine(at, entry_ic or "", exit_ic, toll))
        billed.setdefault(key, []).append(
            SampleLine(at, entry_ic or "", exit_ic, results[trip_id].billed)
        )

    def add(
        source: Path,
        kind: str,
        last4: str,
        month: dt.date,
        *,
        counterparty: str = SITE,
        date: dt.date | None = None,
        lines: list[SampleLine] | None = None,
    ) -> None:
        add_document(
            store=store,
            source=source,
            kind=kind,
            card=last4,
            month=f"{month:%Y-%m}",
            date=date,
            amount=None if lines is None else sum(line.amount for line in lines),
            counterparty=counterparty,
            user="サンプル",
        )

    count = 0
    for month in months:
        add(folder / f"meisai_9012_{month:%Y%m}.csv", "detail_csv", "9012", month)
        count += 1
        if month < KEPT_FROM:
            continue
        for last4 in ("1234", "9012"):
            lines = billed.get((last4, f"{month:%Y-%m}"), [])
            source = folder / f"ご利用代金明細書_{last4}_{month:%Y%m}.pdf"
            pdf = statement_pdf_bytes(
                card_last4=last4,
                holder=holders[last4],
                issuer=SAMPLE_ISSUER,
                month=month,
                lines=lines,
            )
            source.write_bytes(pdf)
            add(
                source,
                "statement",
                last4,
                month,
                counterparty=SAMPLE_ISSUER,
                date=statement_date(month),
                lines=lines,
            )
            count += 1
        if month != CERTIFICATE_GAP:
            lines = tolls.get(("9012", f"{month:%Y-%m}"), [])
            source = folder / f"利用証明書_9012_{month:%Y%m}.pdf"
            pdf = certificate_pdf_bytes(
                card_last4="9012", holder=holders["9012"], month=month, lines=lines
            )
            source.write_bytes(pdf)
            add(source, "certificate", "9012", month, date=certificate_date(month), lines=lines)
            count += 1
    for source in (folder / f"meisai_1234_{months[-1]:%Y%m}.csv", latest_1234):
        add(source, "detail_csv", "1234", months[-1])
        count += 1
    return count
