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


def _month_labels(view: ChartView) -> list[str]:
    return [tick.get_text() for tick in view.figure.axes[0].get_xticklabels()]


def test_the_toll_chart_thins_its_month_labels_to_the_width_and_redraws_on_resize(
    qtbot,
) -> None:  # type: ignore[no-untyped-def]
    from etcbook.models.ui_queries import MonthlyOperatorTolls
    from etcbook.ui.views.dashboard import draw_monthly_tolls

    months = [f"2025-{m:02d}" for m in range(11, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
    view = ChartView()
    qtbot.addWidget(view)
    view.resize(1000, 320)
    view.show()
    qtbot.waitExposed(view)
    rows = [MonthlyOperatorTolls(month, "nexco", 3000, 1000) for month in months]
    view.draw(lambda figure, style: draw_monthly_tolls(figure, style, rows, months))
    wide = _month_labels(view)
    assert all(label for label in wide)  # room for every month
    assert wide[0] == "11月\n2025" and wide[2] == "1月\n2026"

    view.resize(300, 320)
    qtbot.waitUntil(lambda: _month_labels(view) != wide, timeout=5_000)  # redrawn after resize
    narrow = _month_labels(view)
    assert len(narrow) == len(months)
    assert narrow[0] == "11月\n2025" and narrow[2] == "1月\n2026"  # the years stay
    assert sum(1 for label in narrow if label) <= len(months) // 2


def test_points_ticks_are_short_enough_for_a_narrow_chart() -> None:
    from etcbook.ui.charts import points_label

    assert [points_label(p) for p in (0, 9_999, 10_000, 25_000, 60_000, 125_000)] == [
        "0P",
        "9,999P",
        "1万P",
        "2.5万P",
        "6万P",
        "12.5万P",
    ]
