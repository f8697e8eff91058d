"""TIL end to end: /til through the real discord.py client against the fake Discord, time moved by hand.

The fake clock starts at 2026-11-25 00:00 UTC, which is 09:00 in Seoul (the default time zone). alice and the
moderator read Korean, bob English.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.devtools.fake_discord import FakeChannel, FakeDiscord, FakeMessage, FakeUser
from bot.services.til.export import ExportFile, parse_export
from bot.services.til.importing import MAX_FILE_BYTES
from bot.services.til.model import LIMITS, Section, TilDraft, clean_draft, form_limit
from tests.e2e.conftest import SCHEDULERS, BotFactory, Running
from tests.e2e.test_daily import daily_question
from tests.e2e.test_daily import set_up as set_up_daily
from tests.fakes.openai_script import Reply, expected_answer

EC2 = "EC2 (Elastic Compute Cloud): AWS에서 제공하는 가상 서버 서비스. 인스턴스를 필요할 때 만들고 종료한다."
LCEL = "LCEL: prompt | model | StrOutputParser() 로 체인을 만든다. invoke, stream, batch를 쓸 수 있다."
JUMP = re.compile(r"https://discord\.com/channels/(\d+)/(\d+)/(\d+)")


async def set_channel(running: Running, channel: FakeChannel, **options: Any) -> FakeMessage:
    [reply] = await running.run(running.world.moderator, "til setup", channel=channel, **options)
    return reply


async def post(
    running: Running, user: FakeUser, values: dict[str, str], *, where: FakeChannel | None = None, **options: Any
) -> FakeMessage:
    """`user` opens /til post, fills the form with `values` (by field id) and submits; the bot's answer."""
    opened = await running.fake.slash(user, where or running.world.study, "til post", **options)
    assert await opened.wait_acked() == 9  # a modal
    submitted = await running.fake.submit_modal(user, opened, values)
    await submitted.wait_acked()
    [reply] = await submitted.settled(quiet=0.2)
    return reply


def public(running: Running, channel: FakeChannel) -> list[FakeMessage]:
    return [m for m in running.fake.channel_messages(channel) if not m.ephemeral]


def post_id(reply: FakeMessage) -> int:
    found = re.search(r"#(\d+)", reply.content)
    assert found, reply.content
    return int(found[1])


def no_pings(message: FakeMessage) -> bool:
    return message.allowed_mentions is not None and message.allowed_mentions.get("parse") == []


SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "til-example.txt"


def seed_post() -> bytes:
    """The study group's real daily post (about 7,000 characters of what-I-learned)."""
    if not SEED.is_file():
        pytest.skip(f"the study group's example TIL is not beside the clone ({SEED})")
    return SEED.read_bytes()


def fits_one_message(embed: dict[str, Any]) -> bool:
    """Discord's embed limits: description 4,096, a field 1,024, 6,000 characters in all."""
    fields = embed.get("fields", [])
    total = len(embed.get("title", "")) + len(embed.get("description", "")) + len(embed["footer"]["text"])
    total += len(embed["author"]["name"]) + sum(len(f["name"]) + len(f["value"]) for f in fields)
    return len(embed.get("description", "")) <= 4096 and all(len(f["value"]) <= 1024 for f in fields) and total <= 6000


def read_back(message: FakeMessage) -> TilDraft:
    """The TIL in the message's one attachment, a Markdown file in the export's shape."""
    [attachment] = message.attachments
    return read_file(attachment)


def read_file(attachment: dict[str, Any]) -> TilDraft:
    assert attachment["filename"].endswith(".md")
    [draft] = parse_export(ExportFile(attachment["filename"], attachment["data"]))
    return draft


async def test_a_til_posted_into_a_text_channel_is_an_embed_that_pings_nobody(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        role = running.fake.add_role(world.guild, "Study")
        setup = await set_channel(running, world.lounge)
        opened = await running.fake.slash(world.alice, world.study, "til post", tags="AWS, LangChain")
        await opened.wait_acked()
        modal = opened.modal
        loud = f"@everyone @here <@{world.bob.id}> <@&{role.id}> 봐 주세요"
        submitted = await running.fake.submit_modal(
            world.alice,
            opened,
            {"learned": EC2, "hard": "AWS 요금 계산", "curious": "LangChain 의 활용", "reflection": loud},
        )
        [reply] = await submitted.settled(quiet=0.2)
        [message] = public(running, world.lounge)
    assert setup.ephemeral and f"<#{world.lounge.id}>" in setup.content
    assert modal is not None
    inputs = {c["custom_id"]: c for row in modal["components"] for c in row["components"]}
    assert list(inputs) == [section.value for section in Section]
    assert {key: field["max_length"] for key, field in inputs.items()} == {s.value: form_limit(s) for s in Section}
    assert max(field["max_length"] for field in inputs.values()) == 4000  # Discord's most for a form field
    assert [key for key, field in inputs.items() if field["required"]] == ["learned"]
    assert inputs["title"]["placeholder"] == "TIL 2026-11-25"  # 09:00 in Seoul
    assert "/til post file:" in inputs["learned"]["placeholder"]  # where a longer post goes
    [embed] = message.embeds
    assert embed["title"] == "TIL 2026-11-25" and embed["description"] == EC2
    assert embed["author"]["name"] == "alice"
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["😵 어려웠던 내용"] == "AWS 요금 계산" and fields["💬 느낀 점"] == loud
    assert fields["태그"] == "`#AWS` `#LangChain`"
    assert "1일 연속" in embed["footer"]["text"]
    assert message.content == "" and no_pings(message)
    assert reply.ephemeral and "🔥 연속 기록: 1일" in reply.content
    assert JUMP.search(reply.content)[3] == str(message.id)  # type: ignore[index]


async def test_a_til_posted_into_a_forum_becomes_a_post_with_the_matching_forum_tags(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.til)
        reply = await post(
            running, world.bob, {"title": "EC2 and LCEL", "learned": LCEL}, tags="aws, #langchain Python"
        )
        [thread] = running.fake.threads(world.til)
        [starter] = running.fake.channel_messages(thread)
        stored = await running.bot.services.til.get(world.guild.id, post_id(reply))
    assert thread.name == "EC2 and LCEL"
    assert thread.applied_tags == ["AWS", "LangChain"]  # Python is no tag of the forum
    assert starter.embeds[0]["description"] == LCEL and no_pings(starter)
    assert stored.tags == ("aws", "langchain", "Python") and stored.thread_id == thread.id
    assert f"/{thread.id}/{thread.id}" in reply.content and "Your streak: 1 day" in reply.content


async def test_a_til_at_every_form_limit_with_an_open_code_fence_is_a_preview_with_the_whole_attached(
    studybuddy: BotFactory,
) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        fence = "```python\nprint('EC2')\n"
        values = {section.value: "가" * form_limit(section) for section in Section}
        values["learned"] = fence + "나" * (form_limit(Section.LEARNED) - len(fence))
        reply = await post(running, world.alice, values, tags="AWS, LangChain, ADsP, Docker, Kubernetes")
        [message] = public(running, world.lounge)
        [shown] = await running.run(world.bob, "til show", id=post_id(reply))
        stored = await running.bot.services.til.get(world.guild.id, post_id(reply))
    [embed] = message.embeds
    assert embed["description"].endswith("```\n…") and embed["description"].count("```") == 2
    assert len(embed["fields"]) == 5 and "🔥" in reply.content  # 3 sections, tags, the note
    assert fits_one_message(embed)
    assert stored.learned == values["learned"] + "\n```" and stored.hard == values["hard"]  # nothing was cut
    assert read_back(message) == stored.draft
    assert shown.ephemeral and shown.content == JUMP.search(reply.content)[0]  # type: ignore[index]
    assert shown.embeds[0]["title"] == "가" * LIMITS[Section.TITLE] and read_back(shown) == stored.draft


async def test_bad_input_is_explained_and_nothing_is_saved(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        blank = await post(running, world.alice, {"learned": "   \n\t  ", "hard": "EBS 스냅샷"})
        invisible = await post(running, world.bob, {"learned": "\u200b\u200d\ufeff"})
        [too_many] = await running.run(world.alice, "til post", tags="a, b, c, d, e, f")
        [too_long] = await running.run(world.bob, "til post", tags="x" * 21)
        stored = await running.bot.services.til.list_posts(world.guild.id, None)
        reopened = await running.fake.click(world.alice, blank, "양식 다시 열기 (쓴 내용은 그대로)")
        assert await reopened.wait_acked() == 9
        kept = {c["custom_id"]: c.get("value") for row in reopened.modal["components"] for c in row["components"]}  # type: ignore[index]
        fixed = await running.fake.submit_modal(world.alice, reopened, {"learned": EC2})
        [posted] = await fixed.settled(quiet=0.2)
        [message] = public(running, world.lounge)
    assert blank.ephemeral and "배운 것" in blank.content and "비워 둘 수 없어요" in blank.content
    assert "What I learned" in invisible.content
    assert too_many.ephemeral and "5" in too_many.content
    assert "20" in too_long.content
    assert stored.total == 0
    assert kept["hard"] == "EBS 스냅샷"  # what she wrote was not lost
    assert "✅" in posted.content and message.embeds[0]["fields"][0]["value"] == "EBS 스냅샷"


async def test_editing_changes_the_post_in_place_and_only_its_author_may(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.til)
        til_id = post_id(await post(running, world.alice, {"title": "EC2", "learned": EC2}, tags="AWS"))
        [refused] = await running.run(world.bob, "til edit", id=til_id)
        opened = await running.fake.slash(world.alice, world.study, "til edit", id=til_id, tags="LangChain")
        await opened.wait_acked()
        prefilled = {c["custom_id"]: c.get("value") for row in opened.modal["components"] for c in row["components"]}  # type: ignore[index]
        submitted = await running.fake.submit_modal(world.alice, opened, {"title": "LCEL", "hard": "파이프"})
        [edited] = await submitted.settled(quiet=0.2)
        [thread] = running.fake.threads(world.til)
        [starter] = running.fake.channel_messages(thread)
    assert refused.ephemeral and "isn't yours" in refused.content
    assert prefilled["title"] == "EC2" and prefilled["learned"] == EC2
    assert "✏️" in edited.content
    assert thread.name == "LCEL" and thread.applied_tags == ["LangChain"]
    assert starter.embeds[0]["description"] == EC2 and len(starter.edits) == 1  # left alone: kept as it was
    assert starter.embeds[0]["fields"][0]["value"] == "파이프"


async def test_authors_and_moderators_delete_and_the_published_post_goes_too(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        first = post_id(await post(running, world.alice, {"learned": EC2}))
        await set_channel(running, world.til)
        second = post_id(await post(running, world.alice, {"learned": LCEL}))
        [refused] = await running.run(world.bob, "til delete", id=first)
        [own] = await running.run(world.alice, "til delete", id=first)
        [by_moderator] = await running.run(world.moderator, "til delete", id=second)
        [gone] = await running.run(world.alice, "til show", id=second)
        left = await running.bot.services.til.list_posts(world.guild.id, None)
    assert "isn't yours" in refused.content
    assert f"#{first}" in own.content and f"#{second}" in by_moderator.content
    assert public(running, world.lounge) == [] and running.fake.threads(world.til) == []
    assert "없어요" in gone.content and left.total == 0


async def seed(running: Running, author: FakeUser, count: int, learned: str, tags: tuple[str, ...] = ()) -> list[int]:
    til = running.bot.services.til
    ids = []
    for number in range(count):
        draft = TilDraft(title=f"TIL {number}", learned=f"{learned} ({number})", tags=tags)
        ids.append((await til.create(running.world.guild.id, author.id, draft)).id)
    return ids


def page_footer(message: FakeMessage) -> str:
    return str(message.embeds[0]["footer"]["text"])


async def test_search_finds_korean_inside_words_and_english_and_pages_with_buttons(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await seed(running, world.alice, 7, "EC2 인스턴스를 만들고 종료했다")
        await seed(running, world.bob, 2, "Prompt templates in LangChain")
        [korean] = await running.run(world.alice, "til search", query="인스턴스")
        first_page = copy.deepcopy(korean)  # the buttons edit the message in place
        click = await running.fake.click(world.alice, korean, 1)  # Next
        second_page = copy.deepcopy((await click.settled(quiet=0.1))[0])
        [english] = await running.run(world.bob, "til search", query="langchain")
        [syntax] = await running.run(world.bob, "til search", query='"AND (*) OR NEAR( -: ^')
        await running.restart()
        back = await running.fake.click(world.alice, korean, "이전")
        [first_again] = await back.settled(quiet=0.1)
    assert first_page.ephemeral and page_footer(first_page).startswith("1/2")
    assert len(first_page.embeds[0]["fields"]) == 5 and "**인스턴스**" in first_page.embeds[0]["fields"][0]["value"]
    assert [label for label, _, disabled in first_page.buttons if disabled] == ["이전"]
    assert second_page.id == korean.id and page_footer(second_page).startswith("2/2")
    assert len(second_page.embeds[0]["fields"]) == 2
    assert page_footer(english).startswith("Page 1/1 · 2") and not english.buttons
    assert syntax.ephemeral and "Nothing found" in syntax.embeds[0]["description"]
    assert page_footer(first_again).startswith("1/2")  # the buttons work after a restart


async def test_list_pages_through_a_members_tils(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        ids = await seed(running, world.alice, 6, "S3")
        await seed(running, world.bob, 1, "IAM")
        [listed] = await running.run(world.bob, "til list", user=world.alice)
        alices = copy.deepcopy(listed)
        click = await running.fake.click(world.bob, listed, "Next")
        [older] = await click.settled(quiet=0.1)
        [everyone] = await running.run(world.bob, "til list")
    assert page_footer(alices) == "Page 1/2 · 6 in all"
    assert f"`#{ids[-1]}`" in alices.embeds[0]["description"] and "(not posted)" in alices.embeds[0]["description"]
    assert f"<@{world.alice.id}>" in alices.embeds[0]["description"]  # a mention shows as a name only there
    assert "<@" not in alices.embeds[0]["title"]
    assert f"`#{ids[0]}`" in older.embeds[0]["description"]
    assert page_footer(everyone) == "Page 1/2 · 7 in all"


async def test_streaks_follow_seoul_midnight_and_break_after_a_missed_day(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        running.clock.advance(timedelta(hours=14, minutes=59))  # 23:59 in Seoul
        await post(running, world.alice, {"learned": EC2})
        running.clock.advance(timedelta(minutes=2))  # 00:01 the next day in Seoul, still 2026-11-25 in UTC
        second = await post(running, world.alice, {"learned": LCEL})
        again_today = await post(running, world.alice, {"learned": "두 번째 글"})
        running.clock.advance(timedelta(days=2))  # 2026-11-27 had no TIL
        [broken] = await running.run(world.alice, "til streak")
        after_gap = await post(running, world.alice, {"learned": "다시 시작"})
        [board] = await running.run(world.bob, "til board")
    titles = [m.embeds[0]["title"] for m in public(running, world.lounge)]
    assert titles[:2] == ["TIL 2026-11-25", "TIL 2026-11-26"]
    assert "2일" in second.content and "2일" in again_today.content  # two posts on one day count once
    fields = {field["name"]: field["value"] for field in broken.embeds[0]["fields"]}
    assert fields["지금 연속"] == "0일" and fields["최장 연속"] == "2일" and fields["TIL을 쓴 날"] == "2일"
    [heatmap] = broken.attachments
    assert heatmap["filename"] == "til-heatmap.png" and heatmap["data"].startswith(b"\x89PNG")
    assert broken.embeds[0]["image"]["url"] == "attachment://til-heatmap.png"
    assert "1일" in after_gap.content
    assert f"<@{world.alice.id}> — 🔥 1 day(s) (best 2)" in board.embeds[0]["description"]


async def test_a_lost_channel_keeps_the_til_and_repost_publishes_it_once_fixed(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        nowhere = await post(running, world.alice, {"learned": EC2})
        await set_channel(running, world.lounge)
        running.fake.delete_channel(world.lounge)
        deleted = await post(running, world.bob, {"learned": LCEL})
        await set_channel(running, world.study)
        updated = asyncio.ensure_future(running.bot.wait_for("guild_channel_update", timeout=5))
        running.fake.deny(world.study)
        await updated
        forbidden = await post(running, world.alice, {"learned": "권한 없음"})
        running.fake.allow(world.study)
        [reposted] = await running.run(world.alice, "til repost", id=post_id(forbidden))
        [not_hers] = await running.run(world.alice, "til repost", id=post_id(deleted))
        [by_moderator] = await running.run(world.moderator, "til repost", id=post_id(nowhere))
        streak = await running.bot.services.til.streak(world.guild.id, world.bob.id)
    assert "/til setup" in nowhere.content and f"/til repost id:{post_id(nowhere)}" in nowhere.content
    assert "no longer exists" in deleted.content and streak.current == 1
    assert "권한" in forbidden.content and "저장했어요" in forbidden.content
    assert "📤" in reposted.content and "작성자만" in not_hers.content and "📤" in by_moderator.content
    published = public(running, world.study)
    assert [m.embeds[0]["description"] for m in published] == ["권한 없음", EC2]
    assert published[1].embeds[0]["author"]["name"] == "alice"  # reposted by the moderator, still alice's


async def test_thread_per_member_keeps_each_members_tils_in_their_own_thread(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge, thread_per_member=True)
        await post(running, world.alice, {"learned": EC2})
        await post(running, world.alice, {"learned": LCEL})
        await post(running, world.bob, {"learned": "IAM"})
        threads = running.fake.threads(world.lounge)
        running.fake.delete_channel(threads[0])
        await post(running, world.alice, {"learned": "새 스레드"})
        after = running.fake.threads(world.lounge)
    assert [t.name for t in threads] == ["TIL · alice", "TIL · bob"]
    assert [m.embeds[0]["description"] for m in running.fake.channel_messages(threads[0])] == [EC2, LCEL]
    assert [t.name for t in after] == ["TIL · bob", "TIL · alice"]
    assert [m.embeds[0]["description"] for m in running.fake.channel_messages(after[1])] == ["새 스레드"]
    assert public(running, world.lounge) == []


async def test_export_round_trips_as_json_and_markdown(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        await post(running, world.alice, {"title": "EC2", "learned": EC2, "hard": "요금"}, tags="AWS")
        await post(running, world.alice, {"title": "LCEL", "learned": LCEL, "reflection": "재밌다"}, tags="LangChain")
        [as_json] = await running.run(world.bob, "til export", user=world.alice, format="json")
        [as_markdown] = await running.run(world.alice, "til export")
        [nothing] = await running.run(world.bob, "til export")
    drafts = {}
    for message in (as_json, as_markdown):
        [attachment] = message.attachments
        drafts[attachment["filename"].rsplit(".", 1)[1]] = parse_export(
            ExportFile(attachment["filename"], attachment["data"])
        )
    assert as_json.ephemeral and "2" in as_json.content
    assert set(drafts) == {"json", "zip"}
    for parsed in drafts.values():
        assert sorted((d.title, d.learned, d.hard, d.reflection, d.tags) for d in parsed) == [
            ("EC2", EC2, "요금", "", ("AWS",)),
            ("LCEL", LCEL, "", "재밌다", ("LangChain",)),
        ]
    assert nothing.ephemeral and not nothing.attachments


async def test_feedback_on_the_latest_til_is_streamed(studybuddy: BotFactory) -> None:
    async with studybuddy(token_delay_s=0.01, tokens=30) as running:
        world = running.world
        [none_yet] = await running.run(world.alice, "til feedback")
        await post(running, world.alice, {"learned": EC2, "hard": "Auto Scaling 정책"})
        [answer] = await running.answer(world.alice, "til feedback")
        [request] = running.llm.requests
    assert "/til post" in none_yet.content
    assert "Auto Scaling 정책" in request.prompt_text and EC2 in request.prompt_text
    assert answer.ephemeral and answer.content == expected_answer(request.prompt_text, running.llm.tokens)
    assert len(answer.edits) >= 2  # shown as it was written, not all at once
    assert no_pings(answer)


async def test_feedback_without_a_model_says_so(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        await post(running, running.world.alice, {"learned": EC2})
        [reply] = await running.run(running.world.alice, "til feedback")
    assert reply.ephemeral and not reply.attachments and reply.content


async def test_members_choose_their_zone_reminders_and_quiz_opt_out(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        til = running.bot.services.til
        [zone] = await running.run(world.bob, "til timezone", name="America/New_York")
        [bad_zone] = await running.run(world.bob, "til timezone", name="Mars/Olympus")
        [remind] = await running.run(world.bob, "til remindme", choice="on")
        [optout] = await running.run(world.bob, "til quiz_optout", choice="on")
        [refused] = await running.run(world.alice, "til setup", channel=world.lounge)
        bob_today = await til.today(world.guild.id, world.bob.id)
        choices = await running.bot.services.db.fetch_all(
            "SELECT user_id, reminder_dm, quiz_opt_out FROM til_members WHERE guild_id = ?", (world.guild.id,)
        )
    assert "2026-11-24" in zone.content and bob_today.isoformat() == "2026-11-24"  # 19:00 in New York
    assert "Mars/Olympus" in bad_zone.content
    assert remind.ephemeral and optout.ephemeral and [tuple(row) for row in choices] == [(world.bob.id, 1, 1)]
    assert refused.ephemeral and "서버 관리" in refused.content


async def scheduler_idle(running: Running, passes: int) -> None:
    """Waits until the TIL scheduler has made a pass after `passes` and sleeps again (beside the daily one)."""
    scheduler = running.bot.get_cog("Til").scheduler  # type: ignore[union-attr]
    async with asyncio.timeout(10):
        while scheduler.passes <= passes:  # noqa: ASYNC110 - a counter the loop bumps, polled by tests
            await asyncio.sleep(0.005)
        await running.clock.wait_for_sleepers(SCHEDULERS)


def til_passes(running: Running) -> int:
    return int(running.bot.get_cog("Til").scheduler.passes)  # type: ignore[union-attr]


async def test_the_reminder_dms_who_asked_and_mentions_only_the_chosen_role(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        role = running.fake.add_role(world.guild, "TIL crew")
        await set_channel(running, world.til)
        for member in (world.alice, world.bob):
            await running.run(member, "til remindme", choice="on")
        await post(running, world.alice, {"learned": EC2})
        await scheduler_idle(running, 0)
        passes = til_passes(running)
        [configured] = await running.run(world.moderator, "til reminder", time="09:30", role=role, channel=world.lounge)
        await scheduler_idle(running, passes)
        running.clock.advance(timedelta(minutes=30))
        reminder = await running.fake.wait_for_message(lambda m: m.channel_id == world.lounge.id, timeout=10)
        bob_dm = running.fake.dm_channel(world.bob).id
        dm = await running.fake.wait_for_message(lambda m: m.channel_id == bob_dm, timeout=10)
        alice_dms = running.fake.channel_messages(running.fake.dm_channel(world.alice))
    assert configured.ephemeral and "09:30 (Asia/Seoul)" in configured.content
    assert reminder.content.startswith(f"<@&{role.id}>") and "/til post" in reminder.content
    assert reminder.allowed_mentions is not None and reminder.allowed_mentions["parse"] == []
    assert [int(r) for r in reminder.allowed_mentions["roles"]] == [role.id]
    assert "Study Group" in dm.content and no_pings(dm)
    assert alice_dms == []  # she posted today


async def test_the_weekly_digest_is_a_forum_post_with_links_to_the_weeks_tils(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.til)
        await post(running, world.alice, {"title": "EC2", "learned": EC2}, tags="AWS")
        await post(running, world.bob, {"title": "LCEL", "learned": LCEL})
        await scheduler_idle(running, 0)
        passes = til_passes(running)
        [configured] = await running.run(world.moderator, "til digest", weekday="wednesday", time="21:00")
        await scheduler_idle(running, passes)
        running.clock.advance(timedelta(hours=12))  # 21:00 in Seoul
        digest = await running.fake.wait_for_message(
            lambda m: bool(m.embeds) and "이번 주에 배운 것" in (m.embeds[0].get("title") or ""), timeout=10
        )
        threads = running.fake.threads(world.til)
    assert configured.ephemeral and "수요일" in configured.content
    assert threads[-1].name == "📚 이번 주에 배운 것 (2026-11-23 \u2013 2026-11-29)" and threads[-1].id == digest.id
    description = digest.embeds[0]["description"]
    assert (
        f"<@{world.alice.id}>" in description and f"[EC2](https://discord.com/channels/{world.guild.id}/" in description
    )
    assert f"<@{world.bob.id}>" in description and no_pings(digest)


async def test_a_new_til_becomes_the_next_daily_question(studybuddy: BotFactory) -> None:
    """The model writes a question from alice's TIL in the background; the daily quiz asks it before any bank's."""
    question = {
        "question": "EC2 인스턴스는 무엇인가요?",
        "choices": ["가상 서버", "객체 저장소", "DNS", "메일 서비스"],
        "answer": 0,
        "explanation": "EC2는 AWS의 가상 서버 서비스예요.",
        "difficulty": 1,
        "tags": ["aws"],
    }
    async with studybuddy() as running:
        world = running.world
        running.llm.responder = lambda request: Reply(text=json.dumps(question, ensure_ascii=False))
        await set_up_daily(running)
        await post(running, world.alice, {"learned": EC2})
        til_cog = running.bot.get_cog("Til")
        assert til_cog is not None
        await asyncio.gather(*til_cog.writing_questions)  # the questions are written in the background
        questions = running.bot.services.til_questions
        assert questions is not None
        asked = await questions.next_question(world.guild.id, "ko", set())
        await running.run(world.moderator, "daily now", quiet=0.5)
        posted = await daily_question(running, world.study)
        [request] = running.llm.requests
    assert EC2 in request.prompt_text
    assert asked is not None and asked.text == question["question"]
    assert question["question"] in posted.embeds[0]["description"]


# --- long TILs: a file in, a preview and the whole as a file out ------------------------------------------------------


async def test_the_groups_real_daily_post_sent_as_a_file_becomes_a_forum_post(studybuddy: BotFactory) -> None:
    data = seed_post()
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.til)
        [reply] = await running.run(
            world.alice, "til post", file=("til-example.txt", data), tags="AWS, LangChain, ADsP"
        )
        [thread] = running.fake.threads(world.til)
        [starter] = running.fake.channel_messages(thread)
        stored = await running.bot.services.til.get(world.guild.id, post_id(reply))
    expected = clean_draft(
        title="Today I Learned (2024-07-12)",
        learned=data.decode().split("\n오늘 공부한 내용\n", 1)[1].split("\n어려웠던 내용\n", 1)[0],
        hard="- AWS",
        curious="- LangChain 의 활용",
        reflection=data.decode().split("\n느낀 점\n", 1)[1],
        tags="AWS, LangChain, ADsP",
        day=stored.local_date,
    )
    assert reply.ephemeral and "✅" in reply.content and f"/{thread.id}/{thread.id}" in reply.content
    assert stored.draft == expected and len(stored.learned) > 7000  # the full text is stored
    assert thread.name == "Today I Learned (2024-07-12)" and thread.applied_tags == ["AWS", "LangChain", "ADsP"]
    [embed] = starter.embeds
    assert fits_one_message(embed) and embed["description"].endswith("…") and no_pings(starter)
    assert embed["description"].startswith("1. KDT (AWS)\nEC2 (Elastic Compute Cloud)")
    assert "til-example" not in embed["fields"][-1]["value"] and ".md" in embed["fields"][-1]["value"]
    assert embed["fields"][-1]["name"] == "📎 TIL 전체 내용"
    assert read_back(starter) == stored.draft


async def test_the_real_daily_post_as_a_file_into_a_text_channel_and_show_attach_the_whole(
    studybuddy: BotFactory,
) -> None:
    data = seed_post()
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        [reply] = await running.run(world.bob, "til post", file=("TIL.md", data))
        [message] = public(running, world.lounge)
        [shown] = await running.run(world.alice, "til show", id=post_id(reply))
        stored = await running.bot.services.til.get(world.guild.id, post_id(reply))
    assert reply.ephemeral and "Your streak: 1 day" in reply.content
    assert len(stored.learned) > 7000 and stored.tags == ()
    [embed] = message.embeds
    assert fits_one_message(embed) and message.content == "" and no_pings(message)
    assert read_back(message) == stored.draft
    assert shown.ephemeral and fits_one_message(shown.embeds[0]) and read_back(shown) == stored.draft
    assert shown.embeds[0]["fields"][-1]["name"] == "📎 TIL 전체 내용"  # alice reads Korean


async def test_files_that_are_no_til_are_refused_clearly_and_nothing_is_saved(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        refused = {
            name: (await running.run(world.bob, "til post", file=(filename, data)))[0]
            for name, filename, data in [
                ("big", "til.md", b"x" * (MAX_FILE_BYTES + 1)),
                ("binary", "til.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
                ("encoding", "til.txt", "오늘 공부한 내용\nEC2".encode("cp949")),
                ("kind", "til.pdf", b"%PDF-1.7"),
                ("empty", "til.md", "TIL\n느낀 점\n좋았다".encode()),
                ("too long", "til.md", ("TIL\n" + "가" * (LIMITS[Section.LEARNED] + 1)).encode()),
            ]
        }
        [korean] = await running.run(world.alice, "til post", file=("til.txt", "EC2".encode("utf-16")))
        stored = await running.bot.services.til.list_posts(world.guild.id, None)
    assert all(message.ephemeral for message in refused.values())
    assert "512 KB" in refused["big"].content
    assert "not a text file" in refused["binary"].content
    assert "UTF-8" in refused["encoding"].content
    assert "`.md` or `.txt`" in refused["kind"].content
    assert "What I learned" in refused["empty"].content
    assert "20000" in refused["too long"].content.replace(",", "")
    assert "텍스트 파일이 아니에요" in korean.content  # UTF-16 has NUL bytes: not the UTF-8 text we ask for
    assert stored.total == 0 and public(running, world.lounge) == []


@pytest.mark.parametrize("where", ["lounge", "til"])
async def test_editing_a_long_til_replaces_its_attachment(studybuddy: BotFactory, where: str) -> None:
    """In a text channel the message, in a forum the post's starter message: one attachment, the newest."""
    data = seed_post()
    async with studybuddy(llm=False) as running:
        world = running.world
        channel = getattr(world, where)
        await set_channel(running, channel)
        til_id = post_id((await running.run(world.alice, "til post", file=("til.txt", data)))[0])
        [message] = (
            public(running, channel)
            if where == "lounge"
            else running.fake.channel_messages(running.fake.threads(channel)[0])
        )
        [first_file] = copy.deepcopy(message.attachments)
        [formless] = await running.run(world.alice, "til edit", id=til_id)
        [shown] = await running.run(world.alice, "til show", id=til_id)
        [attachment] = shown.attachments  # the member downloads the whole TIL, changes it, sends it back
        changed = attachment["data"].decode().replace("EC2 (Elastic Compute Cloud)", "EC2 (가상 서버)")
        [edited] = await running.run(world.alice, "til edit", id=til_id, file=("mine.md", changed.encode()))
        after_long = copy.deepcopy(message)
        await running.run(
            world.alice, "til edit", id=til_id, file=("short.md", "짧은 TIL\n오늘 공부한 내용\nEC2".encode())
        )
        stored = await running.bot.services.til.get(world.guild.id, til_id)
    assert formless.ephemeral and "/til edit id:" in formless.content and "file:" in formless.content
    assert "✏️" in edited.content
    assert read_back(after_long).learned.startswith("1. KDT (AWS)\nEC2 (가상 서버)")
    assert after_long.attachments[0]["id"] != first_file["id"] and len(after_long.edits) == 1
    assert read_file(first_file).learned.startswith("1. KDT (AWS)\nEC2 (Elastic Compute Cloud)")
    assert fits_one_message(after_long.embeds[0])
    assert message.attachments == [] and message.embeds[0]["description"] == "EC2"  # short again: no file
    assert stored.title == "짧은 TIL" and stored.learned == "EC2"


async def edit_in_form(running: Running, user: FakeUser, til_id: int, values: dict[str, str]) -> FakeMessage:
    """`user` opens /til edit, changes the fields in `values` (by field id) and submits; the bot's answer."""
    opened = await running.fake.slash(user, running.world.study, "til edit", id=til_id)
    await opened.wait_acked()
    submitted = await running.fake.submit_modal(user, opened, values)
    [reply] = await submitted.settled(quiet=0.2)
    return reply


async def test_a_forum_post_archived_for_quiet_is_still_edited_and_deleted(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.til)
        til_id = post_id(await post(running, world.alice, {"title": "EC2", "learned": EC2}, tags="AWS"))
        [thread] = running.fake.threads(world.til)
        running.fake.archive_thread(thread)  # a week without messages, say
        edited = await edit_in_form(running, world.alice, til_id, {"title": "LCEL", "learned": LCEL})
        [starter] = running.fake.channel_messages(thread)
        shown = (starter.embeds[0]["description"], thread.name, thread.archived)
        threads_after_edit = running.fake.threads(world.til)
        running.fake.archive_thread(thread)
        [deleted] = await running.run(world.alice, "til delete", id=til_id)
    assert "✏️" in edited.content and shown == (LCEL, "LCEL", False)
    assert threads_after_edit == [thread]  # changed in place, not posted again
    assert f"#{til_id}" in deleted.content and "지우지 못했어요" not in deleted.content
    assert running.fake.threads(world.til) == []


async def test_a_member_thread_archived_for_quiet_is_still_edited_and_deleted(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge, thread_per_member=True)
        first = post_id(await post(running, world.alice, {"learned": EC2}))
        [thread] = running.fake.threads(world.lounge)
        running.fake.archive_thread(thread)
        edited = await edit_in_form(running, world.alice, first, {"learned": "EC2 인스턴스"})
        running.fake.archive_thread(thread)
        await post(running, world.alice, {"learned": LCEL})  # a new message reopens the same thread
        before = [m.embeds[0]["description"] for m in running.fake.channel_messages(thread)]
        running.fake.archive_thread(thread)
        [deleted] = await running.run(world.alice, "til delete", id=first)
    assert "✏️" in edited.content and before == ["EC2 인스턴스", LCEL]
    assert running.fake.threads(world.lounge) == [thread]
    assert f"#{first}" in deleted.content and "지우지 못했어요" not in deleted.content
    assert [m.embeds[0]["description"] for m in running.fake.channel_messages(thread)] == [LCEL]


async def test_a_deleted_til_whose_message_stays_says_so_and_links_it(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        removed_by_hand = post_id(await post(running, world.alice, {"learned": LCEL}))
        kept = post_id(await post(running, world.alice, {"learned": EC2}))
        running.fake.delete_message(public(running, world.lounge)[0])  # a moderator was first
        [already_gone] = await running.run(world.alice, "til delete", id=removed_by_hand)
        running.fake.deny(world.lounge)  # the bot may no longer see the TIL channel
        [stays] = await running.run(world.alice, "til delete", id=kept)
        [message] = public(running, world.lounge)
        left = await running.bot.services.til.list_posts(world.guild.id, None)
    assert f"#{removed_by_hand}" in already_gone.content and "지우지 못했어요" not in already_gone.content
    assert f"#{kept}" in stays.content and "지우지 못했어요" in stays.content
    assert f"/{world.lounge.id}/{message.id}" in stays.content and left.total == 0


async def test_a_forum_needs_manage_threads_to_be_the_til_channel(studybuddy: BotFactory) -> None:
    fake = FakeDiscord()
    fake.world.bot_permissions &= ~discord.Permissions(manage_threads=True).value
    async with studybuddy(llm=False, fake=fake) as running:
        world = running.world
        [forum] = await running.run(world.moderator, "til setup", channel=world.til)
        [text] = await running.run(world.moderator, "til setup", channel=world.lounge, thread_per_member=True)
    assert forum.ephemeral and "스레드 관리" in forum.content and f"<#{world.til.id}>" in forum.content
    assert "📌" in text.content  # the bot deletes messages in its own threads without Manage Threads


async def test_a_forum_that_requires_tags_is_refused_as_the_til_channel(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        created = asyncio.ensure_future(running.bot.wait_for("guild_channel_create", timeout=5))
        strict = running.fake.add_forum_channel(world.guild, "strict", tags=["AWS"], require_tag=True)
        await created
        [refused] = await running.run(world.moderator, "til setup", channel=strict)
        settings = await running.bot.services.til.settings(world.guild.id)
    assert refused.ephemeral and "태그" in refused.content and f"<#{strict.id}>" in refused.content
    assert settings.channel_id is None
