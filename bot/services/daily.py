"""The daily quiz: each guild's schedule, and the one loop that posts and reveals for every guild.

A schedule keeps its next post as a UTC instant computed from the guild's local time with `zoneinfo`, so
a guild in a zone with daylight saving time gets its question at 09:00 local on both sides of the change.

Posting is claim-then-send. `DailyQuizService.claim_due` writes the day's post, its question and its quiz
session in one transaction that also moves the schedule on; a second process (or this one after a restart)
finds the day claimed and does nothing. Sending is leased per post for a minute: a process that dies
between claim and send leaves a pending post that the next scheduler pass, here or elsewhere, sends. The
message carries the post's id as Discord's enforced nonce, so even a send that reached Discord just before
a crash is not repeated by the retry: Discord answers with the first message.

Discord is behind `DailyPublisher`; this module knows nothing of it. Its faults come back as
`DestinationGone` (channel deleted: pause, tell the admin once), `DestinationForbidden` (permission lost:
the same) or `DestinationUnavailable` (5xx, timeouts: retry with backoff until the grace period ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo, available_timezones

from bot.clock import Clock
from bot.errors import InvalidInput, NotConfigured
from bot.i18n import LANGUAGES
from bot.services.quiz.bank import Question
from bot.services.quiz.catalog import QuestionCatalog
from bot.services.quiz.sessions import QuizSessionService, RevealResult
from bot.services.scheduling import NappingScheduler
from bot.storage import DailyRepository, DailyTransaction, DueReveal, PostRow, ScheduleRow
from bot.streaming.pacing import BucketPolicy, TokenBucket

log = logging.getLogger(__name__)

LanguageOf = Callable[[int, str], Awaitable[str]]
"""The language a guild's daily question is asked in, from its schedule's: the guild's override wins."""

DEFAULT_TIMEZONE = "Asia/Seoul"
MIN_REVEAL_HOURS, MAX_REVEAL_HOURS = 1, 23
DEFAULT_REVEAL_HOURS = 12
DEFAULT_NO_REPEAT_DAYS = 30
MAX_NO_REPEAT_DAYS = 365
# A post claimed this long after its time was not merely busy: the bot was down, and the post says so.
LATE_AFTER = timedelta(minutes=5)
# Long enough for one send with discord.py's own rate-limit waits; short enough that a crash costs a minute.
SEND_LEASE = timedelta(seconds=60)
SEND_TIMEOUT_S = 40.0
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=10))
# Discord allows a bot 50 requests per second in all; streamed answers draw 25/s of it (bot.streaming.pacing).
POSTS_PER_SECOND = 20
SENDERS = 8
BATCH = 500
STREAK_HISTORY = 400

_TIME = re.compile(r"^\s*(\d{1,2})\s*:\s*(\d{2})\s*$")
_TOPIC_SEPARATORS = re.compile(r"[,\s]+")


class PauseReason(StrEnum):
    MODERATOR = "moderator"
    CHANNEL_MISSING = "channel_missing"
    FORBIDDEN = "forbidden"
    NO_QUESTIONS = "no_questions"


class PostStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    SKIPPED = "skipped"
    FAILED = "failed"


class DeliveryFailed(Exception):
    """Discord would not take a daily message; the subclass says whether trying again can help."""


class DestinationGone(DeliveryFailed):
    """The channel (or the message to edit) no longer exists."""


class DestinationForbidden(DeliveryFailed):
    """The bot may not post there any more."""


class DestinationUnavailable(DeliveryFailed):
    """Discord failed (5xx) or did not answer in time: worth another try later."""


@dataclass(frozen=True)
class DailyMessage:
    """What the publisher shows when a daily question goes out."""

    post_id: int
    guild_id: int
    channel_id: int
    session_id: int
    question: Question
    closes_at: datetime
    due_at: datetime
    late: bool
    timezone: str

    @property
    def nonce(self) -> str:
        """Discord returns the first message for a repeated nonce, so a retried send cannot post twice."""
        return f"daily-{self.post_id}"


@dataclass(frozen=True)
class DailyReveal:
    session_id: int
    guild_id: int
    channel_id: int
    message_id: int
    result: RevealResult
    streaks: dict[int, int]
    """Daily streak of each member who answered, counting this post."""


class TilQuestionSource(Protocol):
    """Questions written from the guild's own TIL posts (bot.services.til.questions), asked before bank ones."""

    async def next_question(self, guild_id: int, language: str, avoid: set[str]) -> Question | None:
        """A question not asked yet whose `bank:id` is not in `avoid`, or None."""

    async def mark_used(self, question: Question) -> None:
        """Called once the question is claimed for a post; ignores questions that are not its own."""


class DailyPublisher(Protocol):
    async def post(self, message: DailyMessage) -> int:
        """Sends the question; returns the message id. Raises a `DeliveryFailed`."""

    async def reveal(self, reveal: DailyReveal) -> None:
        """Shows the answer on the question's message. Raises a `DeliveryFailed`."""

    async def alert(self, schedule: ScheduleRow, problem: str) -> None:
        """Tells the guild's admin, once, why the daily quiz stopped (best effort: must not raise)."""


@dataclass(frozen=True)
class SendOutcome:
    status: str
    """'posted', 'retrying', 'failed' or 'busy' (another sender holds it, or it is not due)."""
    message_id: int | None = None
    failure: str | None = None


@dataclass(frozen=True)
class Claim:
    post_id: int | None = None
    """The post to send, if one was claimed."""
    paused: ScheduleRow | None = None
    """The schedule, when this claim had to pause it (no questions left to ask): the admin should hear."""


# --- schedule arithmetic ------------------------------------------------------------------------------------------


def parse_local_time(text: str) -> time:
    match = _TIME.match(text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput("daily.invalid_time", value=text[:20])
    return time(int(match[1]), int(match[2]))


@cache
def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def resolve_timezone(name: str) -> ZoneInfo:
    """An IANA zone by name, any letter case ("asia/seoul" works); a clear error for anything else."""
    canonical = _zone_names().get(name.strip().casefold())
    if canonical is None:
        raise InvalidInput("daily.unknown_timezone", value=name[:40])
    return ZoneInfo(canonical)


def timezone_suggestions(text: str, limit: int = 25) -> list[str]:
    wanted = text.strip().casefold()
    names = sorted(_zone_names().values())
    return [name for name in names if wanted in name.casefold()][:limit]


def next_occurrence(local_time: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after `after` at which clocks in `zone` show `local_time`.

    A time that does not exist that day (skipped by a spring-forward change) comes out as the same instant
    read on the old offset, i.e. just after the jump (02:30 → 03:30); a time that happens twice (fall back)
    is taken the first time.
    """
    day = after.astimezone(zone).date()
    for offset in range(3):
        instant = datetime.combine(day + timedelta(days=offset), local_time, tzinfo=zone).astimezone(UTC)
        if instant > after:
            return instant
    raise AssertionError("a local time occurs at least once in any three days")


def _local_date(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


# --- the service: commands and claims ----------------------------------------------------------------------------


class DailyQuizService:
    def __init__(
        self,
        repo: DailyRepository,
        catalog: QuestionCatalog,
        sessions: QuizSessionService,
        clock: Clock,
        *,
        grace: timedelta,
        rng: random.Random | None = None,
        til_questions: TilQuestionSource | None = None,
    ) -> None:
        self._repo = repo
        self._catalog = catalog
        self._sessions = sessions
        self._clock = clock
        self.grace = grace
        self._rng = rng or random.Random()
        self._til_questions = til_questions

    async def setup(
        self,
        *,
        guild_id: int,
        channel_id: int,
        local_time: str,
        timezone: str,
        topics: str | None,
        reveal_after_hours: int,
        no_repeat_days: int,
        language: str,
        configured_by: int,
        alert_channel_id: int | None = None,
    ) -> ScheduleRow:
        """Validates everything before storing anything; a new setup replaces the old and is active."""
        at = parse_local_time(local_time)
        zone = resolve_timezone(timezone)
        if not MIN_REVEAL_HOURS <= reveal_after_hours <= MAX_REVEAL_HOURS:
            raise InvalidInput("daily.reveal_out_of_range", min=MIN_REVEAL_HOURS, max=MAX_REVEAL_HOURS)
        if not 0 <= no_repeat_days <= MAX_NO_REPEAT_DAYS:
            raise InvalidInput("daily.no_repeat_out_of_range", max=MAX_NO_REPEAT_DAYS)
        if language not in LANGUAGES:
            raise InvalidInput("quiz.unknown_language", language=language, languages=", ".join(LANGUAGES))
        chosen = await self._topics(guild_id, topics, language)
        now = self._clock.now()
        next_due = next_occurrence(at, zone, now)
        # One post per local day: a time moved later on a day that already had its question starts tomorrow.
        if await self._repo.has_scheduled_post(guild_id, _local_date(next_due, zone.key)):
            next_due = next_occurrence(at, zone, next_due)
        schedule = ScheduleRow(
            guild_id=guild_id,
            channel_id=channel_id,
            local_time=at.strftime("%H:%M"),
            timezone=zone.key,
            topics=chosen,
            language=language,
            reveal_minutes=reveal_after_hours * 60,
            no_repeat_days=no_repeat_days,
            alert_channel_id=alert_channel_id,
            configured_by=configured_by,
            status="active",
            paused_reason=None,
            next_due_at=next_due,
        )
        await self._repo.save_schedule(schedule, now)
        return schedule

    async def _topics(self, guild_id: int, text: str | None, language: str) -> list[str]:
        wanted = [topic for topic in _TOPIC_SEPARATORS.split((text or "").casefold()) if topic]
        known = await self._catalog.topic_names(guild_id)
        unknown = [topic for topic in wanted if topic not in known]
        if unknown:
            raise InvalidInput("daily.unknown_topics", topics=", ".join(unknown)[:200], known=", ".join(known) or "-")
        chosen = sorted(set(wanted))
        if not await self._pool(guild_id, chosen or known, language):
            raise InvalidInput("daily.no_questions", language=language)
        return chosen

    async def schedule(self, guild_id: int) -> ScheduleRow:
        schedule = await self._repo.schedule(guild_id)
        if schedule is None:
            raise NotConfigured("daily.not_set_up")
        return schedule

    async def pause(self, guild_id: int) -> ScheduleRow:
        await self.schedule(guild_id)
        await self._repo.set_status(guild_id, "paused", PauseReason.MODERATOR, self._clock.now())
        return await self.schedule(guild_id)

    async def resume(self, guild_id: int) -> ScheduleRow:
        """Active again from the next local time after now: days missed while paused are not made up."""
        schedule = await self.schedule(guild_id)
        now = self._clock.now()
        zone = ZoneInfo(schedule.timezone)
        next_due = next_occurrence(parse_local_time(schedule.local_time), zone, now)
        if await self._repo.has_scheduled_post(guild_id, _local_date(next_due, schedule.timezone)):
            next_due = next_occurrence(parse_local_time(schedule.local_time), zone, next_due)
        await self._repo.set_status(guild_id, "active", None, now, next_due_at=next_due)
        return await self.schedule(guild_id)

    async def streak(self, guild_id: int, user_id: int) -> int:
        return (await self.streaks(guild_id, [user_id])).get(user_id, 0)

    async def streaks(
        self, guild_id: int, user_ids: Sequence[int], *, through_session: int | None = None
    ) -> dict[int, int]:
        """Daily streaks: how many of the guild's scheduled posts in a row each member answered, newest first,
        from `through_session` (default: the latest post). Days the bot did not post do not break a streak."""
        days = await self._repo.posted_days(guild_id, STREAK_HISTORY)
        sessions = [session_id for _, session_id in days]
        if through_session is not None:
            if through_session not in sessions:
                return {}
            sessions = sessions[sessions.index(through_session) :]
        answered = await self._repo.answerers(sessions)
        streaks: dict[int, int] = {}
        for user_id in user_ids:
            count = 0
            for session_id in sessions:
                if user_id not in answered[session_id]:
                    break
                count += 1
            streaks[user_id] = count
        return streaks

    # choosing the question

    async def _pool(self, guild_id: int, topics: Sequence[str], language: str) -> list[Question]:
        pool: list[Question] = []
        for topic in topics:
            pool.extend(await self._catalog.questions(guild_id, topic, language))
        return pool

    async def choose_question(self, schedule: ScheduleRow, language: str, now: datetime) -> Question | None:
        """A question from the guild's recent TIL posts, when there is one not asked yet; else one from the
        schedule's topics (all the guild's topics if none) not asked as a daily question within `no_repeat_days`;
        when every one was, the one asked longest ago."""
        history = await self._repo.daily_question_history(schedule.guild_id, now - timedelta(days=MAX_NO_REPEAT_DAYS))
        last_asked: dict[str, datetime] = {}
        for key, asked_at in history:
            # The same question in the other language counts as asked: compare bank and id.
            last_asked.setdefault(key.rsplit(":", 1)[0], asked_at)
        window_start = now - timedelta(days=schedule.no_repeat_days)
        til_question = await self._til_question(schedule.guild_id, language, last_asked, window_start)
        if til_question is not None:
            return til_question
        topics = schedule.topics or await self._catalog.topic_names(schedule.guild_id)
        pool = await self._pool(schedule.guild_id, topics, language)
        if not pool:
            return None

        def asked(question: Question) -> datetime:
            return last_asked.get(f"{question.bank}:{question.id}", datetime.min.replace(tzinfo=UTC))

        fresh = [question for question in pool if asked(question) < window_start]
        if fresh:
            return self._rng.choice(fresh)
        # Everything was asked within the window: better the one asked longest ago than no question at all.
        return min(pool, key=asked)

    async def _til_question(
        self, guild_id: int, language: str, last_asked: dict[str, datetime], window_start: datetime
    ) -> Question | None:
        if self._til_questions is None:
            return None
        recent = {key for key, asked_at in last_asked.items() if asked_at >= window_start}
        try:
            return await self._til_questions.next_question(guild_id, language, recent)
        except Exception:
            # The banks still have a question for today: a fault on the TIL side must not cost the daily post.
            log.exception("daily quiz of guild %s: choosing a TIL question failed; asking a bank question", guild_id)
            return None

    async def _asked(self, question: Question) -> None:
        """Tells the TIL source its question went out (only after the claim committed: a lost race asks nothing)."""
        if self._til_questions is None:
            return
        try:
            await self._til_questions.mark_used(question)
        except Exception:
            # The post is claimed; an unmarked question is still kept from repeating by the daily history.
            log.exception("daily quiz: marking question %s as asked failed", question.key)

    # claims

    async def claim_due(self, guild_id: int, language: str) -> Claim:
        """Claims the guild's due post, if any.

        Days missed by more than the grace period are recorded as skipped and logged; a post claimed more
        than a few minutes after its time is marked late (the message says so).
        """
        schedule = await self._repo.schedule(guild_id)
        now = self._clock.now()
        if schedule is None or schedule.status != "active" or schedule.next_due_at > now:
            return Claim()
        local_time, zone = parse_local_time(schedule.local_time), ZoneInfo(schedule.timezone)
        due, skipped = schedule.next_due_at, []
        while now - due > self.grace:
            skipped.append(due)
            due = next_occurrence(local_time, zone, due)
        posting = due <= now
        following = next_occurrence(local_time, zone, due) if posting else due
        question = await self.choose_question(schedule, language, now) if posting else None
        async with self._repo.transaction() as tx:
            if not await tx.move_schedule(guild_id, schedule.next_due_at, following):
                return Claim()  # another process claimed it first
            for missed in skipped:
                await tx.insert_post(
                    guild_id=guild_id, channel_id=schedule.channel_id, kind="scheduled",
                    local_date=_local_date(missed, schedule.timezone), due_at=missed, now=now,
                    session_id=None, status=PostStatus.SKIPPED,
                )  # fmt: skip
            if skipped:
                log.warning(
                    "daily quiz of guild %s: skipped %d post(s) missed by more than %s (first due %s)",
                    guild_id, len(skipped), self.grace, skipped[0].isoformat(),
                )  # fmt: skip
            if not posting:
                return Claim()
            if question is None:
                paused = await tx.pause_schedule(guild_id, PauseReason.NO_QUESTIONS, now)
                return Claim(paused=schedule if paused else None)
            post_id = await tx.insert_post(
                guild_id=guild_id, channel_id=schedule.channel_id, kind="scheduled",
                local_date=_local_date(due, schedule.timezone), due_at=due, now=now,
                session_id=None, status=PostStatus.PENDING, late=now - due > LATE_AFTER,
            )  # fmt: skip
            if post_id is None:
                return Claim()  # this local day already had its post (the time was changed after it went out)
            await self._open_session(tx, schedule, question, post_id, now)
        await self._asked(question)
        return Claim(post_id)

    async def claim_now(self, guild_id: int, language: str) -> int:
        """An extra post right now (`/daily now`), beside the schedule: it does not move the next one."""
        schedule = await self.schedule(guild_id)
        now = self._clock.now()
        question = await self.choose_question(schedule, language, now)
        if question is None:
            raise InvalidInput("daily.no_questions", language=language)
        async with self._repo.transaction() as tx:
            post_id = await tx.insert_post(
                guild_id=guild_id, channel_id=schedule.channel_id, kind="manual",
                local_date=_local_date(now, schedule.timezone), due_at=now, now=now,
                session_id=None, status=PostStatus.PENDING,
            )  # fmt: skip
            assert post_id is not None  # manual posts have no unique day
            await self._open_session(tx, schedule, question, post_id, now)
        await self._asked(question)
        return post_id

    async def _open_session(
        self, tx: DailyTransaction, schedule: ScheduleRow, question: Question, post_id: int, now: datetime
    ) -> None:
        session_id = await self._sessions.open_daily_in(
            tx,
            guild_id=schedule.guild_id,
            channel_id=schedule.channel_id,
            starter_id=schedule.configured_by,
            question=question,
            opens_at=now,
            closes_at=now + timedelta(minutes=schedule.reveal_minutes),
        )
        await tx.set_post_session(post_id, session_id)


# --- the scheduler loop ------------------------------------------------------------------------------------------


class DailyScheduler(NappingScheduler):
    """One loop for every guild: claims due posts, sends pending ones, reveals answers whose time is up.

    Work runs on a small pool of senders, each send bounded by a timeout and paced under Discord's global
    limit, so a guild whose channel hangs or fails holds up nobody else.
    """

    def __init__(
        self,
        service: DailyQuizService,
        repo: DailyRepository,
        sessions: QuizSessionService,
        clock: Clock,
        publisher: DailyPublisher,
        language_of: LanguageOf,
        *,
        senders: int = SENDERS,
        posts_per_second: int = POSTS_PER_SECOND,
        send_timeout_s: float = SEND_TIMEOUT_S,
    ) -> None:
        super().__init__(clock, log, "daily")
        self._service = service
        self._repo = repo
        self._sessions = sessions
        self._publisher = publisher
        self._language_of = language_of
        self._senders = senders
        self._send_timeout_s = send_timeout_s
        self._pace = TokenBucket(BucketPolicy(posts_per_second, 1.0), margin=0.1)
        self._pace_lock = asyncio.Lock()
        self._jobs_done = 0
        # Reveals that Discord failed, by session: (attempts so far, when to try again). Memory is enough: after
        # a restart every due reveal is simply tried again.
        self._reveal_retries: dict[int, tuple[int, datetime]] = {}

    async def next_wake(self) -> datetime | None:
        return await self._repo.next_wake()

    async def run_once(self) -> int:
        """One pass: everything due now, posted and revealed, before returning; how many jobs it ran."""
        jobs: asyncio.Queue[int | DueReveal | None] = asyncio.Queue(maxsize=self._senders * 4)
        self._jobs_done = 0
        workers = [asyncio.create_task(self._work(jobs)) for _ in range(self._senders)]
        try:
            now = self._clock.now()
            for pending in await self._repo.sendable_posts(now, BATCH):
                await jobs.put(pending)
            seen: set[int] = set()
            while not self._stopping and (
                guilds := [g for g in await self._repo.due_guilds(now, len(seen) + BATCH) if g not in seen]
            ):
                for guild_id in guilds:
                    if self._stopping:
                        break
                    seen.add(guild_id)
                    claimed = await self._claim(guild_id)
                    if claimed is not None:
                        await jobs.put(claimed)
            for reveal in await self._repo.due_reveals(now, BATCH):
                if self._reveal_retries.get(reveal.session_id, (0, now))[1] <= now:
                    await jobs.put(reveal)
            for _ in workers:
                await jobs.put(None)
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
        self.passes += 1
        return self._jobs_done

    async def _claim(self, guild_id: int) -> int | None:
        try:
            schedule = await self._repo.schedule(guild_id)
            if schedule is None:
                return None
            claim = await self._service.claim_due(guild_id, await self._language_of(guild_id, schedule.language))
            if claim.paused is not None:
                with contextlib.suppress(Exception):
                    await self._publisher.alert(claim.paused, PauseReason.NO_QUESTIONS)
            return claim.post_id
        except Exception:
            log.exception("daily quiz of guild %s: claiming the due post failed", guild_id)
            return None

    async def _work(self, jobs: asyncio.Queue[int | DueReveal | None]) -> None:
        while (job := await jobs.get()) is not None:
            if self._stopping:
                continue  # drained, not done: claimed posts stay pending for the next start
            try:
                if isinstance(job, DueReveal):
                    await self.reveal(job)
                else:
                    await self.send(job)
                self._jobs_done += 1
            except Exception:
                log.exception("daily quiz job %r failed", job)

    async def _paced(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._pace_lock:  # held while waiting, so nobody takes the token this sender waited for
            wait = self._pace.reserve(loop.time())
            if wait > 0:
                await asyncio.sleep(wait)
            self._pace.take(loop.time())

    async def send(self, post_id: int) -> SendOutcome:
        """Sends a claimed post once: leases it, posts it, records the message (or the fault)."""
        now = self._clock.now()
        async with self._repo.transaction() as tx:
            post = await tx.lease_post(post_id, now, now + SEND_LEASE)
        if post is None:
            return SendOutcome("busy")
        assert post.session_id is not None  # pending posts always have their session
        schedule = await self._repo.schedule(post.guild_id)
        current = await self._sessions.open_question(post.session_id)
        if schedule is None or current is None or current.revealed or now >= current.closes_at:
            return await self._give_up(post, "expired", schedule, alert=False)
        message = DailyMessage(
            post_id=post.id,
            guild_id=post.guild_id,
            channel_id=post.channel_id,
            session_id=post.session_id,
            question=current.question,
            closes_at=current.closes_at,
            due_at=post.due_at,
            late=post.late,
            timezone=schedule.timezone,
        )
        try:
            await self._paced()
            async with asyncio.timeout(self._send_timeout_s):
                message_id = await self._publisher.post(message)
        except DestinationGone:
            return await self._give_up(post, PauseReason.CHANNEL_MISSING, schedule, pause=True)
        except DestinationForbidden:
            return await self._give_up(post, PauseReason.FORBIDDEN, schedule, pause=True)
        except (DestinationUnavailable, TimeoutError) as error:
            return await self._retry(post, schedule, type(error).__name__)
        async with self._repo.transaction() as tx:
            await tx.mark_posted(post.id, post.session_id, message_id, self._clock.now())
        return SendOutcome("posted", message_id)

    async def _retry(self, post: PostRow, schedule: ScheduleRow, failure: str) -> SendOutcome:
        now = self._clock.now()
        delay = RETRY_BACKOFF[min(post.attempts, len(RETRY_BACKOFF)) - 1]
        if now + delay - post.due_at > self._service.grace:
            return await self._give_up(post, "unavailable", schedule)
        log.warning("daily post %s of guild %s: Discord unavailable (%s); retrying in %s", post.id, post.guild_id,
                    failure, delay)  # fmt: skip
        async with self._repo.transaction() as tx:
            await tx.retry_post(post.id, now + delay, failure)
        return SendOutcome("retrying", failure=failure)

    async def _give_up(
        self, post: PostRow, failure: str, schedule: ScheduleRow | None, *, pause: bool = False, alert: bool = True
    ) -> SendOutcome:
        now = self._clock.now()
        async with self._repo.transaction() as tx:
            await tx.fail_post(post.id, failure)
            if post.session_id is not None:
                await tx.end_session(post.session_id, "stopped", now)
            paused = pause and await tx.pause_schedule(post.guild_id, failure, now)
        log.warning("daily post %s of guild %s failed: %s%s", post.id, post.guild_id, failure,
                    "; schedule paused" if paused else "")  # fmt: skip
        # Once: a fault that pauses the schedule alerts when it pauses it; a day lost to outages alerts per day.
        if schedule is not None and alert and (paused or not pause):
            with contextlib.suppress(Exception):
                await self._publisher.alert(schedule, failure)
        return SendOutcome("failed", failure=failure)

    async def reveal(self, due: DueReveal) -> None:
        """Shows the answer, then finishes the session (a question never sent just finishes)."""
        result = await self._sessions.reveal(due.session_id, 0)
        if due.message_id is not None:
            answered = await self._repo.answerers([due.session_id])
            streaks = await self._service.streaks(
                due.guild_id, sorted(answered[due.session_id]), through_session=due.session_id
            )
            reveal = DailyReveal(due.session_id, due.guild_id, due.channel_id, due.message_id, result, streaks)
            try:
                await self._paced()
                async with asyncio.timeout(self._send_timeout_s):
                    await self._publisher.reveal(reveal)
            except (DestinationUnavailable, TimeoutError):
                attempts = self._reveal_retries.get(due.session_id, (0, due.closes_at))[0] + 1
                delay = RETRY_BACKOFF[min(attempts, len(RETRY_BACKOFF)) - 1]
                self._reveal_retries[due.session_id] = (attempts, self._clock.now() + delay)
                log.warning("daily reveal of session %s: Discord unavailable; retrying in %s", due.session_id, delay)
                return
            except DeliveryFailed as error:
                log.warning(
                    "daily reveal of session %s: %s; finishing without it", due.session_id, type(error).__name__
                )
        self._reveal_retries.pop(due.session_id, None)
        await self._sessions.advance(due.session_id, from_position=0)
