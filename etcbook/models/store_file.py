"""What can be known of a store file without SQLAlchemy or Alembic: its SQLite URI and the
migrations' heads, which a store that needs no upgrade is stamped at (etcbook.models.store opens
stores; etcbook.models.first_look reads one before it opens)."""

from __future__ import annotations

import ast
import functools
from importlib.resources import files
from pathlib import Path

MIGRATIONS = Path(str(files("etcbook.models") / "migrations"))
"""Alembic's scripts, read as files (shipped as package data, collected into the bundle)."""


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


@functools.cache
def declared_heads() -> frozenset[str]:
    """The migration heads, read from the revision files without importing Alembic.

    Opening an up-to-date store (every command does) then costs no Alembic import; only a
    store that needs upgrading goes through Alembic's own graph.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        # Alembic's template puts the identifiers above the first function: parse that part
        # alone (a tenth of the file), or the whole file when they are not there.
        try:
            found = _identifiers(text.split("\ndef ", 1)[0])
        except SyntaxError:  # cut in the middle of a statement
            found = {}
        if len(found) < 2:
            found = _identifiers(text)
        revisions.update(found.get("revision", set()))
        parents.update(found.get("down_revision", set()))
    return frozenset(revisions - parents)


def _identifiers(source: str) -> dict[str, set[str]]:
    """The values of the module-level ``revision`` and ``down_revision`` assignments."""
    found: dict[str, set[str]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        name = getattr(node.targets[0], "id", None)
        if name not in ("revision", "down_revision"):
            continue
        value = ast.literal_eval(node.value)
        found[name] = set(value) if isinstance(value, tuple | list) else {value} - {None}
    return found
