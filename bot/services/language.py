"""Which language to answer in: the guild's override if an admin chose one, else the reader's locale."""

from __future__ import annotations

from bot.i18n import LANGUAGES, Catalog, language_for
from bot.storage import GuildSettingsRepository


class LanguageService:
    def __init__(self, guild_settings: GuildSettingsRepository, catalog: Catalog) -> None:
        self._guild_settings = guild_settings
        self.catalog = catalog
        # Every reply asks for the language, so guild overrides are cached; only `set_guild_language` changes them.
        self._guild_override: dict[int, str | None] = {}

    async def language(self, guild_id: int | None, user_locale: object | None) -> str:
        if guild_id is not None:
            if guild_id not in self._guild_override:
                self._guild_override[guild_id] = await self._guild_settings.locale(guild_id)
            override = self._guild_override[guild_id]
            if override:
                return override
        return language_for(user_locale)

    async def set_guild_language(self, guild_id: int, language: str | None) -> None:
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        await self._guild_settings.set_locale(guild_id, language)
        self._guild_override[guild_id] = language

    def text(self, language: str, key: str, **params: object) -> str:
        return self.catalog.text(language, key, **params)
