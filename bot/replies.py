"""Discord's side of streamed replies: sinks that show pages through an interaction or a channel.

Discord errors are translated for the engine: a deleted message, a lost permission or an expired
interaction token means the reply is gone; a long 429 means skip ahead; anything else is a retryable failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.llm.failures import failure_key
from bot.services.admission import Ticket
from bot.services.explain import Generation
from bot.streaming.engine import (
    Notices,
    Outcome,
    ReplySink,
    ReplyStream,
    SinkFailed,
    SinkGone,
    SinkRateLimited,
    StreamResult,
)
from bot.streaming.pacing import channel_key, webhook_key

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)

# Discord's "Invalid Webhook Token": the interaction's 15 minutes are over.
INVALID_WEBHOOK_TOKEN = 50027
# Model text is untrusted: whatever it writes (@everyone, <@&role>, <@user>), nobody is pinged.
NO_PINGS = discord.AllowedMentions.none()
ViewFactory = Callable[[], discord.ui.View | None]


def _no_view() -> discord.ui.View | None:
    return None


class _Pages:
    """Common bookkeeping: which page is which message, and which view a page shows.

    The live page carries `live_view` (e.g. Stop); the closing page of a finished reply `closing_view`.
    """

    def __init__(self, live_view: ViewFactory, closing_view: ViewFactory) -> None:
        self._live_view = live_view
        self._closing_view = closing_view
        self.messages: list[discord.Message] = []

    def view_for(self, *, final: bool, closing: bool) -> discord.ui.View | None:
        if closing:
            return self._closing_view()
        return None if final else self._live_view()


def _as_sink_error(error: Exception) -> Exception:
    if isinstance(error, discord.NotFound | discord.Forbidden):
        return SinkGone(str(error))
    if isinstance(error, discord.HTTPException) and error.code == INVALID_WEBHOOK_TOKEN:
        return SinkGone(str(error))
    if isinstance(error, discord.RateLimited):
        return SinkRateLimited(error.retry_after)
    return SinkFailed(str(error))


SINK_ERRORS = (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, TimeoutError)


class InteractionSink(_Pages):
    """Page 0 is the interaction's own response (deferred first); more pages are followups.

    Edits go through the interaction's webhook token: its own rate-limit bucket, exempt from the global limit.
    """

    def __init__(
        self,
        interaction: discord.Interaction,
        *,
        ephemeral: bool,
        live_view: ViewFactory = _no_view,
        closing_view: ViewFactory = _no_view,
    ) -> None:
        super().__init__(live_view, closing_view)
        self._interaction = interaction
        self._ephemeral = ephemeral

    @property
    def bucket_key(self) -> str:
        return webhook_key(self._interaction.id)

    async def show(self, page: int, text: str, *, final: bool, closing: bool = False) -> None:
        view = self.view_for(final=final, closing=closing)
        try:
            if page == 0:
                await self._interaction.edit_original_response(content=text, view=view, allowed_mentions=NO_PINGS)
            elif page == len(self.messages) + 1:
                message = await self._interaction.followup.send(
                    text,
                    ephemeral=self._ephemeral,
                    view=view or discord.utils.MISSING,
                    allowed_mentions=NO_PINGS,
                    wait=True,
                )
                self.messages.append(message)
            else:
                await self._interaction.followup.edit_message(
                    self.messages[page - 1].id, content=text, view=view, allowed_mentions=NO_PINGS
                )
        except SINK_ERRORS as error:
            raise _as_sink_error(error) from error


class ChannelSink(_Pages):
    """Pages are channel messages (DMs): page 0 is `first` if given, else sent on the first show."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        *,
        bucket: int,
        first: discord.Message | None = None,
        live_view: ViewFactory = _no_view,
        closing_view: ViewFactory = _no_view,
    ) -> None:
        super().__init__(live_view, closing_view)
        self._channel = channel
        self._bucket = bucket
        if first is not None:
            self.messages.append(first)

    @property
    def bucket_key(self) -> str:
        return channel_key(self._bucket)

    async def show(self, page: int, text: str, *, final: bool, closing: bool = False) -> None:
        view = self.view_for(final=final, closing=closing)
        try:
            if page == len(self.messages):
                self.messages.append(
                    await self._channel.send(text, view=view or discord.utils.MISSING, allowed_mentions=NO_PINGS)
                )
            else:
                await self.messages[page].edit(content=text, view=view, allowed_mentions=NO_PINGS)
        except SINK_ERRORS as error:
            raise _as_sink_error(error) from error


async def show_before_stream(services: Services, sink: ReplySink, stream_id: int, text: str) -> None:
    """Shows a status (e.g. "queued") on the reply's first page, drawing on the same edit budget as streams."""
    services.edits.register(stream_id, sink.bucket_key)
    try:
        await services.edits.acquire(stream_id)
        await sink.show(0, text, final=False)
    except (SinkFailed, SinkRateLimited, SinkGone) as error:
        log.info("could not show a status before stream %s: %s", stream_id, error)
    finally:
        services.edits.unregister(stream_id)


async def stream_generation(
    services: Services,
    generation: Generation,
    sink: ReplySink,
    *,
    stream_id: int,
    owner_id: int,
    language: str,
) -> StreamResult:
    """Streams one generation into `sink`, then settles its usage; every streamed reply goes through here."""
    text = services.languages.text
    notices = Notices(
        stopped=text(language, "explain.stopped"),
        shutdown=text(language, "explain.shutdown"),
        truncated=text(language, "explain.truncated"),
        empty=text(language, "explain.empty"),
        failed=lambda error: text(language, failure_key(error)),
    )
    stream = ReplyStream(
        generation.chunks,
        sink,
        services.edits,
        notices,
        stream_id=stream_id,
        truncated=lambda: generation.truncated,
        progress=generation.progress,
    )
    result: StreamResult | None = None
    with services.streams.track(stream, owner_id, language):
        try:
            result = await stream.run()
        finally:
            # Usage is recorded whatever happened: tokens were spent even by a stopped or failed stream.
            await generation.settle(stream.text, result is not None and result.completed)
    if result.outcome is Outcome.FAILED:
        log.warning("stream %s failed after %d chars: %r", stream_id, len(result.text), result.error)
    return result


async def stream_in_turn(
    services: Services, ticket: Ticket, sink: ReplySink, generation: Generation, *, stream_id: int, language: str
) -> StreamResult:
    """Waits for the member's turn at the model (showing the queue position meanwhile), then streams the answer."""
    if ticket.position:
        queued = services.languages.text(language, "explain.queued", position=ticket.position)
        await show_before_stream(services, sink, stream_id, queued)
    async with ticket:
        return await stream_generation(
            services, generation, sink, stream_id=stream_id, owner_id=ticket.user_id, language=language
        )
