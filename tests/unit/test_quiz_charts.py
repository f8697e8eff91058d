"""The `/quiz stats` picture: a small valid PNG, whatever the data, the language or the number of threads."""

from __future__ import annotations

import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from matplotlib import image

from bot.services.quiz.charts import (
    MAX_DAYS,
    ChartLabels,
    daily_series,
    hangul_font,
    render_stats_chart,
    supports_text,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 300_000
EN = ChartLabels(accuracy="Accuracy", answers_per_day="Answers per day", no_data="No data yet")
KO = ChartLabels(accuracy="정답률", answers_per_day="하루 답변 수", no_data="아직 기록이 없어요")
TOPICS = [("aws", 0.83, 12), ("adsp", 0.5, 40), ("langchain", 0.0, 3)]
DAYS = [(date(2026, 11, 1) + timedelta(days=n), (n * 7) % 11) for n in range(28)]


def pixels(png: bytes) -> tuple[int, int]:
    """Height and width of the decoded picture; decoding fails loudly on a broken file."""
    decoded = image.imread(io.BytesIO(png), format="png")
    return decoded.shape[0], decoded.shape[1]


def check_png(png: bytes) -> None:
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < MAX_BYTES
    assert pixels(png) == (500, 800)


def test_a_chart_is_a_small_png_of_800_by_500() -> None:
    check_png(render_stats_chart(title="alice's quiz stats", per_topic=TOPICS, per_day=DAYS, labels=EN))


@pytest.mark.parametrize(
    ("per_topic", "per_day"),
    [([], []), (TOPICS, []), ([], DAYS)],
    ids=["nothing", "no days", "no topics"],
)
def test_missing_data_still_makes_a_chart(
    per_topic: list[tuple[str, float, int]], per_day: list[tuple[date, int]]
) -> None:
    check_png(render_stats_chart(title="Stats", per_topic=per_topic, per_day=per_day, labels=EN))


def test_korean_text_never_breaks_a_chart_nor_warns_per_glyph() -> None:
    with warnings.catch_warnings():
        # A glyph missing from every font is a UserWarning from matplotlib; none may reach the bot's log.
        warnings.simplefilter("error")
        png = render_stats_chart(
            title="alice님의 퀴즈 통계", per_topic=[("자료구조", 0.7, 5), *TOPICS], per_day=DAYS, labels=KO
        )
    check_png(png)


def test_korean_support_is_reported_as_the_fonts_allow() -> None:
    assert supports_text("aws 83% (12)")
    # Whether this machine has a Hangul font decides, not the test: CI images often have none.
    assert supports_text("정답률") is (hangul_font() is not None)


def test_odd_values_are_drawn_not_refused() -> None:
    odd_topics = [("$PATH and {braces}", float("nan"), 0), ("x" * 200, 1.7, 1), ("neg", -0.2, 2)]
    odd_days = [(date(2026, 11, 3), -4), (date(2026, 11, 3), 2)]
    check_png(render_stats_chart(title="$5 $$ \\frac{", per_topic=odd_topics * 10, per_day=odd_days, labels=EN))


def test_days_without_answers_are_filled_in_and_the_oldest_cut() -> None:
    series = daily_series([(date(2026, 11, 5), 2), (date(2026, 11, 2), 1), (date(2026, 11, 5), 3)])
    assert series == [
        (date(2026, 11, 2), 1),
        (date(2026, 11, 3), 0),
        (date(2026, 11, 4), 0),
        (date(2026, 11, 5), 5),
    ]
    long = daily_series([(date(2026, 1, 1), 1), (date(2026, 12, 31), 1)])
    assert len(long) == MAX_DAYS and long[-1] == (date(2026, 12, 31), 1)


def test_threads_can_render_at_the_same_time() -> None:
    def render(n: int) -> bytes:
        labels = KO if n % 2 else EN
        return render_stats_chart(title=f"chart {n}", per_topic=TOPICS[: n % 3 + 1], per_day=DAYS[n:], labels=labels)

    with ThreadPoolExecutor(max_workers=4) as pool:
        charts = list(pool.map(render, range(8)))
    for png in charts:
        check_png(png)
    # Same input, same picture, even when drawn alongside others.
    assert charts[0] == render(0)
