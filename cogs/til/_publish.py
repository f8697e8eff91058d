"""Putting TILs where the group reads them: the guild's TIL channel, a forum, or each member's own thread.

A TIL is saved before it is published, so a deleted channel or a lost permission never loses what a member
wrote: the failure is recorded on the post, the member is told, and `/til repost` tries again.

A TIL longer than one message is published as a preview embed with the whole TIL attached as Markdown to the
same message (a forum post's starter message); an edit replaces that file, or removes it once the post fits.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import aiohttp
import discord

from bot.bot import StudyBuddy
from bot.services.til.model import TilPost
from bot.services.til.posts import MAX_PER_PAGE, TilService
from cogs.til._render import PostMessage, clip, post_message

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
MAX_FORUM_TAGS = 5
THREAD_NAME_LIMIT = 100
WEEK_MINUTES: Literal[10080] = 10080  # a thread left alone for a week is archived, not gone
THREAD_ARCHIVED = 50083  # Discord refuses to edit or delete a message in an archived thread
GONE = {10003, 10008}  # Unknown Channel, Unknown Message
T = TypeVar("T")


class PublishFailed(Exception):
    """Why a TIL could not be shown: "channel_missing", "forbidden", "not_configured" or "unavailable"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Author:
    """Who the embed names; the members intent is off, so the caller says who wrote the post."""

    name: str
    icon: str | None = None

    @classmethod
    def of(cls, user: discord.abc.User) -> Author:
        return cls(user.display_name, user.display_avatar.url)


@contextlib.asynccontextmanager
async def _discord_answers() -> AsyncIterator[None]:
    """Discord's refusals, as reasons a member can act on."""
    try:
        yield
    except discord.NotFound as error:
        raise PublishFailed("channel_missing") from error
    except discord.Forbidden as error:
        raise PublishFailed("forbidden") from error
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
        log.warning("publishing a TIL failed: %r", error)
        raise PublishFailed("unavailable") from error


def forum_tags(forum: discord.ForumChannel, tags: tuple[str, ...]) -> list[discord.ForumTag]:
    """The forum's own tags that match the TIL's, ignoring case (a forum post takes at most five)."""
    available = {tag.name.casefold(): tag for tag in forum.available_tags}
    matched = [available[tag.casefold()] for tag in tags if tag.casefold() in available]
    return matched[:MAX_FORUM_TAGS]


class Publisher:
    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot
        self.til = bot.services.til

    async def publish(self, post: TilPost, author: Author) -> TilPost:
        """Shows the post (in place, when it is already shown); returns it as recorded.

        Raises PublishFailed once the reason is recorded on the post."""
        try:
            return await self._publish(post, author)
        except PublishFailed as failure:
            await self.til.record_publish_failed(post.id, failure.reason)
            raise

    async def _publish(self, post: TilPost, author: Author) -> TilPost:
        shown = await self.message(post, author)
        if post.published and await self._edit_in_place(post, shown):
            return post
        settings = await self.til.settings(post.guild_id)
        if settings.channel_id is None:
            raise PublishFailed("not_configured")
        guild = self.bot.get_guild(post.guild_id)
        channel = guild.get_channel(settings.channel_id) if guild else None
        async with _discord_answers():
            if isinstance(channel, discord.ForumChannel):
                created = await channel.create_thread(
                    name=clip(post.title, THREAD_NAME_LIMIT),
                    embed=shown.embed,
                    files=shown.files(),
                    applied_tags=forum_tags(channel, post.tags),
                    allowed_mentions=NO_PINGS,
                )
                await self.til.record_published(post.id, channel.id, created.message.id, created.thread.id)
            elif isinstance(channel, discord.TextChannel) and settings.thread_per_member:
                thread_id, message_id = await self._send_to_member_thread(channel, post, author, shown)
                await self.til.record_published(post.id, channel.id, message_id, thread_id)
            elif isinstance(channel, discord.TextChannel):
                message = await channel.send(embed=shown.embed, files=shown.files(), allowed_mentions=NO_PINGS)
                await self.til.record_published(post.id, channel.id, message.id, None)
            else:
                raise PublishFailed("channel_missing")
        return await self.til.get(post.guild_id, post.id)

    async def message(self, post: TilPost, author: Author, language: str | None = None) -> PostMessage:
        """The post's embed, and its Markdown file when the embed is a preview; in `language` (by default the
        guild's, as in the TIL channel)."""
        language = language or await self.language(post.guild_id)
        streak = await self.til.streak(post.guild_id, post.author_id)

        def text(key: str, **params: object) -> str:
            return self.bot.services.languages.text(language, key, **params)

        return post_message(
            text, post, author_name=author.name, author_icon=author.icon, streak=streak, language=language
        )

    async def language(self, guild_id: int) -> str:
        """Posts in the TIL channel are read by everyone: the guild's language."""
        guild = self.bot.get_guild(guild_id)
        return await self.bot.services.languages.language(guild_id, guild.preferred_locale if guild else None)

    def _is_forum_post(self, post: TilPost) -> bool:
        # A forum post's starter message shares the thread's id.
        return post.thread_id is not None and post.thread_id == post.message_id

    async def _edit_in_place(self, post: TilPost, shown: PostMessage) -> bool:
        """Edits the published message, its attachment replaced; False when it is gone (deleted message, thread
        or channel)."""
        assert post.message_id is not None
        message = self.bot.get_partial_messageable(
            post.thread_id or post.channel_id or 0, guild_id=post.guild_id
        ).get_partial_message(post.message_id)

        async def edit() -> None:
            # Files are opened anew for each attempt: a retry after reopening the thread sends them again.
            await message.edit(embed=shown.embed, attachments=shown.files(), allowed_mentions=NO_PINGS)

        try:
            async with _discord_answers():
                await self._in_open_thread(post, edit)
                if self._is_forum_post(post):
                    await self._retitle_forum_post(post)
        except PublishFailed as failure:
            if failure.reason == "channel_missing":
                return False
            raise
        return True

    async def _in_open_thread(self, post: TilPost, action: Callable[[], Awaitable[T]]) -> T:
        """Runs `action` on the post's message; once more after reopening its thread when Discord refuses because
        the thread is archived (forum posts and member threads archive themselves after a while of quiet, and only a
        new message would reopen them)."""
        try:
            return await action()
        except discord.HTTPException as error:
            if error.code != THREAD_ARCHIVED or post.thread_id is None:
                raise
        thread = await self._thread(post.guild_id, post.thread_id)
        await thread.edit(archived=False)
        return await action()

    async def _retitle_forum_post(self, post: TilPost) -> None:
        assert post.thread_id is not None
        thread = await self._thread(post.guild_id, post.thread_id)
        forum = thread.parent
        tags = forum_tags(forum, post.tags) if isinstance(forum, discord.ForumChannel) else []
        await thread.edit(name=clip(post.title, THREAD_NAME_LIMIT), applied_tags=tags)

    async def _thread(self, guild_id: int, thread_id: int) -> discord.Thread:
        guild = self.bot.get_guild(guild_id)
        cached = guild.get_thread(thread_id) if guild else None
        if cached is not None:
            return cached
        fetched = await self.bot.fetch_channel(thread_id)
        if not isinstance(fetched, discord.Thread):
            raise PublishFailed("channel_missing")
        return fetched

    async def _send_to_member_thread(
        self, channel: discord.TextChannel, post: TilPost, author: Author, shown: PostMessage
    ) -> tuple[int, int]:
        """Into the member's own thread, created on their first TIL and again if someone deleted it."""
        thread_id = await self.til.member_thread(post.guild_id, post.author_id)
        if thread_id is not None:
            try:
                message = await self.bot.get_partial_messageable(thread_id, guild_id=post.guild_id).send(
                    embed=shown.embed, files=shown.files(), allowed_mentions=NO_PINGS
                )
                return thread_id, message.id
            except discord.NotFound:
                log.info("TIL thread %s of member %s is gone; creating a new one", thread_id, post.author_id)
        language = await self.language(post.guild_id)
        name = self.bot.services.languages.text(language, "til_ui.member_thread_name", name=author.name)
        thread = await channel.create_thread(
            name=clip(name, THREAD_NAME_LIMIT),
            type=discord.ChannelType.public_thread,
            auto_archive_duration=WEEK_MINUTES,
        )
        await self.til.set_member_thread(post.guild_id, post.author_id, thread.id)
        message = await thread.send(embed=shown.embed, files=shown.files(), allowed_mentions=NO_PINGS)
        return thread.id, message.id

    async def unpublish(self, post: TilPost) -> bool:
        """Removes the published message (a forum post: its whole thread), as far as Discord lets us.

        True when it is gone (now or already); False when it is still there, e.g. for a lost permission, so the
        member can be told to remove it by hand."""
        if post.message_id is None:
            return True
        try:
            if self._is_forum_post(post):
                assert post.thread_id is not None
                # Deleting a thread needs Manage Threads, but not an open thread.
                await (await self._thread(post.guild_id, post.thread_id)).delete()
            else:
                where = self.bot.get_partial_messageable(post.thread_id or post.channel_id or 0)
                await self._in_open_thread(post, where.get_partial_message(post.message_id).delete)
        except discord.NotFound as error:
            if error.code in GONE:
                return True
            log.warning("could not remove the message of TIL %s: %r", post.id, error)
            return False
        except PublishFailed:
            return True  # the thread id names no thread any more
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            log.warning("could not remove the message of TIL %s: %r", post.id, error)
            return False
        return True


async def posts_by(service: TilService, guild_id: int, author_id: int) -> list[TilPost]:
    """Every TIL of a member in a guild, newest first."""
    posts: list[TilPost] = []
    page = 1
    while True:
        batch = await service.list_posts(guild_id, author_id, page=page, per_page=MAX_PER_PAGE)
        posts.extend(batch.items)
        if page >= batch.pages:
            return posts
        page += 1
