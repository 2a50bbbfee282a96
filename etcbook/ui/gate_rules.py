"""Gates no rule knows, and re-applying route rules with the effect on points shown first.

:class:`UnknownGatesTable` lists a file's gates whose operator would only be a guess; each row
has one button whose menu names the operators: choosing one asks for a rule
(:attr:`UnknownGatesTable.rule_chosen`). :class:`ReapplyDialog` shows what re-applying the route
rules to the stored trips would change (trips moved between operators; points per card and pool
before and after, as :func:`etcbook.models.routes.reapply_route_rules` computed them) before
anything changes. :func:`add_rule_and_offer_reapply` is the one flow both use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from etcbook.ui import formatting
from etcbook.ui.labels import OPERATOR_LABELS, operator_label, pool_label
from etcbook.ui.messages import tell

if TYPE_CHECKING:
    from etcbook.models.routes import ReapplyResult
    from etcbook.ui.context import AppContext

GUESS_NOTE = (
    "次の料金所は、どのルールにもないため事業者が分かりません。"
    "このまま取り込むと既定の「NEXCO」とし、走行明細に「推定」と表示します。"
    "事業者を選ぶと、その料金所のルールを作り、確認をやり直します。"
)


class GateCount(Protocol):
    """A gate no rule knows and the rows naming it (a file's, or the store's)."""

    @property
    def gate(self) -> str: ...

    @property
    def trips(self) -> int: ...

    @property
    def passages(self) -> int: ...


class UnknownGatesTable(QWidget):
    """A file's gates no rule knows, each with a one-click choice of operator."""

    rule_chosen = Signal(str, str)
    """(gate, operator key): make this gate a rule."""

    def __init__(
        self, gates: Sequence[GateCount], parent: QWidget | None = None, *, note: str = GUESS_NOTE
    ) -> None:
        super().__init__(parent)
        note_label = QLabel(note)
        note_label.setWordWrap(True)
        self.table = QTableWidget(len(gates), 4)
        self.table.setObjectName("unknownGates")
        self.table.setHorizontalHeaderLabels(["料金所", "走行", "通過", "事業者（選ぶとルールに）"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.buttons: dict[str, QToolButton] = {}
        for row, gate in enumerate(gates):
            self.table.setItem(row, 0, QTableWidgetItem(gate.gate))
            for column, value in ((1, gate.trips), (2, gate.passages)):
                item = QTableWidgetItem(formatting.number(value))
                item.setTextAlignment(formatting.AMOUNT_ALIGNMENT)
                self.table.setItem(row, column, item)
            button = QToolButton()
            button.setText("事業者を選ぶ…")
            button.setToolTip(f"「{gate.gate}」の事業者を選ぶと、ルールとして保存します")
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            menu = QMenu(button)
            for key, label in OPERATOR_LABELS.items():
                action = QAction(label, menu)
                action.setData(key)
                action.triggered.connect(
                    lambda _checked=False, g=gate.gate, k=key: self.rule_chosen.emit(g, k)
                )
                menu.addAction(action)
            button.setMenu(menu)
            self.table.setCellWidget(row, 3, button)
            self.buttons[gate.gate] = button
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(note_label)
        layout.addWidget(self.table)


STORED_NOTE = (
    "記録済みの走行のうち、どのルールにもない料金所を通ったものは、事業者を既定の「NEXCO」と"
    "推定しています。事業者を選ぶとその料金所のルールを作り、ポイントへの影響を確かめてから"
    "記録済みの走行に適用できます。"
)


class StoredGuessesDialog(QDialog):
    """「推定の事業者」: the stored trips' gates no rule knows, each with a one-click operator."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("事業者が推定の走行 — 料金所ごと")
        self.resize(720, 480)
        self.reapply_dialog: ReapplyDialog | None = None
        self.table: UnknownGatesTable | None = None
        self._layout = QVBoxLayout(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("閉じる")
        buttons.rejected.connect(self.reject)
        self._buttons = buttons
        self.reload()

    def reload(self) -> None:
        """List the stored gates no rule knows (again, after a rule was made)."""
        from etcbook.models.routes import unknown_gates

        with self.context.connection() as connection:
            gates = unknown_gates(connection=connection)
        if self.table is not None:
            self.table.setParent(None)
            self.table.deleteLater()
        self.table = UnknownGatesTable(gates, self, note=STORED_NOTE)
        self.table.rule_chosen.connect(self._rule_chosen)
        self._layout.insertWidget(0, self.table, 1)
        self._layout.addWidget(self._buttons)

    def _rule_chosen(self, gate: str, operator: str) -> None:
        self.reapply_dialog = add_rule_and_offer_reapply(self.context, gate, operator, self)
        if self.reapply_dialog is not None:
            self.reapply_dialog.finished.connect(lambda _result: self.reload())
        else:
            self.reload()


class ReapplyDialog(QDialog):
    """What re-applying the route rules to stored trips changes, before it changes."""

    def __init__(self, result: ReapplyResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("ルールを記録済みの走行に適用 — 確認")
        self.resize(640, 420)
        self.result_ = result
        parts = [f"記録済みの走行 {formatting.number(result.trips)}件"]
        if result.passages:
            parts.append(f"通過 {formatting.number(result.passages)}件")
        intro = QLabel(
            f"{'・'.join(parts)}の事業者が、いまのルールで次のように変わります。"
            "ポイントは事業者ごとに貯まるため、カードごとのポイントも変わります（下の表）。"
            "手で設定した事業者は変えません。"
        )
        intro.setWordWrap(True)
        moves = QLabel(
            "<br>".join(
                f"{operator_label(before)} → {operator_label(after)}: {formatting.number(count)}件"
                for (before, after), count in sorted(result.moves.items())
            )
            or "事業者の変わる走行はありません（推定だったものがルールで確定します）。"
        )
        changed = [pool for pool in result.pools if pool.changed]
        self.table = QTableWidget(len(changed), 4)
        self.table.setObjectName("reapplyPoints")
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setHorizontalHeaderLabels(["カード", "プール", "ポイント残高", "付与待ち"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, pool in enumerate(changed):
            cells = (
                f"末尾 {pool.card}",
                pool_label(pool.pool),
                _change(pool.points_before, pool.points_after),
                _change(pool.pending_before, pool.pending_after),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= 2:
                    item.setTextAlignment(formatting.AMOUNT_ALIGNMENT)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox()
        self.apply_button = buttons.addButton("適用する", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("適用しない", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(moves)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)


def _change(before: int, after: int) -> str:
    if before == after:
        return formatting.points(after)
    return f"{formatting.points(before)} → {formatting.points(after)}"


def add_rule_and_offer_reapply(
    context: AppContext, gate: str, operator: str, parent: QWidget
) -> ReapplyDialog | None:
    """Save the rule for ``gate``; when stored trips would change, open the dialog showing the
    effect on points (applied only on confirmation). Returns that dialog, if any."""
    from etcbook import clock
    from etcbook.models.routes import add_gate_rule, reapply_route_rules

    try:
        with context.transaction() as connection:
            add_gate_rule(connection=connection, gate=gate, operator=operator)
        with context.transaction() as connection:
            effect = reapply_route_rules(connection=connection, as_of=clock.today())
    except ValueError as problem:
        tell(parent, "ルールの作成", str(problem))
        return None
    context.ledger_changed.emit()
    if not (effect.trips or effect.passages):
        return None
    dialog = ReapplyDialog(effect, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)

    def apply() -> None:
        with context.transaction() as connection:
            reapply_route_rules(connection=connection, as_of=clock.today(), apply=True)
        context.ledger_changed.emit()

    dialog.accepted.connect(apply)
    dialog.open()
    return dialog
