"""What a generation cost and how it ended, read from LangChain callbacks."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult


class GenerationMeter(BaseCallbackHandler):
    """Collects token usage and finish reasons of every model call in a run.

    `run_inline`: LangChain hands a non-inline sync handler's events, one per streamed token, to a
    thread pool; inline, the per-token no-op costs nothing. (langchain-core's own
    UsageMetadataCallbackHandler is not inline, which is why it is not used here.)
    """

    run_inline = True

    def __init__(self) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self.finish_reasons: list[str | None] = []

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                info = generation.generation_info or {}
                reason = info.get("finish_reason")
                if isinstance(generation, ChatGeneration):
                    message = generation.message
                    reason = reason or message.response_metadata.get("finish_reason")
                    usage = getattr(message, "usage_metadata", None)
                    if usage:
                        self.input_tokens += usage.get("input_tokens", 0)
                        self.output_tokens += usage.get("output_tokens", 0)
                self.finish_reasons.append(reason)

    @property
    def truncated(self) -> bool:
        """The model stopped at its output limit (finish_reason "length")."""
        return "length" in self.finish_reasons
