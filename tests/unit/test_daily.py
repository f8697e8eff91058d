"""The daily quiz scheduler on a real SQLite file: time moved by hand, Discord replaced by a recording publisher.

The publisher behaves like Discord where it matters here: a repeated nonce returns the first message, and
scripted faults answer as a deleted channel, a lost permission, a 5xx or a hang.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import InvalidInput, NotConfigured
from bot.services.daily import (
    SEND_LEASE,
    DailyMessage,
    DailyQuizService,
    DailyReveal,
    DailyScheduler,
    DestinationForbidden,
    DestinationGone,
    DestinationUnavailable,
    next_occurrence,
    parse_local_time,
    resolve_timezone,
)
from bot.services.quiz.bank import parse_bank
from bot.services.quiz.catalog import QuestionCatalog
from bot.services.quiz.review import ReviewService, default_scheduler
from bot.services.quiz.sessions import AnswerStatus, QuizSessionService
from bot.storage import DailyRepository, Database, PostRow, QuizRepository, ScheduleRow
from tests.fakes.clock import FakeClock

SEOUL = ZoneInfo("Asia/Seoul")
# 14:00 in Seoul: today's 09:00 has passed, so a new schedule's first post is tomorrow 09:00 KST = 00:00 UTC.
START = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
FIRST_DUE = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
GUILD, CHANNEL, MOD, ALICE, BOB = 1, 100, 99, 11, 12
GRACE = timedelta(hours=2)

BANK = "bank: demo\nname: {en: Demo}\ntopic: demo\nversion: 1\nquestions:\n" + "".join(
    f'  - {{id: q{n}, language: ko, difficulty: 1, type: choice, question: "Q{n}?", choices: [a, b, c],'
    f' answer: {n % 3}, explanation: "e{n}"}}\n'
    for n in range(5)
)


@dataclass
class Sent:
    message_id: int
    message: DailyMessage


@dataclass
class FakeDiscordSide:
    """What the publishers of one test share: the messages, as Discord would keep them."""

    messages: dict[str, Sent] = field(default_factory=dict)
    """By nonce: Discord returns the first message for a repeated nonce."""
    sends: int = 0
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))


class Publisher:
    def __init__(self, discord: FakeDiscordSide) -> None:
        self.discord = discord
        self.gone: set[int] = set()
        self.forbidden: set[int] = set()
        self.unavailable: dict[int, int] = {}
        """channel -> how many more sends fail with a 5xx"""
        self.hang: set[int] = set()
        self.reveals: list[DailyReveal] = []
        self.alerts: list[tuple[int, str]] = []

    async def post(self, message: DailyMessage) -> int:
        channel = message.channel_id
        if channel in self.hang:
            await asyncio.Event().wait()
        if channel in self.gone:
            raise DestinationGone("404 Unknown Channel")
        if channel in self.forbidden:
            raise DestinationForbidden("403 Missing Permissions")
        if self.unavailable.get(channel, 0) > 0:
            self.unavailable[channel] -= 1
            raise DestinationUnavailable("503")
        self.discord.sends += 1
        if message.nonce not in self.discord.messages:
            self.discord.messages[message.nonce] = Sent(next(self.discord.ids), message)
        return self.discord.messages[message.nonce].message_id

    async def reveal(self, reveal: DailyReveal) -> None:
        if reveal.channel_id in self.gone:
            raise DestinationGone("404")
        self.reveals.append(reveal)

    async def alert(self, schedule: ScheduleRow, problem: str) -> None:
        self.alerts.append((schedule.guild_id, problem))

    def posts_in(self, channel: int) -> list[DailyMessage]:
        return [sent.message for sent in self.discord.messages.values() if sent.message.channel_id == channel]


@dataclass
class Daily:
    db: Database
    clock: FakeClock
    service: DailyQuizService
    sessions: QuizSessionService
    scheduler: DailyScheduler
    publisher: Publisher
    repo: DailyRepository


async def language_of(guild_id: int, configured: str) -> str:
    return configured


async def build(path: Path, clock: FakeClock, discord: FakeDiscordSide, *, seed: int = 7, senders: int = 8) -> Daily:
    db = await Database.open(path)
    quiz_repo = QuizRepository(db)
    catalog = QuestionCatalog(quiz_repo, [parse_bank(BANK.encode(), "demo.yaml")], now=clock.now)
    review = ReviewService(quiz_repo, catalog, clock.now, scheduler=default_scheduler(fuzz=False))
    sessions = QuizSessionService(quiz_repo, catalog, review, clock.now, rng=random.Random(seed))
    repo = DailyRepository(db)
    service = DailyQuizService(repo, catalog, sessions, clock, grace=GRACE, rng=random.Random(seed))
    publisher = Publisher(discord)
    scheduler = DailyScheduler(
        service,
        repo,
        sessions,
        clock,
        publisher,
        language_of,
        senders=senders,
        posts_per_second=1000,
        send_timeout_s=0.5,
    )
    return Daily(db, clock, service, sessions, scheduler, publisher, repo)


@pytest.fixture
def discord_side() -> FakeDiscordSide:
    return FakeDiscordSide()


@pytest.fixture
async def daily(tmp_path: Path, discord_side: FakeDiscordSide) -> AsyncIterator[Daily]:
    built = await build(tmp_path / "bot.db", FakeClock(START), discord_side)
    yield built
    await built.db.close()


async def set_up(daily: Daily, guild: int = GUILD, channel: int = CHANNEL, **options: object) -> ScheduleRow:
    values: dict[str, object] = {
        "guild_id": guild,
        "channel_id": channel,
        "local_time": "09:00",
        "timezone": "Asia/Seoul",
        "topics": None,
        "reveal_after_hours": 12,
        "no_repeat_days": 30,
        "language": "ko",
        "configured_by": MOD,
    }
    values.update(options)
    return await daily.service.setup(**values)  # type: ignore[arg-type]


def move_to(daily: Daily, moment: datetime) -> None:
    daily.clock.advance(moment - daily.clock.now())


# --- schedule arithmetic -----------------------------------------------------------------------------------------


def test_next_occurrence_is_the_local_time_in_utc() -> None:
    assert next_occurrence(time(9, 0), SEOUL, START) == FIRST_DUE
    assert next_occurrence(time(9, 0), SEOUL, FIRST_DUE) == FIRST_DUE + timedelta(days=1)
    assert next_occurrence(time(9, 0), SEOUL, FIRST_DUE - timedelta(microseconds=1)) == FIRST_DUE


def test_daylight_saving_changes_keep_the_local_time() -> None:
    new_york = ZoneInfo("America/New_York")
    nine = time(9, 0)
    # 2026-03-08: clocks spring forward (EST -5 -> EDT -4); 2026-11-01: they fall back.
    before_spring = next_occurrence(nine, new_york, datetime(2026, 3, 7, 0, 0, tzinfo=UTC))
    assert before_spring == datetime(2026, 3, 7, 14, 0, tzinfo=UTC)
    assert next_occurrence(nine, new_york, before_spring) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    before_fall = next_occurrence(nine, new_york, datetime(2026, 10, 31, 0, 0, tzinfo=UTC))
    assert before_fall == datetime(2026, 10, 31, 13, 0, tzinfo=UTC)
    assert next_occurrence(nine, new_york, before_fall) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    # 02:30 does not exist on the spring day: the post comes right after the jump, at 03:30 EDT.
    gap = next_occurrence(time(2, 30), new_york, datetime(2026, 3, 8, 0, 0, tzinfo=UTC))
    assert gap == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert gap.astimezone(new_york).strftime("%H:%M") == "03:30"
    # 01:30 happens twice on the fall day: the first one.
    twice = next_occurrence(time(1, 30), new_york, datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    assert twice == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["25:00", "9am", "", "12:60", "12", "-1:00", "12:5", "12:00x", "12:00 pm"])
def test_invalid_times_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_local_time(text)
    assert refused.value.key == "daily.invalid_time"


def test_times_and_zones_are_read_leniently() -> None:
    assert parse_local_time(" 9:05 ") == time(9, 5)
    assert parse_local_time("21:30") == time(21, 30)
    assert resolve_timezone("asia/seoul").key == "Asia/Seoul"
    assert resolve_timezone("UTC").key == "UTC"
    for name in ("Mars/Olympus", "../../etc/passwd", "", "Asia"):
        with pytest.raises(InvalidInput) as refused:
            resolve_timezone(name)
        assert refused.value.key == "daily.unknown_timezone"


# --- setup -------------------------------------------------------------------------------------------------------


async def test_setup_stores_the_next_time_in_utc(daily: Daily) -> None:
    schedule = await set_up(daily, timezone="asia/seoul", topics=" Demo, demo ")
    assert schedule.timezone == "Asia/Seoul"
    assert schedule.topics == ["demo"]
    assert schedule.next_due_at == FIRST_DUE
    assert await daily.service.schedule(GUILD) == schedule


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"local_time": "25:00"}, "daily.invalid_time"),
        ({"timezone": "Mars/Olympus"}, "daily.unknown_timezone"),
        ({"topics": "demo, kubernetes"}, "daily.unknown_topics"),
        ({"reveal_after_hours": 0}, "daily.reveal_out_of_range"),
        ({"reveal_after_hours": 24}, "daily.reveal_out_of_range"),
        ({"no_repeat_days": -1}, "daily.no_repeat_out_of_range"),
    ],
)
async def test_bad_setup_stores_nothing(daily: Daily, options: dict[str, object], key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await set_up(daily, **options)
    assert refused.value.key == key
    with pytest.raises(NotConfigured):
        await daily.service.schedule(GUILD)


async def test_bad_setup_keeps_the_previous_schedule(daily: Daily) -> None:
    before = await set_up(daily)
    with pytest.raises(InvalidInput):
        await set_up(daily, local_time="7 o'clock", channel=555)
    assert await daily.service.schedule(GUILD) == before


# --- posting on time ---------------------------------------------------------------------------------------------


async def moved_and_settled(daily: Daily, moment: datetime) -> None:
    """Moves time and waits until the scheduler loop has made its pass for it and sleeps again."""
    passes = daily.scheduler.passes
    move_to(daily, moment)
    async with asyncio.timeout(5):
        while daily.scheduler.passes == passes:  # noqa: ASYNC110 - a counter the loop bumps, polled by the test only
            await asyncio.sleep(0.001)
        await daily.clock.wait_for_sleepers()


async def test_the_loop_posts_at_the_exact_minute(daily: Daily) -> None:
    await set_up(daily)
    loop = asyncio.create_task(daily.scheduler.run())
    try:
        await daily.clock.wait_for_sleepers()
        await moved_and_settled(daily, FIRST_DUE - timedelta(seconds=1))
        assert daily.publisher.posts_in(CHANNEL) == []
        await moved_and_settled(daily, FIRST_DUE)
        [post] = daily.publisher.posts_in(CHANNEL)
        assert post.due_at == FIRST_DUE
        assert not post.late
        assert post.closes_at == FIRST_DUE + timedelta(hours=12)
        assert (await daily.service.schedule(GUILD)).next_due_at == FIRST_DUE + timedelta(days=1)
        # The reveal comes by itself when the answer time is up.
        await moved_and_settled(daily, post.closes_at)
        [reveal] = daily.publisher.reveals
        assert reveal.session_id == post.session_id
        assert not (await daily.sessions.session(post.session_id)).running  # type: ignore[union-attr]
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def test_dst_change_day_posts_at_local_nine(daily: Daily) -> None:
    move_to(daily, datetime(2026, 3, 6, 20, 0, tzinfo=UTC))
    await set_up(daily, timezone="America/New_York")
    posted = []
    for due in (datetime(2026, 3, 7, 14, 0, tzinfo=UTC), datetime(2026, 3, 8, 13, 0, tzinfo=UTC)):
        move_to(daily, due - timedelta(seconds=1))
        await daily.scheduler.run_once()
        assert len(daily.publisher.posts_in(CHANNEL)) == len(posted)
        move_to(daily, due)
        await daily.scheduler.run_once()
        posted = daily.publisher.posts_in(CHANNEL)
        assert posted[-1].due_at == due
        assert due.astimezone(ZoneInfo("America/New_York")).hour == 9


async def test_a_post_is_a_daily_quiz_that_feeds_answers_and_streaks(daily: Daily) -> None:
    await set_up(daily)
    for day in range(3):
        move_to(daily, FIRST_DUE + timedelta(days=day))
        await daily.scheduler.run_once()
        post = daily.publisher.posts_in(CHANNEL)[-1]
        outcome = await daily.sessions.answer(post.session_id, 0, ALICE, choice=post.question.answer_index)
        assert outcome.status is AnswerStatus.RECORDED and outcome.correct
        if day == 2:
            await daily.sessions.answer(post.session_id, 0, BOB, choice=0)
        move_to(daily, post.closes_at)
        await daily.scheduler.run_once()
    reveal = daily.publisher.reveals[-1]
    assert reveal.streaks == {ALICE: 3, BOB: 1}
    assert reveal.result.correct_user_ids[0] == ALICE
    assert await daily.service.streak(GUILD, ALICE) == 3
    rows = await daily.db.fetch_all("SELECT DISTINCT source FROM quiz_answers")
    assert [row[0] for row in rows] == ["daily"]


async def test_a_daily_question_does_not_block_a_group_quiz_in_its_channel(daily: Daily) -> None:
    await set_up(daily)
    move_to(daily, FIRST_DUE)
    await daily.scheduler.run_once()
    session, _ = await daily.sessions.start(
        guild_id=GUILD, channel_id=CHANNEL, starter_id=ALICE, topic="demo", count=1, language="ko"
    )
    assert session.running and not session.daily


async def test_questions_do_not_repeat_within_the_window(daily: Daily) -> None:
    await set_up(daily, no_repeat_days=30)
    asked = []
    for day in range(6):
        move_to(daily, FIRST_DUE + timedelta(days=day))
        await daily.scheduler.run_once()
        asked.append(daily.publisher.posts_in(CHANNEL)[-1].question.id)
    assert len(set(asked[:5])) == 5  # the bank has five questions
    assert asked[5] == asked[0]  # all asked recently: the one asked longest ago comes back


# --- restarts and races ------------------------------------------------------------------------------------------


async def test_restart_just_after_the_claim_posts_once(tmp_path: Path, discord_side: FakeDiscordSide) -> None:
    clock = FakeClock(START)
    first = await build(tmp_path / "bot.db", clock, discord_side)
    await set_up(first)
    move_to(first, FIRST_DUE)
    claim = await first.service.claim_due(GUILD, "ko")  # claimed and committed ... and the process dies
    assert claim.post_id is not None
    await first.db.close()
    second = await build(tmp_path / "bot.db", clock, discord_side)
    await second.scheduler.run_once()
    await second.scheduler.run_once()
    assert len(second.publisher.posts_in(CHANNEL)) == 1
    post = await second.repo.post(claim.post_id)
    assert post is not None and post.status == "posted"
    await second.db.close()


async def claimed_and_leased(tmp_path: Path, clock: FakeClock, discord_side: FakeDiscordSide) -> tuple[Daily, PostRow]:
    """A process that claimed today's post and took the lease to send it (and is about to die)."""
    first = await build(tmp_path / "bot.db", clock, discord_side)
    await set_up(first)
    move_to(first, FIRST_DUE)
    claim = await first.service.claim_due(GUILD, "ko")
    assert claim.post_id is not None
    async with first.repo.transaction() as tx:
        post = await tx.lease_post(claim.post_id, clock.now(), clock.now() + SEND_LEASE)
    assert post is not None
    return first, post


async def test_restart_just_before_the_send_posts_once(tmp_path: Path, discord_side: FakeDiscordSide) -> None:
    """The process held the send lease when it died: the post waits out the lease, then goes out once."""
    clock = FakeClock(START)
    first, _ = await claimed_and_leased(tmp_path, clock, discord_side)
    await first.db.close()
    second = await build(tmp_path / "bot.db", clock, discord_side)
    await second.scheduler.run_once()
    assert discord_side.sends == 0  # the dead process's lease still holds
    assert await second.repo.next_wake() == FIRST_DUE + SEND_LEASE
    clock.advance(SEND_LEASE)
    await second.scheduler.run_once()
    assert len(second.publisher.posts_in(CHANNEL)) == 1
    await second.db.close()


async def test_a_send_that_reached_discord_before_the_crash_is_not_repeated(
    tmp_path: Path, discord_side: FakeDiscordSide
) -> None:
    clock = FakeClock(START)
    first, post = await claimed_and_leased(tmp_path, clock, discord_side)
    assert post.session_id is not None
    current = await first.sessions.open_question(post.session_id)
    assert current is not None
    # Discord took the message, but the process died before recording it.
    sent_id = await first.publisher.post(
        DailyMessage(post.id, GUILD, CHANNEL, post.session_id, current.question, current.closes_at, FIRST_DUE,
                     False, "Asia/Seoul")
    )  # fmt: skip
    await first.db.close()
    second = await build(tmp_path / "bot.db", clock, discord_side)
    clock.advance(SEND_LEASE)
    await second.scheduler.run_once()
    assert discord_side.sends == 2
    assert len(second.publisher.posts_in(CHANNEL)) == 1  # the nonce made Discord answer with the first message
    recorded = await second.repo.post(post.id)
    assert recorded is not None and recorded.message_id == sent_id
    await second.db.close()


async def test_two_schedulers_racing_on_one_database_post_each_guild_once(
    tmp_path: Path, discord_side: FakeDiscordSide
) -> None:
    clock = FakeClock(START)
    one = await build(tmp_path / "bot.db", clock, discord_side, seed=1)
    other = await build(tmp_path / "bot.db", clock, discord_side, seed=2)
    guilds = range(1, 41)
    for guild in guilds:
        await set_up(one, guild=guild, channel=1000 + guild)
    move_to(one, FIRST_DUE)
    for _ in range(3):
        await asyncio.gather(one.scheduler.run_once(), other.scheduler.run_once())
    assert discord_side.sends == len(guilds)
    for guild in guilds:
        assert len(one.publisher.posts_in(1000 + guild)) == 1
    rows = await one.db.fetch_all("SELECT COUNT(*) FROM daily_posts GROUP BY guild_id")
    assert [row[0] for row in rows] == [1] * len(guilds)
    await one.db.close()
    await other.db.close()


# --- downtime -----------------------------------------------------------------------------------------------------


async def test_a_post_missed_within_grace_goes_out_late(daily: Daily) -> None:
    await set_up(daily)
    move_to(daily, FIRST_DUE + timedelta(hours=1, minutes=30))
    await daily.scheduler.run_once()
    [post] = daily.publisher.posts_in(CHANNEL)
    assert post.late and post.due_at == FIRST_DUE
    assert post.closes_at == daily.clock.now() + timedelta(hours=12)  # a full answer time, from when it went out


async def test_a_post_missed_beyond_grace_is_skipped_and_logged(daily: Daily, caplog: pytest.LogCaptureFixture) -> None:
    await set_up(daily)
    move_to(daily, FIRST_DUE + GRACE + timedelta(minutes=1))
    with caplog.at_level(logging.WARNING, logger="bot.services.daily"):
        await daily.scheduler.run_once()
    assert daily.publisher.posts_in(CHANNEL) == []
    assert "skipped 1 post" in caplog.text
    assert (await daily.service.schedule(GUILD)).next_due_at == FIRST_DUE + timedelta(days=1)
    rows = await daily.db.fetch_all("SELECT local_date, status FROM daily_posts")
    assert [tuple(row) for row in rows] == [("2026-11-26", "skipped")]


async def test_three_days_down_skips_the_old_posts_and_posts_todays_late(daily: Daily) -> None:
    await set_up(daily)
    move_to(daily, FIRST_DUE + timedelta(days=3, minutes=30))
    await daily.scheduler.run_once()
    [post] = daily.publisher.posts_in(CHANNEL)
    assert post.due_at == FIRST_DUE + timedelta(days=3) and post.late
    rows = await daily.db.fetch_all("SELECT status, COUNT(*) FROM daily_posts GROUP BY status ORDER BY status")
    assert [tuple(row) for row in rows] == [("posted", 1), ("skipped", 3)]


async def test_reveals_that_fell_due_while_down_happen_at_start(tmp_path: Path, discord_side: FakeDiscordSide) -> None:
    clock = FakeClock(START)
    first = await build(tmp_path / "bot.db", clock, discord_side)
    await set_up(first)
    move_to(first, FIRST_DUE)
    await first.scheduler.run_once()
    [post] = first.publisher.posts_in(CHANNEL)
    await first.db.close()
    clock.advance(timedelta(hours=13))  # down through the reveal time
    second = await build(tmp_path / "bot.db", clock, discord_side)
    await second.scheduler.run_once()
    [reveal] = second.publisher.reveals
    assert reveal.session_id == post.session_id
    await second.db.close()


# --- faults -------------------------------------------------------------------------------------------------------


async def test_a_deleted_channel_pauses_the_schedule_and_tells_the_admin_once(daily: Daily) -> None:
    await set_up(daily)
    daily.publisher.gone.add(CHANNEL)
    move_to(daily, FIRST_DUE)
    await daily.scheduler.run_once()
    schedule = await daily.service.schedule(GUILD)
    assert (schedule.status, schedule.paused_reason) == ("paused", "channel_missing")
    assert daily.publisher.alerts == [(GUILD, "channel_missing")]
    for day in range(1, 3):
        move_to(daily, FIRST_DUE + timedelta(days=day))
        await daily.scheduler.run_once()
    assert daily.publisher.alerts == [(GUILD, "channel_missing")]
    # The question that could not be posted does not linger as a running quiz.
    assert [s for s in await daily.sessions.running_sessions() if s.daily] == []


async def test_lost_permission_pauses_and_resume_starts_again(daily: Daily) -> None:
    await set_up(daily)
    daily.publisher.forbidden.add(CHANNEL)
    move_to(daily, FIRST_DUE)
    await daily.scheduler.run_once()
    assert (await daily.service.schedule(GUILD)).paused_reason == "forbidden"
    assert daily.publisher.alerts == [(GUILD, "forbidden")]
    daily.publisher.forbidden.clear()
    move_to(daily, FIRST_DUE + timedelta(hours=3))
    resumed = await daily.service.resume(GUILD)
    # Today's post failed, so today does not count as posted; the next 09:00 is tomorrow's anyway.
    assert resumed.next_due_at == FIRST_DUE + timedelta(days=1)
    move_to(daily, resumed.next_due_at)
    await daily.scheduler.run_once()
    assert len(daily.publisher.posts_in(CHANNEL)) == 1


async def test_discord_5xx_is_retried_with_backoff(daily: Daily) -> None:
    await set_up(daily)
    daily.publisher.unavailable[CHANNEL] = 2
    move_to(daily, FIRST_DUE)
    await daily.scheduler.run_once()
    assert daily.publisher.posts_in(CHANNEL) == []
    assert await daily.repo.next_wake() == FIRST_DUE + timedelta(minutes=1)
    daily.clock.advance(timedelta(minutes=1))
    await daily.scheduler.run_once()
    assert await daily.repo.next_wake() == FIRST_DUE + timedelta(minutes=3)
    daily.clock.advance(timedelta(minutes=2))
    await daily.scheduler.run_once()
    assert len(daily.publisher.posts_in(CHANNEL)) == 1
    assert daily.publisher.alerts == []
    assert (await daily.service.schedule(GUILD)).status == "active"


async def test_discord_failing_past_the_grace_period_gives_up_the_day(daily: Daily) -> None:
    await set_up(daily)
    daily.publisher.unavailable[CHANNEL] = 10_000
    move_to(daily, FIRST_DUE)
    while (wake := await daily.repo.next_wake()) is not None and wake < FIRST_DUE + timedelta(hours=3):
        move_to(daily, max(wake, daily.clock.now()))
        await daily.scheduler.run_once()
    assert daily.publisher.posts_in(CHANNEL) == []
    assert daily.publisher.alerts == [(GUILD, "unavailable")]
    assert (await daily.service.schedule(GUILD)).status == "active"  # tomorrow is another day
    rows = await daily.db.fetch_all("SELECT status, failure FROM daily_posts")
    assert [tuple(row) for row in rows] == [("failed", "unavailable")]


async def test_one_guilds_fault_never_delays_another(daily: Daily) -> None:
    for guild in (1, 2, 3):
        await set_up(daily, guild=guild, channel=100 + guild)
    daily.publisher.hang.add(101)
    daily.publisher.gone.add(102)
    move_to(daily, FIRST_DUE)
    await asyncio.wait_for(daily.scheduler.run_once(), timeout=5)
    assert len(daily.publisher.posts_in(103)) == 1
    hung = await daily.db.fetch_one("SELECT status, failure FROM daily_posts WHERE guild_id = 1")
    assert hung is not None and tuple(hung) == ("pending", "TimeoutError")


async def test_pause_stops_posts_and_resume_does_not_make_up_missed_days(daily: Daily) -> None:
    await set_up(daily)
    paused = await daily.service.pause(GUILD)
    assert (paused.status, paused.paused_reason) == ("paused", "moderator")
    for day in range(3):
        move_to(daily, FIRST_DUE + timedelta(days=day))
        await daily.scheduler.run_once()
    assert daily.publisher.posts_in(CHANNEL) == []
    move_to(daily, FIRST_DUE + timedelta(days=2, hours=1))
    resumed = await daily.service.resume(GUILD)
    assert resumed.status == "active" and resumed.next_due_at == FIRST_DUE + timedelta(days=3)
    await daily.scheduler.run_once()
    assert daily.publisher.posts_in(CHANNEL) == []
    move_to(daily, resumed.next_due_at)
    await daily.scheduler.run_once()
    assert len(daily.publisher.posts_in(CHANNEL)) == 1


async def test_a_time_moved_later_on_a_day_that_had_its_post_starts_tomorrow(daily: Daily) -> None:
    await set_up(daily)
    move_to(daily, FIRST_DUE)
    await daily.scheduler.run_once()
    moved = await set_up(daily, local_time="21:00")
    assert moved.next_due_at == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 21:00 KST tomorrow, not today


async def test_daily_now_posts_an_extra_question_without_moving_the_schedule(daily: Daily) -> None:
    await set_up(daily)
    post_id = await daily.service.claim_now(GUILD, "ko")
    outcome = await daily.scheduler.send(post_id)
    assert outcome.status == "posted"
    assert len(daily.publisher.posts_in(CHANNEL)) == 1
    assert (await daily.service.schedule(GUILD)).next_due_at == FIRST_DUE
    move_to(daily, FIRST_DUE)
    await daily.scheduler.run_once()
    assert len(daily.publisher.posts_in(CHANNEL)) == 2


async def test_a_guild_without_questions_pauses_and_alerts(daily: Daily) -> None:
    await set_up(daily, topics="demo")
    await daily.db.execute(
        "INSERT INTO guild_bank_settings (guild_id, bank_id, enabled, updated_at) VALUES (?, 'demo', 0, 'x')", (GUILD,)
    )
    move_to(daily, FIRST_DUE)
    await daily.scheduler.run_once()
    schedule = await daily.service.schedule(GUILD)
    assert (schedule.status, schedule.paused_reason) == ("paused", "no_questions")
    assert daily.publisher.alerts == [(GUILD, "no_questions")]


async def test_a_schedule_that_keeps_failing_to_claim_does_not_spin_the_loop(
    daily: Daily, caplog: pytest.LogCaptureFixture
) -> None:
    await set_up(daily)
    await daily.db.execute("UPDATE daily_schedules SET timezone = 'Not/AZone'")  # e.g. a zone tzdata dropped
    move_to(daily, FIRST_DUE)
    loop = asyncio.create_task(daily.scheduler.run())
    try:
        await daily.clock.wait_for_sleepers()
        await asyncio.sleep(0.2)
        assert daily.scheduler.passes == 1
        assert "claiming the due post failed" in caplog.text
        await moved_and_settled(daily, FIRST_DUE + timedelta(seconds=30))
        assert daily.scheduler.passes == 2
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def test_the_loop_outlives_a_database_error_between_passes(
    daily: Daily, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await set_up(daily)
    failures = iter([OSError("disk I/O error")])
    next_wake = daily.scheduler.next_wake

    async def failing_once() -> datetime | None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return await next_wake()

    monkeypatch.setattr(daily.scheduler, "next_wake", failing_once)
    loop = asyncio.create_task(daily.scheduler.run())
    try:
        await daily.clock.wait_for_sleepers()
        assert "scheduler pass failed" in caplog.text
        await moved_and_settled(daily, FIRST_DUE)
        assert len(daily.publisher.discord.messages) == 1  # the next pass posted as usual
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def test_stop_lets_a_send_in_flight_finish_and_be_recorded(daily: Daily) -> None:
    await set_up(daily)
    entered, release = asyncio.Event(), asyncio.Event()
    publish = daily.publisher.post

    async def slow_post(message: DailyMessage) -> int:
        entered.set()
        await release.wait()
        return await publish(message)

    daily.publisher.post = slow_post  # type: ignore[method-assign]
    loop = asyncio.create_task(daily.scheduler.run())
    await daily.clock.wait_for_sleepers()
    move_to(daily, FIRST_DUE)
    await asyncio.wait_for(entered.wait(), timeout=5)
    daily.scheduler.stop()
    release.set()
    await asyncio.wait_for(loop, timeout=5)
    rows = await daily.db.fetch_all("SELECT status FROM daily_posts")
    assert [row[0] for row in rows] == ["posted"]


async def test_stop_during_a_busy_pass_ends_the_loop(tmp_path: Path, discord_side: FakeDiscordSide) -> None:
    """More due guilds than the job queue holds: the claims wait for the senders when stop() comes."""
    daily = await build(tmp_path / "bot.db", FakeClock(START), discord_side, senders=1)
    for guild in range(1, 21):
        await set_up(daily, guild=guild, channel=1000 + guild)
    entered, release = asyncio.Event(), asyncio.Event()
    publish = daily.publisher.post

    async def slow_post(message: DailyMessage) -> int:
        entered.set()
        await release.wait()
        return await publish(message)

    daily.publisher.post = slow_post  # type: ignore[method-assign]
    loop = asyncio.create_task(daily.scheduler.run())
    await daily.clock.wait_for_sleepers()
    move_to(daily, FIRST_DUE)
    await asyncio.wait_for(entered.wait(), timeout=5)
    daily.scheduler.stop()
    release.set()
    await asyncio.wait_for(loop, timeout=5)
    statuses = [row[0] for row in await daily.db.fetch_all("SELECT status FROM daily_posts ORDER BY id")]
    assert statuses[0] == "posted" and set(statuses[1:]) <= {"pending"}  # the rest go out at the next start
    await daily.db.close()
