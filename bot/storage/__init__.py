"""All SQL of the bot lives in this package: the connection, migrations and repositories."""

from bot.storage.database import Database, Migration, bundled_migrations
from bot.storage.repositories import (
    BotStateRepository,
    Budget,
    ConversationRepository,
    DialogueTurn,
    GuildSettingsRepository,
    UsageRepository,
    UsageTotals,
)

__all__ = [
    "BotStateRepository",
    "Budget",
    "ConversationRepository",
    "Database",
    "DialogueTurn",
    "GuildSettingsRepository",
    "Migration",
    "UsageRepository",
    "UsageTotals",
    "bundled_migrations",
]
