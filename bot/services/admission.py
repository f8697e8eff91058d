"""Admission control for model calls: a bounded number run at once, the rest wait in FIFO order.

Each streamed chunk costs ~0.5 ms of CPU in the client stack, so unbounded concurrency freezes the
event loop and every other user's clicks miss Discord's 3 s. One user holds at most one generation
(queued or running) and must wait a cooldown between requests.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from bot.errors import TryLater


@dataclass
class _Waiter:
    ticket: Ticket
    future: asyncio.Future[None]


class Ticket:
    """A user's place in the gate. `async with ticket:` waits for a turn and releases it at exit."""

    def __init__(self, gate: AdmissionGate, user_id: int, weight: int) -> None:
        self._gate = gate
        self.user_id = user_id
        self.weight = weight
        self._running = False

    @property
    def position(self) -> int:
        """0 when it can run now, else its place in the queue (1 = next)."""
        return self._gate.position(self)

    async def __aenter__(self) -> Ticket:
        try:
            await self._gate.acquire(self)
        except BaseException:
            self.release()
            raise
        self._running = True
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    @property
    def running(self) -> bool:
        return self._running

    def release(self) -> None:
        self._gate.release(self, was_running=self._running)
        self._running = False


@dataclass
class AdmissionGate:
    capacity: int
    queue_limit: int
    cooldown_s: float
    clock: Callable[[], float]
    _in_use: int = 0
    _waiters: deque[_Waiter] = field(default_factory=deque)
    _holders: set[int] = field(default_factory=set)
    _last_admit: dict[int, float] = field(default_factory=dict)

    def admit(self, user_id: int, weight: int = 1) -> Ticket:
        """Takes a ticket or raises TryLater (generation in progress, cooldown, or queue full)."""
        if user_id in self._holders:
            raise TryLater("error.generation_in_progress")
        now = self.clock()
        since = now - self._last_admit.get(user_id, float("-inf"))
        if since < self.cooldown_s:
            raise TryLater("error.cooldown", seconds=max(1, round(self.cooldown_s - since)))
        if len(self._waiters) >= self.queue_limit and not self._has_room(weight):
            raise TryLater("error.queue_full")
        self._holders.add(user_id)
        self._last_admit[user_id] = now
        return Ticket(self, user_id, min(weight, self.capacity))

    @property
    def running(self) -> int:
        return self._in_use

    @property
    def queued(self) -> int:
        return len(self._waiters)

    def _has_room(self, weight: int) -> bool:
        return not self._waiters and self._in_use + weight <= self.capacity

    def position(self, ticket: Ticket) -> int:
        for index, waiter in enumerate(self._waiters, start=1):
            if waiter.ticket is ticket:
                return index
        if ticket.running or self._has_room(ticket.weight):
            return 0
        return len(self._waiters) + 1  # not in line yet: it would join at the end

    async def acquire(self, ticket: Ticket) -> None:
        if self._has_room(ticket.weight):
            self._in_use += ticket.weight
            return
        waiter = _Waiter(ticket, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                self._in_use -= ticket.weight  # granted just as we were cancelled: give it back
            else:
                self._waiters.remove(waiter)
            self._wake()
            raise

    def release(self, ticket: Ticket, *, was_running: bool) -> None:
        self._holders.discard(ticket.user_id)
        if was_running:
            self._in_use -= ticket.weight
            self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters[0]
            if self._in_use + waiter.ticket.weight > self.capacity:
                return
            self._waiters.popleft()
            self._in_use += waiter.ticket.weight
            waiter.future.set_result(None)
