"""What a TIL is, and what a member may submit as one.

A TIL has the shape of the study group's daily post (../shared/seed/til-example.txt): a dated title,
what I learned (required), what was hard, what I am curious about or lacking, a reflection, and tags.

The limits are about what a TIL may hold, not about what one Discord message shows: the group's real daily
post has some 7,000 characters of what-I-learned (notes per subject, code, model output), more than an embed
(description 4,096, 6,000 in all) or a form field (4,000) takes. So:

- what I learned: 20,000 characters, about three times the real post. A post that long is still small
  everywhere it goes: a whole TIL at its limits is ~100 KB of UTF-8 even in Korean, far below the 10 MiB a
  bot may attach; `questions`, `digest` and `feedback` clip what they send a model; and the trigram index
  takes such a row like any other.
- what was hard, curious/lacking, reflection: 4,000 each, one form field, so the form can still edit them.
- the title: 100, the most a forum post's name holds.

A post longer than one message is shown as a preview cut at a paragraph with the whole TIL attached as a
Markdown file (cogs/til/_render.py); text longer than a form field comes in as a file (`importing`). A forum
post takes at most five tags of at most 20 characters each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from bot.errors import InvalidInput


class Section(StrEnum):
    TITLE = "title"
    LEARNED = "learned"
    HARD = "hard"
    CURIOUS = "curious"
    REFLECTION = "reflection"


LIMITS = {
    Section.TITLE: 100,
    Section.LEARNED: 20_000,
    Section.HARD: 4000,
    Section.CURIOUS: 4000,
    Section.REFLECTION: 4000,
}
# Discord's most for one text field of a form (a modal's text input).
FORM_FIELD_LIMIT = 4000
MAX_TAGS = 5
MAX_TAG_CHARS = 20

# Zero-width and other invisible characters: a field of only these is empty.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
_TAG_SEPARATORS = re.compile(r"[,#\s]+")
_FENCE = "```"


@dataclass(frozen=True)
class TilDraft:
    """A TIL as a member submits it, cleaned and checked (see `clean_draft`)."""

    title: str
    learned: str
    hard: str = ""
    curious: str = ""
    reflection: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TilPost:
    id: int
    guild_id: int
    author_id: int
    title: str
    learned: str
    hard: str
    curious: str
    reflection: str
    tags: tuple[str, ...]
    local_date: date
    """The author's day when it was posted (their time zone, else the guild's)."""
    created_at: datetime
    updated_at: datetime
    channel_id: int | None = None
    message_id: int | None = None
    thread_id: int | None = None
    publish_error: str | None = None

    @property
    def draft(self) -> TilDraft:
        return TilDraft(self.title, self.learned, self.hard, self.curious, self.reflection, self.tags)

    @property
    def published(self) -> bool:
        return self.message_id is not None


class Published(Protocol):
    """Where a TIL's message is: a `TilPost`, or a post in the weekly digest."""

    @property
    def guild_id(self) -> int: ...

    @property
    def channel_id(self) -> int | None: ...

    @property
    def thread_id(self) -> int | None: ...

    @property
    def message_id(self) -> int | None: ...


def jump_url(post: Published) -> str | None:
    """The published message's link (a forum post's starter message lives in its thread); None if never published."""
    if post.message_id is None or post.channel_id is None:
        return None
    return f"https://discord.com/channels/{post.guild_id}/{post.thread_id or post.channel_id}/{post.message_id}"


@dataclass(frozen=True)
class TilSettings:
    """A guild's TIL settings: the home channel, and the reminder and digest as configured."""

    guild_id: int
    channel_id: int | None
    thread_per_member: bool
    reminder_time: str | None
    reminder_role_id: int | None
    reminder_channel_id: int | None
    digest_weekday: int | None
    digest_time: str | None
    digest_channel_id: int | None
    timezone: str
    """The guild's (guild_settings.timezone)."""


def form_limit(section: Section) -> int:
    """The most the form's field for `section` takes: the TIL's limit, within what Discord allows a field."""
    return min(LIMITS[section], FORM_FIELD_LIMIT)


def fits_form(draft: TilDraft) -> bool:
    """Whether every section fits its form field, so the form can show (and edit) the whole TIL."""
    return all(len(getattr(draft, section.value)) <= form_limit(section) for section in Section)


def default_title(day: date) -> str:
    return f"TIL {day.isoformat()}"


def _clean_text(text: str | None) -> str:
    return _INVISIBLE.sub("", text or "").replace("\r\n", "\n").strip()


def _close_fences(text: str) -> str:
    # An unclosed code fence would swallow the rest of the embed's text into one code block. The limits leave
    # room for the closing fence, so it is added after they are checked: the member is held to what they typed.
    return f"{text}\n{_FENCE}" if text.count(_FENCE) % 2 else text


def parse_tags(text: str | None) -> tuple[str, ...]:
    """'AWS, langchain #ADsP' -> ('AWS', 'langchain', 'ADsP'): separators are commas, spaces and '#';
    the first spelling of a tag wins over later ones in another case."""
    seen: dict[str, str] = {}
    for raw in _TAG_SEPARATORS.split(_INVISIBLE.sub("", text or "")):
        tag = raw.strip()
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    tags = tuple(seen.values())
    if len(tags) > MAX_TAGS:
        raise InvalidInput("til.too_many_tags", limit=MAX_TAGS)
    too_long = [tag for tag in tags if len(tag) > MAX_TAG_CHARS]
    if too_long:
        raise InvalidInput("til.tag_too_long", tag=too_long[0][:40], limit=MAX_TAG_CHARS)
    return tags


def clean_draft(
    *,
    title: str | None,
    learned: str | None,
    hard: str | None = None,
    curious: str | None = None,
    reflection: str | None = None,
    tags: str | None = None,
    day: date,
) -> TilDraft:
    """Trims every field, drops invisible characters, closes unbalanced code fences, and checks the limits.

    Raises InvalidInput naming the field: "til.learned_required" when what-I-learned is empty (or only
    whitespace and zero-width characters), "til.too_long_<section>" with the limit and the length given.
    """
    values = {
        Section.TITLE: _clean_text(title) or default_title(day),
        Section.LEARNED: _clean_text(learned),
        Section.HARD: _clean_text(hard),
        Section.CURIOUS: _clean_text(curious),
        Section.REFLECTION: _clean_text(reflection),
    }
    if not values[Section.LEARNED]:
        raise InvalidInput("til.learned_required")
    for section, value in values.items():
        if len(value) > LIMITS[section]:
            raise InvalidInput(f"til.too_long_{section.value}", limit=LIMITS[section], length=len(value))
    values = {section: _close_fences(value) for section, value in values.items()}
    return TilDraft(
        title=values[Section.TITLE],
        learned=values[Section.LEARNED],
        hard=values[Section.HARD],
        curious=values[Section.CURIOUS],
        reflection=values[Section.REFLECTION],
        tags=parse_tags(tags),
    )
