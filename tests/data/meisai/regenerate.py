"""Writes the golden 明細CSV files in this folder and, with ``--expected``, their expected JSON.

The CSV files are written from the text below, byte for byte (cp932 or UTF-8, CRLF); they are
committed, and the tests read the committed bytes. The expected JSON beside each file is what
the parser and ``trips --json`` must produce; ``--expected`` recomputes it from the current
code, for a human to review in the diff before committing. Tests never call this script.

    python tests/data/meisai/regenerate.py              # rewrite the CSV/PDF/XLSX inputs
    python tests/data/meisai/regenerate.py --expected   # also rewrite *.expected.json
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent

HEADER_13 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,車種,車両番号,ＥＴＣカード番号,備考"
)
HEADER_15 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)

# 15 columns, as downloaded: cp932, no quoting, CRLF, not sorted. Line numbers in comments.
ROWS_15 = [
    # 2: negative discount, 経路割引
    "24/11/05,08:54,24/11/05,10:51,静岡,仙台宮城,5730,-1150,4580,0,4580,1,1234,*******123456789,確定;経路割引",
    # 3: 髙 in an IC name, （朝夕）, part paid by rebate
    "24/11/04,06:18,24/11/04,08:40,髙崎,小牧,2190,-660,1530,300,1230,1,1234,*******123456789,確定;（朝夕）",
    # 4: a single mainline gate: entry date, time and IC blank; no vehicle number
    ",,24/11/03,08:05,,本線料金所,,,410,0,410,1,,*******123456789,確定",
    # 5: full-width minus, 確認中;深夜割引, crosses midnight
    "24/11/11,23:57,24/11/12,00:27,浜松,京都東,1520,－460,1060,0,1060,1,1234,*******123456789,確認中;深夜割引",
    # 6 and 7: two genuinely identical rows; ① in an IC name; another mask length
    "24/11/07,10:08,24/11/07,10:54,大宮①,神戸西,,,3740,0,3740,2,0815,********12345678,確定",
    "24/11/07,10:08,24/11/07,10:54,大宮①,神戸西,,,3740,0,3740,2,0815,********12345678,確定",
    # 8: an adjustment row with a negative toll
    "24/11/20,09:10,24/11/20,10:05,厚木,横浜町田,,,-1050,0,-1050,1,1234,*******123456789,確定",
    # 9: a full 16-digit card number (kept as its last 4 only); exit in the next month
    "24/10/31,23:40,24/11/01,00:20,髙松中央,善通寺,,,1100,0,1100,1,1234,4980123456780042,確定;深夜割引",
    # 10: paid entirely by rebate, （朝夕）
    "24/11/06,18:36,24/11/06,20:13,前橋,横浜町田,,,1000,1000,0,1,1234,*******123456789,確定;（朝夕）",
    # 11: 確認中 without flags
    "24/11/02,17:22,24/11/02,19:49,高崎,厚木,4690,-940,3750,0,3750,1,1234,*******123456789,確認中",
]

# The later, overlapping download: lines 5 and 11 of ROWS_15 are now 確定, one with new amounts;
# the rest repeat, and two new trips follow.
ROWS_15_LATER = [
    "24/11/05,08:54,24/11/05,10:51,静岡,仙台宮城,5730,-1150,4580,0,4580,1,1234,*******123456789,確定;経路割引",
    "24/11/04,06:18,24/11/04,08:40,髙崎,小牧,2190,-660,1530,300,1230,1,1234,*******123456789,確定;（朝夕）",
    ",,24/11/03,08:05,,本線料金所,,,410,0,410,1,,*******123456789,確定",
    "24/11/11,23:57,24/11/12,00:27,浜松,京都東,1520,-460,1060,500,560,1,1234,*******123456789,確定;深夜割引",
    "24/11/07,10:08,24/11/07,10:54,大宮①,神戸西,,,3740,0,3740,2,0815,********12345678,確定",
    "24/11/07,10:08,24/11/07,10:54,大宮①,神戸西,,,3740,0,3740,2,0815,********12345678,確定",
    "24/11/20,09:10,24/11/20,10:05,厚木,横浜町田,,,-1050,0,-1050,1,1234,*******123456789,確定",
    "24/10/31,23:40,24/11/01,00:20,髙松中央,善通寺,,,1100,0,1100,1,1234,4980123456780042,確定;深夜割引",
    "24/11/06,18:36,24/11/06,20:13,前橋,横浜町田,,,1000,1000,0,1,1234,*******123456789,確定;（朝夕）",
    "24/11/02,17:22,24/11/02,19:49,高崎,厚木,4690,-1400,3290,0,3290,1,1234,*******123456789,確定;休日割引",
    "24/11/25,07:40,24/11/25,08:15,厚木,横浜町田,,,930,0,930,1,1234,*******123456789,確認中;（朝夕）",
    "24/11/26,12:00,24/11/26,13:10,東京,静岡,4300,-1290,3010,0,3010,1,1234,*******123456789,確認中",
]

# 13 columns: 備考 holds discount names only (no status).
ROWS_13 = [
    "24/10/02,23:54,24/10/03,00:18,宝塚,広島,2290,-460,1830,1,1234,*******123456789,経路割引",
    "24/10/04,11:07,24/10/04,12:43,仙台宮城,名古屋,,,2570,1,1234,*******123456789,深夜割引",
    ",,24/10/12,08:05,,本線料金所,,,410,1,,*******123456789,",
    "24/10/10,20:49,24/10/10,21:47,仙台港北,京都東,2000,－600,1400,1,1234,*******123456789,休日割引",
    "24/10/07,18:45,24/10/07,20:25,松島海岸,御殿場,,,5050,1,1234,*******123456789,",
    "24/10/07,18:45,24/10/07,20:25,松島海岸,御殿場,,,5050,1,1234,*******123456789,",
    "24/10/15,06:45,24/10/15,08:26,厚木,横浜町田,,,930,1,1234,********12345678,",
    "24/10/20,10:00,24/10/20,10:30,髙崎,前橋,,,-420,1,1234,*******123456789,",
]

# The 13-column rows with the columns in another order (mapped by header name).
ORDER_13 = [11, 12, 5, 4, 8, 7, 6, 2, 3, 0, 1, 9, 10]


def _reorder(line: str) -> str:
    cells = line.split(",")
    return ",".join(cells[i] for i in ORDER_13)


def _spreadsheet(line: str) -> str:
    """What a spreadsheet makes of a row on re-saving: 4-digit years, H:MM, quoted text."""
    cells = line.split(",")
    out = []
    for i, cell in enumerate(cells):
        if i in (0, 2) and cell:
            cell = "20" + cell
        elif i in (1, 3) and cell:
            cell = str(int(cell[:2])) + cell[2:]
        elif i == 12 and cell:
            cell = str(int(cell))  # a leading zero is lost (0815 -> 815)
        if i in (4, 5, 13, 14) and cell:
            cell = f'"{cell}"'
        out.append(cell)
    return ",".join(out)


BAD_15 = [
    # 2: fine
    "24/11/05,08:54,24/11/05,10:51,静岡,仙台宮城,5730,-1150,4580,0,4580,1,1234,*******123456789,確定",
    # 3: a day that does not exist
    "25/02/28,22:00,25/02/30,23:00,静岡,浜松,,,1000,0,1000,1,1234,*******123456789,確定",
    # 4: an amount that is not an integer of yen
    "24/11/05,09:00,24/11/05,10:00,静岡,浜松,,,1e9,0,1e9,1,1234,*******123456789,確定",
    # 5: a column missing
    "24/11/05,09:00,24/11/05,10:00,静岡,浜松,,,1000,0,1000,1,*******123456789,確定",
    # 6: blank exit IC
    "24/11/05,09:00,24/11/05,10:00,静岡,,,,1000,0,1000,1,1234,*******123456789,確定",
    # 7: a card number without its last 4 digits
    "24/11/05,09:00,24/11/05,10:00,静岡,浜松,,,1000,0,1000,1,1234,****************,確定",
    # 8: fine
    "24/11/06,09:00,24/11/06,10:00,静岡,浜松,,,1000,0,1000,1,1234,*******123456789,確定",
    # 9: entry date without entry time
    "24/11/05,,24/11/05,10:00,静岡,浜松,,,1000,0,1000,1,1234,*******123456789,確定",
    # 10: a time that does not exist
    "24/11/05,09:00,24/11/05,24:30,静岡,浜松,,,1000,0,1000,1,1234,*******123456789,確定",
    # 11: blank toll
    "24/11/05,09:00,24/11/05,10:00,静岡,浜松,,,,0,,1,1234,*******123456789,確定",
]
# Shapes of real downloads (docs/MEISAI_FORMAT.md); the golden tests are named after them.

# Passage rows, 13 columns: 通行料金 a bare －, 割引前料金 and ＥＴＣ割引額 blank.
PASSAGES_13 = [
    # 2: a charged trip of the card
    "25/10/06,08:05,25/10/06,08:41,吹田,京都東,,,1070,2,7301,*******126040042,",
    # 3: a passage at a mainline gate (entry blank, （上り） before the name), inside line 4's trip
    "25/10/06,09:02,25/10/06,09:02,,（上り）湾岸線本線,,,－,2,7301,*******126040042,",
    # 4: the journey's through-charged row
    "25/10/06,08:50,25/10/06,09:20,西宮,（上り）湾岸線本線,1900,-190,1710,2,7301,*******126040042,ＥＴＣ通常",
    # 5: a passage sharing its entry (gate and time) with line 6: （本線）入 and 出 decorations
    "25/10/07,10:00,25/10/07,10:20,池田（本線）入,南港中出,,,－,2,7301,*******126040042,",
    # 6: the charged row of that journey
    "25/10/07,10:00,25/10/07,10:41,池田（本線）入,玉出,,,1320,2,7301,*******126040042,",
    # 7 and 8: the same passage twice (genuinely repeated), no trip to link: stays unlinked
    "25/10/08,18:20,25/10/08,18:20,,名古屋本線（出）,,,－,2,7301,*******126040077,",
    "25/10/08,18:20,25/10/08,18:20,,名古屋本線（出）,,,－,2,7301,*******126040077,",
    # 9: a trip of the other card
    "25/10/09,06:40,25/10/09,07:25,厚木,東京,,,1320,2,7301,*******126040077,",
]

# Passage rows, 15 columns: 通行料金, 還元額適用料金 and 後納料金 all a bare －; not sorted.
PASSAGES_15 = [
    "25/09/16,09:30,25/09/16,09:56,京都東,京田辺本線,,,－,－,－,2,5150,********58230042,確認中",
    "25/09/16,10:12,25/09/16,10:12,,門真本線,,,－,－,－,2,5150,********58230042,確認中",
    "25/09/16,09:30,25/09/16,10:12,京都東,門真本線,3590,-400,3190,0,3190,2,5150,********58230042,確認中;ＥＴＣ通常",
    "25/09/01,07:29,25/09/01,07:29,,（上り）須磨,,,－,－,－,2,5150,********58230042,確定",
    "25/09/01,07:05,25/09/01,07:40,月見山,若宮,,,1320,500,820,2,5150,********58230042,確定",
]

# The later download of PASSAGES_15: everything 確定 (the passages take the new status).
PASSAGES_15_LATER = [
    line.replace(",確認中;", ",確定;").replace(",確認中", ",確定") for line in PASSAGES_15
]

# Charges at an entry gate (flat-rate urban expressways): entry date, time, IC and a toll,
# blank exit date, time and IC.
ENTRY_GATE_13 = [
    # 2: 阪神高速 玉出, charged on entry
    "25/09/09,20:12,,,玉出,,,,3110,2,2468,*******006035678,",
    # 3 and 4: the same charge twice, genuinely repeated
    "25/09/10,07:30,,,首都横浜青葉,,,,1320,2,2468,*******006035678,",
    "25/09/10,07:30,,,首都横浜青葉,,,,1320,2,2468,*******006035678,",
    # 5: on the last evening of the month: the month of its entry
    "25/09/30,23:58,,,南港中,,,,1320,2,2468,*******006035678,",
    # 6: a charge at a single mainline gate (entry blank, exit given), for contrast
    ",,25/09/12,08:05,,本線料金所,,,410,2,2468,*******006035678,",
    # 7: an ordinary NEXCO trip
    "25/09/12,09:00,25/09/12,09:45,吹田,京都東,,,1070,2,2468,*******006035678,",
]

# Gates of several operators in one file: the default gate rules (etcbook/resources/gates.toml)
# decide; a trip no rule knows stays nexco, flagged operator_guess.
MIXED_OPERATORS_13 = [
    "25/08/01,08:00,25/08/01,08:30,首都横浜青葉,岸谷生麦下,,,1320,1,1001,*******900010001,",
    "25/08/02,08:00,25/08/02,08:20,東新町,黒川,,,790,1,1001,*******900010001,",
    "25/08/03,08:00,25/08/03,08:20,天神北,香椎,,,680,1,1001,*******900010001,",
    "25/08/04,08:00,25/08/04,08:20,中山,温品,,,500,1,1001,*******900010001,",
    "25/08/05,08:00,25/08/05,08:20,鴨川東,山科,,,450,1,1001,*******900010001,",
    "25/08/06,08:00,25/08/06,08:30,紫川,黒崎,,,620,1,1001,*******900010001,",
    "25/08/07,08:00,25/08/07,09:30,静岡,浜松,,,1900,1,1001,*******900010001,",
    "25/08/08,08:00,25/08/08,09:30,名古屋,広島,,,9000,1,1001,*******900010001,",
]

# Many cards in one file (a company's corporate cards), each new to the store.
MANY_CARDS_13 = [
    f"25/08/{day:02d},09:00,25/08/{day:02d},09:40,吹田,京都東,,,1070,1,{day:04d},*******9000{day:04d}1{day:03d},"
    for day in range(1, 9)
]

# Dashes where they do not belong: each is a line error naming file:line; nothing is stored.
BAD_DASHES_15 = [
    # 2: a passage, fine
    "25/09/16,10:12,25/09/16,10:12,,門真本線,,,－,－,－,2,5150,********58230042,確認中",
    # 3: a dash in 割引前料金 beside a numeric toll
    "25/09/16,09:30,25/09/16,10:12,京都東,門真本線,－,-400,3190,0,3190,2,5150,********58230042,確認中",
    # 4: a passage with a 割引前料金
    "25/09/16,09:30,25/09/16,10:12,京都東,門真本線,3590,,－,－,－,2,5150,********58230042,確認中",
    # 5: a numeric toll with a dash in 後納料金
    "25/09/16,09:30,25/09/16,10:12,京都東,門真本線,,,3190,0,－,2,5150,********58230042,確認中",
    # 6: a dash as a date
    "25/09/16,09:30,－,10:12,京都東,門真本線,,,3190,0,3190,2,5150,********58230042,確認中",
    # 7: a passage with a number in 還元額適用料金
    "25/09/16,09:30,25/09/16,10:12,京都東,門真本線,,,－,0,－,2,5150,********58230042,確認中",
    # 8: no exit date and time, but an exit IC
    "25/09/16,09:30,,,京都東,門真本線,,,3190,0,3190,2,5150,********58230042,確認中",
    # 9: no exit, and no entry IC either
    "25/09/16,09:30,,,,,,,3190,0,3190,2,5150,********58230042,確認中",
    # 10: nothing dated at all
    ",,,,京都東,,,,3190,0,3190,2,5150,********58230042,確認中",
    # 11: a dash in the card number column's neighbour 車種
    "25/09/16,09:30,25/09/16,10:12,京都東,門真本線,,,3190,0,3190,－,5150,********58230042,確認中",
]

BAD_15_UNDECODABLE_LINE = 12
"""Line 12 of bad_rows.csv: a cp932 lead byte cut off before its trail byte (added as bytes)."""


def crlf(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


def write_inputs() -> None:
    files: dict[str, bytes] = {
        "15col.csv": crlf([HEADER_15, *ROWS_15]).encode("cp932"),
        "15col_later.csv": crlf([HEADER_15, *ROWS_15_LATER]).encode("cp932"),
        "15col_utf8_bom.csv": b"\xef\xbb\xbf" + crlf([HEADER_15, *ROWS_15]).encode("utf-8"),
        "15col_utf8.csv": crlf([HEADER_15, *ROWS_15]).encode("utf-8"),
        "15col_spreadsheet.csv": crlf(
            [",".join(f'"{h}"' for h in HEADER_15.split(",")), *map(_spreadsheet, ROWS_15)]
        ).encode("cp932"),
        "13col.csv": crlf([HEADER_13, *ROWS_13]).encode("cp932"),
        "13col_reordered.csv": crlf([_reorder(HEADER_13), *map(_reorder, ROWS_13)]).encode("cp932"),
        "bad_rows.csv": crlf([HEADER_15, *BAD_15]).encode("cp932")
        + "24/11/07,09:00,24/11/07,10:00,静岡,浜".encode("cp932")
        + b"\x8f,,,1000,0,1000,1,1234,*******123456789,\x8a\x6d\x92\xe8\r\n",
        "13col_passages.csv": crlf([HEADER_13, *PASSAGES_13]).encode("cp932"),
        "15col_passages.csv": crlf([HEADER_15, *PASSAGES_15]).encode("cp932"),
        "15col_passages_later.csv": crlf([HEADER_15, *PASSAGES_15_LATER]).encode("cp932"),
        "13col_entry_gate.csv": crlf([HEADER_13, *ENTRY_GATE_13]).encode("cp932"),
        "13col_mixed_operators.csv": crlf([HEADER_13, *MIXED_OPERATORS_13]).encode("cp932"),
        "13col_many_cards.csv": crlf([HEADER_13, *MANY_CARDS_13]).encode("cp932"),
        "bad_dashes.csv": crlf([HEADER_15, *BAD_DASHES_15]).encode("cp932"),
        "empty.csv": b"",
        "unrelated.csv": crlf(
            ["日付,摘要,お引出し,お預入れ,残高", "2024/11/05,ＥＴＣ,4580,,120000"]
        ).encode("cp932"),
        "statement_pdf.pdf": b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n",
        "statement_xlsx.xlsx": _xlsx(),
    }
    for name, data in files.items():
        (HERE / name).write_bytes(data)


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("[Content_Types].xml", date_time=(2024, 11, 5, 0, 0, 0))
        archive.writestr(info, '<?xml version="1.0"?><Types/>')
    return buffer.getvalue()


GOLDEN_IMPORTS = {
    # file -> files imported before it into the same fresh store
    "15col.csv": [],
    "15col_utf8_bom.csv": [],
    "15col_utf8.csv": [],
    "15col_spreadsheet.csv": [],
    "15col_later.csv": ["15col.csv"],
    "13col.csv": [],
    "13col_reordered.csv": [],
    "bad_rows.csv": [],
    "13col_passages.csv": [],
    "15col_passages.csv": [],
    "15col_passages_later.csv": ["15col_passages.csv"],
    "13col_entry_gate.csv": [],
    "13col_mixed_operators.csv": [],
    "13col_many_cards.csv": [],
    "bad_dashes.csv": [],
    "empty.csv": [],
    "unrelated.csv": [],
    "statement_pdf.pdf": [],
    "statement_xlsx.xlsx": [],
}


def expected_for(name: str) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from etcbook.importers.meisai import NotMeisaiError, read_meisai_bytes
    from etcbook.models.imports import import_files
    from etcbook.models.passages import list_passage_rows, passage_json
    from etcbook.models.store import open_store
    from etcbook.models.trips import TripFilter, list_trip_rows, trip_json

    data = (HERE / name).read_bytes()
    out: dict[str, object] = {"file": name}
    try:
        rows, errors = read_meisai_bytes(data, name)
    except NotMeisaiError as exc:
        out["problem"] = str(exc)
        return out
    out["rows"] = [row_json(r) for r in rows]
    out["errors"] = [{"line": e.line, "message": e.message} for e in errors]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "golden.sqlite3")
        try:
            before = GOLDEN_IMPORTS[name]
            if before:
                first = import_files(store, [HERE / b for b in before])
                assert first.ok, first.to_json()
                out["imported_before"] = before
            result = import_files(store, [HERE / name]).to_json()
            for file in result["files"]:  # type: ignore[union-attr]
                file["file"] = name
            out["import"] = result
            with store.engine.connect() as connection:
                out["trips"] = [
                    trip_json(r)
                    for r in list_trip_rows(connection=connection, trip_filter=TripFilter())
                ]
                out["passages"] = [
                    passage_json(r)
                    for r in list_passage_rows(connection=connection, trip_filter=TripFilter())
                ]
                out["history"] = [
                    {"trip_id": trip_id, "old_values": json.loads(old)}
                    for trip_id, old in connection.execute(
                        text("SELECT trip_id, old_values FROM trip_history ORDER BY id")
                    )
                ]
        finally:
            store.close()
    return out


def row_json(row: object) -> dict[str, object]:
    import dataclasses

    data = dataclasses.asdict(row)  # type: ignore[call-overload]
    for key in ("entry_at", "exit_at"):
        data[key] = data[key].isoformat() if data[key] else None
    data["flags"] = list(data["flags"])
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expected", action="store_true", help="also rewrite *.expected.json")
    args = parser.parse_args()
    write_inputs()
    if args.expected:
        for name in GOLDEN_IMPORTS:
            target = HERE / (name.rsplit(".", 1)[0] + ".expected.json")
            document = json.dumps(expected_for(name), ensure_ascii=False, indent=1)
            target.write_text(document + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
