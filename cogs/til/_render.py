"""TIL posts as Discord shows them: the post embed, lists, search results, streaks and the board.

Member text goes into embeds as it is (Markdown included; `clean_draft` already closed stray code fences).
Embeds never ping, and every message carrying them is sent with `AllowedMentions.none()` anyway.

A TIL may be longer than one message can show (model.LIMITS): then the embed is a preview, each long section
cut at a paragraph or line with "…", a note says so, and the whole TIL rides along as a Markdown file in the
export's shape (`post_message`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import discord

from bot.services.til.export import post_filename, post_markdown
from bot.services.til.model import TilPost
from bot.services.til.model import jump_url as jump_url  # the cog links posts with it too
from bot.services.til.posts import Page, SearchHit, Streak
from cogs.quiz._render import rank_labels

Text = Callable[..., str]

POST_COLOUR = discord.Colour.teal()
LIST_COLOUR = discord.Colour.blurple()
EMBED_TOTAL_LIMIT = 6000
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
# The three optional sections, in the example post's order, as embed fields.
SECTION_FIELDS = (("hard", "til_ui.section_hard"), ("curious", "til_ui.section_curious"))
CUT_MARK = "…"
_FENCE = "```"
# What a cut may add after the kept text: a closing fence and the mark, each on a line of its own.
_CUT_ROOM = len(f"\n{_FENCE}\n{CUT_MARK}")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def preview(text: str, limit: int) -> str:
    """`text` when it fits in `limit` characters; else its beginning up to the last paragraph break that fits
    (else line break, else space, as long as that keeps at least half), then "…" on a line of its own. A code
    block the kept part opens is closed, so the rest of the embed does not turn into code."""
    if len(text) <= limit:
        return text
    if limit <= _CUT_ROOM * 2:
        return clip(text, limit)
    window = text[: limit - _CUT_ROOM]
    cut = len(window)
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at >= len(window) // 2:
            cut = at
            break
    kept = window[:cut].rstrip()
    if kept.count(_FENCE) % 2:
        kept += f"\n{_FENCE}"
    return f"{kept}\n{CUT_MARK}"


@dataclass(frozen=True)
class PostMessage:
    """What shows a TIL: the embed, and the whole TIL as Markdown when the embed is only a preview."""

    embed: discord.Embed
    markdown: str | None = None
    filename: str = ""

    def files(self) -> list[discord.File]:
        """A new upload every time (a File is read as it is sent): empty for a post the embed shows whole, so an
        edit given `attachments=files()` also drops the file of a post that became short enough."""
        if self.markdown is None:
            return []
        return [discord.File(io.BytesIO(self.markdown.encode()), filename=self.filename)]


def post_message(
    text: Text, post: TilPost, *, author_name: str, author_icon: str | None, streak: Streak | None, language: str
) -> PostMessage:
    """The post's embed as it always was when it fits one message (description 4,096, field 1,024, 6,000 in all);
    else a preview embed with a note, and the whole post as a Markdown file (headings in `language`)."""
    whole = post_embed(text, post, author_name=author_name, author_icon=author_icon, streak=streak)
    if whole is not None:
        return PostMessage(whole)
    filename = f"{post_filename(post)}.md"
    embed = _embed(text, post, author_name=author_name, author_icon=author_icon, streak=streak, note=filename)
    return PostMessage(embed, post_markdown(post, language=language), filename)


def tags_line(tags: Sequence[str]) -> str:
    return " ".join(f"`#{tag}`" for tag in tags)


def post_embed(
    text: Text, post: TilPost, *, author_name: str, author_icon: str | None, streak: Streak | None
) -> discord.Embed | None:
    """The whole post in the example's shape (title, what I learned, what was hard, curious/lacking,
    reflection), or None when it does not fit one message."""
    sections = [post.hard, post.curious, post.reflection]
    if len(post.learned) > DESCRIPTION_LIMIT or any(len(value) > FIELD_LIMIT for value in sections):
        return None
    embed = _embed(text, post, author_name=author_name, author_icon=author_icon, streak=streak, note=None)
    return embed if len(embed) <= EMBED_TOTAL_LIMIT else None


def _embed(
    text: Text, post: TilPost, *, author_name: str, author_icon: str | None, streak: Streak | None, note: str | None
) -> discord.Embed:
    """With a `note` (the attached file's name): a preview, every section cut to what one message holds."""
    embed = discord.Embed(title=clip(post.title, 256), colour=POST_COLOUR, timestamp=post.created_at)
    embed.set_author(name=clip(author_name, 256), icon_url=author_icon)
    sections = [(key, getattr(post, attribute)) for attribute, key in SECTION_FIELDS]
    sections.append(("til_ui.section_reflection", post.reflection))
    for key, value in sections:
        if value:
            embed.add_field(name=text(key), value=preview(value, FIELD_LIMIT), inline=False)
    if post.tags:
        embed.add_field(name=text("til_ui.field_tags"), value=tags_line(post.tags), inline=False)
    if note is not None:
        embed.add_field(name=text("til_ui.preview_title"), value=text("til_ui.preview_note", file=note), inline=False)
    footer = text("til_ui.footer", date=post.local_date.isoformat(), id=post.id)
    if streak is not None and streak.current > 0:
        footer = text("til_ui.footer_streak", footer=footer, days=streak.current)
    embed.set_footer(text=footer)
    # What I learned takes what the rest leaves of the 6,000 characters (the rest needs at most ~4,000).
    if note is None:
        embed.description = post.learned
        return embed
    embed.description = preview(post.learned, max(min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - len(embed)), 100))
    _fit(embed)
    return embed


def _fit(embed: discord.Embed) -> None:
    """A safety net: names and labels are bounded, but should they tip the embed over 6,000 characters, the
    description (the longest part) gives way."""
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, len(embed.description) - excess - 1)


def post_line(text: Text, post: TilPost) -> str:
    """One line in a list: id, title (linked when published), date and tags."""
    url = jump_url(post)
    title = discord.utils.escape_markdown(clip(post.title, 80))
    linked = f"[{title}]({url})" if url else title
    unpublished = "" if post.published else " " + text("til_ui.unpublished_mark")
    tags = f" · {tags_line(post.tags)}" if post.tags else ""
    return f"`#{post.id}` {linked} — <@{post.author_id}> · {post.local_date.isoformat()}{tags}{unpublished}"


def list_embed(text: Text, page: Page[TilPost], *, whose: str | None) -> discord.Embed:
    lines = [post_line(text, post) for post in page.items]
    body = "\n".join(lines) if lines else text("til_ui.list_empty")
    # Discord shows a mention as a name in a description, never in a title.
    heading = text("til_ui.list_by", user=whose) if whose else None
    embed = discord.Embed(
        title=text("til_ui.list_title"),
        description=clip(f"{heading}\n\n{body}" if heading else body, DESCRIPTION_LIMIT),
        colour=LIST_COLOUR,
    )
    embed.set_footer(text=text("til_ui.page_footer", page=page.page, pages=page.pages, total=page.total))
    return embed


def search_embed(text: Text, query: str, page: Page[SearchHit]) -> discord.Embed:
    embed = discord.Embed(
        title=clip(text("til_ui.search_title", query=query), 256),
        colour=LIST_COLOUR,
        description=None if page.items else text("til_ui.search_nothing"),
    )
    for hit in page.items:
        embed.add_field(
            name=clip(f"#{hit.post.id} {hit.post.title} · {hit.post.local_date.isoformat()}", 256),
            value=clip(_hit_value(hit), FIELD_LIMIT),
            inline=False,
        )
    embed.set_footer(text=text("til_ui.page_footer", page=page.page, pages=page.pages, total=page.total))
    return embed


def _hit_value(hit: SearchHit) -> str:
    url = jump_url(hit.post)
    link = f" · [↗]({url})" if url else ""
    return f"{hit.snippet or '…'}\n<@{hit.post.author_id}>{link}"


def streak_embed(text: Text, streak: Streak, *, whose: str, image: str | None) -> discord.Embed:
    embed = discord.Embed(title=clip(text("til_ui.streak_title", user=whose), 256), colour=POST_COLOUR)
    embed.add_field(name=text("til_ui.streak_current"), value=text("til_ui.days", days=streak.current))
    embed.add_field(name=text("til_ui.streak_longest"), value=text("til_ui.days", days=streak.longest))
    embed.add_field(name=text("til_ui.streak_total"), value=text("til_ui.days", days=streak.total_days))
    embed.add_field(
        name=text("til_ui.streak_today"),
        value=text("til_ui.today_yes" if streak.posted_today else "til_ui.today_no"),
        inline=False,
    )
    if image:
        embed.set_image(url=f"attachment://{image}")
    return embed


def board_embed(text: Text, leaders: Sequence[tuple[int, Streak]]) -> discord.Embed:
    labels = rank_labels([streak.current for _, streak in leaders])
    lines = [
        text("til_ui.board_line", rank=label, user=user_id, days=streak.current, longest=streak.longest)
        for label, (user_id, streak) in zip(labels, leaders, strict=True)
    ]
    return discord.Embed(
        title=text("til_ui.board_title"),
        description="\n".join(lines) if lines else text("til_ui.board_empty"),
        colour=POST_COLOUR,
    )
