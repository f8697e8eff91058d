"""The `/til streak` heatmap: days in the right cells, and a small valid PNG whatever the activity or title."""

from __future__ import annotations

import asyncio
import io
import warnings
from datetime import date, timedelta

import pytest
from matplotlib import image

from bot.services.til.heatmap import LEVEL_COLOURS, MAX_DAYS, heatmap_cells, level, render_heatmap

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TODAY = date(2026, 11, 26)  # a Thursday


def check_png(png: bytes) -> None:
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < 150_000
    decoded = image.imread(io.BytesIO(png), format="png")  # fails loudly on a broken file
    assert decoded.shape[:2] == (260, 800)


def test_weeks_are_columns_and_weekdays_rows() -> None:
    cells = heatmap_cells({TODAY: 2, TODAY - timedelta(days=7): 1}, today=TODAY, days=182)
    assert len(cells) == 182
    assert [c.day for c in cells] == [TODAY - timedelta(days=181 - n) for n in range(182)]
    last, week_before = cells[-1], cells[-8]
    assert (last.day, last.row, last.count) == (TODAY, 3, 2)  # Thursday is the fourth row, Monday the first
    assert (week_before.column, week_before.row, week_before.count) == (last.column - 1, 3, 1)
    assert cells[0].column == 0
    # Every day has its own cell, and a column never holds more than one week.
    assert len({(c.column, c.row) for c in cells}) == 182
    assert all(c.row == c.day.weekday() for c in cells)
    assert all((c.day - cells[0].day).days // 7 in (c.column - 1, c.column) for c in cells)


def test_days_outside_the_window_and_negative_counts_are_ignored() -> None:
    activity = {TODAY + timedelta(days=1): 5, TODAY - timedelta(days=30): 3, TODAY - timedelta(days=2): -4}
    cells = heatmap_cells(activity, today=TODAY, days=30)
    assert len(cells) == 30
    assert sum(c.count for c in cells) == 0


@pytest.mark.parametrize("days", [0, -1, MAX_DAYS + 1])
def test_a_window_outside_the_limits_is_a_bug(days: int) -> None:
    with pytest.raises(ValueError, match="days"):
        heatmap_cells({}, today=TODAY, days=days)


def test_busier_days_are_darker_up_to_four() -> None:
    assert [level(n) for n in range(7)] == [0, 1, 2, 3, 4, 4, 4]
    assert len(set(LEVEL_COLOURS)) == len(LEVEL_COLOURS)


async def test_a_heatmap_is_a_small_png() -> None:
    activity = {TODAY - timedelta(days=n): n % 6 for n in range(0, 182, 2)}
    check_png(await render_heatmap(activity, today=TODAY, title="alice's TIL days"))


@pytest.mark.parametrize("days", [1, 7, 182, MAX_DAYS])
async def test_empty_activity_and_any_window_still_make_a_picture(days: int) -> None:
    check_png(await render_heatmap({}, today=TODAY, title="", days=days))


async def test_korean_never_breaks_the_picture_nor_warns_per_glyph() -> None:
    with warnings.catch_warnings():
        # A glyph missing from every font is a UserWarning from matplotlib; none may reach the bot's log.
        warnings.simplefilter("error")
        png = await render_heatmap({TODAY: 1}, today=TODAY, title="앨리스님의 TIL 🔥 $5 \\frac{", language="ko")
    check_png(png)


async def test_renders_run_side_by_side_and_agree() -> None:
    activity = {TODAY - timedelta(days=n): 1 + n % 3 for n in range(40)}
    pictures = await asyncio.gather(
        *(render_heatmap(activity, today=TODAY, title=f"member {n % 2}", language="ko") for n in range(6))
    )
    for png in pictures:
        check_png(png)
    assert pictures[0] == pictures[2] == pictures[4]
    assert pictures[0] != pictures[1]
