"""The `/quiz stats` picture: accuracy per topic and answers per day, as PNG bytes.

Built with matplotlib's object-oriented API on the Agg canvas, never `pyplot`: pyplot keeps the current
figure in global state, while a `Figure` drawn on its own `FigureCanvasAgg` shares nothing, so several
threads (`asyncio.to_thread(render_stats_chart, ...)`) can render at once.

Fonts: matplotlib's bundled DejaVu Sans has no Hangul. The first render looks for a font that has it:
well-known Korean families matplotlib already knows, then `fc-list :lang=ko` (which also finds fonts
installed after matplotlib built its font cache). When one is found, text is drawn in DejaVu Sans with
that font as the per-glyph fallback. When none is, characters no available font can draw are left out
of the picture (rather than drawn as empty boxes, with a warning per glyph), one warning is logged, and
`supports_text` says so, so a caller can choose English labels for the picture. Installing a font fixes
it, e.g. Debian's `fonts-noto-cjk` or `fonts-nanum`; nothing is downloaded here.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

log = logging.getLogger(__name__)

WIDTH_PX, HEIGHT_PX, DPI = 800, 500, 100
MAX_TOPICS = 12
MAX_DAYS = 62
MAX_TOPIC_LABEL_CHARS = 24
# Days with a count written over their bar; more than this and the numbers crowd each other.
MAX_LABELLED_DAYS = 14
MAX_DATE_TICKS = 7

# A solid dark background (Discord's dark-theme grey) rather than a transparent one: light text on a
# transparent picture would vanish for members who use the light theme.
BACKGROUND = "#2b2d31"
TEXT = "#dbdee1"
MUTED = "#949ba4"
GRID = "#3f4147"
ANSWERS = "#5865f2"
# Accuracy colours repeat what the printed percentage says, so nobody depends on telling them apart.
GOOD, FAIR, POOR = "#57f287", "#fee75c", "#ed4245"
GOOD_FROM, FAIR_FROM = 0.8, 0.5

BASE_FAMILY = "DejaVu Sans"  # ships with matplotlib, so it is always there
HANGUL_FAMILIES = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Source Han Sans KR",
    "NanumGothic",
    "NanumBarunGothic",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
    "UnDotum",
    "Baekmuk Gulim",
    "Noto Sans CJK JP",  # the CJK collections carry Hangul in every regional variant
    "Droid Sans Fallback",
)
HANGUL_PROBES = (ord("가"), ord("힣"), ord("ㄱ"))


@dataclass(frozen=True)
class ChartLabels:
    """Words drawn on the chart, already in the reader's language."""

    accuracy: str
    answers_per_day: str
    no_data: str


def render_stats_chart(
    *,
    title: str,
    per_topic: Sequence[tuple[str, float, int]],
    per_day: Sequence[tuple[date, int]],
    labels: ChartLabels,
) -> bytes:
    """A PNG of about 800x500 px: accuracy per topic (left) and answers per day (right).

    `per_topic` is (topic, accuracy 0..1, answered), drawn in the given order, at most `MAX_TOPICS`;
    `per_day` is (local date, answers); missing days between the first and the last count as zero, and
    only the latest `MAX_DAYS` are drawn. With no data at all the chart says `labels.no_data`.
    CPU-bound (about 0.1 s): call it through `asyncio.to_thread`. Safe to call from several threads.
    """
    fonts = _fonts()
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=BACKGROUND, layout="constrained")
    heading = fonts.drawable(title)
    if heading:
        figure.suptitle(heading, fontsize=14, fontweight="bold", **fonts.style())
    topics = list(per_topic)[:MAX_TOPICS]
    days = daily_series(per_day)
    if not topics and not days:
        _no_data(figure.add_subplot(), labels, fonts)
    else:
        left, right = figure.subplots(1, 2, width_ratios=[1.0, 1.25])
        _accuracy_panel(left, topics, labels, fonts)
        _answers_panel(right, days, labels, fonts)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)  # attaches itself to the figure: Agg explicitly, whatever the default backend
    figure.savefig(buffer, format="png", facecolor=BACKGROUND)
    return buffer.getvalue()


def supports_text(text: str) -> bool:
    """Whether every character of `text` can be drawn (False for Korean when no Hangul font is installed)."""
    return _fonts().drawable(text) == " ".join(text.split())


def hangul_font() -> str | None:
    """The font family charts draw Hangul with, or None when this machine has none."""
    return _fonts().hangul


def daily_series(per_day: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """Every day from the first to the last given (the latest `MAX_DAYS`), days without answers as zero."""
    counts: dict[date, int] = {}
    for day, answers in per_day:
        counts[day] = counts.get(day, 0) + max(0, answers)
    if not counts:
        return []
    last = max(counts)
    first = max(min(counts), last - timedelta(days=MAX_DAYS - 1))
    return [
        (first + timedelta(days=n), counts.get(first + timedelta(days=n), 0)) for n in range((last - first).days + 1)
    ]


# --- panels ----------------------------------------------------------------------------------------------------


def _accuracy_panel(axes: Axes, topics: Sequence[tuple[str, float, int]], labels: ChartLabels, fonts: _Fonts) -> None:
    _style(axes)
    axes.set_title(fonts.drawable(labels.accuracy), loc="left", fontsize=11, **fonts.style())
    if not topics:
        _say(axes, labels.no_data, fonts)
        return
    accuracies = [_fraction(accuracy) for _, accuracy, _ in topics]
    positions = list(range(len(topics)))
    bars = axes.barh(positions, accuracies, color=[_accuracy_colour(a) for a in accuracies], height=0.6)
    names = [f"{_shorten(fonts.drawable(topic))} ({answered})" for topic, _, answered in topics]
    axes.set_yticks(positions, labels=names, fontsize=9, **fonts.style())
    axes.invert_yaxis()  # the first topic on top, as the caller listed them
    axes.set_xlim(0, 1.2)  # room after a full bar for its percentage
    axes.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    axes.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    axes.bar_label(bars, labels=[f"{a:.0%}" for a in accuracies], padding=3, fontsize=9, **fonts.style())
    axes.grid(axis="x", color=GRID, linewidth=0.8)


def _answers_panel(axes: Axes, days: Sequence[tuple[date, int]], labels: ChartLabels, fonts: _Fonts) -> None:
    _style(axes)
    axes.set_title(fonts.drawable(labels.answers_per_day), loc="left", fontsize=11, **fonts.style())
    if not days:
        _say(axes, labels.no_data, fonts)
        return
    positions = list(range(len(days)))
    counts = [answers for _, answers in days]
    bars = axes.bar(positions, counts, color=ANSWERS, width=0.7)
    step = max(1, math.ceil(len(days) / MAX_DATE_TICKS))
    # Counted back from the last day, so the most recent date always has its label.
    ticks = positions[::-1][::step][::-1]
    axes.set_xticks(ticks, labels=[days[n][0].strftime("%m-%d") for n in ticks], fontsize=9)
    axes.set_xlim(-0.6, len(days) - 0.4)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max(1, max(counts)) * 1.15)
    if len(days) <= MAX_LABELLED_DAYS:
        axes.bar_label(bars, labels=[str(c) if c else "" for c in counts], padding=2, fontsize=8, **fonts.style())
    axes.grid(axis="y", color=GRID, linewidth=0.8)


def _no_data(axes: Axes, labels: ChartLabels, fonts: _Fonts) -> None:
    _style(axes)
    axes.set_axis_off()
    _say(axes, labels.no_data, fonts, fontsize=16)


def _say(axes: Axes, text: str, fonts: _Fonts, fontsize: float = 12) -> None:
    axes.set_xticks([])
    axes.set_yticks([])
    shown = fonts.drawable(text) or "-"
    axes.text(0.5, 0.5, shown, ha="center", va="center", fontsize=fontsize, transform=axes.transAxes, **fonts.style())


def _style(axes: Axes) -> None:
    axes.set_facecolor(BACKGROUND)
    axes.set_axisbelow(True)
    for side, spine in axes.spines.items():
        spine.set_visible(side in ("left", "bottom"))
        spine.set_color(MUTED)
    axes.tick_params(colors=TEXT, labelcolor=TEXT)


def _accuracy_colour(accuracy: float) -> str:
    if accuracy >= GOOD_FROM:
        return GOOD
    return FAIR if accuracy >= FAIR_FROM else POOR


def _fraction(value: float) -> float:
    return 0.0 if math.isnan(value) else min(1.0, max(0.0, value))


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_TOPIC_LABEL_CHARS else text[: MAX_TOPIC_LABEL_CHARS - 1] + "…"


# --- fonts -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fonts:
    families: tuple[str, ...]
    hangul: str | None
    drawable_codepoints: frozenset[int]

    def style(self) -> dict[str, Any]:
        # parse_math off: a "$" in a topic or title is text, not the start of a formula that may not parse.
        return {"fontfamily": list(self.families), "color": TEXT, "parse_math": False}

    def drawable(self, text: str) -> str:
        """`text` without the characters no font here can draw, spaces collapsed."""
        kept = "".join(char for char in text if char.isspace() or ord(char) in self.drawable_codepoints)
        return " ".join(kept.split())


_FONT_LOCK = threading.Lock()


def _fonts() -> _Fonts:
    # The first render searches (and may register a font with matplotlib's shared font manager);
    # renders in other threads wait for it instead of searching at the same time.
    with _FONT_LOCK:
        return _find_fonts()


@functools.cache
def _find_fonts() -> _Fonts:
    hangul = _hangul_family()
    if hangul is None:
        log.warning(
            "no font with Hangul found: Korean text is left out of quiz charts;"
            " install one (e.g. the fonts-noto-cjk or fonts-nanum package) and restart"
        )
    families = (BASE_FAMILY,) if hangul is None else (BASE_FAMILY, hangul)
    codepoints: set[int] = set()
    for family in families:
        codepoints.update(_charmap(font_manager.findfont(font_manager.FontProperties(family=family))))
    return _Fonts(families, hangul, frozenset(codepoints))


def _hangul_family() -> str | None:
    known = {entry.name: entry.fname for entry in font_manager.fontManager.ttflist}
    for family in HANGUL_FAMILIES:
        if family in known and _has_hangul(known[family]):
            return family
    for path in _fontconfig_korean_files():
        try:
            if not _has_hangul(path):
                continue
            if path not in {entry.fname for entry in font_manager.fontManager.ttflist}:
                font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
        except (OSError, RuntimeError, ValueError):
            log.debug("cannot use font %s", path, exc_info=True)
    return None


def _fontconfig_korean_files() -> list[str]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        found = subprocess.run(
            [fc_list, ":lang=ko", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    # Lines look like "/usr/share/fonts/.../NotoSansCJK-Regular.ttc: "; matplotlib reads TrueType and OpenType.
    paths = (line.strip().removesuffix(":") for line in found.splitlines())
    return sorted(path for path in paths if path.lower().endswith((".ttf", ".otf", ".ttc")))


def _has_hangul(path: str) -> bool:
    charmap = _charmap(path)
    return all(codepoint in charmap for codepoint in HANGUL_PROBES)


def _charmap(path: str) -> frozenset[int]:
    return frozenset(font_manager.get_font(path).get_charmap())
