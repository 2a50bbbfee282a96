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


def _elf_facts(path: Path) -> tuple[bool, bool]:
    """(has symbols or debug information to strip, was patched to find libraries beside it:
    an RPATH/RUNPATH relative to ``$ORIGIN``, as auditwheel and the wheels' builds set them)."""
    readelf = subprocess.run(
        ["readelf", "-S", "-d", str(path)], capture_output=True, text=True, check=False
    ).stdout
    strippable = ".symtab" in readelf or ".debug_info" in readelf
    patched = any(
        "$ORIGIN" in line
        for line in readelf.splitlines()
        if "(RPATH)" in line or "(RUNPATH)" in line
    )
    return strippable, patched


def strip_unpatched_libraries(folder: Path) -> int:
    """Strip the shared libraries that still carry symbols (a self-built Python's libpython and
    its extension modules: tens of MB), leaving alone every library that finds others relative
    to itself (auditwheel's patched ones; stripping those can break them) and the *.libs folders.
    Linux only, when binutils' ``strip`` and ``readelf`` are there. Returns the bytes saved."""
    if not sys.platform.startswith("linux") or not (
        shutil.which("strip") and shutil.which("readelf")
    ):
        return 0
    saved = 0
    for path in sorted(folder.rglob("*.so*")):
        if path.is_symlink() or not path.is_file() or any(p.endswith(".libs") for p in path.parts):
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        strippable, patched = _elf_facts(path)
        if strippable and not patched:
            before = path.stat().st_size
            subprocess.run(["strip", "--strip-unneeded", str(path)], check=True)
            saved += before - path.stat().st_size
    return saved


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
    saved = strip_unpatched_libraries(APP)
    if saved:
        print(f"stripped {saved / 1e6:.0f} MB of symbols from unpatched libraries")
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
