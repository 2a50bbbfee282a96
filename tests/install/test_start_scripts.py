"""The start scripts: bash ones that work on macOS without GNU tools, Windows ones beside them."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
BASH_SCRIPTS = [SCRIPTS / name for name in ("app", "test", "bundle", "bootstrap.sh")]

GNU_ONLY = re.compile(
    r"\b(sha256sum|sha1sum|md5sum|readlink -f|realpath|sed -i|grep -P|date -d|stat -c|timeout|tac|nproc)\b"
)
"""Commands or options missing from macOS's BSD tools."""

needs_bash = pytest.mark.skipif(
    os.name == "nt" or shutil.which("bash") is None,
    reason="the bash scripts are for Linux and macOS (Windows has the .ps1 twins)",
)


def test_bash_scripts_use_no_gnu_only_tools() -> None:
    for script in BASH_SCRIPTS:
        code = "\n".join(
            line for line in script.read_text().splitlines() if not line.lstrip().startswith("#")
        )
        assert not GNU_ONLY.search(code), f"{script.name}: {GNU_ONLY.search(code)}"


def test_every_bash_script_has_its_windows_twin() -> None:
    for name in ("app", "test", "bundle"):
        assert (SCRIPTS / f"{name}.ps1").is_file()
        cmd = (SCRIPTS / f"{name}.cmd").read_bytes()
        assert f'-File "%~dp0{name}.ps1" %*'.encode() in cmd
        assert cmd.count(b"\n") == cmd.count(b"\r\n")  # batch files want CRLF
        assert os.access(SCRIPTS / name, os.X_OK) or os.name == "nt"


def _fake_venv(tmp_path: Path, stamp: str | None) -> tuple[Path, Path]:
    """A .venv whose python runs ``-c`` code for real and records every ``-m pip`` call."""
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    calls = tmp_path / "pip-calls"
    python = venv / "bin" / "python"
    python.write_text(
        "#!/usr/bin/env bash\n"
        f'if [ "$1" = "-m" ]; then echo "$*" >> "{calls}"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    python.chmod(0o755)
    if stamp is not None:
        (venv / ".etcbook-installed").write_text(stamp + "\n")
    return venv, calls


def _ensure_venv(venv: Path, extras: str) -> None:
    subprocess.run(
        ["bash", "-c", f'source scripts/bootstrap.sh; VENV="{venv}"; ensure_venv "{extras}"'],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHON": sys.executable},
    )


@needs_bash
def test_stamp_hash_is_pyprojects_sha256_and_extras_accumulate(tmp_path: Path) -> None:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()

    venv, calls = _fake_venv(tmp_path, f"{digest}-test,dev,bundle")
    _ensure_venv(venv, "test,dev")  # everything asked for is in: nothing to install
    assert not calls.exists()

    venv, calls = _fake_venv(tmp_path / "b", f"{digest}-bundle")
    _ensure_venv(venv, "test,dev")  # the bundle extra stays, test and dev are added
    assert f"-e {ROOT}[bundle,test,dev]" in calls.read_text()
    assert (venv / ".etcbook-installed").read_text().strip() == f"{digest}-bundle,test,dev"

    venv, calls = _fake_venv(tmp_path / "c", "0123-test,dev,bundle")
    _ensure_venv(venv, "test,dev")  # pyproject.toml changed: install what is asked, afresh
    assert f"-e {ROOT}[test,dev]" in calls.read_text()
    assert (venv / ".etcbook-installed").read_text().strip() == f"{digest}-test,dev"
