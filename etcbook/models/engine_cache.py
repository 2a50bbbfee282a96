"""The mileage engine's results kept in the store, valid only for the data they came from.

Replaying every card of a large store takes about a second; an unchanged store should not pay
it again at each start. Every transaction that changes a row of the store, from any process,
bumps ``data_version.version`` in that same transaction (see
:func:`etcbook.models.store.note_changes`). A cached result is stored with the version it was
read at, the as-of date and a fingerprint of everything else it depends on (the rules file, the
engine's code, the holiday calendar); it is used only while all of them are unchanged, so
a result is never shown after the data it came from changed.

The cache lives in the store file itself: a backup, a restore or a copy carries the results of
its own data and never another file's.
"""

from __future__ import annotations

import copyreg
import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import io
import pickle
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from etcbook.models.first_look import DriverConnection
    from etcbook.models.store import Store

T = TypeVar("T")


def data_version(*, connection: DriverConnection) -> int | None:
    """The store's data version (``None`` for a store without the table)."""
    row = connection.exec_driver_sql("SELECT max(version) FROM data_version").first()
    return None if row is None or row[0] is None else int(row[0])


# -- what else a result depends on --------------------------------------------------------------


@functools.cache
def _code_fingerprint() -> str:
    """A digest of the code results are computed by (etcbook.domain, etcbook.models, the
    window's summaries) and of the holiday calendar (jpholiday)."""
    from importlib.util import find_spec

    from etcbook import __version__

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    holidays = find_spec("jpholiday")  # found, not imported: its files' dates stand for it
    if holidays is not None and holidays.submodule_search_locations:
        for folder in holidays.submodule_search_locations:
            for part in sorted(Path(folder).glob("*.py")):
                stat = part.stat()
                digest.update(f"{part.name} {stat.st_size} {stat.st_mtime_ns}".encode())
    package = here.parent
    sources = [*sorted((package / "domain").glob("*.py")), *sorted(here.glob("*.py"))]
    for source in [*sources, package / "ui" / "mileage.py"]:
        try:
            digest.update(source.name.encode() + source.read_bytes())
        except OSError:  # a bundle without sources: the version alone
            continue
    return digest.hexdigest()[:16]


def cache_key(*, version: int, as_of: dt.date, rules_path: Path) -> str:
    """The key of a result read at ``version`` for ``as_of`` with the rules at ``rules_path``."""
    try:
        rules = hashlib.sha256(rules_path.read_bytes()).hexdigest()[:16]
    except OSError:
        rules = "none"
    return f"v{version}|{as_of.isoformat()}|rules {rules}|code {_code_fingerprint()}"


# -- the payload --------------------------------------------------------------------------------


def _reduce_mappingproxy(proxy: types.MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return types.MappingProxyType, (dict(proxy),)


_ALLOWED = {
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("types", "MappingProxyType"),
}


class _Unpickler(pickle.Unpickler):
    """Loads only etcbook.domain's records (and the caller's own modules') and plain values: a
    store file from elsewhere cannot make the window run code (pickle's "restricting globals")."""

    def __init__(self, file: io.BytesIO, modules: tuple[str, ...]) -> None:
        super().__init__(file)
        self._modules = modules

    def find_class(self, module: str, name: str) -> Any:
        if (
            (module, name) in _ALLOWED
            or module.startswith("etcbook.domain.")
            or module in self._modules
        ):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the engine cache")


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass built from them alone (``None`` when it is not)."""
    fields = dataclasses.fields(cls)
    if any(not field.init for field in fields):
        return None
    return tuple(field.name for field in fields)


class _Pickler(pickle.Pickler):
    """Writes etcbook.domain's frozen dataclasses as ``cls(*fields)``: read back ten times
    faster than through dataclasses' own ``__setstate__`` (tens of thousands of records)."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.dispatch_table = {
            **copyreg.dispatch_table,
            types.MappingProxyType: _reduce_mappingproxy,
        }

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls.__module__.startswith("etcbook.domain.") and dataclasses.is_dataclass(cls):
            names = _init_fields(cls)
            if names is not None:
                return cls, tuple(getattr(obj, name) for name in names)
        return NotImplemented


def dumps(value: object) -> bytes:
    """``value`` (engine states) as bytes for the cache."""
    buffer = io.BytesIO()
    _Pickler(buffer).dump(value)
    return buffer.getvalue()


def loads(payload: bytes, *, modules: tuple[str, ...] = ()) -> Any:
    """The value :func:`dumps` wrote (the cyclic collector paused: only new acyclic records).

    ``modules``: modules besides etcbook.domain whose classes the value may hold.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Unpickler(io.BytesIO(payload), modules).load()
    finally:
        if was_enabled:
            gc.enable()


# -- reading and writing ------------------------------------------------------------------------


def read_cached(
    *, connection: DriverConnection, name: str, key: str, modules: tuple[str, ...] = ()
) -> Any | None:
    """The value cached under ``name`` when it was stored with ``key``; else ``None``."""
    row = connection.exec_driver_sql(
        "SELECT payload FROM engine_cache WHERE name = ? AND key = ?", (name, key)
    ).first()
    if row is None:
        return None
    try:
        return loads(bytes(row[0]), modules=modules)
    except Exception:  # written by another etcbook, or damaged: computed again
        return None


def write_cached(store: Store, *, name: str, key: str, value: object) -> bool:
    """Keep ``value`` under ``name`` with ``key``; ``False`` when the store is busy (not kept)."""
    from sqlalchemy.exc import OperationalError

    from etcbook.models.store import CACHE_WRITE

    payload = dumps(value)
    try:
        with store.transaction(wait_s=0) as connection:
            connection = connection.execution_options(**{CACHE_WRITE: True})
            connection.exec_driver_sql(
                "INSERT OR REPLACE INTO engine_cache (name, key, payload) VALUES (?, ?, ?)",
                (name, key, payload),
            )
    except OperationalError:  # another process is writing: the next start computes again
        return False
    return True


def current_key(*, connection: DriverConnection, as_of: dt.date, rules_path: Path) -> str | None:
    """The key a result read now on ``connection`` is valid for (``None``: nothing to keep).

    Always ``None`` on PostgreSQL: there row-level security shows each login other cards, so a
    result kept by one person must never be read by another, and the server has no cheap
    equivalent of SQLite's ``total_changes`` to bump the version by; the window computes
    every time there (the server is the shared, fast machine).
    """
    dialect = getattr(connection, "dialect", None)  # none on the first look's sqlite3 reader
    if dialect is not None and dialect.name == "postgresql":
        return None
    version = data_version(connection=connection)
    if version is None:
        return None
    return cache_key(version=version, as_of=as_of, rules_path=rules_path)


def cached(
    *,
    connection: DriverConnection,
    name: str,
    as_of: dt.date,
    rules_path: Path,
    compute: Callable[[], T],
) -> tuple[T, str | None, bool]:
    """``compute()``'s value, from the cache when the store has not changed since it was kept.

    Read in the caller's transaction (``connection``), so that the version and the data
    ``compute`` reads are the same snapshot. Returns ``(value, key, from_cache)``; the key is
    ``None`` for a store without a data version (nothing to keep then).
    """
    key = current_key(connection=connection, as_of=as_of, rules_path=rules_path)
    if key is None:
        return compute(), None, False
    value = read_cached(connection=connection, name=name, key=key)
    if value is not None:
        return value, key, True
    return compute(), key, False
