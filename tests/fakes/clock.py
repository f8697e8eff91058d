"""A clock that only moves when a test says so; timers waiting on it wake as time passes them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
        self._moved = asyncio.Event()
        self._sleepers_changed = asyncio.Event()
        self.sleepers = 0

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        self._count_sleepers(+1)
        try:
            while self._now < when:
                moved = self._moved
                await moved.wait()
        finally:
            self._count_sleepers(-1)

    async def wait_for_sleepers(self, count: int = 1) -> None:
        """Returns once `count` timers are waiting on this clock (so moving time will wake them)."""
        while self.sleepers < count:
            await self._sleepers_changed.wait()

    def _count_sleepers(self, change: int) -> None:
        self.sleepers += change
        changed, self._sleepers_changed = self._sleepers_changed, asyncio.Event()
        changed.set()

    def advance(self, delta: timedelta) -> None:
        """Moves time forward and wakes every sleeper whose moment has come."""
        self._now += delta
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()
