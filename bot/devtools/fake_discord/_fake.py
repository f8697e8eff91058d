"""``FakeDiscord``: the world, a loopback REST + gateway server, and the user-side actions."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import yarl
from aiohttp import web

from ._builder import InteractionBuilder
from ._commands import FakeDiscordUsageError
from ._gateway import GUILD_MEMBERS_INTENT, Gateway, Session
from ._interaction import FakeInteraction
from ._limits import iter_text_inputs
from ._messages import announce
from ._models import (
    DM,
    GUILD_FORUM,
    GUILD_TEXT,
    REQUIRE_TAG,
    THREAD_TYPES,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeRole,
    FakeUser,
    RecordedRequest,
    iter_components,
)
from ._ratelimit import Clock, FixedWindowLimiter, RateLimitPolicy
from ._rest import FailRule, RestServer
from ._state import DEFAULT_BOT, World

JSON = dict[str, Any]
ChannelRef = FakeChannel | int


class FakeDiscord:
    """A faithful-enough Discord for the real discord.py client, on 127.0.0.1."""

    def __init__(
        self,
        ack_deadline_s: float = 3.0,
        *,
        token_ttl_s: float = 15 * 60,
        message_limit: int = 5,
        message_per: float = 5.0,
        webhook_limit: int = 5,
        webhook_per: float = 2.0,
        global_limit: int = 50,
        global_per: float = 1.0,
        default_limit: int = 50,
        default_per: float = 1.0,
        send_ratelimit_headers: bool = True,
        bot_name: str = "StudyBuddy",
        bot_permissions: int = DEFAULT_BOT,
        clock: Clock = time.monotonic,
    ) -> None:
        self.ack_deadline_s = ack_deadline_s
        self.token_ttl_s = token_ttl_s
        self.world = World(bot_name=bot_name, bot_permissions=bot_permissions)
        # Shaped like a real bot token: base64 user id, timestamp and HMAC, separated by dots.
        self.bot_token = f"ZmFrZQ.{secrets.token_urlsafe(6)}.{secrets.token_urlsafe(27)}"
        policy = RateLimitPolicy(
            message_limit, message_per, webhook_limit, webhook_per, default_limit, default_per, global_limit, global_per
        )
        self.limiter = FixedWindowLimiter(clock)
        self.rest = RestServer(self, policy, send_ratelimit_headers=send_ratelimit_headers)
        self.gateway = Gateway(
            token=self.bot_token,
            ready_payload=self._ready_payload,
            guild_payloads=self._guild_payloads,
            guild_members=self._guild_members,
            url=lambda: self.gateway_url,
        )
        self._commands: dict[int | None, list[JSON]] = {}
        self._builder = InteractionBuilder(self.world, self._commands)
        self._synced = asyncio.Event()
        self.sync_count = 0
        self.interactions: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.requests: list[RecordedRequest] = []
        self.count_429 = 0
        self.global_429 = 0
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._saved: tuple[str, yarl.URL] | None = None

    # -- identity -------------------------------------------------------------------------------

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user(self) -> FakeUser:
        return self.world.bot_user

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = self.rest.build_app(self.gateway.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self.world.cdn_base = f"http://127.0.0.1:{self._port}"

    async def stop(self) -> None:
        self.uninstall()
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self.install()
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.stop()

    def install(self) -> None:
        """Point discord.py's REST base and default gateway at this server."""
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        if self._saved is None:
            self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        Route.BASE = self.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def uninstall(self) -> None:
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        if self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    async def wait_ready(self, timeout: float = 5) -> None:  # noqa: ASYNC109 - public API
        await asyncio.wait_for(self.gateway.ready.wait(), timeout)

    async def wait_synced(self, timeout: float = 5) -> None:  # noqa: ASYNC109 - public API
        await asyncio.wait_for(self._synced.wait(), timeout)

    # -- building the world ---------------------------------------------------------------------

    def add_guild(self, name: str, *, locale: str = "en-US") -> FakeGuild:
        guild = self.world.add_guild(name, locale=locale)
        self._dispatch_if_live("GUILD_CREATE", lambda s: self._guild_payload(guild, s))
        return guild

    def add_text_channel(self, guild: FakeGuild, name: str, *, topic: str | None = None) -> FakeChannel:
        channel = self.world.add_channel(guild, name, GUILD_TEXT, topic=topic)
        self._dispatch_if_live("CHANNEL_CREATE", self.world.channel_payload(channel))
        return channel

    def add_forum_channel(
        self, guild: FakeGuild, name: str, *, tags: list[str] | None = None, require_tag: bool = False
    ) -> FakeChannel:
        """A forum; with ``require_tag`` a post without one of its tags is refused (400 40067)."""
        available = self.world.forum_tags(tags or [])
        flags = REQUIRE_TAG if require_tag else 0
        channel = self.world.add_channel(guild, name, GUILD_FORUM, available_tags=available, flags=flags)
        self._dispatch_if_live("CHANNEL_CREATE", self.world.channel_payload(channel))
        return channel

    def add_role(self, guild: FakeGuild, name: str, permissions: int = 0) -> FakeRole:
        role = self.world.add_role(guild, name, permissions)
        self._dispatch_if_live("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()})
        return role

    def add_member(
        self, guild: FakeGuild, user: str | FakeUser, *, roles: list[FakeRole] | None = None, locale: str = "en-US"
    ) -> FakeUser:
        """A new user (by name) or an existing one joins ``guild`` with ``roles``."""
        member = user if isinstance(user, FakeUser) else self.world.add_user(user, locale=locale)
        self.world.add_member(guild, member, roles or [])

        def payload(session: Session) -> JSON | None:
            if not session.has_intent(GUILD_MEMBERS_INTENT):
                return None
            return self.world.member_payload(guild, member) | {"guild_id": str(guild.id)}

        self._dispatch_if_live("GUILD_MEMBER_ADD", payload)
        return member

    def _dispatch_if_live(self, event: str, data: JSON | Callable[[Session], JSON | None]) -> None:
        if self.gateway.live:
            self.gateway.dispatch(event, data)

    # -- gateway payloads -----------------------------------------------------------------------

    def _ready_payload(self, session: Session) -> JSON:
        return {
            "v": 10,
            "user": self.bot_user.payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.world.guilds.values()],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "shard": session.shard,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "_trace": ["fake-discord"],
        }

    def _guild_payload(self, guild: FakeGuild, session: Session) -> JSON:
        return self.world.guild_payload(guild, all_members=session.has_intent(GUILD_MEMBERS_INTENT))

    def _guild_payloads(self, session: Session) -> list[JSON]:
        return [self._guild_payload(guild, session) for guild in self.world.guilds.values()]

    def _guild_members(self, session: Session, guild_id: int) -> list[JSON] | None:
        """REQUEST_GUILD_MEMBERS: the members that session's GUILD_CREATE would list, or None."""
        guild = self.world.guilds.get(guild_id)
        if guild is None:
            return None
        return self.world.guild_members(guild, all_members=session.has_intent(GUILD_MEMBERS_INTENT))

    # -- commands -------------------------------------------------------------------------------

    def commands(self, guild_id: int | FakeGuild | None = None) -> list[JSON]:
        """The commands last synced globally (None) or to a guild, as Discord stores them."""
        key = guild_id.id if isinstance(guild_id, FakeGuild) else guild_id
        return list(self._commands.get(key, []))

    def store_commands(self, scope: int | None, commands: list[JSON]) -> None:
        self._commands[scope] = commands
        self.sync_count += 1
        self._synced.set()

    # -- interactions ---------------------------------------------------------------------------

    async def slash(
        self, user: FakeUser, channel: ChannelRef, command: str, /, *, locale: str | None = None, **options: Any
    ) -> FakeInteraction:
        """Use ``/command`` ("group sub" for sub-commands) with option values by name."""
        target = self._channel(channel)
        return await self._dispatch(self._builder.slash(user, target, command, options, locale), user, target)

    async def slash_dm(
        self, user: FakeUser, command: str, /, *, locale: str | None = None, **options: Any
    ) -> FakeInteraction:
        target = self.world.dm_channel(user)
        return await self._dispatch(self._builder.slash(user, target, command, options, locale), user, target)

    async def message_command(
        self, user: FakeUser, channel: ChannelRef, name: str, *, target: FakeMessage, locale: str | None = None
    ) -> FakeInteraction:
        where = self._channel(channel)
        return await self._dispatch(self._builder.message_command(user, where, name, target, locale), user, where)

    async def click(
        self, user: FakeUser, message: FakeMessage, button: str | int, *, locale: str | None = None
    ) -> FakeInteraction:
        """Press a button found by label, custom_id, or 0-based index among the message's buttons."""
        buttons = [item for item in _components(message) if item.get("type") == 2]
        found = _pick(buttons, button, keys=("label", "custom_id"))
        if found is None:
            raise FakeDiscordUsageError(f"no button {button!r} on message {message.id}; buttons: {message.buttons}")
        if found.get("disabled"):
            raise FakeDiscordUsageError(f"button {button!r} is disabled")
        if "custom_id" not in found:
            raise FakeDiscordUsageError(f"button {button!r} is a link button")
        payload = self._builder.component(user, message, found, None, locale)
        return await self._dispatch(payload, user, self._channel(message.channel_id), source=message)

    async def select(
        self, user: FakeUser, message: FakeMessage, select: str | int, *, values: list[str], locale: str | None = None
    ) -> FakeInteraction:
        selects = message.selects
        found = _pick(selects, select, keys=("custom_id",))
        if found is None:
            raise FakeDiscordUsageError(f"no select {select!r} on message {message.id}")
        if found.get("disabled"):
            raise FakeDiscordUsageError(f"select {select!r} is disabled")
        low, high = found.get("min_values", 1), found.get("max_values", 1)
        if not low <= len(values) <= high:
            raise FakeDiscordUsageError(f"select {select!r} takes {low}..{high} values, got {len(values)}")
        options = [option["value"] for option in found.get("options") or []]
        if found["type"] == 3 and any(value not in options for value in values):
            raise FakeDiscordUsageError(f"select {select!r}: {values} not among {options}")
        payload = self._builder.component(user, message, found, values, locale)
        return await self._dispatch(payload, user, self._channel(message.channel_id), source=message)

    async def submit_modal(
        self, user: FakeUser, opened_by: FakeInteraction, values: Mapping[str, str], *, locale: str | None = None
    ) -> FakeInteraction:
        """Fill the modal the bot answered ``opened_by`` with; fields by custom_id or label (others keep their
        prefilled ``value``)."""
        modal = opened_by.modal
        if modal is None:
            raise FakeDiscordUsageError(f"interaction {opened_by.id} did not open a modal")
        components, used = [], set()
        for top in modal.get("components") or []:
            entries = []
            for _, text_input in iter_text_inputs(top):
                label = text_input.get("label") or top.get("label")
                key = next((k for k in (text_input["custom_id"], label) if k in values), None)
                # A field the user leaves alone is submitted with the text it was prefilled with, as on Discord.
                value = values[key] if key is not None else str(text_input.get("value") or "")
                if key is not None:
                    used.add(key)
                _check_text_input(text_input, label, value)
                entries.append({"type": 4, "custom_id": text_input["custom_id"], "value": value})
            if top.get("type") == 18 and entries:
                components.append({"type": 18, "component": entries[0]})
            elif entries:
                components.append({"type": 1, "components": entries})
        unknown = set(values) - used
        if unknown:
            raise FakeDiscordUsageError(f"modal {modal.get('title')!r} has no field(s) {sorted(unknown)}")
        payload = self._builder.modal_submit(user, opened_by.channel, modal, components, locale)
        if opened_by.source_message is not None:
            payload["message"] = self.world.message_payload(opened_by.source_message)
        return await self._dispatch(payload, user, opened_by.channel, source=opened_by.source_message)

    async def _dispatch(
        self, payload: JSON, user: FakeUser, channel: FakeChannel, source: FakeMessage | None = None
    ) -> FakeInteraction:
        ix = FakeInteraction(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            user=user,
            channel=channel,
            payload=payload,
            ack_deadline_s=self.ack_deadline_s,
            token_ttl_s=self.token_ttl_s,
            source_message=source,
            dispatched_at=time.monotonic(),
        )
        self.interactions[ix.id] = ix
        self.interactions_by_token[ix.token] = ix
        sent = self.gateway.dispatch("INTERACTION_CREATE", payload)
        if not sent:
            raise FakeDiscordUsageError("the bot is not connected to the fake gateway")
        sent_at = await sent[0]
        if ix.ack_type is None and ix.ack_error is None:
            ix.dispatched_at = sent_at
        return ix

    def touch_interaction(self, params: Mapping[str, str]) -> None:
        token = params.get("token")
        ix = self.interactions_by_token.get(token) if token else None
        if ix is not None:
            ix.touch()

    # -- users talking --------------------------------------------------------------------------

    async def dm(self, user: FakeUser, content: str) -> FakeMessage:
        """``user`` writes to the bot in their DM channel (MESSAGE_CREATE carries content without the intent)."""
        return self._user_message(user, self.world.dm_channel(user), content)

    async def post_message(
        self, user: FakeUser, channel: ChannelRef, content: str, *, embeds: list[JSON] | None = None
    ) -> FakeMessage:
        target = self._channel(channel)
        if target.guild_id is not None and user.id not in self.world.guilds[target.guild_id].member_roles:
            raise FakeDiscordUsageError(f"{user.name} is not a member of this channel's guild")
        return self._user_message(user, target, content, embeds)

    def _user_message(
        self, user: FakeUser, channel: FakeChannel, content: str, embeds: list[JSON] | None = None
    ) -> FakeMessage:
        message = FakeMessage(self.world.snowflake(), channel.id, user.id, content=content, embeds=embeds or [])
        self.world.store_message(message)
        announce(self, message, "MESSAGE_CREATE")
        self.reopen_thread(channel)
        return message

    # -- world queries and manipulation ---------------------------------------------------------

    def _channel(self, channel: ChannelRef) -> FakeChannel:
        found = self.world.channels.get(channel if isinstance(channel, int) else channel.id)
        if found is None:
            raise FakeDiscordUsageError(f"unknown channel {channel!r}")
        return found

    def channel_messages(self, channel: ChannelRef) -> list[FakeMessage]:
        """Messages in the channel, oldest first; deleted ones left out, ephemeral ones included."""
        return self._channel(channel).messages

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        return self.world.dm_channel(user)

    def threads(self, channel: ChannelRef) -> list[FakeChannel]:
        parent = self._channel(channel)
        if parent.guild_id is None:
            return []
        siblings = self.world.guilds[parent.guild_id].channels
        return [c for c in siblings if c.parent_id == parent.id and not c.deleted]

    async def wait_for_message(self, predicate: Callable[[FakeMessage], bool], timeout: float = 5) -> FakeMessage:  # noqa: ASYNC109 - public API
        return await self.world.wait_for_message(predicate, timeout)

    def delete_message(self, message: FakeMessage) -> None:
        """Delete as a moderator would: later edits get 404 10008 and the bot sees MESSAGE_DELETE."""
        self.world.delete_message(message)
        if not message.ephemeral:
            data = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id is not None:
                data["guild_id"] = str(message.guild_id)
            self._dispatch_if_live("MESSAGE_DELETE", data)

    def close_dms(self, user: FakeUser) -> None:
        """``user`` does not accept DMs from the bot: sending there -> 403 50007, as on Discord."""
        self.world.dms_closed.add(user.id)

    def deny(self, channel: ChannelRef, user: FakeUser | None = None) -> None:
        """``user`` (default: the bot) loses view/send permission in the channel and its threads.

        As a moderator would: a member overwrite denying VIEW_CHANNEL, SEND_MESSAGES and
        SEND_MESSAGES_IN_THREADS lands on the channel and the bot is sent CHANNEL_UPDATE (THREAD_UPDATE
        for a thread), so its cache (``channel.permissions_for(guild.me)``) knows as well.
        """
        target = self._channel(channel)
        if self.world.deny(target, (user or self.bot_user).id):
            self._channel_updated(target)

    def allow(self, channel: ChannelRef, user: FakeUser | None = None) -> None:
        """Remove the overwrite ``deny()`` added (CHANNEL_UPDATE / THREAD_UPDATE again)."""
        target = self._channel(channel)
        if self.world.allow(target, (user or self.bot_user).id):
            self._channel_updated(target)

    def _channel_updated(self, channel: FakeChannel) -> None:
        if channel.type == DM or channel.deleted:
            return
        event = "THREAD_UPDATE" if channel.type in THREAD_TYPES else "CHANNEL_UPDATE"
        self._dispatch_if_live(event, self.world.channel_payload(channel))

    def archive_thread(self, thread: ChannelRef) -> None:
        """Archive a thread, as Discord does after its inactivity timeout or a member by hand (THREAD_UPDATE).

        Until it is reopened (PATCH ``archived: false``, or any new message in it), its messages can be neither
        edited nor deleted (400 50083), and it is left out of GUILD_CREATE, as Discord lists active threads only.
        """
        target = self._channel(thread)
        if target.type not in THREAD_TYPES:
            raise FakeDiscordUsageError(f"channel {target.id} is not a thread")
        if not target.archived:
            target.archived = True
            self._channel_updated(target)

    def reopen_thread(self, channel: FakeChannel) -> None:
        """A message sent in an archived thread reopens it (THREAD_UPDATE)."""
        if channel.archived:
            channel.archived = False
            self._channel_updated(channel)

    def delete_channel(self, channel: ChannelRef) -> None:
        target = self._channel(channel)
        target.deleted = True
        if target.type != DM:
            event = "THREAD_DELETE" if target.type in THREAD_TYPES else "CHANNEL_DELETE"
            self._dispatch_if_live(event, self.world.channel_payload(target))

    def fail_next(self, method: str, path_regex: str, status: int = 500, count: int = 1) -> None:
        """Answer the next ``count`` requests matching ``method`` ("*" for any) and the regex with ``status``."""
        self.rest.fail_rules.append(FailRule(method.upper(), re.compile(path_regex), status, count))

    def reset_records(self) -> None:
        self.requests.clear()
        self.count_429 = 0
        self.global_429 = 0

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]


def _components(message: FakeMessage) -> list[JSON]:
    return iter_components(message.components)


def _pick(items: list[JSON], key: str | int, *, keys: tuple[str, ...]) -> JSON | None:
    if isinstance(key, int):
        return items[key] if 0 <= key < len(items) else None
    return next((item for item in items if any(item.get(k) == key for k in keys)), None)


def _check_text_input(text_input: JSON, label: str | None, value: str) -> None:
    """The Discord client refuses to submit a modal that breaks these."""
    name = label or text_input["custom_id"]
    if text_input.get("required", True) and not value:
        raise FakeDiscordUsageError(f"modal field {name!r} is required")
    low, high = text_input.get("min_length"), min(text_input.get("max_length") or 4000, 4000)
    if value and low is not None and len(value) < low:
        raise FakeDiscordUsageError(f"modal field {name!r} needs at least {low} characters")
    if len(value) > high:
        raise FakeDiscordUsageError(f"modal field {name!r} allows at most {high} characters")
