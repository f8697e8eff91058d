"""A started FakeDiscord, and a real bot logged into it, for as long as a test or a playground session runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord

from ._fake import FakeDiscord


@contextlib.asynccontextmanager
async def running_fake_discord(fake: FakeDiscord | None = None) -> AsyncIterator[FakeDiscord]:
    """Start and install ``fake`` (a default one if None); stop and uninstall it afterwards."""
    fake = fake or FakeDiscord()
    await fake.start()
    fake.install()
    try:
        yield fake
    finally:
        await fake.stop()


@contextlib.asynccontextmanager
async def start_bot(fake: FakeDiscord, bot: discord.Client, *, timeout: float = 5) -> AsyncIterator[discord.Client]:  # noqa: ASYNC109 - public API
    """Log ``bot`` into ``fake``, wait until it is ready, and close it cleanly afterwards.

    ``guild_ready_timeout`` is shortened so ``on_ready`` fires right after the last GUILD_CREATE.
    """
    bot._connection.guild_ready_timeout = 0.05
    task = asyncio.create_task(bot.start(fake.bot_token), name="fake-discord-bot")
    try:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if task.done():
                task.result()  # re-raise the login/connect error
            raise TimeoutError(f"bot not ready within {timeout}s")
        await fake.wait_ready(timeout)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout)
