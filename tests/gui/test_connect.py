"""接続先: the connect dialog opens a PostgreSQL ledger from saved profiles or the service file,
finds or asks the password (kept in the OS keyring only when asked), and says in Japanese what
went wrong (a wrong password, an unreachable server, a role that may not upgrade the ledger)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture
def keyring_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[tuple[str, str], str]]:
    import keyring
    from keyring.backend import KeyringBackend

    kept: dict[tuple[str, str], str] = {}

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return kept.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            kept[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            kept.pop((service, username), None)

    before = keyring.get_keyring()
    keyring.set_keyring(Memory())
    yield kept
    keyring.set_keyring(before)


def _parts(url: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    return {k: str(v) for k, v in conninfo_to_dict(url).items()}


@pytest.fixture
def password_login(pg_url: str) -> Iterator[tuple[str, str]]:
    """A login of the test ledger that the server asks a password of (a pg_hba.conf line for
    this login only, reloaded; removed afterwards): (login, password)."""
    import psycopg

    login = f"pw_{uuid.uuid4().hex[:8]}"
    password = f"secret-{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {login} LOGIN SUPERUSER PASSWORD '{password}'")
        hba = Path(str(admin.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
        original = hba.read_text(encoding="utf-8")
        hba.write_text(f"local all {login} scram-sha-256\n" + original, encoding="utf-8")
        admin.execute("SELECT pg_reload_conf()")
    try:
        yield login, password
    finally:
        hba.write_text(original, encoding="utf-8")
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")
            admin.execute(f"DROP ROLE IF EXISTS {login}")


def _dialog(qtbot: Any, settings: QSettings, **kwargs: Any) -> Any:
    from etcbook.ui.connect import ConnectDialog

    dialog = ConnectDialog(settings, **kwargs)
    qtbot.addWidget(dialog)
    return dialog


def _fill(dialog: Any, url: str, **override: str) -> None:
    p = {**_parts(url), **override}
    dialog.name_edit.setText(override.get("name", "本社"))
    dialog.host_edit.setText(p.get("host", ""))
    dialog.port_edit.setText(p.get("port", ""))
    dialog.dbname_edit.setText(p.get("dbname", ""))
    dialog.user_edit.setText(p.get("user", ""))


def _close(dialog: Any) -> None:
    if dialog.store is not None:
        dialog.store.close()


def test_a_saved_profile_is_listed_again_and_keeps_no_password(
    qtbot: Any, settings: QSettings, pg_url: str, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, settings)
    _fill(dialog, pg_url, name="本社の帳簿")
    assert dialog.save_profile()
    again = _dialog(qtbot, settings)
    assert "本社の帳簿" in again.profile_names()
    again.choose("本社の帳簿")
    assert again.dbname_edit.text() == _parts(pg_url)["dbname"]
    assert again.try_connect(), again.message.text()
    assert again.store is not None and again.store.on_server
    _close(again)
    settings.sync()
    text = Path(settings.fileName()).read_text(encoding="utf-8")
    assert "connections" in text  # the profile is kept in the settings file
    assert "password" not in text.lower()


def test_the_service_files_services_are_listed_and_open(
    qtbot: Any, settings: QSettings, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = _parts(pg_url)
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[fleet]\nhost={p['host']}\ndbname={p['dbname']}\nuser={p.get('user', '')}\n"
        "password=never-shown\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    dialog = _dialog(qtbot, settings)
    assert "サービス: fleet" in dialog.profile_names()
    dialog.choose("サービス: fleet")
    assert dialog.service_edit.text() == "fleet"
    assert dialog.try_connect(), dialog.message.text()
    assert dialog.address is not None and dialog.address.parameters["service"] == "fleet"
    _close(dialog)


def test_the_password_is_asked_once_and_kept_in_the_keyring_on_request(
    qtbot: Any,
    settings: QSettings,
    pg_url: str,
    password_login: tuple[str, str],
    keyring_backend: dict[tuple[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    login, password = password_login
    dialog = _dialog(qtbot, settings)
    _fill(dialog, pg_url, user=login)
    assert not dialog.asks_password
    assert not dialog.try_connect()
    assert dialog.asks_password
    assert "パスワードが必要です" in dialog.message.text()
    dialog.password_edit.setText("wrong")
    assert not dialog.try_connect()
    assert "パスワードが違います" in dialog.message.text()
    assert dialog.store is None
    dialog.password_edit.setText(password)
    dialog.keep_password.setChecked(True)
    assert dialog.try_connect(), dialog.message.text()
    assert list(keyring_backend.values()) == [password]
    _close(dialog)
    # Next time the keyring gives it: nothing is asked.
    again = _dialog(qtbot, settings)
    _fill(again, pg_url, user=login)
    assert again.try_connect(), again.message.text()
    assert not again.asks_password
    _close(again)


def test_without_keeping_the_password_nothing_is_written_to_the_keyring(
    qtbot: Any,
    settings: QSettings,
    pg_url: str,
    password_login: tuple[str, str],
    keyring_backend: dict[tuple[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    login, password = password_login
    dialog = _dialog(qtbot, settings)
    _fill(dialog, pg_url, user=login)
    assert not dialog.try_connect()
    dialog.password_edit.setText(password)
    assert dialog.try_connect(), dialog.message.text()
    assert keyring_backend == {}
    # The typed password serves this run's connections (the engine's pool makes new ones).
    assert dialog.store is not None
    dialog.store.engine.dispose()
    with dialog.store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT session_user").scalar() == login
    _close(dialog)


def test_an_unreachable_server_is_a_sentence(
    qtbot: Any, settings: QSettings, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, settings)
    dialog.host_edit.setText(str(tmp_path / "no-server-here"))
    dialog.dbname_edit.setText("ledger")
    dialog.user_edit.setText("clerk")
    assert not dialog.try_connect()
    assert "PostgreSQL に接続できません" in dialog.message.text()
    assert "Traceback" not in dialog.message.text()
    assert not dialog.asks_password


def test_a_role_that_may_not_upgrade_the_ledger_is_told_who_must(
    qtbot: Any, settings: QSettings, pg_server: str
) -> None:
    import psycopg

    from tests.pgkit import create_database, drop_database

    url = create_database(pg_server)  # empty: the first opening must build the schema
    login = f"clerk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {login} LOGIN")
    try:
        dialog = _dialog(qtbot, settings)
        _fill(dialog, url, user=login)
        assert not dialog.try_connect()
        text = dialog.message.text()
        assert "このロールには権限がありません" in text and "postgres" in text
    finally:
        drop_database(pg_server, url)
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f"DROP ROLE {login}")


def test_the_window_asks_the_password_of_a_db_url_and_shows_the_ledger(
    qtbot: Any,
    settings: QSettings,
    pg_url: str,
    password_login: tuple[str, str],
    keyring_backend: dict[tuple[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from urllib.parse import urlsplit, urlunsplit

    from etcbook.models.server import parse_address
    from etcbook.ui.app import make_main_window

    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    login, password = password_login
    parts = urlsplit(pg_url)
    url = urlunsplit(parts._replace(netloc=f"{login}@"))
    window = make_main_window(parse_address(url), settings=settings)
    qtbot.addWidget(window)
    window.show()
    window.context.open_store_async()
    qtbot.waitUntil(lambda: getattr(window, "connect_dialog", None) is not None, timeout=20_000)
    dialog = window.connect_dialog
    assert dialog.asks_password and "パスワードが必要です" in dialog.message.text()
    dialog.password_edit.setText(password)
    assert dialog.try_connect(), dialog.message.text()
    qtbot.waitUntil(lambda: window.context.is_open, timeout=20_000)
    assert window.context.on_server
    assert window.windowTitle().startswith("etcbook — ")
    assert "password" not in window.windowTitle()
    window.context.operations.wait_for_done()
    window.close()


def test_the_welcome_page_and_the_file_menu_open_the_connect_dialog(qtbot: Any, window) -> None:  # type: ignore[no-untyped-def]
    from etcbook.ui.connect import ConnectDialog
    from etcbook.ui.welcome import WelcomePage

    welcome = window._stack.currentWidget()
    assert isinstance(welcome, WelcomePage)
    welcome.connect_button.click()
    assert isinstance(window.connect_dialog, ConnectDialog) and window.connect_dialog.isVisible()
    window.connect_dialog.reject()
    window.connect_action.trigger()
    assert window.connect_dialog.isVisible()
    window.connect_dialog.reject()


@pytest.mark.parametrize("how", ["--db", "ETCBOOK_DB"])
def test_the_command_line_opens_the_window_on_a_server_url(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import etcbook.ui.app
    from etcbook.cli import main
    from etcbook.models.server import ServerAddress

    opened: list[object] = []
    monkeypatch.setattr(etcbook.ui.app, "run_app", lambda db: opened.append(db) or 0)
    url = "postgresql://clerk@db.example.jp/ledger"
    if how == "--db":
        assert main(["--db", url]) == 0
    else:
        monkeypatch.setenv("ETCBOOK_DB", url)
        assert main([]) == 0
    assert opened == [ServerAddress(url)]


def test_a_password_in_etcbook_db_is_refused_before_the_window(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import etcbook.ui.app
    from etcbook.cli import main

    monkeypatch.setattr(etcbook.ui.app, "run_app", lambda db: pytest.fail("window opened"))
    monkeypatch.setenv("ETCBOOK_DB", "postgresql://clerk:secret@db.example.jp/ledger")
    assert main([]) == 3
    assert "パスワードはURLやコマンドラインには書けません" in capsys.readouterr().err
