"""Opening the store: one SQLite file (WAL, foreign keys, busy timeout) or a PostgreSQL database
(etcbook.models.server), migrated at open."""

from __future__ import annotations

import ast
import functools
import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from etcbook import clock, phases
from etcbook.models.server import (
    ServerAddress,
    ServerError,
    describe,
    is_server_url,
    make_engine,
    parse_address,
)
from etcbook.safeio import open_binary_fd

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlmodel import Session

MIGRATIONS = Path(str(files("etcbook.models") / "migrations"))
"""Alembic's scripts, read as files (shipped as package data, collected into the bundle)."""
SCHEMA_SCRIPT = MIGRATIONS / "schema.sql"
"""A new store's schema and first rows as the migrations build them (``alembic_version``
included): a new store is created from it in one transaction instead of replaying every
migration. Written by ``python -m etcbook.models.store``; used only while its heads are the
migrations' heads (else the migrations run, as for an upgrade)."""
BUSY_TIMEOUT_MS = 15_000
WRITER_WAIT_S = 300.0
"""How long a writer waits in all for other processes' writes (BEGIN IMMEDIATE is retried)."""


class StoreError(RuntimeError):
    """The store cannot be opened or upgraded; the message is for the user."""


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """``PRAGMA journal_mode=WAL``, retried: while another process is creating the same new store,
    SQLite answers "database is locked" at once, without waiting for the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def sqlite_uri(path: Path | str, *, read_only: bool = False) -> str:
    """A SQLite ``file:`` URI for ``path`` (open it with ``sqlite3.connect(uri, uri=True)``).

    Built with :meth:`Path.as_uri`, which percent-encodes ``#``, ``?``, ``%``, spaces and
    Japanese names (a raw ``f"file:{path}"`` cuts the path at ``#`` or ``?``, drops
    ``mode=ro`` and creates an empty database elsewhere) and gives ``file:///C:/…`` on Windows.
    A UNC path (``\\\\server\\share\\…``) becomes ``file:////server/share/…``: SQLite refuses a
    URI authority other than ``localhost``.
    """
    uri = Path(path).absolute().as_uri()
    if not uri.startswith("file:///"):
        uri = "file:////" + uri.removeprefix("file://")
    return uri + ("?mode=ro" if read_only else "")


def _make_engine(path: Path) -> Engine:
    # URL.create takes the file name as it is: "?" or "#" in a folder name stays in the name.
    engine = create_engine(
        URL.create("sqlite", database=str(path)),
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (BEGIN IMMEDIATE below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if sys.platform == "darwin":
            # macOS's fsync leaves writes in the drive's cache; checkpoints ask for F_FULLFSYNC.
            cursor.execute("PRAGMA checkpoint_fullfsync=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers ask for BEGIN IMMEDIATE (see Store.transaction) and take the lock up front,
        # so two processes never deadlock upgrading a read lock; readers begin deferred.
        options = connection.get_execution_options()
        mode = options.get("sqlite_begin", "DEFERRED")
        deadline = time.monotonic() + options.get("writer_wait_s", WRITER_WAIT_S)
        while True:
            try:
                connection.exec_driver_sql(f"BEGIN {mode}")
                break
            except OperationalError as exc:
                # Each try waited busy_timeout; a queue of long imports may need several.
                if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                    raise
        connection.info[_CHANGES_AT_BEGIN] = _driver(connection).total_changes

    @event.listens_for(engine, "commit")
    def _on_commit(connection: Connection) -> None:
        note_changes(connection)

    return engine


_CHANGES_AT_BEGIN = "etcbook_changes_at_begin"
CACHE_WRITE = "etcbook_cache_write"
"""Execution option of a connection writing only cached results (etcbook.models.engine_cache):
its writes change no data, so they do not bump the data version (which would invalidate them)."""


def _driver(connection: Connection) -> sqlite3.Connection:
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def note_changes(connection: Connection) -> None:
    """Bump the data version when the transaction about to commit changed any row.

    Runs inside the transaction (SQLAlchemy's ``commit`` event comes before the COMMIT), so the
    change and the new version are committed together, whichever process wrote them; cached
    results keyed by the version (:mod:`etcbook.models.engine_cache`) are then out of date.
    """
    driver = _driver(connection)
    if driver.total_changes == connection.info.get(_CHANGES_AT_BEGIN, -1):
        return
    if connection.get_execution_options().get(CACHE_WRITE):
        return
    try:
        driver.execute("UPDATE data_version SET version = version + 1")
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):  # a store being migrated up to the table
            raise


def _create_private_file(path: Path) -> None:
    """Create the store's folder (0700) and an empty file (0600) readable only by the user."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent != Path(".").resolve() and not any(path.parent.iterdir()):
        os.chmod(path.parent, 0o700)
    try:
        fd = open_binary_fd(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return  # another process created it a moment ago; migrating waits for its write lock
    os.close(fd)


@functools.cache
@functools.cache
def _declared_heads() -> frozenset[str]:
    """The migration heads, read from the revision files without importing Alembic.

    Opening an up-to-date store (every command does) then costs no Alembic import; only a
    store that needs upgrading goes through Alembic's own graph. Only the ``revision`` and
    ``down_revision`` lines are read (a whole file parsed only when one spans several lines);
    once per process.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        try:
            found = [
                (m.group(1), ast.literal_eval(m.group(2).strip()))
                for m in _REVISION_LINE.finditer(source)
            ]
        except (ValueError, SyntaxError):  # a value over several lines
            found = [
                (str(getattr(node.targets[0], "id", "")), ast.literal_eval(node.value))
                for node in ast.parse(source).body
                if isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) in ("revision", "down_revision")
            ]
        for name, value in found:
            values = set(value) if isinstance(value, tuple | list) else {value} - {None}
            (revisions if name == "revision" else parents).update(values)
    return frozenset(revisions - parents)


_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=([^\n]*)$", re.MULTILINE)


def _stored_revisions(engine: Engine) -> Set[str] | None:
    """The store's alembic_version rows, or None when the table does not exist yet."""
    from sqlalchemy import inspect

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return {
            row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        }


def _current_and_target(engine: Engine) -> tuple[set[str], set[str], set[str]]:
    """The store's revisions, the code's heads, and the store's revisions this code doesn't know."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    known = {revision.revision for revision in script.walk_revisions()}
    return current, set(script.get_heads()), current - known


def _schema_statements() -> list[str] | None:
    """The statements of :data:`SCHEMA_SCRIPT` when it was written for the current heads."""
    try:
        script = SCHEMA_SCRIPT.read_text(encoding="utf-8")
    except OSError:
        return None
    first, _, rest = script.partition("\n")
    if frozenset(first.removeprefix("-- heads:").split()) != _declared_heads():
        return None
    statements, pending = [], ""
    for line in rest.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    return statements


def _create_from_script(engine: Engine) -> bool:
    """Create a new store's schema from :data:`SCHEMA_SCRIPT`, stamped at the heads (the rows of
    ``alembic_version`` are in the script), in one transaction: ``False`` when the script is
    missing or out of date (the migrations then build the store)."""
    statements = _schema_statements()
    if statements is None:
        return False
    with engine.connect() as connection:
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            created = connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'"
            ).first()
            if created is None:  # not by another process a moment ago
                driver = _driver(connection)
                for statement in statements:
                    driver.execute(statement)
    return True


def schema_script() -> str:
    """:data:`SCHEMA_SCRIPT`'s text: a store built by the migrations, dumped (sqlite3 iterdump)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="etcbook-schema-") as folder:
        path = Path(folder) / "schema.sqlite3"
        engine = _make_engine(path)
        try:
            from alembic import command

            with engine.connect() as connection:
                connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                with connection.begin():
                    command.upgrade(_alembic_config(connection), "heads")
        finally:
            engine.dispose()
        dump = sqlite3.connect(path)
        try:
            lines = [
                line for line in dump.iterdump() if line not in ("BEGIN TRANSACTION;", "COMMIT;")
            ]
        finally:
            dump.close()
    heads = " ".join(sorted(_declared_heads()))
    return f"-- heads: {heads}\n" + "\n".join(lines) + "\n"


def backup_copy(path: Path, suffix: str) -> Path:
    """Copy a store with SQLite's online backup API (consistent even while it is in use)."""
    target = path.with_name(f"{path.stem}.{suffix}{path.suffix}")
    source = sqlite3.connect(path)
    try:
        fd = open_binary_fd(target, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        os.close(fd)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return target


@dataclass
class Store:
    """An open store: the file's path and its engine. Pass it explicitly; there is no global one.

    On PostgreSQL ``address`` is the server's URL and ``path`` a place in this computer's user data
    folder that stands for the ledger's file (the vault's folder sits beside it).
    """

    path: Path
    engine: Engine
    upgraded_from: frozenset[str] = frozenset()
    backup: Path | None = None
    address: ServerAddress | None = None

    @property
    def on_server(self) -> bool:
        """True for a PostgreSQL ledger."""
        return self.address is not None

    @property
    def name(self) -> str:
        """The file's path or the server's URL, for messages and JSON."""
        return str(self.address if self.address is not None else self.path)

    def session(self, *, write: bool = False) -> Session:
        """An ORM session; ``write=True`` begins its transactions with BEGIN IMMEDIATE."""
        from sqlmodel import Session  # imported here: opening the store needs no ORM

        bind = self.engine.execution_options(sqlite_begin="IMMEDIATE") if write else self.engine
        return Session(bind, expire_on_commit=False)

    @contextmanager
    def transaction(self, *, wait_s: float | None = None) -> Iterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on any exception).

        While another process writes, the lock is asked for again until ``wait_s`` seconds
        have passed (each try waits the busy timeout); then SQLite's "database is locked"
        is raised. An edit on the GUI thread passes 0: one busy timeout at most, then a
        message, rather than a window frozen behind a queue of imports. The default,
        :data:`WRITER_WAIT_S`, is read at each call.
        """
        with self.engine.connect() as connection:
            connection = connection.execution_options(
                sqlite_begin="IMMEDIATE",
                writer_wait_s=WRITER_WAIT_S if wait_s is None else wait_s,
            )
            with connection.begin():
                yield connection

    def close(self) -> None:
        self.engine.dispose()


StoreTarget = Path | ServerAddress
"""Where a store is: a SQLite file's path or a PostgreSQL server's address."""


def store_target(text: str | os.PathLike[str] | ServerAddress) -> StoreTarget:
    """``--db`` / ``ETCBOOK_DB`` text → a path, or a server address (a libpq URL).

    Raises StoreError for a URL with a password or one libpq cannot read.
    """
    if isinstance(text, ServerAddress):
        return text
    if is_server_url(text):
        try:
            return parse_address(str(text))
        except ServerError as exc:
            raise StoreError(str(exc)) from None
    return Path(text)


def open_store(path: Path | str | ServerAddress) -> Store:
    """Open (creating if needed) and migrate the store at ``path`` (a file or a server URL).

    When an existing file needs upgrading, a backup copy is kept beside it first.
    """
    where = store_target(path)
    if isinstance(where, ServerAddress):
        return _open_server(where)
    path = where
    try:
        path = Path(path).expanduser().absolute()
    except RuntimeError:  # "~someone/…" for a user who does not exist
        raise StoreError(f"{path}: ストアのフォルダ（ホームフォルダ）が見つかりません。") from None
    try:
        is_new = not path.exists() or path.stat().st_size == 0
        if is_new and not path.exists():
            _create_private_file(path)
        elif path.is_dir():
            raise StoreError(f"{path}: フォルダです。ストアのファイル名を指定してください。")
        else:
            with open(path, "rb") as handle:
                head = handle.read(16)
            if head and head != b"SQLite format 3\x00":
                raise StoreError(f"{path}: etcbook のストア（SQLiteファイル）ではありません。")
    except OSError as exc:  # a name too long, a parent that is a file, no permission, …
        raise StoreError(f"{path}: ストアを開けません（{exc.strerror or exc}）。") from None
    engine = _make_engine(path)
    if is_new and _create_from_script(engine):
        return Store(path=path, engine=engine)
    if _stored_revisions(engine) == _declared_heads():
        return _with_own_vault(Store(path=path, engine=engine, upgraded_from=_declared_heads()))
    current, target, unknown = _current_and_target(engine)
    backup = None
    if current != target:
        if unknown:
            engine.dispose()
            raise StoreError(
                f"{path}: このストアはより新しい etcbook で作られています（{', '.join(sorted(unknown))}）。"
            )
        if not is_new:
            stamp = clock.now().strftime("%Y%m%d-%H%M%S")
            backup = backup_copy(path, f"before-upgrade-{stamp}")
        from alembic import command

        with engine.connect() as connection:
            connection = connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                phases.mark("migrate", "start")
                command.upgrade(_alembic_config(connection), "heads")
                phases.mark("migrate", "commit")
            phases.mark("migrate", "end")
    store = Store(path=path, engine=engine, upgraded_from=frozenset(current), backup=backup)
    return store if is_new else _with_own_vault(store)


def _with_own_vault(store: Store) -> Store:
    """``store`` once its vault is its own (split from a shared ``ETC`` folder if needed)."""
    from etcbook.models.vault import split_shared_vault

    try:
        split_shared_vault(store=store)
    except OSError as exc:
        store.close()
        raise StoreError(
            f"{store.path}: 証憑フォルダをストアごとに分けられません（{exc.strerror or exc}）。"
            "元の ETC フォルダはそのままです。"
        ) from None
    return store


UPGRADE_LOCK = 0x65746362  # "etcb": one migration at a time per database


def _open_server(address: ServerAddress) -> Store:
    """Connect to a PostgreSQL ledger and migrate it when this role may.

    Clients opening it at once take turns (a transaction advisory lock); each migration runs in
    one transaction, so a refused or failed upgrade leaves the database as it was.
    """
    import psycopg
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(address)
    path = address.local_folder() / "ledger"
    try:
        if _stored_revisions(engine) == _declared_heads():
            return Store(path=path, engine=engine, upgraded_from=_declared_heads(), address=address)
        current, target, unknown = _current_and_target(engine)
        if unknown:
            raise StoreError(
                f"{address}: このデータベースはより新しい etcbook で作られています（{', '.join(sorted(unknown))}）。"
            )
        if current != target:
            from alembic import command

            with engine.connect() as connection, connection.begin():
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK})")
                command.upgrade(_alembic_config(connection), "heads")
    except DBAPIError as exc:
        engine.dispose()
        if isinstance(exc.orig, psycopg.errors.InsufficientPrivilege):
            owner = _database_owner(address)
            raise StoreError(
                f"{address}: このデータベースは etcbook {', '.join(sorted(_declared_heads()))} 向けに"
                f"更新が必要ですが、このロールには権限がありません。データベースの所有者（ロール {owner}）が"
                "新しい etcbook で一度開いて更新してください。"
            ) from None
        if isinstance(exc.orig, psycopg.OperationalError):
            raise StoreError(
                f"{describe(address.parameters)}: PostgreSQL に接続できません（{str(exc.orig).strip()}）。"
            ) from None
        raise
    return Store(path=path, engine=engine, upgraded_from=frozenset(current), address=address)


def _database_owner(address: ServerAddress) -> str:
    engine = make_engine(address)
    try:
        with engine.connect() as connection:
            owner = connection.exec_driver_sql(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
            ).scalar()
        return str(owner)
    except Exception:  # the sentence still names the database; the owner is a courtesy
        return "（不明）"
    finally:
        engine.dispose()


if __name__ == "__main__":  # python -m etcbook.models.store: write SCHEMA_SCRIPT again
    SCHEMA_SCRIPT.write_text(schema_script(), encoding="utf-8", newline="\n")
    print(f"wrote {SCHEMA_SCRIPT}")
