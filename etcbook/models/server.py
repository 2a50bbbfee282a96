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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

SCHEMES = ("postgresql://", "postgres://")
KEYRING_SERVICE = "etcbook"

PASSWORD_REFUSED = (
    "パスワードはURLやコマンドラインには書けません。"
    "pgpass ファイル（Windows: %APPDATA%\\postgresql\\pgpass.conf）かOSの資格情報ストアに保存してください。"
)


class ServerError(ValueError):
    """The server address cannot be used; the message is for the user."""


def is_server_url(text: str | os.PathLike[str]) -> bool:
    """True for a libpq URL (``postgresql://…``), False for a file path."""
    return isinstance(text, str) and text.lower().startswith(SCHEMES)


@dataclass(frozen=True)
class ServerAddress:
    """A PostgreSQL ledger's libpq URL, without a password (refused by :func:`parse_address`)."""

    url: str

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


def make_engine(address: ServerAddress, **connect_kwargs: Any) -> Engine:
    """An engine for the ledger at ``address`` (psycopg 3, READ COMMITTED, naive timestamps,
    date-times read as ISO text like SQLite's)."""
    import psycopg
    from sqlalchemy import create_engine

    def open_connection() -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(address.url, **connect_kwargs)
        except psycopg.OperationalError as exc:
            password = stored_password(address) if _needs_password(exc) else None
            if password is None:
                raise
            return psycopg.connect(address.url, password=password, **connect_kwargs)

    def connect() -> psycopg.Connection[Any]:
        connection = open_connection()
        # ISO dates; the server's DateStyle could otherwise be 'SQL, DMY' or the like.
        connection.execute("SET DateStyle = 'ISO, YMD'")
        connection.commit()
        _read_dates_as_iso_text(connection)
        return connection

    return create_engine(
        "postgresql+psycopg://",
        creator=connect,
        isolation_level="READ COMMITTED",
        pool_pre_ping=True,
    )


def describe(parameters: Mapping[str, str]) -> str:
    """``DBNAME（HOST）`` for messages."""
    host = parameters.get("host") or "localhost"
    return f"{parameters.get('dbname') or parameters.get('service') or '?'}（{host}）"
