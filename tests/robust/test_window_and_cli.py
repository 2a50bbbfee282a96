"""A window and a command-line import on one store at once: both finish, nothing is lost.

The window's side is its AppContext (what every page uses for reads and edits), driven on
this thread while ``etcbook import`` of 100,000 rows runs in another process.
"""

from __future__ import annotations

import time
from pathlib import Path

import robustkit
from PySide6.QtCore import QSettings

from etcbook.models.instance import claim_store


def test_window_edits_and_reads_while_a_command_imports(
    qapp, tmp_path: Path, big_meisai: Path, small_meisai: Path
) -> None:  # type: ignore[no-untyped-def]
    from etcbook.models.imports import import_files
    from etcbook.ui.context import AppContext

    store_path = tmp_path / "etcbook.sqlite3"
    context = AppContext(
        store_path,
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        sample_path=tmp_path / "sample.sqlite3",
    )
    context.open_store_now()
    try:
        assert import_files(context.store, [small_meisai]).ok  # card 5678, 300 trips
        importing = robustkit.start_etcbook(store_path, "import", str(big_meisai))
        edits = reads = 0
        seen = set()
        while importing.poll() is None:
            with context.transaction() as connection:  # an edit in the window
                connection.exec_driver_sql(
                    "UPDATE cards SET notes = ? WHERE last4 = '5678'", (f"edit {edits}",)
                )
            edits += 1
            with context.connection() as connection:  # a page reading its rows
                seen.add(connection.exec_driver_sql("SELECT count(*) FROM trips").scalar())
            reads += 1
            time.sleep(0.05)
        _out, err = importing.communicate(timeout=300)
        assert importing.returncode == 0, err.decode()
        assert "Traceback" not in err.decode()
        with context.connection() as connection:
            notes = connection.exec_driver_sql(
                "SELECT notes FROM cards WHERE last4 = '5678'"
            ).scalar()
            trips = connection.exec_driver_sql("SELECT count(*) FROM trips").scalar()
    finally:
        context.close()
    assert edits >= 2 and reads >= 2
    assert notes == f"edit {edits - 1}"  # every edit of the window landed, the last one last
    assert trips == 300 + 100_000  # and the whole import too
    assert seen <= {300, 300 + 100_000}  # the window saw the import all or nothing


def test_second_window_is_told_the_store_is_open(tmp_path: Path) -> None:
    """What the window shows (claim_store is for the window to call at start-up)."""
    store_path = tmp_path / "etcbook.sqlite3"
    with claim_store(store_path, program="etcbook ウィンドウ") as first:
        second = claim_store(store_path, program="etcbook ウィンドウ")
        assert first.acquired and not second.acquired
        assert second.message is not None
        assert "すでに別の場所で開かれています" in second.message
        assert "etcbook ウィンドウ" in second.message
        assert str(store_path) in second.message
