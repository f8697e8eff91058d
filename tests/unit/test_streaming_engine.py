"""The reply engine with a recording sink and a manual clock: no Discord, no real time."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bot.streaming.engine import (
    Notices,
    Outcome,
    ReplyStream,
    SinkFailed,
    SinkGone,
    SinkRateLimited,
)
from bot.streaming.pacing import EditScheduler, ManualClock, webhook_key

NOTICES = Notices(
    stopped="[stopped]",
    shutdown="[restarting]",
    truncated="[truncated]",
    empty="[empty]",
    failed=lambda error: f"[failed: {type(error).__name__}]",
)


@dataclass
class Shown:
    page: int
    text: str
    final: bool
    closing: bool


@dataclass
class RecordingSink:
    """Remembers every page it was asked to show; can fail on chosen calls."""

    bucket_key: str = webhook_key(1)
    shown: list[Shown] = field(default_factory=list)
    failures: dict[int, Exception] = field(default_factory=dict)  # call number -> error to raise
    gate: asyncio.Event | None = None  # when set, each show waits for it (a slow Discord)
    first_shown: asyncio.Event = field(default_factory=asyncio.Event)

    async def show(self, page: int, text: str, *, final: bool, closing: bool = False) -> None:
        call = len(self.shown)
        self.shown.append(Shown(page, text, final, closing))
        self.first_shown.set()
        if self.gate is not None:
            await self.gate.wait()
        if call in self.failures:
            raise self.failures[call]

    def pages(self) -> dict[int, str]:
        """What a user sees at the end: the last text shown on each page."""
        return {shown.page: shown.text for shown in self.shown}


def scheduler(min_interval: float = 1.0) -> EditScheduler:
    clock = ManualClock()

    async def instant_sleep(delay: float) -> None:
        clock.advance(delay)
        await asyncio.sleep(0)

    return EditScheduler(clock, min_interval=min_interval, sleep=instant_sleep)


class Chunks:
    """An async stream of chunks that records whether it was closed (i.e. the model call ended)."""

    def __init__(self, chunks: list[str], *, fail: Exception | None = None, hold: asyncio.Event | None = None):
        self._chunks = chunks
        self._fail = fail
        self._hold = hold
        self.closed = False
        self.consumed = 0

    async def stream(self) -> AsyncIterator[str]:
        try:
            for chunk in self._chunks:
                await asyncio.sleep(0)
                self.consumed += 1
                yield chunk
            if self._hold is not None:
                await self._hold.wait()
            if self._fail is not None:
                raise self._fail
        finally:
            self.closed = True


def reply(chunks: Chunks, sink: RecordingSink, **kwargs: object) -> ReplyStream:
    return ReplyStream(chunks.stream(), sink, scheduler(), NOTICES, stream_id=1, **kwargs)  # type: ignore[arg-type]


async def test_the_final_edit_shows_the_exact_full_text_whatever_the_cadence_dropped() -> None:
    words = [f"w{n} " for n in range(300)]
    sink = RecordingSink()
    result = await reply(Chunks(words), sink).run()
    assert result.outcome is Outcome.COMPLETED
    assert sink.pages() == {0: "".join(words).rstrip()}
    assert sink.shown[-1].final and sink.shown[-1].closing
    partial = [shown.text.removesuffix(" ▌") for shown in sink.shown[:-1]]
    assert all(later.startswith(earlier) and later != earlier for earlier, later in itertools.pairwise(partial))


async def test_intermediate_updates_show_a_cursor_and_only_grow() -> None:
    hold = asyncio.Event()
    sink = RecordingSink()
    stream = reply(Chunks(["Hello", " world"], hold=hold), sink)
    task = asyncio.create_task(stream.run())
    await sink.first_shown.wait()
    assert sink.shown[0].text.endswith("▌") and not sink.shown[0].final
    hold.set()
    await task
    assert sink.pages()[0] == "Hello world"


async def test_a_long_answer_is_split_into_pages_at_paragraphs_with_code_fences_reopened() -> None:
    paragraph = "Auto Scaling adds instances when CPU is high. " * 20
    code = "```python\n" + "".join(f"print({n})\n" for n in range(300)) + "```"
    text = f"{paragraph}\n\n{code}\n\n{paragraph}"
    sink = RecordingSink()
    await reply(Chunks([text[i : i + 7] for i in range(0, len(text), 7)]), sink).run()
    pages = sink.pages()
    assert len(pages) >= 3
    for page in pages.values():
        assert len(page) <= 2000
        assert page.count("```") % 2 == 0
    assert pages[0].startswith(paragraph.strip())
    assert pages[0].endswith("\n```")  # the open code block is closed at the cut...
    assert pages[1].startswith("```python\n")  # ...and reopened on the next page
    assert pages[max(pages)].endswith(paragraph.strip())
    assert [shown.closing for shown in sink.shown].count(True) == 1


async def test_reasoning_is_hidden_while_streaming_and_at_the_end() -> None:
    sink = RecordingSink()
    await reply(Chunks(["<thi", "nk>secret plan</think>", "\n\nThe answer."]), sink).run()
    assert all("secret" not in shown.text and "<thi" not in shown.text for shown in sink.shown)
    assert sink.pages() == {0: "The answer."}


async def test_stop_keeps_the_partial_answer_marks_it_and_closes_the_model_stream() -> None:
    hold = asyncio.Event()
    chunks = Chunks(["Partial answer"], hold=hold)
    sink = RecordingSink()
    stream = reply(chunks, sink)
    task = asyncio.create_task(stream.run())
    await sink.first_shown.wait()
    stream.stop()
    result = await task
    assert result.outcome is Outcome.STOPPED
    assert sink.pages()[0] == "Partial answer\n\n[stopped]"
    assert chunks.closed


async def test_a_model_failure_shows_what_arrived_and_a_notice() -> None:
    sink = RecordingSink()
    result = await reply(Chunks(["Half an ", "answer"], fail=ConnectionError("cut")), sink).run()
    assert result.outcome is Outcome.FAILED and isinstance(result.error, ConnectionError)
    assert sink.pages()[0] == "Half an answer\n\n[failed: ConnectionError]"


async def test_a_failure_before_any_text_shows_only_the_notice() -> None:
    sink = RecordingSink()
    await reply(Chunks([], fail=TimeoutError()), sink).run()
    assert sink.pages() == {0: "[failed: TimeoutError]"}


async def test_an_empty_answer_says_so_and_a_length_finish_says_truncated() -> None:
    empty = RecordingSink()
    await reply(Chunks(["", "  "]), empty).run()
    assert empty.pages() == {0: "[empty]"}
    cut = RecordingSink()
    await reply(Chunks(["Cut"]), cut, truncated=lambda: True).run()
    assert cut.pages() == {0: "Cut\n\n[truncated]"}


async def test_a_gone_message_cancels_the_model_call_and_stops_editing() -> None:
    hold = asyncio.Event()
    chunks = Chunks(["a", "b"], hold=hold)
    sink = RecordingSink(failures={0: SinkGone("404 Unknown Message")})
    result = await reply(chunks, sink).run()
    assert result.outcome is Outcome.GONE
    assert len(sink.shown) == 1
    assert chunks.closed


async def test_a_long_rate_limit_skips_intermediate_edits_and_the_final_text_is_retried() -> None:
    sink = RecordingSink(failures={0: SinkRateLimited(30.0), 1: SinkRateLimited(30.0)})
    result = await reply(Chunks(["one ", "two"]), sink).run()
    assert result.outcome is Outcome.COMPLETED
    assert sink.pages() == {0: "one two"}
    assert sink.shown[-1].final


async def test_a_failing_final_edit_is_retried_then_given_up_without_crashing() -> None:
    sink = RecordingSink(failures={n: SinkFailed("503") for n in range(10)})
    result = await reply(Chunks(["x"]), sink).run()
    assert result.outcome is Outcome.COMPLETED
    assert 1 < len(sink.shown) <= 5


async def test_a_slow_discord_never_stalls_reading_the_model() -> None:
    gate = asyncio.Event()
    chunks = Chunks([f"{n} " for n in range(200)])
    sink = RecordingSink(gate=gate)
    task = asyncio.create_task(reply(chunks, sink).run())
    for _ in range(1000):
        if chunks.closed:
            break
        await asyncio.sleep(0)
    assert chunks.consumed == 200 and chunks.closed  # the whole stream was read while the first edit hung
    assert len(sink.shown) == 1
    gate.set()
    await task
    assert sink.pages()[0] == "".join(f"{n} " for n in range(200)).rstrip()


@pytest.mark.parametrize("pages", [1, 3])
async def test_interrupt_at_shutdown_marks_the_answer(pages: int) -> None:
    hold = asyncio.Event()
    text = ("word " * 450 + "\n\n") * pages
    sink = RecordingSink()
    stream = reply(Chunks([text], hold=hold), sink)
    task = asyncio.create_task(stream.run())
    await sink.first_shown.wait()
    stream.interrupt()
    await task
    final = sink.pages()
    assert final[max(final)].endswith("[restarting]")
