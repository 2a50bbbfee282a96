"""Vault names that Windows and macOS can hold: case-insensitive series, short name parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from etcbook.domain.evidence import NAME_PART_MAX, safe_name_part, vault_file_name
from etcbook.models.store import Store
from etcbook.models.vault import add_document

pytestmark = pytest.mark.both_backends


def add(store: Store, source: Path, vehicle: str):  # type: ignore[no-untyped-def]
    return add_document(
        store=store, source=source, kind="statement", card="1234", month="2025-11", vehicle=vehicle
    )


def test_vehicle_names_differing_only_in_case_are_one_series(
    store: Store, statement_pdf: Path, corrected_pdf: Path
) -> None:
    # On NTFS and APFS "CarA" and "cara" name one file: the second is the next version.
    first = add(store, statement_pdf, "CarA")
    second = add(store, corrected_pdf, "cara")
    assert second.version == 2 and second.supersedes_id == first.id
    assert first.name.casefold() != second.name.casefold()


def test_name_parts_are_short_enough_for_windows_paths() -> None:
    long_name = "株式会社みなと物流 第二営業部 配送センター 2号車（冷凍車・大型） 予備" * 2
    part = safe_name_part(long_name)
    assert len(part) == NAME_PART_MAX == 40
    assert not part.endswith(("-", "."))
    name = vault_file_name(
        kind="statement", card_last4="1234", month="2025-11", suffix=".pdf", vehicle=long_name
    )
    assert len(name) < 70
    assert safe_name_part("CarA") == "CarA"
    assert safe_name_part(' 営業/1号車 "予備" ') == "営業-1号車-予備"
