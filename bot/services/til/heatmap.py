"""The `/til streak` picture: a contribution-style heatmap of a member's TIL days, as PNG bytes.

Weeks are columns (oldest on the left), weekdays rows (Monday on top, as the guild's weeks and digests
count them), and a cell's colour says how many TILs that local day has. Drawn like the quiz charts
(bot/services/quiz/charts.py): matplotlib's object API on its own Agg canvas, no pyplot state, so renders
in several threads never meet; Korean text drawn with the Hangul font those charts find, or left out of the
picture when the machine has none.
"""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from bot.services.quiz.charts import BACKGROUND, BASE_FAMILY, GRID, MUTED, TEXT, hangul_font, supports_text
from bot.services.til.export import bundled_catalog

WIDTH_PX, HEIGHT_PX, DPI = 800, 260, 100
MAX_DAYS = 371  # 53 weeks: a year, however its weeks fall
# Discord's dark theme behind a green scale like GitHub's: none, then 1, 2, 3 and 4 or more TILs a day.
LEVEL_COLOURS = (GRID, "#0e4429", "#006d32", "#26a641", "#39d353")
TODAY_EDGE = "#dbdee1"
MIN_COLUMNS = len(LEVEL_COLOURS) + 4
CELL = 0.82  # of a grid step; the rest is the gap between cells


@dataclass(frozen=True)
class Cell:
    column: int
    """The week, 0 for the oldest."""
    row: int
    """The weekday, 0 for Monday."""
    day: date
    count: int


def heatmap_cells(activity: Mapping[date, int], *, today: date, days: int) -> list[Cell]:
    """The `days` days up to `today`, placed in the grid; days outside that window are ignored."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS}, not {days}")
    first = today - timedelta(days=days - 1)
    first_monday = first - timedelta(days=first.weekday())
    cells = []
    for n in range(days):
        day = first + timedelta(days=n)
        cells.append(Cell((day - first_monday).days // 7, day.weekday(), day, max(0, activity.get(day, 0))))
    return cells


def level(count: int) -> int:
    return min(count, len(LEVEL_COLOURS) - 1)


async def render_heatmap(
    activity: Mapping[date, int], *, today: date, title: str, days: int = 182, language: str = "en"
) -> bytes:
    """A PNG of 800x260 px; `activity` is TILs per local day. Weekday and legend words are in `language`.
    Rendered in a worker thread (about 0.1 s of CPU), so the event loop keeps answering."""
    return await asyncio.to_thread(draw_heatmap, activity, today=today, title=title, days=days, language=language)


def draw_heatmap(activity: Mapping[date, int], *, today: date, title: str, days: int, language: str) -> bytes:
    """`render_heatmap` without the thread: CPU-bound, safe to call from several threads at once."""
    cells = heatmap_cells(activity, today=today, days=days)
    # Short windows still leave room for the legend under the grid.
    weeks = max(cells[-1].column + 1, MIN_COLUMNS)
    text = functools.partial(bundled_catalog().text, language)
    style = _font_style()
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=BACKGROUND, layout="constrained")
    heading = _drawable(title)
    if heading:
        figure.suptitle(heading, fontsize=13, fontweight="bold", **style)
    axes = figure.add_subplot()
    _style(axes, weeks)
    axes.add_collection(
        PatchCollection(
            [Rectangle((cell.column, cell.row), CELL, CELL) for cell in cells],
            facecolors=[LEVEL_COLOURS[level(cell.count)] for cell in cells],
            edgecolors=[TODAY_EDGE if cell.day == today else "none" for cell in cells],
            linewidths=1.2,
        )
    )
    # Wednesday, Monday and Friday only, as GitHub does: every row labelled crowds a small picture.
    axes.set_yticks(
        [0 + CELL / 2, 2 + CELL / 2, 4 + CELL / 2],
        labels=[_drawable(text(f"til_export.heatmap.{name}")) for name in ("monday", "wednesday", "friday")],
        fontsize=8,
        **style,
    )
    # A month's label sits over the week of its first day; the window's first, partial month is labelled
    # too when there is room before the next label.
    months = [(cell.column, cell.day) for cell in cells if cell.day.day == 1]
    if not months or months[0][0] >= 3:
        months.insert(0, (0, cells[0].day))
    axes.set_xticks([column + CELL / 2 for column, _ in months], labels=[day.strftime("%Y-%m") for _, day in months])
    axes.tick_params(axis="x", labelsize=8, labeltop=True, labelbottom=False, top=False, bottom=False)
    _legend(axes, weeks, text("til_export.heatmap.less"), text("til_export.heatmap.more"), style)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)  # attaches itself: Agg, whatever the default backend
    figure.savefig(buffer, format="png", facecolor=BACKGROUND)
    return buffer.getvalue()


def _style(axes: Axes, weeks: int) -> None:
    axes.set_facecolor(BACKGROUND)
    axes.set_xlim(-0.2, weeks)
    axes.set_ylim(8.4, -0.2)  # Monday on top; room below Sunday for the legend
    axes.set_aspect("equal")
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.tick_params(colors=MUTED, labelcolor=TEXT, left=False)


def _legend(axes: Axes, weeks: int, less: str, more: str, style: dict[str, Any]) -> None:
    start = weeks - len(LEVEL_COLOURS) - 0.2
    axes.add_collection(
        PatchCollection(
            [Rectangle((start + n, 7.4), CELL, CELL) for n in range(len(LEVEL_COLOURS))],
            facecolors=list(LEVEL_COLOURS),
            edgecolors="none",
        )
    )
    middle = 7.4 + CELL / 2
    axes.text(start - 0.3, middle, _drawable(less), ha="right", va="center", fontsize=8, **style)
    axes.text(weeks - 0.1, middle, _drawable(more), ha="left", va="center", fontsize=8, **style)


def _font_style() -> dict[str, Any]:
    hangul = hangul_font()
    families = [BASE_FAMILY] if hangul is None else [BASE_FAMILY, hangul]
    # parse_math off: a "$" in a title is text, not the start of a formula that may not parse.
    return {"fontfamily": families, "color": TEXT, "parse_math": False}


def _drawable(text: str) -> str:
    """`text` without the characters no font here can draw (instead of empty boxes), spaces collapsed."""
    return " ".join("".join(char for char in text if supports_text(char)).split())
