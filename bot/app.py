"""Composition root: Settings -> storage -> prompts -> chains -> services, handed to the Bot.

Everything the bot uses is built here once and passed in; nothing is a module-level singleton,
so tests build the same graph against a temporary database and fake servers.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta

from langchain_core.language_models import BaseChatModel

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import Catalog
from bot.llm.chains import ChainFactory
from bot.llm.models import build_chat_model
from bot.llm.prompts import PromptLibrary
from bot.llm.runner import ChainRunner
from bot.services.admission import AdmissionGate
from bot.services.daily import DailyQuizService
from bot.services.explain import ExplainService
from bot.services.language import LanguageService
from bot.services.mydata import MyDataService
from bot.services.quiz.bank import load_builtin_banks
from bot.services.quiz.catalog import QuestionCatalog
from bot.services.quiz.generate import QuestionGenerator
from bot.services.quiz.review import ReviewService
from bot.services.quiz.sessions import QuizSessionService
from bot.services.quiz.stats import QuizStatsService
from bot.services.quizmasters import QuizmasterService
from bot.services.server_time import ServerTimeService
from bot.services.til.digest import TilDigestService
from bot.services.til.feedback import TilFeedbackService
from bot.services.til.posts import TilService
from bot.services.til.questions import TilQuestionBank, TilQuestionService
from bot.services.til.schedule import TilScheduleService
from bot.services.usage import UsageService
from bot.storage import (
    BotStateRepository,
    ConversationRepository,
    DailyRepository,
    Database,
    GuildSettingsRepository,
    MyDataRepository,
    QuizRepository,
    TilQuestionRepository,
    TilRepository,
    TilScheduleRepository,
    UsageRepository,
)
from bot.streaming.pacing import EditScheduler, MonotonicClock
from bot.streaming.registry import StreamRegistry


@dataclass
class Services:
    settings: Settings
    db: Database
    prompts: PromptLibrary
    languages: LanguageService
    bot_state: BotStateRepository
    usage: UsageService
    explain: ExplainService
    edits: EditScheduler
    streams: StreamRegistry
    runner: ChainRunner
    clock: Clock
    quiz_catalog: QuestionCatalog
    quiz_sessions: QuizSessionService
    quiz_review: ReviewService
    quiz_stats: QuizStatsService
    question_generator: QuestionGenerator | None
    quizmasters: QuizmasterService
    daily_repo: DailyRepository
    daily: DailyQuizService
    til: TilService
    til_questions: TilQuestionService | None
    til_feedback: TilFeedbackService | None
    til_digest: TilDigestService
    til_schedule_repo: TilScheduleRepository
    til_schedule_service: TilScheduleService
    server_time: ServerTimeService
    mydata: MyDataService

    async def aclose(self) -> None:
        await asyncio.to_thread(self.runner.close)
        await self.db.close()


async def build_services(
    settings: Settings, *, model: BaseChatModel | None = None, clock: Clock | None = None
) -> Services:
    """Builds everything once. `model` and `clock` replace the real ones (tests pass fakes)."""
    clock = clock or SystemClock()
    catalog = Catalog.load()
    prompts = PromptLibrary.load()
    db = await Database.open(settings.database)
    guild_settings = GuildSettingsRepository(db)
    chat_model = model if model is not None else build_chat_model(settings)
    usage = UsageService(UsageRepository(db), guild_settings, now=clock.now)
    gate = AdmissionGate(
        capacity=settings.max_concurrent_generations,
        queue_limit=settings.generation_queue_limit,
        cooldown_s=settings.user_cooldown_s,
        clock=time.monotonic,
    )
    runner = ChainRunner()
    chains = ChainFactory(chat_model, prompts) if chat_model is not None else None
    til_question_repo = TilQuestionRepository(db)
    til_questions = TilQuestionService(til_question_repo, chains, runner, clock.now) if chains is not None else None
    quiz_repo = QuizRepository(db)
    quiz_catalog = QuestionCatalog(
        quiz_repo, load_builtin_banks(), now=clock.now, sources=[TilQuestionBank(til_question_repo)]
    )
    quiz_review = ReviewService(quiz_repo, quiz_catalog, now=clock.now)
    quiz_sessions = QuizSessionService(quiz_repo, quiz_catalog, quiz_review, now=clock.now)
    daily_repo = DailyRepository(db)
    til_schedule_repo = TilScheduleRepository(db)
    til_schedule = TilScheduleService(til_schedule_repo, clock)
    explain = ExplainService(chains, usage, ConversationRepository(db), gate, catalog, runner)
    til = TilService(TilRepository(db), now=clock.now)
    return Services(
        settings=settings,
        db=db,
        prompts=prompts,
        languages=LanguageService(guild_settings, catalog),
        bot_state=BotStateRepository(db),
        usage=usage,
        explain=explain,
        edits=EditScheduler(MonotonicClock()),
        streams=StreamRegistry(),
        runner=runner,
        clock=clock,
        quiz_catalog=quiz_catalog,
        quiz_sessions=quiz_sessions,
        quiz_review=quiz_review,
        quiz_stats=QuizStatsService(quiz_repo, now=clock.now),
        question_generator=QuestionGenerator(chat_model, prompts, runner) if chat_model is not None else None,
        quizmasters=QuizmasterService(guild_settings),
        daily_repo=daily_repo,
        daily=DailyQuizService(
            daily_repo,
            quiz_catalog,
            quiz_sessions,
            clock,
            grace=timedelta(minutes=settings.daily_grace_minutes),
            til_questions=til_questions,
        ),
        til=til,
        til_questions=til_questions,
        til_feedback=TilFeedbackService(explain, chains) if chains is not None else None,
        til_digest=TilDigestService(chains, runner, til),
        til_schedule_repo=til_schedule_repo,
        til_schedule_service=til_schedule,
        server_time=ServerTimeService(guild_settings, til_schedule),
        mydata=MyDataService(MyDataRepository(db), now=clock.now),
    )
