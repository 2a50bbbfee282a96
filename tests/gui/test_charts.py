"""Charts load matplotlib only when drawn, and draw Japanese text without warnings."""

from __future__ import annotations

import subprocess
import sys

from etcbook.ui.charts import ChartView, stacked_bars, yen_axis_formatter


def test_starting_the_window_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from etcbook.ui.app import make_application, make_main_window\n"
        "from etcbook.ui.pages import discover_pages\n"
        "discover_pages()\n"
        "heavy = [m for m in ('matplotlib', 'reportlab', 'sqlmodel', 'sqlalchemy', 'alembic')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_chart_draws_japanese_labels(qtbot) -> None:
    view = ChartView()
    qtbot.addWidget(view)
    view.resize(600, 300)

    def draw(figure, style) -> None:
        axes = figure.add_subplot()
        style.style_axes(axes)
        stacked_bars(axes, ["2025/05", "2025/06"], [("NEXCO", [1200, 3400], "#3b7dd8")])
        axes.yaxis.set_major_formatter(yen_axis_formatter())
        axes.set_title("月別通行料金")
        axes.legend()

    view.draw(draw)
    view.figure.canvas.draw()
    assert view.figure.axes[0].get_title() == "月別通行料金"
