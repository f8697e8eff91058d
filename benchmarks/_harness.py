"""What the benchmarks share: the real bot in its own process, and percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.devtools.fake_discord import FakeDiscord

ROOT = Path(__file__).resolve().parents[1]
# Extra STUDYBUDDY_* settings for the bot under test (e.g. from --max-generations); defaults otherwise.
BOT_SETTINGS: dict[str, str] = {}


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


@contextlib.asynccontextmanager
async def bot_process(fake: FakeDiscord, llm: dict[str, str] | None, workdir: Path) -> AsyncIterator[dict[str, Any]]:
    """The real bot in its own process; yields a dict filled with its own figures when it stops."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "OPENAI_", "STUDYBUDDY_"))},
        "DISCORD_TOKEN": fake.bot_token,
        **({"OPENAI_API_KEY": llm["api_key"], "OPENAI_BASE_URL": llm["base_url"]} if llm else {}),
        "STUDYBUDDY_DB": str(workdir / "bench.db"),
        "STUDYBUDDY_USER_COOLDOWN": "0",
        "STUDYBUDDY_LOG_LEVEL": "ERROR",
        **BOT_SETTINGS,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks._bot_process", fake.api_base, fake.gateway_url,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    await process.stdout.readline()  # {"ready": true}
    await fake.wait_ready(10)
    await fake.wait_synced(10)
    figures: dict[str, Any] = {}
    process.send_signal(signal.SIGUSR1)
    try:
        yield figures
    finally:
        process.send_signal(signal.SIGTERM)
        figures.update(json.loads(await process.stdout.readline()))
        await process.wait()
