"""All SQL of the bot lives in this package: the connection, migrations and repositories."""

from bot.storage.daily import DailyRepository, DailyTransaction, DueReveal, PostRow, ScheduleRow
from bot.storage.database import Database, Migration, bundled_migrations
from bot.storage.mydata import MyDataRepository
from bot.storage.quiz import (
    AnswerRow,
    AnswerTotals,
    CardRow,
    DraftRow,
    GuildBankRow,
    NewSession,
    QuizRepository,
    QuizTransaction,
    SessionRow,
    SlotAnswer,
    SlotRow,
    StoredQuestion,
    TopicCount,
    TopicTotals,
)
from bot.storage.repositories import (
    BotStateRepository,
    Budget,
    ConversationRepository,
    DialogueTurn,
    GuildSettingsRepository,
    UsageRepository,
    UsageTotals,
)
from bot.storage.til import SearchQuery, TilRepository
from bot.storage.til_questions import NewTilQuestion, QuizSourcePost, TilQuestionRepository, TilQuestionRow
from bot.storage.til_schedule import TilJob, TilJobSettings, TilRunRow, TilScheduleRepository, TilScheduleTransaction

__all__ = [
    "AnswerRow",
    "AnswerTotals",
    "BotStateRepository",
    "Budget",
    "CardRow",
    "ConversationRepository",
    "DailyRepository",
    "DailyTransaction",
    "Database",
    "DialogueTurn",
    "DraftRow",
    "DueReveal",
    "GuildBankRow",
    "GuildSettingsRepository",
    "Migration",
    "MyDataRepository",
    "NewSession",
    "NewTilQuestion",
    "PostRow",
    "QuizRepository",
    "QuizSourcePost",
    "QuizTransaction",
    "ScheduleRow",
    "SearchQuery",
    "SessionRow",
    "SlotAnswer",
    "SlotRow",
    "StoredQuestion",
    "TilJob",
    "TilJobSettings",
    "TilQuestionRepository",
    "TilQuestionRow",
    "TilRepository",
    "TilRunRow",
    "TilScheduleRepository",
    "TilScheduleTransaction",
    "TopicCount",
    "TopicTotals",
    "UsageRepository",
    "UsageTotals",
    "bundled_migrations",
]
