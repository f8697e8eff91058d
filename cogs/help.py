"""/help: what the bot offers, described in the reader's language: an overview, then one command in detail."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.bot import StudyBuddy

EMBED_FIELD_LIMIT = 25
FIELD_VALUE_LIMIT = 1024
AUTOCOMPLETE_LIMIT = 25
COMMAND_NAME_LIMIT = 100  # a command name is at most 32 characters; room for "/til post" and the like

Tree = app_commands.CommandTree[StudyBuddy]
SlashCommand = app_commands.Command[Any, ..., Any] | app_commands.Group


def _description(command: SlashCommand, language: str, fallback: str) -> str:
    return str(command.extras.get(language, command.description) or fallback)


def _top_level(tree: Tree) -> list[SlashCommand]:
    return [
        command
        for command in tree.get_commands(type=discord.AppCommandType.chat_input)
        if isinstance(command, app_commands.Command | app_commands.Group)
    ]


def command_lines(tree: Tree, language: str, fallback: str, only: str | None = None) -> list[tuple[str, str]]:
    """(usage, description) for every slash command and subcommand (of the top-level command `only`), in tree
    order."""
    lines: list[tuple[str, str]] = []
    for command in _top_level(tree):
        if only is not None and command.name != only:
            continue
        leaves = command.walk_commands() if isinstance(command, app_commands.Group) else [command]
        for leaf in leaves:
            if not isinstance(leaf, app_commands.Group):
                lines.append((f"/{leaf.qualified_name}", _description(leaf, language, fallback)))
    return lines


def overview_lines(tree: Tree, language: str, fallback: str) -> list[tuple[str, str]]:
    """One line per top-level command: a group lists its subcommands' names, so the overview always fits one
    embed however many subcommands there are."""
    lines: list[tuple[str, str]] = []
    for command in _top_level(tree):
        description = _description(command, language, fallback)
        if isinstance(command, app_commands.Group):
            names = " · ".join(
                f"`{leaf.name}`" for leaf in command.walk_commands() if not isinstance(leaf, app_commands.Group)
            )
            description = f"{description}\n{names}"
        lines.append((f"/{command.name}", description[:FIELD_VALUE_LIMIT]))
    return lines


class Help(commands.Cog):
    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot

    @app_commands.command(name="help", extras={"ko": "StudyBuddy의 명령어를 보여줘요."})
    @app_commands.describe(
        command=locale_str(
            "One command to explain in detail (default: all, briefly)", ko="자세히 볼 명령어 (기본: 전체 요약)"
        )
    )
    async def help(
        self, interaction: discord.Interaction, command: app_commands.Range[str, 1, COMMAND_NAME_LIMIT] | None = None
    ) -> None:
        """Show what StudyBuddy can do."""
        language = await self.bot.language_for(interaction)
        text = self.bot.services.languages.text
        fallback = text(language, "help.no_description")
        name = (command or "").strip().lstrip("/").split(" ")[0].casefold() or None
        known = {top.name for top in _top_level(self.bot.tree)}
        if name is not None and name not in known:
            await interaction.response.send_message(
                text(language, "help.unknown_command", command=command), ephemeral=True
            )
            return
        lines = (
            overview_lines(self.bot.tree, language, fallback)
            if name is None
            else command_lines(self.bot.tree, language, fallback, only=name)
        )
        embed = discord.Embed(
            title=text(language, "help.title"),
            description=text(language, "help.description"),
            colour=discord.Colour.blurple(),
        )
        for usage, description in lines[:EMBED_FIELD_LIMIT]:
            embed.add_field(name=usage, value=description, inline=False)
        embed.set_footer(text=text(language, "help.footer" if name is None else "help.footer_detail"))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @help.autocomplete("command")
    async def command_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = current.strip().lstrip("/").casefold()
        return [
            app_commands.Choice(name=f"/{top.name}", value=top.name)
            for top in _top_level(self.bot.tree)
            if wanted in top.name
        ][:AUTOCOMPLETE_LIMIT]


async def setup(bot: StudyBuddy) -> None:
    await bot.add_cog(Help(bot))
