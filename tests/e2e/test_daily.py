"""The daily quiz end to end: /daily through the real discord.py client, the scheduler on a hand-moved clock.

The fake clock starts at 2026-11-25 00:00 UTC, which is 09:00 in Seoul (the default time zone).
"""

from __future__ import annotations

import asyncio
import copy
import re
from datetime import timedelta

from bot.devtools.fake_discord import FakeChannel, FakeMessage, FakeUser
from bot.services.daily import DailyScheduler
from tests.e2e.conftest import SCHEDULERS, BotFactory, Running
from tests.e2e.test_quiz import choice_bank, click, correct_choice, revealed, session_of

DAILY_TITLE = "오늘의 퀴즈"


async def daily_question(running: Running, channel: FakeChannel, *, after: int = 0) -> FakeMessage:
    """The next daily question the bot posts in `channel` (its `after`-th one, 0-based)."""

    def is_daily(message: FakeMessage) -> bool:
        return bool(message.embeds) and DAILY_TITLE in (message.embeds[0].get("title") or "") and bool(message.buttons)

    async with asyncio.timeout(10):
        while len(posted := [m for m in running.fake.channel_messages(channel) if is_daily(m)]) <= after:
            await running.fake.wait_for_message(is_daily, timeout=10)
    return posted[after]


def bot_dms(running: Running, user: FakeUser) -> list[str]:
    bot_id = running.fake.bot_user.id
    return [m.content for m in running.fake.channel_messages(running.fake.dm_channel(user)) if m.author_id == bot_id]


async def set_up(running: Running, channel: FakeChannel | None = None, **options: object) -> FakeMessage:
    world = running.world
    [reply] = await running.run(
        world.moderator, "daily setup", channel=channel or world.study, time="09:30", reveal_after=1, **options
    )
    return reply


def scheduler(running: Running) -> DailyScheduler:
    # Not isinstance(cog, Daily): discord.py re-imports an extension's modules each time the bot loads it.
    found = running.bot.get_cog("Daily").scheduler  # type: ignore[union-attr]
    assert isinstance(found, DailyScheduler)
    return found


async def scheduler_asleep(running: Running) -> None:
    """Waits until the daily scheduler (and any other timer) waits on the clock."""
    async with asyncio.timeout(10):
        await running.clock.wait_for_sleepers(SCHEDULERS)


async def advance(running: Running, delta: timedelta) -> None:
    """Moves time once the scheduler sleeps, then waits until it has looked at the new time and sleeps again.

    The scheduler never naps longer than five minutes, so any move of five minutes or more wakes it."""
    await scheduler_asleep(running)
    passes = scheduler(running).passes
    running.clock.advance(delta)
    async with asyncio.timeout(10):
        while scheduler(running).passes == passes:  # noqa: ASYNC110 - a counter the loop bumps, polled by tests
            await asyncio.sleep(0.005)
    await scheduler_asleep(running)


def public_messages(running: Running, channel: FakeChannel) -> list[FakeMessage]:
    return [m for m in running.fake.channel_messages(channel) if not m.ephemeral]


async def test_a_daily_question_is_posted_answered_and_revealed(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        topic = await choice_bank(running)
        world = running.world
        reply = await set_up(running, topics=topic)
        assert reply.ephemeral
        fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
        assert fields["시각"] == "09:30 (Asia/Seoul)"
        next_unix = int((running.clock.now() + timedelta(minutes=30)).timestamp())
        assert f"<t:{next_unix}:F>" in fields["다음 문제"]
        await advance(running, timedelta(minutes=29))
        assert public_messages(running, world.study) == []
        running.clock.advance(timedelta(minutes=1))
        question = await daily_question(running, world.study)
        as_posted = copy.deepcopy(question)  # the reveal edits the message in place
        session_id = session_of(question)
        right = await correct_choice(running, session_id)
        answered = await click(running, world.alice, question, right)
        await click(running, world.bob, question, (right + 1) % len(question.buttons))
        running.clock.advance(timedelta(hours=1))
        shown = await revealed(running, question)
        [show] = await running.run(world.alice, "daily show")
    assert str(as_posted.nonce).startswith("daily-")
    assert f"<t:{int(running.clock.now().timestamp())}:R>" == as_posted.embeds[0]["fields"][-1]["value"]
    assert "기록" in answered
    result = {field["name"]: field["value"] for field in shown.embeds[0]["fields"]}
    assert any(f"<@{world.alice.id}>" in value and f"<@{world.bob.id}>" not in value for value in result.values())
    assert any("1명 / 답한 사람 2명" in name for name in result)
    show_fields = {field["name"]: field["value"] for field in show.embeds[0]["fields"]}
    assert show_fields["나의 연속 참여"] == "🔥 1"
    # Tomorrow's question is due at tomorrow's 09:30 in Seoul.
    tomorrow = int((running.clock.now() - timedelta(hours=1) + timedelta(days=1)).timestamp())
    assert f"<t:{tomorrow}:F>" in show_fields["다음 문제"]


async def test_only_moderators_may_set_up_the_daily_quiz(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        [refused] = await running.run(world.alice, "daily setup", channel=world.study, time="09:30")
        [paused] = await running.run(world.bob, "daily pause")
        [shown] = await running.run(world.alice, "daily show")
    assert refused.ephemeral and "서버 관리" in refused.content
    assert "Manage Server" in paused.content
    assert "/daily setup" in shown.content  # not set up: nothing was stored


async def test_invalid_time_and_unknown_timezone_are_explained_and_nothing_is_stored(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        [bad_time] = await running.run(world.moderator, "daily setup", channel=world.study, time="25:00")
        [bad_zone] = await running.run(
            world.moderator, "daily setup", channel=world.study, time="09:00", timezone="Mars/Olympus"
        )
        stored = await running.bot.services.daily_repo.schedule(world.guild.id)
    assert bad_time.ephemeral and "`25:00`" in bad_time.content and "HH:MM" in bad_time.content
    assert "`Mars/Olympus`" in bad_zone.content and "Asia/Seoul" in bad_zone.content
    assert stored is None


async def test_a_deleted_channel_pauses_the_quiz_and_the_admin_hears_once(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_up(running, channel=world.lounge)
        running.fake.delete_channel(world.lounge)
        await advance(running, timedelta(minutes=30))
        for _ in range(2):
            await advance(running, timedelta(days=1))
        dm_channel = running.fake.dm_channel(world.moderator).id
        await running.fake.wait_for_message(lambda m: m.channel_id == dm_channel, timeout=10)
        [shown] = await running.run(world.moderator, "daily show")
        dms = bot_dms(running, world.moderator)
    assert len(dms) == 1 and "Study Group" in dms[0] and "/daily setup" in dms[0]
    status = {field["name"]: field["value"] for field in shown.embeds[0]["fields"]}["상태"]
    assert "채널이 삭제됨" in status


async def test_lost_permission_pauses_and_alerts_the_configured_channel(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_up(running, channel=world.lounge, alerts=world.study)
        running.fake.deny(world.lounge)
        await scheduler_asleep(running)
        running.clock.advance(timedelta(minutes=30))
        alert = await running.fake.wait_for_message(
            lambda m: m.channel_id == world.study.id and not m.ephemeral, timeout=10
        )
        schedule = await running.bot.services.daily.schedule(world.guild.id)
        [refused] = await running.run(world.moderator, "daily setup", channel=world.lounge, time="10:00")
    assert "/daily resume" in alert.content
    assert (schedule.status, schedule.paused_reason) == ("paused", "forbidden")
    assert refused.ephemeral and f"<#{world.lounge.id}>" in refused.content


async def test_pause_resume_and_now(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_up(running)
        [paused] = await running.run(world.moderator, "daily pause")
        await advance(running, timedelta(hours=1))
        nothing_while_paused = public_messages(running, world.study)
        [resumed] = await running.run(world.moderator, "daily resume")
        [posted] = await running.run(world.moderator, "daily now", quiet=0.5)
        question = await daily_question(running, world.study)
    assert nothing_while_paused == []
    assert "/daily resume" in paused.content
    assert re.search(r"<t:\d+:R>", resumed.content)
    assert posted.ephemeral and f"<#{world.study.id}>" in posted.content
    assert question.buttons


async def test_a_restart_between_post_and_reveal_keeps_buttons_and_reveal(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await choice_bank(running)
        await set_up(running, topics="cloud")
        await scheduler_asleep(running)
        running.clock.advance(timedelta(minutes=30))
        question = await daily_question(running, world.study)
        right = await correct_choice(running, session_of(question))
        await running.restart()
        after_restart = await click(running, world.alice, question, right)
        await scheduler_asleep(running)
        running.clock.advance(timedelta(hours=2))
        shown = await revealed(running, question)
        posts = [m for m in running.fake.channel_messages(world.study) if m.buttons and m.id != question.id]
    assert "기록" in after_restart
    assert any(f"<@{world.alice.id}>" in field["value"] for field in shown.embeds[0]["fields"])
    assert posts == []  # the restart did not post the day's question again
