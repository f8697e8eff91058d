"""Posting TILs, finding them again, and the streaks they make.

A post belongs to the author's local day when it was written: the member's time zone, else the guild's, else
Asia/Seoul. Only the author edits a post; the author or a moderator deletes it. Search is full-text over
every section (FTS5 with the trigram tokenizer, so Korean matches inside words: "인스턴스" finds
"인스턴스를"); whatever a member types is searched for as text, never run as query syntax.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput, NotAllowed
from bot.services.daily import DEFAULT_TIMEZONE, resolve_timezone
from bot.services.til.model import TilDraft, TilPost, TilSettings
from bot.services.til.streaks import Streak, streak_of
from bot.storage.til import SearchQuery, TilRepository

__all__ = [
    "Page",
    "SearchHit",
    "Streak",
    "TilService",
    "TilSettings",
    "fts_string",
    "like_pattern",
    "parse_query",
    "snippet",
]

T = TypeVar("T")

MAX_PER_PAGE = 25
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 8
# The trigram index holds every run of three characters: a shorter term has nothing to look up as it is.
MIN_INDEXED_CHARS = 3
MAX_TRIGRAMS_PER_TERM = 32
# Ranking and counting stop at this many matches, so a word found in half of all posts is answered as fast as
# a rare one; nobody pages through more.
SEARCH_LIMIT = 1000
SNIPPET_CHARS = 200
PUBLISH_FAILURES = frozenset({"channel_missing", "forbidden", "not_configured", "unavailable"})
# Markdown a member's text could use to break out of the snippet's own ** **.
_MARKDOWN = re.compile(r"([\\*_`~|>\[\]#-])")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    """1-based, within 1..pages."""
    per_page: int
    total: int
    more: bool = False
    """True when there are more than `total` items (search counts up to `SEARCH_LIMIT`)."""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass(frozen=True)
class SearchHit:
    post: TilPost
    snippet: str
    """Text around the first match, on one line, Markdown in it escaped, every match wrapped in ** **;
    at most 200 characters. Ready to put in an embed as it is."""


def parse_query(text: str) -> list[str]:
    """A member's search text as the terms to look for: its whitespace-separated words, each a literal
    substring (no character has a meaning of its own), duplicates in another letter case dropped."""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput("til.search_too_long", limit=MAX_QUERY_CHARS)
    first_spelling: dict[str, str] = {}
    for term in text.split():
        first_spelling.setdefault(term.lower(), term)
    terms = list(first_spelling.values())
    if not terms:
        raise InvalidInput("til.search_empty")
    if len(terms) > MAX_QUERY_TERMS:
        raise InvalidInput("til.search_too_many_terms", limit=MAX_QUERY_TERMS)
    return terms


def fts_string(text: str) -> str:
    """`text` as an FTS5 string: matched as it is, whatever syntax characters (" * ( : ^ - NEAR AND) it has."""
    return '"' + text.replace('"', '""') + '"'


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character: backslash) for `text` anywhere in a value."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def snippet(post: TilPost, terms: Iterable[str]) -> str:
    """The text around the first match in the post's body (else its title, else its tags), matches in ** **."""
    pattern = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    sections = [post.learned, post.hard, post.curious, post.reflection, post.title, ", ".join(post.tags)]
    text, before = " ".join(post.learned.split()), 0
    for section in sections:
        flat = " ".join(section.split())
        hit = pattern.search(flat)
        if hit:
            text, before = flat, hit.start()
            break
    width = SNIPPET_CHARS
    while True:
        start = max(0, before - width // 4)
        window = text[start : start + width]
        pieces, cursor = [], 0
        for hit in pattern.finditer(window):
            pieces += [_escape(window[cursor : hit.start()]), f"**{_escape(hit.group())}**"]
            cursor = hit.end()
        pieces.append(_escape(window[cursor:]))
        result = ("…" if start else "") + "".join(pieces) + ("…" if start + width < len(text) else "")
        # Escapes and markers lengthen the text: narrow the window until the whole fits.
        if len(result) <= SNIPPET_CHARS:
            return result
        width -= 10


def _escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def _known_zone(name: str | None) -> ZoneInfo | None:
    """A stored zone name as a zone; None when unset or no longer known."""
    if not name:
        return None
    try:
        return resolve_timezone(name)
    except InvalidInput:
        return None


class TilService:
    def __init__(self, repo: TilRepository, now: Callable[[], datetime]) -> None:
        self._repo = repo
        self._now = now

    # --- days ------------------------------------------------------------------------------------------------

    async def timezone_of(self, guild_id: int, user_id: int) -> str:
        """The member's time zone, else the guild's, else Asia/Seoul (a stored name no longer known is skipped)."""
        zone = _known_zone(await self._repo.user_timezone(user_id))
        return zone.key if zone else await self.guild_timezone(guild_id)

    async def guild_timezone(self, guild_id: int) -> str:
        zone = _known_zone(await self._repo.guild_timezone(guild_id))
        return zone.key if zone else DEFAULT_TIMEZONE

    async def today(self, guild_id: int, user_id: int) -> date:
        return self._now().astimezone(ZoneInfo(await self.timezone_of(guild_id, user_id))).date()

    async def set_timezone(self, user_id: int, timezone: str) -> None:
        try:
            zone = resolve_timezone(timezone)
        except InvalidInput as exc:
            raise InvalidInput("til.unknown_timezone", value=timezone[:40]) from exc
        await self._repo.set_user_timezone(user_id, zone.key, self._now())

    # --- posts -----------------------------------------------------------------------------------------------

    async def create(self, guild_id: int, author_id: int, draft: TilDraft) -> TilPost:
        """Saves a TIL (already checked by `clean_draft`) on the author's local day."""
        day = await self.today(guild_id, author_id)
        return await self._repo.insert_post(guild_id, author_id, draft, day, self._now())

    async def get(self, guild_id: int, post_id: int) -> TilPost:
        post = await self._repo.post(post_id)
        if post is None or post.guild_id != guild_id:
            raise InvalidInput("til.not_found", id=post_id)
        return post

    async def latest(self, guild_id: int, author_id: int) -> TilPost | None:
        return await self._repo.latest(guild_id, author_id)

    async def edit(self, guild_id: int, post_id: int, editor_id: int, draft: TilDraft) -> TilPost:
        """Replaces the text of the editor's own post; its day and publication stay."""
        post = await self.get(guild_id, post_id)
        if post.author_id != editor_id:
            raise NotAllowed("til.not_yours")
        await self._repo.update_post(post_id, draft, self._now())
        return await self.get(guild_id, post_id)

    async def delete(self, guild_id: int, post_id: int, actor_id: int, *, moderator: bool) -> TilPost:
        """Deletes the post (the author's own, or any for a moderator); returns it, to remove its message."""
        post = await self.get(guild_id, post_id)
        if post.author_id != actor_id and not moderator:
            raise NotAllowed("til.not_yours")
        if not await self._repo.delete_post(post_id):
            raise InvalidInput("til.not_found", id=post_id)  # deleted meanwhile, by someone else
        return post

    async def record_published(self, post_id: int, channel_id: int, message_id: int, thread_id: int | None) -> None:
        await self._repo.set_published(post_id, channel_id, message_id, thread_id)

    async def record_publish_failed(self, post_id: int, reason: str) -> None:
        """Remembers why the post is not in the TIL channel; the post itself stays saved."""
        if reason not in PUBLISH_FAILURES:
            raise ValueError(f"unknown publish failure {reason!r}; one of {sorted(PUBLISH_FAILURES)}")
        await self._repo.set_publish_error(post_id, reason)

    async def list_posts(self, guild_id: int, author_id: int | None, page: int = 1, per_page: int = 5) -> Page[TilPost]:
        """Newest first; a page past the end shows the last one."""
        per_page = _per_page(per_page)
        total = await self._repo.count_posts(guild_id, author_id)
        page = _page_within(page, total, per_page)
        items = await self._repo.list_posts(guild_id, author_id, per_page, (page - 1) * per_page)
        return Page(items, page, per_page, total)

    async def posts_between(self, guild_id: int, start: date, end: date) -> list[TilPost]:
        """Posts whose local day is in [start, end], oldest first."""
        return await self._repo.posts_between(guild_id, start, end)

    async def published_posts_by(self, author_id: int) -> list[TilPost]:
        """The member's posts with a message in a TIL channel, in every guild: the messages to remove with them."""
        return await self._repo.published_posts_by(author_id)

    # --- search ----------------------------------------------------------------------------------------------

    async def search(self, guild_id: int, query: str, page: int = 1, per_page: int = 5) -> Page[SearchHit]:
        """Posts containing every word of `query` (as a substring, in any letter case), best match first.

        At most the newest 1,000 matching posts are ranked and counted (`Page.more` says there were more).
        Raises InvalidInput "til.search_empty" for a blank query, "til.search_too_long" and
        "til.search_too_many_terms" for queries too big to answer quickly.
        """
        per_page = _per_page(per_page)
        terms = parse_query(query)
        index_query = await self._index_query(terms)
        ids = [] if index_query is None else await self._repo.search_ids(guild_id, index_query, SEARCH_LIMIT + 1)
        more = len(ids) > SEARCH_LIMIT
        ids = ids[:SEARCH_LIMIT]
        page = _page_within(page, len(ids), per_page)
        posts = await self._repo.posts(ids[(page - 1) * per_page : page * per_page])
        return Page([SearchHit(post, snippet(post, terms)) for post in posts], page, per_page, len(ids), more)

    async def _index_query(self, terms: list[str]) -> SearchQuery | None:
        """The terms as an index query; None when a term occurs in no post at all.

        Terms of three characters or more are trigram strings. A shorter one stands for the trigrams it starts
        (the index puts a newline after each column, so every occurrence starts one); a short term that starts
        too many to list is common, and is checked with LIKE on the posts the other terms found.
        """
        strings, substrings = [], []
        for term in terms:
            if len(term) >= MIN_INDEXED_CHARS:
                strings.append(fts_string(term))
                continue
            trigrams = await self._repo.trigrams_starting(term.lower(), MAX_TRIGRAMS_PER_TERM)
            if trigrams is None:
                substrings.append(like_pattern(term))
            elif not trigrams:
                return None
            else:
                strings.append("(" + " OR ".join(map(fts_string, trigrams)) + ")")
        return SearchQuery(" AND ".join(strings) or None, substrings)

    # --- streaks ---------------------------------------------------------------------------------------------

    async def streak(self, guild_id: int, user_id: int) -> Streak:
        today = await self.today(guild_id, user_id)
        return streak_of(await self._repo.author_days(guild_id, user_id), today)

    async def streak_board(self, guild_id: int, limit: int = 10) -> list[tuple[int, Streak]]:
        """Members on a streak now, longest current streak first (then longest ever, then most days)."""
        days = await self._repo.guild_days(guild_id)
        member_zones = await self._repo.user_timezones(days)
        guild_zone = ZoneInfo(await self.guild_timezone(guild_id))
        now = self._now()
        board = []
        for user_id, active in days.items():
            zone = _known_zone(member_zones.get(user_id)) or guild_zone
            streak = streak_of(active, now.astimezone(zone).date())
            if streak.current:
                board.append((user_id, streak))
        board.sort(key=lambda entry: (-entry[1].current, -entry[1].longest, -entry[1].total_days, entry[0]))
        return board[:limit]

    async def activity(self, guild_id: int, user_id: int, days: int = 182) -> dict[date, int]:
        """Posts per local day over the member's last `days` days (today included); days without posts are absent."""
        today = await self.today(guild_id, user_id)
        return await self._repo.posts_per_day(guild_id, user_id, today - timedelta(days=days - 1), today)

    # --- settings and member choices -------------------------------------------------------------------------

    async def settings(self, guild_id: int) -> TilSettings:
        return await self._repo.settings(guild_id, await self.guild_timezone(guild_id))

    async def set_channel(self, guild_id: int, channel_id: int | None, *, thread_per_member: bool) -> TilSettings:
        await self._repo.set_channel(guild_id, channel_id, thread_per_member, self._now())
        return await self.settings(guild_id)

    async def member_thread(self, guild_id: int, user_id: int) -> int | None:
        return await self._repo.member_choice(guild_id, user_id, "thread_id")

    async def set_member_thread(self, guild_id: int, user_id: int, thread_id: int | None) -> None:
        await self._repo.set_member_choice(guild_id, user_id, "thread_id", thread_id, self._now())

    async def set_quiz_opt_out(self, guild_id: int, user_id: int, opt_out: bool) -> None:
        await self._repo.set_member_choice(guild_id, user_id, "quiz_opt_out", int(opt_out), self._now())

    async def set_reminder_dm(self, guild_id: int, user_id: int, enabled: bool) -> None:
        await self._repo.set_member_choice(guild_id, user_id, "reminder_dm", int(enabled), self._now())


def _per_page(per_page: int) -> int:
    return max(1, min(per_page, MAX_PER_PAGE))


def _page_within(page: int, total: int, per_page: int) -> int:
    return max(1, min(page, math.ceil(total / per_page) or 1))
