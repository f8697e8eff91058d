"""Messages as a Discord user would read them, in plain text.

[3] StudyBuddy (bot) · #study · only alice sees this
    EC2 is a virtual server...
    ┃ Question 1/3
    ┃ Which service stores objects?
    ┃ • Time left: in 20 seconds
    [1 A] [2 B] [3 C] [4 D]
    (written in 12 edits)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.devtools.fake_discord import FakeMessage

JSON = dict[str, Any]
EPHEMERAL = 1 << 6
LOADING = 1 << 7  # a deferred "thinking..." response
INDENT = "    "
BAR = "┃ "

MENTION = re.compile(r"<(@!?|@&|#)(\d+)>")
COMMAND_MENTION = re.compile(r"</([\w -]+):\d+>")
TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
JUMP_URL = re.compile(r"https://discord\.com/channels/(?:\d+|@me)/(\d+)(?:/\d+)?")


@dataclass(frozen=True)
class Names:
    """Display names for mentions: users, channels and roles by id."""

    users: Mapping[int, str]
    channels: Mapping[int, str]
    roles: Mapping[int, str]


@dataclass(frozen=True)
class Shown:
    """One message to show: new in this step, or changed since it was last shown."""

    number: int
    message: FakeMessage
    author: str
    where: str  # "#study", "DM with alice", "#til > My post"
    only_for: str | None  # the member who alone sees an ephemeral message
    new: bool
    edits: int  # edits made since it was last shown


def relative(seconds: float) -> str:
    """Discord's `<t:…:R>`: "in 20 seconds", "2 hours ago"."""
    amount = abs(seconds)
    unit, count = "second", round(amount)
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if amount >= size:
            unit, count = name, round(amount / size)
            break
    words = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"in {words}" if seconds >= 0 else f"{words} ago"


def inline(text: str, names: Names, *, now: datetime, zone: ZoneInfo) -> str:
    """Mentions, command mentions and timestamps as the Discord client shows them."""

    def mention(found: re.Match[str]) -> str:
        kind, ident = found[1], int(found[2])
        if kind == "#":
            return f"#{names.channels.get(ident, ident)}"
        table = names.roles if kind == "@&" else names.users
        return f"@{table.get(ident, ident)}"

    def timestamp(found: re.Match[str]) -> str:
        when = datetime.fromtimestamp(int(found[1]), UTC)
        style = found[2] or "f"
        if style == "R":
            return relative((when - now).total_seconds())
        local = when.astimezone(zone)
        formats = {"t": "%H:%M", "T": "%H:%M:%S", "d": "%Y-%m-%d", "D": "%Y-%m-%d"}
        return local.strftime(formats.get(style, "%Y-%m-%d %H:%M")) + ("" if style in "tT" else f" ({zone.key})")

    text = JUMP_URL.sub(lambda found: f"#{names.channels.get(int(found[1]), found[1])}", text)
    text = MENTION.sub(mention, text)
    text = COMMAND_MENTION.sub(lambda found: f"/{found[1]}", text)
    return TIMESTAMP.sub(timestamp, text)


def render(shown: Shown, names: Names, *, now: datetime, zone: ZoneInfo) -> list[str]:
    message = shown.message

    def text(value: object) -> str:
        return inline(str(value), names, now=now, zone=zone)

    header = [f"[{shown.number}] {shown.author}", shown.where]
    if shown.only_for is not None:
        header.append(f"only {shown.only_for} sees this")
    if message.deleted:
        return [" · ".join([*header, "deleted"])]
    if not shown.new:
        header.append("edited")
    lines = [" · ".join(header)]
    body: list[str] = []
    if message.content:
        body.extend(text(message.content).splitlines())
    elif message.flags & LOADING and not message.embeds:
        body.append(f"{shown.author} is thinking…")
    for embed in message.embeds:
        body.extend(_embed_lines(embed, text))
    buttons = button_labels(message)
    if buttons:
        body.extend(_wrap(buttons))
    for attachment in message.attachments:
        body.append(f"📎 {attachment.get('filename', 'file')}")
    lines.extend(INDENT + line if line else "" for line in body)
    if shown.edits > 1:
        lines.append(f"{INDENT}(written in {shown.edits} edits)")
    return lines


def button_labels(message: FakeMessage) -> list[str]:
    """`[1 A]`, `[2 Explain more (disabled)]`: numbered as `click N` counts them."""
    found = []
    for number, (label, custom_id, disabled) in enumerate(message.buttons, start=1):
        name = label or custom_id or "button"
        found.append(f"[{number} {name}{' (disabled)' if disabled else ''}]")
    return found


def _wrap(items: list[str], width: int = 96) -> list[str]:
    lines, current = [], ""
    for item in items:
        if current and len(current) + 1 + len(item) > width:
            lines.append(current)
            current = item
        else:
            current = f"{current} {item}" if current else item
    return [*lines, current] if current else lines


def _embed_lines(embed: JSON, text: Callable[[object], str]) -> list[str]:
    lines: list[str] = []
    author = (embed.get("author") or {}).get("name")
    if author:
        lines.append(text(author))
    if embed.get("title"):
        lines.append(f"**{text(embed['title'])}**")
    if embed.get("description"):
        lines.extend(text(embed["description"]).splitlines())
    for item in embed.get("fields") or []:
        name, value = text(item.get("name", "")), text(item.get("value", ""))
        if "\n" in value:
            lines.append(f"• {name}:")
            lines.extend(f"  {part}" for part in value.splitlines())
        else:
            lines.append(f"• {name}: {value}")
    image = (embed.get("image") or {}).get("url")
    if image:
        lines.append(f"🖼 {str(image).removeprefix('attachment://')}")
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        lines.append(f"— {text(footer)}")
    return [BAR + line if line else BAR.rstrip() for line in lines]


def render_modal(modal: JSON) -> list[str]:
    """A form the bot opened: its title and fields, numbered in the order lines fill them."""
    lines = [f"▣ form: {modal.get('title', '')}"]
    for number, (label, custom_id, required, style) in enumerate(modal_fields(modal), start=1):
        kind = "long text" if style == 2 else "text"
        lines.append(f"{INDENT}{number}. {label} [{custom_id}] ({kind}{', optional' if not required else ''})")
    lines.append(f"{INDENT}each line fills the next field; or `field 2: value` (number, label or [id]), then `submit`")
    return lines


def modal_fields(modal: JSON) -> list[tuple[str, str, bool, int]]:
    """`(label, custom_id, required, style)` of each text input, in order (rows and labels both handled)."""
    found = []
    for top in modal.get("components") or []:
        inputs = top.get("components") or ([top["component"]] if isinstance(top.get("component"), dict) else [])
        for item in inputs:
            if item.get("type") == 4:
                label = item.get("label") or top.get("label") or item["custom_id"]
                found.append(
                    (str(label), str(item["custom_id"]), bool(item.get("required", True)), item.get("style", 1))
                )
    return found
