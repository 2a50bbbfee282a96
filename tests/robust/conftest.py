"""Fixtures for the robustness tests (crash, concurrency, fuzzing, backup, upgrades, privacy)."""

from __future__ import annotations

from collections.abc import Iterator
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


def _refuse_network(*_args: object, **_kwargs: object) -> None:
    raise OSError("network use refused in tests/robust: etcbook works offline")


@pytest.fixture(scope="session", autouse=True)
def _offline() -> Iterator[None]:
    """Every test here runs with outgoing connections and name lookups refused."""
    import socket

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _refuse_network)
        patch.setattr(socket.socket, "connect_ex", _refuse_network)
        patch.setattr(socket, "create_connection", _refuse_network)
        patch.setattr(socket, "getaddrinfo", _refuse_network)
        yield
