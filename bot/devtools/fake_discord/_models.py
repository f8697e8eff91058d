"""The world's objects as a test sees them: users, guilds, roles, channels, messages, requests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types)
GUILD_TEXT = 0
DM = 1
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
GUILD_FORUM = 15
THREAD_TYPES = {10, PUBLIC_THREAD, PRIVATE_THREAD}
REQUIRE_TAG = 1 << 4  # channel flag: a forum post must have at least one of the forum's tags

EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass(eq=False)
class FakeUser:
    id: int
    name: str
    bot: bool = False
    locale: str = "en-US"

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeRole:
    id: int
    name: str
    guild_id: int
    permissions: int = 0
    position: int = 1
    managed: bool = False

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    locale: str = "en-US"
    roles: list[FakeRole] = field(default_factory=list)
    member_roles: dict[int, list[int]] = field(default_factory=dict)  # user id -> role ids
    joined_at: str = ""
    channels: list[FakeChannel] = field(default_factory=list, repr=False)  # threads included, in creation order

    @property
    def everyone(self) -> FakeRole:
        return self.roles[0]


@dataclass(eq=False)
class FakeChannel:
    id: int
    name: str
    type: int
    guild_id: int | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    position: int = 0
    topic: str | None = None
    available_tags: list[JSON] = field(default_factory=list)
    applied_tag_ids: list[int] = field(default_factory=list)
    recipient_id: int | None = None
    flags: int = 0  # e.g. REQUIRE_TAG on a forum
    archived: bool = False  # a thread left alone (or archived by a member): no edits or deletions until reopened
    deleted: bool = False
    all_messages: list[FakeMessage] = field(default_factory=list, repr=False)
    parent: FakeChannel | None = field(default=None, repr=False)

    @property
    def messages(self) -> list[FakeMessage]:
        """Messages still visible in the channel, oldest first."""
        return [message for message in self.all_messages if not message.deleted]

    @property
    def applied_tags(self) -> list[str]:
        """Names of the forum tags applied to this post (see ``applied_tag_ids`` for the ids)."""
        tags = self.parent.available_tags if self.parent is not None else []
        by_id = {int(tag["id"]): str(tag["name"]) for tag in tags}
        return [by_id.get(tag_id, str(tag_id)) for tag_id in self.applied_tag_ids]


@dataclass(eq=False)
class FakeMessage:
    """A message as the users see it; edits mutate it and keep the history in ``edits``."""

    id: int
    channel_id: int
    author_id: int
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: JSON | None = None
    attachments: list[JSON] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)
    edit_times: list[float] = field(default_factory=list)
    deleted: bool = False
    thread_id: int | None = None
    interaction_id: int | None = None
    guild_id: int | None = None
    webhook_id: int | None = None
    message_type: int = 0
    created_at: float = field(default_factory=time.monotonic)
    timestamp: str = ""
    edited_timestamp: str | None = None
    interaction_metadata: JSON | None = None
    message_reference: JSON | None = None
    nonce: str | int | None = None  # as sent; echoed only in the create response and MESSAGE_CREATE

    def __repr__(self) -> str:
        state = " deleted" if self.deleted else ""
        where = f"id={self.id} channel={self.channel_id} flags={self.flags}{state}"
        return f"<FakeMessage {where} content={self.content[:60]!r}>"

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def buttons(self) -> list[tuple[str | None, str | None, bool]]:
        """``(label, custom_id, disabled)`` of every button, rows flattened in order."""
        return [
            (item.get("label"), item.get("custom_id"), bool(item.get("disabled", False)))
            for item in iter_components(self.components)
            if item.get("type") == 2
        ]

    @property
    def selects(self) -> list[JSON]:
        return [item for item in iter_components(self.components) if item.get("type") in {3, 5, 6, 7, 8}]

    @property
    def text(self) -> str:
        """Content plus embed titles and descriptions: what a reader would read."""
        parts = [self.content] + [
            part for embed in self.embeds for part in (embed.get("title"), embed.get("description")) if part
        ]
        return "\n".join(part for part in parts if part)


def iter_components(components: list[JSON]) -> list[JSON]:
    """Interactive components in display order, descending into rows, sections and containers."""
    found: list[JSON] = []
    for component in components:
        if component.get("type") in {1, 9, 17}:
            found.extend(iter_components(component.get("components") or []))
            if isinstance(component.get("accessory"), dict):
                found.extend(iter_components([component["accessory"]]))
        else:
            found.append(component)
    return found


@dataclass
class RecordedRequest:
    """One HTTP request the bot made, as the fake saw it."""

    method: str
    path: str  # route template, e.g. "/channels/{channel_id}/messages"
    url_path: str
    json: Any
    status: int = 0
    bucket: str | None = None
    at: float = field(default_factory=time.monotonic)
    is_interaction_endpoint: bool = False
    files: list[JSON] = field(default_factory=list)
    response: Any = None
