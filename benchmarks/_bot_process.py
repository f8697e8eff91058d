"""The real bot in its own process, pointed at a loopback Discord, for benchmarks.

Run by benchmarks/explain.py so the bot's event loop is measured alone (the fake Discord and the
fake OpenAI run in other processes). SIGUSR1 starts the loop-lag window; SIGTERM ends it: the bot
shuts down and prints one JSON line with `loop_lag_ms_p99`, `loop_lag_ms_max` and `rss_mb`.

    python -m benchmarks._bot_process API_BASE GATEWAY_URL   (settings from the environment)
"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import sys
import time

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.app import build_services
from bot.bot import StudyBuddy
from bot.config import load_settings

LAG_PROBE_S = 0.02


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main(api_base: str, gateway_url: str) -> None:

    Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    settings = load_settings(env_file=None)
    assert settings.discord_token is not None
    bot = StudyBuddy(await build_services(settings))
    bot._connection.guild_ready_timeout = 0.05
    lags: list[float] = []
    measuring = asyncio.Event()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, measuring.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    async def probe_lag() -> None:
        await measuring.wait()
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(LAG_PROBE_S)
            lags.append((time.perf_counter() - started - LAG_PROBE_S) * 1000)

    async with bot:
        runner = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
        prober = asyncio.create_task(probe_lag())
        await bot.wait_until_ready()
        print(json.dumps({"ready": True}), flush=True)
        await stop.wait()
        prober.cancel()
        await bot.close()
        await asyncio.gather(runner, return_exceptions=True)
    print(
        json.dumps(
            {
                "loop_lag_ms_p99": round(percentile(lags, 0.99), 1),
                "loop_lag_ms_max": round(max(lags, default=0.0), 1),
                "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "cpu_s": round(time.process_time(), 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    discord.utils.setup_logging(level=40)
    asyncio.run(main(sys.argv[1], sys.argv[2]))
