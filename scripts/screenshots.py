"""Render every page of the window on the demo store to docs/screenshots/*.png (1366×768),
with settings first used on an empty store, as a new user's are.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [--out docs/screenshots]

The claims workflow's pages (workflow_*.png, 1024×700) need a PostgreSQL server: ``--server URL``
or ETCBOOK_TEST_PG_URL (``scripts/test`` starts one for the tests); without, they are skipped.

Works offscreen or under Xvfb. The demo store and the settings live in a temporary folder;
the user's store and settings are never touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WINDOW_SIZE = (1366, 768)
"""A common laptop screen; the fit test checks 1024×700 and this size."""


def settle(app, window, seconds: float = 0.3) -> None:  # type: ignore[no-untyped-def]
    """Let queued work, background loads and repaints finish."""
    deadline = time.monotonic() + 30
    while window.context.operations.busy and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


SAMPLE_ROWS = (
    "26/11/02,07:10,26/11/02,07:45,厚木,横浜町田,,,930,0,930,1,1234,************1234,確定;（朝夕）",
    "26/11/03,10:00,26/11/03,11:30,東京,静岡,,,4300,300,4000,1,1234,************1234,確定",
    "26/11/05,13:00,26/11/05,13:20,東京,霞が関,,,1320,0,1320,1,1234,************1234,確認中",
)
BAD_ROWS = (
    "26/11/07,07:10,26/11/07,07:45,厚木,横浜町田,,,930,0,930,1,1234,************1234,確定",
    "26/13/08,07:10,26/11/08,07:45,厚木,横浜町田,,,九百,0,930,1,1234,************1234,確定",
)
HEADER = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,還元額適用料金,後納料金,車種,車両番号,ＥＴＣカード番号,備考"
)


def prepare_points(page) -> None:  # type: ignore[no-untyped-def]
    """The planner with a need on the corporate card (no rebate, many points)."""
    page.select_card("9012")
    page.planner.need_yen.setValue(3000)
    page.planner.make_plan()


def prepare_trips(page) -> None:  # type: ignore[no-untyped-def]
    """A few rows selected, ready for a batch edit."""
    for row in (1, 2, 4):
        page.view.selectionModel().select(
            page.model.index(row, 0),
            page.view.selectionModel().SelectionFlag.Select
            | page.view.selectionModel().SelectionFlag.Rows,
        )


def prepare_cards(page) -> None:  # type: ignore[no-untyped-def]
    """A card selected: its buttons (利用停止・再開, 通勤パス, 走行を追加) enabled."""
    page.select_card("1234")


def prepare_evidence(page) -> None:  # type: ignore[no-untyped-def]
    """The corporate card's latest statement selected: its preview shown beside the list."""
    view, proxy = page.documents_view, page._documents_proxy
    for row in range(proxy.rowCount()):
        record = page.documents.record(proxy.mapToSource(proxy.index(row, 0)).row())
        if record.card == "9012" and record.kind == "statement":
            view.setCurrentIndex(proxy.index(row, 0))
            return


PREPARE = {
    "points": prepare_points,
    "trips": prepare_trips,
    "cards": prepare_cards,
    "evidence": prepare_evidence,
}


def shoot_points_lots(app, window, out: Path) -> Path:  # type: ignore[no-untyped-def]
    """The points page's lots: every grant with its expiry, and points still to be granted."""
    window.show_page("points")
    page = window.page_widget("points")
    page.select_card("1234")
    page.tabs.setCurrentWidget(page.lots_view)
    settle(app, window, 0.4)
    path = out / "detail_points_lots.png"
    window.grab().save(str(path))
    page.tabs.setCurrentIndex(0)
    return path


def shoot_import_preview(app, window, tmp: Path, out: Path) -> Path:  # type: ignore[no-untyped-def]
    """The preview of two dropped files, one of them with line errors."""
    files = []
    for name, rows in (("meisai_202611.csv", SAMPLE_ROWS), ("meisai_broken.csv", BAD_ROWS)):
        path = tmp / name
        path.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp932"))
        files.append(str(path))
    dialogs = []
    window.import_started.connect(lambda flow: flow.previewed.connect(dialogs.append))
    window.import_files(files)
    deadline = time.monotonic() + 30
    while not dialogs and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    dialog = dialogs[0]
    settle(app, window)
    path = out / "detail_import_preview.png"
    dialog.grab().save(str(path))
    dialog.reject()
    return path


def shoot_card_dialog(app, window, out: Path) -> Path:  # type: ignore[no-untyped-def]
    """The card dialog with a 車載器管理番号 being typed (validation as you type)."""
    from etcbook.ui.card_dialog import CardDialog

    dialog = CardDialog(window.context, parent=window)
    dialog.last4.edit.setText("2468")
    dialog.holder.edit.setText("山田次郎")
    dialog.expires.edit.setText("08/28")
    dialog.obu.edit.setText("1234-5678-9012")
    dialog.show()
    settle(app, window)
    path = out / "detail_card_dialog.png"
    dialog.grab().save(str(path))
    dialog.reject()
    return path


def shoot_ledger_dialogs(app, window, out: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """The dialogs that change the mileage ledger; the adjustment one with a refusal shown."""
    import datetime as dt

    from PySide6.QtCore import QDate

    window.show_page("cards")
    cards = window.page_widget("cards")
    cards.select_card("1234")
    settle(app, window)
    window.show_page("points")
    points = window.page_widget("points")
    settle(app, window, 0.6)
    points.select_card("5678")
    adjustment = points.record_adjustment()
    adjustment.set_values(rebate=-8000, reason="サイトの残高に合わせる", on=dt.date(2025, 6, 1))
    adjustment.submit()  # refused: more than the balance that day
    window.show_page("cards")
    stop = cards.record_stop()
    stop.note.setText("ETCマイレージ コールセンター 受付番号 A-1024")
    commute = cards.edit_commute_pass()
    commute.month.setDate(QDate(2025, 9, 1))
    trip = cards.add_trip()
    trip.set_values(
        exit_at=dt.datetime(2026, 11, 2, 18, 40),
        entry_at=dt.datetime(2026, 11, 2, 18, 5),
        entry_ic="東京",
        exit_ic="厚木",
        toll=1320,
        morning_evening=True,
    )
    written = []
    for name, dialog in (
        ("detail_adjustment_refused", adjustment),
        ("detail_stop_dialog", stop),
        ("detail_commute_pass", commute),
        ("detail_trip_dialog", trip),
    ):
        dialog.show()
        settle(app, window)
        path = out / f"{name}.png"
        dialog.grab().save(str(path))
        dialog.reject()
        written.append(path)
    return written


def shoot_journal_export(app, window, tmp: Path, out: Path) -> Path:  # type: ignore[no-untyped-def]
    """「会計ソフト用に書き出す」 after September was exported: October to book, September listed."""
    import datetime as dt

    from PySide6.QtCore import QDate

    from etcbook import clock
    from etcbook.export.journal import JournalFormat, Product
    from etcbook.models.journal import JournalRequest, export_journal

    export_journal(
        store=window.context.store,
        request=JournalRequest(
            fmt=JournalFormat(Product.YAYOI),
            card="9012",
            date_from=dt.date(2026, 9, 1),
            date_to=dt.date(2026, 9, 30),
        ),
        out=tmp / "2026-09_CARD9012_弥生_仕訳.csv",
        now=clock.now(),
    )
    window.show_page("claims")
    page = window.page_widget("claims")
    page.select_card("9012")
    page.date_from.setDate(QDate(2026, 9, 1))
    page.date_to.setDate(QDate(2026, 10, 31))
    page.load()
    dialog = page.open_journal_export()
    dialog.resize(900, 620)
    settle(app, window)
    path = out / "detail_journal_export.png"
    dialog.grab().save(str(path))
    dialog.reject()
    return path


def shoot_backup(app, window, settings, tmp: Path, out: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """A second window on the same store, and the question before a restore."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    from etcbook.ui.app import make_main_window

    second = make_main_window(
        window.context.db_path, settings=settings, sample_path=tmp / "s.sqlite3"
    )
    second.resize(960, 560)
    second.show()
    second.context.open_store_now()  # refused: the first window holds the store
    settle(app, second)
    in_use = out / "detail_store_in_use.png"
    second.grab().save(str(in_use))
    second.close()

    archive = tmp / "etcbook-backup.zip"
    window.backup_flow.back_up_to(archive)
    settle(app, window)
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox):
            widget.close()
    window.backup_flow.check_then_restore(archive)
    deadline = time.monotonic() + 30
    boxes: list[QMessageBox] = []
    while not boxes and time.monotonic() < deadline:
        app.processEvents()
        boxes = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()
        ]
    settle(app, window)
    question = out / "detail_restore_question.png"
    boxes[0].grab().save(str(question))
    boxes[0].reject()
    return [in_use, question]


HEADER_13 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,車種,車両番号,ＥＴＣカード番号,備考"
)
REAL_ROWS = (
    # a journey NEXCO → 阪神高速: its gates as passages (－), one through-charged row
    "26/10/06,08:05,26/10/06,08:41,吹田,京都東,,,1070,2,7301,*******126040042,",
    "26/10/06,09:02,26/10/06,09:02,,（上り）湾岸線本線,,,－,2,7301,*******126040042,",
    "26/10/06,08:50,26/10/06,09:20,西宮,（上り）湾岸線本線,1900,-190,1710,2,7301,*******126040042,ＥＴＣ通常",
    "26/10/07,10:00,26/10/07,10:20,池田（本線）入,南港中出,,,－,2,7301,*******126040042,",
    "26/10/07,10:00,26/10/07,10:41,池田（本線）入,玉出,,,1320,2,7301,*******126040042,",
    # a charge at an entry gate (flat-rate urban expressway)
    "26/10/07,19:31,,,玉出,,,,1320,2,7301,*******126040042,",
    # gates no rule knows
    "26/10/08,06:40,26/10/08,07:25,あさひ野,ゆめが丘,,,2320,2,7301,*******126040042,",
    "26/10/09,17:10,26/10/09,17:52,ゆめが丘,あさひ野,,,2320,2,7301,*******126040042,",
    "26/10/10,12:00,26/10/10,12:20,,みなと本線,,,－,2,7301,*******126040042,",
    "26/10/12,09:00,26/10/12,10:30,東京,静岡,,,4300,2,7301,*******126040042,",
)


def shoot_real_downloads(app, settings, tmp: Path, out: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """A real download's shapes: the import preview (passages, an entry-gate charge, gates no
    rule knows) and the trips page (passages dimmed with their journey, guessed operators)."""
    from etcbook.models.imports import import_files
    from etcbook.ui.app import make_main_window

    stored = tmp / "real_09.csv"
    rows = [row.replace("26/10/", "26/09/") for row in REAL_ROWS]
    stored.write_bytes(("\r\n".join([HEADER_13, *rows]) + "\r\n").encode("cp932"))
    window = make_main_window(
        tmp / "real.sqlite3", settings=settings, sample_path=tmp / "s.sqlite3"
    )
    window.resize(*WINDOW_SIZE)
    window.show()
    window.context.open_store_now()
    import_files(window.context.store, [stored])
    window.context.ledger_changed.emit()
    settle(app, window)
    written = []
    new = tmp / "meisai_202610 #法人.csv"
    new.write_bytes(("\r\n".join([HEADER_13, *REAL_ROWS]) + "\r\n").encode("cp932"))
    dialogs = []
    window.import_started.connect(lambda flow: flow.previewed.connect(dialogs.append))
    window.import_files([str(new)])
    deadline = time.monotonic() + 30
    while not dialogs and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    settle(app, window)
    written.append(out / "detail_import_passages.png")
    dialogs[0].grab().save(str(written[-1]))
    # One click on an operator for a gate: the rule is made; the stored trips through that gate
    # would change, so the effect on points is shown before anything changes.
    flows = []
    window.import_started.connect(flows.append)
    menu = dialogs[0].gates_table.buttons["ゆめが丘"].menu()
    next(a for a in menu.actions() if a.data() == "hanshin").trigger()
    settle(app, window)
    reapply = next(
        (w for w in app.topLevelWidgets() if type(w).__name__ == "ReapplyDialog" and w.isVisible()),
        None,
    )
    if reapply is not None:
        written.append(out / "detail_reapply_rules.png")
        reapply.grab().save(str(written[-1]))
        reapply.reject()
    settle(app, window, 1.0)
    for dialog in dialogs[1:]:
        dialog.reject()
    window.show_page("trips")
    settle(app, window, 1.0)
    page = window.page_widget("trips")
    page.view.sortByColumn(0, page.view.horizontalHeader().sortIndicatorOrder().AscendingOrder)
    # The columns can be moved (and are remembered): 備考, which names a passage's journey,
    # beside the route here so that the picture shows it.
    header = page.view.horizontalHeader()
    from etcbook.ui.views.trips import COLUMN

    header.moveSection(
        header.visualIndex(COLUMN["flags"]), header.visualIndex(COLUMN["operator"]) + 1
    )
    header.resizeSection(COLUMN["flags"], 360)
    settle(app, window, 0.4)
    written.append(out / "detail_trips_passages.png")
    window.grab().save(str(written[-1]))
    guesses = page.fix_guesses()
    settle(app, window, 0.4)
    written.append(out / "detail_operator_guesses.png")
    guesses.grab().save(str(written[-1]))
    guesses.reject()
    window.close()
    return written


def shoot_fleet(app, settings, tmp: Path, out: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """A company's 111 cards: the fleet dashboard (a grouped alert opened), its per-card table,
    and the trips page narrowed by the card filter to one driver's cards."""
    from etcbook import clock
    from etcbook.models.fleet_sample import fill_fleet
    from etcbook.models.store import open_store
    from etcbook.ui.app import make_main_window

    path = tmp / "fleet.sqlite3"
    store = open_store(path)
    fill_fleet(store, as_of=clock.today())
    store.close()
    window = make_main_window(path, settings=settings, sample_path=tmp / "sample.sqlite3")
    window.resize(*WINDOW_SIZE)
    window.show()
    window.context.open_store_now()
    settle(app, window)
    window.show_page("dashboard")
    settle(app, window, 1.0)
    page = window.page_widget("dashboard")
    grouped = [i for i, group in enumerate(page.groups) if group.grouped]
    if grouped:
        page.toggle_group(grouped[0])
    settle(app, window, 0.4)
    written = [out / "fleet_dashboard.png"]
    window.grab().save(str(written[-1]))
    page.lower_tabs.setCurrentWidget(page.fleet_table)
    settle(app, window, 0.4)
    written.append(out / "fleet_card_table.png")
    window.grab().save(str(written[-1]))
    bar = window.card_filter_bar
    combo = bar.combos["driver"]
    combo.setCurrentIndex(combo.findData("佐藤一郎"))
    window.show_page("trips")
    settle(app, window, 1.0)
    written.append(out / "fleet_trips_filtered.png")
    window.grab().save(str(written[-1]))
    bar.clear_button.click()
    window.show_page("cards")
    settle(app, window, 0.6)
    dialog = window.page_widget("cards").fill_cards()
    dialog.text.setPlainText(
        "カード\t名義\t利用者\t部署\n"
        "2001\t株式会社みなと物流\t佐藤一郎\t物流1課\n"
        "********12342014\t\t鈴木次郎\t物流1課\n"
        "2027\t\t\t物流2課\n"
        "9999\t\t高橋三郎\t物流2課\n"
    )
    dialog.update_preview()
    dialog.show()
    settle(app, window, 0.4)
    written.append(out / "fleet_card_fill.png")
    dialog.grab().save(str(written[-1]))
    dialog.reject()
    window.close()
    return written


def shoot_server(app, settings, tmp: Path, out: Path, server: str) -> list[Path]:  # type: ignore[no-untyped-def]
    """A company's ledger on PostgreSQL: the connect dialog (a saved profile, the service file's
    services, the password asked), every page on the demo data, and a driver's cards page."""
    import uuid

    import psycopg

    from etcbook.models.demo import fill_demo
    from etcbook.models.roles import add_user, assign_card, init_roles
    from etcbook.models.server import parse_address
    from etcbook.models.store import open_store
    from etcbook.ui.app import make_main_window
    from etcbook.ui.connect import ConnectDialog, Profile, save_profiles
    from tests.pgkit import create_database, drop_database

    os.environ["ETCBOOK_SERVER_FILES"] = str(tmp / "server-files")
    url = create_database(server)
    login = f"yamada_{uuid.uuid4().hex[:4]}"
    written: list[Path] = []
    try:
        store = open_store(url)
        fill_demo(store)
        with store.transaction() as connection:
            init_roles(connection)
            add_user(connection, login, "driver")
            assign_card(connection, login, "1234")
        store.close()
        address = parse_address(url)
        services = tmp / "pg_service.conf"
        services.write_text(
            "[honsha]\nhost=db.example.co.jp\ndbname=etcbook\n\n[shiten]\nhost=10.0.0.5\n"
            "dbname=etcbook_osaka\n",
            encoding="utf-8",
        )
        os.environ["PGSERVICEFILE"] = str(services)
        save_profiles(
            settings,
            [
                Profile(name="本社の帳簿", host="db.example.co.jp", dbname="etcbook", user="keiri"),
                Profile(
                    name="自分の担当カード", host="db.example.co.jp", dbname="etcbook", user=login
                ),
            ],
        )
        dialog = ConnectDialog(
            settings,
            address=parse_address("postgresql://keiri@db.example.co.jp/etcbook"),
            message="db.example.co.jp（etcbook）: パスワードが必要です（ロール keiri）。"
            "pgpass にも資格情報ストアにも見つかりませんでした。",
        )
        dialog.name_edit.setText("本社の帳簿")
        dialog.show()
        app.processEvents()
        written.append(out / "server_connect_password.png")
        dialog.grab().save(str(written[-1]))
        dialog.reject()

        window = make_main_window(address, settings=settings, sample_path=tmp / "sample.sqlite3")
        window.resize(*WINDOW_SIZE)
        window.show()
        window.context.open_store_now()
        settle(app, window)
        for spec in window.page_specs:
            window.show_page(spec.key)
            settle(app, window, 0.6)
            written.append(out / f"server_{spec.key}.png")
            window.grab().save(str(written[-1]))
        window.close()

        host = address.parameters.get("host", "")
        driver = parse_address(f"postgresql://{login}@/{address.parameters['dbname']}?host={host}")
        window = make_main_window(driver, settings=settings, sample_path=tmp / "sample.sqlite3")
        window.resize(*WINDOW_SIZE)
        window.show()
        window.context.open_store_now()
        window.show_page("cards")
        settle(app, window, 0.6)
        written.append(out / "server_driver_cards.png")
        window.grab().save(str(written[-1]))
        window.close()
    finally:
        drop_database(server, url)
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{login}"')
    return written


WORKFLOW_SIZE = (1024, 700)
"""The workflow pages are shown at the narrowest size the fit test checks."""


def shoot_workflow(app, tmp: Path, out: Path, server: str | None) -> list[Path]:  # type: ignore[no-untyped-def]
    """The claims workflow on a shared PostgreSQL ledger (the demo's trips): a driver's 経費精算
    with a returned claim and the desk's comment, the desk's 承認 (queue and PDF, the month's
    totals) and 月締め. Needs a server (``--server`` or ETCBOOK_TEST_PG_URL) where the role may
    create databases and roles; the database and the logins made here are dropped after."""
    if not server:
        print("workflow screens skipped: no PostgreSQL server (--server URL)", file=sys.stderr)
        return []
    import datetime as dt
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from PySide6.QtCore import QSettings
    from sqlalchemy import text

    from etcbook.models import roles
    from etcbook.models.demo import fill_demo
    from etcbook.models.store import open_store
    from etcbook.models.workflow import close_month, decide_claim, reopen_month, submit_claim
    from etcbook.ui import store_access
    from etcbook.ui.context import AppContext
    from etcbook.ui.main_window import MainWindow

    name = f"etcbook_shots_{uuid.uuid4().hex[:8]}"
    suffix = name[-4:]
    yamada, sato, desk = f"yamada_{suffix}", f"sato_{suffix}", f"keiri_{suffix}"

    def url_for(login: str | None = None) -> str:
        parts = urlsplit(server)
        netloc = parts.netloc
        if login is not None:
            netloc = f"{login}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc, path=f"/{name}"))

    os.environ["ETCBOOK_SERVER_FILES"] = str(tmp / "server-files")
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    written: list[Path] = []
    try:
        store = open_store(url_for())
        fill_demo(store)
        with store.transaction() as connection:
            for last4, department in (
                ("1234", "東京営業所"),
                ("5678", "東京営業所"),
                ("9012", "物流1課"),
            ):
                connection.execute(
                    text("UPDATE cards SET department = :d WHERE last4 = :c"),
                    {"d": department, "c": last4},
                )
            # A server ledger keeps its originals on this computer in a folder per URL (login
            # included), so the drivers' logins would not find the demo's: left out here.
            connection.execute(
                text("UPDATE documents SET removed_at = :at, removed_reason = 'screenshots'"),
                {"at": dt.datetime(2026, 10, 1).isoformat()},
            )
            roles.init_roles(connection)
            roles.add_user(connection, yamada, "driver")
            roles.add_user(connection, sato, "driver")
            roles.add_user(connection, desk, "accounts")
            roles.assign_card(connection, yamada, "1234")
            roles.assign_card(connection, sato, "9012")
        store.close()
        month = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
        earlier = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
        as_yamada, as_sato, as_desk = (open_store(url_for(u)) for u in (yamada, sato, desk))
        returned, _ = submit_claim(
            store=as_yamada, card="1234", date_from=month[0], date_to=month[1]
        )
        approved, _ = submit_claim(
            store=as_yamada, card="1234", date_from=earlier[0], date_to=earlier[1]
        )
        submit_claim(store=as_sato, card="9012", date_from=month[0], date_to=month[1])
        decide_claim(store=as_desk, claim_id=approved.id, approve=True)
        decide_claim(
            store=as_desk,
            claim_id=returned.id,
            approve=False,
            comment="9/12 の走行の目的を具体的に書いてください",
        )
        with as_desk.transaction() as connection:
            close_month(connection, "2026-06")
            close_month(connection, "2026-07")
            reopen_month(connection, "2026-07", "7月分の明細が確定したため取り込み直し")
        for opened in (as_yamada, as_sato, as_desk):
            opened.close()

        def window_as(login: str):  # type: ignore[no-untyped-def]
            address = url_for(login)
            store_access.open_store = lambda _path: open_store(address)  # type: ignore[assignment]
            settings = QSettings(str(tmp / f"{login}.ini"), QSettings.Format.IniFormat)
            window = MainWindow(AppContext(tmp / f"{login}.ledger", settings=settings))
            window.resize(*WORKFLOW_SIZE)
            window.show()
            window.context.open_store_now()
            settle(app, window)
            return window

        driver = window_as(yamada)
        driver.show_page("claims")
        settle(app, driver, 0.6)
        claims = driver.page_widget("claims")
        claims.workflow.select_claim(returned.id)
        settle(app, driver, 0.3)
        written.append(out / "workflow_driver_claims.png")
        driver.grab().save(str(written[-1]))
        driver.close()

        window = window_as(desk)
        window.show_page("approvals")
        settle(app, window, 0.6)
        page = window.page_widget("approvals")
        settle(app, window, 0.6)
        written.append(out / "workflow_approvals.png")
        window.grab().save(str(written[-1]))
        page.tabs.setCurrentIndex(1)
        page.totals_month.setCurrentIndex(page.totals_month.findData("2026-09"))
        settle(app, window, 0.4)
        written.append(out / "workflow_approvals_totals.png")
        window.grab().save(str(written[-1]))
        window.show_page("months")
        settle(app, window, 0.6)
        written.append(out / "workflow_months.png")
        window.grab().save(str(written[-1]))
        window.close()
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            for login in (yamada, sato, desk):
                admin.execute(f'DROP ROLE IF EXISTS "{login}"')
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument(
        "--dark", action="store_true", help="render with the dark palette (as on a dark desktop)"
    )
    parser.add_argument(
        "--only",
        choices=["fleet", "real", "server", "workflow"],
        help="render only these screens (faster while working on them)",
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("ETCBOOK_TEST_PG_URL"),
        help="a PostgreSQL server's URL (a superuser, its maintenance database) for --only server"
        " and --only workflow (default: ETCBOOK_TEST_PG_URL)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings

    from etcbook.models.demo import fill_demo
    from etcbook.models.store import open_store
    from etcbook.ui.app import make_application, make_main_window

    app = make_application()
    if args.dark:
        from etcbook.ui.theme import dark_palette

        app.setPalette(dark_palette())
    with tempfile.TemporaryDirectory(prefix="etcbook-shots-") as folder:
        tmp = Path(folder)
        settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
        if args.only == "server":
            if not args.server:
                parser.error("--only server needs --server URL (or ETCBOOK_TEST_PG_URL)")
            for path in shoot_server(app, settings, tmp, args.out, args.server):
                print(path)
            sys.stdout.flush()
            os._exit(0)
        if args.only:
            if args.only == "workflow":
                shots = shoot_workflow(app, tmp, args.out, args.server)
            else:
                shoot = shoot_fleet if args.only == "fleet" else shoot_real_downloads
                shots = shoot(app, settings, tmp, args.out)
            for path in shots:
                print(path)
            sys.stdout.flush()
            os._exit(0)
        demo = tmp / "demo.sqlite3"
        store = open_store(demo)
        fill_demo(store)
        store.close()

        written: list[Path] = []

        # First start: an empty store shows the welcome page.
        empty = make_main_window(tmp / "empty.sqlite3", settings=settings, sample_path=demo)
        empty.resize(*WINDOW_SIZE)
        empty.show()
        empty.context.open_store_now()
        settle(app, empty)
        path = args.out / "00_welcome.png"
        empty.grab().save(str(path))
        written.append(path)
        # As a new user does: every page looked at before anything is imported. Its settings
        # (column widths among them) are what the demo store is then shown with.
        for spec in empty.page_specs:
            empty.show_page(spec.key)
            settle(app, empty, 0.2)
        empty.close()

        # The demo store shown as the user's own (so the backup reminder shows too).
        window = make_main_window(demo, settings=settings, sample_path=tmp / "sample.sqlite3")
        window.resize(*WINDOW_SIZE)
        window.show()
        window.context.open_store_now()
        settle(app, window)
        for number, spec in enumerate(window.page_specs, start=1):
            window.show_page(spec.key)
            settle(app, window, 0.6)
            prepare = PREPARE.get(spec.key)
            if prepare is not None:
                prepare(window.page_widget(spec.key))
                settle(app, window, 0.6)
            path = args.out / f"{number:02d}_{spec.key}.png"
            window.grab().save(str(path))
            written.append(path)
        written.append(shoot_points_lots(app, window, args.out))
        written.append(shoot_import_preview(app, window, tmp, args.out))
        written.append(shoot_card_dialog(app, window, args.out))
        written.extend(shoot_ledger_dialogs(app, window, args.out))
        written.append(shoot_journal_export(app, window, tmp, args.out))
        written.extend(shoot_backup(app, window, settings, tmp, args.out))
        window.close()
        written.extend(shoot_fleet(app, settings, tmp, args.out))
        written.extend(shoot_real_downloads(app, settings, tmp, args.out))
        written.extend(shoot_workflow(app, tmp, args.out, args.server))
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    status = main()
    # Every image is written and closed. Skip the interpreter's finalization: with PySide6 6.12
    # and matplotlib's Qt canvas it aborts there about every other run ("none_dealloc"),
    # which would turn a finished run into exit status 134.
    sys.stdout.flush()
    os._exit(status)
