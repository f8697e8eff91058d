"""Who may manage a guild's quiz banks and generated questions: Manage Server, or the quizmaster role."""

from __future__ import annotations

from collections.abc import Collection

from bot.errors import NotAllowed
from bot.storage import GuildSettingsRepository


class QuizmasterService:
    def __init__(self, guild_settings: GuildSettingsRepository) -> None:
        self._guild_settings = guild_settings

    async def role(self, guild_id: int) -> int | None:
        return await self._guild_settings.quizmaster_role(guild_id)

    async def set_role(self, guild_id: int, role_id: int | None) -> None:
        await self._guild_settings.set_quizmaster_role(guild_id, role_id)

    async def ensure_quizmaster(
        self, guild_id: int, role_ids: Collection[int], *, manages_guild: bool, refusal: str = "quiz.quizmaster_only"
    ) -> None:
        """Raises NotAllowed(`refusal`, a catalog key saying what was refused) unless the member is one."""
        if manages_guild:
            return
        role = await self.role(guild_id)
        if role is None or role not in role_ids:
            raise NotAllowed(refusal)
