"""Token usage per user, guild and day, and the daily budgets admins set on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput, TryLater
from bot.storage import Budget, GuildSettingsRepository, UsageRepository, UsageTotals

DEFAULT_TIMEZONE = "Asia/Seoul"
TOP_USERS = 10


@dataclass(frozen=True)
class UsageReport:
    day: str
    guild: UsageTotals
    top_users: list[tuple[int, UsageTotals]]
    budget: Budget


class UsageService:
    def __init__(
        self, usage: UsageRepository, guild_settings: GuildSettingsRepository, now: Callable[[], datetime]
    ) -> None:
        self._usage = usage
        self._guild_settings = guild_settings
        self._now = now

    async def day(self, guild_id: int | None) -> str:
        """Budgets reset at midnight in the guild's time zone (DMs: the default zone, Asia/Seoul)."""
        zone = (await self._guild_settings.timezone(guild_id) if guild_id else None) or DEFAULT_TIMEZONE
        return self._now().astimezone(ZoneInfo(zone)).date().isoformat()

    async def ensure_within_budget(self, guild_id: int | None, user_id: int) -> None:
        if guild_id is None:
            return
        budget = await self._usage.budget(guild_id)
        if budget.guild_daily_tokens is None and budget.user_daily_tokens is None:
            return
        day = await self.day(guild_id)
        if budget.guild_daily_tokens is not None:
            used = (await self._usage.totals(day, guild_id)).total_tokens
            if used >= budget.guild_daily_tokens:
                raise TryLater("error.budget_guild", budget=budget.guild_daily_tokens)
        if budget.user_daily_tokens is not None:
            used = (await self._usage.totals(day, guild_id, user_id)).total_tokens
            if used >= budget.user_daily_tokens:
                raise TryLater("error.budget_user", budget=budget.user_daily_tokens)

    async def record(self, guild_id: int | None, user_id: int, input_tokens: int, output_tokens: int) -> None:
        await self._usage.add(await self.day(guild_id), guild_id, user_id, input_tokens, output_tokens)

    async def report(self, guild_id: int) -> UsageReport:
        day = await self.day(guild_id)
        return UsageReport(
            day=day,
            guild=await self._usage.totals(day, guild_id),
            top_users=await self._usage.top_users(day, guild_id, TOP_USERS),
            budget=await self._usage.budget(guild_id),
        )

    async def set_budget(self, guild_id: int, guild_daily_tokens: int | None, user_daily_tokens: int | None) -> Budget:
        """A budget of 0 or None removes that limit."""
        for value in (guild_daily_tokens, user_daily_tokens):
            if value is not None and value < 0:
                raise InvalidInput("error.budget_negative")
        budget = Budget(guild_daily_tokens or None, user_daily_tokens or None)
        await self._usage.set_budget(guild_id, budget)
        return budget
