"""The bot under test: the real StudyBuddy, logged into the fake Discord, talking to the fake OpenAI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import build_services
from bot.bot import StudyBuddy
from bot.config import Settings
from bot.devtools.fake_discord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    running_fake_discord,
    start_bot,
)
from tests.fakes.clock import FakeClock
from tests.fakes.openai_server import FakeOpenAI


@dataclass
class World:
    """A small study server: two channels, a moderator and two members."""

    guild: FakeGuild
    study: FakeChannel
    lounge: FakeChannel
    til: FakeChannel
    moderator: FakeUser
    alice: FakeUser
    bob: FakeUser

    @classmethod
    def build(cls, fake: FakeDiscord) -> World:
        guild = fake.add_guild("Study Group", locale="ko")
        mods = fake.add_role(
            guild, "Moderators", permissions=discord.Permissions(manage_messages=True, manage_guild=True).value
        )
        return cls(
            guild=guild,
            study=fake.add_text_channel(guild, "study"),
            lounge=fake.add_text_channel(guild, "lounge"),
            til=fake.add_forum_channel(guild, "til", tags=["AWS", "LangChain", "ADsP"]),
            moderator=fake.add_member(guild, "mod", roles=[mods], locale="ko"),
            alice=fake.add_member(guild, "alice", locale="ko"),
            bob=fake.add_member(guild, "bob", locale="en-US"),
        )


@dataclass
class Running:
    fake: FakeDiscord
    llm: FakeOpenAI
    bot: StudyBuddy
    world: World
    clock: FakeClock
    settings: Settings
    _stack: contextlib.AsyncExitStack

    async def restart(self) -> None:
        """Stops the bot and starts a new one on the same database, as after a deploy or a crash."""
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()
        self.bot = StudyBuddy(await build_services(self.settings, clock=self.clock))
        await self._stack.enter_async_context(start_bot(self.fake, self.bot))

    async def run(
        self,
        user: FakeUser,
        command: str,
        channel: FakeChannel | None = None,
        /,
        *,
        quiet: float = 0.3,
        **options: Any,
    ) -> list[FakeMessage]:
        """`user` runs `/command` in `channel` (default #study); the messages they see once edits settle."""
        interaction = await self.fake.slash(user, channel or self.world.study, command, **options)
        await interaction.wait_acked()
        return await interaction.settled(quiet=quiet)

    async def answer(
        self, user: FakeUser, command: str, channel: FakeChannel | None = None, **options: Any
    ) -> list[FakeMessage]:
        """Like `run`, for a streamed answer: waits until the stream has shown its final state."""
        finished = self.bot.services.streams.finished
        interaction = await self.start(user, command, channel, **options)
        await self.streams_finished(finished + 1)
        return await interaction.settled(quiet=0.05)

    async def streams_finished(self, count: int, timeout: float = 20) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            await self.bot.services.streams.wait_finished(count)

    async def start(
        self, user: FakeUser, command: str, channel: FakeChannel | None = None, **options: Any
    ) -> FakeInteraction:
        interaction = await self.fake.slash(user, channel or self.world.study, command, **options)
        await interaction.wait_acked()
        return interaction


BotFactory = Callable[..., contextlib.AbstractAsyncContextManager[Running]]
SCHEDULERS = 2
"""Timers that always wait on the clock while the bot runs: the daily quiz's and the TIL scheduler."""


def settings_for(tmp_path: Path, fake: FakeDiscord, llm: FakeOpenAI | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_token": fake.bot_token,
        "database": tmp_path / "studybuddy.db",
        "user_cooldown_s": 0.0,
        "llm_timeout_s": 5.0,
    }
    if llm is not None:
        values |= {"openai_api_key": llm.api_key, "openai_base_url": llm.base_url}
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


@pytest.fixture
def studybuddy(tmp_path: Path) -> BotFactory:
    """`async with studybuddy(llm=True, fake=FakeDiscord(...), **settings) as running:` the whole bot, running."""

    @contextlib.asynccontextmanager
    async def factory(
        *,
        llm: bool = True,
        fake: FakeDiscord | None = None,
        token_delay_s: float = 0.0,
        tokens: int = 20,
        **overrides: Any,
    ) -> AsyncIterator[Running]:
        fake = fake or FakeDiscord()
        world = World.build(fake)
        clock = FakeClock()
        async with FakeOpenAI(token_delay_s=token_delay_s, tokens=tokens) as fake_llm, running_fake_discord(fake):
            settings = settings_for(tmp_path, fake, fake_llm if llm else None, **overrides)
            running = Running(fake, fake_llm, StudyBuddy(await build_services(settings, clock=clock)), world, clock,
                              settings, contextlib.AsyncExitStack())  # fmt: skip
            await running._stack.enter_async_context(start_bot(fake, running.bot))
            try:
                await fake.wait_synced()
                yield running
            finally:
                await running._stack.aclose()

    return factory
