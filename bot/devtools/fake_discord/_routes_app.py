"""Login, application, command sync, gateway discovery and guild routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._http import BODY, DiscordError, reply

if TYPE_CHECKING:
    from ._fake import FakeDiscord

JSON = dict[str, Any]
Handler = Any


class AppRoutes:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.world = fake.world

    def routes(self) -> list[tuple[str, str, Handler]]:
        app = "/applications/{application_id}"
        return [
            ("GET", "/users/@me", self.me),
            ("GET", "/users/{user_id}", self.user),
            ("GET", "/oauth2/applications/@me", self.application),
            ("GET", "/applications/@me", self.application),
            ("GET", "/gateway", self.gateway),
            ("GET", "/gateway/bot", self.gateway_bot),
            ("GET", app + "/commands", self.get_commands),
            ("PUT", app + "/commands", self.put_commands),
            ("GET", app + "/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", app + "/guilds/{guild_id}/commands", self.put_commands),
            ("GET", "/guilds/{guild_id}", self.guild),
            ("GET", "/guilds/{guild_id}/channels", self.guild_channels),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.member),
            ("GET", "/guilds/{guild_id}/roles", self.roles),
        ]

    async def me(self, request: web.Request) -> web.Response:
        return reply(self.world.bot_user.payload() | {"verified": True, "mfa_enabled": False})

    async def user(self, request: web.Request) -> web.Response:
        user = self.world.users.get(int(request.match_info["user_id"]))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return reply(user.payload())

    async def application(self, request: web.Request) -> web.Response:
        return reply(self.world.application_payload())

    async def gateway(self, request: web.Request) -> web.Response:
        return reply({"url": self.fake.gateway_url})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return reply({"url": self.fake.gateway_url, "shards": 1, "session_start_limit": limit})

    def _scope(self, request: web.Request) -> int | None:
        if int(request.match_info["application_id"]) != self.world.application_id:
            raise DiscordError(403, 20012, "You are not authorized to perform this action on this application")
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return None
        if int(guild_id) not in self.world.guilds:
            raise DiscordError(404, 10004, "Unknown Guild")
        return int(guild_id)

    async def get_commands(self, request: web.Request) -> web.Response:
        return reply(self.fake.commands(self._scope(request)))

    async def put_commands(self, request: web.Request) -> web.Response:
        """Bulk overwrite: the new list replaces the old; same name and type keeps its id."""
        scope = self._scope(request)
        incoming: list[JSON] = request[BODY].json or []
        if len(incoming) > 100:
            raise DiscordError(400, 30032, "Maximum number of application commands reached (100)")
        previous = {(c["name"], c.get("type", 1)): c for c in self.fake.commands(scope)}
        stored = []
        for command in incoming:
            kind = command.get("type", 1)
            old = previous.get((command["name"], kind))
            entry = dict(command) | {
                "id": old["id"] if old else str(self.world.snowflake()),
                "application_id": str(self.world.application_id),
                "version": str(self.world.snowflake()),
                "type": kind,
                "default_member_permissions": command.get("default_member_permissions"),
                "nsfw": command.get("nsfw", False),
                "description": command.get("description", ""),
            }
            if scope is not None:
                entry["guild_id"] = str(scope)
            stored.append(entry)
        self.fake.store_commands(scope, stored)
        return reply(stored)

    def _guild(self, request: web.Request) -> Any:
        guild = self.world.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return guild

    async def guild(self, request: web.Request) -> web.Response:
        payload = self.world.guild_payload(self._guild(request), all_members=False)
        for key in ("channels", "threads", "members", "voice_states", "presences"):
            payload.pop(key, None)
        return reply(payload)

    async def guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return reply(self.world.guild_payload(guild, all_members=False)["channels"])

    async def roles(self, request: web.Request) -> web.Response:
        return reply([role.payload() for role in self._guild(request).roles])

    async def member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        user = self.world.users.get(int(request.match_info["user_id"]))
        if user is None or user.id not in guild.member_roles:
            raise DiscordError(404, 10007, "Unknown Member")
        return reply(self.world.member_payload(guild, user))
