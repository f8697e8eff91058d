"""The loop every scheduler shares: a pass over what is due, then a nap until the earliest moment anything is.

The daily quiz (`bot.services.daily.DailyScheduler`) and the TIL reminders and digest
(`bot.services.til.schedule.TilScheduler`) each keep their work as database rows and say what a pass does and
when the next thing falls due; sleeping until then, waking early when told, and stopping live here, once.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from datetime import datetime, timedelta

from bot.clock import Clock

# Sleeping longer than this would miss schedules another process added, or a wall clock that jumped.
MAX_NAP = timedelta(minutes=5)
STUCK_PAUSE = timedelta(seconds=30)


class NappingScheduler(ABC):
    """Runs `run_once` until stopped, napping between passes until `next_wake` (at most `MAX_NAP`)."""

    def __init__(self, clock: Clock, log: logging.Logger, name: str) -> None:
        self._clock = clock
        self._log = log
        self._name = name
        """What the log calls this scheduler ("daily", "TIL")."""
        self._wake = asyncio.Event()
        self._stopping = False
        self.passes = 0

    @abstractmethod
    async def run_once(self) -> int:
        """One pass over everything due now; how many jobs it ran."""

    @abstractmethod
    async def next_wake(self) -> datetime | None:
        """The earliest moment anything is due; None when nothing is."""

    def wake(self) -> None:
        """Look again now (a schedule changed in this process)."""
        self._wake.set()

    def stop(self) -> None:
        """Ends `run` soon: jobs in flight finish (so what was sent is recorded), no new ones start."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            done = 0
            try:
                done = await self.run_once()
                wake_at = await self.next_wake()
            except Exception:
                # The database or a bug: the loop must outlive it, or no guild is served until a restart.
                self._log.exception("%s scheduler pass failed; trying again shortly", self._name)
                wake_at = self._clock.now()
            now = self._clock.now()
            if wake_at is not None and wake_at <= now and not done:
                wake_at = now + STUCK_PAUSE  # still due after a pass that did nothing: something keeps failing
            until = now + MAX_NAP if wake_at is None else min(max(wake_at, now), now + MAX_NAP)
            await self._nap(until)

    async def _nap(self, until: datetime) -> None:
        if self._wake.is_set():
            return
        woken = asyncio.ensure_future(self._wake.wait())
        slept = asyncio.ensure_future(self._clock.sleep_until(until))
        try:
            await asyncio.wait({woken, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (woken, slept):
                task.cancel()
            await asyncio.gather(woken, slept, return_exceptions=True)
