"""Quiz sessions: a channel (or one member, solo) plays a fixed run of questions, each open for a while.

The database holds the whole state: the questions chosen at the start, when each opened and closes,
whether it was revealed, and every answer. So a restarted bot resumes from `running_sessions()`, and
the rules that matter under load are enforced by SQLite itself: one group quiz per channel (a partial
unique index) and one answer per member and question (a unique index, `INSERT ... ON CONFLICT DO NOTHING`).
Checks such as "is the question still open?" run inside the same write transaction as the insert they
guard, so a reveal and a late answer cannot interleave.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.errors import InvalidInput, NotAllowed, TryLater
from bot.i18n import LANGUAGES
from bot.services.quiz.answers import Judgement, judge
from bot.services.quiz.bank import Question, QuestionKind
from bot.services.quiz.catalog import QuestionCatalog, question_from_json, question_to_json
from bot.storage import AnswerRow, NewSession, QuizRepository, QuizTransaction, SessionRow, SlotRow

if TYPE_CHECKING:
    from bot.services.quiz.review import ReviewService

MIN_QUESTIONS, MAX_QUESTIONS = 1, 20
MIN_SECONDS, MAX_SECONDS = 5, 300
MAX_TEXT_ANSWER_CHARS = 200
# Questions a guild was given this recently are picked only when the topic has run out of others.
RECENT_QUESTIONS = timedelta(days=7)


class Source(StrEnum):
    """Where an answer in the log came from."""

    SESSION = "session"
    SOLO = "solo"
    DAILY = "daily"
    REVIEW = "review"


class SessionStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"


class AnswerStatus(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    """This member already answered this question (or this review)."""
    CLOSED = "closed"
    """The question is not open: not shown yet, past its time, revealed; for a review, the card is not due."""
    FINISHED = "finished"
    """The session is not running any more (finished, stopped or unknown)."""


@dataclass(frozen=True)
class QuizSession:
    id: int
    guild_id: int | None
    channel_id: int
    starter_id: int
    topic: str
    language: str
    question_count: int
    seconds_per_question: int
    solo: bool
    status: SessionStatus
    current_index: int
    message_id: int | None
    created_at: datetime
    ended_at: datetime | None
    stopped_by: int | None
    daily: bool = False

    @property
    def running(self) -> bool:
        return self.status is SessionStatus.RUNNING


@dataclass(frozen=True)
class OpenQuestion:
    session_id: int
    position: int
    """0-based; the session's `current_index` while it is the open question."""
    question: Question
    opened_at: datetime
    closes_at: datetime
    revealed: bool
    message_id: int | None = None


@dataclass(frozen=True)
class AnswerOutcome:
    status: AnswerStatus
    correct: bool | None
    judgement: Judgement | None
    """Free answers only: how the text was judged (e.g. `similarity` for a "close!" hint)."""
    next_due: datetime | None = None
    """When the member's review card for this question is due next (recorded answers only)."""


@dataclass(frozen=True)
class RevealResult:
    question: Question
    correct_user_ids: list[int]
    """Fastest first."""
    answered: int
    choice_counts: list[int]
    """How many picked each choice; empty for free-answer questions."""


@dataclass(frozen=True)
class ScoreRow:
    user_id: int
    correct: int
    answered: int
    total_latency_ms: int
    """Time taken over the correct answers only, which is what breaks ties on `correct`."""


@dataclass(frozen=True)
class Scoreboard:
    rows: list[ScoreRow]


@dataclass(frozen=True)
class Graded:
    correct: bool
    judgement: Judgement | None
    choice: int | None
    text: str | None


def grade(question: Question, *, choice: int | None, text: str | None) -> Graded:
    """Judges one answer; raises InvalidInput when its shape does not fit the question (a bug or a forged click)."""
    if question.kind is QuestionKind.FREE:
        cleaned = (text or "").strip()
        if not cleaned or choice is not None:
            raise InvalidInput("quiz.answer_invalid")
        if len(cleaned) > MAX_TEXT_ANSWER_CHARS:
            raise InvalidInput("quiz.answer_too_long", limit=MAX_TEXT_ANSWER_CHARS)
        judgement = judge(cleaned, question.answers)
        return Graded(judgement.correct, judgement, None, cleaned)
    if choice is None or text is not None or not 0 <= choice < len(question.choices):
        raise InvalidInput("quiz.answer_invalid")
    return Graded(choice == question.answer_index, None, choice, None)


def _session(row: SessionRow) -> QuizSession:
    return QuizSession(
        id=row.id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        starter_id=row.starter_id,
        topic=row.topic,
        language=row.language,
        question_count=row.question_count,
        seconds_per_question=row.seconds_per_question,
        solo=row.solo,
        status=SessionStatus(row.status),
        current_index=row.current_index,
        message_id=row.message_id,
        created_at=row.created_at,
        ended_at=row.ended_at,
        stopped_by=row.stopped_by,
        daily=row.daily,
    )


def _open(slot: SlotRow) -> OpenQuestion:
    assert slot.opened_at is not None and slot.closes_at is not None  # only opened slots are shown
    return OpenQuestion(
        session_id=slot.session_id,
        position=slot.position,
        question=question_from_json(slot.payload),
        opened_at=slot.opened_at,
        closes_at=slot.closes_at,
        revealed=slot.revealed_at is not None,
        message_id=slot.message_id,
    )


def _source(session: SessionRow) -> Source:
    if session.daily:
        return Source.DAILY
    return Source.SOLO if session.solo else Source.SESSION


def _milliseconds(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds() * 1000))


class QuizSessionService:
    def __init__(
        self,
        repo: QuizRepository,
        catalog: QuestionCatalog,
        review: ReviewService,
        now: Callable[[], datetime],
        rng: random.Random | None = None,
    ) -> None:
        self._repo = repo
        self._catalog = catalog
        self._review = review
        self._now = now
        self._rng = rng or random.Random()

    async def start(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        starter_id: int,
        topic: str,
        count: int,
        language: str,
        solo: bool = False,
        seconds: int = 20,
    ) -> tuple[QuizSession, OpenQuestion]:
        """Starts a quiz with its first question open. A topic with fewer than `count` questions plays them all.

        A member's new solo quiz in a channel replaces their unfinished one there.
        """
        if not MIN_QUESTIONS <= count <= MAX_QUESTIONS:
            raise InvalidInput("quiz.count_out_of_range", min=MIN_QUESTIONS, max=MAX_QUESTIONS)
        if not MIN_SECONDS <= seconds <= MAX_SECONDS:
            raise InvalidInput("quiz.seconds_out_of_range", min=MIN_SECONDS, max=MAX_SECONDS)
        if language not in LANGUAGES:
            raise InvalidInput("quiz.unknown_language", language=language, languages=", ".join(LANGUAGES))
        pool = await self._catalog.questions(guild_id, topic, language)
        if not pool:
            topics = await self._catalog.topic_names(guild_id)
            raise InvalidInput("quiz.unknown_topic", topic=topic, topics=", ".join(topics) or "-")
        now = self._now()
        recent = await self._repo.recent_question_keys(guild_id, channel_id, now - RECENT_QUESTIONS)
        chosen = self._pick(pool, count, recent)
        async with self._repo.transaction() as tx:
            if solo:
                await tx.stop_running_solo(channel_id, starter_id, now)
            session_id = await tx.insert_session(
                NewSession(guild_id, channel_id, starter_id, topic, language, len(chosen), seconds, solo, now)
            )
            if session_id is None:
                raise TryLater("quiz.session_running")
            await tx.insert_slots(session_id, [(question.key, question_to_json(question)) for question in chosen])
            await tx.open_slot(session_id, 0, now, now + timedelta(seconds=seconds))
            row = await tx.session(session_id)
            slot = await tx.slot(session_id, 0)
        assert row is not None and slot is not None  # written in this very transaction
        return _session(row), _open(slot)

    async def open_daily_in(
        self,
        tx: QuizTransaction,
        *,
        guild_id: int,
        channel_id: int,
        starter_id: int,
        question: Question,
        opens_at: datetime,
        closes_at: datetime,
    ) -> int:
        """Writes a one-question daily session, already open, inside the caller's transaction (the daily
        scheduler's claim); returns its id. Daily sessions run beside any group quiz in the channel."""
        session_id = await tx.insert_session(
            NewSession(
                guild_id,
                channel_id,
                starter_id,
                question.topic,
                question.language,
                1,
                max(1, round((closes_at - opens_at).total_seconds())),
                False,
                opens_at,
                daily=True,
            )
        )
        assert session_id is not None  # no unique index covers daily sessions
        await tx.insert_slots(session_id, [(question.key, question_to_json(question))])
        await tx.open_slot(session_id, 0, opens_at, closes_at)
        return session_id

    def _pick(self, pool: Sequence[Question], count: int, recent: set[str]) -> list[Question]:
        # The same question in another language counts as seen: compare bank and id, not the full key.
        seen = {key.rsplit(":", 1)[0] for key in recent}
        fresh = [question for question in pool if f"{question.bank}:{question.id}" not in seen]
        stale = [question for question in pool if f"{question.bank}:{question.id}" in seen]
        self._rng.shuffle(fresh)
        self._rng.shuffle(stale)
        return (fresh + stale)[:count]

    async def answer(
        self, session_id: int, position: int, user_id: int, *, choice: int | None = None, text: str | None = None
    ) -> AnswerOutcome:
        """Records a member's one answer to an open question and schedules its review card (right Good, wrong Again)."""
        now = self._now()
        async with self._repo.transaction() as tx:
            session = await tx.session(session_id)
            if session is None or session.status != SessionStatus.RUNNING:
                return AnswerOutcome(AnswerStatus.FINISHED, None, None)
            slot = await tx.slot(session_id, position)
            if (
                slot is None
                or slot.opened_at is None
                or slot.closes_at is None
                or slot.revealed_at is not None
                or now >= slot.closes_at
            ):
                return AnswerOutcome(AnswerStatus.CLOSED, None, None)
            question = question_from_json(slot.payload)
            graded = grade(question, choice=choice, text=text)
            logged = await tx.insert_answer(
                AnswerRow(
                    guild_id=session.guild_id,
                    user_id=user_id,
                    question_key=slot.question_key,
                    topic=question.topic,
                    source=_source(session),
                    correct=graded.correct,
                    answered_at=now,
                    session_id=session_id,
                    position=position,
                    choice=graded.choice,
                    text=graded.text,
                    latency_ms=_milliseconds(now - slot.opened_at),
                )
            )
            if not logged:
                return AnswerOutcome(AnswerStatus.DUPLICATE, None, None)
            card = await self._review.record_in(tx, user_id, slot.question_key, graded.correct, now)
        return AnswerOutcome(AnswerStatus.RECORDED, graded.correct, graded.judgement, card.due_at)

    async def reveal(self, session_id: int, position: int) -> RevealResult:
        """Closes a question to answers and tallies them; calling it again gives the same result."""
        now = self._now()
        async with self._repo.transaction() as tx:
            slot = await tx.slot(session_id, position)
            if slot is None or slot.opened_at is None:
                raise InvalidInput("quiz.question_not_open")
            await tx.mark_revealed(session_id, position, now)
            answers = await tx.slot_answers(session_id, position)
        question = question_from_json(slot.payload)
        counts = [0] * len(question.choices)
        for answer in answers:
            if answer.choice is not None and 0 <= answer.choice < len(counts):
                counts[answer.choice] += 1
        return RevealResult(
            question=question,
            correct_user_ids=[answer.user_id for answer in answers if answer.correct],
            answered=len(answers),
            choice_counts=counts,
        )

    async def advance(self, session_id: int, *, from_position: int | None = None) -> OpenQuestion | None:
        """Opens the next question, or finishes the session and returns None after the last one.

        The current question is closed to answers first, revealed or not. With `from_position`, only advances
        if that is still the current question (else returns the one open now), so two timers racing after a
        restart cannot skip a question.
        """
        now = self._now()
        async with self._repo.transaction() as tx:
            session = await tx.session(session_id)
            if session is None or session.status != SessionStatus.RUNNING:
                return None
            if from_position is not None and session.current_index != from_position:
                current = await tx.slot(session_id, session.current_index)
                return None if current is None or current.opened_at is None else _open(current)
            await tx.mark_revealed(session_id, session.current_index, now)
            following = session.current_index + 1
            if following >= session.question_count:
                await tx.end_session(session_id, SessionStatus.FINISHED, now)
                return None
            await tx.open_slot(session_id, following, now, now + timedelta(seconds=session.seconds_per_question))
            slot = await tx.slot(session_id, following)
        assert slot is not None  # every position below question_count was written at the start
        return _open(slot)

    async def stop(self, session_id: int, by_user_id: int, *, is_moderator: bool) -> QuizSession:
        """Stops a running session (the starter or a moderator only); stopping an ended one changes nothing."""
        session = await self._repo.session(session_id)
        if session is None:
            raise InvalidInput("quiz.session_not_found")
        if by_user_id != session.starter_id and not is_moderator:
            raise NotAllowed("quiz.stop_not_allowed")
        async with self._repo.transaction() as tx:
            await tx.end_session(session_id, SessionStatus.STOPPED, self._now(), stopped_by=by_user_id)
            row = await tx.session(session_id)
        assert row is not None  # sessions are never deleted
        return _session(row)

    async def scoreboard(self, session_id: int) -> Scoreboard:
        totals = await self._repo.session_totals(session_id)
        totals.sort(key=lambda row: (-row.correct, row.correct_latency_ms, row.user_id))
        return Scoreboard([ScoreRow(row.user_id, row.correct, row.answered, row.correct_latency_ms) for row in totals])

    async def session(self, session_id: int) -> QuizSession | None:
        row = await self._repo.session(session_id)
        return None if row is None else _session(row)

    async def open_question(self, session_id: int) -> OpenQuestion | None:
        """The question a running session shows now (it may be past its time or revealed: see the fields)."""
        row = await self._repo.session(session_id)
        if row is None or row.status != SessionStatus.RUNNING:
            return None
        slot = await self._repo.slot(session_id, row.current_index)
        return None if slot is None or slot.opened_at is None else _open(slot)

    async def running_sessions(self) -> list[QuizSession]:
        """Every running session, oldest first: what a restarted bot resumes timers for."""
        return [_session(row) for row in await self._repo.running_sessions()]

    async def set_message(self, session_id: int, position: int, message_id: int) -> None:
        """Remembers the message showing a question, so it can be edited (e.g. after a restart)."""
        if not await self._repo.set_slot_message(session_id, position, message_id):
            raise InvalidInput("quiz.session_not_found")

    async def set_session_message(self, session_id: int, message_id: int) -> None:
        """Remembers the session's own message (e.g. a lobby or scoreboard)."""
        if not await self._repo.set_session_message(session_id, message_id):
            raise InvalidInput("quiz.session_not_found")
