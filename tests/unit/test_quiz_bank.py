"""The bank loader: the documented format, precise errors for every bad field, all of them at once."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.services.quiz import bank as bank_module
from bot.services.quiz.bank import (
    MAX_BANK_BYTES,
    Bank,
    BankError,
    BankValidationError,
    QuestionKind,
    dump_bank,
    parse_bank,
)


def choice_question(**overrides: Any) -> dict[str, Any]:
    question: dict[str, Any] = {
        "id": "ec2-pricing-001",
        "language": "ko",
        "tags": ["ec2", "pricing"],
        "difficulty": 1,
        "type": "choice",
        "question": "중단되어도 괜찮은 배치 작업에 가장 저렴한 구매 옵션은?",
        "choices": ["온디맨드", "예약 인스턴스", "스팟 인스턴스", "전용 호스트"],
        "answer": 2,
        "explanation": "스팟 인스턴스는 남는 용량을 크게 할인된 가격에 씁니다.",
    }
    question.update(overrides)
    return {key: value for key, value in question.items() if value is not ...}


def bank_document(*questions: Any, **top: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "bank": "aws",
        "name": {"ko": "AWS 기초", "en": "AWS basics"},
        "topic": "aws",
        "version": 1,
        "questions": list(questions) or [choice_question()],
    }
    document.update(top)
    return {key: value for key, value in document.items() if value is not ...}


def encode(document: Any) -> bytes:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8")


def errors_of(data: bytes, filename: str = "aws.yaml") -> list[BankError]:
    with pytest.raises(BankValidationError) as caught:
        parse_bank(data, filename)
    return caught.value.errors


def only_error(data: bytes) -> BankError:
    errors = errors_of(data)
    assert len(errors) == 1, [str(error) for error in errors]
    return errors[0]


# --- valid banks -------------------------------------------------------------------------------------------------


def test_a_valid_bank_becomes_the_model() -> None:
    bank = parse_bank(encode(bank_document()), "aws.yaml")

    assert bank.id == "aws"
    assert bank.name == {"ko": "AWS 기초", "en": "AWS basics"}
    assert bank.version == 1
    (question,) = bank.questions
    assert question.key == "aws:ec2-pricing-001:ko"
    assert question.kind is QuestionKind.CHOICE
    assert question.topic == "aws", "a question without a topic takes the bank's"
    assert question.tags == ("ec2", "pricing")
    assert question.answer_index == 2
    assert question.correct_answer == "스팟 인스턴스"
    assert question.answers == ()
    assert question.source is None


def test_true_false_choices_are_implied_and_localized() -> None:
    document = bank_document(
        choice_question(id="tf", type="true_false", choices=..., answer=False),
        choice_question(id="tf", language="en", type="true_false", choices=..., answer=False),
    )
    bank = parse_bank(encode(document), "aws.yaml")

    korean, english = bank.questions
    assert korean.choices == ("참", "거짓")
    assert english.choices == ("True", "False")
    assert korean.answer_index == english.answer_index == 1, "false is the second choice"


def test_true_false_may_name_its_two_choices_and_use_an_index() -> None:
    question = choice_question(type="true_false", choices=["O", "X"], answer=0)
    (parsed,) = parse_bank(encode(bank_document(question)), "aws.yaml").questions
    assert parsed.choices == ("O", "X")
    assert parsed.correct_answer == "O"


def test_free_questions_keep_canonical_answer_first() -> None:
    question = choice_question(
        type="free", choices=..., answer=..., answers=["Auto Scaling", "오토 스케일링"], topic="aws-compute"
    )
    (parsed,) = parse_bank(encode(bank_document(question)), "aws.yaml").questions
    assert parsed.kind is QuestionKind.FREE
    assert parsed.answers == ("Auto Scaling", "오토 스케일링")
    assert parsed.correct_answer == "Auto Scaling"
    assert parsed.answer_index is None
    assert parsed.topic == "aws-compute"


def test_translations_share_an_id_and_the_bank_knows_both() -> None:
    document = bank_document(choice_question(), choice_question(language="en", question="Cheapest option?"))
    bank = parse_bank(encode(document), "aws.yaml")

    assert bank.languages_of("ec2-pricing-001") == ("ko", "en")
    assert [q.language for q in bank.questions_in("en")] == ["en"]
    assert bank.question("ec2-pricing-001", "en") is not None
    assert bank.question("ec2-pricing-001", "ja") is None


def test_text_is_trimmed_and_a_utf8_byte_order_mark_is_accepted() -> None:
    question = choice_question(explanation="  \n이유.\n\n", choices=[" 온디맨드 ", "예약", "스팟", "전용"])
    (parsed,) = parse_bank(b"\xef\xbb\xbf" + encode(bank_document(question)), "aws.yaml").questions
    assert parsed.explanation == "이유."
    assert parsed.choices[0] == "온디맨드"


# --- one precise error per bad field -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"question": ...}, "question", "required field is missing"),
        ({"question": 3}, "question", "must be text, found a number (3)"),
        ({"question": "   "}, "question", "must not be empty"),
        ({"question": "가" * 1001}, "question", "is 1001 characters; the limit is 1000"),
        ({"explaination": "오타"}, "explaination", "unknown field; did you mean 'explanation'?"),
        ({"difficulty": 0}, "difficulty", "from 1 (easy) to 3 (hard), found a number (0)"),
        ({"difficulty": 4}, "difficulty", "from 1 (easy) to 3 (hard), found a number (4)"),
        ({"difficulty": True}, "difficulty", "found a true/false value"),
        ({"type": "multiple"}, "type", "must be choice, true_false or free, found 'multiple'"),
        ({"choices": ["a", "b", "c", "d", "e", "f"]}, "choices", "has 6 choices; it needs 2 to 5"),
        ({"choices": ["only"], "answer": 0}, "choices", "has 1 choices; it needs 2 to 5"),
        ({"choices": ["EBS", "S3", " ebs ", "EFS"]}, "choices", "choice 3 repeats choice 1 ('ebs')"),
        ({"choices": ["a", "b", "c", "x" * 81]}, "choices", "choice 4 is 81 characters; a button label holds 80"),
        ({"choices": ["a", "b", 3, "d"]}, "choices", "choice 3 must be text, found a number (3)"),
        ({"answer": 4}, "answer", "index 4 is out of range for 4 choices"),
        ({"answer": -1}, "answer", "index -1 is out of range for 4 choices"),
        ({"answer": "스팟 인스턴스"}, "answer", "did you mean 2?"),
        ({"answer": True}, "answer", "the 0-based index of the correct choice"),
        ({"answer": ...}, "answer", "required field is missing"),
        ({"explanation": ""}, "explanation", "must not be empty"),
        ({"explanation": ...}, "explanation", "required field is missing"),
        ({"explanation": "x" * 1501}, "explanation", "is 1501 characters; the limit is 1500"),
        ({"answers": ["스팟"]}, "answers", "does not belong to a choice question"),
        ({"tags": "ec2"}, "tags", "must be a list of tags"),
        ({"tags": ["ec2", "ec2"]}, "tags", "'ec2' is listed twice"),
        ({"tags": ["two words"]}, "tags", "is not a tag"),
        ({"source": "docs.aws.amazon.com"}, "source", "must be an http(s) address"),
        ({"topic": "AWS Basics"}, "topic", "must be 1 to 40 of a-z"),
    ],
)
def test_each_bad_field_is_named_precisely(overrides: dict[str, Any], field: str, fragment: str) -> None:
    error = only_error(encode(bank_document(choice_question(**overrides))))
    assert error.field == field
    assert error.question_id == "ec2-pricing-001"
    assert error.language == "ko"
    assert fragment in error.problem, str(error)


@pytest.mark.parametrize(
    ("question", "field", "fragment"),
    [
        (choice_question(type="free", answer=..., answers=["a"]), "choices", "does not belong to a free question"),
        (choice_question(type="free", choices=..., answer=..., answers=[]), "answers", "has 0 answers"),
        (choice_question(type="free", choices=..., answer=..., answers=["a"] * 2), "answers", "listed twice"),
        (choice_question(type="free", choices=..., answer=..., answers=["a" * 101]), "answers", "101 characters"),
        (choice_question(type="free", choices=..., answer=..., answers=[str(n) for n in range(11)]), "answers", "11"),
        (choice_question(type="true_false", choices=["a", "b", "c"], answer=0), "choices", "it needs exactly 2"),
        (choice_question(type="true_false", choices=..., answer=2), "answer", "out of range for 2 choices"),
        (choice_question(type="true_false", choices=..., answer="yes"), "answer", "true, false or a choice index"),
    ],
)
def test_type_specific_rules(question: dict[str, Any], field: str, fragment: str) -> None:
    error = only_error(encode(bank_document(question)))
    assert error.field == field
    assert fragment in error.problem, str(error)


def test_the_message_reads_as_documented() -> None:
    error = only_error(encode(bank_document(choice_question(answer=7))))
    assert str(error).startswith(
        "aws.yaml: question ec2-pricing-001 (ko), field 'answer': index 7 is out of range for 4 choices"
    )
    assert error.line is not None and str(error).endswith(f"(line {error.line})")


def test_errors_carry_the_line_of_the_bad_value() -> None:
    text = encode(bank_document(choice_question(), choice_question(id="second", difficulty=9))).decode()
    line = next(number for number, content in enumerate(text.splitlines(), 1) if "difficulty: 9" in content)
    assert only_error(text.encode()).line == line


def test_a_question_without_a_valid_id_is_located_by_position() -> None:
    errors = errors_of(encode(bank_document(choice_question(), choice_question(id="Bad Id", language="fr"))))
    assert {(error.position, error.field) for error in errors} == {(2, "id"), (2, "language")}
    assert str(errors[0]).startswith("aws.yaml: question #2, field 'id'")


def test_an_invalid_language_still_names_the_question() -> None:
    error = only_error(encode(bank_document(choice_question(language="ja"))))
    assert (error.question_id, error.language, error.field) == ("ec2-pricing-001", None, "language")
    assert "must be one of ko, en" in error.problem


def test_a_question_that_is_not_a_mapping() -> None:
    error = only_error(encode(bank_document(choice_question(), "just text")))
    assert error.position == 2
    assert "must be a mapping of fields" in error.problem


# --- whole-bank rules ----------------------------------------------------------------------------------------------


def test_an_id_may_appear_once_per_language() -> None:
    document = bank_document(choice_question(), choice_question(language="en"), choice_question(question="다른 문제"))
    error = only_error(encode(document))
    assert (error.question_id, error.language, error.field) == ("ec2-pricing-001", "ko", "id")
    assert "question #1 already uses this id in ko" in error.problem


def test_translations_must_agree_on_type_answer_and_choices() -> None:
    document = bank_document(
        choice_question(),
        choice_question(language="en", answer=1),
        choice_question(id="b"),
        choice_question(id="b", language="en", choices=["a", "b", "c"]),
        choice_question(id="c"),
        choice_question(id="c", language="en", type="free", choices=..., answer=..., answers=["x"]),
        choice_question(id="d"),
        choice_question(id="d", language="en", difficulty=3),
    )
    found = {(error.question_id, error.field) for error in errors_of(encode(document))}
    assert found == {("ec2-pricing-001", "answer"), ("b", "choices"), ("c", "type"), ("d", "difficulty")}


@pytest.mark.parametrize("missing", ["bank", "name", "topic", "version", "questions"])
def test_every_top_level_field_is_required(missing: str) -> None:
    error = only_error(encode(bank_document(**{missing: ...})))
    assert (error.field, error.problem) == (missing, "this required field is missing")


@pytest.mark.parametrize(
    ("top", "field", "fragment"),
    [
        ({"bank": "AWS!"}, "bank", "must be 1 to 40 of a-z"),
        ({"name": "AWS"}, "name", "must map languages to names"),
        ({"name": {"fr": "AWS"}}, "name", "'fr' is not a language"),
        ({"version": 0}, "version", "at least 1"),
        ({"questions": []}, "questions", "the bank has no questions"),
        ({"questions": {"a": 1}}, "questions", "must be a list of questions"),
        ({"extra": 1}, "extra", "unknown field"),
    ],
)
def test_top_level_fields_are_checked(top: dict[str, Any], field: str, fragment: str) -> None:
    error = only_error(encode(bank_document(**top)))
    assert error.field == field
    assert fragment in error.problem


@pytest.mark.parametrize("document", [[1, 2], "text", None, 42])
def test_the_top_level_must_be_a_mapping(document: Any) -> None:
    error = only_error(encode(document))
    assert "the top level must be a mapping" in error.problem


def test_a_red_trivia_list_is_recognized_and_pointed_to_the_importer() -> None:
    error = only_error(encode({"AUTHOR": "someone", "What is EC2?": ["a server"]}))
    assert "looks like a Red-DiscordBot trivia list" in error.problem


def test_all_problems_are_reported_at_once() -> None:
    document = bank_document(
        choice_question(id="a", difficulty=0),
        choice_question(id="b", answer=9, explanation=""),
        choice_question(id="c", colour="blue"),
        version=0,
    )
    errors = errors_of(encode(document))
    found = {(error.question_id, error.field) for error in errors}
    assert found == {(None, "version"), ("a", "difficulty"), ("b", "answer"), ("b", "explanation"), ("c", "colour")}


def test_the_report_lists_twenty_errors_then_counts_the_rest() -> None:
    questions = [choice_question(id=f"q{n}", difficulty=0) for n in range(25)]
    with pytest.raises(BankValidationError) as caught:
        parse_bank(encode(bank_document(*questions)), "big.yaml")
    lines = str(caught.value).splitlines()
    assert len(caught.value.errors) == 25
    assert len(lines) == 21
    assert lines[-1] == "... and 5 more"


def test_a_key_written_twice_is_an_error_not_a_silent_overwrite() -> None:
    text = encode(bank_document()).decode()
    assert "\n  answer: 2\n" in text
    error = only_error(text.replace("\n  answer: 2\n", "\n  answer: 2\n  answer: 1\n").encode())
    assert "key 'answer' appears twice" in error.problem
    assert error.line == text.splitlines().index("  answer: 2") + 2


# --- the file itself -----------------------------------------------------------------------------------------------


def test_an_oversized_file_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parsing(text: str) -> Any:
        raise AssertionError("a file over the limit must not be parsed")

    monkeypatch.setattr(bank_module, "_yaml_loader", no_parsing)
    error = only_error(b"# padding\n" * (5 * 1024 * 1024 // 10))
    assert f"at most {MAX_BANK_BYTES:,} bytes" in error.problem
    assert "5,242,880 bytes" in error.problem


def test_a_binary_file_is_not_a_text_file() -> None:
    png_header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
    assert only_error(png_header).problem.startswith("not a text file")
    assert only_error(png_header[:8]).problem.startswith("not a text file")


def test_invalid_utf8_is_located() -> None:
    error = only_error(b"bank: aws\nname: \xc3\x28\n")
    assert error.problem == "not a text file: byte 0xc3 at offset 16 is not valid UTF-8"


def test_utf16_gets_a_hint_to_save_as_utf8() -> None:
    assert "save it as UTF-8" in only_error("bank: aws\n".encode("utf-16")).problem


def test_a_yaml_syntax_error_gives_line_and_column() -> None:
    data = b"bank: aws\ntopic: aws\nquestions:\n  - id: [unclosed\n    language: ko\n"
    error = only_error(data)
    assert error.problem.startswith("YAML syntax error:")
    assert error.line is not None and error.line >= 4
    assert f"(line {error.line}, column {error.column})" in str(error)


def test_indentation_mistakes_are_syntax_errors_on_their_line() -> None:
    error = only_error(b"bank: aws\n topic: aws\n")
    assert error.problem.startswith("YAML syntax error")
    assert error.line == 2


def test_an_alias_bomb_is_cheap() -> None:
    rows = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 12)]
    errors = errors_of("\n".join(rows).encode())
    assert errors


def test_an_empty_file_is_reported() -> None:
    assert "the top level must be a mapping" in only_error(b"").problem


# --- writing back ---------------------------------------------------------------------------------------------------


def round_trip(bank: Bank) -> Bank:
    return parse_bank(dump_bank(bank).encode("utf-8"), "export.yaml")


def test_dump_round_trips_every_kind_of_question() -> None:
    document = bank_document(
        choice_question(source="https://docs.aws.amazon.com/ec2/", explanation="첫 줄.\n둘째 줄: 콜론도 괜찮다."),
        choice_question(language="en", question='Quotes "inside", {braces} and # hashes?'),
        choice_question(id="tf", type="true_false", choices=..., answer=True, tags=...),
        choice_question(id="tf2", type="true_false", choices=["yes", "no"], answer=1),
        choice_question(id="free", type="free", choices=..., answer=..., answers=["3", "three"], topic="math"),
    )
    bank = parse_bank(encode(document), "aws.yaml")
    exported = dump_bank(bank)

    assert round_trip(bank) == bank
    assert exported.startswith("# StudyBuddy question bank")
    assert "explanation: |-\n" in exported, "multi-line text is written as a block"
    assert "topic: math" in exported and exported.count("topic: aws") == 1, "only overridden topics are written"
