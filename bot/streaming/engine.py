"""The streaming reply engine: a model's text stream rendered into messages that grow as it writes.

Reading and rendering are separate tasks. The reader drains the stream into a buffer and never
waits on Discord; the renderer shows only the latest text, when the edit scheduler grants an edit
(one cadence per stream, a budget per rate-limit bucket), so a slow edit or a 429 sleep never
stalls the model, and a slow model never delays an edit. Where the text goes is a `ReplySink`,
so this module knows nothing of Discord and is tested with a fake sink and a manual clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

from bot.streaming.pacing import EditScheduler
from bot.streaming.text import DISCORD_MESSAGE_LIMIT, Paginator, split_message, strip_reasoning

log = logging.getLogger(__name__)

CURSOR = " ▌"
FINAL_ATTEMPTS = 3


class SinkGone(Exception):
    """The message or channel is gone, or the bot may no longer write there: stop streaming."""


class SinkRateLimited(Exception):
    """Discord asked to wait longer than the client is willing to sleep."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f} s")
        self.retry_after = retry_after


class SinkFailed(Exception):
    """Any other failure to show a page (e.g. a Discord 5xx); worth retrying a final edit."""


class ReplySink(Protocol):
    """Where one streamed reply is shown, page by page (page 0 is the first message)."""

    @property
    def bucket_key(self) -> str: ...

    async def show(self, page: int, text: str, *, final: bool, closing: bool = False) -> None:
        """Shows `text` as page `page`: edits it, or sends it when `page` is one past the last page.

        `final`: this page will not change again (controls such as a Stop button go away).
        `closing`: it is the last page of the finished reply (where after-answer controls go).
        """


class Outcome(enum.Enum):
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"
    GONE = "gone"


@dataclass(frozen=True)
class StreamResult:
    text: str
    outcome: Outcome
    error: BaseException | None = None
    pages: int = 1

    @property
    def completed(self) -> bool:
        return self.outcome is Outcome.COMPLETED


@dataclass(frozen=True)
class Notices:
    """Localized lines appended to the final page to show how the stream ended."""

    stopped: str
    shutdown: str
    truncated: str
    empty: str
    failed: Callable[[BaseException], str]


class ReplyStream:
    def __init__(
        self,
        chunks: AsyncIterator[str],
        sink: ReplySink,
        scheduler: EditScheduler,
        notices: Notices,
        *,
        stream_id: Hashable,
        truncated: Callable[[], bool] = lambda: False,
        progress: Callable[[], str | None] = lambda: None,
        limit: int = DISCORD_MESSAGE_LIMIT,
    ) -> None:
        self._chunks = chunks
        self._sink = sink
        self._scheduler = scheduler
        self._notices = notices
        self._truncated = truncated
        self._progress = progress
        self._limit = limit
        self.stream_id = stream_id
        self._parts: list[str] = []
        self._dirty = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._stop_reason: str | None = None
        self._paginator = Paginator(limit=limit, reserve=len(CURSOR) + 32)
        self._page = 0
        self._shown: dict[int, str] = {}
        self._gone = False

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def stop(self, notice: str | None = None) -> None:
        """Stops the model call; the partial answer stays, marked with `notice` (default: stopped)."""
        if self._stop_reason is None:
            self._stop_reason = notice or self._notices.stopped
        if self._reader is not None:
            self._reader.cancel()

    def interrupt(self) -> None:
        """Stops the stream because the bot is shutting down."""
        self.stop(self._notices.shutdown)

    async def run(self) -> StreamResult:
        self._scheduler.register(self.stream_id, self._sink.bucket_key)
        self._reader = asyncio.create_task(self._read(), name=f"read-{self.stream_id}")
        # Wakes the renderer once the reader is really done (its finally may still await after the last chunk).
        self._reader.add_done_callback(lambda _: self._dirty.set())
        if self._stop_reason is not None:
            self._reader.cancel()
        try:
            await self._render_while_reading()
            error = await self._reader_error()
            outcome = self._outcome(error)
            if outcome is not Outcome.GONE:
                await self._render_final(outcome, error)
            return StreamResult(self.text, outcome, error, self._page + 1)
        finally:
            self._scheduler.unregister(self.stream_id)
            if not self._reader.done():
                self._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader

    async def _read(self) -> None:
        try:
            async for chunk in self._chunks:
                self._parts.append(chunk)
                self._dirty.set()
        finally:
            # Closing the generator here (not at garbage collection) closes the model's HTTP stream now.
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    async def _reader_error(self) -> BaseException | None:
        assert self._reader is not None
        try:
            await self._reader
        except asyncio.CancelledError:
            return None
        except Exception as error:
            return error
        return None

    def _outcome(self, error: BaseException | None) -> Outcome:
        if self._gone:
            return Outcome.GONE
        if self._stop_reason is not None:
            return Outcome.STOPPED
        return Outcome.FAILED if error is not None else Outcome.COMPLETED

    async def _render_while_reading(self) -> None:
        assert self._reader is not None
        # The reader's done-callback sets `_dirty`, so checking `done()` before each wait cannot miss the end.
        while not self._gone and not self._reader.done():
            await self._dirty.wait()
            if self._reader.done():
                return
            if not self._visible_text().strip():
                # Nothing to show yet (a role-only first chunk, or reasoning): spend no edit on it.
                self._dirty.clear()
                continue
            if not await self._grant_unless_finished():
                return
            self._dirty.clear()
            await self._render_partial(self._visible_text())

    async def _grant_unless_finished(self) -> bool:
        """Waits for an edit slot; False if the stream ended meanwhile (the final edit takes over)."""
        assert self._reader is not None
        grant = asyncio.ensure_future(self._scheduler.acquire(self.stream_id))
        done, _ = await asyncio.wait({grant, self._reader}, return_when=asyncio.FIRST_COMPLETED)
        if grant in done:
            return True
        grant.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await grant
        return False

    def _visible_text(self, *, final: bool = False) -> str:
        return strip_reasoning(self.text, final=final)

    async def _render_partial(self, text: str) -> None:
        """One intermediate update; the caller already holds one edit grant."""
        frozen, tail = self._paginator.feed(text)
        needs_grant = False
        for page in frozen:
            if needs_grant:
                await self._scheduler.acquire(self.stream_id)
            if not await self._show(page, final=True, retries=0):
                return
            self._page += 1
            needs_grant = True
        progress = self._progress()
        shown = tail + (f"\n-# {progress}" if progress else "") + CURSOR
        if shown != self._shown.get(self._page):
            if needs_grant:
                await self._scheduler.acquire(self.stream_id)
            await self._show(shown, final=False, retries=0)

    async def _render_final(self, outcome: Outcome, error: BaseException | None) -> None:
        # rstrip only: the frozen pages already shown are a prefix of this text and must stay one.
        text = self._visible_text(final=True).rstrip()
        notice = self._final_notice(outcome, error)
        if not text and outcome is Outcome.COMPLETED:
            notice = self._notices.empty
        pages = self._paginator.finish(text) if text.strip() else []
        if notice:
            last_page = f"{pages[-1]}\n\n{notice}" if pages else notice
            if len(last_page) <= self._limit:
                pages[-1:] = [last_page]
            else:
                pages.extend(split_message(notice, self._limit))
        for index, page in enumerate(pages):
            if index:
                self._page += 1
            await self._scheduler.acquire(self.stream_id, final=True)
            closing = index == len(pages) - 1
            if not await self._show(page, final=True, closing=closing, retries=FINAL_ATTEMPTS):
                return

    def _final_notice(self, outcome: Outcome, error: BaseException | None) -> str:
        if outcome is Outcome.STOPPED:
            return self._stop_reason or self._notices.stopped
        if outcome is Outcome.FAILED and error is not None:
            return self._notices.failed(error)
        if self._truncated():
            return self._notices.truncated
        return ""

    async def _show(self, text: str, *, final: bool, retries: int, closing: bool = False) -> bool:
        """Shows `text` on the current page; False when the reply is gone and streaming must stop."""
        for attempt in range(retries + 1):
            try:
                await self._sink.show(self._page, text, final=final, closing=closing)
            except SinkGone:
                log.info("stream %s: reply gone, cancelling the model call", self.stream_id)
                self._gone = True
                if self._reader is not None:
                    self._reader.cancel()
                return False
            except SinkRateLimited as limited:
                self._scheduler.penalize(self._sink.bucket_key, limited.retry_after)
                if attempt < retries:
                    await self._scheduler.acquire(self.stream_id, final=final)
            except SinkFailed as failure:
                log.warning("stream %s: could not show page %d: %s", self.stream_id, self._page, failure)
                if attempt < retries:
                    await asyncio.sleep(0.5 * 2**attempt)
            else:
                self._shown[self._page] = text
                return True
        return True
