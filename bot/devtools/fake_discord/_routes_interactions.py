"""Interaction callbacks and the interaction webhook (follow-ups, ``@original`` edits).

These routes need no bot token: the interaction token is the credential. The first callback must
arrive within the acknowledgement deadline (404 10062 after it), a second one is refused (400
40060), and the token then serves ``/webhooks/{application_id}/{token}`` for 15 minutes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._http import (
    ALREADY_ACKNOWLEDGED,
    BODY,
    INVALID_FORM_BODY,
    INVALID_WEBHOOK_TOKEN,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    Body,
    DiscordError,
    reply,
)
from ._interaction import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    FakeInteraction,
)
from ._limits import validate_modal
from ._messages import announce, create_message, edit_message
from ._models import EPHEMERAL, LOADING, FakeMessage

if TYPE_CHECKING:
    from ._fake import FakeDiscord

JSON = dict[str, Any]
Handler = Any
CHAT_INPUT_COMMAND_MESSAGE, CONTEXT_MENU_COMMAND_MESSAGE = 20, 23
COMPONENT_TYPES = {3}


class InteractionRoutes:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.world = fake.world

    def routes(self) -> list[tuple[str, str, Handler]]:
        hook = "/webhooks/{application_id}/{token}"
        return [
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.callback),
            ("POST", hook, self.followup),
            ("GET", hook + "/messages/{message_id}", self.get_message),
            ("PATCH", hook + "/messages/{message_id}", self.edit),
            ("DELETE", hook + "/messages/{message_id}", self.delete),
        ]

    # -- callback -------------------------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        ix = self.fake.interactions.get(int(request.match_info["interaction_id"]))
        if ix is None or ix.token != request.match_info["token"]:
            raise DiscordError(404, *UNKNOWN_INTERACTION)
        ix.touch()
        if ix.ack_type is not None:
            ix.record_ack_error(f"40060 second callback after type {ix.ack_type}")
            raise DiscordError(400, *ALREADY_ACKNOWLEDGED)
        if ix.deadline_passed(now):
            late_ms = (now - ix.dispatched_at) * 1000
            ix.record_ack_error(
                f"10062 acknowledged after {late_ms:.0f} ms (deadline {ix.ack_deadline_s * 1000:.0f} ms)"
            )
            raise DiscordError(404, *UNKNOWN_INTERACTION)
        body: Body = request[BODY]
        payload: JSON = body.json or {}
        kind = int(payload.get("type", 0))
        data: JSON = payload.get("data") or {}
        message = self._apply_callback(ix, kind, data, body)
        ix.record_ack(kind, now)
        return self._callback_reply(request, ix, kind, message)

    def _apply_callback(self, ix: FakeInteraction, kind: int, data: JSON, body: Body) -> FakeMessage | None:
        is_component = ix.type in {3, 5} and ix.source_message is not None
        if kind == CHANNEL_MESSAGE:
            return self._original(ix, Body(json=data, files=body.files), loading=False)
        if kind == DEFERRED_CHANNEL_MESSAGE:
            flags = int(data.get("flags") or 0) & EPHEMERAL
            return self._original(ix, Body(json={"content": "", "flags": flags}), loading=True)
        if kind in {DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE} and is_component:
            assert ix.source_message is not None
            ix.original_message = ix.source_message
            if kind == UPDATE_MESSAGE:
                edit_message(self.fake, ix.source_message, Body(json=data, files=body.files))
            return ix.source_message
        if kind == MODAL and ix.type != 5:
            errors = validate_modal(data)
            if errors:
                raise DiscordError(400, *INVALID_FORM_BODY, errors=errors.tree)
            ix.modal = data
            return None
        if kind == AUTOCOMPLETE_RESULT and ix.type == 4:
            return None
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            {
                "type": {
                    "_errors": [
                        {
                            "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                            "message": f"Callback type {kind} is not valid for interaction type {ix.type}",
                        }
                    ]
                }
            },
        )

    def _original(self, ix: FakeInteraction, body: Body, *, loading: bool) -> FakeMessage:
        metadata = {
            "id": str(ix.id),
            "type": ix.type,
            "user": ix.user.payload(),
            "authorizing_integration_owners": ix.payload.get("authorizing_integration_owners", {}),
        }
        kind = (
            CHAT_INPUT_COMMAND_MESSAGE
            if (ix.payload.get("data") or {}).get("type", 1) == 1
            else CONTEXT_MENU_COMMAND_MESSAGE
        )
        if loading:
            # The "thinking..." placeholder: empty until the bot edits @original.
            message = FakeMessage(
                id=self.world.snowflake(),
                channel_id=ix.channel.id,
                author_id=self.world.bot_user.id,
                flags=int((body.json or {}).get("flags", 0)) | LOADING,
                webhook_id=self.world.application_id,
                interaction_metadata=metadata,
                message_type=kind if ix.type == 2 else 0,
            )
            self.world.store_message(message)
            announce(self.fake, message, "MESSAGE_CREATE")
        else:
            message = create_message(
                self.fake,
                ix.channel,
                self.world.bot_user.id,
                body,
                webhook_id=self.world.application_id,
                interaction_metadata=metadata,
                message_type=kind if ix.type == 2 else 0,
            )
        message.interaction_id = ix.id
        ix.original_message = message
        return message

    def _callback_reply(
        self, request: web.Request, ix: FakeInteraction, kind: int, message: FakeMessage | None
    ) -> web.Response:
        if request.query.get("with_response", "false").lower() not in {"1", "true"}:
            return reply(None, 204)
        interaction: JSON = {"id": str(ix.id), "type": ix.type}
        resource: JSON = {"type": kind}
        if message is not None:
            interaction |= {
                "response_message_id": str(message.id),
                "response_message_loading": bool(message.flags & LOADING),
                "response_message_ephemeral": bool(message.flags & EPHEMERAL),
            }
            resource["message"] = self.world.message_payload(message)
        return reply({"interaction": interaction, "resource": resource})

    # -- webhook --------------------------------------------------------------------------------

    def interaction_for(self, request: web.Request) -> FakeInteraction:
        """The interaction behind a webhook token; it must have been acknowledged and not expired."""
        if int(request.match_info["application_id"]) != self.world.application_id:
            raise DiscordError(404, *UNKNOWN_WEBHOOK)
        ix = self.fake.interactions_by_token.get(request.match_info["token"])
        if ix is None:
            raise DiscordError(401, *INVALID_WEBHOOK_TOKEN)
        ix.touch()
        if ix.token_expired(time.monotonic()):
            raise DiscordError(401, *INVALID_WEBHOOK_TOKEN)
        if ix.ack_type is None:
            raise DiscordError(404, *UNKNOWN_WEBHOOK)
        return ix

    def message_of(self, ix: FakeInteraction, message_ref: str) -> FakeMessage:
        message = ix.original_message if message_ref == "@original" else None
        if message_ref != "@original":
            message = next((m for m in ix.messages if str(m.id) == message_ref), None)
        if message is None or message.deleted:
            raise DiscordError(404, *UNKNOWN_MESSAGE)
        return message

    async def followup(self, request: web.Request) -> web.Response:
        ix = self.interaction_for(request)
        original = ix.original_message
        if ix.ack_type == DEFERRED_CHANNEL_MESSAGE and original is not None and original.flags & LOADING:
            # After a deferral, Discord turns the first follow-up into the response itself.
            edit_message(self.fake, original, request[BODY])
            original.flags &= ~LOADING
            message = original
        else:
            message = create_message(
                self.fake, ix.channel, self.world.bot_user.id, request[BODY], webhook_id=self.world.application_id
            )
            message.interaction_id = ix.id
            ix.followups.append(message)
        if request.query.get("wait", "false").lower() not in {"1", "true"}:
            return reply(None, 204)
        return reply(self.world.message_payload(message))

    async def get_message(self, request: web.Request) -> web.Response:
        ix = self.interaction_for(request)
        return reply(self.world.message_payload(self.message_of(ix, request.match_info["message_id"])))

    async def edit(self, request: web.Request) -> web.Response:
        ix = self.interaction_for(request)
        message = self.message_of(ix, request.match_info["message_id"])
        edit_message(self.fake, message, request[BODY])
        message.flags &= ~LOADING
        return reply(self.world.message_payload(message))

    async def delete(self, request: web.Request) -> web.Response:
        ix = self.interaction_for(request)
        self.fake.delete_message(self.message_of(ix, request.match_info["message_id"]))
        return reply(None, 204)
