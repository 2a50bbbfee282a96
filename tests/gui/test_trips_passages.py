"""走行明細 with real downloads: passages dimmed with their journey, never in the totals; a trip
whose operator is only a guess is marked, with a Japanese explanation (issue 20, items 1–3)."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt

DATA = Path(__file__).resolve().parent.parent / "data" / "meisai"


def _trips_page(qtbot, window, files: list[str], tmp_path: Path):  # type: ignore[no-untyped-def]
    from etcbook.models.imports import import_files

    paths = []
    for name in files:
        shutil.copy(DATA / name, tmp_path / name)
        paths.append(tmp_path / name)
    assert import_files(window.context.store, paths).ok
    window.context.ledger_changed.emit()
    window.show_page("trips")
    page = window.page_widget("trips")
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    return page


def _rows(page):  # type: ignore[no-untyped-def]
    return [page.model.record(row) for row in range(page.model.rowCount())]


def test_passages_are_listed_dimmed_without_amounts_and_outside_the_totals(
    qtbot, window, tmp_path: Path
) -> None:
    from sqlalchemy import text

    page = _trips_page(qtbot, window, ["13col_passages.csv"], tmp_path)
    with window.context.connection() as connection:
        trips, tolls = connection.execute(text("SELECT count(*), sum(toll) FROM trips")).one()
        passages = connection.execute(text("SELECT count(*) FROM passages")).scalar()
    assert passages > 0
    rows = _rows(page)
    assert len(rows) == trips + passages
    assert sum(1 for r in rows if r.passage) == passages
    assert page.totals.count == trips and page.totals.toll == tolls
    assert f"ほかに通過 {passages}件" in page.totals_label.text()

    row = next(i for i, r in enumerate(rows) if r.passage)
    toll = page.model.index(row, [c.key for c in page.model._columns].index("toll"))
    assert toll.data() == "－"
    dim = toll.data(Qt.ItemDataRole.ForegroundRole)
    normal = page.model.index(
        next(i for i, r in enumerate(rows) if not r.passage), toll.column()
    ).data(Qt.ItemDataRole.ForegroundRole)
    assert dim is not None and dim != normal
    assert not page.model.flags(toll) & Qt.ItemFlag.ItemIsEditable

    flags_column = [c.key for c in page.model._columns].index("flags")
    linked = [(i, r) for i, r in enumerate(rows) if r.passage and r.journey is not None]
    assert linked, "no passage linked to its journey"
    i, r = linked[0]
    remark = page.model.index(i, flags_column).data()
    assert remark.startswith("通過: ") and f"{r.journey.toll:,}円の走行に含む" in remark
    assert "料金はありません" in page.model.index(i, flags_column).data(Qt.ItemDataRole.ToolTipRole)

    # Selecting a passage with trips edits only the trips.
    page.view.selectAll()
    assert len(page.selected_ids()) == trips

    page.passages_shown.setChecked(False)
    assert page.model.rowCount() == trips
    assert "通過" not in page.totals_label.text()


def test_an_operator_only_guessed_is_marked_with_an_explanation(
    qtbot, window, tmp_path: Path
) -> None:
    page = _trips_page(qtbot, window, ["13col_mixed_operators.csv"], tmp_path)
    rows = _rows(page)
    guessed = [i for i, r in enumerate(rows) if r.operator_source == "default"]
    known = [i for i, r in enumerate(rows) if r.operator_source != "default"]
    assert guessed and known
    column = [c.key for c in page.model._columns].index("operator")
    cell = page.model.index(guessed[0], column)
    assert cell.data().endswith("（推定）")
    assert "推定" in cell.data(Qt.ItemDataRole.ToolTipRole)
    assert cell.data(Qt.ItemDataRole.BackgroundRole) is not None
    sure = page.model.index(known[0], column)
    assert "推定" not in sure.data() and sure.data(Qt.ItemDataRole.ToolTipRole) is None


def test_stored_guesses_are_fixed_by_gate_with_the_effect_on_points_shown_first(
    qtbot, window, tmp_path: Path
) -> None:
    from sqlalchemy import text

    page = _trips_page(qtbot, window, ["13col_mixed_operators.csv"], tmp_path)
    guessed = [r for r in _rows(page) if r.operator_source == "default"]
    assert page.guesses_button.isVisible()
    assert f"推定の走行 {len(guessed)}件" in page.guesses_button.text()
    dialog = page.fix_guesses()
    qtbot.addWidget(dialog)
    table = dialog.table
    gate = table.table.item(0, 0).text()
    with window.context.connection() as connection:
        on_gate = connection.execute(
            text(
                "SELECT count(*) FROM trips WHERE operator_source = 'default'"
                " AND (coalesce(exit_ic, entry_ic) = :g OR entry_ic = :g)"
            ),
            {"g": gate},
        ).scalar()
    assert on_gate == int(table.table.item(0, 1).text())
    action = next(a for a in table.buttons[gate].menu().actions() if a.data() == "shutoko")
    action.trigger()
    reapply = dialog.reapply_dialog
    assert reapply is not None and reapply.result_.trips >= on_gate
    assert ("nexco", "shutoko") in reapply.result_.moves
    with qtbot.waitSignal(window.context.ledger_changed, timeout=10_000):
        reapply.apply_button.click()
    assert gate not in [
        dialog.table.table.item(r, 0).text() for r in range(dialog.table.table.rowCount())
    ]
    qtbot.waitUntil(lambda: not window.context.operations.busy, timeout=30_000)
    assert len([r for r in _rows(page) if r.operator_source == "default"]) < len(guessed)
