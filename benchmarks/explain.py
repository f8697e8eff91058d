"""Explanations under load: the bare LCEL chain (the floor) against the whole bot.

Three processes, as in production: the fake OpenAI-compatible server (120 tokens at 20 ms each), the
real bot (benchmarks/_bot_process.py, whose event loop is measured alone), and this driver, which hosts
the fake Discord and plays the users. Prints one JSON object per scenario:

    python -m benchmarks.explain                       # every scenario
    python -m benchmarks.explain --scenarios burst,dms # some of them
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_openai import ChatOpenAI

from benchmarks._harness import BOT_SETTINGS, ROOT, bot_process, percentile
from bot.devtools.fake_discord import FakeDiscord, FakeInteraction, FakeMessage, FakeUser
from bot.i18n import Catalog
from bot.llm.chains import ChainFactory
from bot.llm.prompts import PromptLibrary
from tests.fakes.openai_script import expected_answer

TOKENS = 120
TOKEN_DELAY_S = 0.02


def explain_prompt(topic: str) -> str:
    """The user message the bot sends for `/explain topic` in English (what the fake model echoes)."""
    how = Catalog.load().text("en", "explain.default_how")
    return PromptLibrary.load().get("explain", "en").format(topic=topic, how=how)


@contextlib.asynccontextmanager
async def fake_openai_process() -> AsyncIterator[dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.openai_server", "--port", "0",
        "--token-delay", str(TOKEN_DELAY_S), "--tokens", str(TOKENS),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    info = json.loads(await process.stdout.readline())
    try:
        yield info
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()


class LagProbe:
    """Event-loop lag in this process: how late a 20 ms sleep wakes up."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.02)
            self.samples.append((time.perf_counter() - started - 0.02) * 1000)

    def __enter__(self) -> LagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def chain_only(llm: dict[str, str], streams: int) -> dict[str, Any]:
    """The floor: `prompt | model | StrOutputParser()` streamed `streams` times at once, no Discord."""
    model = ChatOpenAI(
        model="gpt-fake", base_url=llm["base_url"], api_key=llm["api_key"], streaming=True,  # type: ignore[arg-type]
        stream_usage=True, max_retries=0, timeout=120,
    )  # fmt: skip
    chain = ChainFactory(model, PromptLibrary.load()).explain("en")
    how = Catalog.load().text("en", "explain.default_how")
    firsts: list[float] = []
    exact = 0

    async def one(index: int) -> None:
        nonlocal exact
        started = time.perf_counter()
        parts: list[str] = []
        async for chunk in chain.astream({"topic": f"topic {index}", "how": how}):
            if chunk and not any(parts):
                firsts.append((time.perf_counter() - started) * 1000)
            parts.append(chunk)
        exact += "".join(parts) == expected_answer(explain_prompt(f"topic {index}"), TOKENS)

    with LagProbe() as lag:
        started, cpu_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(n) for n in range(streams)))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "scenario": "chain_only",
        "streams": streams,
        "complete_exact": exact,
        "wall_s": round(wall, 2),
        "first_visible_ms_p50": percentile(firsts, 0.5),
        "ack_ms_p99": None,
        "loop_lag_ms_p99": percentile(lag.samples, 0.99),
        "edits_per_message": None,
        "discord_429": None,
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_s": round(cpu, 2),
    }


@dataclass
class Stream:
    """One user's request and, once it is final, the message that shows its answer."""

    started: float
    expected: str
    final: Callable[[FakeMessage], bool]
    message: FakeMessage | None = None
    done_at: float | None = None


@dataclass
class Load:
    fake: FakeDiscord
    streams: list[Stream] = field(default_factory=list)
    interactions: list[FakeInteraction] = field(default_factory=list)


def update_times(message: FakeMessage) -> list[tuple[float, str]]:
    """(time, content) of every visible state of a message, creation included."""
    contents = [*message.edits[1:], message.content] if message.edits else [message.content]
    times = list(message.edit_times) or [message.created_at]
    if message.edits and message.edits[0]:
        contents, times = [message.edits[0], *contents], [message.created_at, *times]
    return list(zip(times, contents, strict=False))


def is_answer_text(content: str) -> bool:
    """The fake model's answers all start with "Answer about:"; a queued notice or an empty deferral does not."""
    return content.startswith("Answer")


async def wait_final(load: Load, stream: Stream) -> None:
    stream.message = await load.fake.wait_for_message(stream.final, timeout=600)
    stream.done_at = time.monotonic()


async def run_load(
    load: Load,
    starts: list[Callable[[], Awaitable[Stream]]],
    window_s: float,
    cheap_users: list[FakeUser],
    cheap_channel: Any,
) -> float:
    """Starts every stream spread over `window_s`, plays cheap commands meanwhile; returns the wall time."""
    started = time.monotonic()
    finished = asyncio.Event()

    async def cheap(user: FakeUser) -> None:
        while not finished.is_set():
            load.interactions.append(await load.fake.slash(user, cheap_channel, "help"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), 0.5)

    players = [asyncio.create_task(cheap(user)) for user in cheap_users]
    waiters = []
    for index, start in enumerate(starts):
        delay = started + index * window_s / len(starts) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        stream = await start()
        load.streams.append(stream)
        waiters.append(asyncio.create_task(wait_final(load, stream)))
    await asyncio.gather(*waiters)
    wall = max(stream.done_at or 0 for stream in load.streams) - started
    finished.set()
    await asyncio.gather(*players)
    for interaction in load.interactions:
        with contextlib.suppress(Exception):
            await interaction.wait_callback(10)
    return wall


def summarise(scenario: str, load: Load, wall: float, bot: dict[str, Any]) -> dict[str, Any]:
    firsts, edits, gaps = [], [], []
    exact = 0
    for stream in load.streams:
        assert stream.message is not None
        exact += stream.message.content == stream.expected
        states = [(at, text) for at, text in update_times(stream.message) if is_answer_text(text)]
        if states:
            firsts.append((states[0][0] - stream.started) * 1000)
            gaps.append(max((b[0] - a[0] for a, b in itertools.pairwise(states)), default=0.0))
        edits.append(len(stream.message.edit_times))
    acks = [ix.acked_after_ms for ix in load.interactions]
    return {
        "scenario": scenario,
        "streams": len(load.streams),
        "complete_exact": exact,
        "wall_s": round(wall, 2),
        "first_visible_ms_p50": percentile(firsts, 0.5),
        "ack_ms_p99": percentile([ack for ack in acks if ack is not None], 0.99),
        "acks_failed": sum(ix.ack_error is not None or ix.acked_after_ms is None for ix in load.interactions),
        "interactions": len(load.interactions),
        "loop_lag_ms_p99": bot.get("loop_lag_ms_p99"),
        "loop_lag_ms_max": bot.get("loop_lag_ms_max"),
        "edits_per_message": round(statistics.median(edits), 1) if edits else None,
        "max_update_gap_s": round(max(gaps, default=0.0), 2),
        "discord_429": load.fake.count_429,
        "discord_429_global": load.fake.global_429,
        "rss_mb": bot.get("rss_mb"),
        "bot_cpu_s": bot.get("cpu_s"),
    }


def world(
    fake: FakeDiscord, *, users: int, channels: int, cheap_users: int
) -> tuple[list[FakeUser], list[Any], list[FakeUser]]:
    guild = fake.add_guild("Benchmark Study Group")
    rooms = [fake.add_text_channel(guild, f"bench-{n}") for n in range(channels)]
    members = [fake.add_member(guild, f"user{n}") for n in range(users)]
    others = [fake.add_member(guild, f"clicker{n}") for n in range(cheap_users)]
    return members, rooms, others


async def through_bot(
    llm: dict[str, str], scenario: str, *, streams: int, channels: int, window_s: float = 0.0,
    cheap_users: int = 0, via_dm: bool = False,
) -> dict[str, Any]:  # fmt: skip
    fake = FakeDiscord()
    members, rooms, others = world(fake, users=streams, channels=channels, cheap_users=cheap_users)
    load = Load(fake)
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            async with bot_process(fake, llm, Path(workdir)) as bot:

                def slash_start(index: int) -> Callable[[], Awaitable[Stream]]:
                    async def start() -> Stream:
                        topic = f"topic {index}"
                        interaction = await fake.slash(members[index], rooms[index % channels], "explain", topic=topic)
                        load.interactions.append(interaction)
                        return Stream(
                            interaction.dispatched_at,
                            expected_answer(explain_prompt(topic), TOKENS),
                            lambda m: m.interaction_id == interaction.id and bool(m.content) and not m.components,
                        )

                    return start

                def dm_start(index: int) -> Callable[[], Awaitable[Stream]]:
                    async def start() -> Stream:
                        question = f"What is topic {index}?"
                        sent = time.monotonic()
                        channel = fake.dm_channel(members[index])
                        await fake.dm(members[index], question)
                        return Stream(
                            sent,
                            expected_answer(question, TOKENS),
                            lambda m: (
                                m.channel_id == channel.id
                                and m.author_id == fake.bot_user.id
                                and any(custom_id == "dm:reset" for _, custom_id, _ in m.buttons)
                            ),
                        )

                    return start

                starts = [(dm_start if via_dm else slash_start)(n) for n in range(streams)]
                wall = await run_load(load, starts, window_s, others, rooms[0])
    finally:
        await fake.stop()
    return summarise(scenario, load, wall, bot)


async def main(scenarios: set[str]) -> None:
    async with fake_openai_process() as llm:
        floors: dict[int, float] = {}
        for streams in (20, 100):
            if "chain_only" in scenarios or "explain" in scenarios:
                floor = await chain_only(llm, streams)
                floors[streams] = floor["wall_s"]
                print(json.dumps(floor), flush=True)
            if "explain" in scenarios:
                result = await through_bot(llm, "explain", streams=streams, channels=10)
                result["overhead_ratio"] = round(result["wall_s"] / floors[streams], 3)
                print(json.dumps(result), flush=True)
        if "burst" in scenarios:
            print(json.dumps(await through_bot(llm, "burst", streams=200, channels=10, window_s=1.0, cheap_users=20)))
        if "one_channel" in scenarios:
            print(json.dumps(await through_bot(llm, "one_channel", streams=50, channels=1)), flush=True)
        if "dms" in scenarios:
            print(json.dumps(await through_bot(llm, "dms", streams=100, channels=1, via_dm=True)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="chain_only,explain,burst,one_channel,dms")
    parser.add_argument("--max-generations", type=int, help="STUDYBUDDY_MAX_GENERATIONS for the bot (default: its own)")
    arguments = parser.parse_args()
    if arguments.max_generations:
        BOT_SETTINGS["STUDYBUDDY_MAX_GENERATIONS"] = str(arguments.max_generations)
    asyncio.run(main(set(arguments.scenarios.split(","))))
