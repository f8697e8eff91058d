"""/mydata: everything StudyBuddy stores about a member, to download or to erase (with a confirmation)."""

from __future__ import annotations

import io
import re
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import StudyBuddy, studybuddy_of
from cogs.til._publish import Publisher
from cogs.til._render import jump_url

MAX_LINKS = 10


class DeleteChoice(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"mydata:(?P<action>erase|keep):(?P<user>\d+)"
):
    """Confirm or cancel the erasure; the custom id names the member who asked, so nobody else can press it,
    and it still works after a restart."""

    def __init__(self, action: str, user_id: int, label: str = "") -> None:
        style = discord.ButtonStyle.danger if action == "erase" else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label or action, style=style, custom_id=f"mydata:{action}:{user_id}"))
        self.action, self.user_id = action, user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DeleteChoice:
        return cls(match["action"], int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = studybuddy_of(interaction)
        async with bot.answering_errors(interaction):
            if interaction.user.id != self.user_id:
                await interaction.response.send_message(
                    await bot.text_for(interaction, "mydata_ui.not_yours"), ephemeral=True
                )
                return
            cog = cast("MyData", bot.get_cog("MyData"))
            if self.action == "erase":
                await cog.erase(interaction)
            else:
                await cog.keep(interaction)


class MyData(commands.Cog):
    mydata = app_commands.Group(
        name="mydata",
        description="Everything StudyBuddy stores about you: download it or delete it",
        extras={"ko": "StudyBuddy가 저장한 내 정보: 받거나 지우기"},
    )

    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot
        self.services = bot.services

    @mydata.command(name="export", extras={"ko": "제가 저장한 내 정보를 모두 JSON 파일로 받아요."})
    async def export(self, interaction: discord.Interaction) -> None:
        """Download everything stored about you, as JSON."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        exported = await self.services.mydata.export(interaction.user.id)
        await interaction.followup.send(
            await self.bot.text_for(interaction, "mydata_ui.export_ready"),
            file=discord.File(io.BytesIO(exported.data), filename=exported.filename),
            ephemeral=True,
        )

    @mydata.command(name="delete", extras={"ko": "제가 저장한 내 정보를 모두 지워요 (한 번 더 확인해요)."})
    async def delete(self, interaction: discord.Interaction) -> None:
        """Delete everything stored about you (asks to confirm first)."""
        language = await self.bot.language_for(interaction)
        text = self.services.languages.text
        view = discord.ui.View(timeout=None)
        view.add_item(DeleteChoice("erase", interaction.user.id, text(language, "mydata_ui.delete_button")))
        view.add_item(DeleteChoice("keep", interaction.user.id, text(language, "mydata_ui.cancel_button")))
        await interaction.response.send_message(text(language, "mydata_ui.delete_confirm"), view=view, ephemeral=True)

    async def erase(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        user_id = interaction.user.id
        # The records go first: the TIL messages the bot posted for the member are found through them.
        in_guilds = {guild.id for guild in self.bot.guilds}
        published = [post for post in await self.services.til.published_posts_by(user_id) if post.guild_id in in_guilds]
        counts = await self.services.mydata.delete(user_id)
        publisher = Publisher(self.bot)
        kept = [post for post in published if not await publisher.unpublish(post)]
        language = await self.bot.language_for(interaction)
        text = self.services.languages.text
        removed = self._describe(counts, language)
        key, params = ("mydata_ui.deleted", {"counts": removed}) if removed else ("mydata_ui.deleted_nothing", {})
        content = text(language, key, **params)
        if kept:
            # The records are gone either way; the member should know what is still shown, and where.
            links = "\n".join([url for post in kept if (url := jump_url(post))][:MAX_LINKS])  # one message holds 2,000
            content += "\n" + text(language, "mydata_ui.messages_kept", count=len(kept), links=links)
        await interaction.edit_original_response(content=content, view=None)

    def _describe(self, counts: dict[str, int], language: str) -> str:
        """ "TIL 2, quiz answers 5, ...": tables in words (each has a `mydata_ui.count.*` label); guild records
        that only named the member are summed up ("table.column" keys), since they were kept with the name removed."""
        text = self.services.languages.text
        parts = [
            text(language, f"mydata_ui.count.{name}", count=count)
            for name, count in counts.items()
            if count and "." not in name
        ]
        anonymised = sum(count for name, count in counts.items() if "." in name)
        if anonymised:
            parts.append(text(language, "mydata_ui.count_anonymised", count=anonymised))
        return ", ".join(parts)

    async def keep(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(
            content=await self.bot.text_for(interaction, "mydata_ui.cancelled"), view=None
        )


async def setup(bot: StudyBuddy) -> None:
    bot.add_dynamic_items(DeleteChoice)
    await bot.add_cog(MyData(bot))
