"""INTERACTION_CREATE payloads complete enough for discord.py to build Interaction, Member and channel.

Reference: https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object
"""

from __future__ import annotations

import secrets
from typing import Any

from ._commands import (
    ATTACHMENT,
    CHANNEL,
    CHAT_INPUT,
    MENTIONABLE,
    MESSAGE_COMMAND,
    ROLE,
    USER,
    FakeDiscordUsageError,
    Resolved,
    build_options,
    find_command,
    object_id,
    scalar_value,
)
from ._models import DM, FakeChannel, FakeMessage, FakeUser
from ._state import World

JSON = dict[str, Any]

APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT = 2, 3, 5
CONTEXT_GUILD, CONTEXT_BOT_DM = 0, 1
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class InteractionBuilder:
    def __init__(self, world: World, commands: dict[int | None, list[JSON]]) -> None:
        self.world = world
        self.commands = commands  # guild id (None = global) -> synced commands

    def envelope(self, kind: int, user: FakeUser, channel: FakeChannel, data: JSON, *, locale: str | None) -> JSON:
        """The fields every interaction carries, for a guild channel or the bot's DM."""
        interaction_id = self.world.snowflake()
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.world.application_id),
            "type": kind,
            "token": f"aW50ZXJhY3Rpb246{interaction_id}:{secrets.token_urlsafe(24)}",
            "version": 1,
            "data": data,
            "channel_id": str(channel.id),
            "locale": locale or user.locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "app_permissions": str(self.world.permissions_in(channel, self.world.bot_user.id)),
        }
        if channel.type == DM:
            payload["user"] = user.payload()
            payload["channel"] = self.world.channel_payload(channel)
            payload["context"] = CONTEXT_BOT_DM
            payload["authorizing_integration_owners"] = {"1": str(user.id)}
            return payload
        assert channel.guild_id is not None
        guild = self.world.guilds[channel.guild_id]
        if user.id not in guild.member_roles:
            raise FakeDiscordUsageError(f"{user.name} is not a member of {guild.name}")
        permissions = str(self.world.permissions_in(channel, user.id))
        payload["guild_id"] = str(guild.id)
        payload["guild"] = {"id": str(guild.id), "locale": guild.locale, "features": []}
        payload["guild_locale"] = guild.locale
        payload["member"] = self.world.member_payload(guild, user, with_permissions={"permissions": permissions})
        payload["channel"] = self.world.channel_payload(channel, for_user=user.id)
        payload["context"] = CONTEXT_GUILD
        payload["authorizing_integration_owners"] = {"0": str(guild.id)}
        return payload

    def lookup(self, name: str, channel: FakeChannel, command_type: int) -> tuple[JSON, int | None]:
        """A command visible in ``channel``: the guild's own commands first, then the global ones."""
        scopes: list[int | None] = [channel.guild_id, None] if channel.guild_id else [None]
        for scope in scopes:
            command = find_command(self.commands.get(scope, []), name, command_type)
            if command is not None:
                if channel.type == DM and not self._allowed_in_dm(command):
                    raise FakeDiscordUsageError(f"/{name} is not available in DMs")
                return command, scope
        known = sorted({c["name"] for scope in scopes for c in self.commands.get(scope, [])})
        raise FakeDiscordUsageError(f"no synced command {name!r} (type {command_type}) here; synced: {known}")

    @staticmethod
    def _allowed_in_dm(command: JSON) -> bool:
        contexts = command.get("contexts")
        if contexts is not None:
            return CONTEXT_BOT_DM in contexts
        return command.get("dm_permission", True) is not False

    def slash(
        self, user: FakeUser, channel: FakeChannel, command: str, options: dict[str, Any], locale: str | None
    ) -> JSON:
        name, *path = command.split()
        schema, scope = self.lookup(name, channel, CHAT_INPUT)
        resolved = Resolved()

        def convert(option: JSON, raw: Any) -> Any:
            return self._option_value(name, option, raw, channel, resolved)

        data: JSON = {
            "id": schema["id"],
            "name": name,
            "type": CHAT_INPUT,
            "options": build_options(path, schema.get("options", []), options, convert, name),
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved.data:
            data["resolved"] = resolved.data
        return self.envelope(APPLICATION_COMMAND, user, channel, data, locale=locale)

    def _option_value(self, name: str, option: JSON, raw: Any, channel: FakeChannel, resolved: Resolved) -> Any:
        kind = option["type"]
        if kind in {USER, MENTIONABLE} and isinstance(raw, FakeUser):
            self._resolve_user(raw, channel, resolved)
            return str(raw.id)
        if kind in {ROLE, MENTIONABLE}:
            role_id = object_id(name, option, raw)
            role = self._role(channel, role_id)
            resolved.add("roles", role.id, role.payload())
            return str(role.id)
        if kind == USER:
            user = self.world.users.get(object_id(name, option, raw))
            if user is None:
                raise FakeDiscordUsageError(f"/{name} {option['name']}: unknown user {raw!r}")
            self._resolve_user(user, channel, resolved)
            return str(user.id)
        if kind == CHANNEL:
            target = self.world.channels.get(object_id(name, option, raw))
            if target is None:
                raise FakeDiscordUsageError(f"/{name} {option['name']}: unknown channel {raw!r}")
            types = option.get("channel_types")
            if types and target.type not in types:
                raise FakeDiscordUsageError(f"/{name} {option['name']}: channel type {target.type} not in {types}")
            resolved.add("channels", target.id, self.world.channel_payload(target, for_user=self.world.bot_user.id))
            return str(target.id)
        if kind == ATTACHMENT:
            return self._resolve_attachment(name, option, raw, resolved)
        return scalar_value(name, option, raw)

    def _resolve_user(self, user: FakeUser, channel: FakeChannel, resolved: Resolved) -> None:
        resolved.add("users", user.id, user.payload())
        if channel.guild_id is not None:
            guild = self.world.guilds[channel.guild_id]
            if user.id in guild.member_roles:
                member = self.world.member_payload(guild, user)
                member.pop("user")
                member["permissions"] = str(self.world.permissions_in(channel, user.id))
                resolved.add("members", user.id, member)

    def _role(self, channel: FakeChannel, role_id: int) -> Any:
        guild = self.world.guilds.get(channel.guild_id or 0)
        role = next((r for r in guild.roles if r.id == role_id), None) if guild else None
        if role is None:
            raise FakeDiscordUsageError(f"unknown role {role_id} in this channel's guild")
        return role

    def _resolve_attachment(self, name: str, option: JSON, raw: Any, resolved: Resolved) -> str:
        """An ATTACHMENT option takes ``(filename, bytes)``; the bot can read its metadata."""
        if not (isinstance(raw, tuple) and len(raw) == 2 and isinstance(raw[1], bytes)):
            raise FakeDiscordUsageError(f"/{name} {option['name']}: pass (filename, bytes) for an attachment")
        attachment_id = self.world.snowflake()
        filename, blob = raw
        self.world.attachments[attachment_id] = blob
        resolved.add(
            "attachments",
            attachment_id,
            {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(blob),
                "url": f"{self.world.cdn_base}/attachments/0/{attachment_id}/{filename}",
                "proxy_url": f"{self.world.cdn_base}/attachments/0/{attachment_id}/{filename}",
                "content_type": "application/octet-stream",
            },
        )
        return str(attachment_id)

    def message_command(
        self, user: FakeUser, channel: FakeChannel, name: str, target: FakeMessage, locale: str | None
    ) -> JSON:
        schema, scope = self.lookup(name, channel, MESSAGE_COMMAND)
        data: JSON = {
            "id": schema["id"],
            "name": name,
            "type": MESSAGE_COMMAND,
            "target_id": str(target.id),
            "resolved": {"messages": {str(target.id): self.world.message_payload(target)}},
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        return self.envelope(APPLICATION_COMMAND, user, channel, data, locale=locale)

    def component(
        self, user: FakeUser, message: FakeMessage, component: JSON, values: list[str] | None, locale: str | None
    ) -> JSON:
        channel = self.world.channels[message.channel_id]
        data: JSON = {"custom_id": component["custom_id"], "component_type": component["type"]}
        if values is not None:
            data["values"] = values
        payload = self.envelope(MESSAGE_COMPONENT, user, channel, data, locale=locale)
        payload["message"] = self.world.message_payload(message)
        return payload

    def modal_submit(
        self, user: FakeUser, channel: FakeChannel, modal: JSON, components: list[JSON], locale: str | None
    ) -> JSON:
        data = {"custom_id": modal["custom_id"], "components": components}
        return self.envelope(MODAL_SUBMIT, user, channel, data, locale=locale)
