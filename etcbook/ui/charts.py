"""Charts in the window: matplotlib's QtAgg canvas, loaded on first use, in IPAexGothic.

matplotlib costs a few hundred milliseconds to import, so nothing here imports it at module
level: :class:`ChartView` is a plain widget until its first :meth:`ChartView.draw`. The data
handed in is already computed (integers); this module only draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from etcbook.ui import fonts
from etcbook.ui.theme import palette_is_dark

_matplotlib_ready = False

SERIES_COLOURS = (
    "#3b7dd8",  # blue
    "#e07b39",  # orange
    "#3aa66a",  # green
    "#c9474b",  # red
    "#8c6bc8",  # purple
    "#8a6d4a",  # brown
    "#d368b0",  # pink
    "#7f8c8d",  # grey
    "#b5a325",  # olive
    "#2fb3c4",  # cyan
)


def _prepare_matplotlib() -> None:
    """Import matplotlib once, with the IPAexGothic font and no global pyplot state."""
    global _matplotlib_ready  # one-time library set-up, like matplotlib's own rcParams
    if _matplotlib_ready:
        return
    import matplotlib
    from matplotlib import font_manager

    from etcbook.paths import ipaexgothic_path

    path = ipaexgothic_path()
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        matplotlib.rcParams["font.family"] = [fonts.FONT_FAMILY, "sans-serif"]
    matplotlib.rcParams["axes.unicode_minus"] = False  # the font's minus is the ASCII one
    matplotlib.rcParams["svg.fonttype"] = "none"
    _matplotlib_ready = True


def preload_matplotlib() -> None:
    """Import matplotlib and its Qt canvas module ahead of use (safe on a worker thread).

    The first import costs about half a second; a page that will draw a chart calls this while
    it reads its data off the GUI thread, so that drawing does not freeze the window.
    """
    _prepare_matplotlib()
    import matplotlib.backends.backend_qtagg
    import matplotlib.figure  # noqa: F401


@dataclass(frozen=True)
class ChartStyle:
    """Colours taken from the widget's palette, so that charts follow light and dark."""

    background: str
    foreground: str
    grid: str
    dark: bool

    @classmethod
    def from_palette(cls, palette: QPalette) -> ChartStyle:
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        grid = QColor(text)
        grid.setAlpha(60)
        return cls(
            background=base.name(),
            foreground=text.name(),
            grid=grid.name(QColor.NameFormat.HexArgb),
            dark=palette_is_dark(palette),
        )

    def grid_rgba(self) -> tuple[float, float, float, float]:
        colour = QColor.fromString(self.grid)
        return (colour.redF(), colour.greenF(), colour.blueF(), colour.alphaF())

    def style_axes(self, axes: Any) -> None:
        """Apply the colours to a matplotlib ``Axes``."""
        axes.set_facecolor(self.background)
        for spine in axes.spines.values():
            spine.set_color(self.grid_rgba())
        axes.tick_params(colors=self.foreground, labelcolor=self.foreground)
        axes.yaxis.label.set_color(self.foreground)
        axes.xaxis.label.set_color(self.foreground)
        axes.title.set_color(self.foreground)
        axes.grid(axis="y", color=self.grid_rgba(), linewidth=0.8)
        axes.set_axisbelow(True)


DrawFunction = Callable[[Any, ChartStyle], None]
"""Draws on a matplotlib ``Figure`` (cleared first) with the palette's :class:`ChartStyle`."""


def figure_width_pt(figure: Any) -> float:
    """The figure's width in points, to fit tick labels and legends to the space there is."""
    return float(figure.get_figwidth()) * 72


class ChartView(QWidget):
    """A chart area; matplotlib is imported on the first :meth:`draw`.

    The chart is drawn again (once the size settles) when the widget is resized, so that a
    draw function choosing its labels by :func:`figure_width_pt` fits the new size.
    """

    REDRAW_AFTER_RESIZE_MS = 150

    def __init__(self, parent: QWidget | None = None, *, minimum_height: int = 240) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(minimum_height)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = QLabel("")
        self._layout.addWidget(self._placeholder)
        self._canvas: Any = None
        self._figure: Any = None
        self._draw_function: DrawFunction | None = None
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(self.REDRAW_AFTER_RESIZE_MS)
        self._redraw_timer.timeout.connect(self._redraw)

    @property
    def figure(self) -> Any:
        """The matplotlib ``Figure`` (``None`` before the first draw)."""
        return self._figure

    def draw(self, draw: DrawFunction) -> None:
        """Clear the figure and draw on it with ``draw(figure, style)``."""
        self._draw_function = draw
        self._ensure_canvas()
        style = ChartStyle.from_palette(self.palette())
        self._figure.clear()
        self._figure.set_facecolor(style.background)
        draw(self._figure, style)
        self._canvas.draw_idle()

    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt override
        super().resizeEvent(event)
        if self._draw_function is not None and event.size().width() != event.oldSize().width():
            self._redraw_timer.start()

    def _redraw(self) -> None:
        if self._draw_function is not None:
            self.draw(self._draw_function)

    def _ensure_canvas(self) -> None:
        if self._canvas is not None:
            return
        _prepare_matplotlib()
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self._figure = Figure(layout="constrained")
        # matplotlib's Qt backend leaves its constructors unannotated.
        self._canvas = FigureCanvasQTAgg(self._figure)  # type: ignore[no-untyped-call]
        self._canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._layout.removeWidget(self._placeholder)
        self._placeholder.deleteLater()
        self._layout.addWidget(self._canvas)
        # The first draw happens before the layout gives the canvas its size: start from the
        # size this widget has, not matplotlib's default 6.4 × 4.8 inches.
        if self.width() > 1 and self.height() > 1:
            dpi = self._figure.dpi
            self._figure.set_size_inches(self.width() / dpi, self.height() / dpi, forward=False)


def yen_axis_formatter() -> Any:
    """A tick formatter writing ``12,000円``."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: f"{int(value):,}円")


def points_label(points: int) -> str:
    """A short axis label for a point count: ``5,000P`` below ten thousand, ``1.5万P`` from it.

    >>> [points_label(p) for p in (0, 5_000, 10_000, 15_000, 60_000, 125_000)]
    ['0P', '5,000P', '1万P', '1.5万P', '6万P', '12.5万P']
    """
    if abs(points) < 10_000:
        return f"{points:,}P"
    return f"{points / 10_000:.2f}".rstrip("0").rstrip(".") + "万P"


def points_axis_formatter() -> Any:
    """A tick formatter writing :func:`points_label`: short, so ticks fit a narrow chart."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: points_label(int(value)))


def stacked_bars(
    axes: Any,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int], str]],
    *,
    hatch: str | None = None,
    alpha: float = 1.0,
    bottoms: list[int] | None = None,
    width: float = 0.7,
) -> list[int]:
    """Draw ``series`` (name, values, colour) stacked on ``labels``; return the new tops."""
    tops = list(bottoms) if bottoms is not None else [0] * len(labels)
    positions = list(range(len(labels)))
    for name, values, colour in series:
        axes.bar(
            positions,
            list(values),
            width,
            bottom=tops,
            label=name,
            color=colour,
            alpha=alpha,
            hatch=hatch,
            edgecolor=colour if hatch else None,
            linewidth=0,
        )
        tops = [top + value for top, value in zip(tops, values, strict=True)]
    axes.set_xticks(positions, list(labels))
    return tops


def stacked_barh(
    axes: Any,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int], str]],
    *,
    height: float = 0.6,
) -> None:
    """Horizontal bars: ``series`` (name, values, colour) stacked along each label's row."""
    positions = list(range(len(labels)))
    lefts = [0] * len(labels)
    for name, values, colour in series:
        axes.barh(
            positions, list(values), height, left=lefts, label=name, color=colour, linewidth=0
        )
        lefts = [left + value for left, value in zip(lefts, values, strict=True)]
    axes.set_yticks(positions, list(labels))
    axes.invert_yaxis()
