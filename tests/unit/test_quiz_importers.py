"""Importing Red-DiscordBot trivia lists and Open Trivia DB JSON as validated banks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.services.quiz.bank import MAX_BANK_BYTES, BankValidationError, QuestionKind, dump_bank, parse_bank
from bot.services.quiz.importers import import_bank, stable_hex

# Shaped like Red-DiscordBot's bundled lists (redbot/cogs/trivia/data/lists/*.yaml).
RED_LIST = """\
AUTHOR: Study Group
DESCRIPTION: AWS basics for our study group.
CONFIG:
  max_score: 10
  timeout: 120
  delay: 20
  bot_plays: false
  reveal_answer: true
Which AWS service gives you resizable virtual servers?:
- EC2
- Amazon EC2
- Elastic Compute Cloud
How many Availability Zones does a subnet span?:
- 1
- one
Is an EBS snapshot stored in Amazon S3?:
- yes
What symbol starts a comment in a YAML file?:
- "#"
"""


def import_red(text: str = RED_LIST, language: str = "en") -> Any:
    return import_bank(text.encode("utf-8"), "aws_trivia.yaml", bank_id="guild-aws", topic="aws", language=language)


def otdb_result(question: str, correct: str, incorrect: list[str], **fields: Any) -> dict[str, Any]:
    result = {
        "type": "multiple",
        "difficulty": "medium",
        "category": "Science: Computers",
        "question": question,
        "correct_answer": correct,
        "incorrect_answers": incorrect,
    }
    result.update(fields)
    return result


OTDB_RESPONSE = {
    "response_code": 0,
    "results": [
        otdb_result(
            "What does &quot;HTTP&quot; stand for?",
            "HyperText Transfer Protocol",
            ["HyperText Traffic Protocol", "High Transfer Text Protocol", "Hyper Tool Transfer Process"],
            difficulty="easy",
        ),
        otdb_result(
            "The programming language &#039;Python&#039; was named after a snake.",
            "False",
            ["True"],
            type="boolean",
            difficulty="hard",
        ),
    ],
}


def import_otdb(document: Any, language: str = "en", filename: str = "otdb.json") -> Any:
    data = json.dumps(document).encode("utf-8")
    return import_bank(data, filename, bank_id="otdb-computers", topic="computers", language=language)


# --- Red-DiscordBot ---------------------------------------------------------------------------------------------


def test_red_questions_become_free_questions_and_metadata_is_ignored() -> None:
    bank = import_red()

    assert (bank.id, bank.topic, bank.version) == ("guild-aws", "aws", 1)
    assert bank.name == {"en": "aws_trivia"}
    assert [question.text for question in bank.questions] == [
        "Which AWS service gives you resizable virtual servers?",
        "How many Availability Zones does a subnet span?",
        "Is an EBS snapshot stored in Amazon S3?",
        "What symbol starts a comment in a YAML file?",
    ]
    first = bank.questions[0]
    assert first.kind is QuestionKind.FREE
    assert first.answers == ("EC2", "Amazon EC2", "Elastic Compute Cloud")
    assert first.correct_answer == "EC2"
    assert first.language == "en"
    assert first.difficulty == 2


def test_red_ids_are_stable_hashes_of_the_question_text() -> None:
    first, second = import_red(), import_red()
    ids = [question.id for question in first.questions]

    assert ids == [question.id for question in second.questions]
    assert ids[0] == "red-" + stable_hex("Which AWS service gives you resizable virtual servers?")
    assert all(len(question_id) == len("red-") + 8 for question_id in ids)


def test_red_yaml_booleans_and_numbers_become_answers_like_red_does() -> None:
    bank = import_red()
    assert bank.questions[1].answers == ("1", "one")
    assert bank.questions[2].answers == ("True", "Yes", "On")
    assert bank.questions[3].answers == ("#",)


def test_red_explanations_list_the_accepted_answers_in_the_chosen_language() -> None:
    english, korean = import_red().questions[0], import_red(language="ko").questions[0]
    assert english.explanation == (
        "Imported from a Red-DiscordBot trivia list; accepted answers: EC2, Amazon EC2, Elastic Compute Cloud"
    )
    assert korean.explanation.startswith("Red-DiscordBot 트리비아 목록에서 가져온 문제입니다.")
    assert korean.language == "ko"


def test_red_lists_go_through_the_bank_validator() -> None:
    too_many = "Name a region:\n" + "".join(f"- region{n}\n" for n in range(11))
    with pytest.raises(BankValidationError) as caught:
        import_red(too_many + "Empty?: []\n")
    problems = {(error.field, error.problem.split(";")[0]) for error in caught.value.errors}
    assert problems == {("answers", "has 11 answers"), ("answers", "has 0 answers")}
    assert all(error.question_id and error.question_id.startswith("red-") for error in caught.value.errors)


def test_red_questions_must_map_to_answer_lists() -> None:
    with pytest.raises(BankValidationError) as caught:
        import_red("AUTHOR: me\nWhat is S3?: object storage\n")
    assert "must map to a list of answers" in str(caught.value)


def test_a_red_list_with_only_metadata_has_no_questions() -> None:
    with pytest.raises(BankValidationError, match="has no questions"):
        import_red("AUTHOR: me\nCONFIG:\n  max_score: 5\n")


def test_an_imported_red_bank_exports_to_our_format() -> None:
    bank = import_red()
    assert parse_bank(dump_bank(bank).encode("utf-8"), "export.yaml") == bank


# --- Open Trivia DB -------------------------------------------------------------------------------------------------


def test_otdb_multiple_choice_is_unescaped_and_keeps_the_right_answer() -> None:
    question = import_otdb(OTDB_RESPONSE).questions[0]

    assert question.kind is QuestionKind.CHOICE
    assert question.text == 'What does "HTTP" stand for?'
    assert question.correct_answer == "HyperText Transfer Protocol"
    assert sorted(question.choices) == sorted(
        [
            "HyperText Transfer Protocol",
            "HyperText Traffic Protocol",
            "High Transfer Text Protocol",
            "Hyper Tool Transfer Process",
        ]
    )
    assert question.difficulty == 1
    assert question.tags == ("science-computers",)
    assert question.id.startswith("otdb-") and len(question.id) == len("otdb-") + 8
    assert question.source == "https://opentdb.com/"
    assert "HyperText Transfer Protocol" in question.explanation


def test_otdb_boolean_becomes_true_false() -> None:
    question = import_otdb(OTDB_RESPONSE).questions[1]

    assert question.kind is QuestionKind.TRUE_FALSE
    assert question.text == "The programming language 'Python' was named after a snake."
    assert question.choices == ("True", "False")
    assert question.correct_answer == "False"
    assert question.difficulty == 3


def test_otdb_boolean_choices_follow_the_chosen_language() -> None:
    question = import_otdb(OTDB_RESPONSE, language="ko").questions[1]
    assert question.choices == ("참", "거짓")
    assert question.answer_index == 1
    assert question.explanation.startswith("Open Trivia DB에서 가져온 문제입니다")


def test_otdb_answer_positions_are_stable_and_spread_out() -> None:
    results = [otdb_result(f"Question number {n}?", f"right {n}", ["wrong a", "wrong b", "wrong c"]) for n in range(16)]
    first = import_otdb({"response_code": 0, "results": results})
    second = import_otdb({"response_code": 0, "results": results})

    positions = [question.answer_index for question in first.questions]
    assert positions == [question.answer_index for question in second.questions]
    assert len(set(positions)) > 1, "the right answer must not always sit in the same place"
    assert all(question.correct_answer.startswith("right") for question in first.questions)


def test_a_bare_otdb_results_list_is_accepted() -> None:
    bank = import_otdb(OTDB_RESPONSE["results"])
    assert len(bank.questions) == 2


def test_an_otdb_error_response_is_explained() -> None:
    with pytest.raises(BankValidationError, match="response_code 5: rate limit exceeded"):
        import_otdb({"response_code": 5, "results": []})


def test_broken_otdb_results_are_all_reported() -> None:
    results = [
        otdb_result("Fine?", "yes", ["no"]),
        otdb_result("Bad type?", "x", ["y"], type="open"),
        otdb_result("Bad level?", "x", ["y"], difficulty="extreme"),
        "not an object",
    ]
    with pytest.raises(BankValidationError) as caught:
        import_otdb(results)
    assert [error.position for error in caught.value.errors] == [2, 3, 4]


def test_otdb_choices_go_through_the_bank_validator() -> None:
    long_choice = otdb_result("Pick one", "x" * 81, ["a", "b", "c"])
    with pytest.raises(BankValidationError, match="a button label holds 80"):
        import_otdb([long_choice])


def test_a_json_syntax_error_is_located() -> None:
    with pytest.raises(BankValidationError) as caught:
        import_bank(b'{"results": [\n  {"type": }\n]}', "otdb.json", bank_id="x", topic="x", language="en")
    (error,) = caught.value.errors
    assert error.problem.startswith("JSON syntax error")
    assert error.line == 2


# --- detection and limits --------------------------------------------------------------------------------------


def test_our_own_format_is_validated_as_is_under_the_callers_bank_id() -> None:
    document = {
        "bank": "original",
        "name": {"ko": "원본"},
        "topic": "aws",
        "version": 3,
        "questions": [
            {
                "id": "q1",
                "language": "ko",
                "difficulty": 1,
                "type": "free",
                "question": "EC2는 무엇의 약자인가요?",
                "answers": ["Elastic Compute Cloud"],
                "explanation": "Elastic Compute Cloud의 약자입니다.",
            }
        ],
    }
    bank = import_bank(json.dumps(document).encode(), "mine.json", bank_id="guild-aws", topic="other", language="en")
    assert (bank.id, bank.topic, bank.version, bank.name) == ("guild-aws", "aws", 3, {"ko": "원본"})
    assert bank.questions[0].key == "guild-aws:q1:ko"


def test_an_unknown_shape_is_refused() -> None:
    with pytest.raises(BankValidationError, match="not a StudyBuddy bank, a Red-DiscordBot trivia list"):
        import_bank(b"just some text\n", "notes.txt", bank_id="x", topic="x", language="en")


def test_imports_have_the_same_size_limit() -> None:
    with pytest.raises(BankValidationError, match=f"at most {MAX_BANK_BYTES:,} bytes"):
        import_bank(b"a" * (MAX_BANK_BYTES + 1), "big.yaml", bank_id="x", topic="x", language="en")


def test_imports_refuse_binary_files() -> None:
    with pytest.raises(BankValidationError, match="not a text file"):
        import_bank(b"\x89PNG\r\n\x1a\n\x00\x00", "list.yaml", bank_id="x", topic="x", language="en")


def test_the_language_must_be_one_the_bot_speaks() -> None:
    with pytest.raises(ValueError, match="language"):
        import_bank(RED_LIST.encode(), "list.yaml", bank_id="x", topic="x", language="fr")
