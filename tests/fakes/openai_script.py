"""What the fake OpenAI server answers: scripted replies, faults, recorded requests.

Pure data and pure functions, no I/O: `expected_answer` is what a benchmark uses to check that every
streamed answer arrived exactly. The server lives in `tests.fakes.openai_server`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

DEFAULT_TOKENS = 20

# A token is a run of non-space characters with the whitespace before it, like OpenAI's " word" tokens;
# trailing whitespace becomes a last token of its own, so "".join(tokenize(text)) == text always.
_TOKEN = re.compile(r"\s*\S+|\s+")


def tokenize(text: str) -> list[str]:
    """Split `text` into word-sized stream pieces that join back to exactly `text`."""
    return _TOKEN.findall(text)


def expected_answer(prompt: str, tokens: int = DEFAULT_TOKENS) -> str:
    """The default reply to `prompt`: "Answer about: <prompt words, cycled>", exactly `tokens` tokens long."""
    words = prompt.split() or ["(empty)"]
    pieces = ["Answer", " about:", *(" " + words[i % len(words)] for i in range(max(0, tokens - 2)))]
    return "".join(pieces[:tokens])


def count_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """A crude, deterministic prompt size: four characters per token, at least one."""
    return max(1, sum(len(message_text(m)) for m in messages) // 4)


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a chat message whose content is a string or a list of content parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


@dataclass(frozen=True, slots=True)
class RecordedChatRequest:
    """One `POST /v1/chat/completions` as the server received it."""

    body: dict[str, Any]
    headers: Mapping[str, str]
    at: float  # time.monotonic() on arrival

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream", False))

    @property
    def stream_options(self) -> dict[str, Any] | None:
        options = self.body.get("stream_options")
        return options if isinstance(options, dict) else None

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.get("include_usage"))

    @property
    def prompt_text(self) -> str:
        """The text of the last user message ("" if there is none)."""
        users = [m for m in self.messages if m.get("role") == "user"]
        return message_text(users[-1]) if users else ""

    @property
    def retry_count(self) -> int:
        """How many times the openai client had already tried this request (its x-stainless-retry-count)."""
        return int(self.headers.get("x-stainless-retry-count", "0"))


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful completion.

    `tokens` set: the text is repeated or cut to exactly that many stream pieces. `think` set: the content
    starts with "<think>{think}</think>\\n\\n", as reasoning models behind OpenAI-compatible servers send it.
    `finish_reason=None`: the stream ends with [DONE] without ever sending a finish_reason.
    Delays left at None use the server's.
    """

    text: str = ""
    tokens: int | None = None
    finish_reason: str | None = "stop"
    think: str | None = None
    token_delay_s: float | None = None
    first_token_delay_s: float | None = None

    def __post_init__(self) -> None:
        if self.tokens is not None and self.tokens > 0 and not tokenize(self.text):
            raise ValueError("Reply(tokens=N) needs a non-blank text to repeat")

    @classmethod
    def echo(cls, request: RecordedChatRequest, tokens: int = DEFAULT_TOKENS) -> Reply:
        """The default reply: `expected_answer` of the request's last user message."""
        return cls(text=expected_answer(request.prompt_text, tokens))

    def pieces(self) -> list[str]:
        """The content deltas in stream order; they join to `content`."""
        text_pieces = tokenize(self.text)
        if self.tokens is not None:
            text_pieces = _fit(text_pieces, self.tokens)
        if self.think is None:
            return text_pieces
        return ["<think>", *tokenize(self.think), "</think>", "\n\n", *text_pieces]

    @property
    def content(self) -> str:
        return "".join(self.pieces())


def _fit(pieces: list[str], n: int) -> list[str]:
    out = pieces[:n]
    while len(out) < n:
        # Each repetition starts with a space so that words of two repetitions do not run together.
        again = [pieces[0] if pieces[0][:1].isspace() else " " + pieces[0], *pieces[1:]]
        out.extend(again[: n - len(out)])
    return out


FaultKind = Literal["status", "slow_first_token", "cut", "malformed", "error_event", "hang"]


@dataclass(frozen=True, slots=True)
class Fault:
    """A failure to serve instead of a reply; build one with the class methods.

    Stream faults (`slow_first_token`, `cut_after`, `malformed_after`, `error_event_after`) stream `reply`,
    or what the responder would have answered, until the fault. "After n chunks" counts content chunks;
    the opening role chunk is not counted. Without streaming, `slow_first_token` delays the response,
    `cut_after` drops the connection before answering (so the openai client retries it), `malformed_after`
    sends a truncated JSON body and `error_event_after` answers 500.
    """

    kind: FaultKind
    status_code: int = 500
    retry_after_s: float | None = None
    message: str | None = None
    after_chunks: int = 0
    delay_s: float = 0.0
    clean: bool = False
    reply: Reply | None = None

    @classmethod
    def status(cls, status: int, *, retry_after_s: float | None = None, message: str | None = None) -> Fault:
        """An HTTP error with OpenAI's error body; `retry_after_s` sends retry-after-ms and retry-after."""
        return cls("status", status_code=status, retry_after_s=retry_after_s, message=message)

    @classmethod
    def slow_first_token(cls, delay_s: float, reply: Reply | None = None) -> Fault:
        """Headers at once, then nothing for `delay_s` before the first chunk."""
        return cls("slow_first_token", delay_s=delay_s, reply=reply)

    @classmethod
    def cut_after(cls, chunks: int, *, clean: bool = False, reply: Reply | None = None) -> Fault:
        """End the stream after `chunks` content chunks without finish_reason or [DONE].

        By default the connection is dropped mid-body; `clean=True` ends the HTTP body properly instead.
        """
        return cls("cut", after_chunks=chunks, clean=clean, reply=reply)

    @classmethod
    def malformed_after(cls, chunks: int, reply: Reply | None = None) -> Fault:
        """Send a `data:` line that is not JSON after `chunks` content chunks, then the rest of the stream."""
        return cls("malformed", after_chunks=chunks, reply=reply)

    @classmethod
    def error_event_after(cls, chunks: int, message: str | None = None, reply: Reply | None = None) -> Fault:
        """Send `data: {"error": {...}}` after `chunks` content chunks and end the stream, as OpenAI does."""
        return cls("error_event", after_chunks=chunks, message=message, reply=reply)

    @classmethod
    def hang(cls) -> Fault:
        """Accept the request and never answer, until the client disconnects or the server stops."""
        return cls("hang")

    def with_delay(self, reply: Reply) -> Reply:
        """`reply` with this fault's first-token delay applied (for `slow_first_token`)."""
        return replace(reply, first_token_delay_s=self.delay_s) if self.kind == "slow_first_token" else reply
