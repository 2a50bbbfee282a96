"""Journal settings and export memory in the store: masked names, both-or-neither exports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from etcbook.export.journal import JournalFormat, Product
from etcbook.models.journal import (
    JournalError,
    JournalRequest,
    export_history,
    export_journal,
    load_settings,
    save_setting,
)
from etcbook.models.store import Store, open_store

NOW = dt.datetime(2026, 12, 5, 10, 0)
SEPTEMBER = JournalRequest(
    fmt=JournalFormat(Product.MF),
    card="9012",
    date_from=dt.date(2026, 9, 1),
    date_to=dt.date(2026, 9, 30),
)


pytestmark = pytest.mark.both_backends


@pytest.fixture
def demo(demo_target: Path | str) -> Any:
    store = open_store(demo_target)
    yield store
    store.close()


def test_a_card_number_typed_into_a_name_is_masked(demo: Store) -> None:
    save_setting(store=demo, key="credit_sub", value="ETC 4980 1234 5678 9012", card="9012")
    with demo.engine.connect() as connection:
        _settings, credits = load_settings(connection=connection)
    assert credits["9012"].sub == "ETC ************9012"


def test_a_file_that_cannot_be_written_leaves_nothing_remembered(
    demo: Store, tmp_path: Path
) -> None:
    blocker = tmp_path / "not a folder"
    blocker.write_text("x")
    with pytest.raises(OSError):
        export_journal(store=demo, request=SEPTEMBER, out=blocker / "j.csv", now=NOW)
    assert export_history(store=demo) == []
    with pytest.raises(JournalError):
        export_journal(store=demo, request=SEPTEMBER, out=tmp_path, now=NOW)
    result = export_journal(store=demo, request=SEPTEMBER, out=tmp_path / "j.csv", now=NOW)
    assert result.file is not None and result.export_id is not None
    (history,) = export_history(store=demo)
    assert (history["format"], history["entries"], history["total"]) == (
        "mf",
        len(result.booking.entries),
        result.booking.total,
    )
    with demo.engine.connect() as connection:
        trips = connection.execute(
            text("SELECT trip_id, amount FROM journal_export_trips ORDER BY trip_id")
        ).all()
    assert [tuple(t) for t in trips] == sorted(
        (e.trip_id, e.claimed) for e in result.booking.entries
    )
