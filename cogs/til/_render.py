"""TIL posts as Discord shows them: the post embed, lists, search results, streaks and the board.

Member text goes into embeds as it is (Markdown included; `clean_draft` already closed stray code fences).
Embeds never ping, and every message carrying them is sent with `AllowedMentions.none()` anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import discord

from bot.services.til.model import TilPost
from bot.services.til.posts import Page, SearchHit, Streak

Text = Callable[..., str]

POST_COLOUR = discord.Colour.teal()
LIST_COLOUR = discord.Colour.blurple()
EMBED_TOTAL_LIMIT = 6000
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
# The three optional sections, in the example post's order, as embed fields.
SECTION_FIELDS = (("hard", "til_ui.section_hard"), ("curious", "til_ui.section_curious"))
MEDALS = ("🥇", "🥈", "🥉")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def jump_url(post: TilPost) -> str | None:
    """The published message's link; a forum post's starter message lives in its thread."""
    if post.message_id is None or post.channel_id is None:
        return None
    where = post.thread_id or post.channel_id
    return f"https://discord.com/channels/{post.guild_id}/{where}/{post.message_id}"


def tags_line(tags: Sequence[str]) -> str:
    return " ".join(f"`#{tag}`" for tag in tags)


def post_embed(
    text: Text, post: TilPost, *, author_name: str, author_icon: str | None, streak: Streak | None
) -> discord.Embed:
    """The post in the example's shape: title, what I learned, what was hard, curious/lacking, reflection."""
    embed = discord.Embed(
        title=clip(post.title, 256),
        description=clip(post.learned, DESCRIPTION_LIMIT),
        colour=POST_COLOUR,
        timestamp=post.created_at,
    )
    embed.set_author(name=clip(author_name, 256), icon_url=author_icon)
    for attribute, key in SECTION_FIELDS:
        value: str = getattr(post, attribute)
        if value:
            embed.add_field(name=text(key), value=clip(value, FIELD_LIMIT), inline=False)
    if post.reflection:
        embed.add_field(name=text("til_ui.section_reflection"), value=clip(post.reflection, FIELD_LIMIT), inline=False)
    if post.tags:
        embed.add_field(name=text("til_ui.field_tags"), value=tags_line(post.tags), inline=False)
    footer = text("til_ui.footer", date=post.local_date.isoformat(), id=post.id)
    if streak is not None and streak.current > 0:
        footer = text("til_ui.footer_streak", footer=footer, days=streak.current)
    embed.set_footer(text=footer)
    _fit(embed)
    return embed


def _fit(embed: discord.Embed) -> None:
    """The model's limits keep a post within 6,000 characters; long names and labels could still tip it over,
    so the description (the longest part) gives way."""
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
    title = text("til_ui.list_title_user", user=whose) if whose else text("til_ui.list_title")
    lines = [post_line(text, post) for post in page.items]
    embed = discord.Embed(
        title=clip(title, 256),
        description="\n".join(lines) if lines else text("til_ui.list_empty"),
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
    lines = [
        text(
            "til_ui.board_line",
            rank=MEDALS[rank] if rank < len(MEDALS) else f"{rank + 1}.",
            user=user_id,
            days=streak.current,
            longest=streak.longest,
        )
        for rank, (user_id, streak) in enumerate(leaders)
    ]
    return discord.Embed(
        title=text("til_ui.board_title"),
        description="\n".join(lines) if lines else text("til_ui.board_empty"),
        colour=POST_COLOUR,
    )
