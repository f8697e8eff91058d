"""/help: every command the bot offers, described in the reader's language."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import StudyBuddy

EMBED_FIELD_LIMIT = 25


def command_lines(tree: app_commands.CommandTree[StudyBuddy], language: str, fallback: str) -> list[tuple[str, str]]:
    """(usage, description) for every slash command and subcommand, in tree order."""
    lines: list[tuple[str, str]] = []
    for command in tree.get_commands(type=discord.AppCommandType.chat_input):
        leaves = command.walk_commands() if isinstance(command, app_commands.Group) else [command]
        for leaf in leaves:
            if isinstance(leaf, app_commands.Group):
                continue
            description = leaf.extras.get(language, leaf.description) or fallback
            lines.append((f"/{leaf.qualified_name}", description))
    return lines


class Help(commands.Cog):
    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot

    @app_commands.command(name="help", extras={"ko": "StudyBuddy의 명령어를 보여줘요."})
    async def help(self, interaction: discord.Interaction) -> None:
        """Show what StudyBuddy can do."""
        language = await self.bot.language_for(interaction)
        text = self.bot.services.languages.text
        embed = discord.Embed(
            title=text(language, "help.title"),
            description=text(language, "help.description"),
            colour=discord.Colour.blurple(),
        )
        for usage, description in command_lines(self.bot.tree, language, text(language, "help.no_description"))[
            :EMBED_FIELD_LIMIT
        ]:
            embed.add_field(name=usage, value=description, inline=False)
        embed.set_footer(text=text(language, "help.footer"))
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: StudyBuddy) -> None:
    await bot.add_cog(Help(bot))
