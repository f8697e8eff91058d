"""The Discord side of explanations: parse, check, defer, then hand a generation to the reply engine."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.bot import StudyBuddy
from bot.errors import UserFacingError
from bot.i18n import language_of_text
from bot.replies import ChannelSink, InteractionSink, stream_in_turn
from bot.services.admission import Ticket
from bot.services.explain import ASPECTS, Generation
from bot.streaming.engine import ReplySink
from cogs.explain._views import ResetConversationButton, StopButton, single_item_view

# Discord's "Cannot send messages to this user": the member closed their DMs.
DMS_CLOSED = 50007

ASPECT_PRESETS = {
    "all": ASPECTS,
    "concept_example": ("concept", "example"),
    "pitfalls_exam": ("pitfalls", "exam_tip"),
}


class Explain(commands.Cog):
    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot
        self.service = bot.services.explain
        self.explain_message_menu = app_commands.ContextMenu(
            name=locale_str("Explain this message", ko="이 메시지 설명하기"),
            callback=self.explain_message,
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.explain_message_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.explain_message_menu.name, type=self.explain_message_menu.type)

    def _text(self, language: str, key: str, **params: object) -> str:
        return self.bot.services.languages.text(language, key, **params)

    def _stop_view(self, stream_id: int, language: str) -> discord.ui.View:
        return single_item_view(StopButton(stream_id, self._text(language, "explain.stop")))

    @app_commands.command(name="explain", extras={"ko": "주제를 AI가 설명해 줘요. 답변은 작성되는 대로 보여요."})
    @app_commands.describe(
        topic=locale_str(
            "What to explain, e.g. EC2 Auto Scaling (several: separate them with commas)",
            ko="설명할 주제, 예: EC2 Auto Scaling (여러 개는 쉼표로 구분)",
        ),
        how=locale_str(
            "How to explain it, e.g. as if I had never heard of AWS", ko="설명 방식, 예: AWS를 처음 듣는 사람에게"
        ),
        private=locale_str("Send the answer to your DMs (or only to you)", ko="답변을 DM으로 받기 (또는 나만 보기)"),
        aspects=locale_str("Answer in sections, written at the same time", ko="여러 관점으로 나눠서 동시에 답하기"),
    )
    @app_commands.choices(
        aspects=[
            app_commands.Choice(
                name=locale_str("Concept, example, pitfalls, exam tip", ko="개념, 예시, 헷갈리는 점, 시험 팁"),
                value="all",
            ),
            app_commands.Choice(name=locale_str("Concept and example", ko="개념과 예시"), value="concept_example"),
            app_commands.Choice(
                name=locale_str("Pitfalls and exam tip", ko="헷갈리는 점과 시험 팁"), value="pitfalls_exam"
            ),
        ]
    )
    async def explain(
        self,
        interaction: discord.Interaction,
        topic: str,
        how: str | None = None,
        private: bool = False,
        aspects: app_commands.Choice[str] | None = None,
    ) -> None:
        """Explain a topic; the answer appears as it is written."""
        language = await self.bot.language_for(interaction)
        topics = self.service.clean_topics(topic)
        manner = self.service.clean_how(how, language)
        aspect_keys = ASPECT_PRESETS[aspects.value] if aspects else ()
        weight = len(aspect_keys) if aspect_keys else min(len(topics), self.service.batch_concurrency)
        ticket = await self.service.admit(interaction.user.id, interaction.guild_id, weight)
        try:
            sink = await self._open_reply(interaction, language, private=private)
            guild_id = interaction.guild_id
            if len(topics) > 1:
                generation = self.service.explain_topics(ticket, guild_id, language, topics, manner)
            elif aspect_keys:
                generation = self.service.explain_aspects(ticket, guild_id, language, topics[0], manner, aspect_keys)
            else:
                generation = self.service.explain(ticket, guild_id, language, topics[0], manner)
            await self._run(ticket, sink, generation, stream_id=interaction.id, language=language)
        finally:
            ticket.release()

    async def _open_reply(self, interaction: discord.Interaction, language: str, *, private: bool) -> ReplySink:
        """Acknowledges at once; a private answer goes to the user's DMs, or stays ephemeral where DMs are closed."""
        in_dm = interaction.guild_id is None
        await interaction.response.defer(thinking=True, ephemeral=private and not in_dm)
        stop = self._stop_view(interaction.id, language)
        if private and not in_dm:
            try:
                first = await interaction.user.send(self._text(language, "explain.sent_to_dm"), view=stop)
            except discord.Forbidden as error:
                if error.code != DMS_CLOSED:
                    raise
            else:
                await interaction.edit_original_response(content=self._text(language, "explain.sent_to_dm"))
                return ChannelSink(first.channel, bucket=first.channel.id, first=first, live_view=lambda: stop)
        return InteractionSink(interaction, ephemeral=private and not in_dm, live_view=lambda: stop)

    async def _run(
        self, ticket: Ticket, sink: ReplySink, generation: Generation, *, stream_id: int, language: str
    ) -> None:
        """Waits for the user's turn (showing the queue position meanwhile), then streams the answer."""
        await stream_in_turn(self.bot.services, ticket, sink, generation, stream_id=stream_id, language=language)

    async def explain_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Explains any message's text to the member who asked, privately."""
        language = await self.bot.language_for(interaction)
        content = self.service.clean_message(_message_text(message))
        ticket = await self.service.admit(interaction.user.id, interaction.guild_id)
        try:
            await interaction.response.defer(thinking=True, ephemeral=True)
            sink = InteractionSink(
                interaction, ephemeral=True, live_view=lambda: self._stop_view(interaction.id, language)
            )
            generation = self.service.explain_message(ticket, interaction.guild_id, language, content)
            await self._run(ticket, sink, generation, stream_id=interaction.id, language=language)
        finally:
            ticket.release()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A DM to the bot is a question; follow-ups continue the conversation."""
        if message.guild is not None or message.author.bot:
            return
        question = message.content.strip()
        language = language_of_text(question)
        try:
            question = self.service.clean_message(question)
            ticket = await self.service.admit(message.author.id, None)
        except UserFacingError as error:
            await message.channel.send(self._text(language, error.key, **error.params))
            return
        try:
            stop = self._stop_view(message.id, language)
            reset = single_item_view(ResetConversationButton(self._text(language, "explain.new_conversation")))
            sink = ChannelSink(
                message.channel, bucket=message.channel.id, live_view=lambda: stop, closing_view=lambda: reset
            )
            generation = self.service.converse(ticket, message.author.id, language, question)
            await self._run(ticket, sink, generation, stream_id=message.id, language=language)
        finally:
            ticket.release()


def _message_text(message: discord.Message) -> str:
    """The readable text of a message: its content and its embeds' titles and descriptions."""
    parts = [message.content]
    for embed in message.embeds:
        parts.extend(part for part in (embed.title, embed.description) if part)
    return "\n\n".join(part for part in parts if part)
