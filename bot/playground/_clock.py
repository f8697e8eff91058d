"""The playground's clock: real time flowing (or frozen, for scripts), plus jumps the user asks for.

Time travel must look like time passing, not like a leap: a daily quiz due at 09:30 tomorrow has to be
posted at 09:30, not found 23 hours late after a one-day jump. So `Playground` moves the clock timer by
timer: it asks for the earliest sleeper's deadline, jumps there, lets the bot work, and repeats.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import datetime, timedelta


class PlaygroundClock:
    """`bot.clock.Clock` with jumps; `flowing=False` keeps time still between jumps (scripts stay reproducible)."""

    def __init__(self, start: datetime, *, flowing: bool) -> None:
        self._start = start
        self._flowing = flowing
        self._real_start = time.monotonic()
        self._offset = timedelta(0)
        self._moved = asyncio.Event()
        self._slept = asyncio.Event()
        self._ids = itertools.count()
        self._sleepers: dict[int, datetime] = {}
        self.sleep_calls = 0

    def now(self) -> datetime:
        now = self._start + self._offset
        if self._flowing:
            now += timedelta(seconds=time.monotonic() - self._real_start)
        return now

    async def sleep_until(self, when: datetime) -> None:
        key = next(self._ids)
        self._sleepers[key] = when
        self.sleep_calls += 1
        slept, self._slept = self._slept, asyncio.Event()
        slept.set()
        try:
            while (left := (when - self.now()).total_seconds()) > 0:
                moved = self._moved
                if self._flowing:
                    try:
                        await asyncio.wait_for(moved.wait(), left)
                    except TimeoutError:
                        continue
                else:
                    await moved.wait()
        finally:
            del self._sleepers[key]

    def next_deadline(self) -> datetime | None:
        """When the earliest timer waiting on this clock is due."""
        return min(self._sleepers.values(), default=None)

    @property
    def flowing(self) -> bool:
        return self._flowing

    def due_by(self, when: datetime) -> int:
        """How many timers are due by `when` (they wake as soon as the loop runs them)."""
        return sum(1 for deadline in self._sleepers.values() if deadline <= when)

    def jump_to(self, when: datetime) -> None:
        """Moves time forward to `when` (never back) and wakes the timers that are due."""
        if when > self.now():
            self._offset += when - self.now()
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def wait_sleep_calls(self, count: int, within_s: float) -> bool:
        """Waits until `sleep_until` was called `count` times in all; False after `within_s` seconds."""
        try:
            async with asyncio.timeout(within_s):
                while self.sleep_calls < count:
                    await self._slept.wait()
        except TimeoutError:
            return False
        return True
