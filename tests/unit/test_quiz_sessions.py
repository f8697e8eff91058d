"""Quiz sessions end to end on a real SQLite file, with a hand-driven clock (nothing sleeps)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import InvalidInput, NotAllowed, TryLater
from bot.services.quiz.bank import Bank, parse_bank
from bot.services.quiz.catalog import QuestionCatalog
from bot.services.quiz.review import ReviewService, default_scheduler
from bot.services.quiz.sessions import AnswerStatus, OpenQuestion, QuizSessionService, SessionStatus
from bot.storage import Database, QuizRepository

START = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
GUILD, CHANNEL, OTHER_CHANNEL = 1, 100, 200
ALICE, BOB, CAROL, MOD = 11, 12, 13, 99

DEMO = (
    """\
bank: demo
name: {en: Demo}
topic: demo
version: 1
questions:
"""
    + "".join(
        f'  - {{id: q{n}, language: en, difficulty: 1, type: choice, question: "Q{n}?", choices: [a, b, c],'
        f' answer: {n % 3}, explanation: "e"}}\n'
        for n in range(1, 6)
    )
    + """\
  - {id: w1, language: en, topic: words, difficulty: 1, type: free, question: "VMs on AWS?",
     answers: [Auto Scaling, ASG], explanation: "e"}
"""
)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Quiz:
    db: Database
    clock: Clock
    review: ReviewService
    sessions: QuizSessionService


def demo_bank() -> Bank:
    return parse_bank(DEMO.encode("utf-8"), "demo.yaml")


def build(db: Database, clock: Clock) -> Quiz:
    repo = QuizRepository(db)
    catalog = QuestionCatalog(repo, [demo_bank()], now=clock)
    review = ReviewService(repo, catalog, clock, scheduler=default_scheduler(fuzz=False))
    return Quiz(db, clock, review, QuizSessionService(repo, catalog, review, clock, rng=random.Random(7)))


@pytest.fixture
async def quiz(tmp_path: Path) -> AsyncIterator[Quiz]:
    db = await Database.open(tmp_path / "bot.db")
    yield build(db, Clock(START))
    await db.close()


async def start(quiz: Quiz, **overrides: object) -> OpenQuestion:
    options: dict[str, object] = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "starter_id": ALICE,
        "topic": "demo",
        "count": 3,
        "language": "en",
        **overrides,
    }
    _, first = await quiz.sessions.start(**options)  # type: ignore[arg-type]
    return first


def wrong(question: OpenQuestion) -> int:
    assert question.question.answer_index is not None
    return (question.question.answer_index + 1) % len(question.question.choices)


async def test_a_full_session_with_several_members(quiz: Quiz) -> None:
    session, current = await quiz.sessions.start(
        guild_id=GUILD, channel_id=CHANNEL, starter_id=ALICE, topic="demo", count=3, language="en", seconds=20
    )
    assert (session.status, session.question_count, session.current_index) == (SessionStatus.RUNNING, 3, 0)
    assert current.closes_at - current.opened_at == timedelta(seconds=20)
    keys = []
    # Bob is always right but slow; Carol is right twice and fast; Alice is right twice and slower than Carol.
    for position in range(3):
        assert current.position == position
        keys.append(current.question.key)
        right = current.question.answer_index
        quiz.clock.advance(seconds=1)
        carol = wrong(current) if position == 0 else right
        assert (await quiz.sessions.answer(session.id, position, CAROL, choice=carol)).status == AnswerStatus.RECORDED
        quiz.clock.advance(seconds=2)
        alice = wrong(current) if position == 1 else right
        outcome = await quiz.sessions.answer(session.id, position, ALICE, choice=alice)
        assert (outcome.status, outcome.correct) == (AnswerStatus.RECORDED, position != 1)
        assert outcome.next_due is not None
        quiz.clock.advance(seconds=5)
        assert (await quiz.sessions.answer(session.id, position, BOB, choice=right)).correct is True

        result = await quiz.sessions.reveal(session.id, position)
        assert result.question.key == current.question.key
        assert result.answered == 3
        expected = [CAROL, ALICE, BOB] if position == 2 else ([ALICE, BOB] if position == 0 else [CAROL, BOB])
        assert result.correct_user_ids == expected
        assert sum(result.choice_counts) == 3
        assert result.choice_counts[right or 0] == len(expected)

        quiz.clock.advance(seconds=3)
        following = await quiz.sessions.advance(session.id)
        if position < 2:
            assert following is not None
            current = following
        else:
            assert following is None

    assert len(set(keys)) == 3  # distinct questions
    ended = await quiz.sessions.session(session.id)
    assert ended is not None and ended.status == SessionStatus.FINISHED and ended.ended_at == quiz.clock.now
    assert await quiz.sessions.open_question(session.id) is None

    board = await quiz.sessions.scoreboard(session.id)
    assert [(row.user_id, row.correct, row.answered) for row in board.rows] == [
        (BOB, 3, 3),
        (CAROL, 2, 3),
        (ALICE, 2, 3),
    ]
    assert [row.total_latency_ms for row in board.rows] == [24_000, 2_000, 6_000]
    assert (await quiz.sessions.answer(session.id, 2, MOD, choice=0)).status == AnswerStatus.FINISHED


async def test_a_second_answer_is_a_duplicate_and_the_first_one_stands(quiz: Quiz) -> None:
    first = await start(quiz)
    right = first.question.answer_index
    assert (await quiz.sessions.answer(first.session_id, 0, BOB, choice=wrong(first))).correct is False
    again = await quiz.sessions.answer(first.session_id, 0, BOB, choice=right)
    assert (again.status, again.correct) == (AnswerStatus.DUPLICATE, None)
    board = await quiz.sessions.scoreboard(first.session_id)
    assert [(row.correct, row.answered) for row in board.rows] == [(0, 1)]


async def test_answers_after_the_reveal_or_the_time_limit_are_closed(quiz: Quiz) -> None:
    first = await start(quiz, seconds=10)
    await quiz.sessions.reveal(first.session_id, 0)
    assert (await quiz.sessions.answer(first.session_id, 0, BOB, choice=0)).status == AnswerStatus.CLOSED

    second = await quiz.sessions.advance(first.session_id)
    assert second is not None and second.position == 1
    quiz.clock.advance(seconds=9.999)
    assert (await quiz.sessions.answer(first.session_id, 1, BOB, choice=0)).status == AnswerStatus.RECORDED
    quiz.clock.advance(seconds=0.001)
    assert (await quiz.sessions.answer(first.session_id, 1, CAROL, choice=0)).status == AnswerStatus.CLOSED
    # A question not shown yet is closed too.
    assert (await quiz.sessions.answer(first.session_id, 2, CAROL, choice=0)).status == AnswerStatus.CLOSED


async def test_reveal_is_idempotent_and_needs_a_shown_question(quiz: Quiz) -> None:
    first = await start(quiz)
    await quiz.sessions.answer(first.session_id, 0, BOB, choice=wrong(first))
    once = await quiz.sessions.reveal(first.session_id, 0)
    quiz.clock.advance(seconds=5)
    assert await quiz.sessions.reveal(first.session_id, 0) == once
    with pytest.raises(InvalidInput):
        await quiz.sessions.reveal(first.session_id, 2)


async def test_300_members_answering_at_once_are_all_recorded(quiz: Quiz) -> None:
    first = await start(quiz)
    outcomes = await asyncio.gather(
        *(quiz.sessions.answer(first.session_id, 0, 1000 + n, choice=n % 3) for n in range(300))
    )
    assert [outcome.status for outcome in outcomes] == [AnswerStatus.RECORDED] * 300
    result = await quiz.sessions.reveal(first.session_id, 0)
    assert result.answered == 300 and result.choice_counts == [100, 100, 100]


async def test_300_clicks_of_one_member_record_exactly_one_answer(quiz: Quiz) -> None:
    first = await start(quiz)
    outcomes = await asyncio.gather(*(quiz.sessions.answer(first.session_id, 0, BOB, choice=n % 3) for n in range(300)))
    statuses = [outcome.status for outcome in outcomes]
    assert statuses.count(AnswerStatus.RECORDED) == 1
    assert statuses.count(AnswerStatus.DUPLICATE) == 299
    assert (await quiz.sessions.reveal(first.session_id, 0)).answered == 1


async def test_one_group_quiz_per_channel_but_solo_quizzes_beside_it(quiz: Quiz) -> None:
    group = await start(quiz)
    with pytest.raises(TryLater) as raised:
        await start(quiz, starter_id=BOB)
    assert raised.value.key == "quiz.session_running"

    await start(quiz, starter_id=BOB, solo=True)
    carol_solo = await start(quiz, starter_id=CAROL, solo=True)
    await start(quiz, channel_id=OTHER_CHANNEL, starter_id=BOB)
    # A member's new solo quiz replaces their unfinished one in that channel.
    replacement = await start(quiz, starter_id=CAROL, solo=True)
    replaced = await quiz.sessions.session(carol_solo.session_id)
    assert replaced is not None and replaced.status == SessionStatus.STOPPED and replaced.stopped_by == CAROL
    running = {session.id for session in await quiz.sessions.running_sessions()}
    assert group.session_id in running and replacement.session_id in running
    assert len(running) == 4

    await quiz.sessions.stop(group.session_id, ALICE, is_moderator=False)
    assert (await start(quiz, starter_id=BOB)).session_id not in running


async def test_solo_answers_are_logged_as_solo(quiz: Quiz) -> None:
    solo = await start(quiz, solo=True, count=1)
    await quiz.sessions.answer(solo.session_id, 0, ALICE, choice=0)
    source = await quiz.db.fetch_value("SELECT source FROM quiz_answers WHERE session_id = ?", (solo.session_id,))
    assert source == "solo"


async def test_only_the_starter_or_a_moderator_may_stop(quiz: Quiz) -> None:
    first = await start(quiz)
    with pytest.raises(NotAllowed) as raised:
        await quiz.sessions.stop(first.session_id, BOB, is_moderator=False)
    assert raised.value.key == "quiz.stop_not_allowed"
    stopped = await quiz.sessions.stop(first.session_id, MOD, is_moderator=True)
    assert (stopped.status, stopped.stopped_by) == (SessionStatus.STOPPED, MOD)
    assert (await quiz.sessions.answer(first.session_id, 0, BOB, choice=0)).status == AnswerStatus.FINISHED
    assert await quiz.sessions.advance(first.session_id) is None

    own = await start(quiz, starter_id=BOB)
    assert (await quiz.sessions.stop(own.session_id, BOB, is_moderator=False)).status == SessionStatus.STOPPED
    with pytest.raises(InvalidInput):
        await quiz.sessions.stop(12345, BOB, is_moderator=True)


async def test_a_restarted_bot_resumes_running_sessions(tmp_path: Path) -> None:
    clock = Clock(START)
    db = await Database.open(tmp_path / "bot.db")
    before = build(db, clock)
    first = await start(before, seconds=30)
    await before.sessions.answer(first.session_id, 0, BOB, choice=0)
    second = await before.sessions.advance(first.session_id)
    assert second is not None
    await before.sessions.set_message(first.session_id, 1, 555)
    await db.close()

    db = await Database.open(tmp_path / "bot.db")
    try:
        after = build(db, clock)
        [session] = await after.sessions.running_sessions()
        assert (session.id, session.current_index, session.seconds_per_question) == (first.session_id, 1, 30)
        resumed = await after.sessions.open_question(session.id)
        assert resumed == OpenQuestion(
            session.id, 1, second.question, second.opened_at, second.closes_at, revealed=False, message_id=555
        )
        clock.advance(seconds=1)
        assert (await after.sessions.answer(session.id, 1, BOB, choice=0)).status == AnswerStatus.RECORDED
        assert (await after.sessions.answer(session.id, 1, BOB, choice=1)).status == AnswerStatus.DUPLICATE
    finally:
        await db.close()


async def test_racing_timers_cannot_skip_a_question(quiz: Quiz) -> None:
    first = await start(quiz)
    one, two = await asyncio.gather(
        quiz.sessions.advance(first.session_id, from_position=0),
        quiz.sessions.advance(first.session_id, from_position=0),
    )
    assert one is not None and two is not None
    assert one.position == two.position == 1
    session = await quiz.sessions.session(first.session_id)
    assert session is not None and session.current_index == 1


async def test_free_answers_are_judged_forgivingly(quiz: Quiz) -> None:
    first = await start(quiz, topic="words", count=5)
    assert first.question.id == "w1"
    session = await quiz.sessions.session(first.session_id)
    assert session is not None and session.question_count == 1  # the topic has only one question

    typo = await quiz.sessions.answer(first.session_id, 0, ALICE, text="  auto scailing ")
    assert typo.correct is True and typo.judgement is not None and typo.judgement.matched == "Auto Scaling"
    alias = await quiz.sessions.answer(first.session_id, 0, BOB, text="asg")
    assert alias.correct is True
    miss = await quiz.sessions.answer(first.session_id, 0, CAROL, text="Lambda")
    assert miss.correct is False and miss.judgement is not None and not miss.judgement.correct
    with pytest.raises(InvalidInput):
        await quiz.sessions.answer(first.session_id, 0, MOD, choice=0)  # a free question takes text


async def test_start_checks_its_input(quiz: Quiz) -> None:
    for count in (0, 21):
        with pytest.raises(InvalidInput) as raised:
            await start(quiz, count=count)
        assert raised.value.key == "quiz.count_out_of_range"
    with pytest.raises(InvalidInput) as raised:
        await start(quiz, topic="nothing")
    assert raised.value.key == "quiz.unknown_topic"
    assert raised.value.params == {"topic": "nothing", "topics": "demo, words"}
    first = await start(quiz)
    with pytest.raises(InvalidInput):
        await quiz.sessions.answer(first.session_id, 0, BOB, choice=3)  # only three choices


async def test_questions_seen_recently_come_last(quiz: Quiz) -> None:
    seen: set[str] = set()
    for _ in range(2):
        first = await start(quiz, count=2)
        keys = {first.question.key}
        following = await quiz.sessions.advance(first.session_id)
        assert following is not None
        keys.add(following.question.key)
        assert not keys & seen
        seen |= keys
        await quiz.sessions.stop(first.session_id, ALICE, is_moderator=False)


async def test_session_answers_feed_the_review_schedule(quiz: Quiz) -> None:
    first = await start(quiz, count=1)
    await quiz.sessions.answer(first.session_id, 0, ALICE, choice=first.question.answer_index)
    await quiz.sessions.answer(first.session_id, 0, BOB, choice=wrong(first))
    quiz.clock.advance(minutes=11)
    assert await quiz.review.due_count(ALICE) == 0
    assert await quiz.review.due_count(BOB) == 1
    assert [q.key for q in await quiz.review.due(BOB, GUILD)] == [first.question.key]


async def test_the_database_itself_keeps_answers_to_one_per_member_and_question(quiz: Quiz) -> None:
    first = await start(quiz)
    insert = (
        "INSERT INTO quiz_answers (user_id, question_key, topic, session_id, position, correct, source, answered_at)"
        " VALUES (?, ?, 'demo', ?, 0, 1, 'session', ?) ON CONFLICT DO NOTHING"
    )
    params = (BOB, first.question.key, first.session_id, START.isoformat())
    assert await quiz.db.execute(insert, params) == 1
    assert await quiz.db.execute(insert, params) == 0
    # A session answer without its session is refused outright, so NULLs cannot slip past the unique index.
    with pytest.raises(sqlite3.IntegrityError):
        await quiz.db.execute(insert.replace("?, 0, 1", "NULL, NULL, 1"), (BOB, first.question.key, START.isoformat()))
