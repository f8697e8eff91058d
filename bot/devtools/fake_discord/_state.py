"""The world model: who is where, what was said, and the payloads Discord would send about it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from ._models import (
    DM,
    EPHEMERAL,
    GUILD_FORUM,
    THREAD_TYPES,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeRole,
    FakeUser,
)

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions)
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1
DEFAULT_EVERYONE = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_MESSAGES_IN_THREADS
    | (1 << 6)  # add reactions
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 18)  # use external emojis
    | (1 << 31)  # use application commands
    | (1 << 35)  # create public threads
)
DEFAULT_BOT = DEFAULT_EVERYONE | (1 << 13) | (1 << 34)  # + manage messages, manage threads
# What ``deny()`` takes away, as a member overwrite on the channel.
DENIED = VIEW_CHANNEL | SEND_MESSAGES | SEND_MESSAGES_IN_THREADS
MEMBER_OVERWRITE = 1
# How long Discord remembers an enforced nonce ("the past few minutes").
NONCE_WINDOW_S = 5 * 60.0


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


# 2025-01-01 00:00 UTC: the timestamp part of `World.stable_ids` ids.
STABLE_IDS_MS = 1_735_689_600_000 - DISCORD_EPOCH_MS


class World:
    """Guilds, channels, users and messages, plus a condition notified on every message change."""

    def __init__(self, *, bot_name: str = "StudyBuddy", bot_permissions: int = DEFAULT_BOT) -> None:
        self._counter = itertools.count()
        self._stable_ids = itertools.count(1)
        self._stable_counter: Iterator[int] | None = None
        self.application_id = self.snowflake()
        self.bot_user = FakeUser(self.snowflake(), bot_name, bot=True)
        self.app_owner = FakeUser(self.snowflake(), "app-owner")
        self.bot_permissions = bot_permissions
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.denied: dict[int, set[int]] = {}  # channel id -> members with a deny overwrite (view/send)
        self.dms_closed: set[int] = set()  # users who do not accept DMs from the bot
        self.attachments: dict[int, bytes] = {}  # uploaded by users, served like Discord's CDN
        self.cdn_base = ""  # set at start: attachment URLs point back at this fake
        self._waiters: list[tuple[Callable[[FakeMessage], bool], asyncio.Future[FakeMessage]]] = []
        self._dms: dict[int, FakeChannel] = {}  # recipient id -> the bot's DM channel with them
        self.nonce_window_s = NONCE_WINDOW_S
        # (author id, nonce) -> (monotonic time, message), oldest first: ``enforce_nonce`` deduplication.
        self._nonces: dict[tuple[int, str], tuple[float, FakeMessage]] = {}

    def snowflake(self) -> int:
        """Increasing ids with a real timestamp part, like Discord's (a fixed one inside `stable_ids`)."""
        if self._stable_counter is not None:
            return (STABLE_IDS_MS << 22) | next(self._stable_counter)
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (millis << 22) | (next(self._counter) & 0x3FFFFF)

    @contextlib.contextmanager
    def stable_ids(self) -> Iterator[None]:
        """What is built inside gets the same ids on every run, so a database kept between runs (the playground's
        `--db`) finds its guild, channels and members again. Ids made later stay time-based, like Discord's."""
        self._stable_counter = self._stable_ids
        try:
            yield
        finally:
            self._stable_counter = None

    # -- building the world -------------------------------------------------------------------

    def add_guild(self, name: str, *, locale: str = "en-US") -> FakeGuild:
        owner = FakeUser(self.snowflake(), f"{name} owner")
        self.users[owner.id] = owner
        guild = FakeGuild(self.snowflake(), name, owner.id, locale=locale, joined_at=now_iso())
        guild.roles.append(FakeRole(guild.id, "@everyone", guild.id, DEFAULT_EVERYONE, position=0))
        self.guilds[guild.id] = guild
        bot_role = FakeRole(self.snowflake(), self.bot_user.name, guild.id, self.bot_permissions, managed=True)
        guild.roles.append(bot_role)
        guild.member_roles[owner.id] = []
        guild.member_roles[self.bot_user.id] = [bot_role.id]
        return guild

    def add_role(self, guild: FakeGuild, name: str, permissions: int = 0) -> FakeRole:
        role = FakeRole(self.snowflake(), name, guild.id, permissions, position=len(guild.roles))
        guild.roles.append(role)
        return role

    def add_user(self, name: str, *, locale: str = "en-US") -> FakeUser:
        user = FakeUser(self.snowflake(), name, locale=locale)
        self.users[user.id] = user
        return user

    def add_member(self, guild: FakeGuild, user: FakeUser, roles: list[FakeRole]) -> None:
        guild.member_roles[user.id] = [role.id for role in roles]

    def add_channel(self, guild: FakeGuild | None, name: str, type_: int, **extra: Any) -> FakeChannel:
        position = len(guild.channels) if guild else 0
        channel = FakeChannel(self.snowflake(), name, type_, guild.id if guild else None, position=position, **extra)
        return self.register_channel(channel)

    def register_channel(self, channel: FakeChannel) -> FakeChannel:
        """Index a new channel or thread by id, and under its guild (so GUILD_CREATE needs no scan)."""
        self.channels[channel.id] = channel
        if channel.guild_id is not None:
            self.guilds[channel.guild_id].channels.append(channel)
        elif channel.type == DM and channel.recipient_id is not None:
            self._dms[channel.recipient_id] = channel
        return channel

    def forum_tags(self, names: list[str]) -> list[JSON]:
        return [
            {"id": str(self.snowflake()), "name": tag, "moderated": False, "emoji_id": None, "emoji_name": None}
            for tag in names
        ]

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The bot's DM channel with ``user``, created on first use (like POST /users/@me/channels)."""
        return self._dms.get(user.id) or self.add_channel(None, "", DM, recipient_id=user.id)

    # -- permissions ----------------------------------------------------------------------------

    def base_permissions(self, guild: FakeGuild, user_id: int) -> int:
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        role_ids = {guild.id, *guild.member_roles.get(user_id, [])}
        value = 0
        for role in guild.roles:
            if role.id in role_ids:
                value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def permissions_in(self, channel: FakeChannel, user_id: int) -> int:
        """The member's permissions in a channel after its overwrites (``deny()``); everything in DMs.

        As on Discord, the guild owner and administrators are not affected by overwrites, and a thread
        follows its parent channel.
        """
        if channel.guild_id is None:
            return VIEW_CHANNEL | SEND_MESSAGES | (1 << 14) | (1 << 15) | (1 << 16)
        value = self.base_permissions(self.guilds[channel.guild_id], user_id)
        if value == ALL_PERMISSIONS:
            return value
        if self.is_denied(channel, user_id) or (channel.parent is not None and self.is_denied(channel.parent, user_id)):
            value &= ~DENIED
        return value

    def is_denied(self, channel: FakeChannel, user_id: int) -> bool:
        return user_id in self.denied.get(channel.id, ())

    def deny(self, channel: FakeChannel, user_id: int) -> bool:
        """Give ``user_id`` a member overwrite denying view/send in ``channel``; False if it already had one."""
        members = self.denied.setdefault(channel.id, set())
        if user_id in members:
            return False
        members.add(user_id)
        return True

    def allow(self, channel: FakeChannel, user_id: int) -> bool:
        """Remove that overwrite; False if there was none."""
        members = self.denied.get(channel.id)
        if not members or user_id not in members:
            return False
        members.discard(user_id)
        if not members:
            del self.denied[channel.id]
        return True

    def permission_overwrites(self, channel: FakeChannel) -> list[JSON]:
        """The channel's overwrites as Discord sends them: one member overwrite per denied member."""
        return [
            {"id": str(user_id), "type": MEMBER_OVERWRITE, "allow": "0", "deny": str(DENIED)}
            for user_id in sorted(self.denied.get(channel.id, ()))
        ]

    def can_send(self, channel: FakeChannel, user_id: int) -> bool:
        perms = self.permissions_in(channel, user_id)
        needed = SEND_MESSAGES_IN_THREADS if channel.type in THREAD_TYPES else SEND_MESSAGES
        return bool(perms & VIEW_CHANNEL and perms & needed)

    # -- messages -------------------------------------------------------------------------------

    def store_message(self, message: FakeMessage) -> FakeMessage:
        channel = self.channels[message.channel_id]
        message.guild_id = channel.guild_id
        message.timestamp = message.timestamp or now_iso()
        channel.all_messages.append(message)
        self.messages[message.id] = message
        self._changed(message)
        return message

    def edit_message(self, message: FakeMessage, changes: JSON, attachments: list[JSON] | None) -> None:
        """Apply the fields present in ``changes`` and remember the previous content."""
        message.edits.append(message.content)
        message.edit_times.append(time.monotonic())
        message.edited_timestamp = now_iso()
        if "content" in changes:
            message.content = changes["content"] or ""
        for key in ("embeds", "components"):
            if key in changes:
                setattr(message, key, list(changes[key] or []))
        if "flags" in changes and changes["flags"] is not None:
            message.flags = (message.flags & EPHEMERAL) | (int(changes["flags"]) & ~EPHEMERAL)
        if "allowed_mentions" in changes:
            message.allowed_mentions = changes["allowed_mentions"]
        if attachments is not None:
            message.attachments = attachments
        self._changed(message)

    def delete_message(self, message: FakeMessage) -> None:
        message.deleted = True
        self._changed(message)

    # -- nonces -------------------------------------------------------------------------------

    def message_for_nonce(self, author_id: int, nonce: str | int) -> FakeMessage | None:
        """The message ``author_id`` created with ``nonce`` within the window, if it still exists."""
        self._forget_old_nonces()
        found = self._nonces.get((author_id, str(nonce)))
        return found[1] if found is not None and not found[1].deleted else None

    def remember_nonce(self, author_id: int, nonce: str | int, message: FakeMessage) -> None:
        key = (author_id, str(nonce))
        self._nonces.pop(key, None)  # re-inserted at the end: the dict stays oldest first
        self._nonces[key] = (time.monotonic(), message)

    def _forget_old_nonces(self) -> None:
        oldest_kept = time.monotonic() - self.nonce_window_s
        while self._nonces:
            key, (at, _) = next(iter(self._nonces.items()))
            if at > oldest_kept:
                break
            del self._nonces[key]

    def _changed(self, message: FakeMessage) -> None:
        if message.deleted:
            return
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(message):
                future.set_result(message)

    async def wait_for_message(self, predicate: Callable[[FakeMessage], bool], timeout: float) -> FakeMessage:  # noqa: ASYNC109 - public API
        """The first existing message matching ``predicate``, or the next one created or edited to match."""
        for message in self.messages.values():
            if not message.deleted and predicate(message):
                return message
        future: asyncio.Future[FakeMessage] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"no message matched within {timeout}s") from None
        finally:
            self._waiters.remove(entry)

    # -- payloads -------------------------------------------------------------------------------

    def member_payload(self, guild: FakeGuild, user: FakeUser, *, with_permissions: JSON | None = None) -> JSON:
        payload: JSON = {
            "user": user.payload(),
            "roles": [str(role_id) for role_id in guild.member_roles.get(user.id, [])],
            "joined_at": guild.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "nick": None,
            "avatar": None,
            "banner": None,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_permissions is not None:
            payload.update(with_permissions)
        return payload

    def channel_payload(self, channel: FakeChannel, *, for_user: int | None = None) -> JSON:
        if channel.type == DM:
            return {
                "id": str(channel.id),
                "type": DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.users[channel.recipient_id].payload()] if channel.recipient_id else [],
            }
        payload: JSON = {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": self.permission_overwrites(channel),
            "parent_id": str(channel.parent_id) if channel.parent_id else None,
            "nsfw": False,
            "topic": channel.topic,
            "last_message_id": str(channel.all_messages[-1].id) if channel.all_messages else None,
            "rate_limit_per_user": 0,
            "flags": channel.flags,
        }
        if channel.type == GUILD_FORUM:
            payload |= {
                "available_tags": channel.available_tags,
                "default_reaction_emoji": None,
                "default_thread_rate_limit_per_user": 0,
                "default_sort_order": None,
                "default_forum_layout": 0,
                "default_auto_archive_duration": 1440,
            }
        if channel.type in THREAD_TYPES:
            payload |= {
                "owner_id": str(channel.owner_id),
                "applied_tags": [str(tag) for tag in channel.applied_tag_ids],
                "message_count": len(channel.all_messages),
                "member_count": 1,
                "total_message_sent": len(channel.all_messages),
                "thread_metadata": {
                    "archived": channel.archived,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": now_iso(),
                    "locked": False,
                },
            }
        if for_user is not None:
            payload["permissions"] = str(self.permissions_in(channel, for_user))
        return payload

    def message_payload(self, message: FakeMessage, *, with_nonce: bool = False) -> JSON:
        """The message object; ``with_nonce`` for the create response and MESSAGE_CREATE, which echo it."""
        author = self.users[message.author_id]
        payload: JSON = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": author.payload(),
            "content": message.content,
            "timestamp": message.timestamp,
            "edited_timestamp": message.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [self._attachment_payload(item) for item in message.attachments],
            "embeds": message.embeds,
            "components": message.components,
            "pinned": False,
            "type": message.message_type,
            "flags": message.flags,
        }
        if with_nonce and message.nonce is not None:
            payload["nonce"] = message.nonce
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(message.webhook_id)
        if message.interaction_metadata is not None:
            payload["interaction_metadata"] = message.interaction_metadata
        if message.message_reference is not None:
            payload["message_reference"] = message.message_reference
        if message.thread_id is not None and message.thread_id in self.channels:
            payload["thread"] = self.channel_payload(self.channels[message.thread_id])
        return payload

    @staticmethod
    def _attachment_payload(item: JSON) -> JSON:
        return {key: value for key, value in item.items() if key != "data"}

    def guild_members(self, guild: FakeGuild, *, all_members: bool) -> list[JSON]:
        """Every member with the members intent; otherwise just the bot, as Discord sends them."""
        member_ids = list(guild.member_roles) if all_members else [self.bot_user.id]
        return [self.member_payload(guild, self.users[uid]) for uid in member_ids]

    def guild_payload(self, guild: FakeGuild, *, all_members: bool) -> JSON:
        """A GUILD_CREATE body: enough for discord.py to build the Guild, its roles, channels and members."""
        channels = [c for c in guild.channels if not c.deleted]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(guild.owner_id),
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": guild.locale,
            "features": [],
            "system_channel_flags": 0,
            "emojis": [],
            "stickers": [],
            "roles": [role.payload() for role in guild.roles],
            "channels": [self.channel_payload(c) for c in channels if c.type not in THREAD_TYPES],
            # Like Discord, GUILD_CREATE lists the active threads only.
            "threads": [self.channel_payload(c) for c in channels if c.type in THREAD_TYPES and not c.archived],
            "members": self.guild_members(guild, all_members=all_members),
            "member_count": len(guild.member_roles),
            "large": False,
            "unavailable": False,
            "joined_at": guild.joined_at,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def application_payload(self) -> JSON:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.name,
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.app_owner.payload(),
            "verify_key": "0" * 64,
            "team": None,
            "flags": 0,
            "bot": self.bot_user.payload(),
            "summary": "",
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.guilds),
        }
