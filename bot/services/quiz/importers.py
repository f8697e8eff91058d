"""Importing question banks written for other bots, so a study group can reuse what it already has.

Supported, detected from the content:

- a StudyBuddy bank (a mapping with a top-level `questions` key), validated as it is;
- a Red-DiscordBot trivia list: a YAML mapping `question text: [answers]`, with optional metadata keys
  `AUTHOR`, `DESCRIPTION`, `CONFIG` and `$schema` that are not questions;
- Open Trivia DB JSON: an API response `{"response_code": 0, "results": [...]}` or a bare list of results
  (the API's default encoding, HTML entities; not `encode=url3986` or `encode=base64`).

Every import goes through the same validator as a hand-written bank, so the limits and error messages
are the same, and the result is all-or-nothing.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import yaml

from bot.i18n import LANGUAGES
from bot.services.quiz.bank import (
    MAX_EXPLANATION_CHARS,
    MAX_NAME_CHARS,
    MAX_TAG_CHARS,
    Bank,
    BankError,
    BankValidationError,
    decode_text,
    read_document,
    validate_bank,
)

RED_METADATA_KEYS = frozenset({"AUTHOR", "DESCRIPTION", "CONFIG", "$schema"})
# Red-DiscordBot lists carry no difficulty; the middle of the scale keeps them out of "easy" and "hard" filters.
RED_DIFFICULTY = 2
OTDB_DIFFICULTY = {"easy": 1, "medium": 2, "hard": 3}
OTDB_SOURCE = "https://opentdb.com/"
OTDB_RESPONSE_CODES = {
    1: "no results (the category has fewer questions than requested)",
    2: "invalid parameter",
    3: "session token not found",
    4: "session token exhausted (every question was already returned)",
    5: "rate limit exceeded",
}

RED_EXPLANATION = {
    "ko": "Red-DiscordBot 트리비아 목록에서 가져온 문제입니다. 인정되는 답: {answers}",
    "en": "Imported from a Red-DiscordBot trivia list; accepted answers: {answers}",
}
OTDB_EXPLANATION = {
    "ko": "Open Trivia DB에서 가져온 문제입니다(분류: {category}). 정답: {answer}",
    "en": "Imported from Open Trivia DB (category: {category}); the correct answer is {answer}.",
}


def import_bank(data: bytes, filename: str, *, bank_id: str, topic: str, language: str) -> Bank:
    """Reads a StudyBuddy bank, a Red-DiscordBot trivia list or Open Trivia DB JSON as a validated `Bank`.

    `bank_id` always names the result: the caller owns where imported banks live. `topic` and `language`
    apply to formats that lack them; a StudyBuddy bank keeps its own topic and question languages.
    Raises `BankValidationError` (with every problem found) like `parse_bank`.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    document, root = _read(data, filename)
    name = {language: _bank_name(filename)}
    if isinstance(document, dict) and "questions" in document:
        if isinstance(document.get("bank"), str):
            document = {**document, "bank": bank_id}
        return validate_bank(document, filename, root)
    if _is_otdb(document):
        questions = _from_otdb_results(_otdb_results(document, filename), language, filename)
    elif isinstance(document, dict):
        questions = [_from_red(text, answers, language) for text, answers in _red_questions(document, filename)]
    else:
        raise BankValidationError(
            [
                BankError(
                    filename,
                    "not a StudyBuddy bank, a Red-DiscordBot trivia list or Open Trivia DB JSON"
                    " (see docs/bank-format.md)",
                )
            ]
        )
    return validate_bank(
        {"bank": bank_id, "name": name, "topic": topic, "version": 1, "questions": questions}, filename
    )


def stable_hex(*parts: str) -> str:
    """Eight hex digits that depend only on the text, so re-importing a list keeps question ids."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:8]


def _read(data: bytes, filename: str) -> tuple[Any, yaml.Node | None]:
    if not filename.lower().endswith(".json"):
        return read_document(data, filename)
    # JSON is nearly YAML, but not quite (tabs, some escapes): a .json file is read as JSON.
    text = decode_text(data, filename)
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        raise BankValidationError(
            [BankError(filename, f"JSON syntax error: {exc.msg}", line=exc.lineno, column=exc.colno)]
        ) from None


def _bank_name(filename: str) -> str:
    stem = PurePath(filename).stem.strip() or "imported"
    return stem[:MAX_NAME_CHARS]


# --- Red-DiscordBot --------------------------------------------------------------------------------------------


def _red_questions(document: Mapping[Any, Any], filename: str) -> list[tuple[str, list[Any]]]:
    questions: list[tuple[str, list[Any]]] = []
    problems: list[BankError] = []
    for text, answers in document.items():
        if text in RED_METADATA_KEYS:
            continue
        if not isinstance(text, str):
            problems.append(BankError(filename, f"question {text!r} is not text; put it in quotes"))
        elif not isinstance(answers, list):
            problems.append(BankError(filename, f"question {_short(text)!r} must map to a list of answers"))
        else:
            questions.append((text, answers))
    if problems:
        raise BankValidationError(problems)
    if not questions:
        raise BankValidationError([BankError(filename, "the trivia list has no questions")])
    return questions


def _from_red(text: str, raw_answers: list[Any], language: str) -> dict[str, Any]:
    answers = _red_answers(raw_answers)
    return {
        "id": f"red-{stable_hex(text)}",
        "language": language,
        "difficulty": RED_DIFFICULTY,
        "type": "free",
        "question": text,
        "answers": answers,
        "explanation": _fit(RED_EXPLANATION[language], answers=answers),
    }


def _red_answers(raw_answers: list[Any]) -> list[Any]:
    # YAML reads an unquoted `yes` as True; Red-DiscordBot accepts all the spellings of such a value, and so do we.
    answers: list[Any] = []
    for answer in raw_answers:
        if isinstance(answer, bool):
            spellings: list[Any] = ["True", "Yes", "On"] if answer else ["False", "No", "Off"]
        elif isinstance(answer, int | float):
            spellings = [str(answer)]
        else:
            spellings = [answer]  # anything else is left for the validator to name precisely
        answers.extend(spelling for spelling in spellings if spelling not in answers)
    return answers


# --- Open Trivia DB --------------------------------------------------------------------------------------------


def _is_otdb(document: Any) -> bool:
    if isinstance(document, dict):
        return "results" in document and "questions" not in document
    return isinstance(document, list)


def _otdb_results(document: Any, filename: str) -> list[Any]:
    if isinstance(document, dict):
        code = document.get("response_code", 0)
        if code != 0:
            meaning = OTDB_RESPONSE_CODES.get(code, "unknown") if isinstance(code, int) else "unknown"
            raise BankValidationError([BankError(filename, f"Open Trivia DB answered response_code {code}: {meaning}")])
        results = document["results"]
    else:
        results = document
    if not isinstance(results, list) or not results:
        raise BankValidationError([BankError(filename, "the Open Trivia DB results are empty or not a list")])
    return results


def _from_otdb_results(results: list[Any], language: str, filename: str) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = []
    problems: list[BankError] = []
    for number, result in enumerate(results, start=1):
        shape_problems = _otdb_shape_problems(result)
        if shape_problems:
            problems.extend(BankError(filename, problem, position=number) for problem in shape_problems)
        else:
            questions.append(_from_otdb(result, language))
    if problems:
        raise BankValidationError(problems)
    return questions


def _otdb_shape_problems(result: Any) -> list[str]:
    """What the conversion itself needs; everything else is left to the bank validator."""
    if not isinstance(result, dict):
        return [f"must be an Open Trivia DB result object, found {type(result).__name__}"]
    problems = [
        f"'{key}' is missing or not text"
        for key in ("question", "correct_answer")
        if not isinstance(result.get(key), str)
    ]
    if result.get("type") not in ("multiple", "boolean"):
        problems.append(f"'type' must be 'multiple' or 'boolean', found {result.get('type')!r}")
    if result.get("difficulty") not in OTDB_DIFFICULTY:
        problems.append(f"'difficulty' must be easy, medium or hard, found {result.get('difficulty')!r}")
    if not isinstance(result.get("incorrect_answers", []), list):
        problems.append("'incorrect_answers' must be a list")
    return problems


def _from_otdb(result: Mapping[str, Any], language: str) -> dict[str, Any]:
    kind = str(result["type"])
    text = html.unescape(result["question"])
    correct = html.unescape(result["correct_answer"])
    category = _unescaped(result.get("category"))
    category = category if isinstance(category, str) and category.strip() else "general"
    question: dict[str, Any] = {
        "id": f"otdb-{stable_hex(kind, text)}",
        "language": language,
        "tags": [_tag(category)],
        "difficulty": OTDB_DIFFICULTY[result["difficulty"]],
        "question": text,
        "explanation": _fit(OTDB_EXPLANATION[language], category=category, answer=correct),
        "source": OTDB_SOURCE,
    }
    if kind == "boolean":
        question["type"] = "true_false"
        # Left as written when it is neither, so the validator reports it.
        question["answer"] = {"true": True, "false": False}.get(correct.strip().lower(), correct)
        return question
    choices = [_unescaped(choice) for choice in result.get("incorrect_answers", [])]
    # Where the right answer sits depends on the question, not on chance: stable across imports, and not always first.
    position = int(stable_hex(text, correct), 16) % (len(choices) + 1)
    choices.insert(position, correct)
    question["type"] = "choice"
    question["choices"] = choices
    question["answer"] = position
    return question


def _unescaped(value: Any) -> Any:
    return html.unescape(value) if isinstance(value, str) else value


def _tag(category: str) -> str:
    # "Science: Computers" -> "science-computers": tags are single words for filtering.
    slug = re.sub(r"[\s,:/&]+", "-", category.strip().lower()).strip("-")
    return slug[:MAX_TAG_CHARS] or "general"


# --- shared ----------------------------------------------------------------------------------------------------


def _fit(template: str, *, answers: list[Any] | None = None, **fields: str) -> str:
    """Fills an explanation template, shortening the answer list so the text stays within the limit."""
    shown = [str(answer) for answer in answers or []]
    while True:
        listed = ", ".join(shown) + (", …" if answers and len(shown) < len(answers) else "")
        text = template.format(answers=listed, **fields)
        if len(text) <= MAX_EXPLANATION_CHARS or not shown:
            return text[:MAX_EXPLANATION_CHARS]
        shown.pop()


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
