"""Which questions a guild can play: the built-in banks it has not switched off, plus its own imported banks.

Built-in banks live in the package and are never copied into the database; a guild only stores a switch
for them. A guild's own banks, and the questions moderators approve from LLM drafts, are stored per guild
and are invisible everywhere else: every lookup takes the guild id, and direct messages (guild id None)
see the built-in banks only.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any, Protocol

import yaml

from bot.errors import InvalidInput
from bot.i18n import LANGUAGES
from bot.services.quiz import importers
from bot.services.quiz.bank import (
    BANK_ID,
    MAX_BANK_BYTES,
    QUESTION_ID,
    TOPIC,
    Bank,
    BankValidationError,
    Question,
    QuestionKind,
    dump_bank,
    parse_bank,
    read_document,
)
from bot.storage import GuildBankRow, QuizRepository, StoredQuestion

MAX_GUILD_BANKS = 50
GENERATED_PREFIX = "generated-"
GENERATED_NAME = {"ko": "AI 생성 문제: {topic}", "en": "AI-generated questions: {topic}"}
GENERATED_SOURCE = "generated"
MAX_DRAFTS_PER_REQUEST = 20
KEY_PARTS = 3


@dataclass(frozen=True)
class TopicInfo:
    topic: str
    bank_ids: tuple[str, ...]
    question_count: dict[str, int]
    """Questions per language; a quiz in one language also borrows twins from the other (see `questions`)."""


@dataclass(frozen=True)
class BankInfo:
    id: str
    name: dict[str, str]
    topic: str
    builtin: bool
    enabled: bool
    questions: int

    def display_name(self, language: str) -> str:
        return self.name.get(language) or next(iter(self.name.values()))


@dataclass(frozen=True)
class Draft:
    id: int
    requested_by: int
    topic: str
    language: str
    question: Question
    created_at: datetime


def question_to_json(question: Question) -> str:
    return json.dumps(
        {
            "bank": question.bank,
            "id": question.id,
            "language": question.language,
            "topic": question.topic,
            "tags": list(question.tags),
            "difficulty": question.difficulty,
            "kind": question.kind.value,
            "text": question.text,
            "choices": list(question.choices),
            "answer_index": question.answer_index,
            "answers": list(question.answers),
            "explanation": question.explanation,
            "source": question.source,
        },
        ensure_ascii=False,
    )


def question_from_json(payload: str) -> Question:
    data: dict[str, Any] = json.loads(payload)
    return Question(
        bank=data["bank"],
        id=data["id"],
        language=data["language"],
        topic=data["topic"],
        tags=tuple(data["tags"]),
        difficulty=int(data["difficulty"]),
        kind=QuestionKind(data["kind"]),
        text=data["text"],
        choices=tuple(data["choices"]),
        answer_index=data["answer_index"],
        answers=tuple(data["answers"]),
        explanation=data["explanation"],
        source=data["source"],
    )


def split_key(key: str) -> tuple[str, str, str] | None:
    """`bank:id:language` -> its parts; None if the key cannot be one."""
    parts = key.split(":")
    if len(parts) != KEY_PARTS or parts[2] not in LANGUAGES:
        return None
    return parts[0], parts[1], parts[2]


def generated_bank_id(topic: str) -> str:
    """Where approved drafts of a topic go; long topics are shortened with a hash so the id stays valid."""
    bank_id = f"{GENERATED_PREFIX}{topic}"
    if BANK_ID.fullmatch(bank_id):
        return bank_id
    return f"gen-{topic[:27]}-{importers.stable_hex(topic)}"


def _slug(filename: str) -> str:
    stem = PurePath(filename).stem.lower()
    slug = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")[:40].strip("-_")
    # A name with no Latin letters (a Korean file name, say) still gets a stable id of its own.
    return slug or f"imported-{importers.stable_hex(stem)}"


def _declared_bank_id(data: bytes, filename: str) -> str | None:
    """The `bank:` a StudyBuddy bank file names itself with, if it is readable at all (errors come later)."""
    try:
        if filename.lower().endswith(".json"):
            document = json.loads(data.decode("utf-8-sig"))
        else:
            document, _ = read_document(data, filename)
    except (BankValidationError, ValueError, yaml.YAMLError):
        return None
    if isinstance(document, dict) and "questions" in document:
        declared = document.get("bank")
        if isinstance(declared, str) and BANK_ID.fullmatch(declared):
            return declared
    return None


def _ordered_ids(questions: Sequence[Question]) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for question in questions:
        seen.setdefault((question.bank, question.id), None)
    return list(seen)


class QuestionSource(Protocol):
    """Questions a guild has outside its banks (those written from its TIL posts), found again by key: a review
    card or an answer refers to them like to any other question."""

    def owns(self, guild_id: int, bank_id: str) -> bool: ...

    async def question(self, guild_id: int, bank_id: str, question_id: str, language: str) -> Question | None: ...


class QuestionCatalog:
    def __init__(
        self,
        repo: QuizRepository,
        builtin: Sequence[Bank],
        now: Callable[[], datetime] | None = None,
        *,
        sources: Sequence[QuestionSource] = (),
    ) -> None:
        self._repo = repo
        self._builtin = {bank.id: bank for bank in builtin}
        self._now = now or (lambda: datetime.now(UTC))
        self._sources = tuple(sources)

    def is_builtin(self, bank_id: str) -> bool:
        return bank_id in self._builtin

    async def _enabled_builtin(self, guild_id: int | None) -> list[Bank]:
        disabled = await self._repo.disabled_builtin_banks(guild_id) if guild_id is not None else set()
        return [bank for bank in self._builtin.values() if bank.id not in disabled]

    # --- reading ---------------------------------------------------------------------------------------------

    async def topics(self, guild_id: int | None) -> list[TopicInfo]:
        banks: dict[str, list[str]] = {}
        counts: dict[str, Counter[str]] = {}
        for bank in await self._enabled_builtin(guild_id):
            for question in bank.questions:
                ids = banks.setdefault(question.topic, [])
                if bank.id not in ids:
                    ids.append(bank.id)
                counts.setdefault(question.topic, Counter())[question.language] += 1
        if guild_id is not None:
            for row in await self._repo.guild_topic_counts(guild_id):
                ids = banks.setdefault(row.topic, [])
                if row.bank_id not in ids:
                    ids.append(row.bank_id)
                counts.setdefault(row.topic, Counter())[row.language] += row.questions
        return [
            TopicInfo(topic, tuple(banks[topic]), {language: counts[topic][language] for language in LANGUAGES})
            for topic in sorted(banks)
        ]

    async def topic_names(self, guild_id: int | None) -> list[str]:
        return [info.topic for info in await self.topics(guild_id)]

    async def questions(self, guild_id: int | None, topic: str, language: str) -> list[Question]:
        """One version of each question of the topic in enabled banks: in `language`, else its twin in another."""
        found = [q for bank in await self._enabled_builtin(guild_id) for q in bank.questions if q.topic == topic]
        if guild_id is not None:
            found += [
                question_from_json(row.payload) for row in await self._repo.guild_questions(guild_id, topic=topic)
            ]
        versions = {(q.bank, q.id, q.language): q for q in found}
        preference = [language, *(other for other in LANGUAGES if other != language)]
        chosen: list[Question] = []
        for bank_id, question_id in _ordered_ids(found):
            for candidate in preference:
                question = versions.get((bank_id, question_id, candidate))
                if question is not None:
                    chosen.append(question)
                    break
        return chosen

    async def question(self, guild_id: int | None, key: str) -> Question | None:
        """The question with this key if the guild can reach it now (its bank exists here and is enabled)."""
        parts = split_key(key)
        if parts is None:
            return None
        bank_id, question_id, language = parts
        if bank_id in self._builtin:
            if guild_id is not None and bank_id in await self._repo.disabled_builtin_banks(guild_id):
                return None
            return self._builtin[bank_id].question(question_id, language)
        if guild_id is None:
            return None
        source = next((source for source in self._sources if source.owns(guild_id, bank_id)), None)
        if source is not None:
            return await source.question(guild_id, bank_id, question_id, language)
        row = await self._repo.guild_question(guild_id, bank_id, question_id, language)
        return None if row is None else question_from_json(row.payload)

    async def banks(self, guild_id: int) -> list[BankInfo]:
        disabled = await self._repo.disabled_builtin_banks(guild_id)
        infos = [
            BankInfo(bank.id, dict(bank.name), bank.topic, True, bank.id not in disabled, len(bank.questions))
            for bank in self._builtin.values()
        ]
        infos += [
            BankInfo(row.bank_id, row.name, row.topic, False, row.enabled, row.questions)
            for row in await self._repo.guild_banks(guild_id)
        ]
        return infos

    async def export(self, guild_id: int, bank_id: str) -> tuple[str, bytes]:
        """A bank as a file in the documented format (built-in banks too, as a template to start from)."""
        bank = self._builtin.get(bank_id) or await self._guild_bank(guild_id, bank_id)
        if bank is None:
            raise InvalidInput("quiz.unknown_bank", bank=bank_id)
        return f"{bank.id}.yaml", dump_bank(bank).encode("utf-8")

    async def _guild_bank(self, guild_id: int, bank_id: str) -> Bank | None:
        row = await self._repo.guild_bank(guild_id, bank_id)
        if row is None:
            return None
        stored = await self._repo.guild_questions(guild_id, bank_id=bank_id, enabled_only=False)
        questions = tuple(question_from_json(question.payload) for question in stored)
        return Bank(id=row.bank_id, name=row.name, topic=row.topic, version=row.version, questions=questions)

    # --- changing --------------------------------------------------------------------------------------------

    async def import_bank(
        self,
        guild_id: int,
        user_id: int,
        data: bytes,
        filename: str,
        *,
        language: str,
        bank_id: str | None = None,
        topic: str | None = None,
    ) -> Bank:
        """Imports a StudyBuddy bank, Red-DiscordBot trivia list or Open Trivia DB JSON into the guild.

        All or nothing: an invalid file stores nothing. The bank id is `bank_id`, else the file's own `bank:`,
        else one made from the file name; `topic` (default: the bank id) and `language` apply to formats that
        lack them. Importing a bank id the guild already has replaces that bank in one transaction.
        """
        if len(data) > MAX_BANK_BYTES:
            raise InvalidInput("quiz.import_too_large", limit_kb=MAX_BANK_BYTES // 1000)
        if language not in LANGUAGES:
            raise InvalidInput("quiz.unknown_language", language=language, languages=", ".join(LANGUAGES))
        for value in (bank_id, topic):
            if value is not None and not BANK_ID.fullmatch(value):
                raise InvalidInput("quiz.bad_identifier", value=value)
        bank_id = bank_id or _declared_bank_id(data, filename) or _slug(filename)
        if bank_id in self._builtin:
            raise InvalidInput("quiz.bank_id_reserved", bank=bank_id)
        if (
            await self._repo.guild_bank(guild_id, bank_id) is None
            and await self._repo.count_guild_banks(guild_id) >= MAX_GUILD_BANKS
        ):
            raise InvalidInput("quiz.too_many_banks", limit=MAX_GUILD_BANKS)
        try:
            bank = importers.import_bank(data, filename, bank_id=bank_id, topic=topic or bank_id, language=language)
        except BankValidationError as exc:
            raise InvalidInput("quiz.import_invalid", file=filename, errors=exc.describe()) from exc
        row = GuildBankRow(
            guild_id=guild_id,
            bank_id=bank.id,
            name=dict(bank.name),
            topic=bank.topic,
            version=bank.version,
            enabled=True,
            imported_by=user_id,
            imported_at=self._now(),
            source_filename=PurePath(filename).name[:200],
        )
        await self._repo.replace_guild_bank(row, [_stored(question) for question in bank.questions])
        return bank

    async def set_enabled(self, guild_id: int, bank_id: str, enabled: bool) -> None:
        if bank_id in self._builtin:
            await self._repo.set_builtin_enabled(guild_id, bank_id, enabled, self._now())
        elif not await self._repo.set_guild_bank_enabled(guild_id, bank_id, enabled):
            raise InvalidInput("quiz.unknown_bank", bank=bank_id)

    # --- LLM drafts ------------------------------------------------------------------------------------------

    async def save_drafts(
        self, guild_id: int, user_id: int, topic: str, language: str, questions: Sequence[Question]
    ) -> list[int]:
        """Keeps generated questions for a moderator to approve; each must pass the same checks as a bank file."""
        if not TOPIC.fullmatch(topic):
            raise InvalidInput("quiz.bad_identifier", value=topic)
        if language not in LANGUAGES:
            raise InvalidInput("quiz.unknown_language", language=language, languages=", ".join(LANGUAGES))
        if not questions or len(questions) > MAX_DRAFTS_PER_REQUEST:
            raise InvalidInput("quiz.draft_count", limit=MAX_DRAFTS_PER_REQUEST)
        drafts = [replace(question, topic=topic) for question in questions]
        _validate_drafts(drafts, topic)
        return await self._repo.insert_drafts(
            guild_id, user_id, topic, language, [question_to_json(question) for question in drafts], self._now()
        )

    async def drafts(self, guild_id: int) -> list[Draft]:
        """Pending drafts, oldest first."""
        return [
            Draft(row.id, row.requested_by, row.topic, row.language, question_from_json(row.payload), row.created_at)
            for row in await self._repo.drafts(guild_id)
        ]

    async def approve(self, guild_id: int, draft_id: int) -> Question:
        """Moves a pending draft into the guild bank `generated-<topic>` (created on first use); returns it there."""
        now = self._now()
        async with self._repo.transaction() as tx:
            row = await tx.pending_draft(guild_id, draft_id)
            if row is None:
                raise InvalidInput("quiz.unknown_draft", draft=draft_id)
            bank_id = generated_bank_id(row.topic)
            bank = GuildBankRow(
                guild_id=guild_id,
                bank_id=bank_id,
                name={language: text.format(topic=row.topic) for language, text in GENERATED_NAME.items()},
                topic=row.topic,
                version=1,
                enabled=True,
                imported_by=row.requested_by,
                imported_at=now,
                source_filename=GENERATED_SOURCE,
            )
            draft = question_from_json(row.payload)
            # Keep the model's id when it is free: it names the question in an export. Else make it unique.
            for question_id in (draft.id, f"{draft.id[:50]}-{draft_id}"):
                question = replace(draft, bank=bank_id, id=question_id, topic=row.topic)
                if await tx.add_guild_question(bank, _stored(question)):
                    break
            else:
                raise InvalidInput("quiz.unknown_draft", draft=draft_id)
            await tx.decide_draft(draft_id, "approved", now)
        return question

    async def reject(self, guild_id: int, draft_id: int) -> None:
        if not await self._repo.reject_draft(guild_id, draft_id, self._now()):
            raise InvalidInput("quiz.unknown_draft", draft=draft_id)


def _stored(question: Question) -> StoredQuestion:
    return StoredQuestion(question.bank, question.id, question.language, question.topic, question_to_json(question))


def _validate_drafts(questions: Sequence[Question], topic: str) -> None:
    """Round-trips the drafts through the bank format, so they meet every limit a bank file does."""
    for question in questions:
        if not QUESTION_ID.fullmatch(question.id):
            raise InvalidInput(
                "quiz.draft_invalid", errors=f"question id {question.id!r}: 1 to 64 of a-z, 0-9, '_', '-'"
            )
    # Ids are renamed for the check only: drafts of one request may share an id; approval makes them unique.
    renamed = tuple(replace(question, bank="drafts", id=f"draft-{n}") for n, question in enumerate(questions))
    bank = Bank(id="drafts", name={"en": "drafts"}, topic=topic, version=1, questions=renamed)
    try:
        parse_bank(dump_bank(bank).encode("utf-8"), "drafts.yaml")
    except BankValidationError as exc:
        raise InvalidInput("quiz.draft_invalid", errors=exc.describe()) from exc
