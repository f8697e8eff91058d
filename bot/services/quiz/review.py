"""Spaced repetition of quiz questions with FSRS (the `fsrs` package), one card per member and question.

Every answer a member gives, in a quiz or in a review, is one FSRS review of that card: right is Good,
wrong is Again. A quiz has no "hard" or "easy" button, and guessing a rating from the answer time would
punish slow typists, so two ratings it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler

from bot.errors import InvalidInput
from bot.services.quiz.bank import Question
from bot.services.quiz.catalog import QuestionCatalog
from bot.services.quiz.sessions import AnswerOutcome, AnswerStatus, Source, grade
from bot.storage import AnswerRow, CardRow, QuizRepository, QuizTransaction

DUE_PAGE = 50


def default_scheduler(*, fuzz: bool = True) -> Scheduler:
    """The bot's FSRS settings; `fuzz` spreads reviews by a few percent (tests turn it off to predict due times)."""
    # FSRS's default learning steps (1 and 10 minutes) suit flashcards seen for the first time. A quiz answer
    # answered right already shows the member knows it, so one step: right the first time goes straight to
    # days; wrong comes back in ten minutes.
    steps = (timedelta(minutes=10),)
    return Scheduler(learning_steps=steps, relearning_steps=steps, enable_fuzzing=fuzz)


class ReviewService:
    def __init__(
        self,
        repo: QuizRepository,
        catalog: QuestionCatalog,
        now: Callable[[], datetime],
        *,
        scheduler: Scheduler | None = None,
    ) -> None:
        self._repo = repo
        self._catalog = catalog
        self._now = now
        self._scheduler = scheduler or default_scheduler()

    def next_card(self, card: CardRow | None, user_id: int, question_key: str, correct: bool, at: datetime) -> CardRow:
        """The card after one more review at `at`: pure FSRS, no storage."""
        at = at.astimezone(UTC)  # fsrs insists on UTC
        # An explicit id and due time: fsrs would otherwise read the wall clock (and sleep a millisecond).
        state = Card.from_json(card.card) if card else Card(card_id=int(at.timestamp() * 1000), due=at)
        state, _ = self._scheduler.review_card(state, Rating.Good if correct else Rating.Again, review_datetime=at)
        return CardRow(
            user_id=user_id,
            question_key=question_key,
            card=state.to_json(),
            due_at=state.due,
            last_reviewed_at=at,
            reviews=(card.reviews if card else 0) + 1,
            lapses=(card.lapses if card else 0) + (0 if correct else 1),
        )

    async def record_in(
        self, tx: QuizTransaction, user_id: int, question_key: str, correct: bool, at: datetime
    ) -> CardRow:
        """`record` inside a caller's transaction, so an answer and its card change commit together."""
        card = self.next_card(await tx.card(user_id, question_key), user_id, question_key, correct, at)
        await tx.save_card(card)
        return card

    async def record(self, user_id: int, question: Question, correct: bool, *, at: datetime | None = None) -> datetime:
        """Reviews the member's card for this question (creating it); returns when it is due next."""
        async with self._repo.transaction() as tx:
            card = await self.record_in(tx, user_id, question.key, correct, at or self._now())
        return card.due_at

    async def due(self, user_id: int, guild_id: int | None, limit: int = 10) -> list[Question]:
        """Questions due now, longest overdue first, skipping those this guild cannot reach (other guilds' banks,
        disabled or deleted banks)."""
        now = self._now()
        found: list[Question] = []
        offset = 0
        while len(found) < limit:
            cards = await self._repo.due_cards(user_id, now, DUE_PAGE, offset)
            for card in cards:
                question = await self._catalog.question(guild_id, card.question_key)
                if question is not None:
                    found.append(question)
                    if len(found) == limit:
                        break
            if len(cards) < DUE_PAGE:
                break
            offset += DUE_PAGE
        return found

    async def due_count(self, user_id: int) -> int:
        """All the member's due cards, wherever their questions live."""
        return await self._repo.due_count(user_id, self._now())

    async def answer_review(
        self,
        user_id: int,
        guild_id: int | None,
        question_key: str,
        *,
        choice: int | None = None,
        text: str | None = None,
    ) -> AnswerOutcome:
        """Answers a due card: logged once per time the card falls due (a double click is a duplicate or, once
        the first click moved the card forward, closed), then scheduled."""
        question = await self._catalog.question(guild_id, question_key)
        if question is None:
            raise InvalidInput("quiz.review_unavailable")
        graded = grade(question, choice=choice, text=text)
        now = self._now()
        async with self._repo.transaction() as tx:
            card = await tx.card(user_id, question_key)
            if card is None or card.due_at > now:
                return AnswerOutcome(AnswerStatus.CLOSED, None, None)
            logged = await tx.insert_answer(
                AnswerRow(
                    guild_id=guild_id,
                    user_id=user_id,
                    question_key=question_key,
                    topic=question.topic,
                    source=Source.REVIEW,
                    correct=graded.correct,
                    answered_at=now,
                    review_of=card.due_at,
                    choice=graded.choice,
                    text=graded.text,
                )
            )
            if not logged:
                return AnswerOutcome(AnswerStatus.DUPLICATE, None, None)
            updated = await self.record_in(tx, user_id, question_key, graded.correct, now)
        return AnswerOutcome(AnswerStatus.RECORDED, graded.correct, graded.judgement, updated.due_at)
