"""TIL reminders and the weekly digest: configured per guild, run on time in the guild's zone, once each.

The scheduling is the daily quiz's (`bot.services.daily`), reused rather than repeated: times are validated by
its `parse_local_time`, next times come from its `next_occurrence` (so daylight saving time is handled the same
way), faults are its `DeliveryFailed` family, and each job is claimed in the database before anything is sent.
A claim moves the job's next time on and inserts the period's run (a guild's local day for a reminder, the
week's Monday for a digest) in one transaction; the claiming process holds the run for a lease, so a second
process finds nothing to do, and a process that dies mid-send leaves a run the next pass takes over.

After downtime a reminder missed by more than its grace (30 minutes) is skipped: a "you have not posted today"
hours late is noise. A digest is still worth reading a day late, so its grace is a day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.errors import InvalidInput
from bot.services.daily import (
    DEFAULT_TIMEZONE,
    LATE_AFTER,
    RETRY_BACKOFF,
    DestinationForbidden,
    DestinationGone,
    LanguageOf,
    next_occurrence,
    parse_local_time,
    resolve_timezone,
)
from bot.services.scheduling import NappingScheduler
from bot.storage import TilJob, TilJobSettings, TilRunRow, TilScheduleRepository

log = logging.getLogger(__name__)

REMINDER_GRACE = timedelta(minutes=30)
DIGEST_GRACE = timedelta(days=1)
# How long a claimer holds a run: enough to DM every opted-in member, or to write the digest with the LLM.
HOLD = {TilJob.REMINDER: timedelta(minutes=5), TilJob.DIGEST: timedelta(minutes=15)}
# A job cut off before its hold ends is retried by the next pass instead of waiting out the hold.
TIMEOUT_S = {job: hold.total_seconds() - 60 for job, hold in HOLD.items()}
# The language a guild's reminder and digest are written in when it chose none (the group is Korean).
DEFAULT_LANGUAGE = "ko"
SENDERS = 8
BATCH = 500

DigestT = TypeVar("DigestT")

MakeDigest = Callable[[int, date, str], Awaitable[DigestT]]
"""(guild id, the week's Monday, language) -> the digest; `TilDigestService.weekly_digest` in the bot."""


@dataclass(frozen=True)
class TilReminder:
    """A guild's reminder for one local day."""

    run_id: int
    guild_id: int
    channel_id: int | None
    """Where the reminder (with the role mention, if any) is posted; None: DMs only."""
    role_id: int | None
    dm_user_ids: list[int]
    """Members who asked for a DM and have no TIL on `local_date` yet."""
    local_date: date
    language: str

    @property
    def nonce(self) -> str:
        """The run's part of Discord's enforced nonce, so a retried send is not repeated. Discord remembers a nonce
        per author (the bot), not per channel: the publisher adds the destination to it for each DM and the channel."""
        return f"til-{self.run_id}"


@dataclass(frozen=True)
class TilDigestPost(Generic[DigestT]):
    """A guild's weekly digest, ready to post."""

    run_id: int
    guild_id: int
    channel_id: int
    week_start: date
    """The Monday of the week it covers (through the Sunday after)."""
    digest: DigestT
    language: str
    late: bool
    """Posted well after its time (the bot was down): the post may say so."""

    @property
    def nonce(self) -> str:
        return f"til-{self.run_id}"


class TilPublisher(Protocol[DigestT]):
    """Discord, as the scheduler sees it (the TIL cog implements it)."""

    async def remind(self, reminder: TilReminder) -> None:
        """DMs each member in `dm_user_ids` (a member who refuses DMs is skipped, not an error) and posts the
        reminder in `channel_id` with the role mention. Raises a `DeliveryFailed` for the channel only."""

    async def post_digest(self, post: TilDigestPost[DigestT]) -> int:
        """Posts the digest; returns the message id. Raises a `DeliveryFailed`."""

    async def alert(self, guild_id: int, job: TilJob, problem: str) -> None:
        """Tells the guild's admin that the job was switched off, and why ("channel_missing" or "forbidden").
        Best effort: must not raise."""


# --- schedule arithmetic ------------------------------------------------------------------------------------------


def next_weekly(weekday: int, local_time: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after `after` at which clocks in `zone` show `local_time` on `weekday`
    (Monday = 0): `next_occurrence` day by day, so skipped and doubled local times come out as there."""
    instant = next_occurrence(local_time, zone, after)
    while instant.astimezone(zone).weekday() != weekday:
        instant = next_occurrence(local_time, zone, instant)
    return instant


def digest_week(due: datetime, zone: ZoneInfo) -> date:
    """The Monday of the week a digest due at `due` covers: the week of the day before it, so a Sunday evening
    digest sums up its own week and a Monday morning one the week just ended."""
    day_before = due.astimezone(zone).date() - timedelta(days=1)
    return day_before - timedelta(days=day_before.weekday())


def _next_due(job: TilJob, settings: TilJobSettings, after: datetime) -> datetime:
    zone = ZoneInfo(settings.timezone)
    if job is TilJob.REMINDER:
        assert settings.reminder_time is not None
        return next_occurrence(parse_local_time(settings.reminder_time), zone, after)
    assert settings.digest_weekday is not None and settings.digest_time is not None
    return next_weekly(settings.digest_weekday, parse_local_time(settings.digest_time), zone, after)


def _period(job: TilJob, due: datetime, timezone: str) -> date:
    zone = ZoneInfo(timezone)
    return due.astimezone(zone).date() if job is TilJob.REMINDER else digest_week(due, zone)


# --- the service: configuration and claims ------------------------------------------------------------------------


class TilScheduleService:
    def __init__(
        self,
        repo: TilScheduleRepository,
        clock: Clock,
        *,
        reminder_grace: timedelta = REMINDER_GRACE,
        digest_grace: timedelta = DIGEST_GRACE,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self.grace = {TilJob.REMINDER: reminder_grace, TilJob.DIGEST: digest_grace}

    async def settings(self, guild_id: int) -> TilJobSettings:
        """What `/til reminder` and `/til digest` show."""
        return await self._repo.settings(guild_id, DEFAULT_TIMEZONE)

    async def configure_reminder(
        self, guild_id: int, local_time: str | None, role_id: int | None = None, channel_id: int | None = None
    ) -> TilJobSettings:
        """A daily reminder at `local_time` in the guild's zone (None: no reminders). Members who opted in get a
        DM; `role_id` is mentioned in `channel_id`, which it needs. Validates before storing anything."""
        if local_time is None:
            await self._repo.save_reminder(
                guild_id, local_time=None, role_id=None, channel_id=None, next_at=None, at=self._clock.now()
            )
            return await self.settings(guild_id)
        at = parse_local_time(local_time)
        if role_id is not None and channel_id is None:
            raise InvalidInput("til.reminder_needs_channel")
        settings = await self._repo.settings(guild_id, DEFAULT_TIMEZONE)
        zone = resolve_timezone(settings.timezone)
        now = self._clock.now()
        next_at = next_occurrence(at, zone, now)
        # One reminder per local day: a time moved later on a day that already had its reminder starts tomorrow.
        if await self._repo.has_run(guild_id, TilJob.REMINDER, _period(TilJob.REMINDER, next_at, zone.key)):
            next_at = next_occurrence(at, zone, next_at)
        await self._repo.save_reminder(
            guild_id, local_time=at.strftime("%H:%M"), role_id=role_id, channel_id=channel_id, next_at=next_at, at=now
        )
        return await self.settings(guild_id)

    async def configure_digest(
        self, guild_id: int, weekday: int | None, local_time: str = "21:00", channel_id: int | None = None
    ) -> TilJobSettings:
        """A weekly digest on `weekday` (Monday = 0; None: no digest) at `local_time` in the guild's zone, posted in
        `channel_id`, else in the TIL home channel. Validates before storing anything."""
        if weekday is None:
            await self._repo.save_digest(
                guild_id, weekday=None, local_time=None, channel_id=None, next_at=None, at=self._clock.now()
            )
            return await self.settings(guild_id)
        if not 0 <= weekday <= 6:
            raise InvalidInput("til.weekday_out_of_range")
        at = parse_local_time(local_time)
        settings = await self._repo.settings(guild_id, DEFAULT_TIMEZONE)
        channel = channel_id if channel_id is not None else settings.home_channel_id
        if channel is None:
            raise InvalidInput("til.digest_needs_channel")
        zone = resolve_timezone(settings.timezone)
        now = self._clock.now()
        next_at = next_weekly(weekday, at, zone, now)
        if await self._repo.has_run(guild_id, TilJob.DIGEST, digest_week(next_at, zone)):
            next_at = next_weekly(weekday, at, zone, next_at)
        await self._repo.save_digest(
            guild_id, weekday=weekday, local_time=at.strftime("%H:%M"), channel_id=channel, next_at=next_at, at=now
        )
        return await self.settings(guild_id)

    async def follow_timezone(self, guild_id: int) -> TilJobSettings:
        """After the server's time zone changed: the reminder and the digest keep their local times, in the new zone."""
        settings = await self.settings(guild_id)
        if settings.reminder_time is not None:
            await self.configure_reminder(
                guild_id, settings.reminder_time, settings.reminder_role_id, settings.reminder_channel_id
            )
        if settings.digest_weekday is not None and settings.digest_time is not None:
            await self.configure_digest(
                guild_id, settings.digest_weekday, settings.digest_time, settings.digest_channel_id
            )
        return await self.settings(guild_id)

    async def claim_due(self, guild_id: int, job: TilJob) -> TilRunRow | None:
        """Claims the guild's due reminder or digest, if any; the caller holds the run it returns for `HOLD`.

        A job missed by more than its grace is skipped (and logged) and the next one not yet missed is taken.
        """
        settings = await self._repo.settings(guild_id, DEFAULT_TIMEZONE)
        now = self._clock.now()
        scheduled = settings.next_at(job)
        if scheduled is None or scheduled > now:
            return None
        grace = self.grace[job]
        due = scheduled
        if now - due > grace:
            due = _next_due(job, settings, now - grace)
            log.warning("TIL %s of guild %s: skipped, missed by more than %s (due %s)", job, guild_id, grace,
                        scheduled.isoformat())  # fmt: skip
        running = due <= now
        following = _next_due(job, settings, due) if running else due
        async with self._repo.transaction() as tx:
            if not await tx.move_next(guild_id, job, scheduled, following):
                return None  # another process claimed it first
            if not running:
                return None
            run_id = await tx.insert_run(
                guild_id, job, _period(job, due, settings.timezone), due_at=due, now=now, hold_until=now + HOLD[job]
            )
            return None if run_id is None else await tx.run(run_id)

    async def take_over(self, run_id: int, job: TilJob) -> TilRunRow | None:
        """Holds a pending run nobody holds any more (its claimer died, or its backoff is over); None if another
        process took it first."""
        now = self._clock.now()
        async with self._repo.transaction() as tx:
            return await tx.lease_run(run_id, now, now + HOLD[job])


# --- the scheduler loop -------------------------------------------------------------------------------------------


class TilScheduler(NappingScheduler, Generic[DigestT]):
    """One loop for every guild's reminders and digests: claims what is due, runs it, retries what Discord failed.

    A loop of its own beside `DailyScheduler`, not a pass inside it: the daily loop's work is shaped around its
    posts (send leases, nonces per post, reveals, streaks), and a TIL job shares none of that; two small loops that
    each sleep until their own earliest moment (the loop itself is `NappingScheduler`, shared) are simpler than one
    that knows both features.
    """

    def __init__(
        self,
        service: TilScheduleService,
        repo: TilScheduleRepository,
        clock: Clock,
        publisher: TilPublisher[DigestT],
        make_digest: MakeDigest[DigestT],
        language_of: LanguageOf,
        *,
        senders: int = SENDERS,
        timeout_s: dict[TilJob, float] | None = None,
    ) -> None:
        super().__init__(clock, log, "TIL")
        self._service = service
        self._repo = repo
        self._publisher = publisher
        self._make_digest = make_digest
        self._language_of = language_of
        self._senders = asyncio.Semaphore(senders)
        self._timeout_s = timeout_s or TIMEOUT_S

    async def next_wake(self) -> datetime | None:
        return await self._repo.next_wake()

    async def run_once(self) -> int:
        """One pass: every due job claimed and run (or scheduled for a retry) before returning; how many ran."""
        now = self._clock.now()
        runs: list[TilRunRow] = []
        for run_id, job in await self._repo.retryable_runs(now, BATCH):
            if (run := await self._service.take_over(run_id, job)) is not None:
                runs.append(run)
        for guild_id, job in await self._repo.due_jobs(now, BATCH):
            if self._stopping:
                break
            try:
                claimed = await self._service.claim_due(guild_id, job)
            except Exception:
                log.exception("TIL %s of guild %s: claiming failed", job, guild_id)
                continue
            if claimed is not None:
                runs.append(claimed)
        outcomes = await asyncio.gather(*(self._bounded(run) for run in runs))
        self.passes += 1
        return sum(outcomes)

    async def _bounded(self, run: TilRunRow) -> bool:
        async with self._senders:
            if self._stopping:
                return False  # left pending: the next start takes it over when the hold ends
            try:
                await self.execute(run)
            except Exception:
                log.exception("TIL %s run %s of guild %s failed", run.kind, run.id, run.guild_id)
                return False
            return True

    async def execute(self, run: TilRunRow) -> str:
        """Runs a held run once; returns what became of it: 'done', 'retrying' or 'failed'."""
        settings = await self._repo.settings(run.guild_id, DEFAULT_TIMEZONE)
        now = self._clock.now()
        if now - run.due_at > self._service.grace[run.kind]:
            return await self._fail(run, "expired")
        language = await self._language_of(run.guild_id, DEFAULT_LANGUAGE)
        message_id: int | None
        try:
            async with asyncio.timeout(self._timeout_s[run.kind]):
                if run.kind is TilJob.REMINDER:
                    await self._remind(run, settings, language)
                    message_id = None  # many messages, none worth keeping
                else:
                    message_id = await self._post_digest(run, settings, language, late=now - run.due_at > LATE_AFTER)
        except _Disabled:
            return await self._fail(run, "disabled")
        except DestinationGone:
            return await self._fail(run, "channel_missing", turn_off=True)
        except DestinationForbidden:
            return await self._fail(run, "forbidden", turn_off=True)
        except Exception as error:  # 5xx, timeouts, and the LLM writing the digest: all worth another try
            if not isinstance(error, TimeoutError):
                log.warning("TIL %s run %s of guild %s: %r", run.kind, run.id, run.guild_id, error)
            return await self._retry(run, type(error).__name__)
        await self._repo.finish_run(run.id, message_id)
        return "done"

    async def _remind(self, run: TilRunRow, settings: TilJobSettings, language: str) -> None:
        if settings.reminder_time is None:
            raise _Disabled
        reminder = TilReminder(
            run_id=run.id,
            guild_id=run.guild_id,
            channel_id=settings.reminder_channel_id,
            role_id=settings.reminder_role_id,
            # Read now, not at the claim: a member who posted since is not reminded.
            dm_user_ids=await self._reminder_recipients(run.guild_id, settings.timezone),
            local_date=run.period,
            language=language,
        )
        if reminder.channel_id is not None or reminder.dm_user_ids:
            await self._publisher.remind(reminder)

    async def _reminder_recipients(self, guild_id: int, guild_zone: str) -> list[int]:
        """Members who asked for a DM and have no TIL on their own today: the day in their `/til timezone`, else
        the server's (a member in New York is not told off at Seoul's evening for New York's new day)."""
        now = self._clock.now()
        recipients = []
        for user_id, zone, days in await self._repo.reminder_candidates(guild_id, (now - timedelta(days=2)).date()):
            if now.astimezone(_zone_or(zone, guild_zone)).date() not in days:
                recipients.append(user_id)
        return recipients

    async def _post_digest(self, run: TilRunRow, settings: TilJobSettings, language: str, *, late: bool) -> int:
        if settings.digest_weekday is None or settings.digest_channel_id is None:
            raise _Disabled
        digest = await self._make_digest(run.guild_id, run.period, language)
        post = TilDigestPost(run.id, run.guild_id, settings.digest_channel_id, run.period, digest, language, late)
        return await self._publisher.post_digest(post)

    async def _retry(self, run: TilRunRow, failure: str) -> str:
        now = self._clock.now()
        delay = RETRY_BACKOFF[min(run.attempts, len(RETRY_BACKOFF)) - 1]
        if now + delay - run.due_at > self._service.grace[run.kind]:
            return await self._fail(run, "unavailable")
        log.warning("TIL %s run %s of guild %s: %s; retrying in %s", run.kind, run.id, run.guild_id, failure, delay)
        await self._repo.retry_run(run.id, now + delay, failure)
        return "retrying"

    async def _fail(self, run: TilRunRow, failure: str, *, turn_off: bool = False) -> str:
        await self._repo.fail_run(run.id, failure)
        switched_off = turn_off and await self._repo.turn_off(run.guild_id, run.kind, self._clock.now())
        log.warning("TIL %s run %s of guild %s failed: %s%s", run.kind, run.id, run.guild_id, failure,
                    f"; {run.kind} switched off" if switched_off else "")  # fmt: skip
        if switched_off:  # once: the job is off now, so the next fault of this kind cannot happen
            try:
                await self._publisher.alert(run.guild_id, run.kind, failure)
            except Exception:
                log.exception("TIL %s of guild %s: telling the admin failed", run.kind, run.guild_id)
        return "failed"


class _Disabled(Exception):
    """The job was switched off between its claim and its run."""


def _zone_or(name: str | None, fallback: str) -> ZoneInfo:
    """A member's stored zone, or the server's when they chose none (or tzdata no longer knows theirs)."""
    try:
        return resolve_timezone(name) if name else resolve_timezone(fallback)
    except InvalidInput:
        return resolve_timezone(fallback)
