"""Where etcbook finds what it ships and where it keeps the user's data.

Everything read at run time is found through the import system, never relative to the working
folder or to a checkout: the same code finds it in a checkout, an editable install, a wheel and
the frozen bundle (scripts/bundle).
"""

from __future__ import annotations

import importlib.util
import os
from importlib.resources import files
from pathlib import Path

RESOURCES = Path(str(files("etcbook") / "resources"))
"""Data files shipped inside the package (operators.toml, icons, THIRD_PARTY_LICENSES.txt)."""

APP_NAME = "etcbook"

ICON_PNG = RESOURCES / "icons" / "etcbook.png"
"""The application icon (256 px), for the window; the bundle takes its .ico beside it."""

THIRD_PARTY_LICENSES = RESOURCES / "THIRD_PARTY_LICENSES.txt"
"""The licences of everything etcbook ships with it (scripts/third_party_licenses.py writes it)."""

FONT_PACKAGE = "matplotlib_fontja"
"""The package that ships the IPAexGothic font (``fonts/ipaexg.ttf``)."""


def ipaexgothic_path() -> Path | None:
    """The ``ipaexg.ttf`` of the installed matplotlib-fontja, or ``None`` when it is absent.

    Located through the package's import spec, so that matplotlib itself (which
    ``matplotlib_fontja`` imports) is not loaded just to find the file.
    """
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None:
        return None
    for location in spec.submodule_search_locations or ():
        for candidate in (Path(location) / "fonts" / "ipaexg.ttf", Path(location) / "ipaexg.ttf"):
            if candidate.is_file():
                return candidate
    return None


def user_data_folder() -> Path:
    """The platform's data folder for etcbook (the default store and the sample live here)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_store_path() -> Path:
    """The store file: ``ETCBOOK_DB`` if set, else ``etcbook.sqlite3`` in the user data folder."""
    env = os.environ.get("ETCBOOK_DB")
    if env:
        return Path(env)
    return user_data_folder() / "etcbook.sqlite3"
