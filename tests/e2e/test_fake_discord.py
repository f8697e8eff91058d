"""Self-tests of the fake Discord: a tiny real ``commands.Bot`` logs in and exercises each rule."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from discord import app_commands, ui
from discord.ext import commands

from bot.devtools.fake_discord import (
    BucketSpec,
    FakeChannel,
    FakeDiscord,
    FakeDiscordUsageError,
    FakeUser,
    FixedWindowLimiter,
    RateLimitPolicy,
    running_fake_discord,
    start_bot,
)


class World:
    """The guild every test starts from."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.guild = fake.add_guild("Study Group", locale="ko")
        self.study = fake.add_text_channel(self.guild, "study")
        self.til = fake.add_forum_channel(self.guild, "til", tags=["AWS", "LangChain", "ADsP"])
        self.mods = fake.add_role(self.guild, "Moderators", permissions=discord.Permissions(manage_messages=True).value)
        self.alice = fake.add_member(self.guild, "alice", roles=[self.mods], locale="ko")
        self.bob = fake.add_member(self.guild, "bob")


class StopView(ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @ui.button(label="Stop", custom_id="stop", style=discord.ButtonStyle.danger)
    async def stop_button(self, interaction: discord.Interaction, button: ui.Button[StopView]) -> None:
        button.disabled = True
        await interaction.response.edit_message(content="stopped", view=self)

    @ui.select(
        custom_id="level",
        options=[discord.SelectOption(label="Easy", value="a"), discord.SelectOption(label="Hard", value="b")],
    )
    async def level(self, interaction: discord.Interaction, select: ui.Select[StopView]) -> None:
        await interaction.response.send_message(f"level {select.values[0]}", ephemeral=True)


class Feedback(ui.Modal, title="Feedback"):
    answer: ui.TextInput[Feedback] = ui.TextInput(label="Answer", custom_id="answer", max_length=50)
    note: ui.TextInput[Feedback] = ui.TextInput(label="Note", custom_id="note", required=False)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"got {self.answer.value}|{self.note.value}")


class TinyBot(commands.Bot):
    """Commands that each exercise one Discord rule; outcomes (values or exceptions) go to a queue."""

    def __init__(self, *, message_content: bool = True) -> None:
        intents = discord.Intents.default()
        intents.members = True
        intents.message_content = message_content
        super().__init__(command_prefix="!", intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.outcomes: asyncio.Queue[object] = asyncio.Queue()
        self.release = asyncio.Event()
        self._add_commands()

    async def outcome(self) -> object:
        return await asyncio.wait_for(self.outcomes.get(), 5)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        await self.outcomes.put(message.content)
        if isinstance(message.channel, discord.DMChannel):
            await message.channel.send(f"echo: {message.content}")

    async def attempt(self, action: object) -> None:
        """Await ``action`` and queue its result or the HTTP error it raised."""
        try:
            await self.outcomes.put(await action)  # type: ignore[misc]
        except discord.HTTPException as error:
            await self.outcomes.put(error)

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command()
        @app_commands.choices(how=[app_commands.Choice(name="simply", value="simply")])
        async def explain(interaction: discord.Interaction, topic: str, how: str = "deeply") -> None:
            """Explain a topic."""
            await interaction.response.send_message(f"{topic}/{how}/{interaction.locale.value}")

        quiz = app_commands.Group(name="quiz", description="Quizzes")
        settings = app_commands.Group(name="settings", description="Settings")
        language = app_commands.Group(name="language", description="Language", parent=settings)

        @quiz.command(name="start")
        async def quiz_start(
            interaction: discord.Interaction, topic: str, count: app_commands.Range[int, 1, 10]
        ) -> None:
            """Start a quiz."""
            await interaction.response.send_message(f"quiz {topic} x{count}")

        @language.command(name="set")
        async def language_set(interaction: discord.Interaction, value: str) -> None:
            """Set the language."""
            await interaction.response.send_message(f"language {value}")

        tree.add_command(quiz)
        tree.add_command(settings)

        @tree.command()
        async def who(interaction: discord.Interaction, user: discord.Member, where: discord.TextChannel) -> None:
            """Resolved objects."""
            await interaction.response.send_message(f"{user.name} in {where.name}")

        @tree.command()
        async def slow(interaction: discord.Interaction) -> None:
            """Defer, then edit the original response three times."""
            await interaction.response.defer(thinking=True)
            for text in ("one", "one two", "one two three"):
                await interaction.edit_original_response(content=text)

        @tree.command()
        async def secret(interaction: discord.Interaction) -> None:
            """Ephemeral original, then a public and an ephemeral follow-up."""
            await interaction.response.send_message("only you", ephemeral=True)
            await interaction.followup.send("public follow-up")
            await interaction.followup.send("private follow-up", ephemeral=True)

        @tree.command()
        async def panel(interaction: discord.Interaction) -> None:
            """A message with a button and a select."""
            await interaction.response.send_message("pick", view=StopView())

        @tree.command()
        async def feedback(interaction: discord.Interaction) -> None:
            """Open a modal."""
            await interaction.response.send_modal(Feedback())

        @tree.command()
        async def long(interaction: discord.Interaction) -> None:
            """Reply with 2001 characters."""
            await self.attempt(interaction.response.send_message("x" * 2001))

        @tree.command()
        async def late(interaction: discord.Interaction) -> None:
            """Acknowledge after the deadline."""
            await self.release.wait()
            await self.attempt(interaction.response.send_message("too late"))

        @tree.command()
        async def double(interaction: discord.Interaction) -> None:
            """Acknowledge twice (bypassing discord.py's own guard)."""
            await interaction.response.send_message("first")
            interaction.response._response_type = None
            await self.attempt(interaction.response.send_message("second"))

        @tree.command()
        async def later(interaction: discord.Interaction) -> None:
            """Defer, wait for the test, then follow up."""
            await interaction.response.defer()
            await self.release.wait()
            await self.attempt(interaction.followup.send("finally", wait=True))

        @tree.command()
        async def attach(interaction: discord.Interaction) -> None:
            """Reply with a file."""
            await interaction.response.send_message("file", file=discord.File(io.BytesIO(b"hello"), "notes.txt"))

        @tree.context_menu(name="Explain this message")
        async def explain_message(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(f"explaining {message.content}")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake_discord(FakeDiscord(ack_deadline_s=0.5)) as started:
        yield started


@pytest.fixture
def world(fake: FakeDiscord) -> World:
    return World(fake)


@pytest.fixture
async def bot(fake: FakeDiscord, world: World) -> AsyncIterator[TinyBot]:
    tiny = TinyBot()
    async with start_bot(fake, tiny):
        await tiny.tree.sync()
        yield tiny


def text_channel(bot: TinyBot, channel: FakeChannel) -> discord.TextChannel:
    found = bot.get_channel(channel.id)
    assert isinstance(found, discord.TextChannel)
    return found


# -- login and world ----------------------------------------------------------------------------


async def test_login_ready_and_guild_cache(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    guild = bot.get_guild(world.guild.id)
    assert guild is not None and guild.name == "Study Group"
    assert bot.user is not None and bot.user.id == fake.bot_user.id
    assert bot.application_id == fake.application_id
    forum = guild.get_channel(world.til.id)
    assert isinstance(forum, discord.ForumChannel)
    assert [tag.name for tag in forum.available_tags] == ["AWS", "LangChain", "ADsP"]
    assert isinstance(guild.get_channel(world.study.id), discord.TextChannel)
    assert guild.get_role(world.mods.id) is not None
    alice = guild.get_member(world.alice.id)
    assert alice is not None and world.mods.id in [role.id for role in alice.roles]
    assert guild.me is not None and guild.me.guild_permissions.send_messages
    assert fake.gateway.identify_payloads[0]["intents"] == bot.intents.value


async def test_wrong_token_is_refused(fake: FakeDiscord, world: World) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{fake.api_base}/users/@me", headers={"Authorization": "Bot nope"})
        assert response.status == 401
        assert response.headers["Content-Type"] == "application/json"
        assert await response.json() == {"message": "401: Unauthorized", "code": 0}
        unknown = await session.get(f"{fake.api_base}/nowhere", headers={"Authorization": f"Bot {fake.bot_token}"})
        assert unknown.status == 404 and (await unknown.json())["message"] == "404: Not Found"
    with pytest.raises(discord.LoginFailure):
        await TinyBot().login("not-the-token")


async def test_tree_sync_is_recorded(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    await fake.wait_synced()
    names = {command["name"] for command in fake.commands()}
    assert {"explain", "quiz", "settings", "Explain this message"} <= names
    assert all(command["id"] and command["application_id"] == str(fake.application_id) for command in fake.commands())
    first_ids = {command["name"]: command["id"] for command in fake.commands()}
    bot.tree.copy_global_to(guild=discord.Object(world.guild.id))
    await bot.tree.sync(guild=discord.Object(world.guild.id))
    await bot.tree.sync()
    assert fake.sync_count == 3
    assert {command["name"]: command["id"] for command in fake.commands()} == first_ids
    assert fake.commands(world.guild)[0]["guild_id"] == str(world.guild.id)


# -- slash commands -----------------------------------------------------------------------------


async def test_slash_reply_uses_options_and_locale(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    ix = await fake.slash(world.alice, world.study, "explain", topic="EC2", how="simply")
    assert await ix.wait_acked() == 4
    assert (await ix.original()).content == "EC2/simply/ko"
    assert ix.acked_after_ms is not None and ix.acked_after_ms < 500
    ix = await fake.slash(world.bob, world.study, "explain", topic="S3", locale="en-US")
    assert (await ix.original()).content == "S3/deeply/en-US"


async def test_sub_commands_and_resolved_objects(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    ix = await fake.slash(world.alice, world.study, "quiz start", topic="aws", count=3)
    assert (await ix.original()).content == "quiz aws x3"
    ix = await fake.slash(world.alice, world.study, "settings language set", value="ko")
    assert (await ix.original()).content == "language ko"
    ix = await fake.slash(world.alice, world.study, "who", user=world.bob, where=world.study)
    assert (await ix.original()).content == "bob in study"
    assert ix.payload["data"]["resolved"]["users"][str(world.bob.id)]["username"] == "bob"


async def test_unknown_command_or_option_raises(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    with pytest.raises(FakeDiscordUsageError, match="no synced command"):
        await fake.slash(world.alice, world.study, "nope")
    with pytest.raises(FakeDiscordUsageError, match="unknown option"):
        await fake.slash(world.alice, world.study, "explain", topic="x", colour="red")
    with pytest.raises(FakeDiscordUsageError, match="outside"):
        await fake.slash(world.alice, world.study, "quiz start", topic="x", count=11)
    with pytest.raises(FakeDiscordUsageError, match="choices"):
        await fake.slash(world.alice, world.study, "explain", topic="x", how="loudly")


async def test_deferred_response_edited_several_times(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    ix = await fake.slash(world.alice, world.study, "slow")
    assert await ix.wait_acked() == 5
    [message] = await ix.settled(quiet=0.2)
    assert message.content == "one two three"
    assert message.edits == ["", "one", "one two"]
    assert len(message.edit_times) == 3


async def test_followups_and_ephemeral(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    ix = await fake.slash(world.alice, world.study, "secret")
    messages = await ix.settled(quiet=0.2)
    assert [m.content for m in messages] == ["only you", "public follow-up", "private follow-up"]
    assert ix.ephemeral
    assert [m.ephemeral for m in messages] == [True, False, True]


async def test_message_context_menu(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    target = await fake.post_message(world.bob, world.study, "EBS is block storage")
    ix = await fake.message_command(world.alice, world.study, "Explain this message", target=target)
    assert (await ix.original()).content == "explaining EBS is block storage"


async def test_attachment_upload(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    ix = await fake.slash(world.alice, world.study, "attach")
    message = await ix.original()
    assert message.attachments[0]["filename"] == "notes.txt"
    assert message.attachments[0]["data"] == b"hello"


# -- components and modals ----------------------------------------------------------------------


async def test_button_click_updates_message(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    panel = await (await fake.slash(world.alice, world.study, "panel")).original()
    assert panel.buttons == [("Stop", "stop", False)]
    click = await fake.click(world.bob, panel, "Stop")
    assert await click.wait_acked() == 7
    assert panel.content == "stopped" and panel.buttons == [("Stop", "stop", True)]
    with pytest.raises(FakeDiscordUsageError, match="disabled"):
        await fake.click(world.bob, panel, 0)
    with pytest.raises(FakeDiscordUsageError, match="no button"):
        await fake.click(world.bob, panel, "Go")


async def test_select(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    panel = await (await fake.slash(world.alice, world.study, "panel")).original()
    choice = await fake.select(world.bob, panel, "level", values=["b"])
    reply = await choice.original()
    assert reply.content == "level b" and reply.ephemeral
    with pytest.raises(FakeDiscordUsageError):
        await fake.select(world.bob, panel, 0, values=["zzz"])


async def test_modal_open_and_submit(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    opened = await fake.slash(world.alice, world.study, "feedback")
    assert await opened.wait_acked() == 9
    assert opened.modal is not None and opened.modal["title"] == "Feedback"
    with pytest.raises(FakeDiscordUsageError, match="required"):
        await fake.submit_modal(world.alice, opened, {"note": "n"})
    with pytest.raises(FakeDiscordUsageError, match="at most 50"):
        await fake.submit_modal(world.alice, opened, {"answer": "a" * 51})
    submitted = await fake.submit_modal(world.alice, opened, {"Answer": "EC2 is compute", "note": "ok"})
    assert (await submitted.original()).content == "got EC2 is compute|ok"


# -- messages -----------------------------------------------------------------------------------


async def test_dm_to_bot_gets_a_dm_reply(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    await fake.dm(world.alice, "what is EBS?")
    assert await bot.outcome() == "what is EBS?"
    reply = await fake.wait_for_message(lambda m: m.content.startswith("echo:"))
    assert reply.channel_id == fake.dm_channel(world.alice).id
    assert [m.content for m in fake.channel_messages(fake.dm_channel(world.alice))] == [
        "what is EBS?",
        "echo: what is EBS?",
    ]


async def test_guild_content_needs_the_intent(fake: FakeDiscord, world: World) -> None:
    blind = TinyBot(message_content=False)
    async with start_bot(fake, blind):
        await fake.post_message(world.alice, world.study, "hello")
        assert await blind.outcome() == ""
        await fake.dm(world.alice, "private")
        assert await blind.outcome() == "private"


async def test_content_over_2000_is_invalid_form_body(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    with pytest.raises(discord.HTTPException) as raised:
        await text_channel(bot, world.study).send("x" * 2001)
    assert raised.value.code == 50035 and raised.value.status == 400
    await fake.slash(world.alice, world.study, "long")
    error = await bot.outcome()
    assert isinstance(error, discord.HTTPException) and error.code == 50035
    assert "2000 or fewer" in str(error)


async def test_embed_limits(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    channel = text_channel(bot, world.study)
    too_big = [discord.Embed(description="d" * 4000), discord.Embed(description="d" * 2001)]
    with pytest.raises(discord.HTTPException, match="6000") as raised:
        await channel.send(embeds=too_big)
    assert raised.value.code == 50035
    with pytest.raises(discord.HTTPException, match="256"):
        await channel.send(embed=discord.Embed(title="t" * 257))
    many_fields = discord.Embed()
    for index in range(26):
        many_fields.add_field(name=str(index), value="v")
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=many_fields)
    with pytest.raises(discord.HTTPException) as empty:
        await bot.http.send_message(world.study.id, params=discord.http.handle_message_parameters(content=""))
    assert empty.value.code == 50006


async def test_allowed_mentions_recorded(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    await text_channel(bot, world.study).send("@everyone study time")
    sent = await fake.wait_for_message(lambda m: m.content == "@everyone study time")
    assert sent.allowed_mentions == {"parse": []}


async def test_forum_post_with_tags(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    forum = bot.get_channel(world.til.id)
    assert isinstance(forum, discord.ForumChannel)
    aws = next(tag for tag in forum.available_tags if tag.name == "AWS")
    created = await forum.create_thread(name="EC2 today", content="I learned EC2", applied_tags=[aws])
    [post] = fake.threads(world.til)
    assert post.name == "EC2 today" and post.applied_tags == ["AWS"]
    assert [m.content for m in post.messages] == ["I learned EC2"]
    assert created.message.id == post.id


async def test_a_forum_that_requires_tags_refuses_a_post_without_one(fake: FakeDiscord, world: World) -> None:
    strict = fake.add_forum_channel(world.guild, "strict", tags=["AWS"], require_tag=True)
    tiny = TinyBot()
    async with start_bot(fake, tiny):
        forum = tiny.get_channel(strict.id)
        assert isinstance(forum, discord.ForumChannel) and forum.flags.require_tag
        with pytest.raises(discord.HTTPException) as refused:
            await forum.create_thread(name="EC2 today", content="I learned EC2")
        await forum.create_thread(name="EC2 today", content="I learned EC2", applied_tags=forum.available_tags)
    assert refused.value.status == 400 and refused.value.code == 40067
    assert [post.applied_tags for post in fake.threads(strict)] == [["AWS"]]


# -- Discord's refusals -------------------------------------------------------------------------


async def test_late_acknowledgement_is_unknown_interaction(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    ix = await fake.slash(world.alice, world.study, "late")
    asyncio.get_running_loop().call_later(fake.ack_deadline_s + 0.05, bot.release.set)
    error = await bot.outcome()
    assert isinstance(error, discord.NotFound) and error.code == 10062
    assert ix.ack_type is None and ix.ack_error is not None and "10062" in ix.ack_error
    with pytest.raises(AssertionError, match="refused"):
        await ix.wait_acked()


async def test_double_acknowledgement(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    ix = await fake.slash(world.alice, world.study, "double")
    error = await bot.outcome()
    assert isinstance(error, discord.HTTPException) and error.code == 40060
    assert ix.ack_type == 4 and ix.ack_error is not None and "40060" in ix.ack_error


async def test_token_expires_after_fifteen_minutes(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    ix = await fake.slash(world.alice, world.study, "later")
    assert await ix.wait_acked() == 5
    ix.dispatched_at -= 15 * 60 + 1
    bot.release.set()
    error = await bot.outcome()
    assert isinstance(error, discord.HTTPException) and error.code == 50027


async def test_deny_is_forbidden(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    channel = text_channel(bot, world.study)
    fake.deny(world.study)
    with pytest.raises(discord.Forbidden) as raised:
        await channel.send("hello")
    assert raised.value.code == 50013
    fake.allow(world.study)
    await channel.send("hello again")


def channel_updated(bot: TinyBot, channel: FakeChannel, event: str = "guild_channel_update") -> asyncio.Task[object]:
    """Wait (from now on) for the client to have applied an update of ``channel`` to its cache."""
    return asyncio.ensure_future(bot.wait_for(event, check=lambda _, after: after.id == channel.id, timeout=5))


async def test_deny_is_a_member_overwrite_the_client_sees(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    channel = text_channel(bot, world.study)
    me = channel.guild.me
    assert channel.permissions_for(me).send_messages
    updated = channel_updated(bot, world.study)
    fake.deny(world.study)
    await updated
    assert not channel.permissions_for(me).send_messages and not channel.permissions_for(me).view_channel
    assert channel.overwrites_for(me).send_messages is False
    with pytest.raises(discord.Forbidden) as raised:
        await channel.send("hello")
    assert raised.value.code == 50013
    updated = channel_updated(bot, world.study)
    fake.allow(world.study)
    await updated
    assert channel.permissions_for(me).send_messages and not channel.overwrites
    await channel.send("hello again")


async def test_deny_a_member_and_a_thread(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    channel = text_channel(bot, world.study)
    alice = channel.guild.get_member(world.alice.id)
    assert alice is not None
    updated = channel_updated(bot, world.study)
    fake.deny(world.study, world.alice)
    await updated
    assert not channel.permissions_for(alice).send_messages and channel.permissions_for(channel.guild.me).send_messages
    assert fake.world.channel_payload(world.study)["permission_overwrites"] == [
        {"id": str(world.alice.id), "type": 1, "allow": "0", "deny": str((1 << 10) | (1 << 11) | (1 << 38))}
    ]
    thread = await channel.create_thread(name="EC2", type=discord.ChannelType.public_thread)
    [fake_thread] = fake.threads(world.study)
    updated = channel_updated(bot, fake_thread, "thread_update")
    fake.deny(fake_thread)
    await updated
    with pytest.raises(discord.Forbidden):
        await thread.send("in the thread")
    fake.deny(fake_thread)  # already denied: nothing changes, nothing is sent
    fake.allow(fake_thread)
    await thread.send("in the thread")


async def test_an_archived_thread_refuses_edits_and_deletions_until_it_is_reopened(
    fake: FakeDiscord, world: World, bot: TinyBot
) -> None:
    thread = await text_channel(bot, world.study).create_thread(name="EC2", type=discord.ChannelType.public_thread)
    first, second = await thread.send("first"), await thread.send("second")
    [fake_thread] = fake.threads(world.study)
    archived = channel_updated(bot, fake_thread, "thread_update")
    fake.archive_thread(fake_thread)
    await archived
    with pytest.raises(discord.HTTPException) as edit_refused:
        await first.edit(content="edited")
    with pytest.raises(discord.HTTPException) as delete_refused:
        await second.delete()
    with pytest.raises(discord.HTTPException) as rename_refused:
        await thread.edit(name="EC2 again")
    fetched = await bot.fetch_channel(fake_thread.id)
    reopened = await thread.edit(archived=False)
    await first.edit(content="edited")
    await second.delete()
    fake.archive_thread(fake_thread)
    left_out = fake.world.guild_payload(world.guild, all_members=False)["threads"]
    await thread.send("third")  # a new message reopens it
    for refused in (edit_refused, delete_refused, rename_refused):
        assert refused.value.status == 400 and refused.value.code == 50083
    assert isinstance(fetched, discord.Thread) and fetched.archived and not reopened.archived
    assert left_out == []  # GUILD_CREATE lists active threads only
    assert not fake_thread.archived and [m.content for m in fake_thread.messages] == ["edited", "third"]


async def test_deny_before_login_arrives_with_guild_create(fake: FakeDiscord, world: World) -> None:
    fake.deny(world.study)
    tiny = TinyBot()
    async with start_bot(fake, tiny):
        channel = text_channel(tiny, world.study)
        assert not channel.permissions_for(channel.guild.me).send_messages


async def test_enforced_nonce_returns_the_first_message(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    channel = text_channel(bot, world.study)
    echoed = asyncio.ensure_future(bot.wait_for("message", check=lambda m: m.nonce == "daily-1", timeout=5))
    first = await channel.send("question of the day", nonce="daily-1")
    assert first.nonce == "daily-1" and (await echoed).id == first.id
    again = await channel.send("question of the day", nonce="daily-1")
    assert again.id == first.id
    assert [m.content for m in fake.channel_messages(world.study)] == ["question of the day"]
    sent = fake.requests_to("POST", "/channels/{channel_id}/messages")
    assert [(r.json["nonce"], r.json["enforce_nonce"]) for r in sent] == [("daily-1", True)] * 2
    echoed = asyncio.ensure_future(bot.wait_for("message", check=lambda m: m.nonce == "daily-2", timeout=5))
    second = await channel.send("question of the day", nonce="daily-2")
    assert second.id != first.id and len(fake.channel_messages(world.study)) == 2
    await echoed  # frames go out in order: every MESSAGE_CREATE before it has been sent too
    [session] = fake.gateway.sessions.values()
    creates = [f["d"] for f in session.sent if f["t"] == "MESSAGE_CREATE"]
    assert [d["nonce"] for d in creates] == ["daily-1", "daily-2"]
    fetched = await channel.fetch_message(first.id)
    assert fetched.nonce is None  # only the create response and MESSAGE_CREATE echo it


async def test_nonce_is_validated(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    channel = text_channel(bot, world.study)
    with pytest.raises(discord.HTTPException) as raised:
        await channel.send("too long", nonce="n" * 26)
    assert raised.value.status == 400 and raised.value.code == 50035
    assert "25 or fewer" in str(raised.value)
    assert (await channel.send("25 is fine", nonce="n" * 25)).nonce == "n" * 25
    assert (await channel.send("an integer", nonce=1234567890123456789)).nonce == "1234567890123456789"
    params = discord.http.handle_message_parameters(content="x")
    params.payload["nonce"] = {"not": "allowed"}  # type: ignore[index]
    with pytest.raises(discord.HTTPException) as wrong_type:
        await bot.http.send_message(world.study.id, params=params)
    assert wrong_type.value.code == 50035 and "string or integer" in str(wrong_type.value)
    assert [m.content for m in fake.channel_messages(world.study)] == ["25 is fine", "an integer"]


async def test_nonce_without_enforce_nonce_is_only_echoed(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    params = discord.http.handle_message_parameters(content="twice", nonce="same")
    params.payload.pop("enforce_nonce")  # type: ignore[union-attr]
    first = await bot.http.send_message(world.study.id, params=params)
    second = await bot.http.send_message(world.study.id, params=params)
    assert first["nonce"] == second["nonce"] == "same" and first["id"] != second["id"]
    fake.world.nonce_window_s = 0  # an enforced nonce is only remembered for a while
    enforced = discord.http.handle_message_parameters(content="later", nonce="n")
    one = await bot.http.send_message(world.study.id, params=enforced)
    two = await bot.http.send_message(world.study.id, params=enforced)
    assert one["id"] != two["id"]


async def test_deleted_message_then_edit_is_not_found(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    sent = await text_channel(bot, world.study).send("soon gone")
    fake.delete_message(fake.world.messages[sent.id])
    with pytest.raises(discord.NotFound) as raised:
        await sent.edit(content="still here?")
    assert raised.value.code == 10008
    fake.delete_channel(world.study)
    with pytest.raises(discord.NotFound) as gone:
        await bot.http.send_message(world.study.id, params=discord.http.handle_message_parameters(content="x"))
    assert gone.value.code == 10003


async def test_server_error_is_retried(fake: FakeDiscord, world: World, bot: TinyBot) -> None:
    fake.fail_next("POST", r"/channels/\d+/messages$", status=500)
    await text_channel(bot, world.study).send("after a 500")
    assert [r.status for r in fake.requests_to("POST", "/channels/{channel_id}/messages")] == [500, 200]


# -- rate limits --------------------------------------------------------------------------------


def _bot_on(fake: FakeDiscord) -> tuple[World, TinyBot]:
    return World(fake), TinyBot()


async def test_forced_429_is_retried_transparently() -> None:
    """Without X-RateLimit headers on successes discord.py cannot wait ahead and meets the 429."""
    fake = FakeDiscord(message_limit=1, message_per=0.2, send_ratelimit_headers=False)
    world, tiny = _bot_on(fake)
    async with running_fake_discord(fake), start_bot(fake, tiny):
        channel = text_channel(tiny, world.study)
        for index in range(3):
            await channel.send(f"message {index}")
        assert fake.count_429 >= 1
        assert [m.content for m in fake.channel_messages(world.study)] == ["message 0", "message 1", "message 2"]
        limited = [r for r in fake.requests if r.status == 429]
        assert limited[0].bucket == f"channel-messages:channel={world.study.id}"


async def test_headers_let_discord_py_wait_ahead() -> None:
    fake = FakeDiscord(message_limit=2, message_per=0.2)
    world, tiny = _bot_on(fake)
    async with running_fake_discord(fake), start_bot(fake, tiny):
        channel = text_channel(tiny, world.study)
        for index in range(5):
            await channel.send(f"message {index}")
        assert fake.count_429 == 0
        assert len(fake.channel_messages(world.study)) == 5


async def test_global_limit_is_honoured() -> None:
    fake = FakeDiscord(global_limit=3, global_per=0.3)
    world, tiny = _bot_on(fake)
    channels = [world.study] + [fake.add_text_channel(world.guild, f"room-{n}") for n in range(5)]
    async with running_fake_discord(fake), start_bot(fake, tiny):
        await asyncio.gather(*(text_channel(tiny, c).send("hi") for c in channels))
        assert fake.global_429 >= 1
        assert all(len(fake.channel_messages(c)) == 1 for c in channels)


def test_limiter_windows_and_interaction_exemption() -> None:
    now = [0.0]
    limiter = FixedWindowLimiter(clock=lambda: now[0])
    spec = BucketSpec("b", limit=2, per=1.0)
    assert [limiter.hit("k", spec).allowed for _ in range(3)] == [True, True, False]
    assert limiter.hit("other", spec).allowed  # another resource, another window
    refused = limiter.hit("k", spec)
    assert refused.remaining == 0 and refused.reset_after == pytest.approx(1.0)
    now[0] = 1.0
    assert limiter.hit("k", spec).allowed
    policy = RateLimitPolicy()
    assert policy.is_global_exempt("/interactions/{interaction_id}/{token}/callback")
    assert policy.is_global_exempt("/webhooks/{application_id}/{token}/messages/{message_id}")
    assert not policy.is_global_exempt("/channels/{channel_id}/messages")
    assert policy.bucket_for("POST", "/interactions/{interaction_id}/{token}/callback") is None
    webhook = policy.bucket_for("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}")
    assert webhook is not None and (webhook.limit, webhook.per) == (5, 2.0)
    create = policy.bucket_for("POST", "/channels/{channel_id}/messages")
    edit = policy.bucket_for("PATCH", "/channels/{channel_id}/messages/{message_id}")
    assert create == edit and create is not None and (create.limit, create.per) == (5, 5.0)
    assert policy.major_key("/channels/{channel_id}/messages", {"channel_id": "7"}) == "channel=7"


async def test_interaction_endpoints_skip_the_global_limit() -> None:
    fake = FakeDiscord(global_limit=3, global_per=5.0)  # just enough to log in and sync
    world, tiny = _bot_on(fake)
    async with running_fake_discord(fake), start_bot(fake, tiny):
        await tiny.tree.sync()
        fake.reset_records()
        ix = await fake.slash(world.alice, world.study, "secret")
        assert len(await ix.settled(quiet=0.2)) == 3
        assert fake.global_429 == 0
        assert all(r.is_interaction_endpoint for r in fake.requests)


def test_user_objects_are_plain_data() -> None:
    user = FakeUser(1, "carol")
    assert user.payload()["username"] == "carol"
