"""The weekly "what we learned this week" digest of a guild's TIL posts.

Each member's week is summarised in 2-3 lines (`prompts/til_digest_member.*.md`), all members in one `abatch`
with a bounded `max_concurrency` on the `ChainRunner`'s worker loop; then one call combines the summaries into
the post (`prompts/til_digest.*.md`). The digest also carries every post of the week (for jump links) and the
streak leaders, which the publisher shows whatever the model did.

Without a model, or when the model fails, the digest is still made: `text` is empty and the publisher shows the
list of posts per member and the leaders. A member whose summary failed is combined from their post titles.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from bot.llm.chains import ChainFactory
from bot.llm.metering import GenerationMeter
from bot.llm.runner import ChainRunner
from bot.services.quiz.generate import ask_all
from bot.services.til.model import TilPost

log = logging.getLogger(__name__)

LEADERS = 3
# Bounds on what goes into the prompts, so a prolific member or a large guild cannot make one call huge.
MAX_POST_CHARS = 1200
MAX_MEMBER_CHARS = 6000
MAX_SUMMARY_CHARS = 400
MAX_COMBINED_MEMBERS = 40


class _StreakLike(Protocol):
    @property
    def current(self) -> int: ...


class WeekSource(Protocol):
    """Where the week's posts and the streaks come from: `TilService` (bot.services.til.posts)."""

    async def posts_between(self, guild_id: int, start: date, end: date) -> Sequence[TilPost]: ...

    async def streak_board(self, guild_id: int, limit: int = ...) -> Sequence[tuple[int, _StreakLike]]: ...


@dataclass(frozen=True)
class PostLink:
    post_id: int
    guild_id: int
    author_id: int
    title: str
    local_date: date
    channel_id: int | None
    message_id: int | None
    thread_id: int | None


@dataclass(frozen=True)
class MemberWeek:
    user_id: int
    posts: tuple[PostLink, ...]
    """Oldest first."""
    days: int
    """Distinct local days with a TIL this week."""
    summary: str | None
    """2-3 lines from the model; None without one (or when its call failed)."""


@dataclass(frozen=True)
class Digest:
    guild_id: int
    week_start: date
    week_end: date
    text: str
    """The combined post from the model; empty without one (or when it failed): show the members' list instead."""
    members: tuple[MemberWeek, ...]
    """Most active first (days, then posts)."""
    leaders: tuple[tuple[int, int], ...]
    """(user id, current streak in days), longest first."""


def _link(post: TilPost) -> PostLink:
    return PostLink(
        post.id, post.guild_id, post.author_id, post.title, post.local_date, post.channel_id, post.message_id,
        post.thread_id,
    )  # fmt: skip


def _member_text(posts: Sequence[TilPost]) -> str:
    """The posts as data only: what each part is, the prompt (`til_digest_member.*.md`) says in its language."""
    parts = []
    for post in posts:
        lines = [f"<post>\n[{post.local_date.isoformat()}] {post.title}"]
        if post.tags:
            lines.append(f"<tags>{', '.join(post.tags)}</tags>")
        lines.append(f"<learned>\n{post.learned[:MAX_POST_CHARS]}\n</learned>")
        if post.hard:
            lines.append(f"<hard>\n{post.hard[: MAX_POST_CHARS // 3]}\n</hard>")
        parts.append("\n".join(lines) + "\n</post>")
    return "\n\n".join(parts)[:MAX_MEMBER_CHARS]


class TilDigestService:
    def __init__(
        self, chains: ChainFactory | None, runner: ChainRunner, week: WeekSource, *, max_concurrency: int = 3
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._chains = chains
        self._runner = runner
        self._week = week
        self.max_concurrency = max_concurrency

    async def weekly_digest(self, guild_id: int, week_start: date, language: str) -> Digest:
        """The digest of the seven local days from `week_start`; model failures leave `text` empty, never raise."""
        week_end = week_start + timedelta(days=6)
        by_author: dict[int, list[TilPost]] = {}
        for post in await self._week.posts_between(guild_id, week_start, week_end):
            by_author.setdefault(post.author_id, []).append(post)
        authors = sorted(
            by_author,
            key=lambda author: (-len({p.local_date for p in by_author[author]}), -len(by_author[author]), author),
        )
        board = await self._week.streak_board(guild_id, LEADERS)
        leaders = tuple((user_id, streak.current) for user_id, streak in board if streak.current > 0)[:LEADERS]

        summaries: dict[int, str] = {}
        text = ""
        if self._chains is not None and authors:
            summaries, text = await self._summarise(authors, by_author, week_start, week_end, language, self._chains)
        members = tuple(
            MemberWeek(
                user_id=author,
                posts=tuple(_link(post) for post in sorted(by_author[author], key=lambda p: (p.local_date, p.id))),
                days=len({post.local_date for post in by_author[author]}),
                summary=summaries.get(author),
            )
            for author in authors
        )
        return Digest(guild_id, week_start, week_end, text, members, leaders)

    async def _summarise(
        self,
        authors: Sequence[int],
        by_author: dict[int, list[TilPost]],
        week_start: date,
        week_end: date,
        language: str,
        chains: ChainFactory,
    ) -> tuple[dict[int, str], str]:
        meter = GenerationMeter()
        inputs = [{"posts": _member_text(by_author[author])} for author in authors]
        outputs = await ask_all(self._runner, chains.til_digest_member(language), inputs, meter, self.max_concurrency)
        summaries: dict[int, str] = {}
        for author, output in zip(authors, outputs, strict=True):
            if isinstance(output, Exception):
                log.info("TIL digest: summarising member %s failed: %r", author, output)
            elif output.strip():
                summaries[author] = output.strip()[:MAX_SUMMARY_CHARS]

        lines = []
        for author in authors[:MAX_COMBINED_MEMBERS]:
            # A member whose summary failed still counts: their titles say what they studied.
            said = summaries.get(author) or "; ".join(post.title for post in by_author[author])
            # The prompt (`til_digest.*.md`) says what the number in parentheses counts.
            lines.append(f"<@{author}> ({len(by_author[author])}): {said[:MAX_SUMMARY_CHARS]}")
        combine = {"week": f"{week_start.isoformat()} ~ {week_end.isoformat()}", "summaries": "\n".join(lines)}
        [combined] = await ask_all(self._runner, chains.til_digest(language), [combine], meter, 1)
        if isinstance(combined, Exception):
            log.info("TIL digest: combining the summaries failed: %r", combined)
            combined = ""
        log.info(
            "TIL digest: %d member(s), %d summarised; %d input and %d output tokens",
            len(authors), len(summaries), meter.input_tokens, meter.output_tokens,
        )  # fmt: skip
        return summaries, combined.strip()
