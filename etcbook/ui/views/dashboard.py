"""ダッシュボード: per card points, expiry buckets, rebate, the next 20th, alerts, monthly tolls."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from etcbook.domain.fleet import (
    FLEET_CARDS,
    GROUP_FROM,
    ReminderGroup,
    group_reminders,
    pool_totals,
)
from etcbook.ui import formatting
from etcbook.ui.charts import (
    SERIES_COLOURS,
    ChartStyle,
    ChartView,
    figure_width_pt,
    points_axis_formatter,
    preload_matplotlib,
    stacked_barh,
    stacked_bars,
    yen_axis_formatter,
)
from etcbook.ui.context import AppContext
from etcbook.ui.fleet import FleetTable, PoolTotalTile, fleet_cards
from etcbook.ui.labels import operator_label, pool_label
from etcbook.ui.operations import Operation
from etcbook.ui.page import Page
from etcbook.ui.theme import alert_colours

if TYPE_CHECKING:
    from pathlib import Path

    from etcbook.domain.fleet import PoolTotal
    from etcbook.domain.reminders import Reminder
    from etcbook.models.first_look import FirstLook
    from etcbook.models.ui_queries import MonthlyOperatorTolls
    from etcbook.ui.mileage import CardSummary, Snapshot

MONTHS_SHOWN = 12
MONTH_LABEL_PT = 22
"""Width a month label ("11月" at 8 pt, 16 pt wide) needs on the toll chart's axis, with a gap."""
LEGEND_ONE_ROW_PT = 260
"""Figure width from which the four expiry buckets' legend fits in one row."""
BUCKET_LABELS = (
    ("this_month", "今月失効"),
    ("next_month", "来月失効"),
    ("month_after", "再来月失効"),
    ("later", "それ以降"),
)
BUCKET_COLOURS = ("#c9474b", "#e07b39", "#e3b23c", "#3b7dd8")
ACTION_ROLE = Qt.ItemDataRole.UserRole + 1
GROUP_ROLE = Qt.ItemDataRole.UserRole + 2
"""On a grouped alert's line: its position in the list of groups (activating it shows its cards)."""
MEMBER_ROLE = Qt.ItemDataRole.UserRole + 3
"""On a line listing one card of a group: the group's position."""
LEVEL_ORDER = ("danger", "warning", "info")
LEVELS = {"urgent": "danger", "warning": "warning", "info": "info"}
"""Reminder severity → alert colour."""


@dataclass(frozen=True)
class Alert:
    """One line of the alert list: its level (danger, warning, info) and Japanese text."""

    level: str
    message: str
    card: str | None = None
    action: str | None = None
    """What double-clicking the line does ("backup": start a backup), if anything."""
    members: tuple[str, ...] = ()
    """A grouped alert's cards' own lines (shown on demand)."""


BACKUP_ACTION = "backup"


def backup_alert(context: AppContext, as_of: dt.date) -> Alert | None:
    """The monthly backup reminder for the user's own store (none for the sample data, none for
    a server ledger: the server is backed up there, and the window's ZIP backup is for a file)."""
    from etcbook.models.backup_reminder import backup_reminder, last_backup

    if context.is_sample or context.on_server:
        return None
    text = backup_reminder(context.db_path, as_of)
    if text is None:
        return None
    level = "info" if last_backup(context.db_path) is None else "warning"
    return Alert(level, f"{text}（ここをダブルクリックでバックアップ）", action=BACKUP_ACTION)


@dataclass
class DashboardData:
    """Everything the dashboard shows, read off the GUI thread."""

    as_of: dt.date
    month_from: str | None = None
    month_to: str | None = None
    tolls: list[MonthlyOperatorTolls] = field(default_factory=list)
    reminders: tuple[Reminder, ...] | None = None
    """``None`` until read (they replay the engine too: their own background job)."""
    cards: list[CardSummary] | None = None
    """``None`` until the engine's results arrive (or when it cannot run)."""
    engine_problem: str | None = None
    from_cache: bool = False
    """``cards`` (every card's) and ``reminders`` were read from the store's cache."""


DASHBOARD_CACHE_NAME = "dashboard"
"""Every card's summary and reminders as the dashboard showed them (etcbook.models.engine_cache)."""
DASHBOARD_CACHE_MODULES = ("etcbook.ui.mileage", "etcbook.ui.views.dashboard")
"""The modules whose classes the kept value holds besides etcbook.domain's."""


def first_look(path: Path) -> FirstLook | None:
    """The cards and every card's summary and reminders kept for the store's data as they are
    now, read before the store opens (any thread; see :mod:`etcbook.models.first_look`)."""
    from etcbook import clock
    from etcbook.models.first_look import first_look as look
    from etcbook.paths import RULES_FILE

    return look(
        path,
        as_of=clock.today(),
        rules_path=RULES_FILE,
        name=DASHBOARD_CACHE_NAME,
        modules=DASHBOARD_CACHE_MODULES,
    )


def load_dashboard(
    connection: Any, as_of: dt.date, card_ids: tuple[int, ...] = ()
) -> DashboardData:
    """Read the dashboard's store figures (worker thread) of the cards ``card_ids`` (empty:
    every card);
    the engine's come separately, unless the store's cache still holds them for the same
    data, day, rules and code (then ``cards`` and ``reminders`` hold every card's)."""
    from etcbook.models.engine_cache import current_key, read_cached
    from etcbook.models.ui_queries import latest_trip_month, monthly_tolls
    from etcbook.paths import RULES_FILE

    data = DashboardData(as_of=as_of)
    key = current_key(connection=connection, as_of=as_of, rules_path=RULES_FILE)
    if key is not None:
        kept = read_cached(
            connection=connection,
            name=DASHBOARD_CACHE_NAME,
            key=key,
            modules=DASHBOARD_CACHE_MODULES,
        )
        if kept is not None:
            data.cards, data.reminders = kept
            data.from_cache = True
    latest = latest_trip_month(connection=connection)
    if latest is not None:
        year, month = (int(part) for part in latest.split("-"))
        index = year * 12 + month - 1 - (MONTHS_SHOWN - 1)
        data.month_from = f"{index // 12:04d}-{index % 12 + 1:02d}"
        data.month_to = latest
        data.tolls = monthly_tolls(
            connection=connection,
            month_from=data.month_from,
            month_to=data.month_to,
            card_ids=card_ids,
        )
    return data


def load_reminders_and_key(
    connection: Any, as_of: dt.date, snapshot: Snapshot
) -> tuple[tuple[Reminder, ...], str | None]:
    """:func:`load_reminders`, and the cache key of the data they were read from (one read
    transaction), so that they are kept only with the engine results of the same data."""
    from etcbook.models.engine_cache import current_key
    from etcbook.paths import RULES_FILE

    reminders = load_reminders(connection, as_of, snapshot)
    return reminders, current_key(connection=connection, as_of=as_of, rules_path=RULES_FILE)


def keep_dashboard(
    store: Any, key: str, cards: Sequence[CardSummary], reminders: tuple[Reminder, ...]
) -> None:
    """Keep every card's summary and reminders for the next start (worker thread)."""
    from etcbook.models.engine_cache import write_cached

    kept = [dataclasses.replace(card, state=None) for card in cards]
    write_cached(store, name=DASHBOARD_CACHE_NAME, key=key, value=(kept, reminders))


def load_reminders(
    connection: Any, as_of: dt.date, snapshot: Snapshot | None = None
) -> tuple[Reminder, ...]:
    """Every card's reminders (worker thread): the store's, the engine's and the vault's.

    With the shared engine run's ``snapshot`` of the same day, its card states are used
    instead of replaying the engine again.
    """
    from etcbook.models.reminders import dashboard_reminders

    if snapshot is None or snapshot.problem is not None or snapshot.as_of != as_of:
        return dashboard_reminders(connection=connection, as_of=as_of)
    # by card id: cards of a fleet may share their last 4 digits
    states: dict[int | str, Any] = {
        card.last4 if card.card_id is None else card.card_id: card.state for card in snapshot.cards
    }
    return dashboard_reminders(
        connection=connection, as_of=as_of, rules=snapshot.rules, states=states
    )


def draw_monthly_tolls(
    figure: Any, style: ChartStyle, rows: Sequence[MonthlyOperatorTolls], months: list[str]
) -> None:
    """Stacked bars: per month, each operator's business part (solid) and private part (pale)."""
    axes = figure.add_subplot()
    style.style_axes(axes)
    operators = sorted(
        {row.operator for row in rows},
        key=lambda key: -sum(row.toll for row in rows if row.operator == key),
    )
    colour = {key: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, key in enumerate(operators)}
    by_key = {(row.month, row.operator): row for row in rows}
    # Every month labelled when there is room, else every second or third (the year stays).
    room = figure_width_pt(figure) * 0.65  # the legend and the yen labels take the rest
    step = max(1, math.ceil(len(months) * MONTH_LABEL_PT / room)) if months else 1
    labels = [
        f"{int(month[5:])}月\n{month[:4]}"
        if i == 0 or month.endswith("-01")
        else (f"{int(month[5:])}月" if i % step == 0 else "")
        for i, month in enumerate(months)
    ]
    tops: list[int] = [0] * len(months)
    for key in operators:
        business = [by_key[(m, key)].business if (m, key) in by_key else 0 for m in months]
        private = [by_key[(m, key)].private if (m, key) in by_key else 0 for m in months]
        tops = stacked_bars(
            axes, labels, [(f"{operator_label(key)}（業務）", business, colour[key])], bottoms=tops
        )
        tops = stacked_bars(
            axes,
            labels,
            [(f"{operator_label(key)}（私用）", private, colour[key])],
            bottoms=tops,
            alpha=0.38,
        )
    axes.yaxis.set_major_formatter(yen_axis_formatter())
    axes.set_title("月別通行料金（事業者別・濃い色が業務分）", fontsize=10)
    axes.tick_params(axis="x", labelsize=8)
    axes.tick_params(axis="y", labelsize=8)
    if operators:
        handles, names = axes.get_legend_handles_labels()
        legend = axes.legend(
            handles,
            names,
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
        )
        for text in legend.get_texts():
            text.set_color(style.foreground)


def draw_point_buckets(figure: Any, style: ChartStyle, cards: Sequence[CardSummary]) -> None:
    """Horizontal bars per card × pool: points split by when they expire."""
    labels: list[str] = []
    values: dict[str, list[int]] = {key: [] for key, _label in BUCKET_LABELS}
    shared = {last4 for last4, n in Counter(card.last4 for card in cards).items() if n > 1}
    for card in cards:
        name = formatting.card_digits(card.last4, card.label, shared=card.last4 in shared)
        for pool in card.pools:
            labels.append(f"{name} {pool_label(pool.pool)}")
            for key, _label in BUCKET_LABELS:
                values[key].append(pool.buckets.get(key, 0))
    draw_bucket_bars(figure, style, labels, values, "ポイント残高（失効時期別）")


def draw_pool_totals(figure: Any, style: ChartStyle, totals: Sequence[PoolTotal]) -> None:
    """Horizontal bars per pool, summed over the fleet's cards: one bar per pool, however many
    cards there are."""
    labels = [f"{pool_label(total.pool) or total.name}（{total.cards}枚）" for total in totals]
    values = {key: [total.buckets.get(key, 0) for total in totals] for key, _ in BUCKET_LABELS}
    cards = sum(total.cards for total in totals)
    title = "ポイント残高（プール別の合計・失効時期別）" if cards else "ポイント残高"
    draw_bucket_bars(figure, style, labels, values, title, rows=4)


def draw_bucket_bars(
    figure: Any,
    style: ChartStyle,
    labels: Sequence[str],
    values: dict[str, list[int]],
    title: str,
    *,
    rows: int = 0,
) -> None:
    """One horizontal bar per label, its points stacked by expiry bucket, the total beside it;
    the axis has room for at least ``rows`` bars (so that one bar is not a block)."""
    axes = figure.add_subplot()
    style.style_axes(axes)
    axes.grid(axis="y", visible=False)
    axes.grid(axis="x", color=style.grid_rgba(), linewidth=0.8)
    series = [
        (label, values[key], colour)
        for (key, label), colour in zip(BUCKET_LABELS, BUCKET_COLOURS, strict=True)
    ]
    stacked_barh(axes, labels, series)
    totals = [sum(values[key][i] for key, _label in BUCKET_LABELS) for i in range(len(labels))]
    for row, total in enumerate(totals):
        axes.annotate(
            f" {total:,}P",
            (total, row),
            va="center",
            fontsize=8,
            color=style.foreground,
            annotation_clip=False,
        )
    if totals:
        axes.set_xlim(0, max(max(totals) * 1.18, 1))
    if 0 < len(labels) < rows:
        axes.set_ylim(rows - 0.5, -0.5)
    # As many ticks as the axis has room for, recomputed when the window is resized.
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True))
    axes.xaxis.set_major_formatter(points_axis_formatter())
    axes.set_title(title, fontsize=10)
    axes.tick_params(axis="x", labelsize=8)
    axes.tick_params(axis="y", labelsize=8)
    if labels:
        # Below the whole figure, not the axes: the axes leave room for the row labels.
        columns = 4 if figure_width_pt(figure) >= LEGEND_ONE_ROW_PT else 2
        legend = figure.legend(fontsize=7, loc="outside lower center", ncols=columns, frameon=False)
        for text in legend.get_texts():
            text.set_color(style.foreground)


def _heading(text: str, scale: float = 1.15) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    return label


class CardTile(QFrame):
    """One card's figures: rebate balance, points per pool, what the next 20th brings."""

    def __init__(self, card: CardSummary) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(4)
        # 呼び名 and 名義: tells apart cards of a fleet that share their last 4 digits
        layout.addWidget(_heading(card.title, 1.05))
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(2)
        row = 0

        def add(label: str, value: str, *, strong: bool = False) -> None:
            nonlocal row
            name = QLabel(label)
            figure = QLabel(value)
            figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if strong:
                font = QFont(figure.font())
                font.setBold(True)
                figure.setFont(font)
            grid.addWidget(name, row, 0)
            grid.addWidget(figure, row, 1)
            row += 1

        add("還元額残高", formatting.yen(card.rebate_balance), strong=True)
        for pool in card.pools:
            soon = pool.buckets.get("this_month", 0) + pool.buckets.get("next_month", 0)
            text = formatting.points(pool.points)
            if soon:
                text += f"（来月末までに{formatting.points(soon)}失効）"
            add(f"{pool.name}", text)
        if not card.pools:
            add("ポイント", "なし")
        if card.pending_rebate:
            add("朝夕割（還元待ち）", formatting.yen(card.pending_rebate))
        if card.next_20th is not None:
            nxt = card.next_20th
            parts = [f"{name} {formatting.points(points)}" for _key, name, points in nxt.grants]
            text = "付与 " + "、".join(parts) if parts else "付与予定なし"
            if nxt.auto_exchange:
                text += "（自動還元ON）"
            add(f"次の20日 {formatting.date(nxt.date)}", text)
        if card.points_lost_total:
            add("これまでの失効", formatting.points(card.points_lost_total))
        layout.addLayout(grid)


class DashboardPage(Page):
    """ダッシュボード."""

    loaded = Signal()
    """The numbers (tiles, alerts) are shown; the charts follow."""
    charts_drawn = Signal()
    """The charts are drawn too; :attr:`data` now holds everything shown."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.data: DashboardData | None = None
        """What the page shows, once all of it (charts included) is drawn."""
        self._current: DashboardData | None = None
        """The figures being shown (filled as they arrive)."""
        self._store_read = False
        self._numbers_shown: DashboardData | None = None
        self._first_look: DashboardData | None = None
        """The numbers shown from the first look (before the store opened), while shown."""
        self.groups: tuple[ReminderGroup, ...] = ()
        self.pool_totals: tuple[PoolTotal, ...] = ()
        self._opened_groups: set[str] = set()
        self._alerts: list[Alert] = []
        self._loading = False
        self._again = False
        self._engine_shown = False

        self.as_of_label = QLabel()
        header = QHBoxLayout()
        header.addWidget(_heading("ダッシュボード", 1.4))
        header.addStretch(1)
        header.addWidget(self.as_of_label)

        self.tiles = QHBoxLayout()
        self.tiles.setSpacing(10)
        tiles_holder = QWidget()
        tiles_holder.setLayout(self.tiles)
        tiles_scroll = QScrollArea()
        tiles_scroll.setWidget(tiles_holder)
        tiles_scroll.setWidgetResizable(True)
        tiles_scroll.setFrameShape(QFrame.Shape.NoFrame)
        tiles_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        tiles_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        tiles_scroll.setMinimumHeight(150)
        tiles_scroll.setMaximumHeight(190)

        self.alerts = QListWidget()
        self.alerts.setObjectName("alerts")
        self.alerts.setWordWrap(True)
        self.alerts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.alerts.setResizeMode(QListWidget.ResizeMode.Adjust)  # re-wrap on resize
        self.alerts.setSpacing(2)
        self.alerts.setAlternatingRowColors(False)
        self.alerts.setMinimumHeight(90)
        self.alerts.itemActivated.connect(self._alert_activated)
        context.backup_made.connect(self._backup_made)

        self.points_chart = ChartView(minimum_height=220)
        self.tolls_chart = ChartView(minimum_height=220)
        charts = QSplitter(Qt.Orientation.Horizontal)
        charts.setObjectName("dashboardCharts")
        charts.addWidget(self.points_chart)
        charts.addWidget(self.tolls_chart)
        charts.setSizes([450, 650])
        self._charts = charts

        alerts_box = QWidget()
        alerts_layout = QVBoxLayout(alerts_box)
        alerts_layout.setContentsMargins(0, 0, 0, 0)
        self._alerts_heading = _heading("お知らせ・警告")
        alerts_layout.addWidget(self._alerts_heading)
        alerts_layout.addWidget(self.alerts)

        # A fleet's per-card table beside the alerts (the tab bar shows only with it).
        self.fleet_table = FleetTable(context, self)  # owned by the page until it is a tab
        self.fleet_table.hide()
        self.lower_tabs = QTabWidget()
        self.lower_tabs.setObjectName("dashboardTabs")
        self.lower_tabs.setTabBarAutoHide(True)
        self.lower_tabs.setDocumentMode(True)
        self.lower_tabs.addTab(alerts_box, "お知らせ・警告")

        body = QSplitter(Qt.Orientation.Vertical)
        body.setObjectName("dashboardBody")
        body.addWidget(self.lower_tabs)
        body.addWidget(charts)
        body.setSizes([240, 360])  # the alerts matter most: room for several
        self._body = body
        state = context.settings.value("dashboard/splitter")
        if state is not None:
            body.restoreState(state)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(tiles_scroll)
        layout.addWidget(body, 1)

    def refresh(self) -> None:
        """Read the figures off the GUI thread and show them: the numbers first, then charts.

        The store's figures come with the engine's results and the reminders when the store's
        cache still holds them (nothing changed since); else the engine's shared run and the
        reminders follow. :attr:`loaded` is emitted once the numbers are on screen; only then
        is matplotlib loaded and the charts drawn (:attr:`charts_drawn`, :attr:`data` set).
        """
        from etcbook import clock

        if self._loading:
            self._again = True
            return
        self._loading = True
        self._again = False
        self._engine_shown = False
        as_of = clock.today()
        looked = self._current is not None and self._current is self._first_look
        data = DashboardData(as_of=as_of)
        self._current = data
        self._store_read = False
        if not looked:  # else the first look's numbers stay until the same ones are read
            self.as_of_label.setText(f"{formatting.date_with_weekday(as_of)} 現在（読み込み中…）")
        card_ids = self.context.card_filter.query_card_ids()
        self.context.run_in_background(
            lambda connection: load_dashboard(connection, as_of, card_ids),
            lambda read: self._show(data, read),
            parent=self,
            title="ダッシュボードの読み込み",
        )

    def show_first_look(self, look: FirstLook) -> None:
        """Every card's kept summary and reminders, read before the store opened for the data as
        they are now (:func:`first_look`): the numbers are shown at once, as :meth:`refresh`
        shows kept ones, and ``loaded`` is emitted. Once the store is open the window calls
        :meth:`refresh`, which reads everything again and draws the charts."""
        self.context.card_filter.set_facets(look.facets)
        cards, reminders = look.kept
        data = DashboardData(as_of=look.as_of, reminders=reminders, from_cache=True)
        data.cards = self.context.card_filter.narrow(cards, lambda c: c.card_id or c.last4)
        self._current = self._first_look = data
        self._show_cards(data)
        self._fill_alerts(data)
        self.loaded.emit()

    def _show(self, data: DashboardData, read: DashboardData) -> None:
        """The store's figures (the tolls chart's data) are read; the engine's results too
        when the store's cache still held them, else they are asked for now."""
        if data is not self._current:
            return
        data.month_from, data.month_to, data.tolls = read.month_from, read.month_to, read.tolls
        self._store_read = True
        if read.from_cache and read.cards is not None:
            data.from_cache = True
            data.cards = self.context.card_filter.narrow(read.cards, lambda c: c.card_id or c.last4)
            data.reminders = read.reminders
            self._show_cards(data)
            self._fill_alerts(data)
            self._maybe_loaded()
            return
        self.context.mileage.request(lambda snapshot: self._show_engine(data, snapshot))

    def _show_reminders(
        self,
        data: DashboardData,
        reminders: tuple[Reminder, ...],
        key: str | None,
        snapshot: Snapshot,
    ) -> None:
        data.reminders = reminders
        if data is not self._current:
            return
        self._fill_alerts(data)
        if key is not None and key == snapshot.cache_key and snapshot.problem is None:
            # The engine's results and the reminders come from the same data: keep them.
            store, cards = self.context.store, snapshot.cards
            self.context.run(
                Operation(
                    work=lambda _progress: keep_dashboard(store, key, cards, reminders),
                    title="計算結果の保存",
                    on_failure=lambda _error: None,  # only a cache: the next start computes
                    show_progress=False,
                )
            )
        self._maybe_loaded()

    def _show_engine(self, data: DashboardData, snapshot: Snapshot) -> None:
        """The engine's results: the tiles now; the reminders read its card states."""
        if data is not self._current:
            return
        self.context.run_in_background(
            lambda connection: load_reminders_and_key(connection, data.as_of, snapshot),
            lambda read: self._show_reminders(data, read[0], read[1], snapshot),
            parent=self,
            title="お知らせの読み込み",
        )
        if snapshot.problem is None:
            data.cards = self.context.card_filter.narrow(
                snapshot.cards, lambda c: c.card_id or c.last4
            )
        else:
            data.cards = None
            data.engine_problem = snapshot.problem
        self._show_cards(data)

    def _show_cards(self, data: DashboardData) -> None:
        self.as_of_label.setText(f"{formatting.date_with_weekday(data.as_of)} 現在")
        self._fill_tiles(data)
        self._fill_fleet(data)
        self._engine_shown = True

    def _maybe_loaded(self) -> None:
        data = self._current
        if data is None or data.reminders is None or not self._engine_shown:
            return
        if not self._store_read or self._numbers_shown is data:
            return
        self._numbers_shown = data
        self.loaded.emit()
        # The numbers are on screen; matplotlib's import (half a second) waits until now.
        self.context.run(
            Operation(
                work=lambda _progress: preload_matplotlib(),
                title="グラフの準備",
                on_success=lambda _none: self._draw_charts(data),
                on_failure=lambda _error: self._draw_charts(data),
                show_progress=False,
                parent=self,
            )
        )

    def _draw_charts(self, data: DashboardData) -> None:
        months = _month_list(data.month_from, data.month_to)
        if any(row.toll for row in data.tolls):
            self.tolls_chart.draw(
                lambda fig, style: draw_monthly_tolls(fig, style, data.tolls, months)
            )
        else:
            self.tolls_chart.draw(lambda fig, style: _draw_message(fig, style, NO_TRIPS_YET))
        has_points = any(pool.points for card in data.cards or () for pool in card.pools)
        if data.cards and has_points and self.is_fleet:
            totals = self.pool_totals
            self.points_chart.draw(lambda fig, style: draw_pool_totals(fig, style, totals))
        elif data.cards and has_points:
            cards = data.cards
            self.points_chart.draw(lambda fig, style: draw_point_buckets(fig, style, cards))
        else:
            message = data.engine_problem or NO_POINTS_YET
            self.points_chart.draw(lambda fig, style: _draw_message(fig, style, message))
        self.data = data
        self._loading = False
        self.charts_drawn.emit()
        if self._again:
            self.refresh()

    def _fill_tiles(self, data: DashboardData) -> None:
        while self.tiles.count():
            item = self.tiles.takeAt(0)
            assert item is not None  # the layout still holds count() > 0 items
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        if data.cards is None:
            note = QLabel(
                "ポイント・還元額はマイレージエンジンの計算結果から表示します。\n"
                f"（{data.engine_problem}）"
            )
            note.setWordWrap(True)
            self.tiles.addWidget(note)
        elif self.is_fleet:
            self.pool_totals = pool_totals(fleet_cards(data.cards, self.context.card_filter))
            for total in self.pool_totals:
                self.tiles.addWidget(PoolTotalTile(total), 0, Qt.AlignmentFlag.AlignTop)
            if not self.pool_totals:
                self.tiles.addWidget(QLabel(f"{len(data.cards)}枚のカードにポイントはありません。"))
        else:
            for card in data.cards:
                self.tiles.addWidget(CardTile(card), 0, Qt.AlignmentFlag.AlignTop)
        self.tiles.addStretch(1)

    @property
    def is_fleet(self) -> bool:
        """``True`` when the cards shown are many: pool totals, the per-card table, and the
        same reminder for several cards grouped into one line."""
        card_filter = self.context.card_filter
        shown = card_filter.card_ids if card_filter.active else card_filter.facets
        return len(shown or ()) >= FLEET_CARDS

    def _fill_fleet(self, data: DashboardData) -> None:
        """Show the per-card table (a tab beside the alerts) for a fleet; hide it otherwise."""
        index = self.lower_tabs.indexOf(self.fleet_table)
        self._alerts_heading.setVisible(not self.is_fleet)  # the tab says it then
        if not self.is_fleet or data.cards is None:
            self.pool_totals = ()
            if index >= 0:
                self.lower_tabs.removeTab(index)
            return
        self.fleet_table.set_cards(fleet_cards(data.cards, self.context.card_filter))
        title = f"カード別一覧（{len(data.cards)}枚）"
        if index < 0:
            self.lower_tabs.addTab(self.fleet_table, title)
        else:
            self.lower_tabs.setTabText(index, title)

    def _fill_alerts(self, data: DashboardData) -> None:
        colours = alert_colours(self.palette())
        reminders = self.context.card_filter.narrow(data.reminders or (), lambda r: r.card)
        names = dict(self._pool_names())
        self.groups = group_reminders(
            reminders,
            pool_names=names,
            as_of=data.as_of,
            group_from=GROUP_FROM if self.is_fleet else len(reminders) + 1,
        )
        alerts = [
            Alert(
                LEVELS[group.severity],
                group.message
                + (f"（ダブルクリックで{len(group.cards)}枚の一覧）" if group.grouped else ""),
                None if group.grouped else group.members[0].card,
                members=tuple(m.message for m in group.members) if group.grouped else (),
            )
            for group in self.groups
        ]
        backup = backup_alert(self.context, data.as_of)
        if backup is not None:
            # Heads its own level: after anything more urgent, before the rest.
            rank = list(LEVEL_ORDER).index
            position = next(
                (i for i, alert in enumerate(alerts) if rank(alert.level) >= rank(backup.level)),
                len(alerts),
            )
            alerts.insert(position, backup)
        self.alerts.clear()
        if not alerts:
            self.alerts.addItem("お知らせはありません。")
            return
        marks = {"danger": "●", "warning": "▲", "info": "・"}
        self._alerts = alerts
        for position, alert in enumerate(alerts):
            item = QListWidgetItem(f"{marks.get(alert.level, '・')} {alert.message}")
            background = colours.get(alert.level)
            if background is not None:
                item.setBackground(background)
            item.setData(Qt.ItemDataRole.UserRole, alert.level)
            item.setData(ACTION_ROLE, alert.action)
            if alert.members:
                item.setData(GROUP_ROLE, position)
                item.setToolTip("ダブルクリックでカードごとの内容を表示・非表示")
            self.alerts.addItem(item)
            if alert.members and alert.message in self._opened_groups:
                self._add_members(self.alerts.count(), position, alert)

    def _add_members(self, row: int, position: int, alert: Alert) -> None:
        for offset, message in enumerate(alert.members):
            member = QListWidgetItem(f"　　{message}")
            member.setData(MEMBER_ROLE, position)
            member.setData(Qt.ItemDataRole.UserRole, alert.level)
            self.alerts.insertItem(row + offset, member)

    def toggle_group(self, position: int) -> None:
        """Show (or hide again) the cards' own lines under grouped alert ``position``."""
        row = next(
            (
                i
                for i in range(self.alerts.count())
                if self.alerts.item(i).data(GROUP_ROLE) == position
            ),
            None,
        )
        if row is None:
            return
        message = self._alerts[position].message
        if message in self._opened_groups:
            self._opened_groups.discard(message)
            for i in reversed(range(self.alerts.count())):
                if self.alerts.item(i).data(MEMBER_ROLE) == position:
                    self.alerts.takeItem(i)
        else:
            self._opened_groups.add(message)
            self._add_members(row + 1, position, self._alerts[position])

    def _pool_names(self) -> list[tuple[str, str]]:
        snapshot = self.context.mileage.snapshot if self.context.is_open else None
        rules = snapshot.rules if snapshot is not None else None
        return [(key, pool.name) for key, pool in rules.pools.items()] if rules else []

    def _alert_activated(self, item: QListWidgetItem) -> None:
        if item.data(ACTION_ROLE) == BACKUP_ACTION:
            self.context.backup_requested.emit()
        elif item.data(GROUP_ROLE) is not None:
            self.toggle_group(int(item.data(GROUP_ROLE)))

    def _backup_made(self) -> None:
        if self._current is not None and self._current.reminders is not None:
            self._fill_alerts(self._current)

    def alert_texts(self) -> list[str]:
        return [self.alerts.item(i).text() for i in range(self.alerts.count())]

    def save_settings(self) -> None:
        self.context.settings.setValue("dashboard/splitter", self._body.saveState())
        self.fleet_table.save_settings()


def _month_list(month_from: str | None, month_to: str | None) -> list[str]:
    if not month_from or not month_to:
        return []
    year, month = (int(part) for part in month_from.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= month_to:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


NO_TRIPS_YET = (
    "まだデータがありません。\nETC利用照会サービスの明細CSVを取り込むと、\n月別の通行料金がここに出ます"
    "（ファイル → 明細CSVを取り込む、またはウィンドウにドラッグ）。"
)
NO_POINTS_YET = (
    "まだポイントがありません。\n明細CSVを取り込むと、走行から付与されるポイントと\n"
    "失効時期がここに出ます。"
)


def _draw_message(figure: Any, style: ChartStyle, message: str) -> None:
    figure.text(0.5, 0.5, message, ha="center", va="center", color=style.foreground, wrap=True)
