"""The server's time zone (`/timezone`): when a member's day ends for budgets and TIL streaks (members may choose
their own with `/til timezone`), and the local times of TIL reminders and the weekly digest.

The daily quiz keeps the zone its own setup names: a schedule says "09:00 Asia/Seoul" explicitly.
"""

from __future__ import annotations

from bot.services.daily import DEFAULT_TIMEZONE, resolve_timezone
from bot.services.til.schedule import TilScheduleService
from bot.storage import GuildSettingsRepository


class ServerTimeService:
    def __init__(self, guild_settings: GuildSettingsRepository, til_schedule: TilScheduleService) -> None:
        self._guild_settings = guild_settings
        self._til_schedule = til_schedule

    async def timezone(self, guild_id: int) -> str:
        return await self._guild_settings.timezone(guild_id) or DEFAULT_TIMEZONE

    async def set_timezone(self, guild_id: int, name: str) -> str:
        """Stores the zone (InvalidInput "daily.unknown_timezone" for a name zoneinfo does not know) and moves the
        TIL reminder and digest to the same local times in it; returns the zone's canonical name."""
        zone = resolve_timezone(name)
        await self._guild_settings.set_timezone(guild_id, zone.key)
        await self._til_schedule.follow_timezone(guild_id)
        return zone.key
