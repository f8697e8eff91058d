"""The daily quiz on Discord: /daily commands, and the publisher the scheduler posts and reveals through."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.bot import StudyBuddy
from bot.errors import InvalidInput
from bot.services.daily import (
    DEFAULT_NO_REPEAT_DAYS,
    DEFAULT_REVEAL_HOURS,
    DEFAULT_TIMEZONE,
    MAX_NO_REPEAT_DAYS,
    MAX_REVEAL_HOURS,
    MIN_REVEAL_HOURS,
    DailyMessage,
    DailyReveal,
    DailyScheduler,
    timezone_suggestions,
)
from bot.storage import ScheduleRow
from cogs._scheduling import SchedulerTask, delivering
from cogs.quiz._render import question_embed, reveal_embed
from cogs.quiz._views import after_reveal_view, answer_view

log = logging.getLogger(__name__)

MAX_STREAK_LINES = 10


class Daily(commands.Cog):
    daily = app_commands.Group(
        name="daily",
        description="A quiz question posted every day at this server's chosen time",
        guild_only=True,
        extras={"ko": "매일 정한 시각에 올라오는 오늘의 퀴즈"},
    )

    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot
        self.services = bot.services
        self.scheduler = DailyScheduler(
            self.services.daily,
            self.services.daily_repo,
            self.services.quiz_sessions,
            self.services.clock,
            self,
            self.services.languages.language,
        )
        self._running = SchedulerTask(bot, self.scheduler, "daily-scheduler")

    async def cog_load(self) -> None:
        self._running.start()

    async def cog_unload(self) -> None:
        await self._running.stop()

    def _text(self, language: str, key: str, **params: object) -> str:
        return self.services.languages.text(language, key, **params)

    # --- the publisher (see bot.services.daily.DailyPublisher) ------------------------------------------------

    async def post(self, message: DailyMessage) -> int:
        question = message.question
        language = question.language

        def text(key: str, **params: object) -> str:
            return self._text(language, key, **params)

        embed = question_embed(text, question, position=0, count=1, closes_at_unix=None)
        embed.title = text("daily.question_title", topic=question.topic)
        embed.add_field(name=text("daily.answer_in"), value=f"<t:{int(message.closes_at.timestamp())}:R>")
        local_time = message.due_at.astimezone(ZoneInfo(message.timezone)).strftime("%H:%M")
        content = text("daily.late_note", time=local_time) if message.late else None
        view = answer_view(message.session_id, 0, question, text("quiz.answer_button"))
        async with delivering():
            sent = await self.bot.get_partial_messageable(message.channel_id).send(
                content, embed=embed, view=view, nonce=message.nonce
            )
        return sent.id

    async def reveal(self, reveal: DailyReveal) -> None:
        result = reveal.result
        language = result.question.language

        def text(key: str, **params: object) -> str:
            return self._text(language, key, **params)

        embed = reveal_embed(
            text,
            result.question,
            position=0,
            count=1,
            correct_user_ids=result.correct_user_ids,
            answered=result.answered,
        )
        embed.title = text("daily.question_title", topic=result.question.topic)
        leaders = sorted(
            ((days, user_id) for user_id, days in reveal.streaks.items() if days >= 2), key=lambda pair: -pair[0]
        )[:MAX_STREAK_LINES]
        if leaders:
            lines = [text("daily.streak_line", user=user_id, days=days) for days, user_id in leaders]
            embed.add_field(name=text("daily.streaks"), value="\n".join(lines), inline=False)
        view = after_reveal_view(reveal.session_id, 0, text("quiz.explain_more"), None)
        message = self.bot.get_partial_messageable(reveal.channel_id).get_partial_message(reveal.message_id)
        async with delivering():
            await message.edit(embed=embed, view=view)

    async def alert(self, schedule: ScheduleRow, problem: str) -> None:
        language = await self.services.languages.language(schedule.guild_id, schedule.language)
        guild = self.bot.get_guild(schedule.guild_id)
        content = self._text(
            language,
            f"daily.alert_{problem}",
            guild=guild.name if guild else schedule.guild_id,
            channel=schedule.channel_id,
        )
        try:
            if schedule.alert_channel_id is not None:
                await self.bot.get_partial_messageable(schedule.alert_channel_id).send(content)
            else:
                dm = await self.bot.create_dm(discord.Object(id=schedule.configured_by))
                await dm.send(content)
        except discord.HTTPException as error:
            log.warning("daily quiz of guild %s: could not alert the admin (%s)", schedule.guild_id, error)

    # --- commands ---------------------------------------------------------------------------------------------

    async def _require_moderator(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        roles = getattr(interaction.user, "roles", [])
        await self.services.quizmasters.ensure_quizmaster(
            interaction.guild_id,
            {role.id for role in roles},
            manages_guild=interaction.permissions.manage_guild,
            refusal="daily.moderators_only",
        )

    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in timezone_suggestions(current)]

    async def topics_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # Several topics are typed comma-separated: suggest completions for the last one.
        done, _, last = current.rpartition(",")
        prefix = f"{done}, " if done else ""
        topics = await self.services.quiz_catalog.topic_names(interaction.guild_id)
        return [
            app_commands.Choice(name=f"{prefix}{topic}"[:100], value=f"{prefix}{topic}"[:100])
            for topic in topics
            if last.strip().casefold() in topic
        ][:25]

    @daily.command(name="setup", extras={"ko": "오늘의 퀴즈를 올릴 채널, 시각, 시간대, 주제를 정해요 (관리자)."})
    @app_commands.describe(
        channel=locale_str("Where the question is posted", ko="문제를 올릴 채널"),
        time=locale_str("Local time, 24-hour HH:MM (e.g. 09:00)", ko="현지 시각, 24시간제 HH:MM (예: 09:00)"),
        timezone=locale_str("IANA time zone (default Asia/Seoul)", ko="IANA 시간대 (기본 Asia/Seoul)"),
        topics=locale_str("Topics, comma-separated (default: all)", ko="주제, 쉼표로 구분 (기본: 전체)"),
        reveal_after=locale_str("Hours until the answer is revealed", ko="정답 공개까지 시간(시간 단위)"),
        no_repeat_days=locale_str("Days before a question may come again", ko="같은 문제가 다시 나오기까지 일수"),
        alerts=locale_str("Where to report problems (default: DM to you)", ko="문제 발생 알림 채널 (기본: 나에게 DM)"),
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete, topics=topics_autocomplete)
    async def setup(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str = DEFAULT_TIMEZONE,
        topics: str | None = None,
        reveal_after: app_commands.Range[int, MIN_REVEAL_HOURS, MAX_REVEAL_HOURS] = DEFAULT_REVEAL_HOURS,
        no_repeat_days: app_commands.Range[int, 0, MAX_NO_REPEAT_DAYS] = DEFAULT_NO_REPEAT_DAYS,
        alerts: discord.TextChannel | None = None,
    ) -> None:
        """Choose the channel, local time, time zone and topics of the daily quiz (moderators)."""
        assert interaction.guild_id is not None
        await self._require_moderator(interaction)
        for target in (channel, alerts):
            if target is not None and not _can_post(target):
                raise InvalidInput("daily.bot_cannot_post", channel=target.mention)
        language = await self.bot.language_for(interaction)
        schedule = await self.services.daily.setup(
            guild_id=interaction.guild_id,
            channel_id=channel.id,
            local_time=time,
            timezone=timezone,
            topics=topics,
            reveal_after_hours=reveal_after,
            no_repeat_days=no_repeat_days,
            language=language,
            configured_by=interaction.user.id,
            alert_channel_id=alerts.id if alerts else None,
        )
        self.scheduler.wake()
        embed = await self._schedule_embed(schedule, language, interaction.user.id, title="daily.setup_title")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @daily.command(name="show", extras={"ko": "오늘의 퀴즈 설정과 다음 문제 시각, 나의 연속 참여를 보여줘요."})
    async def show(self, interaction: discord.Interaction) -> None:
        """The daily quiz settings, when the next question comes, and your streak."""
        assert interaction.guild_id is not None
        language = await self.bot.language_for(interaction)
        schedule = await self.services.daily.schedule(interaction.guild_id)
        embed = await self._schedule_embed(schedule, language, interaction.user.id, title="daily.show_title")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @daily.command(name="pause", extras={"ko": "오늘의 퀴즈를 잠시 멈춰요 (관리자)."})
    async def pause(self, interaction: discord.Interaction) -> None:
        """Pause the daily quiz (moderators)."""
        assert interaction.guild_id is not None
        await self._require_moderator(interaction)
        await self.services.daily.pause(interaction.guild_id)
        await interaction.response.send_message(await self.bot.text_for(interaction, "daily.paused"), ephemeral=True)

    @daily.command(name="resume", extras={"ko": "멈춘 오늘의 퀴즈를 다시 켜요 (관리자)."})
    async def resume(self, interaction: discord.Interaction) -> None:
        """Turn the daily quiz back on (moderators)."""
        assert interaction.guild_id is not None
        await self._require_moderator(interaction)
        schedule = await self.services.daily.resume(interaction.guild_id)
        self.scheduler.wake()
        when = f"<t:{int(schedule.next_due_at.timestamp())}:R>"
        await interaction.response.send_message(
            await self.bot.text_for(interaction, "daily.resumed", when=when), ephemeral=True
        )

    @daily.command(name="now", extras={"ko": "다음 문제를 지금 바로 올려요. 시험해 볼 때 좋아요 (관리자)."})
    async def now(self, interaction: discord.Interaction) -> None:
        """Post a daily question right now, to try it out (moderators)."""
        assert interaction.guild_id is not None
        await self._require_moderator(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        language = await self.bot.language_for(interaction)
        schedule = await self.services.daily.schedule(interaction.guild_id)
        post_language = await self.services.languages.language(interaction.guild_id, schedule.language)
        post_id = await self.services.daily.claim_now(interaction.guild_id, post_language)
        outcome = await self.scheduler.send(post_id)
        channel = f"<#{schedule.channel_id}>"
        if outcome.status == "posted":
            reply = self._text(language, "daily.posted_now", channel=channel)
        elif outcome.status == "retrying":
            reply = self._text(language, "daily.retrying_now", channel=channel)
        else:
            reason = self._text(language, f"daily.failure_{outcome.failure}")
            reply = self._text(language, "daily.post_failed_now", channel=channel, reason=reason)
        await interaction.followup.send(reply, ephemeral=True)

    async def _schedule_embed(self, schedule: ScheduleRow, language: str, user_id: int, *, title: str) -> discord.Embed:
        def text(key: str, **params: object) -> str:
            return self._text(language, key, **params)

        status = "active" if schedule.status == "active" else schedule.paused_reason or "moderator"
        embed = discord.Embed(title=text(title), colour=discord.Colour.blurple())
        embed.add_field(name=text("daily.field_channel"), value=f"<#{schedule.channel_id}>")
        embed.add_field(name=text("daily.field_time"), value=f"{schedule.local_time} ({schedule.timezone})")
        embed.add_field(
            name=text("daily.field_topics"), value=", ".join(schedule.topics) or text("daily.all_topics"), inline=False
        )
        embed.add_field(
            name=text("daily.field_reveal"), value=text("daily.reveal_value", hours=schedule.reveal_minutes // 60)
        )
        embed.add_field(
            name=text("daily.field_no_repeat"), value=text("daily.no_repeat_value", days=schedule.no_repeat_days)
        )
        embed.add_field(name=text("daily.field_status"), value=text(f"daily.status_{status}"), inline=False)
        if schedule.status == "active":
            unix = int(schedule.next_due_at.timestamp())
            embed.add_field(name=text("daily.field_next"), value=f"<t:{unix}:F> (<t:{unix}:R>)", inline=False)
        alerts = (
            f"<#{schedule.alert_channel_id}>"
            if schedule.alert_channel_id is not None
            else text("daily.alerts_dm", user=f"<@{schedule.configured_by}>")
        )
        embed.add_field(name=text("daily.field_alerts"), value=alerts)
        streak = await self.services.daily.streak(schedule.guild_id, user_id)
        embed.add_field(name=text("daily.field_streak"), value=text("daily.streak_value", days=streak))
        return embed


def _can_post(channel: discord.TextChannel) -> bool:
    permissions = channel.permissions_for(channel.guild.me)
    return permissions.view_channel and permissions.send_messages and permissions.embed_links
