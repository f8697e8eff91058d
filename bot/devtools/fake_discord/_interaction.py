"""One interaction's life: dispatch, acknowledgement within the deadline, responses, token expiry.

Discord's rules (https://discord.com/developers/docs/interactions/receiving-and-responding):
the first callback must arrive within 3 seconds of the interaction being sent, only one callback
is accepted, and the interaction token then works for follow-ups and edits for 15 minutes.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from ._models import EPHEMERAL, FakeChannel, FakeMessage, FakeUser

JSON = dict[str, Any]

# Callback types (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type)
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9


@dataclass(eq=False)
class FakeInteraction:
    """What the test holds after dispatching an interaction; filled in as the bot answers."""

    id: int
    token: str
    type: int
    user: FakeUser
    channel: FakeChannel
    payload: JSON
    ack_deadline_s: float
    token_ttl_s: float
    source_message: FakeMessage | None = None  # the message a component sits on
    dispatched_at: float = 0.0
    ack_type: int | None = None
    acked_at: float | None = None
    ack_error: str | None = None
    modal: JSON | None = None
    original_message: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    last_activity: float = field(default_factory=time.monotonic)
    _callback_seen: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _activity: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    # -- the rules ------------------------------------------------------------------------------

    def deadline_passed(self, now: float) -> bool:
        return now - self.dispatched_at > self.ack_deadline_s

    def token_expired(self, now: float) -> bool:
        return now - self.dispatched_at > self.token_ttl_s

    def record_ack(self, callback_type: int, now: float) -> None:
        self.ack_type = callback_type
        self.acked_at = now
        self._callback_seen.set()

    def record_ack_error(self, error: str) -> None:
        self.ack_error = error
        self._callback_seen.set()

    def touch(self) -> None:
        """A request concerning this interaction arrived (see ``settled``)."""
        self.last_activity = time.monotonic()
        self._activity.set()

    # -- what the test reads --------------------------------------------------------------------

    @property
    def acked_after_ms(self) -> float | None:
        return None if self.acked_at is None else (self.acked_at - self.dispatched_at) * 1000

    @property
    def messages(self) -> list[FakeMessage]:
        """The original response (if any) then the follow-ups, in order."""
        original = [self.original_message] if self.original_message is not None else []
        return original + self.followups

    @property
    def ephemeral(self) -> bool:
        return self.original_message is not None and bool(self.original_message.flags & EPHEMERAL)

    async def wait_acked(self, timeout: float = 5) -> int:  # noqa: ASYNC109 - public API
        """The callback type, once the bot acknowledged; AssertionError if its first attempt was refused."""
        try:
            await asyncio.wait_for(self._callback_seen.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"interaction {self.id} was not acknowledged within {timeout}s") from None
        if self.ack_type is None:
            raise AssertionError(f"interaction {self.id} acknowledgement was refused: {self.ack_error}")
        return self.ack_type

    async def wait_callback(self, timeout: float = 5) -> None:  # noqa: ASYNC109 - public API
        """Wait for the first callback attempt, accepted or refused."""
        await asyncio.wait_for(self._callback_seen.wait(), timeout)

    async def original(self, timeout: float = 5) -> FakeMessage:  # noqa: ASYNC109 - public API
        """The ``@original`` response message once it exists."""
        deadline = time.monotonic() + timeout
        while self.original_message is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"interaction {self.id} has no original response after {timeout}s")
            self._activity.clear()
            try:
                await asyncio.wait_for(self._activity.wait(), remaining)
            except TimeoutError:
                continue
        return self.original_message

    async def settled(self, quiet: float = 0.3, timeout: float = 10) -> list[FakeMessage]:  # noqa: ASYNC109 - public API
        """Wait for the bot's first answer, then until no request touched this interaction for ``quiet`` seconds;
        return ``messages``. (Quiet before any answer means a slow bot, not a settled one.)"""
        deadline = time.monotonic() + timeout
        await asyncio.wait_for(self._callback_seen.wait(), timeout)
        while True:
            now = time.monotonic()
            idle_left = self.last_activity + quiet - now
            if idle_left <= 0:
                return self.messages
            if now >= deadline:
                raise TimeoutError(f"interaction {self.id} still busy after {timeout}s")
            self._activity.clear()
            try:
                await asyncio.wait_for(self._activity.wait(), min(idle_left, deadline - now))
            except TimeoutError:
                continue
