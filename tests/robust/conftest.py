"""Fixtures for the robustness tests (crash, concurrency, fuzzing, backup, upgrades, privacy)."""

from __future__ import annotations

from pathlib import Path

import pytest
import robustkit


@pytest.fixture(scope="session")
def big_meisai(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 100,000-row cp932 明細CSV of one card (末尾1234), written once per session."""
    return robustkit.write_meisai(tmp_path_factory.mktemp("big") / "meisai_100k.csv", 100_000)


@pytest.fixture(scope="session")
def small_meisai(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-row 明細CSV of another card (末尾5678), in another year."""
    import datetime as dt

    return robustkit.write_meisai(
        tmp_path_factory.mktemp("small") / "meisai_300.csv",
        300,
        card="********43215678",
        start=dt.datetime(2023, 4, 1, 7, 0),
        seed=3,
    )
