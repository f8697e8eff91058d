"""Explanations end to end: the real discord.py client and ChatOpenAI against the fake Discord and OpenAI."""

from __future__ import annotations

import asyncio
import re

import discord
import pytest

from bot.devtools.fake_discord import FakeMessage, FakeUser
from tests.e2e.conftest import BotFactory, Running
from tests.fakes.openai_script import Fault, Reply, expected_answer

STOP = re.compile(r"^stream:stop:\d+$")


def stop_button(message: FakeMessage) -> str:
    found = [custom_id for _, custom_id, _ in message.buttons if custom_id and STOP.match(custom_id)]
    assert found, f"no Stop button on {message!r}"
    return found[0]


async def first_visible(running: Running, interaction_id: int) -> FakeMessage:
    """The interaction's answer once the model's first words are on screen (the cursor is showing)."""
    return await running.fake.wait_for_message(
        lambda m: m.interaction_id == interaction_id and "▌" in m.content, timeout=10
    )


async def dm(running: Running, user: FakeUser, text: str) -> list[FakeMessage]:
    """`user` DMs the bot; the bot's messages in that DM once the streamed answer is final."""
    finished = running.bot.services.streams.finished
    await running.fake.dm(user, text)
    await running.streams_finished(finished + 1)
    bot_id = running.fake.bot_user.id
    return [m for m in running.fake.channel_messages(running.fake.dm_channel(user)) if m.author_id == bot_id]


async def test_explain_streams_the_exact_answer(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.01) as running:
        [answer] = await running.answer(running.world.alice, "explain", topic="EC2 Auto Scaling", how="쉽게")
        [request] = running.llm.requests
    assert request.stream and request.include_usage
    assert request.messages[-1]["content"] == "EC2 Auto Scaling에 대해 쉽게 설명해주세요."
    assert answer.content == expected_answer(request.prompt_text, running.llm.tokens)
    assert answer.components == []  # the Stop button is gone once the answer is done


async def test_usage_is_recorded_per_user_and_shown_to_admins(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        await running.answer(running.world.alice, "explain", topic="EBS")
        [report] = await running.run(running.world.moderator, "usage")
    assert report.ephemeral
    description = report.embeds[0]["description"]
    assert f"<@{running.world.alice.id}>" in description
    assert "1 " in description or "1회" in description


async def test_a_long_answer_continues_in_follow_up_messages_with_code_fences_intact(studybuddy: BotFactory) -> None:
    paragraphs = [f"Paragraph {n}: " + "EC2 instances scale out behind a load balancer. " * 12 for n in range(6)]
    code = "```python\n" + "\n".join(f"print('line {n}')  # keep going" for n in range(60)) + "\n```"
    text = "\n\n".join([*paragraphs[:3], code, *paragraphs[3:]])
    async with studybuddy() as running:
        running.llm.queue(Reply(text=text))
        pages = await running.answer(running.world.alice, "explain", topic="Auto Scaling")
    assert len(pages) >= 3
    for page in pages:
        assert 0 < len(page.content) <= 2000
        assert page.content.count("```") % 2 == 0, page.content  # every page renders on its own
        assert not page.content.endswith("▌")
    rebuilt = "\n".join(page.content for page in pages)
    for piece in (*paragraphs, *(f"print('line {n}')" for n in range(60))):
        assert piece.strip()[:60] in rebuilt
    assert all(word in rebuilt for word in text.split() if word != "```python" and word != "```")


@pytest.mark.parametrize(
    ("faults", "notice"),
    [
        ([Fault.status(429, retry_after_s=0.01)] * 2, "바빠요"),
        ([Fault.status(500)] * 2, "오류"),
        (
            [Fault.cut_after(5, reply=Reply(text="EC2 is a virtual server in the AWS cloud, billed per second."))],
            "끊겼",
        ),
        ([Fault.malformed_after(3, reply=Reply(text="EC2 is a virtual server in the AWS cloud."))], "오류"),
        ([Fault.hang()] * 2, "늦어"),
    ],
    ids=["model-429", "model-500", "stream-cut", "malformed-chunk", "timeout"],
)
async def test_model_faults_end_cleanly_with_what_arrived_and_a_notice(
    studybuddy: BotFactory, faults: list[Fault], notice: str
) -> None:
    async with studybuddy(llm_timeout_s=0.5) as running:
        running.llm.queue(*faults)
        [answer] = await running.answer(running.world.alice, "explain", topic="EC2")
        [again] = await running.answer(running.world.alice, "explain", topic="EC2")
    assert notice in answer.content
    if "cut" in repr(faults[0]) or "malformed" in repr(faults[0]):
        assert answer.content.startswith("EC2 is")
    assert answer.components == []
    assert "⚠️" not in again.content  # the user can simply try again


async def test_length_finish_is_shown_as_truncated_and_missing_finish_reason_still_ends(
    studybuddy: BotFactory,
) -> None:
    async with studybuddy() as running:
        running.llm.queue(Reply(text="Cut short by the model", finish_reason="length"))
        [cut] = await running.answer(running.world.alice, "explain", topic="EC2")
        running.llm.queue(Reply(text="No finish reason at all", finish_reason=None))
        [unfinished] = await running.answer(running.world.alice, "explain", topic="EBS")
    assert cut.content.startswith("Cut short by the model") and "✂️" in cut.content
    assert unfinished.content == "No finish reason at all"


async def test_reasoning_blocks_are_not_shown(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.005) as running:
        running.llm.queue(Reply(text="EBS is block storage.", think="Let me think about volumes..."))
        [answer] = await running.answer(running.world.alice, "explain", topic="EBS")
    assert answer.content == "EBS is block storage."
    assert all("think" not in previous for previous in answer.edits)


async def test_a_message_deleted_mid_stream_cancels_the_model_call(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.05, tokens=120) as running:
        finished = running.bot.services.streams.finished
        interaction = await running.start(running.world.alice, "explain", topic="CloudWatch")
        shown = await first_visible(running, interaction.id)
        running.fake.delete_message(shown)
        await running.streams_finished(finished + 1)
        await running.llm.wait_until(lambda: running.llm.disconnects == 1)
        assert running.llm.completed == 0


async def test_permission_lost_mid_stream_in_dms_cancels_cleanly(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.05, tokens=120) as running:
        finished = running.bot.services.streams.finished
        await running.fake.dm(running.world.bob, "What is an AMI?")
        await running.fake.wait_for_message(
            lambda m: m.author_id == running.fake.bot_user.id and "▌" in m.content, timeout=10
        )
        running.fake.close_dms(running.world.bob)
        await running.streams_finished(finished + 1)
        await running.llm.wait_until(lambda: running.llm.disconnects == 1)
        [help_still_works] = await running.run(running.world.bob, "help")
    assert help_still_works.embeds


async def test_only_the_requester_or_a_moderator_can_stop(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.05, tokens=120) as running:
        finished = running.bot.services.streams.finished
        interaction = await running.start(running.world.alice, "explain", topic="ELB")
        shown = await first_visible(running, interaction.id)
        refused = await running.fake.click(running.world.bob, shown, stop_button(shown))
        [refusal] = await refused.settled(quiet=0.05)
        assert refusal.ephemeral and "Only the person who asked" in refusal.content
        stopped = await running.fake.click(running.world.alice, shown, stop_button(shown))
        await stopped.wait_acked()
        await running.streams_finished(finished + 1)
        [answer] = await interaction.settled(quiet=0.05)
        await running.llm.wait_until(lambda: running.llm.disconnects == 1)
        late = await running.fake.click(running.world.alice, shown, 0) if answer.buttons else None

        # A moderator may stop someone else's answer, and the answer says who did.
        second = await running.start(running.world.bob, "explain", topic="EBS")
        shown = await first_visible(running, second.id)
        await (await running.fake.click(running.world.moderator, shown, stop_button(shown))).wait_acked()
        await running.streams_finished(finished + 2)
        [by_moderator] = await second.settled(quiet=0.05)
    assert late is None
    assert answer.content.startswith("Answer about") and "중지됨" in answer.content
    assert answer.components == []
    assert by_moderator.content.startswith("Answer") and "Stopped by mod" in by_moderator.content


async def test_a_click_on_stop_after_a_restart_is_answered_politely(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.05, tokens=120) as running:
        interaction = await running.start(running.world.alice, "explain", topic="VPC")
        shown = await first_visible(running, interaction.id)
        snapshot = FakeMessage(**{**shown.__dict__, "components": list(shown.components)})
        await running.streams_finished(running.bot.services.streams.finished + 1)
        click = await running.fake.click(running.world.alice, snapshot, stop_button(snapshot))
        [reply] = await click.settled(quiet=0.05)
    assert reply.ephemeral and "이미 끝났어요" in reply.content


async def test_dm_conversation_keeps_context_and_can_start_over(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        alice = running.world.alice
        first = await dm(running, alice, "EBS가 뭐야?")
        second = await dm(running, alice, "스냅샷은?")
        assert [len(r.messages) for r in running.llm.requests] == [2, 4]  # system + history + question
        assert running.llm.requests[1].messages[1]["content"] == "EBS가 뭐야?"
        reset = await running.fake.click(alice, second[-1], "dm:reset")
        [reset_reply] = await reset.settled(quiet=0.05)
        await dm(running, alice, "EC2는?")
        assert len(running.llm.requests[2].messages) == 2
    assert first[-1].content == expected_answer("EBS가 뭐야?", running.llm.tokens)
    assert [label for label, _, _ in second[-1].buttons] == ["새 대화"]
    assert "새로 시작" in reset_reply.content


async def test_private_answers_go_to_dms_or_stay_ephemeral_when_dms_are_closed(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        [pointer] = await running.answer(running.world.alice, "explain", topic="IAM", private=True)
        dm_messages = running.fake.channel_messages(running.fake.dm_channel(running.world.alice))
        running.fake.close_dms(running.world.bob)
        [ephemeral] = await running.answer(running.world.bob, "explain", topic="IAM", private=True)
    assert pointer.ephemeral and "DM" in pointer.content
    assert dm_messages[-1].content.startswith("Answer about")
    assert ephemeral.ephemeral and ephemeral.content.startswith("Answer about")


async def test_explain_this_message_answers_privately(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        posted = await running.fake.post_message(running.world.bob, running.world.study, "LCEL uses the | operator")
        finished = running.bot.services.streams.finished
        interaction = await running.fake.message_command(
            running.world.alice, running.world.study, "Explain this message", target=posted
        )
        await running.streams_finished(finished + 1)
        [answer] = await interaction.settled(quiet=0.05)
    assert answer.ephemeral
    assert "LCEL uses the | operator" in running.llm.requests[0].prompt_text


async def test_aspects_are_written_in_parallel_and_shown_as_sections(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.01) as running:
        [answer] = await running.answer(running.world.alice, "explain", topic="EC2", aspects="all")
        assert running.llm.max_in_flight == 4
    headings = re.findall(r"^## (.+)$", answer.content, flags=re.MULTILINE)
    assert headings == ["개념", "예시", "헷갈리기 쉬운 점", "시험 팁"]


async def test_several_topics_are_batched_with_bounded_concurrency(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.01) as running:
        pages = await running.answer(running.world.bob, "explain", topic="EC2, EBS, ELB, CloudWatch, EC2")
        assert running.llm.max_in_flight <= 3
        assert len(running.llm.requests) == 4
    text = "\n".join(page.content for page in pages)
    assert re.findall(r"^## (.+)$", text, flags=re.MULTILINE) == ["EC2", "EBS", "ELB", "CloudWatch"]


@pytest.mark.parametrize(
    ("topic", "message"),
    [("   ", "주제를 입력"), ("\u200b\u200b", "주제를 입력"), ("x" * 201, "200자"), (", ,", "주제를 입력")],
    ids=["whitespace", "zero-width", "over-long", "only-separators"],
)
async def test_bad_topics_get_a_clear_error_and_no_model_call(studybuddy: BotFactory, topic: str, message: str) -> None:
    async with studybuddy() as running:
        [answer] = await running.run(running.world.alice, "explain", topic=topic)
        assert running.llm.requests == []
    assert answer.ephemeral and message in answer.content


async def test_one_generation_at_a_time_per_member_and_a_cooldown(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.05, tokens=120, user_cooldown_s=60) as running:
        first = await running.start(running.world.bob, "explain", topic="EC2")
        [busy] = await running.run(running.world.bob, "explain", topic="EBS")
        await first_visible(running, first.id)
        await running.streams_finished(running.bot.services.streams.finished + 1)
        [cooldown] = await running.run(running.world.bob, "explain", topic="EBS")
        assert len(running.llm.requests) == 1
    assert busy.ephemeral and "previous answer" in busy.content
    assert cooldown.ephemeral and re.search(r"try again in \d+ s", cooldown.content)


async def test_requests_beyond_capacity_wait_in_a_visible_queue(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.02, max_concurrent_generations=1) as running:
        finished = running.bot.services.streams.finished
        first = await running.start(running.world.alice, "explain", topic="EC2")
        second = await running.start(running.world.bob, "explain", topic="EBS")
        queued = (
            await running.fake.wait_for_message(
                lambda m: m.interaction_id == second.id and "Queued" in m.content, timeout=5
            )
        ).content
        await running.streams_finished(finished + 2)
        [done] = await second.settled(quiet=0.05)
        assert running.llm.max_in_flight == 1
        assert (await first.settled(quiet=0.05))[0].content.startswith("Answer about")
    assert "#1 in line" in queued
    assert done.content.startswith("Answer about")


async def test_budget_exceeded_means_a_clear_message_and_no_model_call(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        [set_budget] = await running.run(running.world.moderator, "budget", server_daily=0, member_daily=10)
        await running.answer(running.world.bob, "explain", topic="EC2")
        [over] = await running.run(running.world.bob, "explain", topic="EBS")
        [refused] = await running.run(running.world.bob, "budget", server_daily=1, member_daily=1)
        assert len(running.llm.requests) == 1
    assert "10" in set_budget.content
    assert over.ephemeral and "budget (10 tokens)" in over.content
    assert refused.ephemeral and "manage_guild" in refused.content


async def test_shutdown_marks_answers_in_progress_as_interrupted(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.05, tokens=120) as running:
        interaction = await running.start(running.world.bob, "explain", topic="S3")
        await first_visible(running, interaction.id)
        await running.bot.close()
        [answer] = await interaction.settled(quiet=0.05)
        assert running.bot.is_closed()
    assert answer.content.startswith("Answer") and "restarting" in answer.content


async def test_many_members_streaming_in_one_channel_never_provoke_a_429(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.02) as running:
        members = [running.fake.add_member(running.world.guild, f"member{n}") for n in range(12)]
        await running.fake.wait_for_guild_member_count(running.world.guild, 15) if hasattr(
            running.fake, "wait_for_guild_member_count"
        ) else None
        finished = running.bot.services.streams.finished
        interactions = await asyncio.gather(
            *(
                running.fake.slash(member, running.world.study, "explain", topic=f"topic {n}")
                for n, member in enumerate(members)
            )
        )
        await running.streams_finished(finished + len(members))
        answers = [await interaction.settled(quiet=0.05) for interaction in interactions]
        assert running.fake.count_429 == 0
    for n, (interaction, [answer]) in enumerate(zip(interactions, answers, strict=True)):
        assert answer.content.startswith(f"Answer about: Please explain topic {n} ")
        assert interaction.acked_after_ms is not None and interaction.acked_after_ms < 1000


async def test_dm_ephemeral_flags_are_not_used_outside_interactions(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        messages = await dm(running, running.world.bob, "what is EBS?")
    assert all(not message.ephemeral for message in messages)
    assert all(
        message.allowed_mentions == {"parse": []} or message.allowed_mentions.get("parse") == [] for message in messages
    )
    assert isinstance(discord.AllowedMentions.none().to_dict(), dict)
