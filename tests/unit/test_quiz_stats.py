"""Leaderboards, per-topic statistics and streaks from the answer log, with known answers at known times."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import InvalidInput
from bot.services.quiz.sessions import Source
from bot.services.quiz.stats import QuizStatsService, streaks
from bot.storage import AnswerRow, CardRow, Database, QuizRepository

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 12:00 on 25 November in Seoul
SEOUL = ZoneInfo("Asia/Seoul")
GUILD, OTHER_GUILD = 1, 2
ALICE, BOB, CAROL = 11, 12, 13
serial = itertools.count()


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[QuizRepository]:
    db = await Database.open(tmp_path / "bot.db")
    yield QuizRepository(db)
    await db.close()


@pytest.fixture
def stats(repo: QuizRepository) -> QuizStatsService:
    return QuizStatsService(repo, now=lambda: NOW)


async def log(
    repo: QuizRepository,
    user_id: int,
    at: datetime,
    *,
    correct: bool = True,
    times: int = 1,
    guild_id: int | None = GUILD,
    topic: str = "aws",
) -> None:
    # Review answers need no session row: the simplest honest way to put known answers in the log.
    async with repo.transaction() as tx:
        for _ in range(times):
            number = next(serial)
            answer = AnswerRow(
                guild_id=guild_id,
                user_id=user_id,
                question_key=f"{topic}:q{number}:en",
                topic=topic,
                source=Source.REVIEW,
                correct=correct,
                answered_at=at,
                review_of=at,
            )
            assert await tx.insert_answer(answer)


def seoul(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SEOUL)


async def test_leaderboards_per_period(repo: QuizRepository, stats: QuizStatsService) -> None:
    await log(repo, ALICE, NOW - timedelta(days=2), times=3)
    await log(repo, ALICE, NOW - timedelta(days=2), correct=False)
    await log(repo, BOB, NOW - timedelta(days=20), times=5)
    await log(repo, BOB, NOW - timedelta(days=1))
    await log(repo, CAROL, NOW - timedelta(days=60), times=10)
    await log(repo, CAROL, NOW - timedelta(days=3), guild_id=OTHER_GUILD, times=50)  # another server

    week = await stats.leaderboard(GUILD, "week")
    assert [(row.user_id, row.correct, row.answered) for row in week] == [(ALICE, 3, 4), (BOB, 1, 1)]
    assert week[0].accuracy == 0.75
    month = await stats.leaderboard(GUILD, "month")
    assert [(row.user_id, row.correct) for row in month] == [(BOB, 6), (ALICE, 3)]
    everything = await stats.leaderboard(GUILD, "all")
    assert [(row.user_id, row.correct) for row in everything] == [(CAROL, 10), (BOB, 6), (ALICE, 3)]
    assert [row.user_id for row in await stats.leaderboard(GUILD, "all", limit=2)] == [CAROL, BOB]
    assert [row.user_id for row in await stats.leaderboard(OTHER_GUILD, "week")] == [CAROL]


async def test_ties_go_to_the_more_accurate(repo: QuizRepository, stats: QuizStatsService) -> None:
    await log(repo, ALICE, NOW, times=2)
    await log(repo, ALICE, NOW, correct=False)
    await log(repo, BOB, NOW, times=2)
    assert [row.user_id for row in await stats.leaderboard(GUILD, "week")] == [BOB, ALICE]


async def test_unknown_periods_are_refused(stats: QuizStatsService) -> None:
    with pytest.raises(InvalidInput) as raised:
        await stats.leaderboard(GUILD, "year")  # type: ignore[arg-type]
    assert raised.value.key == "quiz.unknown_period"


async def test_stats_per_topic(repo: QuizRepository, stats: QuizStatsService) -> None:
    await log(repo, ALICE, NOW, times=3, topic="aws")
    await log(repo, ALICE, NOW, correct=False, topic="aws")
    await log(repo, ALICE, NOW, correct=False, topic="adsp")
    await log(repo, ALICE, NOW, times=7, topic="langchain", guild_id=OTHER_GUILD)
    await log(repo, BOB, NOW, times=5, topic="aws")

    mine = await stats.stats(GUILD, ALICE)
    assert (mine.answered, mine.correct, mine.accuracy) == (5, 3, 0.6)
    assert [(t.topic, t.answered, t.correct, t.accuracy) for t in mine.per_topic] == [
        ("aws", 4, 3, 0.75),
        ("adsp", 1, 0, 0.0),
    ]
    everywhere = await stats.stats(None, ALICE)
    assert (everywhere.answered, everywhere.correct) == (12, 10)
    nobody = await stats.stats(GUILD, CAROL)
    assert (nobody.answered, nobody.accuracy, nobody.per_topic, nobody.current_streak_days) == (0, 0.0, [], 0)


async def test_streaks_count_local_days_in_seoul(repo: QuizRepository, stats: QuizStatsService) -> None:
    # 23:59 and 00:01 in Seoul are two minutes and two days apart (both on 18 November in UTC).
    await log(repo, ALICE, seoul(18, 23, 59))
    await log(repo, ALICE, seoul(19, 0, 1))
    # 20 November missed; then three days in a row, the middle one twice.
    await log(repo, ALICE, seoul(21, 9))
    await log(repo, ALICE, seoul(22, 9), times=2)
    await log(repo, ALICE, seoul(23, 22))

    found = await stats.stats(GUILD, ALICE)
    assert (found.current_streak_days, found.best_streak_days) == (0, 3)  # 24 November missed too
    per_day = dict(found.answers_per_day)
    assert len(found.answers_per_day) == 28
    assert found.answers_per_day[-1][0] == date(2026, 11, 25)
    assert found.answers_per_day[0][0] == date(2026, 10, 29)
    assert (per_day[date(2026, 11, 18)], per_day[date(2026, 11, 19)], per_day[date(2026, 11, 22)]) == (1, 1, 2)
    assert per_day[date(2026, 11, 20)] == 0

    in_utc = await stats.stats(GUILD, ALICE, timezone="UTC")
    assert in_utc.answers_per_day[-8] == (date(2026, 11, 18), 2)  # the same two answers, one UTC day

    # Yesterday keeps the streak alive while today has no answer yet; an answer today extends it.
    await log(repo, ALICE, seoul(24, 23, 30))
    assert (await stats.stats(GUILD, ALICE)).current_streak_days == 4
    await log(repo, ALICE, seoul(25, 0, 10))
    found = await stats.stats(GUILD, ALICE)
    assert (found.current_streak_days, found.best_streak_days) == (5, 5)


async def test_a_two_day_streak_across_seoul_midnight(repo: QuizRepository) -> None:
    stats = QuizStatsService(repo, now=lambda: seoul(19, 8))
    await log(repo, BOB, seoul(18, 23, 59))
    await log(repo, BOB, seoul(19, 0, 1))
    found = await stats.stats(GUILD, BOB, timezone="Asia/Seoul")
    assert (found.current_streak_days, found.best_streak_days) == (2, 2)


async def test_stats_report_due_reviews(repo: QuizRepository, stats: QuizStatsService) -> None:
    async with repo.transaction() as tx:
        for key, due in (("aws:a:en", NOW - timedelta(hours=1)), ("aws:b:en", NOW + timedelta(days=1))):
            await tx.save_card(CardRow(ALICE, key, "{}", due, NOW - timedelta(days=2), 1, 0))
    assert (await stats.stats(GUILD, ALICE)).due_reviews == 1


async def test_unknown_time_zones_are_refused(stats: QuizStatsService) -> None:
    with pytest.raises(InvalidInput) as raised:
        await stats.stats(GUILD, ALICE, timezone="Mars/Olympus")
    assert raised.value.key == "quiz.unknown_timezone"


def test_streak_arithmetic() -> None:
    today = date(2026, 11, 25)
    days = [date(2026, 11, d) for d in (1, 2, 3, 4, 10, 24, 25)]
    assert streaks(days, today) == (2, 4)
    assert streaks([], today) == (0, 0)
    assert streaks([date(2026, 11, 23)], today) == (0, 1)
