"""The interactive playground: a prompt_toolkit prompt with Tab completion from the synced command tree.

Time flows as on Discord (a quiz question closes after its seconds) and `time` jumps it. A streamed answer
is re-drawn in place while it grows; what happens while the prompt waits (a quiz timer, a daily post) is
printed above the prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import shlex
import shutil
import signal
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.utils import get_cwidth

from bot.config import Settings
from bot.playground._session import (
    BOOLEAN,
    CHANNEL,
    MENTIONABLE,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
    Playground,
)

JSON = dict[str, Any]
WATCH_EVERY_S = 0.3
LINE_WORDS = (
    "as ",
    "in ",
    "dm: ",
    "say: ",
    "click ",
    "fill ",
    "field ",
    "submit",
    "cancel",
    "time +",
    "wait",
    "help",
    "quit",
)


class TerminalOutput:
    """Final lines are printed; a live preview is re-drawn in place (when it fits on the screen)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._live_rows = 0

    def _out(self) -> TextIO:
        # Resolved at each write: while the prompt is shown, sys.stdout is prompt_toolkit's proxy.
        return self._stream or sys.stdout

    def _clear_live(self) -> None:
        if self._live_rows:
            self._out().write(f"\x1b[{self._live_rows}F\x1b[J")
            self._live_rows = 0

    def keep(self) -> None:
        """Whatever preview is on screen stays there (the prompt comes next; a later message re-shows it)."""
        self._live_rows = 0

    def show(self, lines: Sequence[str]) -> None:
        self._clear_live()
        out = self._out()
        for line in lines:
            out.write(line + "\n")
        out.flush()

    def live(self, lines: Sequence[str]) -> None:
        size = shutil.get_terminal_size()
        rows = sum(max(1, math.ceil(get_cwidth(line) / max(size.columns, 1))) for line in lines)
        if rows >= size.lines or not self._out().isatty():
            return  # taller than the screen: cannot be re-drawn in place; the final state is printed anyway
        self._clear_live()
        out = self._out()
        for line in lines:
            out.write(line + "\n")
        out.flush()
        self._live_rows = rows


def suggestions(
    text: str, commands: Sequence[JSON], members: Sequence[str], channels: Sequence[str], *, form_open: bool = False
) -> list[str]:
    """What may complete the last word of `text` (a partial line): the candidates, whole words."""
    if form_open and not text.startswith(("/", "submit", "cancel", "field")):
        return [word for word in ("submit", "cancel", "field ") if word.startswith(text)] if text else []
    if text.startswith("/"):
        return _slash_suggestions(text[1:], commands, members, channels)
    word, space, rest = text.partition(" ")
    if not space:
        return [w for w in LINE_WORDS if w.startswith(word.lower())] + (["/"] if not word else [])
    if word == "as":
        return [m for m in members if m.startswith(rest.lower())]
    if word == "in":
        return [c for c in [*(f"#{c}" for c in channels), "dm"] if c.startswith(rest.lower())]
    if word == "time":
        return [t for t in ("+1d", "+1h", "+30m", "+30s") if t.startswith(rest)]
    return []


def _slash_suggestions(
    text: str, commands: Sequence[JSON], members: Sequence[str], channels: Sequence[str]
) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if text.endswith(" ") or not words:
        words.append("")
    *done, current = words
    if not done:
        return [f"/{c['name']}" for c in commands if str(c["name"]).startswith(current)]
    command = next((c for c in commands if c["name"] == done[0]), None)
    if command is None:
        return []
    schema: list[JSON] = command.get("options") or []
    given: set[str] = set()
    for word in done[1:]:
        if ":" in word:
            given.add(word.split(":", 1)[0])
            continue
        sub = next((o for o in schema if o["name"] == word and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)), None)
        if sub is None:
            return []
        schema = sub.get("options") or []
    subs = [o["name"] for o in schema if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
    if subs:
        return [s for s in subs if s.startswith(current)]
    if ":" in current:
        name, value = current.split(":", 1)
        option = next((o for o in schema if o["name"] == name), None)
        return [f"{name}:{v}" for v in _values(option, members, channels) if v.startswith(value)] if option else []
    free = [o for o in schema if o["name"] not in given]
    free.sort(key=lambda o: not o.get("required", False))  # required options first
    return [f"{o['name']}:" for o in free if str(o["name"]).startswith(current)]


def _values(option: JSON, members: Sequence[str], channels: Sequence[str]) -> Iterable[str]:
    if option.get("choices"):
        return [str(choice["value"]) for choice in option["choices"]]
    kind = option["type"]
    if kind == BOOLEAN:
        return ["yes", "no"]
    if kind in (USER, MENTIONABLE):
        return [f"@{m}" for m in members]
    if kind == CHANNEL:
        return [f"#{c}" for c in channels]
    return []


class PlaygroundCompleter(Completer):
    def __init__(self, playground: Playground) -> None:
        self._playground = playground

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        playground = self._playground
        found = suggestions(
            text,
            playground.commands(),
            playground.member_names(),
            playground.channel_names(),
            form_open=playground.form is not None,
        )
        last = text.rsplit(" ", 1)[-1] if " " in text else text
        for candidate in found:
            yield Completion(candidate, start_position=-len(last))


async def _watch(playground: Playground) -> None:
    """While the prompt waits: show what the bot does meanwhile (quiz timers, daily posts). An answer still
    being written is shown once it is done, not at every edit (it cannot be re-drawn above the prompt)."""
    while True:
        await asyncio.sleep(WATCH_EVERY_S)
        if not playground.streaming:
            playground.flush()


async def _execute(playground: Playground, output: TerminalOutput, line: str) -> bool:
    """One line; Ctrl-C stops waiting for the bot (which goes on) instead of leaving the playground."""
    task = asyncio.ensure_future(playground.execute(line))
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        task.cancel()

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows: Ctrl-C leaves
        loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        return await task
    except asyncio.CancelledError:
        if not interrupted:
            raise
        output.keep()
        output.show(["  ! stopped waiting; the bot goes on (`wait` shows the rest)"])
        return True
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGINT)


async def run_interactive(settings: Settings, *, db: Path | None = None) -> int:
    output = TerminalOutput()
    playground = Playground(settings, output=output, db=db, flowing_time=True, echo=False)
    try:
        await playground.start()
    except Exception as error:
        print(f"The bot failed to start: {error!r}", file=sys.stderr)
        return 1
    session: PromptSession[str] = PromptSession(
        history=InMemoryHistory(), completer=PlaygroundCompleter(playground), complete_while_typing=True
    )
    try:
        while True:
            watcher = asyncio.create_task(_watch(playground))
            try:
                with patch_stdout(raw=True):
                    line = await session.prompt_async(playground.prompt)
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            output.keep()
            if not await _execute(playground, output, line):
                break
    finally:
        await playground.stop()
    return 0
