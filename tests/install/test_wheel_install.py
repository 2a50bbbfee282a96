"""The wheel, as a user gets it: built from a copy of the checkout, installed into a new virtual
environment outside it, and run from another folder (packaging/smoke.py: demo, status, import,
claim PDF with IPAexGothic embedded, the window offscreen)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from etcbook import __version__

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _smoke_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("etcbook_smoke", ROOT / "packaging" / "smoke.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    smoke = _smoke_module()
    wheel = smoke.build_wheel(ROOT, tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"etcbook-{__version__}.dist-info/entry_points.txt").decode()
    for shipped in (
        "etcbook/resources/operators.toml",
        "etcbook/resources/THIRD_PARTY_LICENSES.txt",
        "etcbook/resources/icons/etcbook.png",
        "etcbook/models/migrations/env.py",
        "etcbook/models/migrations/versions/0001_initial.py",
    ):
        assert shipped in names
    assert "[gui_scripts]\netcbook-gui = etcbook.cli:gui_main" in entry_points

    # The sdist carries the same files (a wheel built from it would too).
    sdist_dir = tmp_path / "sdist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--sdist",
            "--outdir",
            str(sdist_dir),
            str(tmp_path / "source"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (sdist,) = sdist_dir.glob("etcbook-*.tar.gz")
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {name for name in names if name.startswith("etcbook/")} <= in_sdist

    bin_dir = smoke.install_wheel(wheel, tmp_path / "venv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = smoke.clean_env(tmp_path)
    python = str(bin_dir / ("python.exe" if os.name == "nt" else "python"))
    where = subprocess.run(
        [python, "-c", "import etcbook.paths as p; print(p.RESOURCES)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv")  # not the checkout's package
    for launcher in (
        [python, "-m", "etcbook", "--version"],
        [str(bin_dir / "etcbook-gui"), "--version"],
    ):
        done = subprocess.run(
            launcher, cwd=elsewhere, env=env, capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == f"etcbook {__version__}"

    times = smoke.smoke([str(bin_dir / "etcbook")], tmp_path / "smoke")
    assert times["window_shown"] > 0
