"""Where etcbook finds its resources and keeps its data."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

RESOURCES = Path(str(files("etcbook") / "resources"))
"""Data files shipped inside the package (operators.toml, ...): the same in a checkout, a wheel
and a frozen bundle."""

APP_NAME = "etcbook"


def default_store_path() -> Path | str:
    """The store: ``ETCBOOK_DB`` if set (a file's path, or a PostgreSQL URL kept as text), else
    ``etcbook.sqlite3`` in the user data folder."""
    env = os.environ.get("ETCBOOK_DB")
    if env:
        return env if env.lower().startswith(("postgresql://", "postgres://")) else Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "etcbook.sqlite3"
