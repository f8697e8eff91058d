"""Composition root: Settings -> storage -> prompts -> chains -> services, handed to the Bot.

Everything the bot uses is built here once and passed in; nothing is a module-level singleton,
so tests build the same graph against a temporary database and fake servers.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.i18n import Catalog
from bot.llm.prompts import PromptLibrary
from bot.services.language import LanguageService
from bot.storage import BotStateRepository, Database, GuildSettingsRepository


@dataclass
class Services:
    settings: Settings
    db: Database
    prompts: PromptLibrary
    languages: LanguageService
    bot_state: BotStateRepository

    async def aclose(self) -> None:
        await self.db.close()


async def build_services(settings: Settings) -> Services:
    catalog = Catalog.load()
    prompts = PromptLibrary.load()
    db = await Database.open(settings.database)
    return Services(
        settings=settings,
        db=db,
        prompts=prompts,
        languages=LanguageService(GuildSettingsRepository(db), catalog),
        bot_state=BotStateRepository(db),
    )
