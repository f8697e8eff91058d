"""Streaks: consecutive local days with a TIL. Pure arithmetic on dates, so the edge cases are easy to test.

A day counts once however many TILs it has. The current streak runs up to today, or up to yesterday while
today has no TIL yet: a streak is only lost once a whole day has passed without one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# The quiz's answer streaks follow the same rule; one implementation serves both.
from bot.services.quiz.stats import streaks


@dataclass(frozen=True)
class Streak:
    current: int
    """Consecutive local days up to today (or yesterday, if not yet today)."""
    longest: int
    posted_today: bool
    total_days: int


def streak_of(days: Iterable[date], today: date) -> Streak:
    """The streak of a member who posted on `days` (their local dates), seen on their local `today`.

    Days after `today` (a clock moved back, a time zone changed westwards) count for the longest streak and the
    total but cannot carry the current one.
    """
    active = set(days)
    current, longest = streaks(active, today)
    return Streak(current=current, longest=longest, posted_today=today in active, total_days=len(active))
