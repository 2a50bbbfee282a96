"""Shared fixtures for the export tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

PngRenderer = Callable[..., Path]


@pytest.fixture
def render_png(tmp_path: Path) -> PngRenderer:
    """Render one page of a PDF to PNG with pdftoppm (poppler-utils); returns the PNG path.

    A missing pdftoppm fails on CI, where the setup installs it, and skips elsewhere.
    """
    exe = shutil.which("pdftoppm")
    if exe is None:
        message = "pdftoppm not found: apt-get install poppler-utils"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    def render(pdf: Path, *, page: int = 1, dpi: int = 60) -> Path:
        prefix = tmp_path / f"{pdf.stem}-p{page}-{dpi}"
        subprocess.run(
            [
                exe,
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(pdf),
                str(prefix),
            ],
            check=True,
            capture_output=True,
        )
        return prefix.with_suffix(".png")

    return render
