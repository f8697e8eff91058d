"""Buttons on streamed answers. Both are dynamic items, so a click after a restart still gets an answer."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.bot import studybuddy_of


class StopButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"stream:stop:(?P<stream>\d+)"):
    """Stops an answer in progress; only its requester or a moderator (Manage Messages) may."""

    def __init__(self, stream_id: int, label: str = "Stop") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, emoji="⏹️", style=discord.ButtonStyle.secondary, custom_id=f"stream:stop:{stream_id}"
            )
        )
        self.stream_id = stream_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StopButton:
        return cls(int(match["stream"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await self._stop(interaction)

    async def _stop(self, interaction: discord.Interaction) -> None:
        bot = studybuddy_of(interaction)
        active = bot.services.streams.get(self.stream_id)
        if active is None:
            await interaction.response.send_message(
                await bot.text_for(interaction, "explain.stop_finished"), ephemeral=True
            )
            return
        is_owner = interaction.user.id == active.owner_id
        if not is_owner and not interaction.permissions.manage_messages:
            await interaction.response.send_message(
                await bot.text_for(interaction, "explain.stop_not_yours"), ephemeral=True
            )
            return
        await interaction.response.defer()
        # The notice is part of the answer, so it is in the answer's language, not the clicker's.
        notice = (
            None
            if is_owner
            else bot.services.languages.text(active.language, "explain.stopped_by", name=interaction.user.display_name)
        )
        active.stream.stop(notice)


class ResetConversationButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"dm:reset"):
    """Starts the DM conversation over: the history the bot answers follow-ups with is forgotten."""

    def __init__(self, label: str = "New conversation") -> None:
        super().__init__(
            discord.ui.Button(label=label, emoji="🧹", style=discord.ButtonStyle.secondary, custom_id="dm:reset")
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ResetConversationButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = studybuddy_of(interaction)
        async with bot.answering_errors(interaction):
            await bot.services.explain.forget_conversation(interaction.user.id)
            await interaction.response.send_message(await bot.text_for(interaction, "explain.conversation_reset"))


def single_item_view(item: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(item)
    return view
