"""/mydata end to end: a member downloads everything the bot stores about them, then has it all erased."""

from __future__ import annotations

import json

from tests.e2e.conftest import BotFactory
from tests.e2e.test_til import EC2, LCEL, post, public, set_channel


async def test_export_gives_the_member_their_data_as_json_in_dms_too(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        await post(running, world.bob, {"learned": LCEL}, tags="LangChain")
        await post(running, world.alice, {"learned": EC2})
        ix = await running.fake.slash_dm(world.bob, "mydata export")
        await ix.wait_acked()
        [reply] = await ix.settled(quiet=0.2)
    [attachment] = reply.attachments
    document = json.loads(attachment["data"])
    [til] = document["tables"]["til_posts"]
    assert attachment["filename"].endswith(".json") and "JSON" in reply.content
    assert til["learned"] == LCEL and til["tags"] == "LangChain"
    assert EC2 not in attachment["data"].decode()  # alice's TIL is hers, not bob's


async def test_delete_asks_first_then_removes_everything_and_the_published_posts(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        await post(running, world.alice, {"learned": EC2})
        await set_channel(running, world.til)
        await post(running, world.alice, {"learned": LCEL}, tags="LangChain")
        await post(running, world.bob, {"learned": "IAM 정책"})
        await running.run(world.alice, "til remindme", choice="on")
        [confirm] = await running.run(world.alice, "mydata delete")
        confirm_id = confirm.id
        cancel = await running.fake.click(world.alice, confirm, "취소")
        [cancelled] = await cancel.settled(quiet=0.1)
        [again] = await running.run(world.alice, "mydata delete")
        stranger = await running.fake.click(world.bob, again, 0)
        [refused] = await stranger.settled(quiet=0.1)
        await running.restart()  # the confirmation still works afterwards
        erase = await running.fake.click(world.alice, again, "전부 지우기")
        [done] = await erase.settled(quiet=0.3)
        [listed] = await running.run(world.alice, "til list", user=world.alice)
        [searched] = await running.run(world.alice, "til search", query="Compute")
        [everyone] = await running.run(world.bob, "til list")
        preferences = await running.bot.services.db.fetch_value(
            "SELECT COUNT(*) FROM til_members WHERE guild_id = ? AND user_id = ?", (world.guild.id, world.alice.id)
        )
    assert confirm_id == cancelled.id and "지우지 않았어요" in cancelled.content and not cancelled.buttons
    assert refused.ephemeral and refused.id != again.id and "member who asked" in refused.content
    assert "TIL 2개" in done.content and "TIL 설정 1개" in done.content and not done.buttons
    assert "아직 TIL이 없어요" in listed.embeds[0]["description"]
    assert "찾지 못했어요" in searched.embeds[0]["description"]
    assert everyone.embeds[0]["footer"]["text"] == "Page 1/1 · 1 in all"  # bob's TIL stays
    assert public(running, world.lounge) == []
    assert [thread.name for thread in running.fake.threads(world.til)] == ["TIL 2026-11-25"]  # bob's forum post
    assert preferences == 0  # her reminder choice went with the rest


async def test_delete_says_which_published_posts_it_could_not_remove(studybuddy: BotFactory) -> None:
    async with studybuddy(llm=False) as running:
        world = running.world
        await set_channel(running, world.lounge)
        await post(running, world.alice, {"learned": EC2})
        await post(running, world.alice, {"learned": LCEL})
        running.fake.deny(world.lounge)  # the bot may no longer see the TIL channel
        [confirm] = await running.run(world.alice, "mydata delete")
        erase = await running.fake.click(world.alice, confirm, "전부 지우기")
        [done] = await erase.settled(quiet=0.3)
        messages = public(running, world.lounge)
    assert "TIL 2개" in done.content and "2개는 지우지 못했어요" in done.content
    assert len(messages) == 2 and all(f"/{world.lounge.id}/{m.id}" in done.content for m in messages)
