"""The bot's foundation end to end: login, command sync, /help, error handling and Discord's rules."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from discord import app_commands

from bot.app import build_services
from bot.bot import StudyBuddy
from bot.devtools.fake_discord import FakeDiscord, running_fake_discord, start_bot
from tests.e2e.conftest import BotFactory, World, settings_for
from tests.fakes.openai_script import Reply


async def test_help_lists_every_command_in_the_members_language(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        [korean] = await running.run(running.world.alice, "help")
        [english] = await running.run(running.world.bob, "help")
    assert korean.ephemeral and english.ephemeral
    assert korean.embeds[0]["title"] == "StudyBuddy 명령어"
    assert english.embeds[0]["title"] == "StudyBuddy commands"
    listed = {field["name"] for field in english.embeds[0]["fields"]}
    assert {"/help", "/explain", "/language", "/usage", "/budget", "/quiz", "/daily", "/til", "/mydata"} <= listed
    korean_explain = next(field for field in korean.embeds[0]["fields"] if field["name"] == "/explain")
    assert "설명" in korean_explain["value"]
    til = next(field for field in english.embeds[0]["fields"] if field["name"] == "/til")
    assert "`post`" in til["value"] and "`search`" in til["value"]


async def test_help_details_one_command_and_every_subcommand_is_listed_somewhere(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        bob = running.world.bob
        [overview] = await running.run(bob, "help")
        details = [(await running.run(bob, "help", command=field["name"]))[0] for field in overview.embeds[0]["fields"]]
        [unknown] = await running.run(bob, "help", command="fly")
        leaves = {
            f"/{command.qualified_name}"
            for command in running.bot.tree.walk_commands()
            if not isinstance(command, app_commands.Group) and isinstance(command, app_commands.Command)
        }
    assert len(overview.embeds[0]["fields"]) <= 25  # one embed, however many subcommands there are
    assert leaves == {field["name"] for answer in details for field in answer.embeds[0]["fields"]}
    assert "fly" in unknown.content and unknown.ephemeral


async def test_commands_are_synced_with_korean_localizations(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        commands = {command["name"]: command for command in running.fake.commands()}
    assert {"help", "explain", "language", "usage", "budget", "Explain this message"} <= set(commands)
    assert commands["explain"]["description_localizations"]["ko"].startswith("주제를")
    assert commands["Explain this message"]["name_localizations"]["ko"] == "이 메시지 설명하기"
    topic = next(option for option in commands["explain"]["options"] if option["name"] == "topic")
    assert "쉼표" in topic["description_localizations"]["ko"]


async def test_an_unchanged_command_tree_is_not_synced_again(tmp_path: Path) -> None:
    async with running_fake_discord() as fake:
        World.build(fake)
        for _ in range(2):
            bot = StudyBuddy(await build_services(settings_for(tmp_path, fake, None)))
            async with start_bot(fake, bot):
                pass
        assert fake.sync_count == 1


async def test_a_reply_streams_through_several_edits(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.05) as running:
        running.bot.services.edits.min_interval = 0.2
        running.llm.queue(Reply(text=" ".join(f"word{n}" for n in range(60))))
        [answer] = await running.answer(running.world.alice, "explain", topic="EC2")
    assert answer.content == " ".join(f"word{n}" for n in range(60))
    assert len(answer.edits) >= 3, answer.edits
    assert all(" ▌" in previous for previous in answer.edits[1:])


async def test_a_429_from_discord_is_retried_by_the_client(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        running.fake.fail_next("PATCH", r"/webhooks/.*/messages/@original", status=429, count=1)
        running.llm.queue(Reply(text="EC2 is a virtual server."))
        [answer] = await running.answer(running.world.alice, "explain", topic="EC2")
        assert running.fake.count_429 == 1
    assert answer.content == "EC2 is a virtual server."


async def test_a_late_acknowledgement_is_rejected_and_the_bot_carries_on(
    studybuddy: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeDiscord(ack_deadline_s=0.0)
    async with studybuddy(fake=fake) as running:
        late = await running.fake.slash(running.world.bob, running.world.study, "help")
        await late.wait_callback()
        assert late.ack_error is not None and "10062" in late.ack_error
        fake.ack_deadline_s = 3.0
        [answer] = await running.run(running.world.bob, "help")
    assert answer.embeds


async def test_without_a_model_llm_commands_answer_politely(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        [answer] = await running.run(running.world.bob, "explain", topic="EC2")
        assert running.llm.requests == []
    assert answer.ephemeral
    assert "OPENAI_API_KEY" in answer.content


async def test_an_unexpected_error_shows_an_error_id_and_logs_it(
    studybuddy: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with studybuddy() as running:

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("database on fire")

        running.bot.services.usage.report = broken  # type: ignore[method-assign]
        with caplog.at_level(logging.ERROR):
            [answer] = await running.run(running.world.moderator, "usage")
    error_id = answer.content.split("`")[1]
    assert len(error_id) == 8
    assert any(error_id in record.getMessage() and record.exc_info for record in caplog.records)
    assert "database on fire" not in answer.content


async def test_a_moderator_sets_the_server_language(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        [done] = await running.run(running.world.moderator, "language", language="en")
        [help_for_korean_member] = await running.run(running.world.alice, "help")
        [refused] = await running.run(running.world.alice, "language", language="ko")
    assert "English" in done.content or "영어" in done.content
    assert help_for_korean_member.embeds[0]["title"] == "StudyBuddy commands"
    assert refused.ephemeral and "manage_guild" in refused.content


async def test_a_moderator_sets_the_server_time_zone_and_the_days_follow_it(studybuddy: BotFactory) -> None:
    """The fake clock starts at 2026-11-25 00:00 UTC: 09:00 in Seoul, still the 24th in New York."""
    async with studybuddy(llm=False) as running:
        world = running.world
        til = running.bot.services.til
        seoul_day = await til.today(world.guild.id, world.alice.id)
        [done] = await running.run(world.moderator, "timezone", name="america/new_york")
        new_york_day = await til.today(world.guild.id, world.alice.id)
        [unknown] = await running.run(world.moderator, "timezone", name="Mars/Olympus")
        [refused] = await running.run(world.alice, "timezone", name="UTC")
        kept = await running.bot.services.server_time.timezone(world.guild.id)
    assert (seoul_day.isoformat(), new_york_day.isoformat()) == ("2026-11-25", "2026-11-24")
    assert done.ephemeral and "America/New_York" in done.content
    assert unknown.ephemeral and "Mars/Olympus" in unknown.content
    assert refused.ephemeral and "manage_guild" in refused.content and kept == "America/New_York"


async def test_the_bot_never_asks_to_ping_anyone(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        running.llm.queue(Reply(text="Hey @everyone and @here, <@&123> and <@456> look!"))
        [answer] = await running.answer(running.world.alice, "explain", topic="mentions")
    assert "@everyone" in answer.content
    sent = [request for request in running.fake.requests if request.json and "content" in request.json]
    assert sent
    for request in sent:
        mentions = request.json.get("allowed_mentions")
        assert mentions is not None, request.path
        assert mentions.get("parse") == [] and not mentions.get("roles") and not mentions.get("users")
