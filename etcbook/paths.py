"""Where etcbook finds what it ships and where it keeps the user's data.

Everything read at run time is found through the import system, never relative to the working
folder or to a checkout: the same code finds it in a checkout, an editable install, a wheel and
the frozen bundle (scripts/bundle).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from importlib.resources import files
from pathlib import Path, PurePath

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


def default_store_path() -> Path | str:
    """The store: ``ETCBOOK_DB`` if set (a file's path, or a PostgreSQL URL kept as text), else
    ``etcbook.sqlite3`` in the user data folder."""
    env = os.environ.get("ETCBOOK_DB")
    if env:
        return env if env.lower().startswith(("postgresql://", "postgres://")) else Path(env)
    return user_data_folder() / "etcbook.sqlite3"


_NETWORK_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "ncpfs", "davfs", "fuse.sshfs", "fuse.rclone"}
)
MOUNTS = Path("/proc/self/mounts")
"""Linux: where the file system type of a folder is read from."""
_DRIVE_REMOTE = 4
"""GetDriveTypeW's answer for a network drive (Windows)."""


def _under(path: PurePath, root: PurePath) -> bool:
    """``path`` is ``root`` or inside it (ignoring case where the system does)."""
    inner, outer = os.path.normcase(str(path)), os.path.normcase(str(root)).rstrip("\\/")
    return inner == outer or inner.startswith((outer + "/", outer + "\\"))


def _cloud_name(folder: str) -> str | None:
    """The sync service whose usual folder name ``folder`` is, else None."""
    name = folder.casefold()
    if name == "onedrive" or name.startswith(("onedrive - ", "onedrive-")):
        return "OneDrive"
    if name == "dropbox" or name.startswith("dropbox ("):
        return "Dropbox"
    if name in ("iclouddrive", "icloud drive", "mobile documents"):
        return "iCloud Drive"
    if name in ("google drive", "googledrive", "マイドライブ") or name.startswith("googledrive-"):
        return "Google ドライブ"
    return None


def _synced_service(path: Path) -> str | None:
    for variable in ("OneDrive", "OneDriveCommercial", "OneDriveConsumer"):
        root = os.environ.get(variable)
        if root and _under(path, Path(root)):
            return "OneDrive"
    with contextlib.suppress(RuntimeError):  # no home folder
        library = Path.home() / "Library"
        if _under(path, library / "Mobile Documents"):  # macOS iCloud Drive
            return "iCloud Drive"
        cloud_storage = library / "CloudStorage"  # macOS File Provider: OneDrive, Dropbox, …
        if _under(path, cloud_storage) and path != cloud_storage:
            first = path.relative_to(cloud_storage).parts[0]
            return _cloud_name(first) or first
    for part in path.parent.parts:
        service = _cloud_name(part)
        if service is not None:
            return service
    return None


def _on_network(path: PurePath) -> bool:
    if sys.platform == "win32":
        if str(path).startswith(("\\\\", "//")):  # \\server\share
            return True
        return bool(path.drive) and _windows_drive_type(path.drive + "\\") == _DRIVE_REMOTE
    if sys.platform.startswith("linux"):
        try:
            lines = MOUNTS.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return False
        best, kind = "", ""
        for line in lines:
            fields = line.split()
            if len(fields) < 3:
                continue
            point = fields[1].replace("\\040", " ")
            if _under(path, Path(point)) and len(point) >= len(best):
                best, kind = point, fields[2]
        return kind in _NETWORK_FILE_SYSTEMS
    return False


def _windows_drive_type(root: str) -> int:
    import ctypes

    windll = getattr(ctypes, "windll", None)
    if windll is None:
        return 0
    return int(windll.kernel32.GetDriveTypeW(root))


def store_location_warning(store_path: Path | str) -> str | None:
    """A warning when the store is in a cloud-synced folder or on a network drive, else None.

    SQLite's write-ahead log (``-wal``, ``-shm``) needs the store on this computer's own disk:
    a sync client (OneDrive, iCloud Drive, Dropbox) uploads the three files at different
    moments and makes conflicted copies, and a network drive gives no shared memory between
    two PCs. The command line prints the warning on stderr, the window shows it once.
    """
    path = Path(store_path).expanduser().absolute()
    with contextlib.suppress(OSError, RuntimeError):
        path = path.resolve()
    service = _synced_service(path)
    if service is not None:
        where = f"{service} で同期されるフォルダ"
    elif _on_network(path):
        where = "ネットワーク上のフォルダ"
    else:
        return None
    return (
        f"注意: ストアが{where}にあります: {path}\n"
        "ストアの作業ファイル（-wal・-shm）は同期や共有に向かず、ストアが壊れたり変更が"
        "失われたりすることがあります。"
        f"ストアはこのコンピューターの同期されないフォルダ（既定の場所）に置き、{where}には"
        "バックアップのZIPを保存してください。"
    )
