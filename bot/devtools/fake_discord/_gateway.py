"""The gateway: HELLO, heartbeats, IDENTIFY/RESUME, READY + GUILD_CREATE, then dispatches.

Reference: https://discord.com/developers/docs/events/gateway. Frames are plain JSON text; the
client asks for ``compress=zlib-stream`` but only inflates binary frames, so text is fine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

JSON = dict[str, Any]
log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, REQUEST_MEMBERS = 0, 1, 2, 3, 6, 8
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11
AUTHENTICATION_FAILED = 4004
HEARTBEAT_INTERVAL_MS = 41_250
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_MESSAGES_INTENT = 1 << 9
DIRECT_MESSAGES_INTENT = 1 << 12
MESSAGE_CONTENT_INTENT = 1 << 15


@dataclass(eq=False)
class Session:
    """One identified connection; keeps what it sent so a RESUME can replay what was missed."""

    id: str
    intents: int
    shard: list[int]
    ws: web.WebSocketResponse | None = None
    seq: int = 0
    sent: deque[JSON] = field(default_factory=lambda: deque(maxlen=1000))
    outbox: asyncio.Queue[tuple[JSON, asyncio.Future[float] | None]] = field(default_factory=asyncio.Queue)

    def has_intent(self, bit: int) -> bool:
        return bool(self.intents & bit)


class Gateway:
    """Accepts the bot's websocket and broadcasts dispatches to every live session in order."""

    def __init__(
        self,
        *,
        token: str,
        ready_payload: Callable[[Session], JSON],
        guild_payloads: Callable[[Session], list[JSON]],
        guild_members: Callable[[Session, int], list[JSON] | None],
        url: Callable[[], str],
    ) -> None:
        self._token = token
        self._ready_payload = ready_payload
        self._guild_payloads = guild_payloads
        self._guild_members = guild_members
        self._url = url
        self.sessions: dict[str, Session] = {}
        self.identify_payloads: list[JSON] = []
        self.ready = asyncio.Event()
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def live(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.ws is not None and not s.ws.closed]

    def dispatch(self, event: str, data: JSON | Callable[[Session], JSON | None]) -> list[asyncio.Future[float]]:
        """Queue an event for every live session; each future resolves with the monotonic send time."""
        futures = []
        loop = asyncio.get_running_loop()
        for session in self.live:
            body = data(session) if callable(data) else data
            if body is None:
                continue
            future: asyncio.Future[float] = loop.create_future()
            session.outbox.put_nowait(({"op": DISPATCH, "t": event, "d": body}, future))
            futures.append(future)
        return futures

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        await ws.send_str(json.dumps({"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}))
        session: Session | None = None
        writer: asyncio.Task[None] | None = None
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                op, data = message.get("op"), message.get("d")
                if op == HEARTBEAT:
                    await ws.send_str(json.dumps({"op": HEARTBEAT_ACK}))
                elif op in {IDENTIFY, RESUME} and session is None:
                    session = await self._open(ws, op, data)
                    if session is None:
                        break
                    writer = asyncio.create_task(self._write(session, ws))
                elif op == REQUEST_MEMBERS and session is not None:
                    self._answer_member_request(session, data)
                elif op not in {PRESENCE, 4}:
                    log.warning("fake discord gateway: unhandled op %s", op)
        finally:
            if writer is not None:
                writer.cancel()
            self._sockets.discard(ws)
        return ws

    async def _open(self, ws: web.WebSocketResponse, op: int, data: JSON) -> Session | None:
        if data.get("token") != self._token:
            await ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return None
        if op == RESUME:
            session = self.sessions.get(data.get("session_id", ""))
            if session is None:
                await ws.send_str(json.dumps({"op": INVALID_SESSION, "d": False}))
                return None
            session.ws = ws
            for missed in [m for m in session.sent if m["s"] > (data.get("seq") or 0)]:
                await ws.send_str(json.dumps(missed))
            self._queue(session, "RESUMED", {})
            return session
        self.identify_payloads.append(data)
        session = Session(secrets.token_hex(16), int(data.get("intents", 0)), data.get("shard") or [0, 1], ws=ws)
        self.sessions[session.id] = session
        self._queue(session, "READY", self._ready_payload(session))
        for guild in self._guild_payloads(session):
            self._queue(session, "GUILD_CREATE", guild)
        loop = asyncio.get_running_loop()
        marker: asyncio.Future[float] = loop.create_future()
        marker.add_done_callback(lambda _: self.ready.set())
        session.outbox.put_nowait(({}, marker))
        return session

    def _queue(self, session: Session, event: str, data: JSON) -> None:
        session.outbox.put_nowait(({"op": DISPATCH, "t": event, "d": data}, None))

    async def _write(self, session: Session, ws: web.WebSocketResponse) -> None:
        """The only writer of dispatches, so sequence numbers go out in order."""
        while True:
            frame, sent = await session.outbox.get()
            if frame:
                session.seq += 1
                frame["s"] = session.seq
                session.sent.append(frame)
                try:
                    await ws.send_str(json.dumps(frame))
                except ConnectionError:
                    log.warning("fake discord gateway: dropped %s, socket closed", frame.get("t"))
            if sent is not None and not sent.done():
                sent.set_result(time.monotonic())

    def _answer_member_request(self, session: Session, data: JSON) -> None:
        """One chunk per requested guild (looked up by id: a world of thousands of guilds stays cheap)."""
        requested = data.get("guild_id")
        for guild_id in requested if isinstance(requested, list) else [requested]:
            members = self._guild_members(session, int(guild_id or 0))
            if members is None:
                continue
            chunk = {
                "guild_id": str(guild_id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "nonce": data.get("nonce"),
            }
            self._queue(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"fake discord stopping")
