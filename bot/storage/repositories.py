"""Repositories: small classes with named queries over `Database`, one per concern."""

from __future__ import annotations

from dataclasses import dataclass
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

    async def quizmaster_role(self, guild_id: int) -> int | None:
        value = await self._db.fetch_value(
            "SELECT quizmaster_role_id FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return None if value is None else int(value)

    async def set_quizmaster_role(self, guild_id: int, role_id: int | None) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, quizmaster_role_id, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET quizmaster_role_id = excluded.quizmaster_role_id,"
            " updated_at = excluded.updated_at",
            (guild_id, role_id, _now()),
        )

    async def timezone(self, guild_id: int) -> str | None:
        value = await self._db.fetch_value("SELECT timezone FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return None if value is None else str(value)

    async def set_timezone(self, guild_id: int, timezone: str) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, timezone, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at",
            (guild_id, timezone, _now()),
        )

    async def set_locale(self, guild_id: int, locale: str | None) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, locale, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET locale = excluded.locale, updated_at = excluded.updated_at",
            (guild_id, locale, _now()),
        )


@dataclass(frozen=True)
class UsageTotals:
    requests: int
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Budget:
    guild_daily_tokens: int | None
    user_daily_tokens: int | None


class UsageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, day: str, guild_id: int | None, user_id: int, input_tokens: int, output_tokens: int) -> None:
        await self._db.execute(
            "INSERT INTO llm_usage (day, guild_id, user_id, requests, input_tokens, output_tokens)"
            " VALUES (?, ?, ?, 1, ?, ?)"
            " ON CONFLICT (day, guild_id, user_id) DO UPDATE SET requests = requests + 1,"
            " input_tokens = input_tokens + excluded.input_tokens,"
            " output_tokens = output_tokens + excluded.output_tokens",
            (day, guild_id or 0, user_id, input_tokens, output_tokens),
        )

    async def totals(self, day: str, guild_id: int | None, user_id: int | None = None) -> UsageTotals:
        row = await self._db.fetch_one(
            "SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0)"
            " FROM llm_usage WHERE day = ? AND guild_id = ? AND (? IS NULL OR user_id = ?)",
            (day, guild_id or 0, user_id, user_id),
        )
        assert row is not None  # an aggregate always returns a row
        return UsageTotals(int(row[0]), int(row[1]), int(row[2]))

    async def top_users(self, day: str, guild_id: int, limit: int) -> list[tuple[int, UsageTotals]]:
        rows = await self._db.fetch_all(
            "SELECT user_id, requests, input_tokens, output_tokens FROM llm_usage WHERE day = ? AND guild_id = ?"
            " ORDER BY input_tokens + output_tokens DESC LIMIT ?",
            (day, guild_id, limit),
        )
        return [(int(row[0]), UsageTotals(int(row[1]), int(row[2]), int(row[3]))) for row in rows]

    async def budget(self, guild_id: int) -> Budget:
        row = await self._db.fetch_one(
            "SELECT guild_daily_tokens, user_daily_tokens FROM token_budgets WHERE guild_id = ?", (guild_id,)
        )
        return Budget(None, None) if row is None else Budget(row[0], row[1])

    async def set_budget(self, guild_id: int, budget: Budget) -> None:
        await self._db.execute(
            "INSERT INTO token_budgets (guild_id, guild_daily_tokens, user_daily_tokens, updated_at)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET guild_daily_tokens = excluded.guild_daily_tokens,"
            " user_daily_tokens = excluded.user_daily_tokens, updated_at = excluded.updated_at",
            (guild_id, budget.guild_daily_tokens, budget.user_daily_tokens, _now()),
        )


@dataclass(frozen=True)
class DialogueTurn:
    role: str  # "human" or "ai"
    content: str


class ConversationRepository:
    """The short DM history a follow-up question is answered with."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def recent(self, user_id: int, limit: int) -> list[DialogueTurn]:
        rows = await self._db.fetch_all(
            "SELECT role, content FROM dm_messages WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
        )
        return [DialogueTurn(row[0], row[1]) for row in reversed(rows)]

    async def append(self, user_id: int, question: str, answer: str, keep: int) -> None:
        """Stores one exchange and forgets what falls beyond the last `keep` turns."""
        async with self._db.transaction() as conn:
            now = _now()
            await conn.executemany(
                "INSERT INTO dm_messages (user_id, role, content, created_at) VALUES (?, ?, ?, ?)",
                [(user_id, "human", question, now), (user_id, "ai", answer, now)],
            )
            await conn.execute(
                "DELETE FROM dm_messages WHERE user_id = ? AND id NOT IN"
                " (SELECT id FROM dm_messages WHERE user_id = ? ORDER BY id DESC LIMIT ?)",
                (user_id, user_id, keep),
            )

    async def clear(self, user_id: int) -> int:
        return await self._db.execute("DELETE FROM dm_messages WHERE user_id = ?", (user_id,))
