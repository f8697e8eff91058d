"""The weekly TIL digest with an in-process fake chat model: per-member summaries in one bounded batch, one
combining call, and a digest that still lists the week when there is no model or it fails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from langchain_core.language_models import BaseChatModel
from pydantic import Field

from bot.llm.chains import ChainFactory
from bot.llm.prompts import PromptLibrary
from bot.llm.runner import ChainRunner
from bot.services.til.digest import TilDigestService
from bot.services.til.model import TilPost, jump_url
from tests.fakes.chat_models import ConcurrentFakeModel

RUNNER = ChainRunner()
PROMPTS = PromptLibrary.load()
GUILD, CHANNEL = 1, 100
MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def close_runner() -> Iterator[None]:
    yield
    RUNNER.close()


@dataclass(frozen=True)
class FakeStreak:
    current: int


class FakeWeek:
    """What TilService gives the digest: posts by local day, and the streak board."""

    def __init__(self, posts: list[TilPost], board: list[tuple[int, FakeStreak]] | None = None) -> None:
        self.posts = posts
        self.board = board or []
        self.asked: list[tuple[date, date]] = []

    async def posts_between(self, guild_id: int, start: date, end: date) -> list[TilPost]:
        self.asked.append((start, end))
        return [p for p in self.posts if p.guild_id == guild_id and start <= p.local_date <= end]

    async def streak_board(self, guild_id: int, limit: int = 10) -> list[tuple[int, FakeStreak]]:
        return self.board[:limit]


_ids = iter(range(1, 10_000))


def til(author: int, day: date, title: str, *, published: bool = True, thread: int | None = None) -> TilPost:
    post_id = next(_ids)
    return TilPost(
        id=post_id, guild_id=GUILD, author_id=author, title=title, learned=f"{title}: notes", hard="", curious="",
        reflection="", tags=("AWS",), local_date=day, created_at=NOW, updated_at=NOW,
        channel_id=CHANNEL if published else None, message_id=5000 + post_id if published else None, thread_id=thread,
    )  # fmt: skip


class DigestModel(ConcurrentFakeModel):
    """Summarises a member by their first post title, combines by listing what it got."""

    fail_titles: set[str] = Field(default_factory=set)
    fail_combine: bool = False

    def reply(self, prompt: str) -> str:
        if "<summaries>" in prompt:
            if self.fail_combine:
                raise RuntimeError("model down")
            return "This week: " + prompt.split("<summaries>")[1].split("</summaries>")[0].strip()
        title = re.search(r"\] (\S+)", prompt)
        assert title is not None
        if title[1] in self.fail_titles:
            raise RuntimeError("model down")
        return f" Studied {title[1]}.\n"


def digest_service(week: FakeWeek, model: BaseChatModel | None, max_concurrency: int = 3) -> TilDigestService:
    chains = ChainFactory(model, PROMPTS) if model is not None else None
    return TilDigestService(chains, RUNNER, week, max_concurrency=max_concurrency)


def week_of(members: int) -> list[TilPost]:
    """Member n posted on n+1 days of the week (so member 11 is the most active), each day one TIL."""
    return [til(10 + n, MONDAY + timedelta(days=d), f"Topic{n}-{d}") for n in range(members) for d in range(n + 1)]


async def test_each_member_is_summarised_in_one_bounded_batch_then_combined() -> None:
    week = FakeWeek(week_of(5), board=[(14, FakeStreak(9)), (13, FakeStreak(4)), (12, FakeStreak(2))])
    model = DigestModel()
    digest = await digest_service(week, model, max_concurrency=2).weekly_digest(GUILD, MONDAY, "en")

    assert week.asked == [(MONDAY, MONDAY + timedelta(days=6))]
    assert len(model.prompts) == 6  # five members, then one combining call
    assert model.max_in_flight == 2
    assert [member.user_id for member in digest.members] == [14, 13, 12, 11, 10]  # most days first
    assert [member.days for member in digest.members] == [5, 4, 3, 2, 1]
    assert digest.members[0].summary == "Studied Topic4-0."
    # The combining call saw every member by their mention token, most active first, and the week.
    combine = model.prompts[-1]
    assert "2026-11-23 ~ 2026-11-29" in combine
    assert combine.index("<@14> (5): Studied Topic4-0.") < combine.index("<@10> (1): Studied Topic0-0.")
    assert digest.text.startswith("This week: <@14>")
    assert digest.leaders == ((14, 9), (13, 4), (12, 2))
    assert sum(len(member.posts) for member in digest.members) == 15


async def test_links_jump_to_the_published_message_or_its_thread() -> None:
    posts = [
        til(10, MONDAY, "Forum", thread=777),
        til(10, MONDAY + timedelta(days=1), "Text"),
        til(10, MONDAY + timedelta(days=2), "Unpublished", published=False),
    ]
    digest = await digest_service(FakeWeek(posts), None).weekly_digest(GUILD, MONDAY, "en")
    forum, text, unpublished = digest.members[0].posts
    assert jump_url(forum) == f"https://discord.com/channels/{GUILD}/777/{forum.message_id}"
    assert jump_url(text) == f"https://discord.com/channels/{GUILD}/{CHANNEL}/{text.message_id}"
    assert jump_url(unpublished) is None


async def test_without_a_model_the_digest_is_the_list_of_posts_and_leaders() -> None:
    week = FakeWeek(week_of(2), board=[(11, FakeStreak(2)), (10, FakeStreak(0))])
    digest = await digest_service(week, None).weekly_digest(GUILD, MONDAY, "en")
    assert digest.text == ""
    assert [(member.user_id, member.summary, len(member.posts)) for member in digest.members] == [
        (11, None, 2),
        (10, None, 1),
    ]
    assert digest.leaders == ((11, 2),)  # a streak of zero leads nothing


async def test_a_failed_summary_falls_back_to_the_titles_and_a_failed_combine_to_the_list() -> None:
    week = FakeWeek(week_of(2))
    model = DigestModel(fail_titles={"Topic1-0"})
    digest = await digest_service(week, model).weekly_digest(GUILD, MONDAY, "en")
    assert [member.summary for member in digest.members] == [None, "Studied Topic0-0."]
    assert "<@11> (2): Topic1-0; Topic1-1" in model.prompts[-1]
    assert digest.text.startswith("This week:")

    model = DigestModel(fail_combine=True)
    digest = await digest_service(week, model).weekly_digest(GUILD, MONDAY, "en")
    assert digest.text == ""
    assert [member.summary for member in digest.members] == ["Studied Topic1-0.", "Studied Topic0-0."]


async def test_a_week_without_posts_asks_the_model_nothing() -> None:
    model = DigestModel()
    outside = [til(10, MONDAY - timedelta(days=1), "Sunday"), til(10, MONDAY + timedelta(days=7), "Next")]
    digest = await digest_service(FakeWeek(outside), model).weekly_digest(GUILD, MONDAY, "en")
    assert digest.members == () and digest.text == "" and model.prompts == []


async def test_korean_guilds_get_the_korean_prompts() -> None:
    model = DigestModel()
    await digest_service(FakeWeek(week_of(1)), model).weekly_digest(GUILD, MONDAY, "ko")
    member, combine = model.prompts
    assert "이번 주에 쓴 TIL" in member and "[2026-11-23] Topic0-0" in member and "<tags>AWS</tags>" in member
    assert "우리가 배운 것" in combine


def test_concurrency_below_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        digest_service(FakeWeek([]), None, max_concurrency=0)
