"""An in-process fake chat model for services that call the model concurrently (abatch, gather).

Each test says how a prompt is answered by overriding `reply`; the fake records the prompts and how many calls
overlapped, so a test can check that a bound on concurrency held (and that calls did overlap).
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


class ConcurrentFakeModel(BaseChatModel):
    """Answers the last message's text with `reply` (which may raise, as a failing model does)."""

    prompts: list[str] = Field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    @property
    def _llm_type(self) -> str:
        return "concurrent-fake"

    def reply(self, prompt: str) -> str:
        raise NotImplementedError("each test's model says how it answers")

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError("the services call models asynchronously")

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        prompt = str(messages[-1].content)
        self.prompts.append(prompt)
        try:
            # Hand the loop to every other call that may start now, so overlap shows if it is allowed.
            for _ in range(20):
                await asyncio.sleep(0)
            return ChatResult(generations=[ChatGeneration(message=AIMessage(self.reply(prompt)))])
        finally:
            self.in_flight -= 1
