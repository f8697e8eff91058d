"""TIL posts on a real SQLite file with a hand-moved clock: cleaning, permissions, local days and streaks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import InvalidInput, NotAllowed
from bot.i18n import Catalog
from bot.services.til.model import LIMITS, MAX_TAG_CHARS, MAX_TAGS, Section, TilDraft, clean_draft, parse_tags
from bot.services.til.posts import TilService
from bot.storage import Database, TilRepository
from tests.fakes.clock import FakeClock

GUILD, OTHER_GUILD = 1, 2
ALICE, BOB, CAROL = 11, 12, 13
# 23:50 on 25 November in Seoul (UTC+9).
LATE_EVENING_KST = datetime(2026, 11, 25, 14, 50, tzinfo=UTC)
DAY = date(2026, 11, 25)


@dataclass
class Til:
    db: Database
    clock: FakeClock
    service: TilService

    def move_to(self, moment: datetime) -> None:
        self.clock.advance(moment - self.clock.now())


@pytest.fixture
async def til(tmp_path: Path) -> AsyncIterator[Til]:
    db = await Database.open(tmp_path / "bot.db")
    clock = FakeClock(LATE_EVENING_KST)
    yield Til(db, clock, TilService(TilRepository(db), clock.now))
    await db.close()


def draft(learned: str = "EC2 인스턴스를 만들었다", **fields: str) -> TilDraft:
    return clean_draft(title=fields.pop("title", None), learned=learned, day=DAY, **fields)


async def set_guild_timezone(db: Database, guild_id: int, timezone: str) -> None:
    await db.execute(
        "INSERT INTO guild_settings (guild_id, timezone, updated_at) VALUES (?, ?, ?)",
        (guild_id, timezone, LATE_EVENING_KST.isoformat()),
    )


# --- cleaning what a member submits ------------------------------------------------------------------------------


@pytest.mark.parametrize("learned", ["", "   \n\t ", "\u200b\u200c\u2060\ufeff", " \u200b \n \u00ad "])
def test_empty_or_invisible_learned_is_refused(learned: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        draft(learned)
    assert refused.value.key == "til.learned_required"


@pytest.mark.parametrize("section", list(Section))
def test_every_section_takes_its_limit_and_not_one_more(section: Section) -> None:
    limit = LIMITS[section]
    at_limit = {section.value: "가" * limit}
    fields = {"title": None, "learned": "배운 것", **at_limit}
    assert getattr(clean_draft(day=DAY, **fields), section.value) == "가" * limit
    with pytest.raises(InvalidInput) as refused:
        clean_draft(day=DAY, **{**fields, section.value: "가" * (limit + 1)})
    assert refused.value.key == f"til.too_long_{section.value}"
    assert refused.value.params == {"limit": limit, "length": limit + 1}


def test_cleaning_trims_drops_invisible_characters_and_defaults_the_title() -> None:
    cleaned = draft("  \u200bLCEL 체인\r\n결합\u200d  ", hard=" \u200b ", title="  ")
    assert cleaned.learned == "LCEL 체인\n결합"
    assert cleaned.hard == ""
    assert cleaned.title == "TIL 2026-11-25"


def test_an_unclosed_code_fence_is_closed() -> None:
    cleaned = draft("```python\nchain = prompt | model")
    assert cleaned.learned == "```python\nchain = prompt | model\n```"
    assert draft("```a```").learned == "```a```"


def test_a_field_at_its_limit_with_an_open_fence_is_accepted_and_closed() -> None:
    at_limit = "```" + "x" * (LIMITS[Section.LEARNED] - 3)
    assert draft(at_limit).learned == f"{at_limit}\n```"


def test_tags_are_split_deduplicated_and_limited() -> None:
    assert parse_tags(" AWS, langchain #ADsP  aws\u200b LangChain") == ("AWS", "langchain", "ADsP")
    assert parse_tags(",  # ") == ()
    assert len(parse_tags(" ".join(f"t{n}" for n in range(MAX_TAGS)))) == MAX_TAGS
    with pytest.raises(InvalidInput) as too_many:
        parse_tags(" ".join(f"t{n}" for n in range(MAX_TAGS + 1)))
    assert (too_many.value.key, too_many.value.params) == ("til.too_many_tags", {"limit": MAX_TAGS})
    assert parse_tags("x" * MAX_TAG_CHARS) == ("x" * MAX_TAG_CHARS,)
    with pytest.raises(InvalidInput) as too_long:
        parse_tags("ok " + "y" * (MAX_TAG_CHARS + 1))
    assert too_long.value.key == "til.tag_too_long"
    assert too_long.value.params == {"tag": "y" * (MAX_TAG_CHARS + 1), "limit": MAX_TAG_CHARS}


def test_every_til_error_is_in_both_catalogs_with_its_placeholders() -> None:
    catalog = Catalog.load()
    raised: dict[str, dict[str, object]] = {
        "til.learned_required": {},
        **{f"til.too_long_{section.value}": {"limit": 1, "length": 2} for section in Section},
        "til.too_many_tags": {"limit": 5},
        "til.tag_too_long": {"tag": "x", "limit": 20},
        "til.not_found": {"id": 3},
        "til.not_yours": {},
        "til.search_empty": {},
        "til.search_too_long": {"limit": 200},
        "til.search_too_many_terms": {"limit": 8},
        "til.unknown_timezone": {"value": "Mars/Base"},
    }
    for key, params in raised.items():
        for language in ("ko", "en"):
            assert catalog.text(language, key, **params), key


# --- saving, editing, deleting -----------------------------------------------------------------------------------


async def test_a_post_is_saved_on_the_authors_local_day(til: Til) -> None:
    post = await til.service.create(GUILD, ALICE, draft(tags="AWS, LangChain", reflection="재밌다"))
    assert post.local_date == DAY  # 14:50 UTC is already 23:50 in Seoul
    assert (post.author_id, post.tags, post.reflection) == (ALICE, ("AWS", "LangChain"), "재밌다")
    assert post.created_at == LATE_EVENING_KST and not post.published
    assert await til.service.get(GUILD, post.id) == post
    assert await til.service.latest(GUILD, ALICE) == post


async def test_a_post_of_another_guild_is_not_found(til: Til) -> None:
    post = await til.service.create(GUILD, ALICE, draft())
    for guild, post_id in ((OTHER_GUILD, post.id), (GUILD, post.id + 1)):
        with pytest.raises(InvalidInput) as missing:
            await til.service.get(guild, post_id)
        assert (missing.value.key, missing.value.params) == ("til.not_found", {"id": post_id})


async def test_only_the_author_edits(til: Til) -> None:
    post = await til.service.create(GUILD, ALICE, draft())
    til.clock.advance(timedelta(minutes=30))  # past midnight in Seoul: the post keeps its day
    with pytest.raises(NotAllowed) as refused:
        await til.service.edit(GUILD, post.id, BOB, draft("BOB 가 고친 글"))
    assert refused.value.key == "til.not_yours"
    edited = await til.service.edit(GUILD, post.id, ALICE, draft("EBS 스냅샷", tags="AWS"))
    assert (edited.learned, edited.tags, edited.local_date) == ("EBS 스냅샷", ("AWS",), DAY)
    assert edited.updated_at == LATE_EVENING_KST + timedelta(minutes=30)
    assert edited.created_at == post.created_at


async def test_the_author_or_a_moderator_deletes(til: Til) -> None:
    first = await til.service.create(GUILD, ALICE, draft())
    second = await til.service.create(GUILD, ALICE, draft())
    with pytest.raises(NotAllowed) as refused:
        await til.service.delete(GUILD, first.id, BOB, moderator=False)
    assert refused.value.key == "til.not_yours"
    assert await til.service.delete(GUILD, first.id, ALICE, moderator=False) == first
    assert await til.service.delete(GUILD, second.id, BOB, moderator=True) == second
    with pytest.raises(InvalidInput):
        await til.service.get(GUILD, first.id)
    assert await til.service.latest(GUILD, ALICE) is None


async def test_publication_and_its_failure_are_recorded(til: Til) -> None:
    post = await til.service.create(GUILD, ALICE, draft())
    await til.service.record_publish_failed(post.id, "forbidden")
    failed = await til.service.get(GUILD, post.id)
    assert (failed.publish_error, failed.published) == ("forbidden", False)
    await til.service.record_published(post.id, channel_id=500, message_id=700, thread_id=600)
    published = await til.service.get(GUILD, post.id)
    assert (published.channel_id, published.message_id, published.thread_id) == (500, 700, 600)
    assert published.published and published.publish_error is None
    with pytest.raises(ValueError, match="unknown publish failure"):
        await til.service.record_publish_failed(post.id, "because")


async def test_posts_are_listed_newest_first_a_page_at_a_time(til: Til) -> None:
    ids = []
    for number in range(7):
        ids.append((await til.service.create(GUILD, ALICE if number % 2 else BOB, draft(f"글 {number}"))).id)
        til.clock.advance(timedelta(hours=5))
    await til.service.create(OTHER_GUILD, ALICE, draft())
    first = await til.service.list_posts(GUILD, None, per_page=3)
    assert [post.id for post in first.items] == ids[::-1][:3]
    assert (first.page, first.pages, first.total) == (1, 3, 7)
    last = await til.service.list_posts(GUILD, None, page=99, per_page=3)
    assert (last.page, [post.id for post in last.items]) == (3, [ids[0]])
    alices = await til.service.list_posts(GUILD, ALICE, per_page=5)
    assert [post.id for post in alices.items] == [ids[5], ids[3], ids[1]]
    empty = await til.service.list_posts(GUILD, CAROL)
    assert (empty.items, empty.page, empty.pages, empty.total) == ([], 1, 1, 0)


# --- local days, time zones and streaks --------------------------------------------------------------------------


async def test_a_streak_across_midnight_in_seoul_is_two_days(til: Til) -> None:
    before = await til.service.create(GUILD, ALICE, draft())  # 23:50 KST on the 25th
    til.clock.advance(timedelta(minutes=20))  # 00:10 KST on the 26th, still the 25th in UTC
    after = await til.service.create(GUILD, ALICE, draft())
    assert (before.local_date, after.local_date) == (DAY, DAY + timedelta(days=1))
    streak = await til.service.streak(GUILD, ALICE)
    assert (streak.current, streak.longest, streak.posted_today, streak.total_days) == (2, 2, True, 2)


async def test_a_streak_lasts_until_a_whole_day_is_missed(til: Til) -> None:
    await til.service.create(GUILD, ALICE, draft())  # the 25th in Seoul
    til.move_to(datetime(2026, 11, 26, 14, 59, tzinfo=UTC))  # 23:59 KST on the 26th: not posted yet today
    streak = await til.service.streak(GUILD, ALICE)
    assert (streak.current, streak.posted_today) == (1, False)
    til.move_to(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))  # 00:00 KST on the 27th: the 26th was missed
    assert (await til.service.streak(GUILD, ALICE)).current == 0
    await til.service.create(GUILD, ALICE, draft())
    streak = await til.service.streak(GUILD, ALICE)
    assert (streak.current, streak.longest, streak.total_days) == (1, 1, 2)


async def test_two_posts_the_same_day_count_once(til: Til) -> None:
    til.move_to(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))  # 10:00 KST
    await til.service.create(GUILD, ALICE, draft())
    til.clock.advance(timedelta(hours=8))
    await til.service.create(GUILD, ALICE, draft())
    streak = await til.service.streak(GUILD, ALICE)
    assert (streak.current, streak.longest, streak.total_days) == (1, 1, 1)
    assert await til.service.activity(GUILD, ALICE) == {DAY: 2}


async def test_the_members_time_zone_overrides_the_guilds(til: Til) -> None:
    await set_guild_timezone(til.db, GUILD, "Europe/Berlin")
    await til.service.set_timezone(BOB, "america/new_york")
    assert await til.service.timezone_of(GUILD, ALICE) == "Europe/Berlin"
    assert await til.service.timezone_of(GUILD, BOB) == "America/New_York"
    assert await til.service.timezone_of(OTHER_GUILD, ALICE) == "Asia/Seoul"
    # 22:30 UTC: 23:30 in Berlin and 17:30 in New York, both still the 25th, but 07:30 on the 26th in Seoul.
    til.move_to(datetime(2026, 11, 25, 22, 30, tzinfo=UTC))
    assert (await til.service.create(GUILD, ALICE, draft())).local_date == DAY
    assert (await til.service.create(GUILD, BOB, draft())).local_date == DAY
    assert (await til.service.create(OTHER_GUILD, ALICE, draft())).local_date == DAY + timedelta(days=1)
    assert (await til.service.settings(GUILD)).timezone == "Europe/Berlin"


async def test_an_unknown_time_zone_is_refused(til: Til) -> None:
    for name in ("Mars/Olympus", "", "../etc/passwd"):
        with pytest.raises(InvalidInput) as refused:
            await til.service.set_timezone(ALICE, name)
        assert (refused.value.key, refused.value.params) == ("til.unknown_timezone", {"value": name})
    assert await til.service.timezone_of(GUILD, ALICE) == "Asia/Seoul"


async def test_the_streak_board_ranks_members_on_a_streak(til: Til) -> None:
    for back, authors in ((4, [BOB]), (3, [BOB]), (2, [ALICE, BOB]), (1, [ALICE, BOB, CAROL]), (0, [ALICE])):
        til.move_to(LATE_EVENING_KST - timedelta(days=back))
        for author in authors:
            await til.service.create(GUILD, author, draft())
    til.move_to(LATE_EVENING_KST - timedelta(days=10))
    await til.service.create(GUILD, 99, draft())  # long ago: no current streak, not on the board
    til.move_to(LATE_EVENING_KST)
    board = await til.service.streak_board(GUILD)
    assert [(user, streak.current, streak.longest) for user, streak in board] == [
        (BOB, 4, 4),
        (ALICE, 3, 3),
        (CAROL, 1, 1),
    ]
    assert [user for user, _ in await til.service.streak_board(GUILD, limit=1)] == [BOB]
    assert await til.service.streak_board(OTHER_GUILD) == []


async def test_the_board_counts_each_member_in_their_own_time_zone(til: Til) -> None:
    # ALICE posted on the 24th in Honolulu (UTC-10); at 14:50 UTC on the 25th it is still 04:50 on the 25th there,
    # so her streak holds; in Seoul the 24th would be two days ago.
    await til.service.set_timezone(ALICE, "Pacific/Honolulu")
    til.move_to(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))
    assert (await til.service.create(GUILD, ALICE, draft())).local_date == date(2026, 11, 24)
    til.move_to(datetime(2026, 11, 25, 14, 50, tzinfo=UTC))
    assert [(user, streak.current) for user, streak in await til.service.streak_board(GUILD)] == [(ALICE, 1)]


async def test_activity_and_posts_between_use_local_days(til: Til) -> None:
    for back in (0, 1, 1, 200):
        til.move_to(LATE_EVENING_KST - timedelta(days=back))
        await til.service.create(GUILD, ALICE, draft(f"{back}일 전"))
    til.move_to(LATE_EVENING_KST)
    assert await til.service.activity(GUILD, ALICE) == {DAY: 1, DAY - timedelta(days=1): 2}
    assert await til.service.activity(GUILD, ALICE, days=1) == {DAY: 1}
    between = await til.service.posts_between(GUILD, DAY - timedelta(days=1), DAY)
    assert [post.learned for post in between] == ["1일 전", "1일 전", "0일 전"]


async def test_published_posts_of_a_member_come_from_every_guild(til: Til) -> None:
    here = await til.service.create(GUILD, ALICE, draft("여기"))
    there = await til.service.create(OTHER_GUILD, ALICE, draft("저기"))
    await til.service.create(GUILD, ALICE, draft("안 올림"))
    bobs = await til.service.create(GUILD, BOB, draft("밥"))
    for post in (here, there, bobs):
        await til.service.record_published(post.id, 500, 600 + post.id, None)
    assert [post.id for post in await til.service.published_posts_by(ALICE)] == [here.id, there.id]
    assert await til.service.published_posts_by(CAROL) == []


# --- settings and member choices ---------------------------------------------------------------------------------


async def test_settings_default_and_channel_choice(til: Til) -> None:
    settings = await til.service.settings(GUILD)
    assert (settings.channel_id, settings.thread_per_member, settings.reminder_time) == (None, False, None)
    assert settings.timezone == "Asia/Seoul"
    chosen = await til.service.set_channel(GUILD, 500, thread_per_member=True)
    assert (chosen.channel_id, chosen.thread_per_member) == (500, True)
    cleared = await til.service.set_channel(GUILD, None, thread_per_member=False)
    assert (cleared.channel_id, cleared.thread_per_member) == (None, False)
    assert (await til.service.settings(OTHER_GUILD)).channel_id is None


async def choice(til: Til, guild_id: int, user_id: int, column: str) -> object:
    return await til.db.fetch_value(
        f"SELECT {column} FROM til_members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    )


async def test_member_choices_are_per_guild(til: Til) -> None:
    assert await til.service.member_thread(GUILD, ALICE) is None
    await til.service.set_member_thread(GUILD, ALICE, 900)
    await til.service.set_quiz_opt_out(GUILD, ALICE, True)
    await til.service.set_reminder_dm(GUILD, ALICE, True)
    await til.service.set_reminder_dm(GUILD, BOB, True)
    await til.service.set_reminder_dm(GUILD, BOB, False)
    assert await til.service.member_thread(GUILD, ALICE) == 900
    assert await choice(til, GUILD, ALICE, "quiz_opt_out") == 1
    assert await choice(til, GUILD, ALICE, "reminder_dm") == 1
    assert await choice(til, GUILD, BOB, "reminder_dm") == 0
    assert await til.service.member_thread(OTHER_GUILD, ALICE) is None
    assert await choice(til, OTHER_GUILD, ALICE, "quiz_opt_out") is None
    await til.service.set_quiz_opt_out(GUILD, ALICE, False)
    assert await til.service.member_thread(GUILD, ALICE) == 900  # other choices stay
    assert await choice(til, GUILD, ALICE, "quiz_opt_out") == 0
