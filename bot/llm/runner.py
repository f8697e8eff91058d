"""Runs LangChain calls on their own event loop, in a worker thread.

Parsing one streamed chunk through openai + LangChain costs about half a millisecond of CPU; a hundred
fast streams on the bot's event loop leave no room for anyone else's clicks, which then miss Discord's
3 s. On a separate loop the chain's work is interleaved with the bot's by the interpreter every few
milliseconds instead of queueing behind it, so the bot stays responsive under load. Chunks cross back
in small batches to keep the cost on the bot's loop per chunk near zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Chunks that arrive within this window cross to the bot's loop together (one wake-up, not one each).
FLUSH_INTERVAL_S = 0.02
_END = object()


class ChainRunner:
    def __init__(self, *, flush_interval_s: float = FLUSH_INTERVAL_S) -> None:
        self._flush_interval_s = flush_interval_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="llm-worker", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Cancels whatever still runs on the worker loop, then stops it."""
        if self._loop.is_closed():
            return

        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cancel_all(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def iterate(self, produce: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
        """Yields what `produce()` yields, running it on the worker loop.

        Closing this iterator early (a stopped answer, a deleted message) cancels the worker side,
        which closes the model's HTTP stream.
        """
        bot_loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[list[Any] | BaseException | object] = asyncio.Queue()
        future = asyncio.run_coroutine_threadsafe(self._pump(produce, bot_loop, inbox), self._loop)
        try:
            while True:
                item = await inbox.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, list)
                for value in item:
                    yield value
        finally:
            future.cancel()

    async def _pump(
        self,
        produce: Callable[[], AsyncIterator[T]],
        bot_loop: asyncio.AbstractEventLoop,
        inbox: asyncio.Queue[list[Any] | BaseException | object],
    ) -> None:
        pending: list[T] = []
        flush_handle: asyncio.TimerHandle | None = None

        def flush() -> None:
            nonlocal pending, flush_handle
            flush_handle = None
            if pending:
                bot_loop.call_soon_threadsafe(inbox.put_nowait, pending)
                pending = []

        first = True
        try:
            async for value in produce():
                pending.append(value)
                if first:
                    first = False
                    flush()  # the first words go out at once: they are what the user waits for
                elif flush_handle is None:
                    flush_handle = asyncio.get_running_loop().call_later(self._flush_interval_s, flush)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if flush_handle is not None:
                flush_handle.cancel()
            flush()
            bot_loop.call_soon_threadsafe(inbox.put_nowait, error)
            return
        if flush_handle is not None:
            flush_handle.cancel()
        flush()
        bot_loop.call_soon_threadsafe(inbox.put_nowait, _END)
