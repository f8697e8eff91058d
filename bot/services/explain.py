"""Explanations: validates requests, meters usage, and turns chains into streams of text.

A `Generation` is the text stream a reply engine renders, plus `settle()`, which the caller awaits
once the stream has ended (finished, stopped or failed) to record usage and the DM history.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable, RunnableConfig

from bot.errors import InvalidInput, NotConfigured
from bot.i18n import Catalog
from bot.llm.chains import ChainFactory
from bot.llm.metering import GenerationMeter
from bot.llm.runner import ChainRunner
from bot.services.admission import AdmissionGate, Ticket
from bot.services.quiz.bank import Question
from bot.services.usage import UsageService
from bot.storage import ConversationRepository

MAX_TOPIC_CHARS = 200
MAX_HOW_CHARS = 200
MAX_TOPICS = 5
MAX_MESSAGE_CHARS = 4000
HISTORY_TURNS = 12
QUIZ_EXPLANATIONS_KEPT = 500
ASPECTS = ("concept", "example", "pitfalls", "exam_tip")
TOPIC_SEPARATORS = re.compile(r"[,\n\u3001\uff0c]")
INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")


def clean_text(text: str | None) -> str:
    """Collapses whitespace and drops zero-width characters, so "   " or "\u200b" count as empty."""
    return " ".join(INVISIBLE.sub("", unicodedata.normalize("NFC", text or "")).split())


def split_topics(text: str) -> list[str]:
    """ "EC2, EBS, ELB" (commas, ideographic commas or lines) -> distinct topics, in order."""
    topics: dict[str, str] = {}
    for part in TOPIC_SEPARATORS.split(text):
        topic = clean_text(part)
        if topic:
            topics.setdefault(topic.casefold(), topic)
    return list(topics.values())


Settle = Callable[[str, bool], Awaitable[None]]


@dataclass
class Generation:
    chunks: AsyncIterator[str]
    meter: GenerationMeter
    ticket: Ticket
    _settle: Settle
    progress: Callable[[], str | None] = field(default=lambda: None)

    @property
    def truncated(self) -> bool:
        return self.meter.truncated

    async def settle(self, text: str, completed: bool) -> None:
        """Records what the generation cost (and, for a conversation, the exchange once complete)."""
        await self._settle(text, completed)


class ExplainService:
    def __init__(
        self,
        chains: ChainFactory | None,
        usage: UsageService,
        conversations: ConversationRepository,
        gate: AdmissionGate,
        catalog: Catalog,
        runner: ChainRunner,
        *,
        batch_concurrency: int = 3,
    ) -> None:
        self._chains = chains
        self._runner = runner
        self._usage = usage
        self._conversations = conversations
        self.gate = gate
        self._catalog = catalog
        self.batch_concurrency = batch_concurrency
        self._quiz_explanations: OrderedDict[tuple[str, str], str] = OrderedDict()

    @property
    def configured(self) -> bool:
        return self._chains is not None

    def _require_chains(self) -> ChainFactory:
        if self._chains is None:
            raise NotConfigured()
        return self._chains

    @staticmethod
    def clean_topic(topic: str | None) -> str:
        cleaned = clean_text(topic)
        if not cleaned:
            raise InvalidInput("explain.topic_empty")
        if len(cleaned) > MAX_TOPIC_CHARS:
            raise InvalidInput("explain.topic_too_long", limit=MAX_TOPIC_CHARS)
        return cleaned

    def clean_how(self, how: str | None, language: str) -> str:
        cleaned = clean_text(how)
        if len(cleaned) > MAX_HOW_CHARS:
            raise InvalidInput("explain.how_too_long", limit=MAX_HOW_CHARS)
        return cleaned or self._catalog.text(language, "explain.default_how")

    def clean_topics(self, topics: str) -> list[str]:
        found = [self.clean_topic(topic) for topic in split_topics(topics)]
        if not found:
            raise InvalidInput("explain.topic_empty")
        if len(found) > MAX_TOPICS:
            raise InvalidInput("explain.too_many_topics", limit=MAX_TOPICS)
        return found

    @staticmethod
    def clean_message(content: str) -> str:
        cleaned = (content or "").strip()
        if not clean_text(cleaned):
            raise InvalidInput("explain.message_empty")
        return cleaned[:MAX_MESSAGE_CHARS]

    async def admit(self, user_id: int, guild_id: int | None, weight: int = 1) -> Ticket:
        """Checks everything that can refuse a request before any model call: key, budget, turn."""
        self._require_chains()
        await self._usage.ensure_within_budget(guild_id, user_id)
        return self.gate.admit(user_id, weight)

    def explain(self, ticket: Ticket, guild_id: int | None, language: str, topic: str, how: str) -> Generation:
        chain = self._require_chains().explain(language)
        return self.metered(ticket, guild_id, chain, {"topic": topic, "how": how})

    def explain_aspects(
        self, ticket: Ticket, guild_id: int | None, language: str, topic: str, how: str, aspects: Sequence[str]
    ) -> Generation:
        """Every aspect is written at once (RunnableParallel); sections are shown in order as they complete."""
        labels = {key: self._catalog.text(language, f"explain.aspect.{key}") for key in aspects}
        chain = self._require_chains().explain_aspects(language, labels)
        meter = GenerationMeter()
        inputs = {"topic": topic, "how": how}
        stream = self._runner.iterate(lambda: chain.astream(inputs, config=RunnableConfig(callbacks=[meter])))
        return Generation(
            _sections_in_order(stream, labels), meter, ticket, self._usage_recorder(guild_id, ticket, meter)
        )

    def explain_topics(
        self, ticket: Ticket, guild_id: int | None, language: str, topics: Sequence[str], how: str
    ) -> Generation:
        """Several topics through `abatch_as_completed` with a bounded `max_concurrency`, one section each."""
        chain = self._require_chains().explain(language)
        meter = GenerationMeter()
        done: list[str] = []

        async def sections() -> AsyncIterator[str]:
            answers: dict[int, str] = {}
            shown = 0
            inputs = [{"topic": topic, "how": how} for topic in topics]
            config = RunnableConfig(callbacks=[meter], max_concurrency=self.batch_concurrency)
            async for index, answer in self._runner.iterate(lambda: chain.abatch_as_completed(inputs, config=config)):
                answers[index] = answer
                done.append(topics[index])
                # Sections keep the order the user asked in: show each as soon as all before it are in.
                while shown in answers:
                    section = f"## {topics[shown]}\n{answers.pop(shown).strip()}"
                    yield section if shown == 0 else "\n\n" + section
                    shown += 1

        return Generation(
            sections(),
            meter,
            ticket,
            self._usage_recorder(guild_id, ticket, meter),
            progress=lambda: f"{len(done)}/{len(topics)}",
        )

    def explain_message(self, ticket: Ticket, guild_id: int | None, language: str, content: str) -> Generation:
        chain = self._require_chains().explain_message(language)
        return self.metered(ticket, guild_id, chain, {"message": content})

    def explain_quiz_question(
        self, ticket: Ticket, guild_id: int | None, language: str, question: Question
    ) -> Generation:
        """A deeper explanation of a quiz question, grounded in the question and its own explanation.

        Completed answers are kept per question and language (see `cached_quiz_explanation`): the whole
        channel tends to press "Explain more" on the same question.
        """
        chain = self._require_chains().quiz_explanation(language)
        inputs = {
            "question": question.text,
            "choices": " / ".join(question.choices) or "-",
            "answer": question.correct_answer,
            "explanation": question.explanation,
        }

        async def remember(text: str, completed: bool) -> None:
            if completed and text.strip():
                self._quiz_explanations[question.key, language] = text
                while len(self._quiz_explanations) > QUIZ_EXPLANATIONS_KEPT:
                    self._quiz_explanations.popitem(last=False)

        return self.metered(ticket, guild_id, chain, inputs, then=remember)

    def cached_quiz_explanation(self, question: Question, language: str) -> str | None:
        text = self._quiz_explanations.get((question.key, language))
        if text is not None:
            self._quiz_explanations.move_to_end((question.key, language))
        return text

    def converse(self, ticket: Ticket, user_id: int, language: str, question: str) -> Generation:
        """The next answer of a DM conversation, with the recent history; the exchange is kept when complete."""
        chain = self._require_chains().conversation(language)
        meter = GenerationMeter()

        async def answer() -> AsyncIterator[str]:
            history = await self._conversations.recent(user_id, HISTORY_TURNS)
            messages: list[BaseMessage] = [
                HumanMessage(turn.content) if turn.role == "human" else AIMessage(turn.content) for turn in history
            ]
            inputs = {"history": messages, "question": question}
            config = RunnableConfig(callbacks=[meter])
            async for chunk in self._runner.iterate(lambda: chain.astream(inputs, config=config)):
                yield chunk

        async def remember(text: str, completed: bool) -> None:
            if completed and text.strip():
                await self._conversations.append(user_id, question, text, HISTORY_TURNS)

        return Generation(answer(), meter, ticket, self._usage_recorder(None, ticket, meter, remember))

    async def forget_conversation(self, user_id: int) -> int:
        return await self._conversations.clear(user_id)

    def metered(
        self,
        ticket: Ticket,
        guild_id: int | None,
        chain: Runnable[dict[str, Any], str],
        inputs: dict[str, Any],
        *,
        then: Settle | None = None,
    ) -> Generation:
        """Streams any text chain for an admitted request; settling records its usage (then calls `then`)."""
        meter = GenerationMeter()
        stream = self._runner.iterate(lambda: chain.astream(inputs, config=RunnableConfig(callbacks=[meter])))
        return Generation(stream, meter, ticket, self._usage_recorder(guild_id, ticket, meter, then))

    def _usage_recorder(
        self, guild_id: int | None, ticket: Ticket, meter: GenerationMeter, then: Settle | None = None
    ) -> Settle:
        async def record(text: str, completed: bool) -> None:
            await self._usage.record(guild_id, ticket.user_id, meter.input_tokens, meter.output_tokens)
            if then is not None:
                await then(text, completed)

        return record


async def _sections_in_order(stream: AsyncIterator[dict[str, str]], labels: Mapping[str, str]) -> AsyncIterator[str]:
    """Interleaved `{aspect: chunk}` pieces -> one text whose sections keep the requested order.

    Every aspect is written at the same time, but a Discord message can only grow at its end: the
    first section streams live, the others are collected meanwhile and appended when the parallel
    run ends (they were written alongside the first, so that is about when the first one ends).
    """
    first, *others = labels
    buffers: dict[str, list[str]] = {key: [] for key in others}
    yield f"## {labels[first]}\n"
    async for piece in stream:
        for key, chunk in piece.items():
            if key == first:
                yield chunk
            else:
                buffers[key].append(chunk)
    for key in others:
        yield f"\n\n## {labels[key]}\n" + "".join(buffers[key]).strip()
