"""Spaced repetition with FSRS: schedules, due lists, review answers, on a real SQLite file and a hand-driven clock."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import InvalidInput
from bot.services.quiz.bank import Bank, Question, load_builtin_banks
from bot.services.quiz.catalog import QuestionCatalog
from bot.services.quiz.review import ReviewService, default_scheduler
from bot.services.quiz.sessions import AnswerStatus
from bot.storage import Database, QuizRepository

START = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
GUILD, OTHER_GUILD, USER = 1, 2, 11

MINE = """\
bank: mine
name: {en: Ours}
topic: mine
version: 1
questions:
  - {id: q1, language: en, difficulty: 1, type: free, question: "Virtual servers?", answers: [EC2], explanation: "e"}
"""


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def builtin() -> list[Bank]:
    return load_builtin_banks()


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def catalog(db: Database, builtin: list[Bank], clock: Clock) -> QuestionCatalog:
    return QuestionCatalog(QuizRepository(db), builtin, now=clock)


@pytest.fixture
def review(db: Database, catalog: QuestionCatalog, clock: Clock) -> ReviewService:
    return ReviewService(QuizRepository(db), catalog, clock, scheduler=default_scheduler(fuzz=False))


def aws(builtin: list[Bank], count: int) -> list[Question]:
    return list(next(bank for bank in builtin if bank.id == "aws").questions_in("en")[:count])


async def test_right_answers_push_a_card_further_out_each_time(
    review: ReviewService, clock: Clock, builtin: list[Bank]
) -> None:
    [question] = aws(builtin, 1)
    intervals = []
    for _ in range(4):
        due = await review.record(USER, question, correct=True)
        intervals.append(due - clock.now)
        clock.now = due
    assert intervals[0] >= timedelta(days=1)  # one learning step: right the first time skips the minutes
    assert all(later > earlier for earlier, later in itertools.pairwise(intervals))

    wrong_due = await review.record(USER, question, correct=False)
    assert wrong_due - clock.now == timedelta(minutes=10)  # forgotten: back soon
    clock.now = wrong_due
    relearned = await review.record(USER, question, correct=True)
    assert relearned - clock.now < intervals[-1]  # a lapse costs stability


async def test_a_wrong_first_answer_comes_back_in_minutes(review: ReviewService, builtin: list[Bank]) -> None:
    [question] = aws(builtin, 1)
    assert await review.record(USER, question, correct=False, at=START) == START + timedelta(minutes=10)


async def test_due_lists_the_longest_overdue_first_and_counts(
    review: ReviewService, clock: Clock, builtin: list[Bank]
) -> None:
    first, second, third = aws(builtin, 3)
    await review.record(USER, second, correct=False, at=START)  # due START + 10 min
    await review.record(USER, first, correct=False, at=START + timedelta(minutes=1))  # due START + 11 min
    await review.record(USER, third, correct=True, at=START)  # due in days
    await review.record(USER + 1, first, correct=False, at=START)  # someone else's card

    assert await review.due(USER, GUILD) == []
    assert await review.due_count(USER) == 0
    clock.now = START + timedelta(minutes=10)
    assert [q.key for q in await review.due(USER, GUILD)] == [second.key]
    clock.now = START + timedelta(minutes=30)
    assert [q.key for q in await review.due(USER, GUILD)] == [second.key, first.key]
    assert [q.key for q in await review.due(USER, GUILD, limit=1)] == [second.key]
    assert await review.due_count(USER) == 2


async def test_due_skips_questions_the_guild_cannot_reach(
    review: ReviewService, catalog: QuestionCatalog, clock: Clock, builtin: list[Bank]
) -> None:
    ours = await catalog.import_bank(GUILD, 7, MINE.encode(), "mine.yaml", language="en")
    [builtin_question] = aws(builtin, 1)
    await review.record(USER, ours.questions[0], correct=False, at=START)
    await review.record(USER, builtin_question, correct=False, at=START)
    clock.now = START + timedelta(hours=1)

    assert {q.key for q in await review.due(USER, GUILD)} == {"mine:q1:en", builtin_question.key}
    assert [q.key for q in await review.due(USER, OTHER_GUILD)] == [builtin_question.key]
    assert [q.key for q in await review.due(USER, None)] == [builtin_question.key]
    await catalog.set_enabled(GUILD, "aws", False)
    assert [q.key for q in await review.due(USER, GUILD)] == ["mine:q1:en"]
    assert await review.due_count(USER) == 2  # the count is the member's, wherever the questions live


async def test_answering_a_review_logs_it_once_and_reschedules(
    review: ReviewService, db: Database, clock: Clock, builtin: list[Bank]
) -> None:
    [question] = aws(builtin, 1)
    await review.record(USER, question, correct=False, at=START)
    early = await review.answer_review(USER, GUILD, question.key, choice=question.answer_index)
    assert early.status == AnswerStatus.CLOSED  # not due yet

    clock.now = START + timedelta(minutes=10)
    outcomes = await asyncio.gather(
        *(review.answer_review(USER, GUILD, question.key, choice=question.answer_index) for _ in range(50))
    )
    recorded = [outcome for outcome in outcomes if outcome.status == AnswerStatus.RECORDED]
    assert len(recorded) == 1 and recorded[0].correct is True
    assert recorded[0].next_due is not None and recorded[0].next_due >= clock.now + timedelta(days=1)
    assert {outcome.status for outcome in outcomes} == {AnswerStatus.RECORDED, AnswerStatus.CLOSED}
    rows = await db.fetch_all("SELECT source, correct, guild_id FROM quiz_answers WHERE user_id = ?", (USER,))
    assert [tuple(row) for row in rows] == [("review", 1, GUILD)]
    assert await review.due_count(USER) == 0


async def test_each_time_a_card_falls_due_is_a_new_attempt(
    review: ReviewService, db: Database, clock: Clock, builtin: list[Bank]
) -> None:
    [question] = aws(builtin, 1)
    await review.record(USER, question, correct=False, at=START)
    wrong = (question.answer_index or 0) + 1
    for minutes in (10, 20):  # wrong twice: due again ten minutes later each time, and logged each time
        clock.now = START + timedelta(minutes=minutes)
        outcome = await review.answer_review(USER, None, question.key, choice=wrong)
        assert (outcome.status, outcome.correct) == (AnswerStatus.RECORDED, False)
        assert outcome.next_due == clock.now + timedelta(minutes=10)
    assert await db.fetch_value("SELECT COUNT(*) FROM quiz_answers WHERE source = 'review'") == 2


async def test_the_database_refuses_a_second_log_of_the_same_review(
    db: Database, review: ReviewService, builtin: list[Bank]
) -> None:
    [question] = aws(builtin, 1)
    insert = (
        "INSERT INTO quiz_answers (user_id, question_key, topic, review_of, correct, source, answered_at)"
        " VALUES (?, ?, 'aws', ?, 1, 'review', ?) ON CONFLICT DO NOTHING"
    )
    params = (USER, question.key, START.isoformat(), START.isoformat())
    assert await db.execute(insert, params) == 1
    assert await db.execute(insert, params) == 0


async def test_unreachable_or_malformed_reviews_are_refused(
    review: ReviewService, catalog: QuestionCatalog, builtin: list[Bank]
) -> None:
    ours = await catalog.import_bank(GUILD, 7, MINE.encode(), "mine.yaml", language="en")
    await review.record(USER, ours.questions[0], correct=False, at=START)
    with pytest.raises(InvalidInput) as raised:
        await review.answer_review(USER, OTHER_GUILD, "mine:q1:en", text="EC2")
    assert raised.value.key == "quiz.review_unavailable"
    with pytest.raises(InvalidInput):
        await review.answer_review(USER, GUILD, "not a key", text="EC2")
    with pytest.raises(InvalidInput) as raised:
        await review.answer_review(USER, GUILD, "mine:q1:en", choice=1)
    assert raised.value.key == "quiz.answer_invalid"
