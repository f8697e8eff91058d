"""A fake OpenAI-compatible server on loopback, for the real `langchain_openai.ChatOpenAI` in tests and benchmarks.

Serves `POST /v1/chat/completions` (SSE streaming and plain JSON) and `GET /v1/models`. Replies come from a
queue of scripted `Reply`/`Fault`s, then `responder`, then `default` (an echo, see `expected_answer`).
Chunk bytes are built before streaming starts so that a stream costs one write and one timer per token.

As a process, for benchmarks (prints {"base_url": ..., "api_key": ...}, serves until SIGTERM/SIGINT):
    python -m tests.fakes.openai_server --port 0 --token-delay 0.02 --tokens 120
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.openai_script import (
    DEFAULT_TOKENS,
    Fault,
    RecordedChatRequest,
    Reply,
    count_prompt_tokens,
    expected_answer,
    tokenize,
)

__all__ = ["FakeOpenAI", "Fault", "RecordedChatRequest", "Reply", "expected_answer", "tokenize"]

Responder = Callable[[RecordedChatRequest], Reply | Fault]

# status -> (error type, error code) as OpenAI's API sends them
_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_DONE = b"data: [DONE]\n\n"
_MALFORMED = b'data: {"id": "chatcmpl-broken", "choices": [{"delta": \n\n'


class FakeOpenAI:
    """In-process fake; `await start()`, point `ChatOpenAI(base_url=llm.base_url, api_key=llm.api_key)` at it."""

    def __init__(
        self,
        *,
        token_delay_s: float = 0.0,
        first_token_delay_s: float = 0.0,
        tokens: int = DEFAULT_TOKENS,
        model: str = "gpt-fake",
        api_key: str = "sk-fake",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token_delay_s = token_delay_s
        self.first_token_delay_s = first_token_delay_s
        self.tokens = tokens
        self.model = model
        self.api_key = api_key
        self.default: Responder = lambda request: Reply.echo(request, tokens=self.tokens)
        self.responder: Responder | None = None
        self.requests: list[RecordedChatRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.completed = 0
        self.disconnects = 0
        self._host, self._port = host, port
        self._script: deque[Reply | Fault] = deque()
        self._changed = asyncio.Event()
        self._open: dict[int, web.Request] = {}  # by id(): requests are not hashable
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._stopping = False

    # -- lifecycle and observation ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("FakeOpenAI is not started")
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/_fake/stats", self._stats)
        # handler_cancellation: a client that goes away cancels its handler, which is how disconnects are seen.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def stop(self) -> None:
        """Stop serving; open streams and hung requests are cut."""
        self._stopping = True
        for request in list(self._open.values()):
            if request.transport is not None:
                request.transport.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def queue(self, *items: Reply | Fault) -> None:
        """Script the next answers, consumed one per request in order."""
        self._script.extend(items)

    def stats(self) -> dict[str, int]:
        return {
            "requests": len(self.requests),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "completed": self.completed,
            "disconnects": self.disconnects,
        }

    # A timeout parameter (not asyncio.timeout around the call) keeps test code to one line per wait.
    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until `predicate()` holds; it is re-checked whenever a request starts or ends."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"FakeOpenAI: condition not met in {timeout} s; {self.stats()}") from None

    async def wait_requests(self, n: int, timeout: float = 5.0) -> list[RecordedChatRequest]:  # noqa: ASYNC109
        await self.wait_until(lambda: len(self.requests) >= n, timeout)
        return self.requests[:n]

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # -- HTTP handlers ---------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        data = {"object": "list", "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "fake"}]}
        return _json(200, data)

    async def _stats(self, request: web.Request) -> web.Response:
        return _json(200, self.stats())

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "We could not parse the JSON body of your request.")
        recorded = RecordedChatRequest(
            body=body, headers={k.lower(): v for k, v in request.headers.items()}, at=time.monotonic()
        )
        self.requests.append(recorded)
        answer = self._script.popleft() if self._script else (self.responder or self.default)(recorded)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._open[id(request)] = request
        self._notify()
        try:
            response = await self._answer(request, recorded, answer)
            if not (isinstance(answer, Fault) and answer.kind == "cut"):
                self.completed += 1
            return response
        except (asyncio.CancelledError, ConnectionResetError):
            if not self._stopping:
                self.disconnects += 1
            raise
        finally:
            self.in_flight -= 1
            del self._open[id(request)]
            self._notify()

    async def _answer(
        self, request: web.Request, recorded: RecordedChatRequest, answer: Reply | Fault
    ) -> web.StreamResponse:
        if isinstance(answer, Fault):
            if answer.kind == "status":
                return _error(answer.status_code, answer.message, answer.retry_after_s)
            if answer.kind == "hang":
                await asyncio.get_running_loop().create_future()  # ends by cancellation only
        fault = answer if isinstance(answer, Fault) else None
        reply = answer if isinstance(answer, Reply) else self._base_reply(recorded, answer)
        if recorded.stream:
            return await self._stream(request, recorded, reply, fault)
        return await self._complete(request, recorded, reply, fault)

    def _base_reply(self, recorded: RecordedChatRequest, fault: Fault) -> Reply:
        reply = fault.reply or (self.responder or self.default)(recorded)
        if not isinstance(reply, Reply):
            reply = Reply.echo(recorded, self.tokens)
        return fault.with_delay(reply)

    async def _stream(
        self, request: web.Request, recorded: RecordedChatRequest, reply: Reply, fault: Fault | None
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        response.headers.update({"Cache-Control": "no-cache", "x-request-id": f"req_{next(self._ids)}"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        frames = self._frames(recorded, reply, fault)
        first = self.first_token_delay_s if reply.first_token_delay_s is None else reply.first_token_delay_s
        gap = self.token_delay_s if reply.token_delay_s is None else reply.token_delay_s
        if gap <= 0:
            frames = [b"".join(frames)]
        loop = asyncio.get_running_loop()
        # Deadlines rather than sleep(gap) each time, so that timer lateness does not add up over a stream.
        due = loop.time() + first
        for i, frame in enumerate(frames):
            due += gap if i else 0.0
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            await response.write(frame)
        if fault is not None and fault.kind == "cut" and not fault.clean and request.transport is not None:
            request.transport.close()  # mid-body: the client sees an incomplete chunked read
        return response

    def _frames(self, recorded: RecordedChatRequest, reply: Reply, fault: Fault | None) -> list[bytes]:
        """The stream cut into writes: role + first token, one token each, the ending joined to the last."""
        meta = {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": recorded.model or self.model,
            "system_fingerprint": "fp_fake",
        }
        base = b"data: " + _dumps(meta)[:-1]
        usage_null = b',"usage":null' if recorded.include_usage else b""

        def chunk(delta: bytes, finish_reason: bytes = b"null") -> bytes:
            choice = b'{"index":0,"delta":' + delta + b',"logprobs":null,"finish_reason":' + finish_reason + b"}"
            return base + b',"choices":[' + choice + b"]" + usage_null + b"}\n\n"

        pieces = reply.pieces()
        frames = [chunk(b'{"content":' + _dumps(piece) + b"}") for piece in pieces]
        end = b""
        if reply.finish_reason is not None:
            end += chunk(b"{}", _dumps(reply.finish_reason))
        if recorded.include_usage:
            end += base + b',"choices":[],"usage":' + _dumps(_usage(recorded, len(pieces))) + b"}\n\n"
        end += _DONE
        if fault is not None and fault.kind in ("cut", "malformed", "error_event"):
            n = fault.after_chunks
            if fault.kind == "malformed":
                rest = frames[n:] or [b""]
                frames = [*frames[:n], _MALFORMED + rest[0], *rest[1:]]
            else:
                frames = frames[:n]
                end = b"" if fault.kind == "cut" else b"data: " + _error_body(500, fault.message) + b"\n\n"
        role = chunk(b'{"role":"assistant","content":"","refusal":null}')
        if not frames:
            return [role + end]
        return [role + frames[0], *frames[1:-1], frames[-1] + end] if len(frames) > 1 else [role + frames[0] + end]

    async def _complete(
        self, request: web.Request, recorded: RecordedChatRequest, reply: Reply, fault: Fault | None
    ) -> web.StreamResponse:
        first = self.first_token_delay_s if reply.first_token_delay_s is None else reply.first_token_delay_s
        gap = self.token_delay_s if reply.token_delay_s is None else reply.token_delay_s
        # Without streaming the answer comes when its last token would have been streamed.
        delay = first + gap * max(0, len(reply.pieces()) - 1)
        if delay > 0:
            await asyncio.sleep(delay)
        if fault is not None and fault.kind == "error_event":
            return _error(500, fault.message)
        if fault is not None and fault.kind == "cut" and request.transport is not None:
            request.transport.close()  # no response at all: the openai client retries this one
            return web.Response()  # aiohttp finds the transport closed and drops this quietly
        content = reply.content
        completion = {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": recorded.model or self.model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": _usage(recorded, len(reply.pieces())),
            "service_tier": "default",
        }
        if fault is not None and fault.kind == "malformed":
            return web.Response(status=200, body=_dumps(completion)[:40], content_type="application/json")
        return _json(200, completion)


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _json(status: int, data: object, headers: dict[str, str] | None = None) -> web.Response:
    # content_type alone, so that no charset is appended: the exact header real APIs send.
    return web.Response(status=status, body=_dumps(data), content_type="application/json", headers=headers)


def _error_body(status: int, message: str | None) -> bytes:
    kind, code = _ERRORS.get(status, ("server_error", None))
    message = message or f"Fake OpenAI error {status}."
    return _dumps({"error": {"message": message, "type": kind, "param": None, "code": code}})


def _error(status: int, message: str | None, retry_after_s: float | None = None) -> web.Response:
    headers = {"x-request-id": "req_fake_error"}
    if retry_after_s is not None:
        # The openai client prefers retry-after-ms (fractions allowed) and honours either when 0 < s <= 120.
        headers["retry-after-ms"] = str(round(retry_after_s * 1000, 3))
        headers["retry-after"] = str(max(1, round(retry_after_s)))
    return web.Response(
        status=status, body=_error_body(status, message), content_type="application/json", headers=headers
    )


def _usage(recorded: RecordedChatRequest, completion_tokens: int) -> dict[str, Any]:
    prompt_tokens = count_prompt_tokens(recorded.messages)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


async def _serve(args: argparse.Namespace) -> None:
    llm = FakeOpenAI(
        token_delay_s=args.token_delay,
        first_token_delay_s=args.first_token_delay,
        tokens=args.tokens,
        host=args.host,
        port=args.port,
    )
    await llm.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps({"base_url": llm.base_url, "api_key": llm.api_key}), flush=True)
    await stop.wait()
    # The server's own CPU, so that a benchmark can tell the fake's cost from the bot's.
    print(json.dumps({**llm.stats(), "cpu_s": round(time.process_time(), 3)}), file=sys.stderr, flush=True)
    await llm.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.openai_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds between content chunks")
    parser.add_argument("--first-token-delay", type=float, default=0.0, help="seconds before the first chunk")
    parser.add_argument("--tokens", type=int, default=DEFAULT_TOKENS, help="tokens per default answer")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
