"""What the package and the bundle ship besides code: licences, icon, desktop entry."""

from __future__ import annotations

import configparser
import importlib.util
import struct
from pathlib import Path

from etcbook.paths import ICON_PNG, RESOURCES, THIRD_PARTY_LICENSES

ROOT = Path(__file__).resolve().parents[2]


def _licences_script():  # type: ignore[no-untyped-def]
    path = ROOT / "scripts" / "third_party_licenses.py"
    spec = importlib.util.spec_from_file_location("third_party_licenses", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_licences_name_every_direct_dependency() -> None:
    """The committed file covers what pyproject.toml asks for (run the script after adding a
    dependency). Indirect ones are listed as they were installed when it was written; a new
    release that brings another one does not fail this, and the bundle's copy is always
    written afresh from what it contains."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    text = THIRD_PARTY_LICENSES.read_text(encoding="utf-8")
    contents = text.split("Contents\n", 1)[1].split("=" * 78, 1)[0]
    listed = {line.split()[0].lower().replace("_", "-") for line in contents.splitlines() if line}
    script = _licences_script()
    direct = [Requirement(r) for r in requires("etcbook") or []]
    needed = {
        script.normalized(r.name)
        for r in direct
        if r.marker is None or r.marker.evaluate({"extra": ""})
    }
    assert needed <= listed, f"missing from THIRD_PARTY_LICENSES.txt: {sorted(needed - listed)}"
    assert {"pyside6-essentials", "matplotlib-fontja", "reportlab"} <= needed
    found = {script.normalized(d.metadata["Name"]) for d in script.runtime_distributions()}
    assert needed <= found  # the script follows them (and what they need)
    assert "IPA Font License Agreement v1.0" in text
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in text


def test_icon_bitmaps_come_from_the_svg() -> None:
    icons = RESOURCES / "icons"
    assert (icons / "etcbook.svg").read_text().startswith("<svg")
    png = ICON_PNG.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (256, 256)
    ico = (icons / "etcbook.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 5  # an icon file with several sizes


def test_desktop_entry_starts_the_gui_script() -> None:
    entry = configparser.ConfigParser(interpolation=None, strict=True)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(ROOT / "packaging" / "linux" / "etcbook.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"] == "etcbook-gui"
    assert desktop["Icon"] == "etcbook" == ICON_PNG.stem
    assert desktop["Terminal"] == "false"
    assert desktop["Categories"].endswith(";")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'etcbook-gui = "etcbook.cli:gui_main"' in pyproject
