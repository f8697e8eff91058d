"""Every bank the bot ships is valid, bilingual and agrees with the published JSON Schema."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.services.quiz.bank import Bank, BankValidationError, QuestionKind, dump_bank, load_builtin_banks, parse_bank

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("adsp", "aws", "langchain")
MIN_QUESTIONS_PER_LANGUAGE = 40
ASCII_TAG = re.compile(r"[a-z0-9][a-z0-9-]*")


@pytest.fixture(scope="module")
def banks() -> dict[str, Bank]:
    return {bank.id: bank for bank in load_builtin_banks()}


@pytest.fixture(scope="module")
def schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("bot.data").joinpath("bank.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def shipped_documents() -> list[tuple[str, Any]]:
    folder = resources.files("bot.data").joinpath("banks")
    return [
        (entry.name, yaml.safe_load(entry.read_text(encoding="utf-8")))
        for entry in sorted(folder.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith(".yaml")
    ]


def test_the_shipped_banks_load_through_package_resources(banks: dict[str, Bank]) -> None:
    assert sorted(banks) == list(SHIPPED)
    assert {bank.topic for bank in banks.values()} == set(SHIPPED)


@pytest.mark.parametrize(("filename", "document"), shipped_documents())
def test_every_shipped_bank_matches_the_schema(
    filename: str, document: Any, schema_validator: jsonschema.Draft202012Validator
) -> None:
    problems = [f"{list(error.absolute_path)}: {error.message}" for error in schema_validator.iter_errors(document)]
    assert not problems, f"{filename}: {problems[:5]}"
    assert document["bank"] == filename.removesuffix(".yaml"), "a shipped bank is named after its file"


@pytest.mark.parametrize("bank_id", SHIPPED)
def test_each_bank_has_enough_questions_in_both_languages(banks: dict[str, Bank], bank_id: str) -> None:
    bank = banks[bank_id]
    for language in ("ko", "en"):
        assert len(bank.questions_in(language)) >= MIN_QUESTIONS_PER_LANGUAGE, (bank_id, language)


@pytest.mark.parametrize("bank_id", SHIPPED)
def test_every_question_has_a_faithful_twin(banks: dict[str, Bank], bank_id: str) -> None:
    bank = banks[bank_id]
    korean = {question.id: question for question in bank.questions_in("ko")}
    english = {question.id: question for question in bank.questions_in("en")}

    assert set(korean) == set(english), set(korean) ^ set(english)
    for question_id, ko in korean.items():
        en = english[question_id]
        assert (ko.kind, ko.answer_index, len(ko.choices), ko.difficulty) == (
            en.kind,
            en.answer_index,
            len(en.choices),
            en.difficulty,
        ), question_id
        assert ko.tags == en.tags, question_id


@pytest.mark.parametrize("bank_id", SHIPPED)
def test_korean_questions_are_written_in_korean(banks: dict[str, Bank], bank_id: str) -> None:
    for question in banks[bank_id].questions_in("ko"):
        assert any(unicodedata.name(char, "").startswith("HANGUL") for char in question.text), question.id
        assert any(unicodedata.name(char, "").startswith("HANGUL") for char in question.explanation), question.id


@pytest.mark.parametrize("bank_id", SHIPPED)
def test_banks_are_mostly_multiple_choice_with_some_of_each_kind(banks: dict[str, Bank], bank_id: str) -> None:
    kinds = Counter(question.kind for question in banks[bank_id].questions_in("ko"))
    assert kinds[QuestionKind.CHOICE] > kinds[QuestionKind.TRUE_FALSE] + kinds[QuestionKind.FREE]
    assert kinds[QuestionKind.TRUE_FALSE] > 0
    assert kinds[QuestionKind.FREE] > 0


@pytest.mark.parametrize("bank_id", SHIPPED)
def test_right_answers_are_not_always_in_the_same_place(banks: dict[str, Bank], bank_id: str) -> None:
    positions = Counter(
        question.answer_index for question in banks[bank_id].questions_in("ko") if question.kind is QuestionKind.CHOICE
    )
    assert len(positions) == 4
    assert max(positions.values()) < 0.4 * sum(positions.values()), positions


@pytest.mark.parametrize("bank_id", SHIPPED)
def test_tags_are_ascii_words_for_filtering(banks: dict[str, Bank], bank_id: str) -> None:
    for question in banks[bank_id].questions:
        assert question.tags, question.key
        assert all(ASCII_TAG.fullmatch(tag) for tag in question.tags), question.key


@pytest.mark.parametrize("bank_id", SHIPPED)
def test_shipped_banks_round_trip_through_export(banks: dict[str, Bank], bank_id: str) -> None:
    bank = banks[bank_id]
    assert parse_bank(dump_bank(bank).encode("utf-8"), f"{bank_id}.yaml") == bank


def test_free_answers_accept_their_own_canonical_answer(banks: dict[str, Bank]) -> None:
    from bot.services.quiz.answers import judge

    for bank in banks.values():
        for question in bank.questions:
            for answer in question.answers:
                assert judge(answer, question.answers).correct, (question.key, answer)


# --- the schema and the loader agree on what is invalid --------------------------------------------------------


def valid_document() -> dict[str, Any]:
    return {
        "bank": "demo",
        "name": {"en": "Demo"},
        "topic": "demo",
        "version": 1,
        "questions": [
            {
                "id": "q1",
                "language": "en",
                "difficulty": 1,
                "type": "choice",
                "question": "Which one?",
                "choices": ["a", "b", "c", "d"],
                "answer": 0,
                "explanation": "Because.",
            }
        ],
    }


def with_question(**changes: Any) -> dict[str, Any]:
    document = valid_document()
    question = document["questions"][0]
    for key, value in changes.items():
        if value is ...:
            question.pop(key, None)
        else:
            question[key] = value
    return document


INVALID_DOCUMENTS = {
    "missing explanation": with_question(explanation=...),
    "empty explanation": with_question(explanation=""),
    "difficulty 0": with_question(difficulty=0),
    "difficulty 4": with_question(difficulty=4),
    "six choices": with_question(choices=["a", "b", "c", "d", "e", "f"]),
    "one choice": with_question(choices=["a"]),
    "duplicate choices": with_question(choices=["a", "a", "b", "c"]),
    "over-long choice": with_question(choices=["a", "b", "c", "x" * 81]),
    "unknown field": with_question(hint="try harder"),
    "answer as text": with_question(answer="a"),
    "answer out of range": with_question(answer=5),
    "bad id": with_question(id="Question 1"),
    "bad language": with_question(language="ja"),
    "free with choices": with_question(type="free", answer=..., answers=["a"]),
    "free without answers": with_question(type="free", choices=..., answer=...),
    "true_false with three choices": with_question(type="true_false", choices=["a", "b", "c"]),
    "unknown type": with_question(type="essay"),
    "no questions": {**valid_document(), "questions": []},
    "unknown top-level field": {**valid_document(), "author": "me"},
    "missing name": {key: value for key, value in valid_document().items() if key != "name"},
}


def test_the_valid_example_is_valid_for_both(schema_validator: jsonschema.Draft202012Validator) -> None:
    document = valid_document()
    assert not list(schema_validator.iter_errors(document))
    parse_bank(json.dumps(document).encode(), "demo.yaml")


@pytest.mark.parametrize("case", sorted(INVALID_DOCUMENTS))
def test_invalid_documents_are_rejected_by_schema_and_loader(
    case: str, schema_validator: jsonschema.Draft202012Validator
) -> None:
    document = INVALID_DOCUMENTS[case]
    assert list(schema_validator.iter_errors(document)), f"the schema accepts: {case}"
    with pytest.raises(BankValidationError):
        parse_bank(json.dumps(document).encode(), "demo.yaml")


def test_the_documented_example_is_valid(schema_validator: jsonschema.Draft202012Validator) -> None:
    text = (ROOT / "docs" / "bank-format.md").read_text(encoding="utf-8")
    example = text.split("## A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    document = yaml.safe_load(example)

    assert not list(schema_validator.iter_errors(document))
    bank = parse_bank(example.encode("utf-8"), "example.yaml")
    assert {question.kind for question in bank.questions} == set(QuestionKind)
