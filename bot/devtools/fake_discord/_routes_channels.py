"""Channel, message, thread and DM routes (the bot's own REST calls, not interaction responses)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._http import (
    BODY,
    CANNOT_MESSAGE_USER,
    MISSING_PERMISSIONS,
    NON_TEXT_CHANNEL,
    TAG_REQUIRED,
    THREAD_ARCHIVED,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    Body,
    DiscordError,
    reply,
)
from ._messages import create_message, edit_message
from ._models import GUILD_FORUM, PUBLIC_THREAD, REQUIRE_TAG, THREAD_TYPES, FakeChannel, FakeMessage

if TYPE_CHECKING:
    from ._fake import FakeDiscord

JSON = dict[str, Any]
Handler = Any
MANAGE_CHANNELS = 1 << 4
MANAGE_THREADS = 1 << 34
BAD_NAME_LENGTH = "Must be between 1 and 100 in length."


class ChannelRoutes:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.world = fake.world

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("PATCH", "/channels/{channel_id}", self.patch_channel),
            ("DELETE", "/channels/{channel_id}", self.delete_channel),
            ("GET", "/channels/{channel_id}/messages", self.list_messages),
            ("POST", "/channels/{channel_id}/messages", self.post_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.patch_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("POST", "/channels/{channel_id}/threads", self.create_thread),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.thread_from_message),
            ("POST", "/users/@me/channels", self.open_dm),
        ]

    # -- lookups that answer like Discord -------------------------------------------------------

    def channel(self, request: web.Request) -> FakeChannel:
        channel = self.world.channels.get(int(request.match_info["channel_id"]))
        if channel is None or channel.deleted:
            raise DiscordError(404, *UNKNOWN_CHANNEL)
        if not self.world.permissions_in(channel, self.world.bot_user.id) & (1 << 10):
            raise DiscordError(403, *MISSING_PERMISSIONS)
        return channel

    def message(self, request: web.Request, channel: FakeChannel) -> FakeMessage:
        message = self.world.messages.get(int(request.match_info["message_id"]))
        if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
            raise DiscordError(404, *UNKNOWN_MESSAGE)
        return message

    def require_send(self, channel: FakeChannel) -> None:
        if channel.recipient_id is not None and channel.recipient_id in self.world.dms_closed:
            raise DiscordError(403, *CANNOT_MESSAGE_USER)
        if not self.world.can_send(channel, self.world.bot_user.id):
            raise DiscordError(403, *MISSING_PERMISSIONS)

    @staticmethod
    def require_open(channel: FakeChannel) -> None:
        """Messages in an archived thread can be neither edited nor deleted until it is reopened."""
        if channel.archived:
            raise DiscordError(400, *THREAD_ARCHIVED)

    # -- handlers -------------------------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        return reply(self.world.channel_payload(channel))

    async def patch_channel(self, request: web.Request) -> web.Response:
        """Renaming a thread, changing a forum post's tags or archiving it: its creator or a member with Manage
        Threads. Reopening (``archived: false`` alone) needs only the right to send in it; an archived thread
        changes nothing else unless the same request reopens it (else 400 50083)."""
        channel = self.channel(request)
        if channel.type not in THREAD_TYPES:
            raise DiscordError(403, *MISSING_PERMISSIONS)  # channel settings are not modelled
        payload: JSON = request[BODY].json or {}
        reopening = payload.get("archived") is False
        if channel.archived and not reopening:
            raise DiscordError(400, *THREAD_ARCHIVED)
        bot_id = self.world.bot_user.id
        if reopening and set(payload) == {"archived"}:
            allowed = self.world.can_send(channel, bot_id)
        else:
            allowed = channel.owner_id == bot_id or bool(self.world.permissions_in(channel, bot_id) & MANAGE_THREADS)
        if not allowed:
            raise DiscordError(403, *MISSING_PERMISSIONS)
        if "archived" in payload:
            channel.archived = bool(payload["archived"])
        if "name" in payload:
            channel.name = _thread_name(payload)
        if "applied_tags" in payload:
            assert channel.parent is not None
            channel.applied_tag_ids = _forum_tags(channel.parent, payload)
        self.fake.gateway.dispatch("THREAD_UPDATE", self.world.channel_payload(channel))
        return reply(self.world.channel_payload(channel))

    async def delete_channel(self, request: web.Request) -> web.Response:
        """Deleting a thread needs Manage Threads, any other channel Manage Channels."""
        channel = self.channel(request)
        needed = MANAGE_THREADS if channel.type in THREAD_TYPES else MANAGE_CHANNELS
        if not self.world.permissions_in(channel, self.world.bot_user.id) & needed:
            raise DiscordError(403, *MISSING_PERMISSIONS)
        self.fake.delete_channel(channel)
        return reply(self.world.channel_payload(channel))

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        limit = min(int(request.query.get("limit", 50)), 100)
        before, after = request.query.get("before"), request.query.get("after")
        visible = [m for m in channel.messages if not m.ephemeral]
        if before:
            visible = [m for m in visible if m.id < int(before)]
        if after:
            visible = [m for m in visible if m.id > int(after)]
            visible = visible[:limit]
        newest_first = list(reversed(visible))[:limit]
        return reply([self.world.message_payload(m) for m in newest_first])

    async def post_message(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        if channel.type == GUILD_FORUM:  # a forum holds posts (threads), not messages
            raise DiscordError(400, *NON_TEXT_CHANNEL)
        self.require_send(channel)
        body: Body = request[BODY]
        message = create_message(self.fake, channel, self.world.bot_user.id, body, accepts_nonce=True)
        self.fake.reopen_thread(channel)  # sending is what reopens an archived thread
        return reply(self.world.message_payload(message, with_nonce=True))

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        return reply(self.world.message_payload(self.message(request, channel)))

    async def patch_message(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        message = self.message(request, channel)
        self.require_open(channel)
        self.require_send(channel)
        if message.author_id != self.world.bot_user.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        edit_message(self.fake, message, request[BODY])
        return reply(self.world.message_payload(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        message = self.message(request, channel)
        self.require_open(channel)
        self.fake.delete_message(message)
        return reply(None, 204)

    async def typing(self, request: web.Request) -> web.Response:
        self.require_send(self.channel(request))
        return reply(None, 204)

    async def create_thread(self, request: web.Request) -> web.Response:
        """A forum post (``{name, applied_tags, message}``) or a thread without a starter message."""
        parent = self.channel(request)
        payload: JSON = request[BODY].json or {}
        if parent.type == GUILD_FORUM:
            return await self._forum_post(request, parent, payload)
        self.require_send(parent)
        thread = self._new_thread(parent, payload, thread_type=int(payload.get("type") or PUBLIC_THREAD))
        return reply(self.world.channel_payload(thread))

    async def _forum_post(self, request: web.Request, forum: FakeChannel, payload: JSON) -> web.Response:
        self.require_send(forum)
        tags = _forum_tags(forum, payload)
        if forum.flags & REQUIRE_TAG and not tags:
            raise DiscordError(400, *TAG_REQUIRED)
        thread = self._new_thread(forum, payload, thread_type=PUBLIC_THREAD)
        thread.applied_tag_ids = tags
        body: Body = request[BODY]
        starter = Body(json=payload.get("message") or {}, files=body.files)
        # A forum post's starter message shares the thread's id.
        message = create_message(self.fake, thread, self.world.bot_user.id, starter, message_id=thread.id)
        message.thread_id = thread.id
        result = self.world.channel_payload(thread)
        result["message"] = self.world.message_payload(message)
        return reply(result, 201)

    async def thread_from_message(self, request: web.Request) -> web.Response:
        parent = self.channel(request)
        message = self.message(request, parent)
        if message.thread_id is not None:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        payload: JSON = request[BODY].json or {}
        thread = self._new_thread(parent, payload, thread_type=PUBLIC_THREAD, thread_id=message.id)
        message.thread_id = thread.id
        return reply(self.world.channel_payload(thread), 201)

    def _new_thread(
        self, parent: FakeChannel, payload: JSON, *, thread_type: int, thread_id: int | None = None
    ) -> FakeChannel:
        thread = FakeChannel(
            id=thread_id or self.world.snowflake(),
            name=_thread_name(payload),
            type=thread_type if thread_type in THREAD_TYPES else PUBLIC_THREAD,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=self.world.bot_user.id,
            parent=parent,
        )
        self.world.register_channel(thread)
        self.fake.gateway.dispatch("THREAD_CREATE", self.world.channel_payload(thread) | {"newly_created": True})
        return thread

    async def open_dm(self, request: web.Request) -> web.Response:
        payload: JSON = request[BODY].json or {}
        user = self.world.users.get(int(payload.get("recipient_id", 0)))
        if user is None:
            raise DiscordError(400, 50033, "Invalid Recipient(s)")
        return reply(self.world.channel_payload(self.world.dm_channel(user)))


def _thread_name(payload: JSON) -> str:
    name = str(payload.get("name") or "")
    if not 1 <= len(name) <= 100:
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": BAD_NAME_LENGTH}]}},
        )
    return name


def _forum_tags(forum: FakeChannel, payload: JSON) -> list[int]:
    """A forum post's tags: at most five, each one of the forum's own."""
    known = {int(tag["id"]) for tag in forum.available_tags}
    tags = [int(tag) for tag in payload.get("applied_tags") or []]
    if any(tag not in known for tag in tags) or len(tags) > 5:
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            {"applied_tags": {"_errors": [{"code": "INVALID_TAG", "message": "Invalid tag"}]}},
        )
    return tags
