"""Chain factories: `prompt | model | StrOutputParser()`, built from prompt files, taking the model.

Tests pass a fake model; the bot passes the one `ChatOpenAI` it built at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable, RunnableParallel

from bot.llm.prompts import PromptLibrary


class ChainFactory:
    def __init__(self, model: BaseChatModel, prompts: PromptLibrary) -> None:
        self.model = model
        self.prompts = prompts

    def _chat_prompt(self, name: str, language: str, *, history: bool = False) -> ChatPromptTemplate:
        messages: list[object] = [("system", self.prompts.get("system", language).template)]
        if history:
            messages.append(MessagesPlaceholder("history"))
        messages.append(("human", self.prompts.get(name, language).template))
        return ChatPromptTemplate.from_messages(messages)  # type: ignore[arg-type]

    def explain(self, language: str) -> Runnable[dict[str, Any], str]:
        """{topic}, {how} -> the explanation."""
        return self._chat_prompt("explain", language) | self.model | StrOutputParser()

    def explain_aspects(self, language: str, aspects: Mapping[str, str]) -> Runnable[dict[str, Any], dict[str, Any]]:
        """{topic}, {how} -> one explanation per aspect, all written at once by `RunnableParallel`.

        `aspects` maps a key to the aspect's name in the reader's language (it goes into the prompt).
        Streaming it yields `{key: chunk}` pieces interleaved across aspects.
        """
        prompt = self._chat_prompt("explain_aspect", language)
        branches = {
            key: prompt.partial(aspect=label) | self.model | StrOutputParser() for key, label in aspects.items()
        }
        return RunnableParallel(branches)

    def explain_message(self, language: str) -> Runnable[dict[str, Any], str]:
        """{message} -> an explanation of someone's message."""
        return self._chat_prompt("explain_message", language) | self.model | StrOutputParser()

    def quiz_explanation(self, language: str) -> Runnable[dict[str, Any], str]:
        """{question}, {choices}, {answer}, {explanation} -> a deeper explanation of a quiz question."""
        return self._chat_prompt("quiz_explain", language) | self.model | StrOutputParser()

    def conversation(self, language: str) -> Runnable[dict[str, Any], str]:
        """{history} (messages), {question} -> the next answer of a DM conversation."""
        return self._chat_prompt("dm", language, history=True) | self.model | StrOutputParser()

    def til_feedback(self, language: str) -> Runnable[dict[str, Any], str]:
        """{title}, {date}, {tags}, {learned}, {hard}, {curious}, {reflection} -> a short review of a TIL."""
        return self._chat_prompt("til_feedback", language) | self.model | StrOutputParser()

    def til_quiz(self, language: str) -> Runnable[dict[str, Any], str]:
        """{title}, {tags}, {learned}, {hard}, {max_choice_chars} -> one quiz question about a TIL, as JSON text.

        No system prompt: the shared one asks for Markdown, and this answer must be bare JSON.
        """
        template = self.prompts.get("til_quiz", language).template
        return ChatPromptTemplate.from_messages([("human", template)]) | self.model | StrOutputParser()

    def til_digest_member(self, language: str) -> Runnable[dict[str, Any], str]:
        """{posts} -> one member's week of TILs in 2-3 lines."""
        return self._chat_prompt("til_digest_member", language) | self.model | StrOutputParser()

    def til_digest(self, language: str) -> Runnable[dict[str, Any], str]:
        """{week}, {summaries} -> the group's "what we learned this week" post."""
        return self._chat_prompt("til_digest", language) | self.model | StrOutputParser()
