"""All SQL of the bot lives in this package: the connection, migrations and repositories."""

from bot.storage.database import Database, Migration, bundled_migrations
from bot.storage.repositories import BotStateRepository, GuildSettingsRepository

__all__ = ["BotStateRepository", "Database", "GuildSettingsRepository", "Migration", "bundled_migrations"]
