"""The question catalog: built-in and guild banks, imports, switches, export and LLM drafts, on a real SQLite file."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.errors import InvalidInput
from bot.services.quiz.bank import MAX_BANK_BYTES, Bank, QuestionKind, load_builtin_banks, parse_bank
from bot.services.quiz.catalog import QuestionCatalog, generated_bank_id
from bot.storage import Database, QuizRepository

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
GUILD, OTHER_GUILD, ADMIN = 1, 2, 42

MINE_V1 = """\
bank: mine
name: {ko: 우리 문제, en: Our questions}
topic: mine
version: 1
questions:
  - {id: q1, language: en, difficulty: 1, type: choice, question: "One?", choices: [a, b], answer: 0, explanation: "a"}
  - {id: q1, language: ko, difficulty: 1, type: choice, question: "하나?", choices: [가, 나], answer: 0,
     explanation: "가"}
  - {id: q2, language: ko, difficulty: 2, type: free, question: "EC2는?", answers: [가상 서버], explanation: "서버"}
"""
MINE_V2 = """\
bank: mine
name: {en: Our questions}
topic: mine
version: 2
questions:
  - {id: q9, language: en, difficulty: 1, type: true_false, question: "True?", answer: true, explanation: "yes"}
"""
RED_LIST = """\
AUTHOR: Study Group
What gives resizable virtual servers?:
- EC2
- Elastic Compute Cloud
"""
OTDB = {
    "response_code": 0,
    "results": [
        {
            "type": "boolean",
            "difficulty": "easy",
            "category": "Science: Computers",
            "question": "Linux is a kernel.",
            "correct_answer": "True",
            "incorrect_answers": ["False"],
        }
    ],
}


@pytest.fixture(scope="module")
def builtin() -> list[Bank]:
    return load_builtin_banks()


@pytest.fixture
def catalog(db: Database, builtin: list[Bank]) -> QuestionCatalog:
    return QuestionCatalog(QuizRepository(db), builtin, now=lambda: NOW)


async def import_mine(catalog: QuestionCatalog, text: str = MINE_V1, guild: int = GUILD) -> Bank:
    return await catalog.import_bank(guild, ADMIN, text.encode("utf-8"), "mine.yaml", language="ko")


async def test_topics_come_from_the_builtin_banks_with_counts_per_language(catalog: QuestionCatalog) -> None:
    topics = {info.topic: info for info in await catalog.topics(GUILD)}
    assert set(topics) == {"adsp", "aws", "langchain"}
    assert topics["aws"].bank_ids == ("aws",)
    assert topics["aws"].question_count == {"ko": 59, "en": 59}
    assert [info.topic for info in await catalog.topics(None)] == ["adsp", "aws", "langchain"]


async def test_an_imported_bank_is_seen_only_in_its_own_guild(catalog: QuestionCatalog) -> None:
    bank = await import_mine(catalog)
    assert bank.id == "mine"

    topics = {info.topic: info for info in await catalog.topics(GUILD)}
    assert topics["mine"].question_count == {"ko": 2, "en": 1}
    assert "mine" not in {info.topic for info in await catalog.topics(OTHER_GUILD)}
    assert "mine" not in {info.topic for info in await catalog.topics(None)}

    assert await catalog.question(GUILD, "mine:q2:ko") == bank.question("q2", "ko")
    assert await catalog.question(OTHER_GUILD, "mine:q2:ko") is None
    assert await catalog.question(None, "mine:q2:ko") is None
    assert await catalog.questions(OTHER_GUILD, "mine", "ko") == []


async def test_two_guilds_may_use_the_same_bank_id_without_seeing_each_other(catalog: QuestionCatalog) -> None:
    await import_mine(catalog, MINE_V1, GUILD)
    await import_mine(catalog, MINE_V2, OTHER_GUILD)
    assert [q.key for q in await catalog.questions(GUILD, "mine", "en")] == ["mine:q1:en", "mine:q2:ko"]
    assert [q.key for q in await catalog.questions(OTHER_GUILD, "mine", "en")] == ["mine:q9:en"]
    assert await catalog.question(OTHER_GUILD, "mine:q1:en") is None


async def test_a_question_missing_in_one_language_falls_back_to_its_twin(catalog: QuestionCatalog) -> None:
    await import_mine(catalog)
    english = await catalog.questions(GUILD, "mine", "en")
    assert [(q.id, q.language) for q in english] == [("q1", "en"), ("q2", "ko")]
    korean = await catalog.questions(GUILD, "mine", "ko")
    assert [(q.id, q.language) for q in korean] == [("q1", "ko"), ("q2", "ko")]


async def test_one_bad_question_stores_nothing(catalog: QuestionCatalog) -> None:
    broken = MINE_V1.replace("answer: 0,\n", "answer: 7,\n")  # the Korean q1 points past its choices
    with pytest.raises(InvalidInput) as raised:
        await import_mine(catalog, broken)
    assert raised.value.key == "quiz.import_invalid"
    assert "q1" in str(raised.value.params["errors"])
    assert [info.id for info in await catalog.banks(GUILD) if not info.builtin] == []
    assert await catalog.questions(GUILD, "mine", "ko") == []


async def test_a_builtin_bank_id_cannot_be_taken(catalog: QuestionCatalog) -> None:
    with pytest.raises(InvalidInput) as raised:
        await import_mine(catalog, MINE_V1.replace("bank: mine", "bank: aws"))
    assert raised.value.key == "quiz.bank_id_reserved"
    assert raised.value.params == {"bank": "aws"}


async def test_oversized_files_are_refused_before_parsing(catalog: QuestionCatalog) -> None:
    with pytest.raises(InvalidInput) as raised:
        await catalog.import_bank(GUILD, ADMIN, b"#" * (MAX_BANK_BYTES + 1), "big.yaml", language="en")
    assert raised.value.key == "quiz.import_too_large"


async def test_reimporting_replaces_the_bank_and_keeps_its_switch(catalog: QuestionCatalog) -> None:
    await import_mine(catalog)
    await catalog.set_enabled(GUILD, "mine", False)
    await import_mine(catalog, MINE_V2)
    [info] = [info for info in await catalog.banks(GUILD) if info.id == "mine"]
    assert (info.questions, info.enabled, info.name) == (1, False, {"en": "Our questions"})
    await catalog.set_enabled(GUILD, "mine", True)
    assert [q.key for q in await catalog.questions(GUILD, "mine", "en")] == ["mine:q9:en"]
    assert await catalog.question(GUILD, "mine:q1:en") is None


async def test_red_trivia_and_open_trivia_db_files_get_ids_from_their_names(catalog: QuestionCatalog) -> None:
    red = await catalog.import_bank(GUILD, ADMIN, RED_LIST.encode(), "AWS Trivia.yaml", language="en")
    assert (red.id, red.topic, red.questions[0].kind) == ("aws-trivia", "aws-trivia", QuestionKind.FREE)
    otdb = await catalog.import_bank(
        GUILD, ADMIN, json.dumps(OTDB).encode(), "otdb.json", language="ko", bank_id="linux", topic="os"
    )
    assert (otdb.id, otdb.topic, otdb.questions[0].language) == ("linux", "os", "ko")
    assert {info.topic for info in await catalog.topics(GUILD)} >= {"aws-trivia", "os"}


async def test_a_builtin_bank_can_be_switched_off_for_one_guild(catalog: QuestionCatalog) -> None:
    await catalog.set_enabled(GUILD, "aws", False)
    assert "aws" not in {info.topic for info in await catalog.topics(GUILD)}
    assert await catalog.questions(GUILD, "aws", "ko") == []
    assert await catalog.question(GUILD, "aws:ec2-what-is:ko") is None
    assert await catalog.question(OTHER_GUILD, "aws:ec2-what-is:ko") is not None
    assert {info.id: info.enabled for info in await catalog.banks(GUILD)}["aws"] is False

    await catalog.set_enabled(GUILD, "aws", True)
    assert len(await catalog.questions(GUILD, "aws", "ko")) == 59


async def test_switching_an_unknown_bank_is_refused(catalog: QuestionCatalog) -> None:
    with pytest.raises(InvalidInput) as raised:
        await catalog.set_enabled(GUILD, "nope", False)
    assert raised.value.key == "quiz.unknown_bank"
    await import_mine(catalog, guild=OTHER_GUILD)
    with pytest.raises(InvalidInput):
        await catalog.set_enabled(GUILD, "mine", False)  # another guild's bank


async def test_export_round_trips_through_parse_bank(catalog: QuestionCatalog, builtin: list[Bank]) -> None:
    imported = await import_mine(catalog)
    filename, data = await catalog.export(GUILD, "mine")
    assert filename == "mine.yaml"
    assert parse_bank(data, filename) == imported
    aws = next(bank for bank in builtin if bank.id == "aws")
    assert parse_bank((await catalog.export(GUILD, "aws"))[1], "aws.yaml") == aws
    with pytest.raises(InvalidInput):
        await catalog.export(OTHER_GUILD, "mine")


async def test_drafts_wait_for_approval_then_join_the_generated_bank(
    catalog: QuestionCatalog, builtin: list[Bank]
) -> None:
    source = next(bank for bank in builtin if bank.id == "aws").questions_in("en")[:3]
    ids = await catalog.save_drafts(GUILD, 7, "cloud", "en", source)
    assert len(ids) == 3
    assert [draft.question.text for draft in await catalog.drafts(GUILD)] == [q.text for q in source]
    assert await catalog.drafts(OTHER_GUILD) == []
    assert await catalog.questions(GUILD, "cloud", "en") == []

    approved = await catalog.approve(GUILD, ids[0])
    assert approved.bank == generated_bank_id("cloud") == "generated-cloud"
    assert (approved.id, approved.topic) == (source[0].id, "cloud")
    assert await catalog.questions(GUILD, "cloud", "en") == [approved]
    assert await catalog.question(GUILD, approved.key) == approved

    await catalog.reject(GUILD, ids[1])
    with pytest.raises(InvalidInput) as raised:
        await catalog.approve(GUILD, ids[1])
    assert raised.value.key == "quiz.unknown_draft"
    with pytest.raises(InvalidInput):
        await catalog.approve(OTHER_GUILD, ids[2])  # not that guild's draft
    assert [draft.id for draft in await catalog.drafts(GUILD)] == [ids[2]]

    # The same question approved twice gets a second id instead of overwriting the first.
    [again] = await catalog.save_drafts(GUILD, 7, "cloud", "en", source[:1])
    second = await catalog.approve(GUILD, again)
    assert second.id == f"{source[0].id}-{again}"
    exported = parse_bank((await catalog.export(GUILD, "generated-cloud"))[1], "generated-cloud.yaml")
    assert [q.id for q in exported.questions] == [approved.id, second.id]


async def test_invalid_drafts_are_refused_whole(catalog: QuestionCatalog, builtin: list[Bank]) -> None:
    good = next(bank for bank in builtin if bank.id == "aws").questions_in("en")[0]
    bad = replace(good, id="other", answer_index=9)
    with pytest.raises(InvalidInput) as raised:
        await catalog.save_drafts(GUILD, 7, "cloud", "en", [good, bad])
    assert raised.value.key == "quiz.draft_invalid"
    assert await catalog.drafts(GUILD) == []


def test_long_topics_still_make_valid_generated_bank_ids() -> None:
    bank_id = generated_bank_id("a" * 40)
    assert len(bank_id) <= 40
    assert bank_id != generated_bank_id("a" * 39 + "b")
