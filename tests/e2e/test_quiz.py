"""Quizzes end to end: the real discord.py client against the fake Discord, time moved by hand."""

from __future__ import annotations

import asyncio
import copy
import re
from datetime import timedelta

from bot.devtools.fake_discord import FakeMessage, FakeUser
from tests.e2e.conftest import SCHEDULERS, BotFactory, Running
from tests.fakes.openai_script import Reply

CHOICE = re.compile(r"^quiz:(\d+):(\d+):(\d)$")

CHOICE_BANK = """
bank: test-cloud
name: {ko: "테스트 클라우드", en: "Test cloud"}
topic: cloud
version: 1
questions:
""" + "".join(
    f"""
  - id: q{number}
    language: {language}
    tags: [ec2]
    difficulty: 1
    type: choice
    question: "{language} question {number}: which service runs virtual servers?"
    choices: ["EC2", "S3", "IAM", "CloudWatch"]
    answer: 0
    explanation: "EC2 (Elastic Compute Cloud) runs virtual servers; S3 stores objects."
"""
    for number in range(3)
    for language in ("ko", "en")
)


async def choice_bank(running: Running) -> str:
    """A small bank of multiple-choice questions only, so a test never draws a free-answer one."""
    await running.bot.services.quiz_catalog.import_bank(
        running.world.guild.id, running.world.moderator.id, CHOICE_BANK.encode(), "test-cloud.yaml", language="ko"
    )
    return "cloud"


async def question_message(running: Running, position: int = 0) -> FakeMessage:
    """The channel message showing question `position` (0-based) with its answer buttons."""
    return await running.fake.wait_for_message(
        lambda m: (
            bool(m.buttons) and any(CHOICE.match(c or "") and c.split(":")[2] == str(position) for _, c, _ in m.buttons)
        ),
        timeout=10,
    )


def session_of(message: FakeMessage) -> int:
    for _, custom_id, _ in message.buttons:
        match = CHOICE.match(custom_id or "")
        if match:
            return int(match[1])
    raise AssertionError(f"no answer buttons on {message!r}")


async def correct_choice(running: Running, session_id: int) -> int:
    current = await running.bot.services.quiz_sessions.open_question(session_id)
    assert current is not None and current.question.answer_index is not None
    return current.question.answer_index


async def click(running: Running, user: FakeUser, message: FakeMessage, choice: int) -> str:
    """`user` presses choice `choice`; what the bot tells them."""
    interaction = await running.fake.click(
        user, message, f"quiz:{session_of(message)}:{message_position(message)}:{choice}"
    )
    [reply] = await interaction.settled(quiet=0.05)
    return reply.content


def message_position(message: FakeMessage) -> int:
    for _, custom_id, _ in message.buttons:
        match = CHOICE.match(custom_id or "")
        if match:
            return int(match[2])
    raise AssertionError("no position")


async def next_question_after_reading(running: Running) -> None:
    """The quiz pauses after a reveal so the explanation can be read; move time past that pause."""
    async with asyncio.timeout(10):
        await running.clock.wait_for_sleepers(SCHEDULERS + 1)  # the quiz timer, and the schedulers that always wait
    running.clock.advance(timedelta(seconds=5))


async def revealed(running: Running, message: FakeMessage) -> FakeMessage:
    """Waits until the question message shows its answer (the reveal replaces the choices with Explain more)."""
    return await running.fake.wait_for_message(
        lambda m: m.id == message.id and any((c or "").endswith(":more") for _, c, _ in m.buttons), timeout=10
    )


async def test_a_full_quiz_with_several_members(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        topic = await choice_bank(running)
        world = running.world
        [started] = await running.run(world.alice, "quiz start", topic=topic, count=2, seconds=10)
        first = await question_message(running, 0)
        stale_first = copy.deepcopy(first)  # what a member whose client did not refresh still sees
        session_id = session_of(first)
        right = await correct_choice(running, session_id)
        wrong = (right + 1) % len(first.buttons)
        alice_reply = await click(running, world.alice, first, right)
        bob_reply = await click(running, world.bob, first, wrong)
        again = await click(running, world.bob, first, right)
        running.clock.advance(timedelta(seconds=11))
        shown = await revealed(running, first)
        await next_question_after_reading(running)
        second = await question_message(running, 1)
        right_second = await correct_choice(running, session_id)
        await click(running, world.bob, second, right_second)
        late = await click(running, world.bob, stale_first, right)
        running.clock.advance(timedelta(seconds=11))
        await revealed(running, second)
        await next_question_after_reading(running)
        board = await running.fake.wait_for_message(
            lambda m: bool(m.embeds) and "🥇" in (m.embeds[0].get("description") or ""), timeout=10
        )
    assert "2" in started.content
    assert "기록했어요" in alice_reply and "is in" in bob_reply
    assert "already" in again
    answer_field = shown.embeds[0]["fields"]
    assert any(f"<@{world.alice.id}>" in field["value"] for field in answer_field)
    assert all(f"<@{world.bob.id}>" not in field["value"] for field in answer_field)
    assert "closed" in late
    lines = board.embeds[0]["description"].splitlines()
    assert len(lines) == 2  # both played; nobody is pinged by a scoreboard
    assert all(m.allowed_mentions is None or m.allowed_mentions.get("parse") == [] for m in [board, shown])


async def test_only_the_starter_or_a_moderator_can_stop_a_quiz(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        topic = await choice_bank(running)
        world = running.world
        await running.run(world.alice, "quiz start", topic=topic, count=3, seconds=30)
        await question_message(running, 0)
        [refused] = await running.run(world.bob, "quiz stop")
        [stopped] = await running.run(world.moderator, "quiz stop")
        board = await running.fake.wait_for_message(
            lambda m: bool(m.embeds) and "⏹️" in (m.embeds[0].get("title") or ""), timeout=10
        )
        [nothing] = await running.run(world.bob, "quiz stop")
    assert refused.ephemeral and "Only the person who started" in refused.content
    assert "멈췄어요" in stopped.content
    assert "cloud" in board.embeds[0]["title"]
    assert nothing.ephemeral and "No quiz" in nothing.content


async def test_one_quiz_per_channel_but_solo_quizzes_are_fine(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        world = running.world
        await running.run(world.alice, "quiz start", topic="aws", count=2)
        [busy] = await running.run(world.bob, "quiz start", topic="adsp", count=2)
        [solo] = await running.run(world.bob, "quiz solo", topic="adsp", count=1)
    assert busy.ephemeral and "already running" in busy.content
    assert solo.ephemeral and solo.buttons


async def test_buttons_and_timers_keep_working_after_a_restart(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        topic = await choice_bank(running)
        world = running.world
        await running.run(world.alice, "quiz start", topic=topic, count=2, seconds=20)
        first = await question_message(running, 0)
        right = await correct_choice(running, session_of(first))
        await running.restart()
        after_restart = await click(running, world.bob, first, right)
        running.clock.advance(timedelta(seconds=21))
        shown = await revealed(running, first)
        await next_question_after_reading(running)
        await question_message(running, 1)
    assert "is in" in after_restart
    assert any(f"<@{world.bob.id}>" in field["value"] for field in shown.embeds[0]["fields"])


async def test_a_solo_quiz_goes_at_the_members_pace(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        topic = await choice_bank(running)
        bob = running.world.bob
        [question] = await running.run(bob, "quiz solo", topic=topic, count=2)
        session_id = session_of(question)
        right = await correct_choice(running, session_id)
        answered = await running.fake.click(bob, question, f"quiz:{session_id}:0:{right}")
        [reveal] = await answered.settled(quiet=0.05)
        assert "Correct" in reveal.embeds[0]["description"]
        was_ephemeral = question.ephemeral
        nxt = await running.fake.click(bob, reveal, f"quiz:{session_id}:0:next")
        [second] = await nxt.settled(quiet=0.05)
        wrong = (await correct_choice(running, session_id) + 1) % 2
        answered = await running.fake.click(bob, second, f"quiz:{session_id}:1:{wrong}")
        [reveal] = await answered.settled(quiet=0.05)
        second_verdict = reveal.embeds[0]["description"]
        score = await running.fake.click(bob, reveal, f"quiz:{session_id}:1:next")
        [board] = await score.settled(quiet=0.05)
    assert was_ephemeral and "Not quite" in second_verdict
    assert f"<@{bob.id}> — 1/2" in board.embeds[0]["description"]
    assert board.components == []


async def test_leaderboard_and_stats_after_known_answers(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        topic = await choice_bank(running)
        world = running.world
        await running.run(world.alice, "quiz start", topic=topic, count=1, seconds=10)
        first = await question_message(running, 0)
        right = await correct_choice(running, session_of(first))
        await click(running, world.alice, first, right)
        await click(running, world.bob, first, (right + 1) % len(first.buttons))
        running.clock.advance(timedelta(seconds=11))
        await revealed(running, first)
        [board] = await running.run(world.bob, "quiz leaderboard", period="week")
        [stats] = await running.run(world.bob, "quiz stats", user=world.alice)
    lines = board.embeds[0]["description"].splitlines()
    assert lines[0].startswith("**1.**") and f"<@{world.alice.id}>" in lines[0] and "(100%)" in lines[0]
    assert f"<@{world.bob.id}>" in lines[1] and "(0%)" in lines[1]
    assert "1 answered · 1 right · 100% accuracy" in stats.embeds[0]["description"]
    assert "**cloud**: 100% (1/1)" in stats.embeds[0]["description"]
    [chart] = stats.attachments
    assert chart["filename"] == "stats.png" and chart["data"].startswith(b"\x89PNG")


async def test_a_missed_question_comes_back_for_review(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        topic = await choice_bank(running)
        world = running.world
        await running.run(world.alice, "quiz start", topic=topic, count=1, seconds=10)
        first = await question_message(running, 0)
        right = await correct_choice(running, session_of(first))
        await click(running, world.bob, first, (right + 1) % len(first.buttons))
        running.clock.advance(timedelta(seconds=11))
        await revealed(running, first)
        [nothing_yet] = await running.run(world.bob, "quiz review")
        running.clock.advance(timedelta(minutes=11))
        [review] = await running.run(world.bob, "quiz review")
        review_title = review.embeds[0]["title"]
        digest_button = next(c for _, c, _ in review.buttons if c and c.startswith("quiz:review:"))
        digest = digest_button.split(":")[2]
        answered = await running.fake.click(world.bob, review, f"quiz:review:{digest}:{right}")
        [result] = await answered.settled(quiet=0.05)
        [done] = await running.run(world.bob, "quiz review")
    assert "Nothing to review" in nothing_yet.embeds[0]["description"]
    assert review.ephemeral and "Review" in review_title
    assert "Correct" in result.embeds[0]["title"]
    assert "Nothing to review" in done.embeds[0]["description"]


FREE_BANK = b"""
bank: cloud-words
name: {ko: "\xed\x81\xb4\xeb\x9d\xbc\xec\x9a\xb0\xeb\x93\x9c \xec\x9a\xa9\xec\x96\xb4", en: "Cloud words"}
topic: cloudwords
version: 1
questions:
  - id: monitoring
    language: en
    tags: [cloudwatch]
    difficulty: 1
    type: free
    question: "Which AWS service collects metrics and raises alarms?"
    answers: ["CloudWatch", "Amazon CloudWatch"]
    explanation: "CloudWatch collects metrics, logs and events, and alarms act on thresholds."
"""


async def test_imported_free_answer_questions_are_answered_in_a_modal(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        world = running.world
        [imported] = await running.run(world.moderator, "quiz bank import", file=("cloud.yaml", FREE_BANK))
        [refused] = await running.run(world.bob, "quiz bank import", file=("cloud.yaml", FREE_BANK))
        await running.run(world.bob, "quiz start", topic="cloudwords", count=1, seconds=10, locale="en-US")
        question = await running.fake.wait_for_message(
            lambda m: any((c or "").endswith(":free") for _, c, _ in m.buttons), timeout=10
        )
        opened = await running.fake.click(world.alice, question, 0)
        modal = await opened.wait_acked()
        submitted = await running.fake.submit_modal(world.alice, opened, {"answer": "cloudwach"})
        [reply] = await submitted.settled(quiet=0.05)
        running.clock.advance(timedelta(seconds=11))
        shown = await revealed(running, question)
    assert "cloud-words" in imported.content and "1" in imported.content
    assert refused.ephemeral and "quizmaster role" in refused.content
    assert modal == 9
    assert "cloudwach" in reply.content
    assert any(f"<@{world.alice.id}>" in field["value"] for field in shown.embeds[0]["fields"])
    assert any("CloudWatch" in field["value"] for field in shown.embeds[0]["fields"])


async def test_bad_bank_files_are_refused_with_precise_errors(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        mod = running.world.moderator
        [binary] = await running.run(mod, "quiz bank import", file=("bank.yaml", b"\x89PNG\r\n\x1a\n\x00\x00"))
        [huge] = await running.run(mod, "quiz bank import", file=("bank.yaml", b"q" * 5_000_000))
        broken = FREE_BANK.replace(b"type: free", b"type: essay")
        [invalid] = await running.run(mod, "quiz bank import", file=("bank.yaml", broken))
        [listing] = await running.run(mod, "quiz bank list")
    assert binary.ephemeral and "text" in binary.content
    assert huge.ephemeral and "1000" in huge.content
    assert "monitoring" in invalid.content and "type" in invalid.content
    assert "cloud-words" not in listing.content and "`aws`" in listing.content


async def test_explain_more_streams_once_and_is_cached(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        topic = await choice_bank(running)
        world = running.world
        await running.run(world.alice, "quiz start", topic=topic, count=1, seconds=10)
        first = await question_message(running, 0)
        session_id = session_of(first)
        running.clock.advance(timedelta(seconds=11))
        shown = await revealed(running, first)
        running.llm.queue(Reply(text="A deeper look at this question."))
        finished = running.bot.services.streams.finished
        more = await running.fake.click(world.alice, shown, f"quiz:{session_id}:0:more")
        await running.streams_finished(finished + 1)
        [deeper] = await more.settled(quiet=0.05)
        again = await running.fake.click(world.moderator, shown, f"quiz:{session_id}:0:more")
        [cached] = await again.settled(quiet=0.05)
        assert len(running.llm.requests) == 1
    assert deeper.ephemeral and deeper.content == "A deeper look at this question."
    assert cached.ephemeral and cached.content == "A deeper look at this question."


GENERATED = (
    '{"question": "Which EBS volume type is backed by SSD for general purpose?", '
    '"choices": ["gp3", "st1", "sc1", "standard"], "answer": 0, '
    '"explanation": "gp3 is the general purpose SSD type.", "difficulty": 1, "tags": ["ebs"]}'
)


async def test_generated_questions_wait_for_approval(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        mod = running.world.moderator
        running.llm.queue(Reply(text=GENERATED), Reply(text="not json at all"), Reply(text="still not json"))
        [drafts] = await running.run(mod, "quiz generate", topic="EBS", count=2, quiet=0.5)
        approve = await running.fake.click(mod, drafts, 0)
        [approved] = await approve.settled(quiet=0.05)
        [listing] = await running.run(mod, "quiz bank list")
    assert "1" in drafts.embeds[0]["title"] and "gp3" in drafts.embeds[0]["description"]
    assert "1" in approved.content and approved.components == []
    assert "generated" in listing.content


async def test_a_quizmaster_role_may_manage_banks_without_manage_server(studybuddy: BotFactory) -> None:
    async with studybuddy() as running:
        world = running.world
        quizmasters = running.fake.add_role(world.guild, "Quizmasters")
        helper = running.fake.add_member(world.guild, "helper", roles=[quizmasters])
        [before] = await running.run(helper, "quiz bank disable", bank="aws")
        [not_allowed] = await running.run(world.bob, "quiz quizmaster", role=quizmasters)
        [chosen] = await running.run(world.moderator, "quiz quizmaster", role=quizmasters)
        [after] = await running.run(helper, "quiz bank disable", bank="aws")
        [listing] = await running.run(helper, "quiz bank list")
    assert before.ephemeral and "quizmaster role" in before.content
    assert not_allowed.ephemeral and "manage_guild" in not_allowed.content
    assert f"<@&{quizmasters.id}>" in chosen.content
    assert "`aws` is off" in after.content
    assert "⛔ `aws`" in listing.content


async def test_explain_more_without_a_model_answers_politely(studybuddy: BotFactory) -> None:
    """A button callback error used to surface as "This interaction failed"; now it is a short message."""
    async with studybuddy(llm=False) as running:
        topic = await choice_bank(running)
        await running.run(running.world.alice, "quiz start", topic=topic, count=1, seconds=10)
        first = await question_message(running, 0)
        session_id = session_of(first)
        running.clock.advance(timedelta(seconds=11))
        shown = await revealed(running, first)
        more = await running.fake.click(running.world.bob, shown, f"quiz:{session_id}:0:more")
        [reply] = await more.settled(quiet=0.05)
    assert reply.ephemeral and "OPENAI_API_KEY" in reply.content
