"""The import preview with real downloads: passages and entry-gate charges counted, gates no
rule knows listed with a one-click operator that becomes a rule; re-applying the rules to stored
trips shows the effect on points first (issue 20, items 1–3)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from sqlalchemy import text

HEADER_13 = (
    "利用年月日（自）,時分（自）,利用年月日（至）,時分（至）,利用ＩＣ（自）,利用ＩＣ（至）,"
    "割引前料金,ＥＴＣ割引額,通行料金,車種,車両番号,ＥＴＣカード番号,備考"
)
CARD = "*******126040042"
ROWS = [
    f"25/10/06,08:05,25/10/06,08:41,吹田,京都東,,,1070,2,7301,{CARD},",
    f"25/10/06,09:02,25/10/06,09:02,,（上り）湾岸線本線,,,－,2,7301,{CARD},",
    f"25/10/06,08:50,25/10/06,09:20,西宮,（上り）湾岸線本線,1900,-190,1710,2,7301,{CARD},ＥＴＣ通常",
    f"25/10/07,19:31,,,玉出,,,,1320,2,7301,{CARD},",
    f"25/10/09,06:40,25/10/09,07:25,あさひ野,ゆめが丘,,,2320,2,7301,{CARD},",
    f"25/10/10,06:40,25/10/10,07:25,あさひ野,ゆめが丘,,,2320,2,7301,{CARD},",
]


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_bytes(("\r\n".join([HEADER_13, *rows]) + "\r\n").encode("cp932"))
    return path


def preview(qtbot, window, paths: list[Path]):  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.import_started, timeout=5_000) as started:
        window.import_files([str(path) for path in paths])
    flow = started.args[0]
    with qtbot.waitSignal(flow.previewed, timeout=20_000) as previewed:
        pass
    return flow, previewed.args[0]


def test_the_preview_counts_passages_and_entry_charges_and_lists_unknown_gates(
    qtbot, window, tmp_path: Path
) -> None:
    csv = write_csv(tmp_path / "meisai 10月 #1.csv", ROWS)
    flow, dialog = preview(qtbot, window, [csv])
    facts = dialog.facts[dialog.preview.files[0].file]
    assert (facts.passages, facts.entry_charges) == (1, 1)
    header = [
        dialog.files_model.headerData(c, Qt.Orientation.Horizontal)
        for c in range(dialog.files_model.columnCount())
    ]
    assert "通過（料金なし）" in header and "入口で料金" in header
    text_ = dialog.findChild(QLabel, "previewSummary").text()
    assert "通過 1行" in text_ and "入口で料金 1件" in text_
    gates = [g.gate for g in dialog.unknown_gates]
    # The preview's reading of the file agrees with the import's own resolution.
    assert sorted(gates) == sorted(dialog.preview.files[0].unknown_gates)
    assert "ゆめが丘" in gates and "吹田" not in gates
    assert dialog.gates_table is not None
    assert dialog.gates_table.table.rowCount() == len(gates)

    # One click on an operator makes the gate a rule and previews again without it.
    menu = dialog.gates_table.buttons["ゆめが丘"].menu()
    action = next(a for a in menu.actions() if a.data() == "hanshin")
    with qtbot.waitSignal(flow.previewed, timeout=20_000) as again:
        action.trigger()
    second = again.args[0]
    assert "ゆめが丘" not in [g.gate for g in second.unknown_gates]
    with window.context.connection() as connection:
        rules = connection.execute(
            text("SELECT exit_pattern, operator FROM route_rules WHERE exit_pattern = 'ゆめが丘'")
        ).all()
        assert rules == [("ゆめが丘", "hanshin")]
        assert connection.execute(text("SELECT count(*) FROM trips")).scalar() == 0
    assert flow.reapply_dialog is None  # nothing stored yet: nothing to re-apply
    second.reject()


def test_a_rule_for_stored_guesses_shows_the_effect_on_points_before_applying(
    qtbot, window, tmp_path: Path
) -> None:
    from etcbook.models.imports import import_files

    first = write_csv(tmp_path / "meisai_09.csv", [r.replace("25/10/", "25/09/") for r in ROWS])
    assert import_files(window.context.store, [first]).ok
    with window.context.connection() as connection:
        guesses = connection.execute(
            text(
                "SELECT count(*) FROM trips WHERE exit_ic = 'ゆめが丘' AND operator_source = 'default'"
            )
        ).scalar()
    assert guesses == 2
    flow, dialog = preview(qtbot, window, [write_csv(tmp_path / "meisai_10.csv", ROWS)])
    action = next(
        a for a in dialog.gates_table.buttons["ゆめが丘"].menu().actions() if a.data() == "nagoya"
    )
    action.trigger()
    reapply = flow.reapply_dialog
    assert reapply is not None and reapply.isVisible()
    assert reapply.result_.trips == 2
    assert reapply.result_.moves == {("nexco", "nagoya"): 2}
    cells = [
        [reapply.table.item(r, c).text() for c in range(reapply.table.columnCount())]
        for r in range(reapply.table.rowCount())
    ]
    assert any(row[1].startswith("NEXCO") and "→" in row[2] + row[3] for row in cells), cells
    with window.context.connection() as connection:  # nothing changed before the answer
        assert (
            connection.execute(
                text("SELECT count(*) FROM trips WHERE operator = 'nagoya'")
            ).scalar()
            == 0
        )
    with (
        qtbot.waitSignal(window.context.ledger_changed, timeout=10_000),
        qtbot.waitSignal(flow.previewed, timeout=20_000) as again,
    ):
        reapply.apply_button.click()
    with window.context.connection() as connection:
        assert (
            connection.execute(
                text(
                    "SELECT count(*) FROM trips WHERE operator = 'nagoya' AND operator_source = 'rule'"
                )
            ).scalar()
            == 2
        )
    again.args[0].reject()
