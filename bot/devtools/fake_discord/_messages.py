"""Creating and editing messages with Discord's validation, attachments and gateway echoes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ._gateway import DIRECT_MESSAGES_INTENT, GUILD_MESSAGES_INTENT, MESSAGE_CONTENT_INTENT, Session
from ._http import EMPTY_MESSAGE, INVALID_FORM_BODY, Body, DiscordError
from ._limits import is_empty_message, validate_message
from ._models import DM, EPHEMERAL, FakeChannel, FakeMessage

if TYPE_CHECKING:
    from ._fake import FakeDiscord

JSON = dict[str, Any]
REPLY = 19
SETTABLE_FLAGS = EPHEMERAL | (1 << 2) | (1 << 12) | (1 << 15)  # ephemeral, suppress embeds/notifications, v2


def check_form(payload: JSON, *, create: bool = False) -> None:
    errors = validate_message(payload, create=create)
    if errors:
        raise DiscordError(400, *INVALID_FORM_BODY, errors=errors.tree)


def attachments_from(fake: FakeDiscord, body: Body, existing: list[JSON]) -> list[JSON] | None:
    """The attachment list after this request, or None when it does not touch attachments.

    ``attachments: [{"id": n}]`` refers to upload ``files[n]`` or, on edits, to an attachment to keep.
    """
    payload = body.json or {}
    if "attachments" not in payload and not body.files:
        return None
    kept = {str(item["id"]): item for item in existing}
    wanted = payload.get("attachments")
    refs = [str(item["id"]) for item in wanted] if wanted is not None else [str(i) for i in sorted(body.files)]
    result = []
    for ref in refs:
        if ref in kept:
            result.append(kept[ref])
        elif ref.isdigit() and int(ref) in body.files:
            upload = body.files[int(ref)]
            attachment_id = fake.world.snowflake()
            result.append(
                {
                    "id": str(attachment_id),
                    "filename": upload["filename"],
                    "size": len(upload["data"]),
                    "content_type": upload["content_type"],
                    "url": f"https://cdn.discordapp.com/attachments/0/{attachment_id}/{upload['filename']}",
                    "proxy_url": f"https://media.discordapp.net/attachments/0/{attachment_id}/{upload['filename']}",
                    "data": upload["data"],
                }
            )
    return result


def create_message(
    fake: FakeDiscord,
    channel: FakeChannel,
    author_id: int,
    body: Body,
    *,
    webhook_id: int | None = None,
    interaction_metadata: JSON | None = None,
    message_type: int = 0,
    message_id: int | None = None,
    accepts_nonce: bool = False,
) -> FakeMessage:
    """Validate and store a new message and dispatch MESSAGE_CREATE.

    With ``accepts_nonce`` (Create Message), ``nonce`` is validated and echoed; with ``enforce_nonce``
    too, a nonce the author used within the window returns that earlier message and creates nothing.
    """
    payload: JSON = body.json or {}
    check_form(payload, create=accepts_nonce)
    nonce: str | int | None = payload.get("nonce") if accepts_nonce else None  # validated by check_form
    enforced = nonce if payload.get("enforce_nonce") else None
    if enforced is not None and (earlier := fake.world.message_for_nonce(author_id, enforced)) is not None:
        return earlier
    embeds, components = list(payload.get("embeds") or []), list(payload.get("components") or [])
    attachments = attachments_from(fake, body, []) or []
    if is_empty_message(payload.get("content"), embeds, attachments, components) and not payload.get("poll"):
        raise DiscordError(400, *EMPTY_MESSAGE)
    flags = int(payload.get("flags") or 0) & SETTABLE_FLAGS
    if webhook_id is None:
        flags &= ~EPHEMERAL  # only interaction responses can be ephemeral
    reference = payload.get("message_reference")
    message = FakeMessage(
        id=message_id or fake.world.snowflake(),
        channel_id=channel.id,
        author_id=author_id,
        content=payload.get("content") or "",
        embeds=embeds,
        components=components,
        flags=flags,
        allowed_mentions=payload.get("allowed_mentions"),
        attachments=attachments,
        webhook_id=webhook_id,
        interaction_metadata=interaction_metadata,
        message_type=REPLY if reference else message_type,
        message_reference=reference,
        nonce=nonce,
    )
    fake.world.store_message(message)
    if enforced is not None:
        fake.world.remember_nonce(author_id, enforced, message)
    announce(fake, message, "MESSAGE_CREATE")
    return message


def edit_message(fake: FakeDiscord, message: FakeMessage, body: Body) -> None:
    payload: JSON = body.json or {}
    check_form(payload)
    attachments = attachments_from(fake, body, message.attachments)
    content: str | None = payload.get("content", message.content)
    embeds: list[JSON] = (payload.get("embeds", message.embeds)) or []
    components: list[JSON] = (payload.get("components", message.components)) or []
    kept = attachments if attachments is not None else message.attachments
    if is_empty_message(content, embeds, kept, components):
        raise DiscordError(400, *EMPTY_MESSAGE)
    fake.world.edit_message(message, payload, attachments)
    announce(fake, message, "MESSAGE_UPDATE")


MENTION = re.compile(r"<@!?(\d+)>")


def announce(fake: FakeDiscord, message: FakeMessage, event: str) -> None:
    """Echo a message over the gateway; ephemeral messages are never dispatched."""
    if message.flags & EPHEMERAL:
        return

    channel = fake.world.channels[message.channel_id]
    needed = DIRECT_MESSAGES_INTENT if channel.type == DM else GUILD_MESSAGES_INTENT

    def for_session(session: Session) -> JSON | None:
        if not session.has_intent(needed):
            return None
        payload = fake.world.message_payload(message, with_nonce=event == "MESSAGE_CREATE")
        if not can_read_content(fake, message, session):
            payload |= {"content": "", "embeds": [], "attachments": [], "components": []}
        if message.guild_id is not None:
            guild = fake.world.guilds[message.guild_id]
            author = fake.world.users[message.author_id]
            if author.id in guild.member_roles:
                member = fake.world.member_payload(guild, author)
                member.pop("user")
                payload["member"] = member
        return payload

    fake.gateway.dispatch(event, for_session)


def can_read_content(fake: FakeDiscord, message: FakeMessage, session: Session) -> bool:
    """Without the message-content intent a bot sees content only in DMs, its own messages and mentions."""
    channel = fake.world.channels[message.channel_id]
    if session.has_intent(MESSAGE_CONTENT_INTENT) or channel.type == DM:
        return True
    bot_id = fake.world.bot_user.id
    return message.author_id == bot_id or str(bot_id) in MENTION.findall(message.content)
