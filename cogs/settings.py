"""/language and /timezone: an admin's per-guild choices of the reply language and the server's time zone."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import StudyBuddy
from bot.services.daily import timezone_suggestions

AUTO = "auto"


class Settings(commands.Cog):
    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot

    @app_commands.command(name="language", extras={"ko": "이 서버에서 봇이 답할 언어를 정해요."})
    @app_commands.describe(
        language=app_commands.locale_str(
            "ko, en, or auto (each member's Discord language)", ko="ko, en 또는 auto(각자의 Discord 언어)"
        )
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def language(self, interaction: discord.Interaction, language: Literal["ko", "en", "auto"]) -> None:
        """Choose the language the bot answers in on this server."""
        assert interaction.guild_id is not None  # guild_only
        languages = self.bot.services.languages
        await languages.set_guild_language(interaction.guild_id, None if language == AUTO else language)
        reply_language = await self.bot.language_for(interaction)
        if language == AUTO:
            message = languages.text(reply_language, "settings.language_auto")
        else:
            name = languages.text(reply_language, f"settings.language_{language}")
            message = languages.text(reply_language, "settings.language_set", language_name=name)
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(
        name="timezone", extras={"ko": "이 서버의 시간대를 정해요 (하루의 기준, TIL 알림과 주간 요약)."}
    )
    @app_commands.describe(
        name=app_commands.locale_str(
            "An IANA time zone, e.g. Asia/Seoul or Europe/Berlin", ko="IANA 시간대 이름 (예: Asia/Seoul, Europe/Berlin)"
        )
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def timezone(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        """Choose this server's time zone: when its day ends, and when TIL reminders and digests come."""
        assert interaction.guild_id is not None  # guild_only
        zone = await self.bot.services.server_time.set_timezone(interaction.guild_id, name)
        self.bot.dispatch("schedules_changed", interaction.guild_id)
        await interaction.response.send_message(
            await self.bot.text_for(interaction, "settings.timezone_set", zone=zone), ephemeral=True
        )

    @timezone.autocomplete("name")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=zone, value=zone) for zone in timezone_suggestions(current)]


async def setup(bot: StudyBuddy) -> None:
    await bot.add_cog(Settings(bot))
