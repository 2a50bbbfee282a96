"""A ledger on a PostgreSQL server: where it is (a libpq URL), where its password comes from, and
the engine that connects to it.

Accepted forms of ``--db`` / ``ETCBOOK_DB`` (anything else is a SQLite file's path)::

    postgresql://USER@HOST:PORT/DBNAME?sslmode=verify-full
    postgresql://USER@/DBNAME?host=/socket/dir
    postgresql:///?service=NAME            (libpq service file, pg_service.conf)

A password is never accepted in the URL (it would sit in shell histories, process lists and
settings): libpq finds it in the pgpass file or through the service file's settings, and when the
server still asks for one, the OS keyring (the ``keyring`` package) is asked for the password
kept under ``etcbook`` / ``USER@HOST:PORT/DBNAME`` (:func:`remember_password`).

Only this module and :mod:`etcbook.models.dialect` know that PostgreSQL exists; the rest of
``etcbook.models`` asks :func:`etcbook.models.dialect.is_postgresql` where SQL differs.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

SCHEMES = ("postgresql://", "postgres://")
KEYRING_SERVICE = "etcbook"
CHANGES_CHANNEL = "etcbook_changed"
"""NOTIFY channel: every committed etcbook transaction that wrote something notifies it, with the
writing engine's tag (:func:`engine_tag`) as payload, so that open windows refresh."""
ENGINE_TAG = "etcbook_engine_tag"
TEMP_BUFFERS = "128MB"
"""Each session's ceiling for temporary tables held in memory (an import's staging)."""

PASSWORD_REFUSED = (
    "パスワードはURLやコマンドラインには書けません。"
    "pgpass ファイル（Windows: %APPDATA%\\postgresql\\pgpass.conf）かOSの資格情報ストアに保存してください。"
)


class ServerError(ValueError):
    """The server address cannot be used; the message is for the user."""


class PasswordNeeded(ServerError):
    """The server asks for a password that neither pgpass, the service file nor the keyring gave
    (or the one given was wrong: :attr:`wrong`); the window asks the user for it."""

    def __init__(self, message: str, *, wrong: bool = False) -> None:
        super().__init__(message)
        self.wrong = wrong


def is_server_url(text: str | os.PathLike[str]) -> bool:
    """True for a libpq URL (``postgresql://…``), False for a file path."""
    return isinstance(text, str) and text.lower().startswith(SCHEMES)


@dataclass(frozen=True)
class ServerAddress:
    """A PostgreSQL ledger's libpq URL, without a password (refused by :func:`parse_address`).

    ``password`` is one the user typed in the window for this run only (never shown, compared,
    written to settings or the URL); :func:`remember_password` keeps it in the keyring when asked.
    """

    url: str
    password: str | None = field(default=None, repr=False, compare=False)

    def with_password(self, password: str | None) -> ServerAddress:
        """The same address with a password typed for this run."""
        return replace(self, password=password or None)

    def __str__(self) -> str:
        return self.url

    @property
    def parameters(self) -> dict[str, str]:
        from psycopg.conninfo import conninfo_to_dict

        return {key: str(value) for key, value in conninfo_to_dict(self.url).items()}

    def keyring_name(self) -> str:
        """``USER@HOST:PORT/DBNAME`` (or ``service=NAME``): the name a kept password goes under."""
        p = self.parameters
        if "service" in p and "host" not in p:
            return f"service={p['service']}"
        user = p.get("user", "")
        host = p.get("host", "")
        port = p.get("port", "5432")
        return f"{user}@{host}:{port}/{p.get('dbname', user)}"

    def local_folder(self) -> Path:
        """A folder on this computer for what the ledger keeps beside itself (the vault's
        originals), one per server ledger, in the user data folder."""
        from platformdirs import user_data_dir

        from etcbook.paths import APP_NAME

        base = os.environ.get("ETCBOOK_SERVER_FILES") or user_data_dir(APP_NAME, appauthor=False)
        digest = hashlib.sha256(self.url.encode("utf-8")).hexdigest()[:16]
        return Path(base) / "servers" / digest


def parse_address(text: str) -> ServerAddress:
    """Check a libpq URL: well-formed, and without a password (refused with a sentence)."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        parameters = conninfo_to_dict(text)
    except ProgrammingError as exc:
        raise ServerError(f"{text}: PostgreSQL の接続先URLとして読めません（{exc}）。") from None
    if "password" in parameters:
        raise ServerError(PASSWORD_REFUSED)
    return ServerAddress(text)


def stored_password(address: ServerAddress) -> str | None:
    """The password kept in the OS keyring for this server, or None (also without a keyring)."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, address.keyring_name())
    except (KeyringError, RuntimeError):
        return None


def remember_password(address: ServerAddress, password: str) -> None:
    """Keep the password in the OS keyring (Windows 資格情報マネージャー, macOS キーチェーン, …)."""
    import keyring

    keyring.set_password(KEYRING_SERVICE, address.keyring_name(), password)


def _needs_password(exc: Exception) -> bool:
    message = str(exc)
    return "no password supplied" in message or "password authentication failed" in message


def _wrong_password(exc: Exception) -> bool:
    return "password authentication failed" in str(exc)


def connection_problem(address: ServerAddress, exc: Exception) -> ServerError:
    """A sentence for a failed connection (psycopg's OperationalError): a password the server
    asks for (:class:`PasswordNeeded`), a wrong one, a server not reachable, a database or
    role that does not exist."""
    where = describe(address.parameters)
    detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    text = str(exc)
    user = address.parameters.get("user") or "（既定のユーザー）"
    if _wrong_password(exc):
        return PasswordNeeded(
            f"{where}: パスワードが違います（ロール {user}）。正しいパスワードを入力してください。",
            wrong=True,
        )
    if "no password supplied" in text:
        return PasswordNeeded(
            f"{where}: パスワードが必要です（ロール {user}）。pgpass にも資格情報ストアにも"
            "見つかりませんでした。"
        )
    if "does not exist" in text and "database" in text:
        return ServerError(f"{where}: データベースがありません（{detail}）。")
    if "role" in text and "does not exist" in text:
        return ServerError(f"{where}: ロール {user} がサーバーにありません。")
    if "service file" in text or "definition of service" in text:
        return ServerError(f"{where}: 接続サービスの定義が見つかりません（{detail}）。")
    return ServerError(
        f"{where}: PostgreSQL に接続できません。サーバーが動いているか、ホスト名・"
        f"ポートが正しいか確かめてください（{detail}）。"
    )


def _read_dates_as_iso_text(connection: Any) -> None:
    """Raw SQL reads ``timestamp`` and ``date`` values as ISO 8601 text, exactly as on SQLite
    (``2025-06-01T08:30:00``, ``2025-06-01``), so every query gives the same values on both
    databases. The ORM's column types (etcbook.models.columns) turn the text into datetimes."""
    from psycopg.adapt import Loader

    class IsoTimestamp(Loader):
        def load(self, data: Any) -> str:
            return bytes(data).decode("ascii").replace(" ", "T", 1)

    class IsoDate(Loader):
        def load(self, data: Any) -> str:
            return bytes(data).decode("ascii")

    connection.adapters.register_loader("timestamp", IsoTimestamp)
    connection.adapters.register_loader("date", IsoDate)


def connect(address: ServerAddress, **connect_kwargs: Any) -> Any:
    """A psycopg connection to ``address``: with the password typed for this run if any; else
    libpq's own password sources (pgpass, the service file), then the OS keyring's."""
    import psycopg

    if address.password is not None:  # typed because nothing else had it: no try without
        return psycopg.connect(address.url, password=address.password, **connect_kwargs)
    try:
        return psycopg.connect(address.url, **connect_kwargs)
    except psycopg.OperationalError as exc:
        if not _needs_password(exc):
            raise
        password = stored_password(address)
        if password is None:
            raise
        return psycopg.connect(address.url, password=password, **connect_kwargs)


def make_engine(address: ServerAddress, **connect_kwargs: Any) -> Engine:
    """An engine for the ledger at ``address`` (psycopg 3, READ COMMITTED, naive timestamps,
    date-times read as ISO text like SQLite's).

    Every transaction it commits that wrote something sends a NOTIFY on
    :data:`CHANGES_CHANNEL` with the engine's tag (``engine_tag(engine)``), delivered by the
    server at commit, so that windows showing the ledger refresh (:func:`listen_for_changes`).
    """
    import psycopg
    from sqlalchemy import Connection, create_engine, event

    def open_connection() -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] = connect(address, **connect_kwargs)
        return connection

    def connect_engine() -> psycopg.Connection[Any]:
        connection = open_connection()
        # ISO dates; the server's DateStyle could otherwise be 'SQL, DMY' or the like.
        connection.execute("SET DateStyle = 'ISO, YMD'")
        # Room for an import's temporary staging tables in memory (the default 8MB spills a
        # 100,000-row file to disk); allocated only as temporary tables grow, and settable only
        # before the session's first temporary table.
        connection.execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
        connection.commit()
        _read_dates_as_iso_text(connection)
        return connection

    engine = create_engine(
        "postgresql+psycopg://",
        creator=connect_engine,
        isolation_level="READ COMMITTED",
        pool_pre_ping=True,
    )
    import uuid

    tag = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    setattr(engine, ENGINE_TAG, tag)

    @event.listens_for(engine, "commit")
    def _notify_changes(connection: Connection) -> None:
        # An xid is assigned to a transaction at its first write only.
        wrote = connection.exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar()
        if wrote is not None:
            connection.exec_driver_sql(
                "SELECT pg_notify(%(channel)s, %(tag)s)", {"channel": CHANGES_CHANNEL, "tag": tag}
            )

    return engine


def engine_tag(engine: Engine) -> str:
    """The payload of this engine's change notifications (:data:`CHANGES_CHANNEL`)."""
    return str(getattr(engine, ENGINE_TAG, ""))


LISTEN_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
"""TCP keepalives of the listening connection (libpq's parameters; a Unix socket ignores them):
it only ever receives, so a network that fails without a reset would otherwise go unnoticed.
The kernel gives up after about a minute and the socket turns readable with an error."""


def listen_for_changes(address: ServerAddress, **connect_kwargs: Any) -> Any:
    """A connection of its own (autocommit) listening on :data:`CHANGES_CHANNEL`; read its
    notifications with ``connection.notifies(timeout=0)`` when its socket is readable (a
    dropped connection then raises, or reads as ``closed`` / ``broken``)."""
    connection = connect(address, autocommit=True, **{**LISTEN_KEEPALIVES, **connect_kwargs})
    connection.execute(f"LISTEN {CHANGES_CHANNEL}")
    return connection


# -- the libpq service file ----------------------------------------------------------------------


def service_files() -> list[Path]:
    """The service files libpq reads, in its order: ``PGSERVICEFILE`` (else the user's
    ``~/.pg_service.conf``, on Windows ``%APPDATA%\\postgresql\\.pg_service.conf``), then
    ``PGSYSCONFDIR/pg_service.conf``."""
    files: list[Path] = []
    if os.environ.get("PGSERVICEFILE"):
        files.append(Path(os.environ["PGSERVICEFILE"]))
    elif sys.platform == "win32" and os.environ.get("APPDATA"):
        files.append(Path(os.environ["APPDATA"]) / "postgresql" / ".pg_service.conf")
    else:
        files.append(Path.home() / ".pg_service.conf")
    if os.environ.get("PGSYSCONFDIR"):
        files.append(Path(os.environ["PGSYSCONFDIR"]) / "pg_service.conf")
    return files


def service_names() -> list[tuple[str, dict[str, str]]]:
    """The services the service files define (the user's first), with their settings (a
    ``password`` setting left out): what the connect dialog lists."""
    import configparser

    found: dict[str, dict[str, str]] = {}
    for path in service_files():
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error, UnicodeDecodeError):
            continue
        for section in parser.sections():
            settings = {k: v for k, v in parser.items(section) if k != "password"}
            found.setdefault(section, settings)
    return sorted(found.items())


def service_url(name: str) -> str:
    """The URL of a libpq service: ``postgresql:///?service=NAME``."""
    from urllib.parse import quote

    return f"postgresql:///?service={quote(name, safe='')}"


def profile_url(*, host: str, port: str, dbname: str, user: str) -> str:
    """A libpq URL from a profile's fields (a socket folder as host goes into ``?host=``)."""
    from urllib.parse import quote

    netloc = quote(user, safe="") + "@" if user else ""
    path = "/" + quote(dbname, safe="")
    if host.startswith("/") or (len(host) > 2 and host[1] == ":"):
        query = f"?host={quote(host, safe='')}" + (f"&port={port}" if port else "")
        return f"postgresql://{netloc}{path}{query}"
    host_part = f"[{host}]" if ":" in host else host
    return f"postgresql://{netloc}{host_part}{':' + port if port else ''}{path}"


def describe(parameters: Mapping[str, str]) -> str:
    """``DBNAME（HOST）`` for messages."""
    host = parameters.get("host") or "localhost"
    return f"{parameters.get('dbname') or parameters.get('service') or '?'}（{host}）"
