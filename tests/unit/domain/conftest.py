"""Fixtures of the domain tests."""

from __future__ import annotations

import pytest

from etcbook.domain.rules import Rules, load_rules

_RULES = load_rules()


@pytest.fixture
def rules() -> Rules:
    """The shipped rules (frozen; safe to share between tests)."""
    return _RULES
