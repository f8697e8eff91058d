"""The Discord side of TIL: the form, the home channel, lists, search, streaks, export and feedback."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.bot import StudyBuddy
from bot.errors import InvalidInput, NotAllowed, NotConfigured
from bot.replies import InteractionSink, stream_in_turn
from bot.services.daily import timezone_suggestions
from bot.services.til.digest import Digest
from bot.services.til.export import ExportFormat, export_posts
from bot.services.til.heatmap import render_heatmap
from bot.services.til.importing import check_file, draft_from_file
from bot.services.til.model import Section, TilDraft, TilPost, clean_draft, default_title, fits_form, parse_tags
from bot.services.til.schedule import TilScheduler
from bot.storage import TilJobSettings
from cogs._scheduling import SchedulerTask
from cogs.explain._views import StopButton, single_item_view
from cogs.til._publish import Author, Publisher, PublishFailed, posts_by
from cogs.til._render import board_embed, jump_url, list_embed, search_embed, streak_embed
from cogs.til._schedule import SchedulePublisher
from cogs.til._views import SEARCH_QUERY_LIMIT, RetryView, TilModal, pages_view

log = logging.getLogger(__name__)

PER_PAGE = 5
BOARD_SIZE = 10
HEATMAP_FILE = "til-heatmap.png"
TAGS_OPTION_LIMIT = 200
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
KO_WEEKDAYS = ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일")
OFF = "off"
Switch = Literal["on", "off"]


class Til(commands.Cog):
    til = app_commands.Group(
        name="til",
        description="Today I Learned: post what you learned, find it again, keep your streak",
        guild_only=True,
        extras={"ko": "오늘 배운 것(TIL): 올리고, 찾아보고, 연속 기록 이어가기"},
    )

    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot
        self.services = bot.services
        self.service = bot.services.til
        self.publisher = Publisher(bot)
        self.scheduler: TilScheduler[Digest] = TilScheduler(
            self.services.til_schedule_service,
            self.services.til_schedule_repo,
            self.services.clock,
            SchedulePublisher(bot),
            self._make_digest,
            self.services.languages.language,
        )
        self.writing_questions: set[asyncio.Task[object]] = set()
        # Posts made while the bot or the model was down get their questions once the bot is ready.
        self._running = SchedulerTask(
            bot, self.scheduler, "til-scheduler", on_ready=lambda: self._write_questions(None)
        )

    # --- lifecycle: reminders and digests are database rows, so a restart picks up where it was -----------------

    async def cog_load(self) -> None:
        self._running.start()

    async def cog_unload(self) -> None:
        for task in self.writing_questions:
            task.cancel()
        await self._running.stop()

    def _write_questions(self, guild_ids: Collection[int] | None) -> None:
        """Quiz questions from new TILs are written in the background: no member waits for the model here, and the
        daily quiz asks a bank question when none is ready."""
        writer = self.services.til_questions
        if writer is None:
            return
        task: asyncio.Task[object] = asyncio.create_task(writer.write_recent(guild_ids, self._daily_quiz_language))
        self.writing_questions.add(task)
        task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[object]) -> None:
        self.writing_questions.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("writing quiz questions from TILs failed", exc_info=task.exception())

    async def _daily_quiz_language(self, guild_id: int) -> str | None:
        """The daily quiz is what asks TIL questions: a guild without one needs none."""
        schedule = await self.services.daily_repo.schedule(guild_id)
        return None if schedule is None else await self.services.languages.language(guild_id, schedule.language)

    async def _make_digest(self, guild_id: int, week_start: date, language: str) -> Digest:
        # Without a model the digest is still posted: the week's TILs and streak leaders, with no summary.
        return await self.services.til_digest.weekly_digest(guild_id, week_start, language)

    def _text(self, language: str, key: str, **params: object) -> str:
        return self.services.languages.text(language, key, **params)

    # --- the form -----------------------------------------------------------------------------------------------

    def _form(self, language: str, form: Form, draft: TilDraft | None = None) -> TilModal:
        """The TIL form. A refused submission (say, an empty what-I-learned) is answered with a button that
        reopens the form with everything the member typed, so nothing has to be written twice."""
        labels = {section: self._text(language, f"til_ui.label_{section.value}") for section in Section}

        async def submitted(submit: discord.Interaction, values: dict[Section, str]) -> None:
            try:
                cleaned = _draft(values, form.tags, day=await form.day())
            except InvalidInput as refused:
                typed = TilDraft(
                    title=values[Section.TITLE],
                    learned=values[Section.LEARNED],
                    hard=values[Section.HARD],
                    curious=values[Section.CURIOUS],
                    reflection=values[Section.REFLECTION],
                )
                retry = RetryView(
                    self._text(language, "til_ui.try_again"),
                    lambda again: again.response.send_modal(self._form(language, form, typed)),
                )
                message = self._text(language, refused.key, **refused.params)
                await submit.response.send_message(message, view=retry, ephemeral=True)
                return
            await submit.response.defer(ephemeral=True, thinking=True)
            await form.save(submit, cleaned)

        title = self._text(language, form.title_key)
        hint = self._text(language, "til_ui.placeholder_learned")  # where a post longer than the field goes
        return TilModal(title, labels, form.placeholder_title, draft, submitted, hint)

    async def tags_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The TIL forum's tags; several are typed comma-separated, so the last one is completed."""
        if interaction.guild is None:
            return []
        settings = await self.service.settings(interaction.guild.id)
        forum = interaction.guild.get_channel(settings.channel_id) if settings.channel_id else None
        if not isinstance(forum, discord.ForumChannel):
            return []
        done, _, last = current.rpartition(",")
        prefix = f"{done.strip()}, " if done.strip() else ""
        chosen = {part.strip().casefold() for part in done.split(",")}
        return [
            app_commands.Choice(name=f"{prefix}{tag.name}"[:100], value=f"{prefix}{tag.name}"[:100])
            for tag in forum.available_tags
            if last.strip().casefold() in tag.name.casefold() and tag.name.casefold() not in chosen
        ][:25]

    @til.command(name="post", extras={"ko": "오늘 배운 것을 양식에 적거나 파일(.md, .txt)로 TIL 채널에 올려요."})
    @app_commands.describe(
        tags=locale_str("Tags, comma-separated, e.g. AWS, LangChain", ko="태그, 쉼표로 구분 (예: AWS, LangChain)"),
        file=locale_str(
            "A long TIL as a .md or .txt file (skips the form)", ko="긴 TIL은 .md나 .txt 파일로 (양식 없이 바로 올려요)"
        ),
    )
    @app_commands.autocomplete(tags=tags_autocomplete)
    async def post(
        self,
        interaction: discord.Interaction,
        tags: app_commands.Range[str, 1, TAGS_OPTION_LIMIT] | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        """Write today's TIL in a form, or send it as a file, and post it to the TIL channel."""
        assert interaction.guild_id is not None
        parse_tags(tags)  # too many or too long tags are refused before the member writes the whole post
        language = await self.bot.language_for(interaction)
        if file is not None:
            await self._post_file(interaction, language, file, tags)
            return
        today = await self.service.today(interaction.guild_id, interaction.user.id)

        async def save(submit: discord.Interaction, draft: TilDraft) -> None:
            await self._save_new(submit, language, draft)

        async def day() -> date:
            # Read at submission: a form opened before midnight and sent after belongs to the new day.
            assert interaction.guild_id is not None
            return await self.service.today(interaction.guild_id, interaction.user.id)

        form = Form("til_ui.form_title", default_title(today), tags, day, save)
        await interaction.response.send_modal(self._form(language, form))

    async def _read_file(
        self, interaction: discord.Interaction, file: discord.Attachment, tags: str | None, post: TilPost | None = None
    ) -> TilDraft:
        """A TIL from an uploaded file, checked like the form's; the interaction is deferred (ephemeral) here.
        The form is skipped: it could not show more than 4,000 characters of a section anyway."""
        assert interaction.guild_id is not None
        check_file(file.filename, file.size)  # refused before anything is downloaded
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        if post is not None:
            return draft_from_file(file.filename, data, tags=tags, day=post.local_date, keep_tags=post.tags)
        day = await self.service.today(interaction.guild_id, interaction.user.id)
        return draft_from_file(file.filename, data, tags=tags, day=day)

    async def _post_file(
        self, interaction: discord.Interaction, language: str, file: discord.Attachment, tags: str | None
    ) -> None:
        await self._save_new(interaction, language, await self._read_file(interaction, file, tags))

    async def _save_new(self, interaction: discord.Interaction, language: str, draft: TilDraft) -> None:
        assert interaction.guild_id is not None
        post = await self.service.create(interaction.guild_id, interaction.user.id, draft)
        await self._publish_and_report(interaction, language, post, done_key="til_ui.posted")
        self._write_questions({post.guild_id})

    async def _save_edit(self, interaction: discord.Interaction, language: str, post: TilPost, draft: TilDraft) -> None:
        edited = await self.service.edit(post.guild_id, post.id, interaction.user.id, draft)
        await self._publish_and_report(interaction, language, edited, done_key="til_ui.edited")
        self._write_questions({edited.guild_id})  # its waiting questions went with the old text

    async def _publish_and_report(
        self, interaction: discord.Interaction, language: str, post: TilPost, *, done_key: str
    ) -> None:
        try:
            post = await self.publisher.publish(post, await self._author(interaction, post))
        except PublishFailed as failure:
            settings = await self.service.settings(post.guild_id)
            reason = self._text(language, f"til_ui.failure_{failure.reason}", channel=f"<#{settings.channel_id}>")
            message = self._text(language, "til_ui.saved_not_published", id=post.id, reason=reason)
            await interaction.followup.send(message, ephemeral=True)
            return
        streak = await self.service.streak(post.guild_id, post.author_id)
        message = self._text(language, done_key, id=post.id, url=jump_url(post), days=streak.current)
        await interaction.followup.send(message, ephemeral=True)

    async def _author(self, interaction: discord.Interaction, post: TilPost) -> Author:
        if interaction.user.id == post.author_id:
            return Author.of(interaction.user)
        user = self.bot.get_user(post.author_id)
        if user is None:
            try:
                user = await self.bot.fetch_user(post.author_id)
            except discord.HTTPException:
                return Author(str(post.author_id))
        return Author.of(user)

    # --- one post: show, edit, delete, repost -------------------------------------------------------------------

    @til.command(name="show", extras={"ko": "TIL 하나를 번호로 보여줘요."})
    @app_commands.describe(id=locale_str("The TIL's number (see /til list)", ko="TIL 번호 (/til list에서 확인)"))
    async def show(self, interaction: discord.Interaction, id: app_commands.Range[int, 1]) -> None:
        """Show one TIL by its number."""
        assert interaction.guild_id is not None
        # The author may have to be fetched from Discord: answer within Discord's 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        language = await self.bot.language_for(interaction)
        post = await self.service.get(interaction.guild_id, id)
        # A long TIL is a preview with the whole post attached, as in the TIL channel.
        shown = await self.publisher.message(post, await self._author(interaction, post), language)
        url = jump_url(post)
        content = url if url else self._text(language, "til_ui.not_published_note", id=post.id)
        await interaction.followup.send(
            content,
            embed=shown.embed,
            files=shown.files(),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @til.command(name="edit", extras={"ko": "내 TIL을 고쳐요 (양식이나 파일로). 채널에 올라간 글도 함께 바뀌어요."})
    @app_commands.describe(
        id=locale_str("The TIL's number", ko="TIL 번호"),
        tags=locale_str("New tags, comma-separated (default: keep)", ko="새 태그, 쉼표로 구분 (기본: 그대로)"),
        file=locale_str(
            "The whole TIL as a .md or .txt file, e.g. the one /til show attaches",
            ko="TIL 전체를 .md나 .txt 파일로 (/til show가 붙여 주는 파일을 고쳐서)",
        ),
    )
    @app_commands.autocomplete(tags=tags_autocomplete)
    async def edit(
        self,
        interaction: discord.Interaction,
        id: app_commands.Range[int, 1],
        tags: app_commands.Range[str, 1, TAGS_OPTION_LIMIT] | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        """Edit one of your TILs in the form or with a file; the published post changes too."""
        assert interaction.guild_id is not None
        post = await self.service.get(interaction.guild_id, id)
        if post.author_id != interaction.user.id:
            raise NotAllowed("til.not_yours")
        parse_tags(tags)
        language = await self.bot.language_for(interaction)
        if file is not None:
            await self._save_edit(interaction, language, post, await self._read_file(interaction, file, tags, post))
            return
        if not fits_form(post.draft):
            # The form would cut the post short (4,000 characters a field): a file carries all of it.
            raise InvalidInput("til_ui.edit_needs_file", id=post.id)
        new_tags = tags if tags is not None else ", ".join(post.tags)

        async def save(submit: discord.Interaction, draft: TilDraft) -> None:
            await self._save_edit(submit, language, post, draft)

        async def day() -> date:
            return post.local_date  # an edited TIL stays on its day

        form = Form("til_ui.form_edit_title", post.title, new_tags, day, save)
        await interaction.response.send_modal(self._form(language, form, post.draft))

    @til.command(name="delete", extras={"ko": "내 TIL을 지워요 (메시지 관리 권한이 있으면 누구의 것이든)."})
    @app_commands.describe(id=locale_str("The TIL's number", ko="TIL 번호"))
    async def delete(self, interaction: discord.Interaction, id: app_commands.Range[int, 1]) -> None:
        """Delete one of your TILs (moderators: anyone's)."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        post = await self.service.delete(
            interaction.guild_id, id, interaction.user.id, moderator=interaction.permissions.manage_messages
        )
        if await self.publisher.unpublish(post):
            await interaction.followup.send(await self.bot.text_for(interaction, "til_ui.deleted", id=post.id))
            return
        # Saying only "deleted" would leave the member believing the channel no longer shows it.
        kept = await self.bot.text_for(interaction, "til_ui.deleted_message_kept", id=post.id, url=jump_url(post) or "")
        await interaction.followup.send(kept)

    @til.command(name="repost", extras={"ko": "채널에 올리지 못한 TIL을 다시 올려요."})
    @app_commands.describe(id=locale_str("The TIL's number", ko="TIL 번호"))
    async def repost(self, interaction: discord.Interaction, id: app_commands.Range[int, 1]) -> None:
        """Publish a TIL again, e.g. after its channel was fixed."""
        assert interaction.guild_id is not None
        post = await self.service.get(interaction.guild_id, id)
        if post.author_id != interaction.user.id and not interaction.permissions.manage_messages:
            raise NotAllowed("til.not_yours")
        language = await self.bot.language_for(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._publish_and_report(interaction, language, post, done_key="til_ui.reposted")

    # --- many posts: list and search ----------------------------------------------------------------------------

    @til.command(name="list", extras={"ko": "TIL 목록을 보여줘요 (멤버를 고르면 그 사람의 것만)."})
    @app_commands.describe(user=locale_str("Only this member's TILs", ko="이 멤버의 TIL만"))
    async def list_(self, interaction: discord.Interaction, user: discord.User | None = None) -> None:
        """List TILs, newest first (optionally one member's)."""
        embed, view = await self._page(interaction, "l", 1, str(user.id) if user else "")
        await interaction.response.send_message(
            embed=embed,
            view=view or discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @til.command(name="search", extras={"ko": "TIL을 검색해요. 한국어도 낱말 일부로 찾을 수 있어요."})
    @app_commands.describe(query=locale_str("Words to find, e.g. EC2 or 인스턴스", ko="찾을 말, 예: EC2, 인스턴스"))
    async def search(
        self, interaction: discord.Interaction, query: app_commands.Range[str, 1, SEARCH_QUERY_LIMIT]
    ) -> None:
        """Search this server's TILs (Korean and English)."""
        embed, view = await self._page(interaction, "s", 1, query.strip())
        await interaction.response.send_message(
            embed=embed,
            view=view or discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def on_page(self, interaction: discord.Interaction, kind: str, page: int, arg: str) -> None:
        """A Previous/Next click: the same list or search, another page."""
        embed, view = await self._page(interaction, kind, page, arg)
        await interaction.response.edit_message(embed=embed, view=view)

    async def _page(
        self, interaction: discord.Interaction, kind: str, page: int, arg: str
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        assert interaction.guild_id is not None
        language = await self.bot.language_for(interaction)

        def text(key: str, **params: object) -> str:
            return self._text(language, key, **params)

        if kind == "s":
            hits = await self.service.search(interaction.guild_id, arg, page=max(page, 1), per_page=PER_PAGE)
            embed, pages, current = search_embed(text, arg, hits), hits.pages, hits.page
        else:
            author_id = int(arg) if arg else None
            posts = await self.service.list_posts(interaction.guild_id, author_id, page=max(page, 1), per_page=PER_PAGE)
            embed = list_embed(text, posts, whose=f"<@{author_id}>" if author_id else None)
            pages, current = posts.pages, posts.page
        view = pages_view(kind, arg, current, pages, text("til_ui.previous"), text("til_ui.next"))
        return embed, view

    # --- streaks ------------------------------------------------------------------------------------------------

    @til.command(name="streak", extras={"ko": "연속 TIL 기록과 최근 몇 달의 활동 그림을 보여줘요."})
    @app_commands.describe(user=locale_str("Whose streak (default: yours)", ko="누구의 기록 (기본: 나)"))
    async def streak(self, interaction: discord.Interaction, user: discord.User | None = None) -> None:
        """Your (or a member's) TIL streak and a heatmap of the last months."""
        assert interaction.guild_id is not None
        member = user or interaction.user
        language = await self.bot.language_for(interaction)
        await interaction.response.defer(thinking=True)
        streak = await self.service.streak(interaction.guild_id, member.id)
        activity = await self.service.activity(interaction.guild_id, member.id)
        today = await self.service.today(interaction.guild_id, member.id)
        title = self._text(language, "til_ui.heatmap_title", user=member.display_name)
        png = await render_heatmap(activity, today=today, title=title, language=language)
        embed = streak_embed(
            lambda key, **p: self._text(language, key, **p), streak, whose=member.display_name, image=HEATMAP_FILE
        )
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(png), filename=HEATMAP_FILE))

    @til.command(name="board", extras={"ko": "이 서버의 연속 TIL 순위를 보여줘요."})
    async def board(self, interaction: discord.Interaction) -> None:
        """This server's TIL streak leaders."""
        assert interaction.guild_id is not None
        await interaction.response.defer()  # the board reads every member's days
        language = await self.bot.language_for(interaction)
        leaders = await self.service.streak_board(interaction.guild_id, BOARD_SIZE)
        embed = board_embed(lambda key, **p: self._text(language, key, **p), leaders)
        await interaction.followup.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())

    # --- export and feedback ------------------------------------------------------------------------------------

    @til.command(name="export", extras={"ko": "TIL을 파일로 받아요 (Markdown 또는 JSON)."})
    @app_commands.describe(
        user=locale_str("Whose TILs (default: yours)", ko="누구의 TIL (기본: 나)"),
        fmt=locale_str("File format", ko="파일 형식"),
    )
    @app_commands.rename(fmt=locale_str("format", ko="형식"))
    @app_commands.choices(
        fmt=[
            app_commands.Choice(name="Markdown", value=ExportFormat.MARKDOWN.value),
            app_commands.Choice(name="JSON", value=ExportFormat.JSON.value),
        ]
    )
    async def export(
        self, interaction: discord.Interaction, user: discord.User | None = None, fmt: str = ExportFormat.MARKDOWN.value
    ) -> None:
        """Download TILs as Markdown (in the post's shape) or JSON."""
        assert interaction.guild_id is not None
        member = user or interaction.user
        language = await self.bot.language_for(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        posts = await posts_by(self.service, interaction.guild_id, member.id)
        exported = await asyncio.to_thread(export_posts, posts, ExportFormat(fmt), language=language)
        await interaction.followup.send(
            self._text(language, "til_ui.exported", count=len(posts), user=member.mention),
            file=discord.File(io.BytesIO(exported.data), filename=exported.filename),
            ephemeral=True,
        )

    @til.command(name="feedback", extras={"ko": "내 최근 TIL에 AI가 짧고 친절한 피드백을 줘요."})
    async def feedback(self, interaction: discord.Interaction) -> None:
        """Kind, short feedback on your latest TIL, answering what you found hard."""
        assert interaction.guild_id is not None
        service = self.services.til_feedback
        if service is None:
            raise NotConfigured()
        post = await self.service.latest(interaction.guild_id, interaction.user.id)
        if post is None:
            raise InvalidInput("til_ui.no_post_yet")
        language = await self.bot.language_for(interaction)
        ticket = await service.admit(interaction.user.id, interaction.guild_id)
        try:
            # Feedback on a member's own writing is for them: private, like a note from a study partner.
            await interaction.response.defer(thinking=True, ephemeral=True)
            stop = single_item_view(StopButton(interaction.id, self._text(language, "explain.stop")))
            sink = InteractionSink(interaction, ephemeral=True, live_view=lambda: stop)
            generation = service.feedback(ticket, post, language)
            await stream_in_turn(self.services, ticket, sink, generation, stream_id=interaction.id, language=language)
        finally:
            ticket.release()

    # --- settings -----------------------------------------------------------------------------------------------

    async def _require_moderator(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        roles = getattr(interaction.user, "roles", [])
        await self.services.quizmasters.ensure_quizmaster(
            interaction.guild_id,
            {role.id for role in roles},
            manages_guild=interaction.permissions.manage_guild,
            refusal="til_ui.moderators_only",
        )

    @til.command(name="setup", extras={"ko": "TIL을 올릴 채널(텍스트나 포럼)을 정해요 (관리자)."})
    @app_commands.describe(
        channel=locale_str("A text channel or a forum", ko="텍스트 채널이나 포럼"),
        thread_per_member=locale_str(
            "Text channel: each member's TILs in their own thread", ko="텍스트 채널: 멤버마다 자기 스레드에 모으기"
        ),
    )
    async def setup(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | discord.ForumChannel,
        thread_per_member: bool = False,
    ) -> None:
        """Choose the TIL channel: a text channel or a forum (moderators)."""
        assert interaction.guild_id is not None
        await self._require_moderator(interaction)
        if not _can_publish(channel, threads=thread_per_member, files=True):
            raise InvalidInput("til_ui.bot_cannot_post", channel=channel.mention)
        if isinstance(channel, discord.ForumChannel) and channel.flags.require_tag:
            # A TIL without one of the forum's tags would be refused there (400 40067) and never shown.
            raise InvalidInput("til_ui.forum_requires_tag", channel=channel.mention)
        per_member = thread_per_member and isinstance(channel, discord.TextChannel)
        await self.service.set_channel(interaction.guild_id, channel.id, thread_per_member=per_member)
        key = "til_ui.setup_forum" if isinstance(channel, discord.ForumChannel) else "til_ui.setup_text"
        if per_member:
            key = "til_ui.setup_threads"
        await interaction.response.send_message(
            await self.bot.text_for(interaction, key, channel=channel.mention), ephemeral=True
        )

    @til.command(name="reminder", extras={"ko": "TIL을 아직 안 올린 사람에게 알림을 보낼 시각을 정해요 (관리자)."})
    @app_commands.describe(
        time=locale_str(
            "Local time HH:MM (server's time zone), or off", ko="현지 시각 HH:MM (서버 시간대), 끄려면 off"
        ),
        role=locale_str("Role to mention in the channel", ko="채널에서 부를 역할"),
        channel=locale_str("Where the reminder is posted (default: DMs only)", ko="알림을 올릴 채널 (기본: DM만)"),
    )
    async def reminder(
        self,
        interaction: discord.Interaction,
        time: str,
        role: discord.Role | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Remind members who have not posted today, at a local time (moderators)."""
        guild_id = await self._check_schedule(interaction, channel)
        schedule = self.services.til_schedule_service
        if time.strip().casefold() == OFF:
            settings = await schedule.configure_reminder(guild_id, None)
        else:
            settings = await schedule.configure_reminder(
                guild_id, time.strip(), role.id if role else None, channel.id if channel else None
            )
        await self._scheduled(interaction, settings)

    @til.command(name="digest", extras={"ko": "매주 '이번 주에 배운 것' 요약을 올릴 요일과 시각을 정해요 (관리자)."})
    @app_commands.describe(
        weekday=locale_str("Day of the week, or off", ko="요일, 끄려면 off"),
        time=locale_str("Local time HH:MM (server's time zone)", ko="현지 시각 HH:MM (서버 시간대)"),
        channel=locale_str(
            "Where the digest is posted (default: the TIL channel)", ko="요약을 올릴 채널 (기본: TIL 채널)"
        ),
    )
    @app_commands.choices(
        weekday=[
            app_commands.Choice(name=locale_str(name.capitalize(), ko=ko), value=name)
            for name, ko in zip(WEEKDAYS, KO_WEEKDAYS, strict=True)
        ]
        + [app_commands.Choice(name=locale_str("Off", ko="끄기"), value=OFF)]
    )
    async def digest(
        self,
        interaction: discord.Interaction,
        weekday: str,
        time: str = "21:00",
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Post "what we learned this week" every week (moderators)."""
        guild_id = await self._check_schedule(interaction, channel)
        schedule = self.services.til_schedule_service
        day = None if weekday == OFF else WEEKDAYS.index(weekday)
        settings = await schedule.configure_digest(guild_id, day, time.strip(), channel.id if channel else None)
        await self._scheduled(interaction, settings)

    async def _check_schedule(self, interaction: discord.Interaction, channel: discord.TextChannel | None) -> int:
        """Before `/til reminder` or `/til digest` changes anything: a moderator, and a channel the bot can post in.
        Returns the guild's id."""
        assert interaction.guild_id is not None
        await self._require_moderator(interaction)
        if channel is not None and not _can_publish(channel, threads=False):
            raise InvalidInput("til_ui.bot_cannot_post", channel=channel.mention)
        return interaction.guild_id

    @commands.Cog.listener()
    async def on_schedules_changed(self, guild_id: int) -> None:
        """Another cog moved this guild's local times (the server's time zone changed)."""
        self.scheduler.wake()

    async def _scheduled(self, interaction: discord.Interaction, settings: TilJobSettings) -> None:
        """After: the scheduler looks again, and the moderator sees what is set now."""
        self.scheduler.wake()
        await interaction.response.send_message(await self._schedule_text(interaction, settings), ephemeral=True)

    async def _schedule_text(self, interaction: discord.Interaction, settings: TilJobSettings) -> str:
        language = await self.bot.language_for(interaction)
        lines = []
        if settings.reminder_time and settings.reminder_next_at:
            where = f"<#{settings.reminder_channel_id}>" if settings.reminder_channel_id else "DM"
            role = f" <@&{settings.reminder_role_id}>" if settings.reminder_role_id else ""
            lines.append(
                self._text(
                    language,
                    "til_ui.reminder_set",
                    time=settings.reminder_time,
                    zone=settings.timezone,
                    where=where + role,
                    next=int(settings.reminder_next_at.timestamp()),
                )
            )
        else:
            lines.append(self._text(language, "til_ui.reminder_off"))
        if settings.digest_weekday is not None and settings.digest_next_at:
            lines.append(
                self._text(
                    language,
                    "til_ui.digest_set",
                    weekday=self._text(language, f"til_ui.weekday_{settings.digest_weekday}"),
                    time=settings.digest_time,
                    zone=settings.timezone,
                    channel=f"<#{settings.digest_channel_id}>",
                    next=int(settings.digest_next_at.timestamp()),
                )
            )
        else:
            lines.append(self._text(language, "til_ui.digest_off"))
        return "\n".join(lines)

    @til.command(name="remindme", extras={"ko": "아직 TIL을 안 올린 날 DM으로 알려 줄지 정해요."})
    @app_commands.describe(choice=locale_str("on or off", ko="켜기(on) 또는 끄기(off)"))
    async def remindme(self, interaction: discord.Interaction, choice: Switch) -> None:
        """Get a DM reminder on days you have not posted a TIL yet."""
        assert interaction.guild_id is not None
        await self.service.set_reminder_dm(interaction.guild_id, interaction.user.id, choice == "on")
        await interaction.response.send_message(
            await self.bot.text_for(interaction, f"til_ui.remindme_{choice}"), ephemeral=True
        )

    @til.command(name="quiz_optout", extras={"ko": "내 TIL로 퀴즈 문제를 만들지 않게 해요."})
    @app_commands.describe(choice=locale_str("on: no quiz questions from my TILs", ko="on: 내 TIL로 문제 만들지 않기"))
    async def quiz_optout(self, interaction: discord.Interaction, choice: Switch) -> None:
        """Keep your TILs out of (or back in) the quiz questions."""
        assert interaction.guild_id is not None
        await self.service.set_quiz_opt_out(interaction.guild_id, interaction.user.id, choice == "on")
        await interaction.response.send_message(
            await self.bot.text_for(interaction, f"til_ui.quiz_optout_{choice}"), ephemeral=True
        )

    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in timezone_suggestions(current)]

    @til.command(name="timezone", extras={"ko": "내 시간대를 정해요. 연속 기록의 하루가 여기에 맞춰져요."})
    @app_commands.describe(name=locale_str("IANA time zone, e.g. Asia/Seoul", ko="IANA 시간대, 예: Asia/Seoul"))
    @app_commands.autocomplete(name=timezone_autocomplete)
    async def timezone(self, interaction: discord.Interaction, name: str) -> None:
        """Set your own time zone: your TIL days and streak follow it."""
        assert interaction.guild_id is not None
        await self.service.set_timezone(interaction.user.id, name.strip())
        today = await self.service.today(interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(
            await self.bot.text_for(interaction, "til_ui.timezone_set", zone=name.strip(), today=today.isoformat()),
            ephemeral=True,
        )


@dataclass(frozen=True)
class Form:
    """What a TIL form is for: a new post or an edit, and what to do with a valid submission (deferred)."""

    title_key: str
    placeholder_title: str
    tags: str | None
    day: Callable[[], Awaitable[date]]
    save: Callable[[discord.Interaction, TilDraft], Awaitable[None]]


def _draft(values: dict[Section, str], tags: str | None, *, day: date) -> TilDraft:
    return clean_draft(
        title=values[Section.TITLE],
        learned=values[Section.LEARNED],
        hard=values[Section.HARD],
        curious=values[Section.CURIOUS],
        reflection=values[Section.REFLECTION],
        tags=tags,
        day=day,
    )


def _can_publish(channel: discord.TextChannel | discord.ForumChannel, *, threads: bool, files: bool = False) -> bool:
    """`files`: a TIL too long for one embed is published with the whole TIL attached."""
    permissions = channel.permissions_for(channel.guild.me)
    needed = permissions.view_channel and permissions.send_messages and permissions.embed_links
    if files:
        needed = needed and permissions.attach_files
    if threads or isinstance(channel, discord.ForumChannel):
        needed = needed and permissions.send_messages_in_threads
    if isinstance(channel, discord.ForumChannel):
        needed = needed and permissions.manage_threads  # deleting a TIL deletes its forum post, a thread
    if threads:
        needed = needed and permissions.create_public_threads
    return needed
