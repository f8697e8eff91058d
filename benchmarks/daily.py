"""Thousands of guilds whose daily quiz falls on the same minute.

The real bot runs in its own process (benchmarks/_bot_process.py) on the system clock; this driver hosts the
fake Discord with one small guild per scheduled server, has each guild's moderator run `/daily setup` for the
same instant (written as local time in Seoul, Berlin or UTC, so the time zone arithmetic is part of the run),
then waits for the posts. Prints one JSON object per scenario:

- `guilds`, `posted` (guilds whose channel got the question), `duplicates` (extra posts: must be 0),
- `spread_s` (first to last post), `first_post_delay_s` (due minute to first post), `discord_429`,
- `setup_s` (all the /daily setup commands), `loop_lag_ms_p99` and `rss_mb` of the bot process.

Scenarios: `one_process`, and `two_processes` (a second bot process on the same database races the first
for every claim, as in a careless deploy that starts the new process before stopping the old one).

    python -m benchmarks.daily [--guilds 2000] [--scenarios one_process,two_processes] [--lead 90]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import discord

from benchmarks._harness import bot_process
from bot.devtools.fake_discord import FakeChannel, FakeDiscord, FakeUser

ZONES = ("Asia/Seoul", "Europe/Berlin", "UTC")
SETUP_CONCURRENCY = 40


def build_world(fake: FakeDiscord, guilds: int) -> list[tuple[FakeUser, FakeChannel]]:
    servers = []
    for number in range(guilds):
        guild = fake.add_guild(f"Study group {number}", locale="ko")
        channel = fake.add_text_channel(guild, "daily-quiz")
        mods = fake.add_role(guild, "Moderators", permissions=discord.Permissions(manage_guild=True).value)
        servers.append((fake.add_member(guild, f"mod{number}", roles=[mods], locale="ko"), channel))
    return servers


async def set_up_all(fake: FakeDiscord, servers: list[tuple[FakeUser, FakeChannel]], due: datetime) -> int:
    """Every moderator runs /daily setup for `due`; returns how many were refused."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    refused = 0

    async def set_up(index: int, moderator: FakeUser, channel: FakeChannel) -> None:
        nonlocal refused
        zone = ZONES[index % len(ZONES)]
        local = due.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        async with gate:
            interaction = await fake.slash(
                moderator, channel, "daily setup", channel=channel, time=local, timezone=zone, reveal_after=1
            )
            [reply] = await interaction.settled(quiet=0.0)
            if not reply.embeds:
                refused += 1

    await asyncio.gather(*(set_up(index, *server) for index, server in enumerate(servers)))
    return refused


def daily_posts(fake: FakeDiscord, servers: list[tuple[FakeUser, FakeChannel]]) -> dict[int, list[float]]:
    """Creation times (monotonic) of the daily questions in each server's channel."""
    bot_id = fake.bot_user.id
    return {
        channel.id: [
            message.created_at
            for message in fake.channel_messages(channel)
            if message.author_id == bot_id and not message.ephemeral and message.buttons
        ]
        for _, channel in servers
    }


async def run(scenario: str, guilds: int, lead_s: float) -> dict[str, Any]:
    fake = FakeDiscord()
    servers = build_world(fake, guilds)
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            async with contextlib.AsyncExitStack() as processes:
                bot = await processes.enter_async_context(bot_process(fake, None, Path(workdir)))
                # The first whole minute at least `lead_s` ahead: all setups must land before it.
                ahead = datetime.now(UTC) + timedelta(seconds=lead_s)
                due = ahead.replace(second=0, microsecond=0) + timedelta(minutes=1)
                began = time.monotonic()
                refused = await set_up_all(fake, servers, due)
                setup_s = time.monotonic() - began
                if scenario == "two_processes":
                    await processes.enter_async_context(bot_process(fake, None, Path(workdir)))
                due_monotonic = time.monotonic() + (due - datetime.now(UTC)).total_seconds()
                await asyncio.sleep(max(0.0, due_monotonic - time.monotonic()))
                # Wait until every guild has its post, or nothing new arrives for a while.
                seen, quiet_since = -1, time.monotonic()
                while True:
                    posts = daily_posts(fake, servers)
                    count = sum(len(times) for times in posts.values())
                    if count != seen:
                        seen, quiet_since = count, time.monotonic()
                    if sum(bool(times) for times in posts.values()) == guilds and time.monotonic() - quiet_since > 5:
                        break
                    if time.monotonic() - quiet_since > 60:
                        break
                    await asyncio.sleep(0.5)
            figures = bot
    finally:
        await fake.stop()
    times = sorted(moment for moments in posts.values() for moment in moments)
    per_channel = Counter(len(moments) for moments in posts.values())
    return {
        "scenario": scenario,
        "guilds": guilds,
        "posted": sum(bool(moments) for moments in posts.values()),
        "duplicates": sum((count - 1) * channels for count, channels in per_channel.items() if count > 1),
        "spread_s": round(times[-1] - times[0], 2) if times else None,
        "first_post_delay_s": round(times[0] - due_monotonic, 2) if times else None,
        "discord_429": fake.count_429,
        "setup_s": round(setup_s, 1),
        "setup_refused": refused,
        "loop_lag_ms_p99": figures.get("loop_lag_ms_p99"),
        "rss_mb": figures.get("rss_mb"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guilds", type=int, default=2000)
    parser.add_argument("--scenarios", default="one_process,two_processes")
    parser.add_argument("--lead", type=float, default=math.nan, help="seconds between start and the due minute")
    arguments = parser.parse_args()
    lead = arguments.lead if not math.isnan(arguments.lead) else 30 + arguments.guilds / 40
    for name in arguments.scenarios.split(","):
        print(json.dumps(asyncio.run(run(name.strip(), arguments.guilds, lead))), flush=True)
