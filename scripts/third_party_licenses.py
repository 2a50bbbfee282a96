"""Write the licences of everything etcbook runs with into one text file.

    .venv/bin/python scripts/third_party_licenses.py [--out PATH]

Reads the installed packages' metadata (importlib.metadata): etcbook's run-time requirements,
followed recursively, each with its version, its declared licence and the licence files it ships;
then the IPA Font License of IPAexGothic, the GNU LGPL/GPL texts for Qt for Python (whose wheels
carry none) and Python's own licence (the frozen bundle ships the interpreter). The default output
is etcbook/resources/THIRD_PARTY_LICENSES.txt (shipped in the wheel, shown by ヘルプ → etcbook
について); scripts/bundle writes it again from the build environment, so the bundle names the
versions it contains.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import re
import sys
import sysconfig
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "etcbook" / "resources" / "THIRD_PARTY_LICENSES.txt"
GNU_TEXTS = ROOT / "packaging" / "licenses"
LICENSE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|COPYRIGHT)", re.IGNORECASE)
QT_FOR_PYTHON = {"pyside6-essentials", "shiboken6"}
RULE = "=" * 78


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_distributions(root: str = "etcbook") -> list[metadata.Distribution]:
    """``root``'s installed run-time requirements, followed recursively (no extras), by name."""
    found: dict[str, metadata.Distribution] = {}
    pending = [root]
    environment = {"extra": ""}
    while pending:
        name = pending.pop()
        if normalized(name) in found:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform
        found[normalized(name)] = distribution
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                pending.append(requirement.name)
    found.pop(normalized(root), None)
    return sorted(found.values(), key=lambda d: normalized(d.metadata["Name"]))


def declared_license(distribution: metadata.Distribution) -> str:
    meta = distribution.metadata
    expression = meta.get("License-Expression")
    if expression:
        return expression
    classifiers = [
        c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if "License ::" in c
    ]
    short = (meta.get("License") or "").strip()
    if short and "\n" not in short and len(short) < 80:
        return short
    return ", ".join(classifiers) or "see the licence text below"


def license_files(distribution: metadata.Distribution) -> list[tuple[str, str]]:
    """(file name, text) of every licence file in the distribution's metadata or package."""
    texts: dict[str, tuple[str, str]] = {}  # by text: a file shipped twice is printed once
    for file in sorted(distribution.files or [], key=str):
        in_licenses = "licenses" in file.parts[:-1] or "license_files" in file.parts[:-1]
        if not (LICENSE_FILE.match(file.name) or in_licenses) or file.suffix in {".py", ".pyc"}:
            continue
        path = Path(str(distribution.locate_file(file)))
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            texts.setdefault(text, (str(file), text))
    return sorted(texts.values())


def section(title: str, body: str) -> str:
    return f"{RULE}\n{title}\n{RULE}\n\n{body.strip()}\n\n"


def write(out: Path, *, bundle: bool = False) -> Path:
    from etcbook import __version__

    parts = [
        f"etcbook {__version__}: third-party software and its licences\n\n"
        "etcbook itself is under the MIT licence. It runs with the software listed below, which\n"
        "the frozen bundle (dist/etcbook) also contains. Qt and Qt for Python (PySide6, shiboken6)\n"
        "are used under the GNU LGPL v3: in the bundle they are separate shared libraries, which\n"
        "you may replace with your own build of the same version. The Japanese font IPAexGothic\n"
        "is shipped, unchanged, by matplotlib-fontja under the IPA Font License Agreement v1.0.\n"
        "Written by scripts/third_party_licenses.py from the installed packages' metadata.\n\n"
    ]
    distributions = runtime_distributions()
    if bundle:  # the frozen app's executables are PyInstaller's bootloader
        distributions = sorted(
            [*distributions, metadata.distribution("pyinstaller")],
            key=lambda d: normalized(d.metadata["Name"]),
        )
    parts.append("Contents\n\n")
    for d in distributions:
        parts.append(f"  {d.metadata['Name']} {d.version}: {declared_license(d)}\n")
    parts.append(f"  Python {sys.version.split()[0]}: PSF-2.0\n\n")
    for d in distributions:
        meta = d.metadata
        head = f"{meta['Name']} {d.version}\nLicence: {declared_license(d)}"
        home = meta.get("Home-page") or next(
            (u.split(",", 1)[1].strip() for u in meta.get_all("Project-URL") or []), ""
        )
        if home:
            head += f"\nProject: {home}"
        texts = license_files(d)
        if normalized(meta["Name"]) in QT_FOR_PYTHON:
            texts = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(GNU_TEXTS.glob("*"))]
        body = "\n\n".join(f"--- {name}\n\n{text.strip()}" for name, text in texts)
        parts.append(section(head, body or "(no licence file shipped; see the project)"))
    python_license = Path(sysconfig.get_path("stdlib")) / "LICENSE.txt"
    if python_license.is_file():
        parts.append(section(f"Python {sys.version.split()[0]}", python_license.read_text()))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(parts), encoding="utf-8", newline="\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--bundle", action="store_true", help="for the frozen app: add PyInstaller's bootloader"
    )
    args = parser.parse_args(argv)
    print(write(args.out, bundle=args.bundle))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
