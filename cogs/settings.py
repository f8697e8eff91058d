"""/language: an admin's per-guild override of the reply language."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import StudyBuddy

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


async def setup(bot: StudyBuddy) -> None:
    await bot.add_cog(Settings(bot))
