"""Request bodies in, Discord-shaped JSON out.

discord.py only parses a body as JSON when ``Content-Type`` is exactly ``application/json``
(aiohttp's ``json_response`` appends ``; charset=utf-8``), so every reply is built here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

JSON = dict[str, Any]


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    if status == 204:
        return web.Response(status=204, headers=headers)
    return web.Response(body=json.dumps(body).encode(), status=status, content_type="application/json", headers=headers)


class DiscordError(Exception):
    """Raised by a handler to answer with Discord's error JSON."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return reply(body, self.status)


def not_found(code: int, message: str) -> DiscordError:
    return DiscordError(404, code, message)


UNKNOWN_CHANNEL = (10003, "Unknown Channel")
UNKNOWN_MESSAGE = (10008, "Unknown Message")
UNKNOWN_WEBHOOK = (10015, "Unknown Webhook")
UNKNOWN_INTERACTION = (10062, "Unknown interaction")
ALREADY_ACKNOWLEDGED = (40060, "Interaction has already been acknowledged.")
MISSING_PERMISSIONS = (50013, "Missing Permissions")
CANNOT_MESSAGE_USER = (50007, "Cannot send messages to this user")
NON_TEXT_CHANNEL = (50008, "Cannot send messages in a non-text channel")
EMPTY_MESSAGE = (50006, "Cannot send an empty message")
THREAD_ARCHIVED = (50083, "Thread is archived")
TAG_REQUIRED = (40067, "A tag is required to create a forum post in this channel")
INVALID_FORM_BODY = (50035, "Invalid Form Body")
INVALID_WEBHOOK_TOKEN = (50027, "Invalid Webhook Token")


@dataclass
class Body:
    """A parsed request body: JSON, or multipart ``payload_json`` plus ``files[n]`` parts."""

    json: Any = None
    files: dict[int, JSON] = field(default_factory=dict)


async def read_body(request: web.Request) -> Body:
    if request.content_type == "multipart/form-data":
        body = Body()
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            name = part.name or ""
            data = await part.read()
            if name == "payload_json":
                body.json = json.loads(data)
            elif name.startswith("files["):
                index = int(name[len("files[") : -1])
                body.files[index] = {
                    "filename": part.filename or f"file{index}",
                    "content_type": part.headers.get("Content-Type", "application/octet-stream"),
                    "data": bytes(data),
                }
        return body
    raw = await request.read()
    return Body(json=json.loads(raw) if raw else None)


BODY = web.RequestKey("body", Body)
