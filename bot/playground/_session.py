"""The playground engine: the real bot against the embedded fake Discord, driven one line at a time.

Every line acts as a member would in Discord (a slash command, a click, a form, a DM) through the fake's
user-side actions; the bot answers through the real discord.py client, and what changed in the world is
rendered. Nothing here calls a service: the bot cannot tell the playground from Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import discord
from pydantic import SecretStr

from bot.app import build_services
from bot.bot import StudyBuddy
from bot.config import Settings
from bot.devtools.fake_discord import (
    FakeChannel,
    FakeDiscord,
    FakeDiscordUsageError,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    running_fake_discord,
    start_bot,
)
from bot.playground import _lines as lines
from bot.playground._clock import PlaygroundClock
from bot.playground._lines import HELP
from bot.playground._render import EPHEMERAL, Names, Shown, modal_fields, render, render_modal

JSON = dict[str, Any]
log = logging.getLogger(__name__)

# Option types (https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-type)
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
CHAT_INPUT = 1
DM_TYPE, GUILD_FORUM = 1, 15
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}

QUIET_S = 0.2  # the bot is settled once no request reached Discord for this long and no answer streams
PREVIEW_EVERY_S = 0.15  # how often a growing answer is re-drawn
SETTLE_LIMIT_S = 120.0  # a line gives up waiting after this (a slow model); `wait` waits again
TIMER_GRACE_S = 0.5  # after time moves, how long a woken timer may take before the next step
MAX_TIME_STEPS = 20_000
START_ZONE = "Asia/Seoul"  # the daily quiz's default zone; `time ... ZONE` changes what times are shown in


class Output(Protocol):
    """Where the playground's lines go: `show` is final; `live` is a preview the next call replaces."""

    def show(self, lines: Sequence[str]) -> None: ...

    def live(self, lines: Sequence[str]) -> None: ...


class PrintOutput:
    """Script mode: final lines only, to a text stream."""

    def __init__(self, write: Callable[[str], object]) -> None:
        self._write = write

    def show(self, lines: Sequence[str]) -> None:
        for line in lines:
            self._write(line + "\n")

    def live(self, lines: Sequence[str]) -> None:
        pass


@dataclass
class World:
    """The simulated study server."""

    guild: FakeGuild
    channels: dict[str, FakeChannel]
    members: dict[str, FakeUser]
    moderators: FakeRole

    @classmethod
    def build(cls, fake: FakeDiscord) -> World:
        with fake.world.stable_ids():
            return cls._build(fake)

    @classmethod
    def _build(cls, fake: FakeDiscord) -> World:
        guild = fake.add_guild("Study Group", locale="ko")
        moderators = fake.add_role(
            guild, "Moderators", permissions=discord.Permissions(manage_messages=True, manage_guild=True).value
        )
        channels = {name: fake.add_text_channel(guild, name) for name in ("study", "lounge", "quiz")}
        channels["til"] = fake.add_forum_channel(guild, "til", tags=["AWS", "LangChain", "ADsP"])
        members = {
            "mod": fake.add_member(guild, "mod", roles=[moderators], locale="ko"),
            "alice": fake.add_member(guild, "alice", locale="ko"),
            "bob": fake.add_member(guild, "bob", locale="en-US"),
        }
        return cls(guild, channels, members, moderators)

    def describe(self) -> str:
        texts = " ".join(f"#{name}" for name, c in self.channels.items() if c.type != GUILD_FORUM)
        forums = [c for c in self.channels.values() if c.type == GUILD_FORUM]
        forum = ", ".join(f"#{c.name} (tags {', '.join(t['name'] for t in c.available_tags)})" for c in forums)
        people = []
        for name, member in self.members.items():
            roles = self.guild.member_roles.get(member.id, [])
            people.append(f"{name} ({member.locale}{', moderator' if self.moderators.id in roles else ''})")
        return f"{self.guild.name}: channels {texts}, forum {forum}; members {', '.join(people)}"


@dataclass
class Form:
    """A modal the bot opened, being filled line by line."""

    opened_by: FakeInteraction
    fields: list[tuple[str, str, bool, int]]  # label, custom_id, required, style
    values: dict[str, str] = field(default_factory=dict)  # custom_id -> value

    def next_empty(self) -> tuple[str, str, bool, int] | None:
        return next((f for f in self.fields if f[1] not in self.values), None)

    def find(self, name: str) -> tuple[str, str, bool, int] | None:
        """A field by its number, its label or its custom id."""
        if name.isdigit():
            return self.fields[int(name) - 1] if 0 < int(name) <= len(self.fields) else None
        wanted = name.casefold()
        return next((f for f in self.fields if wanted in (f[0].casefold(), f[1].casefold())), None)


class Playground:
    """The running bot, the fake Discord and the simulated guild; `execute` one line at a time."""

    def __init__(
        self,
        settings: Settings,
        *,
        output: Output,
        db: Path | None = None,
        flowing_time: bool = False,
        start: datetime | None = None,
        echo: bool = True,
    ) -> None:
        self._output = output
        self._echo = echo
        self._db = db
        self._settings = settings
        start = start or datetime.now(UTC).replace(second=0, microsecond=0)
        self.clock = PlaygroundClock(start, flowing=flowing_time)
        self.zone = ZoneInfo(START_ZONE)
        self.fake = FakeDiscord()
        self.world = World.build(self.fake)
        self.member = self.world.members["alice"]
        self.channel: FakeChannel | None = self.world.channels["study"]  # None: the member's DM with the bot
        self.form: Form | None = None
        self._bot: StudyBuddy | None = None
        self._stack = contextlib.AsyncExitStack()
        self._numbers: dict[int, int] = {}  # message id -> the number it is shown with
        self._shown_edits: dict[int, int] = {}  # message id -> edits already shown
        self._shown_deleted: set[int] = set()
        self._own: set[int] = set()  # messages the playground's members wrote (echoed as the line itself)
        self._settled_requests = 0

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def bot(self) -> StudyBuddy:
        assert self._bot is not None, "the playground is not started"
        return self._bot

    async def start(self) -> None:
        """Starts the fake Discord and logs the real bot into it; raises if the bot cannot start."""
        try:
            if self._db is None:
                folder = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="studybuddy-playground-"))
                database = Path(folder) / "playground.db"
            else:
                database = self._db
            await self._stack.enter_async_context(running_fake_discord(self.fake))
            settings = self._settings.model_copy(
                update={
                    "discord_token": SecretStr(self.fake.bot_token),
                    "database": database,
                    "dev_guild": None,
                }
            )
            self._bot = StudyBuddy(await build_services(settings, clock=self.clock))
            await self._stack.enter_async_context(start_bot(self.fake, self._bot, timeout=30))
            await self.fake.wait_synced(timeout=30)
            await self._settle()
        except BaseException:
            await self._stack.aclose()
            raise
        self._commit()  # nothing the bot did while starting is news
        self._output.show(self.banner(database))

    async def stop(self) -> None:
        await self._stack.aclose()

    async def __aenter__(self) -> Playground:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    def banner(self, database: Path) -> list[str]:
        settings = self.bot.services.settings
        if settings.llm_configured:
            model = f"{settings.model} at {settings.openai_base_url or 'OpenAI'}"
        else:
            model = 'none configured (LLM commands answer "not configured"; set OPENAI_API_KEY or OPENAI_BASE_URL)'
        kept = "kept" if self._db is not None else "thrown away at the end"
        return [
            "StudyBuddy playground: the real bot on a local, simulated Discord.",
            f"  server   {self.world.describe()}",
            f"  model    {model}",
            f"  database {database} ({kept})",
            f"  time     {self.format_time(self.clock.now())}{'' if self.clock.flowing else ', still until `time`'}",
            "Type `help` for what you can do.",
        ]

    # -- the prompt and completion ----------------------------------------------------------------

    @property
    def where(self) -> str:
        return "dm" if self.channel is None else f"#{self.channel.name}"

    @property
    def prompt(self) -> str:
        if self.form is not None:
            empty = self.form.next_empty()
            return f"{self.member.name} > form field {empty[0] if empty else '(submit)'}: "
        return f"{self.member.name} @ {self.where} > "

    def commands(self) -> list[JSON]:
        """The synced slash commands, as Discord stores them (the guild's first, then global ones)."""
        found: dict[str, JSON] = {}
        for scope in (self.world.guild.id, None):
            for command in self.fake.commands(scope):
                if command.get("type", CHAT_INPUT) == CHAT_INPUT:
                    found.setdefault(command["name"], command)
        return sorted(found.values(), key=lambda c: str(c["name"]))

    def member_names(self) -> list[str]:
        return list(self.world.members)

    def channel_names(self) -> list[str]:
        return [c.name for c in self._text_channels()]

    def format_time(self, when: datetime) -> str:
        local = when.astimezone(self.zone)
        return local.strftime(f"%Y-%m-%d %H:%M{':%S' if local.second else ''} ({self.zone.key})")

    # -- one line -------------------------------------------------------------------------------

    async def execute(self, line: str) -> bool:
        """Acts on one line and shows what happened; False once the line was `quit`."""
        self.flush()
        if self._echo and line.strip():
            self._output.show([f"{self.prompt}{line.strip()}"])
        try:
            parsed = lines.parse(line, form_open=self.form is not None)
        except lines.LineError as error:
            self._note(str(error))
            return True
        if parsed is None:
            return True
        if isinstance(parsed, lines.Quit):
            return False
        try:
            await self._act(parsed)
        except (lines.LineError, FakeDiscordUsageError) as error:
            self._note(str(error))
        except Exception as error:  # the session goes on; the bot's own failures are in its log
            log.exception("playground line failed: %s", line)
            self._note(f"the playground could not do that: {error!r}")
        self.flush()
        return True

    @property
    def streaming(self) -> bool:
        """An answer is being written right now."""
        return bool(len(self.bot.services.streams))

    async def _act(self, line: lines.Line) -> None:
        if self.form is not None and not isinstance(
            line, lines.Fill | lines.Submit | lines.Cancel | lines.Wait | lines.Help | lines.TimeBy | lines.TimeTo
        ):
            title = (self.form.opened_by.modal or {}).get("title")
            self._note(f"(the form {title!r} was closed without sending)")
            self.form = None
        match line:
            case lines.Help():
                self._output.show(HELP.splitlines())
            case lines.Wait():
                if not await self._settle(limit=SETTLE_LIMIT_S):
                    self._note("the bot is still busy; `wait` again to keep waiting")
            case lines.ActAs(member=name):
                self.member = self._member(name)
            case lines.GoTo(channel=name):
                self.channel = None if name == "dm" else self._text_channel(name)
            case lines.Slash():
                await self._slash(line)
            case lines.Say(text=text, dm=dm):
                await self._say(text, dm=dm)
            case lines.Click():
                await self._click(line)
            case lines.Fill():
                await self._fill(line)
            case lines.Submit():
                await self._submit()
            case lines.Cancel():
                if self.form is None:
                    raise lines.LineError("no form is open")
                self.form = None
                self._note("form closed without sending")
            case lines.TimeBy(delta=delta):
                await self.travel(self.clock.now() + delta)
            case lines.TimeTo(when=when, zone=zone):
                self.zone = zone
                await self.travel(when)

    def _note(self, text: str) -> None:
        self._output.show([f"  ! {text}"])

    # -- who and where --------------------------------------------------------------------------

    def _member(self, name: str) -> FakeUser:
        found = self.world.members.get(name.casefold())
        if found is None:
            raise lines.LineError(f"unknown member {name!r}; members: {', '.join(self.world.members)}")
        return found

    def _text_channels(self) -> list[FakeChannel]:
        return [c for c in self.world.guild.channels if not c.deleted and c.type != GUILD_FORUM]

    def _guild_channel(self, name: str) -> FakeChannel:
        wanted = name.removeprefix("#").casefold()
        for channel in self.world.guild.channels:
            if not channel.deleted and channel.name.casefold() == wanted:
                return channel
        known = ", ".join(f"#{c.name}" for c in self.world.guild.channels if not c.deleted)
        raise lines.LineError(f"unknown channel #{wanted}; channels: {known}")

    def _text_channel(self, name: str) -> FakeChannel:
        wanted = name.removeprefix("#").casefold()
        for channel in self._text_channels():
            if channel.name.casefold() == wanted:
                return channel
        if any(c.name.casefold() == wanted for c in self.world.guild.channels if c.type == GUILD_FORUM):
            raise lines.LineError(f"#{wanted} is a forum: commands run in text channels or in its posts")
        known = ", ".join(f"#{c.name}" for c in self._text_channels())
        raise lines.LineError(f"unknown channel #{wanted}; channels: {known}, or `in dm`")

    # -- slash commands -------------------------------------------------------------------------

    async def _slash(self, line: lines.Slash) -> None:
        name, *path = line.path
        command = next((c for c in self.commands() if c["name"] == name), None)
        if command is None:
            known = ", ".join(f"/{c['name']}" for c in self.commands())
            raise lines.LineError(f"unknown command /{name}; commands: {known}")
        schema = command.get("options") or []
        label = f"/{name}"
        for step in path:
            subs = [o for o in schema if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
            sub = next((o for o in subs if o["name"] == step), None)
            if sub is None:
                choices = ", ".join(o["name"] for o in subs) or "none"
                raise lines.LineError(f"{label} has no sub-command {step!r}; sub-commands: {choices}")
            label += f" {step}"
            schema = sub.get("options") or []
        subs = [o["name"] for o in schema if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if subs:
            raise lines.LineError(f"{label} needs a sub-command: {', '.join(subs)}")
        options = {key: self._option(label, schema, key, raw) for key, raw in line.options.items()}
        missing = [o for o in schema if o.get("required") and o["name"] not in options]
        if missing:
            wanted = "; ".join(f"{o['name']}: ({o.get('description', '')})" for o in missing)
            raise lines.LineError(f"{label} needs {wanted}")
        qualified = " ".join(line.path)
        if self.channel is None:
            interaction = await self.fake.slash_dm(self.member, qualified, **options)
        else:
            interaction = await self.fake.slash(self.member, self.channel, qualified, **options)
        await self._answered(interaction)

    def _option(self, label: str, schema: list[JSON], key: str, raw: str) -> Any:
        option = next((o for o in schema if key in (o["name"], *(o.get("name_localizations") or {}).values())), None)
        if option is None:
            known = ", ".join(o["name"] for o in schema) or "none"
            raise lines.LineError(f"{label} has no option {key!r}; options: {known}")
        name, kind = option["name"], option["type"]
        choices = option.get("choices")
        if choices:
            for choice in choices:
                names = {str(choice["value"]), choice["name"], *(choice.get("name_localizations") or {}).values()}
                if raw.casefold() in {n.casefold() for n in names}:
                    return choice["value"]
            listed = ", ".join(str(c["value"]) for c in choices)
            raise lines.LineError(f"{label} {name}: {raw!r} is not one of {listed}")
        if kind == STRING:
            return raw
        if kind == INTEGER:
            try:
                return int(raw)
            except ValueError:
                raise lines.LineError(f"{label} {name}: {raw!r} is not a whole number") from None
        if kind == NUMBER:
            try:
                return float(raw)
            except ValueError:
                raise lines.LineError(f"{label} {name}: {raw!r} is not a number") from None
        if kind == BOOLEAN:
            if raw.casefold() in TRUE_WORDS | FALSE_WORDS:
                return raw.casefold() in TRUE_WORDS
            raise lines.LineError(f"{label} {name}: {raw!r} is not yes/no (true/false)")
        if kind in (USER, MENTIONABLE) and raw.startswith("@") and raw[1:].casefold() in self.world.members:
            return self._member(raw[1:])
        if kind == USER:
            return self._member(raw.removeprefix("@"))
        if kind == CHANNEL:
            return self._guild_channel(raw)
        if kind in (ROLE, MENTIONABLE):
            wanted = raw.removeprefix("@").casefold()
            role = next((r for r in self.world.guild.roles if r.name.casefold().lstrip("@") == wanted), None)
            if role is None:
                raise lines.LineError(f"{label} {name}: unknown role {raw!r}")
            return role
        if kind == ATTACHMENT:
            path = Path(raw).expanduser()
            try:
                return (path.name, path.read_bytes())
            except OSError as error:
                raise lines.LineError(f"{label} {name}: cannot read {raw!r} ({error.strerror})") from None
        raise lines.LineError(f"{label} {name}: options of type {kind} are not supported in the playground")

    async def _answered(self, interaction: FakeInteraction) -> None:
        """Waits for the bot's acknowledgement, then for it to finish; a form it opened becomes the current one."""
        try:
            await interaction.wait_callback(timeout=self.fake.ack_deadline_s + 2)
        except TimeoutError:
            self._note("the bot did not answer (Discord shows: The application did not respond)")
        if interaction.ack_error is not None:
            self._note(f"Discord refused the bot's answer: {interaction.ack_error}")
        await self._settle()
        if interaction.modal is not None:
            self.form = Form(interaction, modal_fields(interaction.modal))
            self.flush()
            self._output.show(render_modal(interaction.modal))

    # -- messages, clicks and forms -------------------------------------------------------------

    async def _say(self, text: str, *, dm: bool) -> None:
        if dm or self.channel is None:
            message = await self.fake.dm(self.member, text)
        else:
            message = await self.fake.post_message(self.member, self.channel, text)
        self._own.add(message.id)
        await self._settle()

    def _visible_to(self, message: FakeMessage, user: FakeUser) -> bool:
        if message.deleted:
            return False
        if message.flags & EPHEMERAL:
            return self._owner(message) is user
        channel = self.fake.world.channels[message.channel_id]
        return channel.type != DM_TYPE or channel.recipient_id == user.id

    async def _click(self, line: lines.Click) -> None:
        if line.on is not None:
            number_to_id = {number: ident for ident, number in self._numbers.items()}
            ident = number_to_id.get(line.on)
            message = self.fake.world.messages.get(ident) if ident is not None else None
            if message is None or message.deleted:
                raise lines.LineError(f"there is no message [{line.on}]")
            if not self._visible_to(message, self.member):
                raise lines.LineError(f"{self.member.name} cannot see message [{line.on}]")
        else:
            candidates = [
                self.fake.world.messages[ident]
                for ident in sorted(self._numbers, key=self._numbers.__getitem__, reverse=True)
                if ident in self.fake.world.messages
            ]
            message = next((m for m in candidates if m.buttons and self._visible_to(m, self.member)), None)
            if message is None:
                raise lines.LineError(f"no message with buttons that {self.member.name} can see")
        buttons = message.buttons
        number = self._numbers[message.id]
        if isinstance(line.button, int):
            index = line.button - 1
            if not 0 <= index < len(buttons):
                raise lines.LineError(f"message [{number}] has no button {line.button} (it has {len(buttons)})")
        else:
            wanted = line.button.casefold()
            index = next((i for i, (label, _, _) in enumerate(buttons) if (label or "").casefold() == wanted), -1)
            if index < 0:
                labels = ", ".join(repr(label) for label, _, _ in buttons)
                raise lines.LineError(f"message [{number}] has no button {line.button!r}; buttons: {labels}")
        await self._answered(await self.fake.click(self.member, message, index))

    async def _fill(self, line: lines.Fill) -> None:
        form = self.form
        if form is None:
            raise lines.LineError("no form is open: `fill` answers a form the bot opened")
        target = form.find(line.field) if line.field is not None else form.next_empty()
        if target is None:
            if line.field is not None:
                names = ", ".join(repr(f[0]) for f in form.fields)
                raise lines.LineError(f"the form has no field {line.field!r}; fields: {names}")
            raise lines.LineError("every field is filled: `submit` or `cancel`")
        form.values[target[1]] = line.value
        if line.field is None and form.next_empty() is None:
            await self._submit()

    async def _submit(self) -> None:
        form = self.form
        if form is None:
            raise lines.LineError("no form is open")
        submitted = await self.fake.submit_modal(form.opened_by.user, form.opened_by, form.values)
        self.form = None  # only now: a form Discord would not send (a required field empty) stays open
        await self._answered(submitted)

    # -- time -----------------------------------------------------------------------------------

    async def travel(self, target: datetime) -> None:
        """Moves the clock to `target` timer by timer, showing what the bot does at each moment."""
        now = self.clock.now()
        if target <= now:
            raise lines.LineError(f"time only moves forward: it is {self.format_time(now)}")
        for _ in range(MAX_TIME_STEPS):
            deadline = self.clock.next_deadline()
            last = deadline is None or deadline > target
            step_to = target if last or deadline is None else max(deadline, self.clock.now())
            calls, due = self.clock.sleep_calls, self._due_at(step_to)
            requests = len(self.fake.requests)
            self.clock.jump_to(step_to)
            if due:
                await self._first_of(self.clock.wait_sleep_calls(calls + due, TIMER_GRACE_S), self._quiet())
            if len(self.fake.requests) > requests:
                await self._settle()
            if self._changes():
                self._output.show([f"⏰ {self.format_time(self.clock.now())}"])
                self.flush()
            if last:
                break
        self._output.show([f"⏰ now {self.format_time(self.clock.now())}"])

    def _due_at(self, when: datetime) -> int:
        deadline = self.clock.next_deadline()
        return 0 if deadline is None or deadline > when else self.clock.due_by(when)

    @staticmethod
    async def _first_of(*waits: Any) -> None:
        tasks = [asyncio.ensure_future(wait) for wait in waits]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- settling -------------------------------------------------------------------------------

    def _in_flight(self) -> bool:
        requests = self.fake.requests
        while self._settled_requests < len(requests) and requests[self._settled_requests].status != 0:
            self._settled_requests += 1
        return any(r.status == 0 for r in requests[self._settled_requests :])

    async def _quiet(self) -> None:
        """Returns once no request reached the fake Discord for QUIET_S and none is in flight."""
        while True:
            count = len(self.fake.requests)
            await asyncio.sleep(QUIET_S)
            if len(self.fake.requests) == count and not self._in_flight():
                return

    async def _settle(self, *, limit: float = SETTLE_LIMIT_S) -> bool:
        """Waits until no answer streams and Discord heard nothing for a moment; re-draws growing answers."""
        streams = self.bot.services.streams
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if len(streams):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PREVIEW_EVERY_S):
                        await streams.wait_idle()
                self._preview()
                continue
            count = len(self.fake.requests)
            await asyncio.sleep(QUIET_S)
            self._preview()
            if len(self.fake.requests) == count and not self._in_flight() and not len(streams):
                return True
        return False

    # -- what the members see -------------------------------------------------------------------

    def _owner(self, message: FakeMessage) -> FakeUser | None:
        for interaction in reversed(self.fake.interactions.values()):
            if any(m is message for m in interaction.messages):
                return interaction.user
        return None

    def _changes(self) -> list[tuple[FakeMessage, bool, int]]:
        """(message, new, edits not shown yet) for every message that changed since last shown."""
        found = []
        for message in self.fake.world.messages.values():
            if message.id in self._own:
                continue
            shown = self._shown_edits.get(message.id)
            if shown is None:
                if not message.deleted:
                    found.append((message, True, len(message.edits)))
            elif message.deleted:
                if message.id not in self._shown_deleted:
                    found.append((message, False, 0))
            elif len(message.edits) > shown:
                found.append((message, False, len(message.edits) - shown))
        return found

    def _render(self, changes: list[tuple[FakeMessage, bool, int]], *, commit: bool) -> list[str]:
        names = self._names()
        now = self.clock.now()
        out: list[str] = []
        next_number = max(self._numbers.values(), default=0) + 1
        for message, new, edits in changes:
            number = self._numbers.get(message.id)
            if number is None:
                number, next_number = next_number, next_number + 1
                if commit:
                    self._numbers[message.id] = number
            owner = self._owner(message) if message.flags & EPHEMERAL else None
            author = self.fake.world.users.get(message.author_id)
            shown = Shown(
                number=number,
                message=message,
                author=f"{author.name} (bot)" if author and author.bot else (author.name if author else "?"),
                where=self._where(message),
                only_for=owner.name if owner else ("the member" if message.flags & EPHEMERAL else None),
                new=new,
                edits=edits,
            )
            out.extend(render(shown, names, now=now, zone=self.zone))
            if commit:
                self._shown_edits[message.id] = len(message.edits)
                if message.deleted:
                    self._shown_deleted.add(message.id)
        return out

    def _where(self, message: FakeMessage) -> str:
        channel = self.fake.world.channels[message.channel_id]
        if channel.type == DM_TYPE:
            recipient = self.fake.world.users.get(channel.recipient_id or 0)
            return f"DM with {recipient.name if recipient else '?'}"
        if channel.parent is not None or channel.parent_id is not None:
            parent = channel.parent or self.fake.world.channels.get(channel.parent_id or 0)
            tags = f" [{', '.join(channel.applied_tags)}]" if channel.applied_tag_ids else ""
            return f"#{parent.name if parent else '?'} > {channel.name}{tags}"
        return f"#{channel.name}"

    def _names(self) -> Names:
        world = self.fake.world
        return Names(
            users={ident: user.name for ident, user in world.users.items()},
            channels={ident: channel.name for ident, channel in world.channels.items()},
            roles={role.id: role.name for guild in world.guilds.values() for role in guild.roles},
        )

    def _preview(self) -> None:
        changes = self._changes()
        if changes:
            self._output.live(self._render(changes, commit=False))

    def _commit(self) -> None:
        self._render(self._changes(), commit=True)

    async def finish(self) -> None:
        """Lets the bot finish and shows the last changes (the end of a script)."""
        await self._settle()
        self.flush()

    def flush(self) -> None:
        """Shows (for good) whatever changed since last shown: answers, edits, timers that fired."""
        changes = self._changes()
        if changes:
            self._output.show(self._render(changes, commit=True))
