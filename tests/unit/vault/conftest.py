"""Fixtures for the vault, audit and claim-adapter tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def statement_pdf(tmp_path: Path) -> Path:
    """An invented card statement PDF outside the vault (the user's download folder)."""
    path = tmp_path / "downloads" / "meisai_202511.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n% invented statement 2025-11\n" + bytes(range(256)) * 20)
    return path


@pytest.fixture
def corrected_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "downloads" / "meisai_202511_corrected.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n% invented statement 2025-11, corrected\n")
    return path
