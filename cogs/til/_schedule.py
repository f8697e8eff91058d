"""Reminders and the weekly digest on Discord: the publisher `TilScheduler` sends through.

Only a reminder's role is ever pinged (that is what a moderator asked for); DMs go to members who opted in.
"""

from __future__ import annotations

import hashlib
import logging

import discord

from bot.bot import StudyBuddy
from bot.services.til.digest import Digest, MemberWeek
from bot.services.til.model import jump_url
from bot.services.til.schedule import TilDigestPost, TilReminder
from bot.storage import TilJob
from cogs._scheduling import delivering
from cogs.til._publish import THREAD_NAME_LIMIT
from cogs.til._render import DESCRIPTION_LIMIT, FIELD_LIMIT, POST_COLOUR, Text, clip

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
MAX_LINKS_PER_MEMBER = 5
NONCE_CHARS = 25


class SchedulePublisher:
    """`bot.services.til.schedule.TilPublisher` for Discord."""

    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot

    def _text(self, language: str, key: str, **params: object) -> str:
        return self.bot.services.languages.text(language, key, **params)

    def _guild_name(self, guild_id: int) -> str:
        guild = self.bot.get_guild(guild_id)
        return guild.name if guild else str(guild_id)

    async def remind(self, reminder: TilReminder) -> None:
        language = reminder.language
        dm_text = self._text(language, "til_ui.reminder_dm", guild=self._guild_name(reminder.guild_id))
        for user_id in reminder.dm_user_ids:
            try:
                dm = await self.bot.create_dm(discord.Object(id=user_id))
                await dm.send(dm_text, nonce=_nonce(reminder.nonce, user_id), allowed_mentions=NO_PINGS)
            except discord.HTTPException as error:  # closed DMs, a member who left: skip them, remind the rest
                log.info("TIL reminder DM to %s skipped: %s", user_id, error)
        if reminder.channel_id is None:
            return
        role = f"<@&{reminder.role_id}> " if reminder.role_id is not None else ""
        mentions = (
            discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(id=reminder.role_id)])
            if reminder.role_id is not None
            else NO_PINGS
        )
        async with delivering():
            await self.bot.get_partial_messageable(reminder.channel_id).send(
                role + self._text(language, "til_ui.reminder_channel"),
                nonce=_nonce(reminder.nonce, reminder.channel_id),
                allowed_mentions=mentions,
            )

    async def post_digest(self, post: TilDigestPost[Digest]) -> int:
        def text(key: str, **params: object) -> str:
            return self._text(post.language, key, **params)

        digest = post.digest
        embed = discord.Embed(
            title=text("til_ui.digest_title", start=digest.week_start.isoformat(), end=digest.week_end.isoformat()),
            colour=POST_COLOUR,
        )
        members = [_member_line(text, member) for member in digest.members]
        if digest.text:
            embed.description = clip(digest.text, DESCRIPTION_LIMIT)
            if members:
                embed.add_field(
                    name=text("til_ui.digest_posts"), value=clip("\n".join(members), FIELD_LIMIT), inline=False
                )
        else:
            embed.description = clip("\n".join(members), DESCRIPTION_LIMIT) if members else text("til_ui.digest_empty")
        if digest.leaders:
            leaders = [text("til_ui.digest_leader", user=user_id, days=days) for user_id, days in digest.leaders]
            embed.add_field(name=text("til_ui.digest_leaders"), value="\n".join(leaders), inline=False)
        content = text("til_ui.digest_late") if post.late else None
        channel = self.bot.get_channel(post.channel_id)
        async with delivering():
            if isinstance(channel, discord.ForumChannel):  # the TIL home is a forum: the digest is a post of its own
                created = await channel.create_thread(
                    name=clip(embed.title or "", THREAD_NAME_LIMIT),
                    content=content,
                    embed=embed,
                    allowed_mentions=NO_PINGS,
                )
                return created.message.id
            message = await self.bot.get_partial_messageable(post.channel_id).send(
                content, embed=embed, nonce=post.nonce, allowed_mentions=NO_PINGS
            )
        return message.id

    async def alert(self, guild_id: int, job: TilJob, problem: str) -> None:
        """The guild's owner hears that the job was switched off; TIL jobs have no alert channel of their own."""
        guild = self.bot.get_guild(guild_id)
        if guild is None or guild.owner_id is None:
            return
        language = await self.bot.services.languages.language(guild_id, guild.preferred_locale)
        content = self._text(
            language,
            f"til_ui.alert_{job.value}",
            guild=guild.name,
            reason=self._text(language, f"til_ui.alert_reason_{problem}"),
        )
        try:
            dm = await self.bot.create_dm(discord.Object(id=guild.owner_id))
            await dm.send(content, allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            log.warning("TIL %s of guild %s: could not alert the owner (%s)", job, guild_id, error)


def _nonce(run_nonce: str, destination: int) -> str:
    """Discord checks an enforced nonce per author (the bot), not per channel: each DM and the channel post of one
    reminder need their own, the same on a retry. A digest of the run and the destination fits the 25 characters."""
    return hashlib.sha256(f"{run_nonce}:{destination}".encode()).hexdigest()[:NONCE_CHARS]


def _member_line(text: Text, member: MemberWeek) -> str:
    links = []
    for link in member.posts[:MAX_LINKS_PER_MEMBER]:
        title = discord.utils.escape_markdown(clip(link.title, 60))
        url = jump_url(link)
        links.append(f"[{title}]({url})" if url else title)
    line = text("til_ui.digest_member", user=member.user_id, days=member.days, posts=", ".join(links))
    if member.summary:
        line += "\n> " + member.summary.replace("\n", "\n> ")
    return line
