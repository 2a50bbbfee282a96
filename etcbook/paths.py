"""Where etcbook finds its resources and keeps its data."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

RESOURCES = Path(str(files("etcbook") / "resources"))
"""Data files shipped inside the package (operators.toml, ...): the same in a checkout, a wheel
and a frozen bundle."""

RULES_FILE = RESOURCES / "operators.toml"
"""The operator rules (etcbook.domain.rules reads and checks them)."""

APP_NAME = "etcbook"


def default_store_path() -> Path:
    """The store file: ``ETCBOOK_DB`` if set, else ``etcbook.sqlite3`` in the user data folder."""
    env = os.environ.get("ETCBOOK_DB")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "etcbook.sqlite3"
