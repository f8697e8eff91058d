"""Repositories: small classes with named queries over `Database`, one per concern."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.storage.database import Database


def _now() -> str:
    return datetime.now(UTC).isoformat()


class BotStateRepository:
    """Bot-wide key/value facts that must survive restarts (e.g. the last synced command tree)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        value = await self._db.fetch_value("SELECT value FROM bot_state WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, _now()),
        )


class GuildSettingsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def locale(self, guild_id: int) -> str | None:
        value = await self._db.fetch_value("SELECT locale FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return None if value is None else str(value)

    async def set_locale(self, guild_id: int, locale: str | None) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, locale, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET locale = excluded.locale, updated_at = excluded.updated_at",
            (guild_id, locale, _now()),
        )
