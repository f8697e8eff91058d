"""When each streamed reply may edit its message: a cadence per stream, Discord's rate limits, fairness.

Discord counts requests per bucket: an interaction's webhook token has its own; a channel's messages (a DM
channel too) share one of 5 per 5 s; and every request except interaction ones counts toward the bot-wide
50 per second. Many users stream at once, so edits are rationed here, before Discord has to say 429.

Fairness rule: a free edit goes to the waiting stream with the best rank, where a final edit outranks an
intermediate one, then the stream that edited least recently goes first (then the one that asked first).
So between two edits of one stream, every other stream waiting on the same bucket edits at most once: with
n streams continuously waiting on a bucket of c edits per window w, each stream edits at least every
ceil(n / c) * w seconds (w includes the safety margin), provided its cadence is shorter than that. A stream
blocked only by its own cadence or bucket never holds up others.

Not thread-safe: use one scheduler per event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

WEBHOOK_PREFIX = "webhook"
CHANNEL_PREFIX = "channel"
GLOBAL_KEY = "global"

# Float sums of the same instant may differ in the last bit; a nanosecond early is harmless next to the margin.
_EPSILON = 1e-9


class Clock(Protocol):
    def monotonic(self) -> float: ...


class MonotonicClock:
    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to; for tests."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        self._now += seconds


@dataclass(frozen=True)
class BucketPolicy:
    """At most `capacity` requests in any `per_seconds` window."""

    capacity: int
    per_seconds: float

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.per_seconds <= 0:
            raise ValueError(f"a bucket needs a positive capacity and window, got {self}")


# Interaction webhooks allow about 5 edits per 2-5 s; the slow end is the safe one.
DEFAULT_POLICIES: Mapping[str, BucketPolicy] = MappingProxyType(
    {WEBHOOK_PREFIX: BucketPolicy(5, 5.0), CHANNEL_PREFIX: BucketPolicy(5, 5.0)}
)
# Discord allows 50 per second. Requests reach Discord later than they are granted, unevenly (discord.py's
# own route waits, busy connections), so two windows' grants can land in one second: 25 keeps even that
# under 50 (benchmarks/explain.py, 100 DM streams: 40 drew 15-25 global 429s in some runs, 25 none).
DEFAULT_GLOBAL_POLICY = BucketPolicy(25, 1.0)
# Interaction endpoints are not bound by the bot-wide limit.
_GLOBAL_EXEMPT = frozenset({WEBHOOK_PREFIX})


def webhook_key(interaction_id: int | str) -> str:
    """The bucket key of an interaction's webhook; the id stands in for the token so keys are safe to log."""
    return f"{WEBHOOK_PREFIX}:{interaction_id}"


def channel_key(channel_id: int | str) -> str:
    """The bucket key of messages in a channel (DM channels included)."""
    return f"{CHANNEL_PREFIX}:{channel_id}"


class TokenBucket:
    """At most `capacity` takes in any window of `per_seconds`: each token comes back one window after it
    was taken.

    A continuously refilling bucket would allow a full burst plus the refill within one window (9 edits in
    5 s at 5 per 5 s); Discord counts per window, so that would provoke a 429.
    """

    def __init__(self, policy: BucketPolicy, *, margin: float = 0.0) -> None:
        self.capacity = policy.capacity
        self.window = policy.per_seconds + margin
        self._taken: deque[float] = deque()

    def reserve(self, now: float, tokens: int = 1) -> float:
        """Seconds from `now` until `tokens` more takes are possible, taking each as early as possible;
        0 if they are possible now."""
        if tokens < 1:
            raise ValueError(f"tokens must be at least 1, got {tokens}")
        self._expire(now)
        free = self.capacity - len(self._taken)
        if tokens <= free:
            return 0.0
        if tokens == 1:
            # The common question, asked for every waiting stream at every grant: the oldest take frees first.
            return max(0.0, self._taken[0] + self.window - now)
        # A slot is reused one window after its last take, so the k-th take uses slot k % capacity.
        slots = [now] * free + [taken + self.window for taken in self._taken]
        rounds, slot = divmod(tokens - 1, self.capacity)
        return max(0.0, slots[slot] + rounds * self.window - now)

    def take(self, now: float) -> None:
        if self.reserve(now) > 0:
            raise RuntimeError("no token available; reserve() first")
        self._taken.append(now)

    def idle(self, now: float) -> bool:
        """True when no take is remembered any more, so the bucket could be forgotten."""
        self._expire(now)
        return not self._taken

    def _expire(self, now: float) -> None:
        while self._taken and self._taken[0] + self.window <= now + _EPSILON:
            self._taken.popleft()


@dataclass
class _Bucket:
    tokens: TokenBucket
    uses_global: bool
    blocked_until: float = -math.inf
    streams: int = 0

    def wait(self, now: float, tokens: int = 1) -> float:
        """The earliest time `tokens` more edits could go through this bucket."""
        return max(now + self.tokens.reserve(now, tokens), self.blocked_until)


@dataclass
class _Waiter:
    stream_id: Hashable
    final: bool
    seq: int
    future: asyncio.Future[None]


@dataclass
class _Stream:
    bucket: _Bucket
    last_edit: float | None = None
    waiter: _Waiter | None = None


class EditScheduler:
    """Decides when each stream may edit its message (see the module docstring for the fairness rule).

    A stream is registered with the bucket key of where its message lives ("webhook:<interaction id>",
    "channel:<channel id>"); buckets are created on first use with the policy for the key's prefix, and
    every bucket except interaction webhooks also draws on the global bucket. Intermediate edits keep
    `min_interval` apart per stream; final edits skip the cadence and go first, but still wait for their
    buckets. A grant counts as the edit: there is nothing to record afterwards.

    `safety_margin` lengthens every window, so network jitter cannot squeeze one edit too many into one of
    Discord's windows. `sleep` is how the scheduler waits (pass a fake one to drive a `ManualClock`).
    """

    def __init__(
        self,
        clock: Clock,
        *,
        min_interval: float = 1.0,
        policies: Mapping[str, BucketPolicy] | None = None,
        global_policy: BucketPolicy | None = DEFAULT_GLOBAL_POLICY,
        safety_margin: float = 0.25,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self.min_interval = min_interval
        self._policies = {**DEFAULT_POLICIES, **(policies or {})}
        self._margin = safety_margin
        # A quarter second on a one-second window would waste a fifth of the global budget; a tenth keeps jitter out.
        global_margin = min(safety_margin, global_policy.per_seconds / 10) if global_policy else 0.0
        self._global = _Bucket(TokenBucket(global_policy, margin=global_margin), False) if global_policy else None
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self._streams: dict[Hashable, _Stream] = {}
        self._waiting: dict[Hashable, _Waiter] = {}
        self._seq = itertools.count()
        self._timer: asyncio.Task[None] | None = None
        self._timer_at = math.inf

    @property
    def waiting(self) -> int:
        """How many streams are waiting in `acquire`."""
        return len(self._waiting)

    def register(self, stream_id: Hashable, bucket_key: str) -> None:
        if stream_id in self._streams:
            raise ValueError(f"stream {stream_id!r} is already registered")
        bucket = self._bucket(bucket_key)
        bucket.streams += 1
        self._streams[stream_id] = _Stream(bucket)

    def unregister(self, stream_id: Hashable) -> None:
        """Forgets a stream (unknown ids are ignored); a pending `acquire` for it raises `LookupError`."""
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return
        stream.bucket.streams -= 1
        waiter = self._waiting.pop(stream_id, None)
        if waiter is not None and not waiter.future.done():
            waiter.future.set_exception(LookupError(f"stream {stream_id!r} was unregistered"))
        self._reschedule()

    def next_edit_at(self, stream_id: Hashable, *, final: bool = False) -> float:
        """The earliest monotonic time the stream could edit, given its cadence, its buckets and the streams
        waiting ahead of it; an estimate if more streams arrive, `acquire` is what decides."""
        stream = self._streams[stream_id]
        now = self._clock.monotonic()
        rank = self._rank(stream_id, final, stream.waiter.seq if stream.waiter else math.inf)
        ahead = [w for w in self._waiting.values() if w.stream_id != stream_id and self._rank_of(w) < rank]
        in_bucket = sum(1 for w in ahead if self._streams[w.stream_id].bucket is stream.bucket)
        at = max(self._ready_at(stream, now, final=final), stream.bucket.wait(now, in_bucket + 1))
        if stream.bucket.uses_global and self._global is not None:
            in_global = sum(1 for w in ahead if self._streams[w.stream_id].bucket.uses_global)
            at = max(at, self._global.wait(now, in_global + 1))
        return at

    def try_acquire(self, stream_id: Hashable, *, final: bool = False) -> bool:
        """Takes an edit now if one is free; never takes one a stream waiting in `acquire` could use now.

        For callers that would rather skip an edit than wait; it does not queue, so under contention only
        `acquire` is fair.
        """
        stream = self._streams[stream_id]
        if stream.waiter is not None:
            raise RuntimeError(f"stream {stream_id!r} is already waiting in acquire()")
        now = self._clock.monotonic()
        self._dispatch(now)
        if self._ready_at(stream, now, final=final) > now + _EPSILON:
            return False
        self._grant(stream, now)
        return True

    async def acquire(self, stream_id: Hashable, *, final: bool = False) -> None:
        """Waits until the stream may edit, and takes that edit. One call at a time per stream."""
        stream = self._streams[stream_id]
        if stream.waiter is not None:
            raise RuntimeError(f"stream {stream_id!r} is already waiting in acquire()")
        waiter = _Waiter(stream_id, final, next(self._seq), asyncio.get_running_loop().create_future())
        stream.waiter = self._waiting[stream_id] = waiter
        self._reschedule()
        try:
            await waiter.future
        finally:
            stream.waiter = None
            if self._waiting.get(stream_id) is waiter:
                del self._waiting[stream_id]
                self._arm(self._clock.monotonic())

    def promote(self, stream_id: Hashable) -> None:
        """Turns the stream's pending `acquire` into a final one, e.g. when its answer just finished."""
        waiter = self._streams[stream_id].waiter
        if waiter is not None and not waiter.final:
            waiter.final = True
            self._reschedule()

    def penalize(self, bucket_key: str, retry_after: float) -> None:
        """Holds every edit through the bucket (`GLOBAL_KEY` for the global one) for `retry_after` seconds,
        after Discord answered 429 anyway."""
        bucket = self._global if bucket_key == GLOBAL_KEY else self._bucket(bucket_key)
        if bucket is None:
            return
        bucket.blocked_until = max(bucket.blocked_until, self._clock.monotonic() + retry_after)
        self._reschedule()

    def _bucket(self, key: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is not None:
            return bucket
        prefix = key.partition(":")[0]
        policy = self._policies.get(prefix)
        if policy is None:
            raise ValueError(f"no bucket policy for key {key!r}; known prefixes: {sorted(self._policies)}")
        self._forget_idle_buckets()
        bucket = _Bucket(TokenBucket(policy, margin=self._margin), uses_global=prefix not in _GLOBAL_EXEMPT)
        self._buckets[key] = bucket
        return bucket

    def _forget_idle_buckets(self) -> None:
        # A bucket outlives its streams until its window passes, as Discord's does.
        now = self._clock.monotonic()
        for key, bucket in list(self._buckets.items()):
            if not bucket.streams and bucket.blocked_until <= now and bucket.tokens.idle(now):
                del self._buckets[key]

    def _rank(self, stream_id: Hashable, final: bool, seq: float) -> tuple[bool, float, float]:
        last_edit = self._streams[stream_id].last_edit
        return (not final, -math.inf if last_edit is None else last_edit, seq)

    def _rank_of(self, waiter: _Waiter) -> tuple[bool, float, float]:
        return self._rank(waiter.stream_id, waiter.final, waiter.seq)

    def _ready_at(self, stream: _Stream, now: float, *, final: bool) -> float:
        """The earliest time the stream's own cadence and its buckets would let it edit, ignoring others."""
        at = stream.bucket.wait(now)
        if not final and stream.last_edit is not None:
            at = max(at, stream.last_edit + self.min_interval)
        if stream.bucket.uses_global and self._global is not None:
            at = max(at, self._global.wait(now))
        return at

    def _grant(self, stream: _Stream, now: float) -> None:
        stream.bucket.tokens.take(now)
        if stream.bucket.uses_global and self._global is not None:
            self._global.tokens.take(now)
        stream.last_edit = now

    def _dispatch(self, now: float) -> None:
        """Grants every edit that is possible now, best rank first."""
        self._forget_cancelled_waiters()
        for waiter in sorted(self._waiting.values(), key=self._rank_of):
            stream = self._streams[waiter.stream_id]
            if self._ready_at(stream, now, final=waiter.final) <= now + _EPSILON:
                self._grant(stream, now)
                del self._waiting[waiter.stream_id]
                if not waiter.future.done():
                    waiter.future.set_result(None)

    def _forget_cancelled_waiters(self) -> None:
        # A cancelled acquire leaves the queue only when its task next runs; until then it must not take an edit.
        for stream_id, waiter in list(self._waiting.items()):
            if waiter.future.done():
                del self._waiting[stream_id]

    def _reschedule(self) -> None:
        now = self._clock.monotonic()
        self._dispatch(now)
        self._arm(now)

    def _arm(self, now: float) -> None:
        """Keeps one timer for the earliest moment a waiting stream could be granted."""
        self._forget_cancelled_waiters()
        if not self._waiting:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return
        wake = min(
            self._ready_at(self._streams[waiter.stream_id], now, final=waiter.final)
            for waiter in self._waiting.values()
        )
        if self._timer is not None and not self._timer.done() and self._timer_at <= wake:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = wake
        self._timer = asyncio.get_running_loop().create_task(self._fire(max(0.0, wake - now)))

    async def _fire(self, delay: float) -> None:
        await self._sleep(delay)
        self._timer = None
        self._reschedule()
