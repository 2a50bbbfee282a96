"""The dashboard's fleet views: pool totals, the per-card table, grouped alerts.

From :data:`etcbook.domain.fleet.FLEET_CARDS` cards on (after the card filter), the dashboard
shows one tile per pool instead of one per card, one bar per pool instead of one per card and
pool, and a sortable, filterable table of every card (one row per card and pool). The figures are
the engine's (:class:`~etcbook.ui.mileage.CardSummary`) turned into the domain's fleet records;
totals and rankings are :mod:`etcbook.domain.fleet`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from etcbook.domain.fleet import CardPool, FleetCard, FleetRow, PoolTotal, fleet_rows
from etcbook.ui import formatting
from etcbook.ui.labels import pool_label
from etcbook.ui.tables import Column, RecordTableModel, RememberingTableView, sortable_proxy

if TYPE_CHECKING:
    from etcbook.ui.card_filter import CardFilter
    from etcbook.ui.context import AppContext
    from etcbook.ui.mileage import CardSummary


def fleet_cards(cards: Sequence[CardSummary], card_filter: CardFilter) -> list[FleetCard]:
    """The engine's card summaries as the domain's fleet cards, with 利用者 and 部署."""
    found = []
    for card in cards:
        facet = card_filter.facet(card.card_id or card.last4)
        found.append(
            FleetCard(
                last4=card.last4,
                holder=card.holder,
                driver=facet.driver,
                department=facet.department,
                rebate_balance=card.rebate_balance,
                pools=tuple(
                    CardPool(p.pool, p.name, p.points, p.pending_points, p.buckets)
                    for p in card.pools
                ),
            )
        )
    return found


class PoolTotalTile(QFrame):
    """One pool over the fleet: its points, what expires soon, and the cards that matter."""

    def __init__(self, total: PoolTotal) -> None:
        super().__init__()
        self.setObjectName("poolTotalTile")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(3)
        title = QLabel(f"<b>{pool_label(total.pool) or total.name}</b>　{total.cards}枚")
        layout.addWidget(title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(1)
        soon = total.buckets.get("this_month", 0) + total.buckets.get("next_month", 0)
        lines = [("ポイント残高（合計）", formatting.points(total.points))]
        if total.pending_points:
            lines.append(("付与待ち", formatting.points(total.pending_points)))
        if soon:
            lines.append(("来月末までに失効", formatting.points(soon)))
        for row, (name, value) in enumerate(lines):
            figure = QLabel(value)
            figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(QLabel(name), row, 0)
            grid.addWidget(figure, row, 1)
        layout.addLayout(grid)
        if total.expiring_first:
            names = "、".join(
                f"{card.last4}（{formatting.points(card.soon or card.points)}）"
                for card in total.expiring_first
            )
            self.expiring = QLabel(f"失効が近い: {names}")
            self.expiring.setToolTip("3か月以内に失効するポイントのあるカード（早い順）")
            layout.addWidget(self.expiring)
        if total.most_points:
            names = "、".join(
                f"{card.last4}（{formatting.points(card.points)}）" for card in total.most_points
            )
            layout.addWidget(QLabel(f"残高が多い: {names}"))


def _blank_dash(value: int) -> int | None:
    return value or None


FLEET_COLUMNS: list[Column[FleetRow]] = [
    Column("カード", lambda r: r.last4, key="card"),
    Column("名義", lambda r: r.holder, key="holder"),
    Column("利用者", lambda r: r.driver, key="driver"),
    Column("部署", lambda r: r.department, key="department"),
    Column("プール", lambda r: pool_label(r.pool) or r.pool_name, key="pool"),
    Column("ポイント", lambda r: r.points, "points", key="points"),
    Column("今月失効", lambda r: _blank_dash(r.this_month), "points", key="this_month"),
    Column("来月失効", lambda r: _blank_dash(r.next_month), "points", key="next_month"),
    Column("再来月失効", lambda r: _blank_dash(r.month_after), "points", key="month_after"),
    Column("付与待ち", lambda r: _blank_dash(r.pending_points), "points", key="pending"),
    Column("還元額残高", lambda r: r.rebate_balance, "yen", key="rebate"),
]


class FleetTable(QWidget):
    """Every card shown (one row per card and pool): sortable by any column, with a search."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: RecordTableModel[FleetRow] = RecordTableModel(FLEET_COLUMNS, self)
        self.proxy = sortable_proxy(self.model, self)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.view = RememberingTableView(context.settings, "fleet", self)
        self.view.setObjectName("fleetTable")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(FLEET_COLUMNS.index(_column("points")), Qt.SortOrder.DescendingOrder)
        self.search = QLineEdit()
        self.search.setPlaceholderText("カード・名義・利用者・部署・プールで検索")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.count = QLabel()
        self.proxy.rowsInserted.connect(self._count)
        self.proxy.rowsRemoved.connect(self._count)
        self.proxy.modelReset.connect(self._count)
        self.proxy.layoutChanged.connect(self._count)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self._widths_set = self.view.restore_columns()

    def set_cards(self, cards: Sequence[FleetCard]) -> None:
        self.model.set_records(fleet_rows(cards))
        if not self._widths_set:
            self.view.resizeColumnsToContents()
            self._widths_set = True

    def _count(self, *_args: Any) -> None:
        cards = {self.proxy.index(row, 0).data() for row in range(self.proxy.rowCount())}
        self.count.setText(f"{len(cards)}枚・{self.proxy.rowCount()}行")

    def save_settings(self) -> None:
        self.view.save_settings()


def _column(key: str) -> Column[FleetRow]:
    return next(column for column in FLEET_COLUMNS if column.key == key)
