"""Build the frozen one-folder app at dist/etcbook/ with PyInstaller (packaging/etcbook.spec).

    python packaging/build_bundle.py          # scripts/bundle runs it from the project's .venv

1. Writes THIRD_PARTY_LICENSES.txt again from this environment's installed metadata, so the
   bundle names the versions it really contains (scripts/third_party_licenses.py).
2. Runs PyInstaller on the spec: dist/etcbook/etcbook (and etcbook-gui.exe on Windows).
3. Puts beside the executable: THIRD_PARTY_LICENSES.txt and, on Linux, etcbook.desktop and
   etcbook.png (copy them to ~/.local/share/applications and an icon folder to get a menu entry).
4. Prints the folder's size on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
WORK = ROOT / "build" / "bundle"
APP = DIST / "etcbook"
SCRIPTS = ROOT / "scripts"
SPEC = str(ROOT / "packaging" / "etcbook.spec")


def size_on_disk(folder: Path) -> int:
    """Bytes the folder takes on disk (allocated blocks where the system says, else sizes)."""
    total = 0
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        info = path.stat()
        blocks = getattr(info, "st_blocks", None)
        total += blocks * 512 if blocks is not None else info.st_size
    return total


def build() -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    licences = WORK / "THIRD_PARTY_LICENSES.txt"
    subprocess.run(
        [
            sys.executable,
            str(SCRIPTS / "third_party_licenses.py"),
            "--bundle",
            "--out",
            str(licences),
        ],
        check=True,
    )
    env = {**os.environ, "ETCBOOK_THIRD_PARTY_LICENSES": str(licences)}
    places = ["--distpath", str(DIST), "--workpath", str(WORK / "pyinstaller")]
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", *places, SPEC],
        check=True,
        env=env,
        cwd=ROOT,
    )
    shutil.copyfile(licences, APP / licences.name)
    if sys.platform.startswith("linux"):
        shutil.copyfile(ROOT / "packaging" / "linux" / "etcbook.desktop", APP / "etcbook.desktop")
        shutil.copyfile(
            ROOT / "etcbook" / "resources" / "icons" / "etcbook.png", APP / "etcbook.png"
        )
    return APP


def main() -> int:
    app = build()
    executable = app / ("etcbook.exe" if os.name == "nt" else "etcbook")
    print(f"{executable}: {size_on_disk(app) / 1e6:.0f} MB on disk")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
