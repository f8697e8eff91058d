"""TIL posts -> quiz questions -> the daily quiz, on a real SQLite file with an in-process fake chat model.

TIL posts and member choices are written with plain SQL, so these tests do not depend on the TIL repository.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from pydantic import Field

from bot.llm.chains import ChainFactory
from bot.llm.prompts import PromptLibrary
from bot.llm.runner import ChainRunner
from bot.services.daily import DailyQuizService, TilQuestionSource
from bot.services.quiz.bank import Question, parse_bank
from bot.services.quiz.catalog import QuestionCatalog
from bot.services.quiz.review import ReviewService, default_scheduler
from bot.services.quiz.sessions import AnswerStatus, QuizSessionService
from bot.services.til.questions import TilQuestionBank, TilQuestionService
from bot.storage import DailyRepository, Database, QuizRepository
from bot.storage.til_questions import NewTilQuestion, TilQuestionRepository
from tests.fakes.chat_models import ConcurrentFakeModel
from tests.fakes.clock import FakeClock

RUNNER = ChainRunner()
PROMPTS = PromptLibrary.load()
# 14:00 in Seoul on 2026-11-25; the daily quiz below is at 09:00 Seoul, first due the next day.
START = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
SINCE = TODAY - timedelta(days=7)
GUILD, OTHER_GUILD, QUIET_GUILD, CHANNEL, MOD = 1, 2, 3, 100, 99
ALICE, BOB, CAROL = 11, 12, 13
BANK = "bank: demo\nname: {en: Demo}\ntopic: demo\nversion: 1\nquestions:\n" + "".join(
    f'  - {{id: q{n}, language: ko, difficulty: 1, type: choice, question: "Q{n}?", choices: [a, b, c],'
    f' answer: {n % 3}, explanation: "e{n}"}}\n'
    for n in range(3)
)


@pytest.fixture(scope="module", autouse=True)
def close_runner() -> Iterator[None]:
    yield
    RUNNER.close()


def question_json(title: str, **changes: Any) -> str:
    document: dict[str, Any] = {
        "question": f"What does {title} do?",
        "choices": ["Runs virtual servers", "Stores objects", "Sends e-mail", "Resolves names"],
        "answer": 0,
        "explanation": f"{title} runs virtual servers.",
        "difficulty": 1,
        "tags": ["aws"],
    }
    document.update(changes)
    return json.dumps(document, ensure_ascii=False)


class TilModel(ConcurrentFakeModel):
    """Answers each prompt by the TIL title in it (so the order calls run in does not matter)."""

    answers: dict[str, str | Exception] = Field(default_factory=dict)

    def reply(self, prompt: str) -> str:
        match = re.search(r"(?:Title|제목): (.+)", prompt)
        title = match[1].strip() if match else "?"
        answer = self.answers.get(title, question_json(title))
        if isinstance(answer, Exception):
            raise answer
        return answer


async def add_post(
    db: Database, author: int, title: str, *, guild: int = GUILD, day: date = TODAY, learned: str | None = None
) -> int:
    stamp = datetime.combine(day, datetime.min.time(), tzinfo=UTC).isoformat()
    post_id = await db.insert(
        "INSERT INTO til_posts (guild_id, author_id, title, learned, hard, tags, local_date, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (guild, author, title, learned or f"{title} runs virtual servers.", "Pricing", "AWS", day.isoformat(),
         stamp, stamp),
    )  # fmt: skip
    assert post_id is not None
    return post_id


async def set_opt_out(db: Database, user: int, opt_out: bool, guild: int = GUILD) -> None:
    # The same upsert the TIL repository writes, so both of the migration's triggers are exercised.
    await db.execute(
        "INSERT INTO til_members (guild_id, user_id, quiz_opt_out, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (guild_id, user_id) DO UPDATE SET quiz_opt_out = excluded.quiz_opt_out",
        (guild, user, int(opt_out), START.isoformat()),
    )


async def stored_questions(db: Database, guild: int = GUILD) -> list[tuple[int, str]]:
    rows = await db.fetch_all("SELECT post_id, payload FROM til_questions WHERE guild_id = ? ORDER BY id", (guild,))
    return [(int(row[0]), json.loads(row[1])["text"]) for row in rows]


def til_service(db: Database, model: BaseChatModel, now: Callable[[], datetime] = lambda: START) -> TilQuestionService:
    return TilQuestionService(TilQuestionRepository(db), ChainFactory(model, PROMPTS), RUNNER, now)


# --- generation ----------------------------------------------------------------------------------------------


async def test_each_post_becomes_a_validated_question_and_unusable_answers_are_dropped(db: Database) -> None:
    ec2 = await add_post(db, ALICE, "EC2")
    await add_post(db, BOB, "EBS")
    await add_post(db, CAROL, "ELB")
    await add_post(db, ALICE, "S3")
    model = TilModel(
        answers={
            "EBS": "Sorry, I cannot write a question about that.",
            "ELB": question_json("ELB", answer=7),  # no such choice: the bank validator refuses it
            "S3": RuntimeError("model down"),
        }
    )
    report = (await til_service(db, model).generate_for_guilds({GUILD: "en"}, since=SINCE))[GUILD]
    assert (report.posts, report.generated, report.dropped, report.failed) == (4, 1, 3, 1)
    assert await stored_questions(db) == [(ec2, "What does EC2 do?")]
    # The prompt carries the post, and the English prompt was used.
    assert any("Title: EC2" in prompt and "EC2 runs virtual servers." in prompt for prompt in model.prompts)


async def test_posts_that_have_questions_are_not_asked_again_but_dropped_ones_are(db: Database) -> None:
    await add_post(db, ALICE, "EC2")
    await add_post(db, BOB, "EBS")
    model = TilModel(answers={"EBS": "not json"})
    service = til_service(db, model)
    await service.generate_for_guilds({GUILD: "en"}, since=SINCE)
    model.answers.clear()
    second = (await service.generate_for_guilds({GUILD: "en"}, since=SINCE))[GUILD]
    assert (second.posts, second.generated) == (1, 1)
    assert "Title: EBS" in model.prompts[-1]
    third = (await service.generate_for_guilds({GUILD: "en"}, since=SINCE))[GUILD]
    assert third.posts == 0 and len(model.prompts) == 3


async def test_old_posts_and_other_guilds_are_left_alone(db: Database) -> None:
    await add_post(db, ALICE, "Old", day=SINCE - timedelta(days=1))
    await add_post(db, ALICE, "Elsewhere", guild=OTHER_GUILD)
    report = (await til_service(db, TilModel()).generate_for_guilds({GUILD: "en"}, since=SINCE))[GUILD]
    assert report.posts == 0


async def test_many_guilds_run_in_one_batch_with_bounded_concurrency(db: Database) -> None:
    for n in range(10):
        await add_post(db, ALICE + n, f"Topic{n}", guild=GUILD if n < 6 else OTHER_GUILD)
    model = TilModel()
    reports = await til_service(db, model).generate_for_guilds(
        {GUILD: "en", OTHER_GUILD: "en"}, since=SINCE, max_concurrency=3
    )
    assert {guild: report.generated for guild, report in reports.items()} == {GUILD: 6, OTHER_GUILD: 4}
    assert len(model.prompts) == 10
    assert model.max_in_flight == 3  # calls did overlap, and never more than three


async def test_pending_guilds_are_found_and_asked_in_their_language(db: Database) -> None:
    await add_post(db, ALICE, "EC2")
    await add_post(db, BOB, "Lambda", guild=OTHER_GUILD)
    await add_post(db, BOB, "S3", guild=QUIET_GUILD)
    model = TilModel()

    async def language_of(guild_id: int) -> str | None:
        return {GUILD: "ko", OTHER_GUILD: "en"}.get(guild_id)  # the quiet guild has no daily quiz to ask them

    reports = await til_service(db, model).write_recent(None, language_of)
    assert {guild: report.generated for guild, report in reports.items()} == {GUILD: 1, OTHER_GUILD: 1}
    korean = next(prompt for prompt in model.prompts if "EC2" in prompt)
    assert "제목: EC2" in korean
    assert not any("S3" in prompt for prompt in model.prompts)
    rows = await db.fetch_all("SELECT guild_id, language FROM til_questions ORDER BY guild_id")
    assert [tuple(row) for row in rows] == [(GUILD, "ko"), (OTHER_GUILD, "en")]


async def test_runs_overlapping_in_time_ask_about_each_post_once(db: Database) -> None:
    for n in range(4):
        await add_post(db, ALICE + n, f"Topic{n}")
    model = TilModel()
    service = til_service(db, model)

    async def english(guild_id: int) -> str:
        return "en"

    first, second = await asyncio.gather(service.write_recent([GUILD], english), service.write_recent([GUILD], english))
    assert first[GUILD].generated + second[GUILD].generated == 4
    assert len(model.prompts) == 4


async def test_invalid_arguments_are_programming_errors(db: Database) -> None:
    service = til_service(db, TilModel())
    with pytest.raises(ValueError):
        await service.generate_for_guilds({GUILD: "fr"}, since=SINCE)
    with pytest.raises(ValueError):
        await service.generate_for_guilds({GUILD: "en"}, since=SINCE, max_concurrency=0)


# --- opting out and deleting ---------------------------------------------------------------------------------


async def test_an_author_who_opted_out_is_never_sent_to_the_model(db: Database) -> None:
    await add_post(db, ALICE, "EC2")
    await add_post(db, BOB, "Secret")
    await set_opt_out(db, BOB, True)
    model = TilModel()
    report = (await til_service(db, model).generate_for_guilds({GUILD: "en"}, since=SINCE))[GUILD]
    assert report.posts == 1
    assert not any("Secret" in prompt for prompt in model.prompts)


async def test_opting_out_removes_unused_questions_and_keeps_them_from_the_quiz(db: Database) -> None:
    await add_post(db, ALICE, "EC2")
    await add_post(db, ALICE, "EBS")
    await add_post(db, BOB, "ELB")
    service = til_service(db, TilModel())
    await service.generate_for_guilds({GUILD: "en"}, since=SINCE)
    first = await service.next_question(GUILD, "en", set())
    assert first is not None and first.text == "What does EC2 do?"
    await service.mark_used(first)
    await set_opt_out(db, BOB, False)  # a member row that keeps them in changes nothing
    assert len(await stored_questions(db)) == 3
    await set_opt_out(db, ALICE, True)
    # Alice's unused question is gone; the one already asked stays in the history.
    assert sorted(text for _, text in await stored_questions(db)) == ["What does EC2 do?", "What does ELB do?"]
    following = await service.next_question(GUILD, "en", set())
    assert following is not None and following.text == "What does ELB do?"


async def test_a_question_for_an_author_who_opted_out_meanwhile_is_not_stored(db: Database) -> None:
    # The model takes seconds; the author may opt out, or delete the post, before its answer comes back.
    kept, opted_out, deleted = await add_post(db, ALICE, "EC2"), await add_post(db, BOB, "EBS"), 12345
    await set_opt_out(db, BOB, True)
    stored = await TilQuestionRepository(db).insert(
        [NewTilQuestion(GUILD, post, "en", "{}") for post in (kept, opted_out, deleted)], START
    )
    assert stored == 1
    assert [post for (post,) in await db.fetch_all("SELECT post_id FROM til_questions")] == [kept]


async def test_deleting_a_post_deletes_its_questions(db: Database) -> None:
    post = await add_post(db, ALICE, "EC2")
    await til_service(db, TilModel()).generate_for_guilds({GUILD: "en"}, since=SINCE)
    await db.execute("DELETE FROM til_posts WHERE id = ?", (post,))
    assert await stored_questions(db) == []


async def test_an_edited_post_gets_a_question_from_its_new_text(db: Database) -> None:
    post = await add_post(db, ALICE, "EC2")
    service = til_service(db, TilModel())
    await service.generate_for_guilds({GUILD: "en"}, since=SINCE)
    await db.execute("UPDATE til_posts SET title = 'Lambda' WHERE id = ?", (post,))
    assert await stored_questions(db) == []  # written from the old text, never asked: gone with it
    await service.generate_for_guilds({GUILD: "en"}, since=SINCE)
    assert await stored_questions(db) == [(post, "What does Lambda do?")]


async def test_a_post_gets_one_waiting_question_even_when_two_processes_write_one(db: Database) -> None:
    post = await add_post(db, ALICE, "EC2")
    repo = TilQuestionRepository(db)
    written = NewTilQuestion(GUILD, post, "en", json.dumps({"text": "Q?"}))
    assert await repo.insert([written], START) == 1
    assert await repo.insert([written], START) == 0  # the other process's copy is not stored
    assert len(await stored_questions(db)) == 1


# --- handing questions out -----------------------------------------------------------------------------------


async def test_questions_are_quiz_questions_of_the_guilds_til_bank(db: Database) -> None:
    await add_post(db, ALICE, "EC2")
    service = til_service(db, TilModel())
    await service.generate_for_guilds({GUILD: "en"}, since=SINCE)
    question = await service.next_question(GUILD, "en", set())
    assert question is not None
    row_id = await db.fetch_value("SELECT id FROM til_questions")
    assert (question.bank, question.id, question.topic) == (f"til-{GUILD}", f"til-{row_id}", "til")
    assert question.correct_answer == "Runs virtual servers"
    assert await service.next_question(GUILD, "ko", set()) is None  # language must match
    assert await service.next_question(OTHER_GUILD, "en", set()) is None
    assert await service.next_question(GUILD, "en", {f"til-{GUILD}:til-{row_id}"}) is None


async def test_questions_from_stale_posts_give_way_to_the_banks(db: Database) -> None:
    await add_post(db, ALICE, "EC2", day=TODAY - timedelta(days=3))
    await til_service(db, TilModel()).generate_for_guilds({GUILD: "en"}, since=SINCE)
    assert await til_service(db, TilModel()).next_question(GUILD, "en", set()) is not None
    later = til_service(db, TilModel(), now=lambda: START + timedelta(days=5))
    assert await later.next_question(GUILD, "en", set()) is None


async def test_mark_used_ignores_questions_that_are_not_til_ones(db: Database) -> None:
    await add_post(db, ALICE, "EC2")
    service = til_service(db, TilModel())
    await service.generate_for_guilds({GUILD: "en"}, since=SINCE)
    question = await service.next_question(GUILD, "en", set())
    assert question is not None
    await service.mark_used(replace(question, bank="demo"))
    await service.mark_used(replace(question, id="til-x"))
    assert await service.next_question(GUILD, "en", set()) == question
    await service.mark_used(question)
    assert await service.next_question(GUILD, "en", set()) is None


# --- the daily quiz prefers them -----------------------------------------------------------------------------


@dataclass
class Daily:
    repo: DailyRepository
    service: DailyQuizService
    sessions: QuizSessionService
    review: ReviewService
    clock: FakeClock

    async def claim_next_day(self) -> tuple[int, Question]:
        """Moves to the next 09:00 in Seoul, claims its post, and returns its session and question."""
        schedule = await self.repo.schedule(GUILD)
        assert schedule is not None
        self.clock.advance(schedule.next_due_at - self.clock.now())
        claim = await self.service.claim_due(GUILD, "en")
        assert claim.post_id is not None
        post = await self.repo.post(claim.post_id)
        assert post is not None and post.session_id is not None
        current = await self.sessions.open_question(post.session_id)
        assert current is not None
        return post.session_id, current.question


def build_daily(db: Database, clock: FakeClock, til: TilQuestionSource | None) -> Daily:
    quiz_repo = QuizRepository(db)
    catalog = QuestionCatalog(
        quiz_repo,
        [parse_bank(BANK.encode(), "demo.yaml")],
        now=clock.now,
        sources=[TilQuestionBank(TilQuestionRepository(db))],
    )
    review = ReviewService(quiz_repo, catalog, clock.now, scheduler=default_scheduler(fuzz=False))
    sessions = QuizSessionService(quiz_repo, catalog, review, clock.now, rng=random.Random(7))
    repo = DailyRepository(db)
    service = DailyQuizService(
        repo, catalog, sessions, clock, grace=timedelta(hours=2), rng=random.Random(7), til_questions=til
    )
    return Daily(repo, service, sessions, review, clock)


async def daily_with(db: Database, til: TilQuestionSource | None, clock: FakeClock | None = None) -> Daily:
    daily = build_daily(db, clock or FakeClock(START), til)
    await daily.service.setup(
        guild_id=GUILD, channel_id=CHANNEL, local_time="09:00", timezone="Asia/Seoul", topics=None,
        reveal_after_hours=12, no_repeat_days=30, language="en", configured_by=MOD,
    )  # fmt: skip
    return daily


async def ec2_question_written(db: Database, clock: FakeClock) -> TilQuestionService:
    """Alice's TIL on EC2, and the quiz question written from it."""
    await add_post(db, ALICE, "EC2")
    til = til_service(db, TilModel(), now=clock.now)
    await til.generate_for_guilds({GUILD: "en"}, since=SINCE)
    return til


async def test_the_daily_quiz_asks_a_til_question_first_then_the_banks(db: Database) -> None:
    clock = FakeClock(START)
    til = await ec2_question_written(db, clock)
    daily = await daily_with(db, til, clock)

    session_id, question = await daily.claim_next_day()
    assert question.bank == f"til-{GUILD}" and question.text == "What does EC2 do?"
    assert await db.fetch_value("SELECT used_at FROM til_questions") is not None
    # The session judges it like any question, and finds it again after a restart (a new service, same file).
    restarted = build_daily(db, clock, til)
    current = await restarted.sessions.open_question(session_id)
    assert current is not None and current.question == question
    outcome = await restarted.sessions.answer(session_id, 0, BOB, choice=0)
    assert outcome.status is AnswerStatus.RECORDED and outcome.correct

    # Its one TIL question asked, the next day falls back to the bank.
    _, following = await daily.claim_next_day()
    assert following.bank == "demo"


async def test_a_post_deleted_after_generation_is_not_asked(db: Database) -> None:
    post = await add_post(db, ALICE, "EC2")
    clock = FakeClock(START)
    til = til_service(db, TilModel(), now=clock.now)
    await til.generate_for_guilds({GUILD: "en"}, since=SINCE)
    await db.execute("DELETE FROM til_posts WHERE id = ?", (post,))
    daily = await daily_with(db, til, clock)
    _, question = await daily.claim_next_day()
    assert question.bank == "demo"


async def test_without_til_questions_the_daily_quiz_asks_the_banks(db: Database) -> None:
    await add_post(db, ALICE, "EC2")
    clock = FakeClock(START)
    til = til_service(db, TilModel(answers={"EC2": RuntimeError("model down")}), now=clock.now)
    report = (await til.generate_for_guilds({GUILD: "en"}, since=SINCE))[GUILD]
    assert report.failed == 1  # the model was down: nothing to ask from the TILs
    daily = await daily_with(db, til, clock)
    _, question = await daily.claim_next_day()
    assert question.bank == "demo"


async def test_a_failing_til_source_costs_the_daily_quiz_nothing(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        async def next_question(self, guild_id: int, language: str, avoid: set[str]) -> Question | None:
            raise RuntimeError("database is locked")

        async def mark_used(self, question: Question) -> None:
            raise AssertionError("nothing was chosen from here")

    daily = await daily_with(db, Broken())
    _, question = await daily.claim_next_day()
    assert question.bank == "demo"
    assert "choosing a TIL question failed" in caplog.text


async def test_til_questions_asked_within_the_window_are_not_asked_again(db: Database) -> None:
    clock = FakeClock(START)
    til = await ec2_question_written(db, clock)

    class Forgetful:
        """Hands out the same question every time, as a source whose marks were lost would."""

        async def next_question(self, guild_id: int, language: str, avoid: set[str]) -> Question | None:
            question = await til.next_question(guild_id, language, set())
            return None if question is None or f"{question.bank}:{question.id}" in avoid else question

        async def mark_used(self, question: Question) -> None:
            pass

    daily = await daily_with(db, Forgetful(), clock)
    _, first = await daily.claim_next_day()
    _, second = await daily.claim_next_day()
    assert first.bank == f"til-{GUILD}" and second.bank == "demo"


async def test_a_til_question_answered_in_the_daily_quiz_comes_back_for_review(db: Database) -> None:
    clock = FakeClock(START)
    til = await ec2_question_written(db, clock)
    daily = await daily_with(db, til, clock)
    session_id, question = await daily.claim_next_day()
    await daily.sessions.answer(session_id, 0, BOB, choice=1)  # wrong: the card is due again soon
    clock.advance(timedelta(days=30))  # long after the post stopped being fresh for the daily quiz
    assert await daily.review.due(BOB, GUILD) == [question]
    outcome = await daily.review.answer_review(BOB, GUILD, question.key, choice=0)
    assert outcome.correct
    # Nowhere else: another guild cannot reach it, and a deleted post takes its question along.
    assert await daily.review.due(BOB, OTHER_GUILD) == []
    bank = TilQuestionBank(TilQuestionRepository(db))
    assert await bank.question(GUILD, question.bank, question.id, "ko") is None
    assert await bank.question(GUILD, question.bank, "til-x", "en") is None
    await db.execute("DELETE FROM til_posts")
    assert await bank.question(GUILD, question.bank, question.id, "en") is None
