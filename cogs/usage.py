"""/usage and /budget: what the AI features cost today, and the daily limits admins set."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.bot import StudyBuddy

MAX_BUDGET = 1_000_000_000


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Usage(commands.Cog):
    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot

    async def _limit_text(self, language: str, value: int | None) -> str:
        return f"{value:,}" if value else self.bot.services.languages.text(language, "usage.no_limit")

    @app_commands.command(name="usage", extras={"ko": "오늘의 AI 토큰 사용량과 예산을 보여줘요 (관리자)."})
    @app_commands.checks.has_permissions(manage_guild=True)
    async def usage(self, interaction: discord.Interaction) -> None:
        """Show today's AI token usage and budget (admins)."""
        assert interaction.guild_id is not None  # guild_only
        await interaction.response.defer(ephemeral=True, thinking=True)
        language = await self.bot.language_for(interaction)
        text = self.bot.services.languages.text
        report = await self.bot.services.usage.report(interaction.guild_id)
        lines = [
            text(
                language,
                "usage.guild_line",
                requests=f"{report.guild.requests:,}",
                tokens=f"{report.guild.total_tokens:,}",
            ),
            text(
                language,
                "usage.budget_line",
                guild_budget=await self._limit_text(language, report.budget.guild_daily_tokens),
                user_budget=await self._limit_text(language, report.budget.user_daily_tokens),
            ),
            "",
            f"**{text(language, 'usage.top_users')}**",
        ]
        lines += [
            f"<@{user_id}>: {totals.total_tokens:,} ({totals.requests:,})" for user_id, totals in report.top_users
        ] or [text(language, "usage.nobody")]
        embed = discord.Embed(
            title=text(language, "usage.title", day=report.day),
            description="\n".join(lines),
            colour=discord.Colour.blurple(),
        )
        await interaction.followup.send(embed=embed, ephemeral=True)

    @app_commands.command(name="budget", extras={"ko": "하루 AI 토큰 예산을 정해요 (0은 제한 없음, 관리자)."})
    @app_commands.describe(
        server_daily=locale_str(
            "Tokens the whole server may use per day (0 = no limit)", ko="서버 전체 하루 토큰 (0 = 제한 없음)"
        ),
        member_daily=locale_str(
            "Tokens each member may use per day (0 = no limit)", ko="멤버 한 명당 하루 토큰 (0 = 제한 없음)"
        ),
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    async def budget(
        self,
        interaction: discord.Interaction,
        server_daily: app_commands.Range[int, 0, MAX_BUDGET],
        member_daily: app_commands.Range[int, 0, MAX_BUDGET],
    ) -> None:
        """Set the daily AI token budget (0 = no limit; admins)."""
        assert interaction.guild_id is not None  # guild_only
        language = await self.bot.language_for(interaction)
        budget = await self.bot.services.usage.set_budget(interaction.guild_id, server_daily, member_daily)
        await interaction.response.send_message(
            self.bot.services.languages.text(
                language,
                "usage.budget_set",
                guild_budget=await self._limit_text(language, budget.guild_daily_tokens),
                user_budget=await self._limit_text(language, budget.user_daily_tokens),
            ),
            ephemeral=True,
        )


async def setup(bot: StudyBuddy) -> None:
    await bot.add_cog(Usage(bot))
