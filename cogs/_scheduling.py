"""A cog's scheduler, run once the bot is ready and stopped when the cog unloads.

The work itself is database rows (posts, reminders, digests), so a restart picks up where it was; what this
keeps is that a send in flight at unload is let finish and be recorded, so a restart does not repeat it.
`delivering` wraps each send, turning Discord's errors into the `DeliveryFailed` kinds the schedulers act on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import aiohttp
import discord
from discord.ext import commands

from bot.services.daily import DeliveryFailed, DestinationForbidden, DestinationGone, DestinationUnavailable

STOP_GRACE_S = 10.0


@contextlib.asynccontextmanager
async def delivering() -> AsyncIterator[None]:
    """Discord's answers to a scheduled send, as the schedulers understand them: gone, forbidden, or try later."""
    try:
        yield
    except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError) as error:
        raise _delivery_failure(error) from error


def _delivery_failure(error: Exception) -> DeliveryFailed:
    if isinstance(error, discord.NotFound):
        return DestinationGone(str(error))
    if isinstance(error, discord.Forbidden):
        return DestinationForbidden(str(error))
    return DestinationUnavailable(str(error))


class Scheduler(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...


class SchedulerTask:
    """`start` in `cog_load`, `stop` in `cog_unload`."""

    def __init__(
        self, bot: commands.Bot, scheduler: Scheduler, name: str, *, on_ready: Callable[[], None] | None = None
    ) -> None:
        self._bot = bot
        self._scheduler = scheduler
        self._name = name
        self._on_ready = on_ready
        """Called once the bot is ready, just before the scheduler's first pass."""
        self._task: asyncio.Task[None] | None = None
        self._running = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run_when_ready(), name=self._name)

    async def _run_when_ready(self) -> None:
        # What fell due while the bot was down happens now, once Discord is reachable.
        await self._bot.wait_until_ready()
        self._running = True
        if self._on_ready is not None:
            self._on_ready()
        await self._scheduler.run()

    async def stop(self) -> None:
        if self._task is None:
            return
        # A send cut off between Discord's answer and the database would leave a post that looks unsent.
        self._scheduler.stop()
        _, unfinished = await asyncio.wait({self._task}, timeout=STOP_GRACE_S if self._running else 0)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
