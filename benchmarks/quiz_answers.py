"""Hundreds of members answering the same quiz question within one second.

The real bot runs in its own process (benchmarks/_bot_process.py); this driver hosts the fake Discord,
imports a small bank, starts a quiz and has every member click an answer within one second (some click
twice). Prints one JSON object: `answers` (distinct members who clicked), `recorded` (rows in the answer
log), `duplicates` (members recorded more than once: must be 0), `ack_ms_p99`, `acks_failed`,
`answers_per_s`, `loop_lag_ms_p99`.

    python -m benchmarks.quiz_answers [--members 500] [--double-clickers 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import discord

from benchmarks._harness import bot_process, percentile
from bot.devtools.fake_discord import FakeDiscord, FakeInteraction, FakeMessage

BANK = b"""
bank: bench
name: {ko: "Benchmark", en: "Benchmark"}
topic: bench
version: 1
questions:
  - id: ec2
    language: en
    tags: [ec2]
    difficulty: 1
    type: choice
    question: "Which service runs virtual servers?"
    choices: ["EC2", "S3", "IAM", "CloudWatch"]
    answer: 0
    explanation: "EC2 runs virtual servers."
"""


async def run(members: int, double_clickers: int, window_s: float) -> dict[str, Any]:
    fake = FakeDiscord()
    guild = fake.add_guild("Benchmark Study Group")
    channel = fake.add_text_channel(guild, "quiz")
    mods = fake.add_role(guild, "Moderators", permissions=discord.Permissions(manage_guild=True).value)
    moderator = fake.add_member(guild, "moderator", roles=[mods])
    players = [fake.add_member(guild, f"player{n}") for n in range(members)]
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            async with bot_process(fake, None, Path(workdir)) as bot:
                imported = await fake.slash(moderator, channel, "quiz bank import", file=("bench.yaml", BANK))
                await imported.settled(quiet=0.2)
                started = await fake.slash(moderator, channel, "quiz start", topic="bench", count=1, seconds=120)
                await started.wait_acked()
                question: FakeMessage = await fake.wait_for_message(
                    lambda m: m.channel_id == channel.id and len(m.buttons) == 4, timeout=30
                )
                buttons = [custom_id for _, custom_id, _ in question.buttons if custom_id]
                rng = random.Random(7)
                clicks = [(player, rng.choice(buttons)) for player in players]
                clicks += [(player, rng.choice(buttons)) for player in players[:double_clickers]]
                rng.shuffle(clicks)
                interactions: list[FakeInteraction] = []
                began = time.monotonic()
                for index, (player, button) in enumerate(clicks):
                    delay = began + index * window_s / len(clicks) - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    interactions.append(await fake.click(player, question, button))
                for interaction in interactions:
                    await interaction.wait_callback(30)
                acked_at = [ix.acked_after_ms for ix in interactions if ix.acked_after_ms is not None]
                last_ack = max(ix.dispatched_at + (ix.acked_after_ms or 0) / 1000 for ix in interactions)
                elapsed = last_ack - began
            database = sqlite3.connect(Path(workdir) / "bench.db")
            recorded, distinct = database.execute(
                "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM quiz_answers WHERE source = 'session'"
            ).fetchone()
            database.close()
    finally:
        await fake.stop()
    return {
        "scenario": "quiz_answers",
        "answers": members,
        "clicks": len(clicks),
        "recorded": recorded,
        "duplicates": recorded - distinct,
        "ack_ms_p50": percentile(acked_at, 0.5),
        "ack_ms_p99": percentile(acked_at, 0.99),
        "acks_failed": sum(ix.ack_error is not None or ix.acked_after_ms is None for ix in interactions),
        "answers_per_s": round(recorded / elapsed, 1),
        "loop_lag_ms_p99": bot.get("loop_lag_ms_p99"),
        "rss_mb": bot.get("rss_mb"),
        "discord_429": fake.count_429,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--double-clickers", type=int, default=50)
    parser.add_argument("--window", type=float, default=1.0, help="seconds over which the clicks arrive")
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(run(arguments.members, arguments.double_clickers, arguments.window))))
