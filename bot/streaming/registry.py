"""The streams in progress: found by the Stop button, stopped and drained at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.streaming.engine import ReplyStream


@dataclass(frozen=True)
class ActiveStream:
    stream: ReplyStream
    owner_id: int
    language: str


class StreamRegistry:
    def __init__(self) -> None:
        self._active: dict[Hashable, ActiveStream] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._one_finished = asyncio.Event()
        self.finished = 0

    def __len__(self) -> int:
        return len(self._active)

    @contextmanager
    def track(self, stream: ReplyStream, owner_id: int, language: str) -> Iterator[None]:
        self._active[stream.stream_id] = ActiveStream(stream, owner_id, language)
        self._idle.clear()
        try:
            yield
        finally:
            del self._active[stream.stream_id]
            if not self._active:
                self._idle.set()
            self.finished += 1
            # Wake every current waiter once; later waiters wait on the fresh event.
            self._one_finished.set()
            self._one_finished = asyncio.Event()

    async def wait_finished(self, count: int) -> None:
        """Returns once `count` streams in all have shown their final state (bound it with `asyncio.timeout`)."""
        while self.finished < count:
            await self._one_finished.wait()

    def get(self, stream_id: Hashable) -> ActiveStream | None:
        return self._active.get(stream_id)

    def interrupt_all(self) -> int:
        """Stops every stream (at shutdown); each keeps its partial answer, marked as interrupted."""
        for active in list(self._active.values()):
            active.stream.interrupt()
        return len(self._active)

    async def wait_idle(self) -> None:
        """Returns once every stream has shown its final state (bound it with `asyncio.timeout`)."""
        await self._idle.wait()
