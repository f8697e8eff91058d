"""TIL reminders and the weekly digest on a real SQLite file: time moved by hand, Discord replaced by a recorder.

TIL posts and member choices are plain rows inserted with SQL, so these tests need nothing but the schema.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import InvalidInput
from bot.services.daily import DestinationForbidden, DestinationGone, DestinationUnavailable
from bot.services.server_time import ServerTimeService
from bot.services.til.schedule import (
    HOLD,
    TilDigestPost,
    TilReminder,
    TilScheduler,
    TilScheduleService,
    digest_week,
    next_weekly,
)
from bot.storage import Database, GuildSettingsRepository, TilJob, TilRunRow, TilScheduleRepository
from tests.fakes.clock import FakeClock

SEOUL, BERLIN = ZoneInfo("Asia/Seoul"), ZoneInfo("Europe/Berlin")
# Wednesday 2026-11-25, 14:00 in Seoul.
START = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
REMIND_AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 21:00 KST the same day
DIGEST_AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # Sunday 21:00 KST
GUILD, CHANNEL, ROLE, HOME = 1, 100, 50, 200
ALICE, BOB, CAROL, DAVE = 11, 12, 13, 14


@dataclass(frozen=True)
class FakeDigest:
    guild_id: int
    week_start: date
    language: str


@dataclass
class FakeDiscordSide:
    reminders: list[TilReminder] = field(default_factory=list)
    digests: dict[str, tuple[int, TilDigestPost[FakeDigest]]] = field(default_factory=dict)
    """By nonce: Discord returns the first message for a repeated nonce."""
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))


class Publisher:
    def __init__(self, discord: FakeDiscordSide) -> None:
        self.discord = discord
        self.gone: set[int] = set()
        self.forbidden: set[int] = set()
        self.unavailable: dict[int, int] = {}
        """channel -> how many more sends fail with a 5xx"""
        self.alerts: list[tuple[int, TilJob, str]] = []

    def _fault(self, channel: int | None) -> None:
        if channel in self.gone:
            raise DestinationGone("404 Unknown Channel")
        if channel in self.forbidden:
            raise DestinationForbidden("403 Missing Permissions")
        if channel is not None and self.unavailable.get(channel, 0) > 0:
            self.unavailable[channel] -= 1
            raise DestinationUnavailable("503")

    async def remind(self, reminder: TilReminder) -> None:
        self._fault(reminder.channel_id)
        self.discord.reminders.append(reminder)

    async def post_digest(self, post: TilDigestPost[FakeDigest]) -> int:
        self._fault(post.channel_id)
        if post.nonce not in self.discord.digests:
            self.discord.digests[post.nonce] = (next(self.discord.ids), post)
        return self.discord.digests[post.nonce][0]

    async def alert(self, guild_id: int, job: TilJob, problem: str) -> None:
        self.alerts.append((guild_id, job, problem))

    @property
    def digests(self) -> list[TilDigestPost[FakeDigest]]:
        return [post for _, post in self.discord.digests.values()]


class DigestWriter:
    """Stands in for `TilDigestService.weekly_digest`; can be told to fail like an LLM that is down."""

    def __init__(self) -> None:
        self.failures = 0

    async def __call__(self, guild_id: int, week_start: date, language: str) -> FakeDigest:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("the model server is down")
        return FakeDigest(guild_id, week_start, language)


async def language_of(guild_id: int, default: str) -> str:
    return default


@dataclass
class Til:
    db: Database
    clock: FakeClock
    repo: TilScheduleRepository
    service: TilScheduleService
    scheduler: TilScheduler[FakeDigest]
    publisher: Publisher
    writer: DigestWriter


async def build(path: Path, clock: FakeClock, discord: FakeDiscordSide) -> Til:
    db = await Database.open(path)
    repo = TilScheduleRepository(db)
    service = TilScheduleService(repo, clock)
    publisher, writer = Publisher(discord), DigestWriter()
    scheduler = TilScheduler(
        service, repo, clock, publisher, writer, language_of, timeout_s={job: 0.5 for job in TilJob}
    )
    return Til(db, clock, repo, service, scheduler, publisher, writer)


@pytest.fixture
def discord_side() -> FakeDiscordSide:
    return FakeDiscordSide()


@pytest.fixture
async def til(tmp_path: Path, discord_side: FakeDiscordSide) -> AsyncIterator[Til]:
    built = await build(tmp_path / "bot.db", FakeClock(START), discord_side)
    yield built
    await built.db.close()


def move_to(til: Til, moment: datetime) -> None:
    til.clock.advance(moment - til.clock.now())


async def member(til: Til, user_id: int, *, reminder_dm: bool, guild_id: int = GUILD) -> None:
    await til.db.execute(
        "INSERT INTO til_members (guild_id, user_id, reminder_dm, updated_at) VALUES (?, ?, ?, ?)",
        (guild_id, user_id, int(reminder_dm), START.isoformat()),
    )


async def posted(til: Til, user_id: int, local_date: date, guild_id: int = GUILD) -> None:
    await til.db.execute(
        "INSERT INTO til_posts (guild_id, author_id, title, learned, local_date, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (guild_id, user_id, f"TIL {local_date}", "EC2", local_date.isoformat(), START.isoformat(), START.isoformat()),
    )


async def guild_zone(til: Til, timezone: str) -> None:
    await til.db.execute(
        "INSERT INTO guild_settings (guild_id, timezone, updated_at) VALUES (?, ?, ?)",
        (GUILD, timezone, START.isoformat()),
    )


async def runs(til: Til, job: TilJob) -> list[TilRunRow]:
    """The guild's runs of `job`, oldest period first."""
    rows = await til.db.fetch_all(
        "SELECT id FROM til_runs WHERE guild_id = ? AND kind = ? ORDER BY period", (GUILD, job.value)
    )
    found = [await til.repo.run(int(row[0])) for row in rows]
    return [run for run in found if run is not None]


# --- schedule arithmetic -----------------------------------------------------------------------------------------


def test_next_weekly_is_the_weekday_at_local_time() -> None:
    assert next_weekly(6, time(21, 0), SEOUL, START) == DIGEST_AT
    assert next_weekly(6, time(21, 0), SEOUL, DIGEST_AT) == DIGEST_AT + timedelta(days=7)
    assert next_weekly(2, time(21, 0), SEOUL, START) == REMIND_AT  # Wednesday: later today


def test_next_weekly_keeps_local_time_across_daylight_saving() -> None:
    # 2026-03-29 and 2026-10-25 are the Sundays Berlin changes its clocks (CET +1 <-> CEST +2).
    before_spring = next_weekly(6, time(21, 0), BERLIN, datetime(2026, 3, 20, tzinfo=UTC))
    assert before_spring == datetime(2026, 3, 22, 20, 0, tzinfo=UTC)
    assert next_weekly(6, time(21, 0), BERLIN, before_spring) == datetime(2026, 3, 29, 19, 0, tzinfo=UTC)
    before_fall = next_weekly(6, time(21, 0), BERLIN, datetime(2026, 10, 16, tzinfo=UTC))
    assert before_fall == datetime(2026, 10, 18, 19, 0, tzinfo=UTC)
    assert next_weekly(6, time(21, 0), BERLIN, before_fall) == datetime(2026, 10, 25, 20, 0, tzinfo=UTC)
    # 02:30 does not exist on the spring Sunday: the digest comes right after the jump, at 03:30 CEST.
    assert next_weekly(6, time(2, 30), BERLIN, datetime(2026, 3, 28, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


def test_a_digest_covers_the_week_of_the_day_before_it() -> None:
    assert digest_week(DIGEST_AT, SEOUL) == date(2026, 11, 23)  # Sunday evening: its own week
    monday_morning = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 09:00 KST
    assert digest_week(monday_morning, SEOUL) == date(2026, 11, 23)  # the week just ended
    assert digest_week(datetime(2026, 11, 27, 12, 0, tzinfo=UTC), SEOUL) == date(2026, 11, 23)  # Friday


# --- configuration -----------------------------------------------------------------------------------------------


async def test_configuring_computes_next_times_in_the_guild_zone(til: Til) -> None:
    reminder = await til.service.configure_reminder(GUILD, "21:00", ROLE, CHANNEL)
    assert (reminder.reminder_time, reminder.reminder_role_id, reminder.reminder_channel_id) == ("21:00", ROLE, CHANNEL)
    assert reminder.reminder_next_at == REMIND_AT
    assert reminder.timezone == "Asia/Seoul"
    digest = await til.service.configure_digest(GUILD, 6, "21:00", CHANNEL)
    assert digest.digest_next_at == DIGEST_AT
    assert digest.reminder_next_at == REMIND_AT  # the other job is untouched


async def test_a_new_server_time_zone_keeps_the_jobs_local_times(til: Til) -> None:
    await til.service.configure_reminder(GUILD, "21:00", ROLE, CHANNEL)
    await til.service.configure_digest(GUILD, 6, "21:00", CHANNEL)
    server_time = ServerTimeService(GuildSettingsRepository(til.db), til.service)
    assert await server_time.set_timezone(GUILD, "europe/berlin") == "Europe/Berlin"
    moved = await til.service.settings(GUILD)
    assert moved.timezone == "Europe/Berlin"
    assert moved.reminder_next_at is not None and moved.digest_next_at is not None
    assert moved.reminder_next_at.astimezone(BERLIN).time() == time(21, 0)
    assert moved.digest_next_at.astimezone(BERLIN).weekday() == 6
    assert moved.digest_next_at.astimezone(BERLIN).time() == time(21, 0)
    assert (moved.reminder_role_id, moved.reminder_channel_id, moved.digest_channel_id) == (ROLE, CHANNEL, CHANNEL)


async def test_an_unknown_server_time_zone_changes_nothing(til: Til) -> None:
    await til.service.configure_reminder(GUILD, "21:00", ROLE, CHANNEL)
    with pytest.raises(InvalidInput):
        await ServerTimeService(GuildSettingsRepository(til.db), til.service).set_timezone(GUILD, "Mars/Olympus")
    kept = await til.service.settings(GUILD)
    assert (kept.timezone, kept.reminder_next_at) == ("Asia/Seoul", REMIND_AT)


async def test_configuring_leaves_the_til_channel_columns_alone(til: Til) -> None:
    await til.db.execute(
        "INSERT INTO til_settings (guild_id, channel_id, thread_per_member, updated_at) VALUES (?, ?, 1, ?)",
        (GUILD, HOME, START.isoformat()),
    )
    await til.service.configure_reminder(GUILD, "9:05")
    settings = await til.service.configure_digest(GUILD, 0, "08:00", channel_id=None)
    assert settings.digest_channel_id == HOME  # the digest goes to the TIL channel unless told otherwise
    assert settings.reminder_time == "09:05"
    row = await til.db.fetch_one("SELECT channel_id, thread_per_member FROM til_settings WHERE guild_id = ?", (GUILD,))
    assert row is not None and tuple(row) == (HOME, 1)
    off = await til.service.configure_reminder(GUILD, None)
    assert off.reminder_time is None and off.reminder_next_at is None
    assert off.digest_weekday == 0


@pytest.mark.parametrize(
    ("call", "key"),
    [
        ("reminder_bad_time", "daily.invalid_time"),
        ("reminder_role_without_channel", "til.reminder_needs_channel"),
        ("digest_bad_weekday", "til.weekday_out_of_range"),
        ("digest_bad_time", "daily.invalid_time"),
        ("digest_without_channel", "til.digest_needs_channel"),
    ],
)
async def test_invalid_settings_are_refused_and_nothing_is_stored(til: Til, call: str, key: str) -> None:
    attempts = {
        "reminder_bad_time": lambda: til.service.configure_reminder(GUILD, "25:00", None, CHANNEL),
        "reminder_role_without_channel": lambda: til.service.configure_reminder(GUILD, "21:00", ROLE, None),
        "digest_bad_weekday": lambda: til.service.configure_digest(GUILD, 7, "21:00", CHANNEL),
        "digest_bad_time": lambda: til.service.configure_digest(GUILD, 6, "9pm", CHANNEL),
        "digest_without_channel": lambda: til.service.configure_digest(GUILD, 6, "21:00", None),
    }
    with pytest.raises(InvalidInput) as raised:
        await attempts[call]()
    assert raised.value.key == key
    assert await til.db.fetch_value("SELECT COUNT(*) FROM til_settings") == 0


# --- reminders ---------------------------------------------------------------------------------------------------


async def moved_and_settled(til: Til, moment: datetime) -> None:
    """Moves time and waits until the scheduler loop has made its pass for it and sleeps again."""
    passes = til.scheduler.passes
    move_to(til, moment)
    async with asyncio.timeout(5):
        while til.scheduler.passes == passes:  # noqa: ASYNC110 - a counter the loop bumps, polled by the test only
            await asyncio.sleep(0.001)
        await til.clock.wait_for_sleepers()


async def test_the_loop_reminds_at_the_exact_minute_those_without_a_til_today(til: Til) -> None:
    today = date(2026, 11, 25)
    await member(til, ALICE, reminder_dm=True)
    await member(til, BOB, reminder_dm=True)
    await member(til, CAROL, reminder_dm=False)
    await member(til, DAVE, reminder_dm=True)
    await member(til, ALICE, reminder_dm=True, guild_id=2)
    await posted(til, BOB, today)
    await posted(til, DAVE, today - timedelta(days=1))
    await posted(til, ALICE, today, guild_id=2)  # another guild's TIL does not count here
    loop = asyncio.create_task(til.scheduler.run())
    try:
        await til.clock.wait_for_sleepers()
        await til.service.configure_reminder(GUILD, "21:00", ROLE, CHANNEL)
        passes = til.scheduler.passes
        til.scheduler.wake()  # the loop slept for its longest nap; the new reminder must not wait that out
        async with asyncio.timeout(5):
            while til.scheduler.passes == passes:  # noqa: ASYNC110 - a counter the loop bumps
                await asyncio.sleep(0.001)
            await til.clock.wait_for_sleepers()
        await moved_and_settled(til, REMIND_AT - timedelta(seconds=1))
        assert til.publisher.discord.reminders == []
        await moved_and_settled(til, REMIND_AT)
        [reminder] = til.publisher.discord.reminders
        assert reminder.dm_user_ids == [ALICE, DAVE]
        assert (reminder.channel_id, reminder.role_id, reminder.local_date) == (CHANNEL, ROLE, today)
        assert reminder.language == "ko"
        assert (await til.service.settings(GUILD)).reminder_next_at == REMIND_AT + timedelta(days=1)
        [run] = await runs(til, TilJob.REMINDER)
        assert (run.status, run.period) == ("done", today)
        # The next day Alice posted before the reminder: only Dave hears from the bot.
        await posted(til, ALICE, today + timedelta(days=1))
        await moved_and_settled(til, REMIND_AT + timedelta(days=1))
        assert til.publisher.discord.reminders[-1].dm_user_ids == [BOB, DAVE]
    finally:
        til.scheduler.stop()
        await asyncio.wait_for(loop, 5)


async def test_a_member_in_another_zone_is_reminded_by_their_own_day(til: Til) -> None:
    """08:00 in Seoul on the 26th is 18:00 on the 25th in New York: Bob, there, has posted his day's TIL."""
    await member(til, ALICE, reminder_dm=True)
    await member(til, BOB, reminder_dm=True)
    await til.db.execute(
        "INSERT INTO user_settings (user_id, timezone, updated_at) VALUES (?, 'America/New_York', ?)",
        (BOB, START.isoformat()),
    )
    await posted(til, ALICE, date(2026, 11, 25))  # yesterday, in Seoul
    await posted(til, BOB, date(2026, 11, 25))  # today, in New York
    await til.service.configure_reminder(GUILD, "08:00")
    move_to(til, datetime(2026, 11, 25, 23, 0, tzinfo=UTC))
    assert await til.scheduler.run_once() == 1
    [reminder] = til.publisher.discord.reminders
    assert reminder.dm_user_ids == [ALICE]


async def test_a_dm_only_reminder_with_nobody_to_remind_sends_nothing(til: Til) -> None:
    await member(til, ALICE, reminder_dm=True)
    await posted(til, ALICE, date(2026, 11, 25))
    await til.service.configure_reminder(GUILD, "21:00")
    move_to(til, REMIND_AT)
    assert await til.scheduler.run_once() == 1
    assert til.publisher.discord.reminders == []
    [run] = await runs(til, TilJob.REMINDER)
    assert run.status == "done"


async def test_moving_the_reminder_later_on_a_day_it_went_out_starts_tomorrow(til: Til) -> None:
    await til.service.configure_reminder(GUILD, "21:00", None, CHANNEL)
    move_to(til, REMIND_AT)
    await til.scheduler.run_once()
    settings = await til.service.configure_reminder(GUILD, "22:00", None, CHANNEL)
    assert settings.reminder_next_at == REMIND_AT + timedelta(days=1, hours=1)


# --- the weekly digest -------------------------------------------------------------------------------------------


async def test_the_digest_goes_out_on_its_weekday_and_time(til: Til) -> None:
    await til.service.configure_digest(GUILD, 6, "21:00", CHANNEL)
    move_to(til, DIGEST_AT - timedelta(seconds=1))
    await til.scheduler.run_once()
    assert til.publisher.digests == []
    move_to(til, DIGEST_AT)
    await til.scheduler.run_once()
    [post] = til.publisher.digests
    assert post.digest == FakeDigest(GUILD, date(2026, 11, 23), "ko")
    assert (post.channel_id, post.week_start, post.late) == (CHANNEL, date(2026, 11, 23), False)
    [run] = await runs(til, TilJob.DIGEST)
    assert run.status == "done" and run.message_id == 1000
    assert (await til.service.settings(GUILD)).digest_next_at == DIGEST_AT + timedelta(days=7)


async def test_the_berlin_digest_stays_at_local_nine_across_the_clock_change(til: Til) -> None:
    await guild_zone(til, "Europe/Berlin")
    move_to(til, datetime(2026, 10, 12, tzinfo=UTC))
    await til.service.configure_digest(GUILD, 6, "21:00", CHANNEL)
    summer, winter = datetime(2026, 10, 18, 19, 0, tzinfo=UTC), datetime(2026, 10, 25, 20, 0, tzinfo=UTC)
    for due in (summer, winter):
        move_to(til, due - timedelta(seconds=1))
        await til.scheduler.run_once()
        move_to(til, due)
        await til.scheduler.run_once()
    weeks = [post.week_start for post in til.publisher.digests]
    assert weeks == [date(2026, 10, 12), date(2026, 10, 19)]
    assert [run.due_at for run in await runs(til, TilJob.DIGEST)] == [summer, winter]
    assert all(due.astimezone(BERLIN).hour == 21 for due in (summer, winter))


# --- restarts and races ------------------------------------------------------------------------------------------


async def test_restart_just_after_the_claim_sends_once(tmp_path: Path, discord_side: FakeDiscordSide) -> None:
    clock = FakeClock(START)
    first = await build(tmp_path / "bot.db", clock, discord_side)
    await member(first, ALICE, reminder_dm=True)
    await first.service.configure_reminder(GUILD, "21:00", ROLE, CHANNEL)
    move_to(first, REMIND_AT)
    claimed = await first.service.claim_due(GUILD, TilJob.REMINDER)  # claimed and committed ... and the process dies
    assert claimed is not None
    await first.db.close()
    second = await build(tmp_path / "bot.db", clock, discord_side)
    await second.scheduler.run_once()
    assert discord_side.reminders == []  # the dead process still holds it
    assert await second.repo.next_wake() == REMIND_AT + HOLD[TilJob.REMINDER]
    clock.advance(HOLD[TilJob.REMINDER])
    await second.scheduler.run_once()
    await second.scheduler.run_once()
    [reminder] = discord_side.reminders
    assert reminder.dm_user_ids == [ALICE]
    run = await second.repo.run(claimed.id)
    assert run is not None and run.status == "done" and run.attempts == 2
    await second.db.close()


async def test_a_digest_that_reached_discord_before_the_crash_is_not_repeated(
    tmp_path: Path, discord_side: FakeDiscordSide
) -> None:
    clock = FakeClock(START)
    first = await build(tmp_path / "bot.db", clock, discord_side)
    await first.service.configure_digest(GUILD, 6, "21:00", CHANNEL)
    move_to(first, DIGEST_AT)
    claimed = await first.service.claim_due(GUILD, TilJob.DIGEST)
    assert claimed is not None
    post = TilDigestPost(
        claimed.id, GUILD, CHANNEL, claimed.period, FakeDigest(GUILD, claimed.period, "ko"), "ko", False
    )
    sent = await first.publisher.post_digest(post)  # Discord took it; the process died before recording it
    await first.db.close()
    second = await build(tmp_path / "bot.db", clock, discord_side)
    clock.advance(HOLD[TilJob.DIGEST])
    await second.scheduler.run_once()
    assert len(discord_side.digests) == 1  # the nonce made Discord answer with the first message
    run = await second.repo.run(claimed.id)
    assert run is not None and run.message_id == sent
    await second.db.close()


async def test_two_schedulers_racing_on_one_database_run_each_job_once(
    tmp_path: Path, discord_side: FakeDiscordSide
) -> None:
    clock = FakeClock(START)
    one = await build(tmp_path / "bot.db", clock, discord_side)
    other = await build(tmp_path / "bot.db", clock, discord_side)
    guilds = range(1, 31)
    for guild in guilds:
        await one.service.configure_reminder(guild, "21:00", None, 1000 + guild)
        await one.service.configure_digest(guild, 2, "21:00", 2000 + guild)  # Wednesday: the same minute
    move_to(one, REMIND_AT)
    for _ in range(3):
        await asyncio.gather(one.scheduler.run_once(), other.scheduler.run_once())
    assert sorted(r.channel_id or 0 for r in discord_side.reminders) == [1000 + guild for guild in guilds]
    assert sorted(p.channel_id for _, p in discord_side.digests.values()) == [2000 + guild for guild in guilds]
    rows = await one.db.fetch_all("SELECT kind, COUNT(*), MIN(status) FROM til_runs GROUP BY kind ORDER BY kind")
    assert [tuple(row) for row in rows] == [("digest", 30, "done"), ("reminder", 30, "done")]
    await one.db.close()
    await other.db.close()


# --- downtime ------------------------------------------------------------------------------------------------------


async def test_a_reminder_missed_beyond_grace_is_skipped_and_one_within_goes_out(til: Til) -> None:
    await til.service.configure_reminder(GUILD, "21:00", ROLE, CHANNEL)
    move_to(til, REMIND_AT + timedelta(minutes=31))
    await til.scheduler.run_once()
    assert til.publisher.discord.reminders == []
    assert await runs(til, TilJob.REMINDER) == []
    assert (await til.service.settings(GUILD)).reminder_next_at == REMIND_AT + timedelta(days=1)
    # Down across several days: only what is not yet missed counts, and nothing piles up.
    move_to(til, REMIND_AT + timedelta(days=3, minutes=20))
    await til.scheduler.run_once()
    [reminder] = til.publisher.discord.reminders
    assert reminder.local_date == date(2026, 11, 28)
    assert (await til.service.settings(GUILD)).reminder_next_at == REMIND_AT + timedelta(days=4)


async def test_a_digest_missed_for_hours_goes_out_late_and_one_missed_a_day_is_skipped(til: Til) -> None:
    await til.service.configure_digest(GUILD, 6, "21:00", CHANNEL)
    move_to(til, DIGEST_AT + timedelta(hours=20))
    await til.scheduler.run_once()
    [post] = til.publisher.digests
    assert post.late and post.week_start == date(2026, 11, 23)
    move_to(til, DIGEST_AT + timedelta(days=8, hours=1))
    await til.scheduler.run_once()
    assert len(til.publisher.digests) == 1
    assert (await til.service.settings(GUILD)).digest_next_at == DIGEST_AT + timedelta(days=14)


# --- faults --------------------------------------------------------------------------------------------------------


async def test_a_deleted_reminder_channel_switches_reminders_off_and_tells_the_admin_once(til: Til) -> None:
    await til.service.configure_reminder(GUILD, "21:00", ROLE, CHANNEL)
    await til.service.configure_digest(GUILD, 6, "21:00", HOME)
    til.publisher.gone.add(CHANNEL)
    move_to(til, REMIND_AT)
    await til.scheduler.run_once()
    [run] = await runs(til, TilJob.REMINDER)
    assert (run.status, run.failure) == ("failed", "channel_missing")
    settings = await til.service.settings(GUILD)
    assert settings.reminder_time is None and settings.reminder_next_at is None
    assert settings.digest_next_at == DIGEST_AT  # the digest has its own channel and stays on
    assert til.publisher.alerts == [(GUILD, TilJob.REMINDER, "channel_missing")]
    move_to(til, DIGEST_AT)
    await til.scheduler.run_once()
    assert len(til.publisher.digests) == 1
    assert til.publisher.alerts == [(GUILD, TilJob.REMINDER, "channel_missing")]


async def test_a_lost_permission_switches_the_digest_off(til: Til) -> None:
    await til.service.configure_digest(GUILD, 6, "21:00", CHANNEL)
    til.publisher.forbidden.add(CHANNEL)
    move_to(til, DIGEST_AT)
    await til.scheduler.run_once()
    settings = await til.service.settings(GUILD)
    assert settings.digest_weekday is None and settings.digest_next_at is None
    assert til.publisher.alerts == [(GUILD, TilJob.DIGEST, "forbidden")]
    # Fixed and set up again the same evening: that week's digest runs after all.
    til.publisher.forbidden.clear()
    await til.service.configure_digest(GUILD, 6, "21:30", CHANNEL)
    move_to(til, DIGEST_AT + timedelta(minutes=30))
    await til.scheduler.run_once()
    [post] = til.publisher.digests
    assert post.week_start == date(2026, 11, 23)


async def test_discord_and_llm_failures_are_retried_with_backoff(til: Til) -> None:
    await til.service.configure_digest(GUILD, 6, "21:00", CHANNEL)
    til.writer.failures = 1
    til.publisher.unavailable[CHANNEL] = 1
    move_to(til, DIGEST_AT)
    await til.scheduler.run_once()
    [run] = await runs(til, TilJob.DIGEST)
    assert (run.status, run.failure, run.retry_at) == ("pending", "ConnectionError", DIGEST_AT + timedelta(minutes=1))
    assert await til.repo.next_wake() == DIGEST_AT + timedelta(minutes=1)
    move_to(til, DIGEST_AT + timedelta(minutes=1))
    await til.scheduler.run_once()
    [run] = await runs(til, TilJob.DIGEST)
    assert (run.failure, run.retry_at) == ("DestinationUnavailable", DIGEST_AT + timedelta(minutes=3))
    move_to(til, DIGEST_AT + timedelta(minutes=3))
    await til.scheduler.run_once()
    [run] = await runs(til, TilJob.DIGEST)
    assert (run.status, run.attempts) == ("done", 3)
    assert len(til.publisher.digests) == 1
    assert til.publisher.alerts == []


async def test_a_reminder_discord_keeps_failing_is_given_up_within_grace_and_stays_on(til: Til) -> None:
    await til.service.configure_reminder(GUILD, "21:00", ROLE, CHANNEL)
    til.publisher.unavailable[CHANNEL] = 100
    move_to(til, REMIND_AT)
    for _ in range(10):
        await til.scheduler.run_once()
        wake = await til.repo.next_wake()
        assert wake is not None
        move_to(til, min(wake, REMIND_AT + timedelta(hours=1)))
    [run] = await runs(til, TilJob.REMINDER)
    assert (run.status, run.failure) == ("failed", "unavailable")
    assert run.attempts == 6  # after 1, 2, 5, 10 and 10 minutes; the next wait would end past the grace
    settings = await til.service.settings(GUILD)
    assert settings.reminder_time == "21:00" and settings.reminder_next_at == REMIND_AT + timedelta(days=1)
    assert til.publisher.alerts == []


async def test_a_job_switched_off_after_its_claim_is_not_run(til: Til) -> None:
    await til.service.configure_reminder(GUILD, "21:00", ROLE, CHANNEL)
    move_to(til, REMIND_AT)
    claimed = await til.service.claim_due(GUILD, TilJob.REMINDER)
    assert claimed is not None
    await til.service.configure_reminder(GUILD, None)
    assert await til.scheduler.execute(claimed) == "failed"
    assert til.publisher.discord.reminders == []
    run = await til.repo.run(claimed.id)
    assert run is not None and run.failure == "disabled"
