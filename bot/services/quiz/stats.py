"""Leaderboards and personal statistics, all computed from the answer log (nothing is counted twice).

Every answer counts, whatever its source (group quiz, solo, daily, review): each one is a question
answered once, and the log's unique indexes already stop repeated clicks from inflating anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import InvalidInput
from bot.storage import QuizRepository

Period = Literal["week", "month", "all"]
# Rolling windows rather than calendar weeks: fair to every time zone, and never empty on a Monday morning.
PERIODS: dict[str, timedelta | None] = {"week": timedelta(days=7), "month": timedelta(days=30), "all": None}
MAX_LEADERBOARD = 50
ACTIVITY_DAYS = 28
DEFAULT_TIMEZONE = "Asia/Seoul"


@dataclass(frozen=True)
class LeaderRow:
    user_id: int
    correct: int
    answered: int
    accuracy: float
    """0.0 to 1.0."""


@dataclass(frozen=True)
class TopicAccuracy:
    topic: str
    answered: int
    correct: int
    accuracy: float


@dataclass(frozen=True)
class UserStats:
    answered: int
    correct: int
    accuracy: float
    per_topic: list[TopicAccuracy]
    """Most answered first."""
    current_streak_days: int
    best_streak_days: int
    answers_per_day: list[tuple[date, int]]
    """The last 28 local days, oldest first, today last; days without answers are 0."""
    due_reviews: int


def accuracy(correct: int, answered: int) -> float:
    return correct / answered if answered else 0.0


def streaks(days: Iterable[date], today: date) -> tuple[int, int]:
    """(current, best) runs of consecutive days with an answer.

    The current streak still counts while today has no answer yet: it ends only when a whole day is missed.
    """
    active = set(days)
    best = run = 0
    previous: date | None = None
    for day in sorted(active):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    current = 0
    cursor = today if today in active else today - timedelta(days=1)
    while cursor in active:
        current += 1
        cursor -= timedelta(days=1)
    return current, best


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput("quiz.unknown_timezone", timezone=name) from exc


class QuizStatsService:
    def __init__(self, repo: QuizRepository, now: Callable[[], datetime]) -> None:
        self._repo = repo
        self._now = now

    async def leaderboard(self, guild_id: int, period: Period = "week", limit: int = 10) -> list[LeaderRow]:
        """Most correct answers first; then better accuracy, then less time spent on the correct ones."""
        if period not in PERIODS:
            raise InvalidInput("quiz.unknown_period", period=period, periods=", ".join(PERIODS))
        if not 1 <= limit <= MAX_LEADERBOARD:
            raise InvalidInput("quiz.limit_out_of_range", max=MAX_LEADERBOARD)
        window = PERIODS[period]
        since = None if window is None else self._now() - window
        return [
            LeaderRow(row.user_id, row.correct, row.answered, accuracy(row.correct, row.answered))
            for row in await self._repo.leaderboard(guild_id, since, limit)
        ]

    async def stats(self, guild_id: int | None, user_id: int, timezone: str = DEFAULT_TIMEZONE) -> UserStats:
        """A member's answers in one guild (guild_id None: everywhere), with days counted in `timezone`."""
        zone = _zone(timezone)
        topics = await self._repo.topic_totals(guild_id, user_id)
        per_day = Counter(moment.astimezone(zone).date() for moment in await self._repo.answer_times(guild_id, user_id))
        today = self._now().astimezone(zone).date()
        current, best = streaks(per_day, today)
        answered = sum(topic.answered for topic in topics)
        correct = sum(topic.correct for topic in topics)
        return UserStats(
            answered=answered,
            correct=correct,
            accuracy=accuracy(correct, answered),
            per_topic=[
                TopicAccuracy(topic.topic, topic.answered, topic.correct, accuracy(topic.correct, topic.answered))
                for topic in topics
            ],
            current_streak_days=current,
            best_streak_days=best,
            answers_per_day=[
                (day, per_day[day])
                for day in (today - timedelta(days=back) for back in range(ACTIVITY_DAYS - 1, -1, -1))
            ],
            due_reviews=await self._repo.due_count(user_id, self._now()),
        )
