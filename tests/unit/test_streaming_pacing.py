"""Edit pacing under Discord's rate limits, driven by a manual clock and a fake sleep."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
from collections import defaultdict
from collections.abc import AsyncIterator, Hashable

import pytest

from bot.streaming.pacing import (
    DEFAULT_GLOBAL_POLICY,
    DEFAULT_POLICIES,
    GLOBAL_KEY,
    BucketPolicy,
    EditScheduler,
    ManualClock,
    MonotonicClock,
    TokenBucket,
    channel_key,
    webhook_key,
)

MARGIN = 0.25
CHANNEL = DEFAULT_POLICIES["channel"]
GLOBAL = DEFAULT_GLOBAL_POLICY
CHANNEL_WINDOW = CHANNEL.per_seconds + MARGIN


class VirtualTime:
    """A manual clock whose `sleep` parks until the test moves time to the sleeper's deadline."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def now(self) -> float:
        return self.clock.monotonic()

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + delay, next(self._order), future))
        await future

    def next_deadline(self) -> float | None:
        while self._timers and self._timers[0][2].done():
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    async def settle(self, scheduler: EditScheduler, waiting: int | None = None) -> None:
        """Lets the loop run until `waiting` streams (any number if None) wait in the scheduler and, if any
        do, its timer is set."""
        for _ in range(10_000):
            if (waiting is None or scheduler.waiting == waiting) and (
                scheduler.waiting == 0 or self.next_deadline() is not None
            ):
                return
            await asyncio.sleep(0)
        pytest.fail(f"never settled: {scheduler.waiting} waiting, expected {waiting}")

    async def run_until(self, end: float, scheduler: EditScheduler, waiting: int | None = None) -> None:
        while True:
            await self.settle(scheduler, waiting)
            deadline = self.next_deadline()
            if deadline is None or deadline > end:
                self.clock.advance(max(0.0, end - self.now))
                return
            self.clock.advance(max(0.0, deadline - self.now))
            while (deadline := self.next_deadline()) is not None and deadline <= self.now:
                heapq.heappop(self._timers)[2].set_result(None)


class Streams:
    """Streams that always have something new to show: each edits again as soon as it is allowed."""

    def __init__(self, scheduler: EditScheduler, time: VirtualTime) -> None:
        self.scheduler = scheduler
        self.time = time
        self.grants: list[tuple[float, Hashable]] = []
        self.tasks: dict[Hashable, asyncio.Task[None]] = {}

    def start(self, stream_id: Hashable, bucket_key: str) -> None:
        self.scheduler.register(stream_id, bucket_key)
        self.tasks[stream_id] = asyncio.create_task(self._edit_forever(stream_id))

    async def stop(self, stream_id: Hashable) -> None:
        task = self.tasks.pop(stream_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self.scheduler.unregister(stream_id)

    async def run_until(self, end: float) -> None:
        await self.time.run_until(end, self.scheduler, len(self.tasks))

    def times(self, stream_id: Hashable) -> list[float]:
        return [at for at, granted in self.grants if granted == stream_id]

    async def _edit_forever(self, stream_id: Hashable) -> None:
        while True:
            await self.scheduler.acquire(stream_id)
            self.grants.append((self.time.now, stream_id))


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
async def streams(time: VirtualTime) -> AsyncIterator[Streams]:
    running = Streams(EditScheduler(time.clock, safety_margin=MARGIN, sleep=time.sleep), time)
    yield running
    for stream_id in list(running.tasks):
        await running.stop(stream_id)
    assert running.scheduler.waiting == 0


def max_in_window(times: list[float], window: float) -> int:
    """The most grants in any half-open window [t, t + window)."""
    times = sorted(times)
    return max((sum(1 for other in times if start <= other < start + window) for start in times), default=0)


def worst_gap(times: list[float], start: float, end: float) -> float:
    """The longest stretch without a grant, counting from `start` and up to `end`."""
    points = [start, *sorted(times), end]
    return max(b - a for a, b in itertools.pairwise(points))


# The bucket


def test_a_token_bucket_allows_capacity_takes_in_any_window() -> None:
    bucket = TokenBucket(BucketPolicy(5, 5.0))
    for now in (0.0, 0.5, 1.0, 1.5, 2.0):
        assert bucket.reserve(now) == 0
        bucket.take(now)
    assert bucket.reserve(2.0) == pytest.approx(3.0)
    assert bucket.reserve(2.0, tokens=2) == pytest.approx(3.5)
    assert bucket.reserve(2.0, tokens=6) == pytest.approx(8.0)
    with pytest.raises(RuntimeError):
        bucket.take(4.9)
    bucket.take(5.0)
    assert bucket.reserve(5.0) == pytest.approx(0.5)
    assert bucket.idle(30.0)


def test_clocks() -> None:
    clock = ManualClock(10.0)
    clock.advance(2.5)
    assert clock.monotonic() == 12.5
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert MonotonicClock().monotonic() > 0


# Cadence and plain limits


async def test_one_stream_keeps_its_cadence_and_its_bucket(streams: Streams) -> None:
    streams.start("solo", webhook_key(1))
    await streams.run_until(20.0)
    times = streams.times("solo")
    assert times[:6] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0, 5.25])
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0
    assert max_in_window(times, 5.0) <= 5


async def test_fifty_streams_in_one_channel_share_it_fairly(streams: Streams) -> None:
    ids = [f"user-{i}" for i in range(50)]
    for stream_id in ids:
        streams.start(stream_id, channel_key(7))
    await streams.run_until(60.0)

    assert max_in_window([at for at, _ in streams.grants], CHANNEL.per_seconds) <= CHANNEL.capacity
    # Least recently edited first: between two edits of one stream, each other stream edits at most once.
    bound = math.ceil(len(ids) / CHANNEL.capacity) * CHANNEL_WINDOW
    assert bound == pytest.approx(52.5)
    for stream_id in ids:
        assert streams.times(stream_id), f"{stream_id} starved"
        assert streams.times(stream_id)[0] <= bound - CHANNEL_WINDOW
        assert worst_gap(streams.times(stream_id), 0.0, 60.0) <= bound + 1e-6


async def test_a_hundred_dm_channels_share_the_global_bucket_fairly(streams: Streams) -> None:
    for i in range(100):
        streams.start(i, channel_key(1000 + i))
    await streams.run_until(30.0)

    times = [at for at, _ in streams.grants]
    assert max_in_window(times, 1.0) <= GLOBAL.capacity
    bound = math.ceil(100 / GLOBAL.capacity) * (GLOBAL.per_seconds + GLOBAL.per_seconds / 10)
    for i in range(100):
        assert max_in_window(streams.times(i), CHANNEL.per_seconds) <= CHANNEL.capacity
        assert worst_gap(streams.times(i), 0.0, 30.0) <= bound + 1e-6 <= 5.0


async def test_interaction_webhooks_are_exempt_from_the_global_bucket(streams: Streams) -> None:
    for i in range(60):
        streams.start(f"webhook-{i}", webhook_key(i))
    for i in range(50):
        streams.start(f"channel-{i}", channel_key(i))
    await streams.run_until(0.0)

    granted = [str(stream_id) for _, stream_id in streams.grants]
    assert sum(1 for stream_id in granted if stream_id.startswith("webhook")) == 60
    assert sum(1 for stream_id in granted if stream_id.startswith("channel")) == GLOBAL.capacity


# Priority, penalties, leaving


async def test_a_final_edit_goes_ahead_of_waiting_intermediate_edits(time: VirtualTime) -> None:
    scheduler = EditScheduler(time.clock, safety_margin=MARGIN, sleep=time.sleep)
    for name in "ABCDEF":
        scheduler.register(name, channel_key(1))
    for name in "ABCDE":
        assert scheduler.try_acquire(name)
        time.clock.advance(0.2)
    # Tokens come back one at a time, at 5.25, 5.45, 5.65, ...
    f_waits = asyncio.create_task(scheduler.acquire("F"))
    a_waits = asyncio.create_task(scheduler.acquire("A"))
    await time.settle(scheduler, 2)
    e_finishes = asyncio.create_task(scheduler.acquire("E", final=True))
    await time.settle(scheduler, 3)

    await time.run_until(5.25, scheduler)
    await asyncio.wait_for(e_finishes, timeout=1)
    assert scheduler.waiting == 2
    await time.run_until(5.45, scheduler)
    await asyncio.wait_for(f_waits, timeout=1)
    assert scheduler.waiting == 1, "F never edited, so it goes before A"
    await time.run_until(5.65, scheduler)
    await asyncio.wait_for(a_waits, timeout=1)


async def test_a_final_edit_skips_the_cadence_but_not_the_bucket(time: VirtualTime) -> None:
    scheduler = EditScheduler(time.clock, safety_margin=MARGIN, sleep=time.sleep)
    scheduler.register("s", webhook_key(1))
    assert scheduler.try_acquire("s")
    time.clock.advance(0.1)
    assert not scheduler.try_acquire("s")
    assert scheduler.try_acquire("s", final=True)
    for _ in range(3):
        assert scheduler.try_acquire("s", final=True)
    assert not scheduler.try_acquire("s", final=True)
    assert scheduler.next_edit_at("s", final=True) == pytest.approx(5.25)


async def test_promote_turns_a_waiting_edit_into_a_final_one(time: VirtualTime) -> None:
    scheduler = EditScheduler(time.clock, sleep=time.sleep)
    scheduler.register("s", webhook_key(1))
    assert scheduler.try_acquire("s")
    task = asyncio.create_task(scheduler.acquire("s"))
    await time.settle(scheduler, 1)
    assert time.next_deadline() == pytest.approx(1.0)
    scheduler.promote("s")
    await time.settle(scheduler, 0)
    await asyncio.wait_for(task, timeout=1)
    assert time.now == 0.0


async def test_penalize_holds_that_bucket_only(time: VirtualTime) -> None:
    scheduler = EditScheduler(time.clock, safety_margin=MARGIN, sleep=time.sleep)
    scheduler.register("slowed", channel_key(1))
    scheduler.register("other", channel_key(2))
    scheduler.register("webhook", webhook_key(3))
    scheduler.penalize(channel_key(1), 3.0)
    assert not scheduler.try_acquire("slowed", final=True)
    assert scheduler.try_acquire("other")
    assert scheduler.next_edit_at("slowed") == pytest.approx(3.0)

    task = asyncio.create_task(scheduler.acquire("slowed", final=True))
    await time.settle(scheduler, 1)
    await time.run_until(2.99, scheduler)
    assert not task.done()
    await time.run_until(3.0, scheduler)
    await asyncio.wait_for(task, timeout=1)

    scheduler.penalize(GLOBAL_KEY, 2.0)
    assert not scheduler.try_acquire("other", final=True)
    assert scheduler.try_acquire("webhook")


async def test_unregistering_streams_frees_their_share(streams: Streams) -> None:
    for i in range(10):
        streams.start(i, channel_key(1))
    await streams.run_until(30.0)
    assert worst_gap(streams.times(0), 0.0, 30.0) == pytest.approx(2 * CHANNEL_WINDOW)
    for i in range(5, 10):
        await streams.stop(i)
    left_at = streams.time.now
    await streams.run_until(left_at + 60.0)
    for i in range(5):
        later = [at for at in streams.times(i) if at > left_at]
        assert worst_gap(later, left_at + CHANNEL_WINDOW, left_at + 60.0) <= CHANNEL_WINDOW + 1e-6


async def test_unregistering_a_waiting_stream_ends_its_wait(time: VirtualTime) -> None:
    scheduler = EditScheduler(time.clock, sleep=time.sleep)
    scheduler.register("s", channel_key(1))
    assert scheduler.try_acquire("s")
    task = asyncio.create_task(scheduler.acquire("s"))
    await time.settle(scheduler, 1)
    scheduler.unregister("s")
    with pytest.raises(LookupError):
        await task
    assert scheduler.waiting == 0
    scheduler.unregister("s")


async def test_a_cancelled_wait_leaves_no_trace(time: VirtualTime) -> None:
    scheduler = EditScheduler(time.clock, sleep=time.sleep)
    scheduler.register("s", channel_key(1))
    assert scheduler.try_acquire("s")
    task = asyncio.create_task(scheduler.acquire("s"))
    await time.settle(scheduler, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await time.settle(scheduler, 0)
    assert time.next_deadline() is None
    time.clock.advance(1.0)
    assert scheduler.try_acquire("s")


# Queries and misuse


async def test_next_edit_at_counts_the_streams_waiting_ahead(time: VirtualTime) -> None:
    scheduler = EditScheduler(time.clock, safety_margin=MARGIN, sleep=time.sleep)
    for i in range(7):
        scheduler.register(i, channel_key(1))
    for i in range(5):
        assert scheduler.try_acquire(i)
        time.clock.advance(0.2)
    # Tokens come back at 5.25, 5.45, 5.65, ...
    assert scheduler.next_edit_at(5) == pytest.approx(5.25)
    waits = [asyncio.create_task(scheduler.acquire(i)) for i in (5, 6)]
    await time.settle(scheduler, 2)
    assert scheduler.next_edit_at(6) == pytest.approx(5.45)
    assert scheduler.next_edit_at(0) == pytest.approx(5.65)
    assert scheduler.next_edit_at(0, final=True) == pytest.approx(5.25)
    await time.run_until(5.45, scheduler)
    await asyncio.wait_for(asyncio.gather(*waits), timeout=1)
    assert not scheduler.try_acquire(0)
    time.clock.advance(0.2)
    assert scheduler.try_acquire(0)


async def test_a_cancelled_wait_never_takes_an_edit(time: VirtualTime) -> None:
    scheduler = EditScheduler(time.clock, safety_margin=MARGIN, sleep=time.sleep)
    for i in range(6):
        scheduler.register(i, channel_key(1))
    for i in range(5):
        assert scheduler.try_acquire(i)
        time.clock.advance(0.2)
    task = asyncio.create_task(scheduler.acquire(5))
    await time.settle(scheduler, 1)
    time.clock.advance(CHANNEL_WINDOW - 1.0)
    task.cancel()
    # One edit is free again. The cancelled task has not run yet, so it is still queued with the best rank.
    assert scheduler.try_acquire(0)
    assert not scheduler.try_acquire(1)
    with pytest.raises(asyncio.CancelledError):
        await task


def test_registration_errors() -> None:
    scheduler = EditScheduler(ManualClock())
    scheduler.register("s", channel_key(1))
    with pytest.raises(ValueError):
        scheduler.register("s", channel_key(2))
    with pytest.raises(ValueError):
        scheduler.register("t", "guild:1")
    with pytest.raises(KeyError):
        scheduler.try_acquire("unknown")
    with pytest.raises(ValueError):
        BucketPolicy(0, 5.0)


async def test_one_wait_per_stream(time: VirtualTime) -> None:
    scheduler = EditScheduler(time.clock, sleep=time.sleep)
    scheduler.register("s", channel_key(1))
    assert scheduler.try_acquire("s")
    task = asyncio.create_task(scheduler.acquire("s"))
    await time.settle(scheduler, 1)
    with pytest.raises(RuntimeError):
        await scheduler.acquire("s")
    with pytest.raises(RuntimeError):
        scheduler.try_acquire("s")
    await time.run_until(5.0, scheduler)
    await asyncio.wait_for(task, timeout=1)


async def test_custom_policies_and_no_global_bucket(time: VirtualTime) -> None:
    scheduler = EditScheduler(
        time.clock, policies={"thread": BucketPolicy(2, 1.0)}, global_policy=None, safety_margin=0.0
    )
    counts: defaultdict[str, int] = defaultdict(int)
    for i in range(60):
        scheduler.register(i, f"thread:{i}")
        counts["granted"] += scheduler.try_acquire(i)
    assert counts["granted"] == 60
