"""Quiz questions written from members' TIL posts, so the daily quiz can ask the group what its members learned.

One model call per post (`prompts/til_quiz.*.md`), all posts of one run in one `abatch` with a bounded
`max_concurrency` on the `ChainRunner`'s worker loop, across as many guilds as the run covers. Each answer is
checked exactly as a generated bank question is (`QuestionDocuments`); an unusable answer is dropped, and its post,
still without a question, is simply tried again on the next run.

A stored question belongs to the bank `til-<guild id>` under the topic "til", and its id is `til-<row id>`: unique
in the guild, so the daily quiz's no-repeat window and the answer history treat it like any other question. The
quiz session keeps the whole question, so a session finds it again after a restart even once the row is gone.
Authors may opt out (their posts are skipped and their unused questions deleted); deleting a post deletes its
questions (ON DELETE CASCADE).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from bot.i18n import LANGUAGES
from bot.llm.chains import ChainFactory
from bot.llm.metering import GenerationMeter
from bot.llm.runner import ChainRunner
from bot.services.quiz.bank import MAX_CHOICE_CHARS, Question
from bot.services.quiz.catalog import question_from_json, question_to_json
from bot.services.quiz.generate import QuestionDocuments, ask_all, question_key
from bot.storage.til_questions import NewTilQuestion, QuizSourcePost, TilQuestionRepository, TilQuestionRow

log = logging.getLogger(__name__)

TOPIC = "til"
PREFIX = "til-"
# Enough for a few weeks of daily questions from one run, without one busy guild taking a whole run's budget.
MAX_POSTS_PER_GUILD = 20
# TIL questions are asked while the posts are fresh: older ones give way to the banks.
FRESH_DAYS = 7
CANDIDATES = 50
# A TIL's sections are bounded (model.LIMITS); these keep one prompt small even so.
MAX_LEARNED_CHARS = 3000
MAX_HARD_CHARS = 1000


def til_bank_id(guild_id: int) -> str:
    return f"{PREFIX}{guild_id}"


def _question(row: TilQuestionRow) -> Question:
    # The row names the question: its payload was validated before the row (and so its id) existed.
    return replace(question_from_json(row.payload), bank=til_bank_id(row.guild_id), id=f"{PREFIX}{row.id}")


@dataclass(frozen=True)
class TilGenerationReport:
    posts: int
    """Posts sent to the model."""
    generated: int
    """Questions stored."""
    dropped: int
    """Posts that gave no question: an unusable answer, a repeated question, a model failure, or a post deleted
    (or its author opted out) meanwhile."""
    failed: int
    """Of the dropped, the calls that failed at the model (it may be down)."""


@dataclass(frozen=True)
class _Job:
    language: str
    post: QuizSourcePost


class TilQuestionService:
    def __init__(
        self,
        repo: TilQuestionRepository,
        chains: ChainFactory,
        runner: ChainRunner,
        now: Callable[[], datetime],
        *,
        fresh_days: int = FRESH_DAYS,
    ) -> None:
        self._repo = repo
        self._chains = chains
        self._runner = runner
        self._now = now
        self.fresh_days = fresh_days
        self._one_run = asyncio.Lock()

    async def write_recent(
        self, guild_ids: Collection[int] | None, language_of: Callable[[int], Awaitable[str | None]]
    ) -> dict[int, TilGenerationReport]:
        """Questions for the posts of the last `fresh_days` days that have none yet: of `guild_ids`, or of every
        guild when None (a catch-up after the model was unreachable). `language_of` is the language the guild's
        questions are asked in, or None where nothing would ask them (no daily quiz): those guilds cost nothing.

        Runs one at a time, so a post written during a run is asked about once, by the next run. The daily quiz
        never waits for this: it asks a bank question when no TIL question is ready."""
        since = (self._now() - timedelta(days=self.fresh_days)).date()
        async with self._one_run:
            if guild_ids is None:
                guild_ids = await self._repo.guilds_with_posts_without_questions(since)
            languages = {}
            for guild_id in guild_ids:
                language = await language_of(guild_id)
                if language is not None:
                    languages[guild_id] = language
            return await self.generate_for_guilds(languages, since=since) if languages else {}

    async def generate_for_guilds(
        self, languages: Mapping[int, str], *, since: date, max_concurrency: int = 3
    ) -> dict[int, TilGenerationReport]:
        """One `abatch` over the new posts of every guild given (guild id -> language), at most `max_concurrency`
        model calls at once; one report per guild. Model failures are counted, never raised: the daily quiz
        falls back to the banks."""
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        jobs: list[_Job] = []
        for guild_id, language in languages.items():
            if language not in LANGUAGES:
                raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
            posts = await self._repo.posts_without_questions(guild_id, since, language, MAX_POSTS_PER_GUILD)
            jobs += [_Job(language, post) for post in posts]
        if not jobs:
            return {guild_id: TilGenerationReport(0, 0, 0, 0) for guild_id in languages}

        meter = GenerationMeter()
        outputs: list[str | Exception] = [""] * len(jobs)
        # One batch per language (the prompt differs), each bounded; a run usually has one language.
        for language in sorted({job.language for job in jobs}):
            indexes = [index for index, job in enumerate(jobs) if job.language == language]
            answers = await ask_all(
                self._runner,
                self._chains.til_quiz(language),
                [_prompt_inputs(jobs[index].post) for index in indexes],
                meter,
                max_concurrency,
            )
            for index, answer in zip(indexes, answers, strict=True):
                outputs[index] = answer

        found: dict[int, list[NewTilQuestion]] = {guild_id: [] for guild_id in languages}
        failed: dict[int, int] = dict.fromkeys(languages, 0)
        seen: dict[int, set[str]] = {guild_id: set() for guild_id in languages}
        for index, (job, output) in enumerate(zip(jobs, outputs, strict=True)):
            guild_id = job.post.guild_id
            if isinstance(output, Exception):
                log.info("TIL question for post %s: the model failed: %r", job.post.id, output)
                failed[guild_id] += 1
                continue
            question = QuestionDocuments(til_bank_id(guild_id), TOPIC, job.language).question(output, index)
            if question is None:
                continue
            key = question_key(question.text)
            if key in seen[guild_id]:
                continue  # two posts on the same thing: one question is enough
            seen[guild_id].add(key)
            found[guild_id].append(NewTilQuestion(guild_id, job.post.id, job.language, question_to_json(question)))

        now = self._now()
        reports: dict[int, TilGenerationReport] = {}
        for guild_id in languages:
            asked = sum(1 for job in jobs if job.post.guild_id == guild_id)
            stored = await self._repo.insert(found[guild_id], now) if found[guild_id] else 0
            reports[guild_id] = TilGenerationReport(
                posts=asked,
                generated=stored,
                dropped=asked - stored,
                failed=failed[guild_id],
            )
        log.info(
            "TIL questions: %d post(s) of %d guild(s) asked, %d stored; %d input and %d output tokens",
            len(jobs), len(languages), sum(r.generated for r in reports.values()), meter.input_tokens,
            meter.output_tokens,
        )  # fmt: skip
        return reports

    async def next_question(self, guild_id: int, language: str, avoid: set[str]) -> Question | None:
        """The question not asked yet from the guild's oldest TIL of the last `fresh_days` days in `language`,
        skipping any whose `bank:id` is in `avoid` (asked within the daily quiz's no-repeat window)."""
        since = (self._now() - timedelta(days=self.fresh_days)).date()
        for row in await self._repo.unused(guild_id, language, since, CANDIDATES):
            question = _question(row)
            if f"{question.bank}:{question.id}" not in avoid:
                return question
        return None

    async def mark_used(self, question: Question) -> None:
        """Records that the daily quiz asked the question; any other question is not ours and is ignored."""
        parsed = _row_of(question)
        if parsed is not None:
            await self._repo.mark_used(*parsed, self._now())


def _row_of(question: Question) -> tuple[int, int] | None:
    """(guild id, row id) of a TIL question, from its bank `til-<guild>` and id `til-<row>`."""
    guild = question.bank.removeprefix(PREFIX)
    row_id = _row_id(question.id)
    if question.bank.startswith(PREFIX) and guild.isdigit() and row_id is not None:
        return int(guild), row_id
    return None


def _row_id(question_id: str) -> int | None:
    number = question_id.removeprefix(PREFIX)
    return int(number) if question_id.startswith(PREFIX) and number.isdigit() else None


class TilQuestionBank:
    """The guild's TIL questions as the quiz catalog sees them (`QuestionSource`), so review cards and answers
    find a TIL question again by its key. Needs no model: questions written while there was one stay reachable.
    A deleted post takes its questions along, and their cards are then skipped like those of a deleted bank."""

    def __init__(self, repo: TilQuestionRepository) -> None:
        self._repo = repo

    def owns(self, guild_id: int, bank_id: str) -> bool:
        return bank_id == til_bank_id(guild_id)

    async def question(self, guild_id: int, bank_id: str, question_id: str, language: str) -> Question | None:
        row_id = _row_id(question_id)
        if not self.owns(guild_id, bank_id) or row_id is None:
            return None
        row = await self._repo.get(guild_id, row_id)
        return None if row is None or row.language != language else _question(row)


def _prompt_inputs(post: QuizSourcePost) -> dict[str, Any]:
    return {
        "title": post.title,
        "tags": post.tags or "-",
        "learned": post.learned[:MAX_LEARNED_CHARS],
        "hard": post.hard[:MAX_HARD_CHARS] or "-",
        "max_choice_chars": MAX_CHOICE_CHARS,
    }
