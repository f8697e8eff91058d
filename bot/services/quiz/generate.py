"""Quiz questions written by the model, checked by the same validator as every imported bank.

One model call per question, so each can fail and be asked again on its own; the calls run as one
`abatch` with a bounded `max_concurrency` on the `ChainRunner`'s worker loop. Each call gets a different
`{angle}` (the prompt lists them) so the set covers a topic instead of asking the same thing five times.

An answer is usable only when it is a JSON object that makes a valid one-question bank: exactly one
correct choice by a 0-based `answer` index in range, distinct choices of at most 80 characters, and the
other rules in `bank.py`. An unusable answer is asked for once more with the same input, then dropped.
Nothing here stores questions: the caller shows them to a moderator for approval.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig

from bot.i18n import LANGUAGES
from bot.llm.metering import GenerationMeter
from bot.llm.prompts import PromptLibrary
from bot.llm.runner import ChainRunner
from bot.services.explain import ExplainService, clean_text
from bot.services.quiz.bank import (
    BANK_ID,
    MAX_CHOICE_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    TAG,
    TOPIC,
    BankValidationError,
    Question,
    validate_bank,
)
from bot.services.quiz.importers import stable_hex

log = logging.getLogger(__name__)

PROMPT = "quiz_generate"
MAX_QUESTIONS = 10
MAX_CONTEXT_CHARS = 6000
# The number of angles listed in prompts/quiz_generate.*.md; a test keeps the two in step.
ANGLES = 6
# The fields a model answer may fill; anything else it adds (an id, a source URL it may have invented) is ignored.
MODEL_FIELDS = ("question", "choices", "answer", "explanation", "difficulty", "tags")
FALLBACK_TOPIC = "generated"
# Scanning every "{" of a long rambling answer could take quadratic time; a real answer has its object early.
MAX_OBJECT_STARTS = 50

_NOT_WORD = re.compile(r"[\W_]+")
_NOT_TOPIC = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class GenerationReport:
    questions: list[Question]
    """Valid and distinct, in the order asked; ready to be shown for approval (nothing is stored)."""
    dropped: int
    """Answers still unusable after one retry, answers that failed at the model, and repeated questions."""
    retried: int
    """Questions asked a second time because the first answer was unusable."""
    input_tokens: int = 0
    output_tokens: int = 0


class QuestionGenerator:
    def __init__(
        self,
        chains_model: BaseChatModel,
        prompts: PromptLibrary,
        runner: ChainRunner,
        *,
        max_concurrency: int = 3,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._model = chains_model
        self._prompts = prompts
        self._runner = runner
        self.max_concurrency = max_concurrency

    def chain(self, language: str) -> Runnable[dict[str, Any], str]:
        """{topic}, {context}, {number}, {count}, {angle}, {max_choice_chars} -> one question as JSON text.

        No system prompt: the shared one asks for Markdown, and this answer must be bare JSON.
        """
        template = self._prompts.get(PROMPT, language).template
        return ChatPromptTemplate.from_messages([("human", template)]) | self._model | StrOutputParser()

    async def generate(
        self,
        *,
        topic: str,
        count: int,
        language: str,
        guild_bank_id: str = "generated",
        context: str | None = None,
        bank_topic: str | None = None,
    ) -> GenerationReport:
        """Asks for `count` questions about `topic` in `language`, grounded on `context` when given.

        `bank_topic` is the topic id the questions are filed under (what statistics group by, e.g. "aws");
        by default a slug of `topic`, or "generated" when the topic has no ASCII letters or digits.
        Raises `InvalidInput` for an empty or over-long topic, and the model's own error when every call
        failed at the model (not merely with unusable answers), so the caller can say what went wrong.
        """
        topic = ExplainService.clean_topic(topic)
        if not 1 <= count <= MAX_QUESTIONS:
            raise ValueError(f"count must be 1 to {MAX_QUESTIONS}, not {count}")
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
        if not BANK_ID.fullmatch(guild_bank_id):
            raise ValueError(f"guild_bank_id {guild_bank_id!r} is not a bank id ({BANK_ID.pattern})")
        filed_under = bank_topic if bank_topic is not None else topic_slug(topic)
        if not TOPIC.fullmatch(filed_under):
            raise ValueError(f"bank_topic {filed_under!r} is not a topic id ({TOPIC.pattern})")

        source = (context or "").strip()[:MAX_CONTEXT_CHARS]
        inputs = [
            {
                "topic": topic,
                "context": source,
                "number": number,
                "count": count,
                "angle": (number - 1) % ANGLES + 1,
                "max_choice_chars": MAX_CHOICE_CHARS,
            }
            for number in range(1, count + 1)
        ]
        chain = self.chain(language)
        meter = GenerationMeter()
        documents = QuestionDocuments(guild_bank_id, filed_under, language)

        found: dict[int, Question] = {}
        failures: list[Exception] = []
        unusable: list[int] = []
        for index, output in enumerate(await ask_all(self._runner, chain, inputs, meter, self.max_concurrency)):
            if isinstance(output, Exception):
                # The client has already retried what is worth retrying (rate limits, 5xx, timeouts).
                failures.append(output)
            elif (question := documents.question(output, index)) is not None:
                found[index] = question
            else:
                unusable.append(index)

        dropped = len(failures)
        if unusable:
            retry_outputs = await ask_all(
                self._runner, chain, [inputs[index] for index in unusable], meter, self.max_concurrency
            )
            for index, output in zip(unusable, retry_outputs, strict=True):
                if isinstance(output, Exception):
                    failures.append(output)
                    dropped += 1
                elif (question := documents.question(output, index)) is not None:
                    found[index] = question
                else:
                    dropped += 1

        if not found and failures:
            raise failures[0]

        questions: list[Question] = []
        seen: set[str] = set()
        for index in sorted(found):
            question = found[index]
            key = question_key(question.text)
            if key in seen:
                log.info("generated question %d repeats an earlier one; dropped", index + 1)
                dropped += 1
                continue
            seen.add(key)
            questions.append(question)
        return GenerationReport(
            questions=questions,
            dropped=dropped,
            retried=len(unusable),
            input_tokens=meter.input_tokens,
            output_tokens=meter.output_tokens,
        )


async def ask_all(
    runner: ChainRunner,
    chain: Runnable[dict[str, Any], str],
    inputs: list[dict[str, Any]],
    meter: GenerationMeter,
    max_concurrency: int,
) -> Sequence[str | Exception]:
    """One `abatch` on the worker loop, at most `max_concurrency` calls at once; a failed call comes back as its
    exception, in its place."""
    config = RunnableConfig(callbacks=[meter], max_concurrency=max_concurrency)

    async def produce() -> AsyncIterator[Sequence[str | Exception]]:
        # With return_exceptions, a failed call comes back in its place (langchain-core types it as the output).
        yield await chain.abatch(inputs, config=config, return_exceptions=True)

    [outputs] = [batch async for batch in runner.iterate(produce)]
    return outputs


class QuestionDocuments:
    """Turns model answers into questions through a one-question bank, so import rules apply unchanged."""

    def __init__(self, bank_id: str, topic: str, language: str) -> None:
        self._bank_id = bank_id
        self._topic = topic
        self._language = language

    def question(self, output: str, index: int) -> Question | None:
        raw = extract_json_object(output)
        if raw is None:
            log.info("generated question %d: the answer holds no JSON object", index + 1)
            return None
        bank = {
            "bank": self._bank_id,
            "name": {self._language: self._bank_id},
            "topic": self._topic,
            "version": 1,
            "questions": [question_document(raw, language=self._language, topic=self._topic)],
        }
        try:
            [question] = validate_bank(bank, f"generated question {index + 1}").questions
        except BankValidationError as error:
            log.info("generated question %d is not a valid question:\n%s", index + 1, error)
            return None
        return question


def question_document(raw: Mapping[str, Any], *, language: str, topic: str) -> dict[str, Any]:
    """A bank question document from a model's JSON object; missing fields stay missing for the validator."""
    text = raw.get("question")
    document: dict[str, Any] = {
        "id": f"gen-{stable_hex(text.strip() if isinstance(text, str) else json.dumps(text))}",
        "language": language,
        "topic": topic,
        "type": "choice",
    }
    for name in MODEL_FIELDS:
        if name in raw:
            document[name] = raw[name]
    if "tags" in raw:
        document["tags"] = normalise_tags(raw["tags"])
    return document


def normalise_tags(value: Any) -> list[str]:
    """Tags only help browsing, so a tag the format refuses is mended or left out rather than worth a retry."""
    if not isinstance(value, list):
        return []
    tags: list[str] = []
    for item in value:
        if not isinstance(item, str):
            continue
        tag = _SPACES.sub("-", item.strip().casefold()).replace(",", "")
        if TAG.fullmatch(tag) and len(tag) <= MAX_TAG_CHARS and tag not in tags:
            tags.append(tag)
    return tags[:MAX_TAGS]


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text` that has a "question", wherever it sits (```json fences, chatter)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    for _ in range(MAX_OBJECT_STARTS):
        if start < 0:
            return None
        try:
            value, _end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(value, dict) and "question" in value:
                return value
        start = text.find("{", start + 1)
    return None


def question_key(text: str) -> str:
    """Question text without case, spacing or punctuation: "What is EC2?" and "what is EC2" are one question."""
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def topic_slug(topic: str) -> str:
    """ "EC2 Auto Scaling" -> "ec2-auto-scaling"; a topic id holds a-z, 0-9 and "-" only."""
    ascii_text = unicodedata.normalize("NFKD", clean_text(topic)).encode("ascii", "ignore").decode().casefold()
    slug = _NOT_TOPIC.sub("-", ascii_text).strip("-")[:40].strip("-")
    return slug or FALLBACK_TOPIC
