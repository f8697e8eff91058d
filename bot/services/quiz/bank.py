"""Question banks: the model, the YAML loader and validator, and the banks shipped with the bot.

The format is documented for bank authors in `docs/bank-format.md` and for editors in
`bot/data/bank.schema.json`. This module is the authority: it also checks what a schema cannot
express (ids unique per language, answer indexes in range, translations that agree).

A bank is all-or-nothing: `parse_bank` either returns a valid `Bank` or raises
`BankValidationError` listing every problem, so a study group fixes its file in one pass.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any

import yaml

from bot.i18n import LANGUAGES

MAX_BANK_BYTES = 1_000_000
MAX_REPORTED_ERRORS = 20

MAX_NAME_CHARS = 100
MAX_QUESTION_CHARS = 1000
MIN_CHOICES, MAX_CHOICES = 2, 5
# A Discord button label holds at most 80 characters, and each choice becomes one button.
MAX_CHOICE_CHARS = 80
MAX_ANSWERS = 10
MAX_ANSWER_CHARS = 100
MAX_EXPLANATION_CHARS = 1500
MAX_TAGS = 10
MAX_TAG_CHARS = 40
MAX_SOURCE_CHARS = 500
MIN_DIFFICULTY, MAX_DIFFICULTY = 1, 3

BANK_ID = re.compile(r"[a-z0-9_-]{1,40}")
TOPIC = BANK_ID
QUESTION_ID = re.compile(r"[a-z0-9_-]{1,64}")
TAG = re.compile(r"[^\s,]+")
SOURCE = re.compile(r"https?://\S+")

# `answer: true` means the first choice, so the implied choices list "true" first.
TRUE_FALSE_CHOICES: Mapping[str, tuple[str, str]] = {"ko": ("참", "거짓"), "en": ("True", "False")}

BANK_FIELDS = ("bank", "name", "topic", "version", "questions")
QUESTION_FIELDS = (
    "id",
    "language",
    "topic",
    "tags",
    "difficulty",
    "type",
    "question",
    "choices",
    "answer",
    "answers",
    "explanation",
    "source",
)
FORMAT_HELP = "docs/bank-format.md"


class QuestionKind(StrEnum):
    CHOICE = "choice"
    TRUE_FALSE = "true_false"
    FREE = "free"


@dataclass(frozen=True)
class Question:
    bank: str
    id: str
    language: str
    topic: str
    tags: tuple[str, ...]
    difficulty: int
    kind: QuestionKind
    text: str
    choices: tuple[str, ...]
    """Empty for free-answer questions; the localized True/False pair when a true_false question omits them."""
    answer_index: int | None
    """The correct choice; None for free-answer questions."""
    answers: tuple[str, ...]
    """Free-answer questions only: the canonical answer, then accepted aliases."""
    explanation: str
    source: str | None

    @property
    def key(self) -> str:
        """Unique across banks and languages; what storage records answers against."""
        return f"{self.bank}:{self.id}:{self.language}"

    @property
    def correct_answer(self) -> str:
        """The text a quiz reveals as the right answer."""
        if self.answer_index is None:
            return self.answers[0]
        return self.choices[self.answer_index]


@dataclass(frozen=True)
class Bank:
    id: str
    name: dict[str, str] = field(hash=False)
    topic: str
    version: int
    questions: tuple[Question, ...]

    def questions_in(self, language: str) -> tuple[Question, ...]:
        return tuple(question for question in self.questions if question.language == language)

    def languages_of(self, question_id: str) -> tuple[str, ...]:
        present = {question.language for question in self.questions if question.id == question_id}
        return tuple(language for language in LANGUAGES if language in present)

    def question(self, question_id: str, language: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id and q.language == language), None)

    def display_name(self, language: str) -> str:
        return self.name.get(language) or next(iter(self.name.values()))


class BankError(Exception):
    """One problem in a bank file, located as precisely as the file allows."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        question_id: str | None = None,
        language: str | None = None,
        field: str | None = None,
        position: int | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.file = file
        self.problem = problem
        self.question_id = question_id
        self.language = language
        self.field = field
        self.position = position
        """1-based place of the question in the file; locates questions whose id is missing or invalid."""
        self.line = line
        self.column = column
        super().__init__(self.describe())

    def describe(self) -> str:
        where: list[str] = []
        if self.question_id is not None:
            where.append(f"question {self.question_id}" + (f" ({self.language})" if self.language else ""))
        elif self.position is not None:
            where.append(f"question #{self.position}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        text = f"{self.file}: " + (", ".join(where) + ": " if where else "") + self.problem
        if self.line is not None:
            text += f" (line {self.line}" + (f", column {self.column})" if self.column is not None else ")")
        return text

    def __str__(self) -> str:
        return self.describe()


class BankValidationError(Exception):
    """Every problem found in a bank file (never just the first)."""

    def __init__(self, errors: Sequence[BankError]) -> None:
        self.errors = list(errors)
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [error.describe() for error in self.errors[:MAX_REPORTED_ERRORS]]
        hidden = len(self.errors) - MAX_REPORTED_ERRORS
        if hidden > 0:
            lines.append(f"... and {hidden} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


def parse_bank(data: bytes, filename: str) -> Bank:
    """Reads a bank file in the documented format; raises `BankValidationError` with every problem found."""
    document, root = read_document(data, filename)
    return validate_bank(document, filename, root)


def load_builtin_banks() -> list[Bank]:
    """The banks shipped in `bot/data/banks`, read afresh on each call (three small files)."""
    folder = resources.files("bot.data").joinpath("banks")
    entries = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".yaml")), key=lambda e: e.name)
    return [parse_bank(entry.read_bytes(), entry.name) for entry in entries]


def dump_bank(bank: Bank) -> str:
    """The bank as YAML in the documented format; `parse_bank` reads it back to an equal `Bank`."""
    document: dict[str, Any] = {
        "bank": bank.id,
        "name": dict(bank.name),
        "topic": bank.topic,
        "version": bank.version,
        "questions": [_question_document(question, bank.topic) for question in bank.questions],
    }
    body = yaml.dump(document, Dumper=_BankDumper, allow_unicode=True, sort_keys=False, width=100)
    return f"# StudyBuddy question bank; format: {FORMAT_HELP}\n{body}"


# --- reading ---------------------------------------------------------------------------------------------------


def read_document(data: bytes, filename: str) -> tuple[Any, yaml.Node | None]:
    """Size, encoding and YAML syntax checks; returns the parsed document and its node tree (for line numbers)."""
    text = decode_text(data, filename)
    loader = _yaml_loader(text)
    try:
        root = loader.get_single_node()
        document = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = "; ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise BankValidationError(
            [BankError(filename, f"YAML syntax error: {problem}", line=line, column=column)]
        ) from None
    except yaml.YAMLError as exc:
        raise _single(filename, f"YAML syntax error: {exc}") from None
    except RecursionError:
        raise _single(filename, "the YAML is nested too deeply to be a question bank") from None
    finally:
        loader.dispose()
    return document, root


def decode_text(data: bytes, filename: str) -> str:
    """The file's text, after the checks every bank file passes before parsing: size, then encoding."""
    if len(data) > MAX_BANK_BYTES:
        raise _single(filename, f"the file is {len(data):,} bytes; a bank may be at most {MAX_BANK_BYTES:,} bytes")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _single(filename, "not a text file in UTF-8: it is UTF-16; save it as UTF-8")
    if b"\x00" in data:
        raise _single(filename, "not a text file: it contains NUL bytes (an image, archive or other binary file?)")
    try:
        # utf-8-sig: editors on Windows often start UTF-8 files with a byte-order mark.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _single(
            filename, f"not a text file: byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid UTF-8"
        ) from None


def _yaml_loader(text: str) -> yaml.SafeLoader | yaml.CSafeLoader:
    # The C loader is the same safe constructor, faster, and turns runaway nesting into a YAML error.
    if yaml.__with_libyaml__:
        return yaml.CSafeLoader(text)
    return yaml.SafeLoader(text)


def _duplicate_keys(root: yaml.Node | None, filename: str) -> Iterator[BankError]:
    """YAML lets a later key silently replace an earlier one; in a bank that hides a mistake, so it is an error."""
    seen_nodes: set[int] = set()
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        # Aliases reuse node objects: visit each once, or a crafted file could make this walk exponential.
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in keys:
                        yield BankError(
                            filename,
                            f"key '{key_node.value}' appears twice in one mapping; YAML would keep only the last",
                            line=key_node.start_mark.line + 1,
                        )
                    keys.add(key_node.value)
                pending.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


def _single(filename: str, problem: str) -> BankValidationError:
    return BankValidationError([BankError(filename, problem)])


# --- validation ------------------------------------------------------------------------------------------------


def validate_bank(document: Any, filename: str, root: yaml.Node | None = None) -> Bank:
    """Checks a parsed document against the format; `root` (the YAML node tree) adds line numbers to errors."""
    report = _Report(filename)
    report.errors.extend(_duplicate_keys(root, filename))
    if not isinstance(document, dict):
        report.add(
            "the top level must be a mapping with the fields "
            + ", ".join(f"'{name}'" for name in BANK_FIELDS)
            + f"; found {_describe_type(document)}"
        )
        raise BankValidationError(report.errors)
    nodes = _field_nodes(root)
    if "questions" not in document and _looks_like_red_trivia(document):
        report.add("this looks like a Red-DiscordBot trivia list, not a StudyBuddy bank; import it instead")
        raise BankValidationError(report.errors)

    for name in document:
        if name not in BANK_FIELDS:
            report.add(_unknown_field_problem(name, BANK_FIELDS), field=str(name), node=nodes.get(str(name)))

    for name in BANK_FIELDS:
        if name not in document:
            report.add("this required field is missing", field=name)
    top = report.at_top()
    id_rule = "1 to 40 of a-z, 0-9, '_', '-'"
    bank_id = topic = name = version = None
    if "bank" in document:
        bank_id = _check_identifier(top, "bank", document["bank"], nodes.get("bank"), BANK_ID, id_rule)
    if "topic" in document:
        topic = _check_identifier(top, "topic", document["topic"], nodes.get("topic"), TOPIC, id_rule)
    if "name" in document:
        name = _check_name(top, document["name"], nodes.get("name"))
    if "version" in document:
        version = _check_version(top, document["version"], nodes.get("version"))

    questions: list[Question] = []
    raw_questions, questions_node = document.get("questions"), nodes.get("questions")
    if "questions" in document:
        if not isinstance(raw_questions, list):
            top.add("questions", f"must be a list of questions, found {_describe_type(raw_questions)}", questions_node)
        elif not raw_questions:
            top.add("questions", "the bank has no questions", questions_node)
        else:
            item_nodes = questions_node.value if isinstance(questions_node, yaml.SequenceNode) else []
            first_use: dict[tuple[str, str], int] = {}
            checked: list[tuple[Question, _Where]] = []
            for position, raw in enumerate(raw_questions, start=1):
                node = item_nodes[position - 1] if position <= len(item_nodes) else None
                where = _Where(report, position=position, node=node)
                question = _check_question(where, raw, bank_id or "", topic or "")
                if where.question_id is None or where.language is None:
                    continue
                slot = (where.question_id, where.language)
                if slot in first_use:
                    where.add("id", f"question #{first_use[slot]} already uses this id in {where.language}")
                    continue
                first_use[slot] = position
                if question is not None:
                    checked.append((question, where))
            _check_translations(checked)
            questions = [question for question, _ in checked]

    if report.errors:
        raise BankValidationError(report.errors)
    # Every field was present and valid, or an error was reported above.
    assert bank_id is not None and topic is not None and name is not None and version is not None
    return Bank(id=bank_id, name=name, topic=topic, version=version, questions=tuple(questions))


@dataclass
class _Where:
    """Where the next problem is: a question (by id or position) or the top level."""

    report: _Report
    question_id: str | None = None
    language: str | None = None
    position: int | None = None
    nodes: Mapping[str, yaml.Node] = field(default_factory=dict)
    node: yaml.Node | None = None

    def add(self, field_name: str | None, problem: str, node: yaml.Node | None = None) -> None:
        if node is None and field_name is not None:
            node = self.nodes.get(field_name)
        self.report.add(
            problem,
            field=field_name,
            node=node or self.node,
            question_id=self.question_id,
            language=self.language,
            position=self.position,
        )


class _Report:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.errors: list[BankError] = []

    def add(
        self,
        problem: str,
        *,
        field: str | None = None,
        node: yaml.Node | None = None,
        question_id: str | None = None,
        language: str | None = None,
        position: int | None = None,
    ) -> None:
        self.errors.append(
            BankError(
                self.filename,
                problem,
                question_id=question_id,
                language=language,
                field=field,
                position=position,
                line=node.start_mark.line + 1 if node is not None else None,
            )
        )

    def at_top(self) -> _Where:
        return _Where(self)


def _check_question(where: _Where, raw: Any, bank_id: str, bank_topic: str) -> Question | None:
    report = where.report
    if not isinstance(raw, dict):
        where.add(None, f"must be a mapping of fields (id, language, type, ...), found {_describe_type(raw)}")
        return None
    errors_before = len(report.errors)
    where.nodes = _field_nodes(where.node)

    # Read id and language first, so every later problem names the question the author knows.
    question_id = None
    if "id" in raw:
        question_id = _check_identifier(where, "id", raw["id"], None, QUESTION_ID, "1 to 64 of a-z, 0-9, '_', '-'")
    where.question_id = question_id
    language = raw.get("language")
    if "language" not in raw:
        where.add("language", "this required field is missing")
        language = None
    elif language not in LANGUAGES:
        where.add("language", f"must be one of {', '.join(LANGUAGES)}, found {_show(language)}")
        language = None
    where.language = language

    for name in raw:
        if name not in QUESTION_FIELDS:
            where.add(str(name), _unknown_field_problem(name, QUESTION_FIELDS))
    if "id" not in raw:
        where.add("id", "this required field is missing")

    topic = bank_topic
    if "topic" in raw:
        topic = _check_identifier(where, "topic", raw["topic"], None, TOPIC, "1 to 40 of a-z, 0-9, '_', '-'") or ""
    tags = _check_tags(where, raw)
    difficulty = _check_difficulty(where, raw)
    text = _check_text(where, raw, "question", MAX_QUESTION_CHARS)
    explanation = _check_text(where, raw, "explanation", MAX_EXPLANATION_CHARS)
    source = _check_source(where, raw)

    kind: QuestionKind | None = None
    if "type" not in raw:
        where.add("type", "this required field is missing (choice, true_false or free)")
    elif raw["type"] not in [kind.value for kind in QuestionKind]:
        where.add("type", f"must be choice, true_false or free, found {_show(raw['type'])}")
    else:
        kind = QuestionKind(raw["type"])

    choices: tuple[str, ...] = ()
    answer_index: int | None = None
    answers: tuple[str, ...] = ()
    if kind is QuestionKind.CHOICE:
        _forbid(where, raw, "answers", "choice questions take 'choices' and the 0-based index 'answer'")
        choices = _check_choices(where, raw, MIN_CHOICES, MAX_CHOICES)
        answer_index = _check_answer_index(where, raw, choices, allow_bool=False)
    elif kind is QuestionKind.TRUE_FALSE:
        _forbid(where, raw, "answers", "true_false questions take 'answer: true' or 'answer: false'")
        if "choices" in raw:
            choices = _check_choices(where, raw, 2, 2)
        elif language is not None:
            choices = TRUE_FALSE_CHOICES[language]
        answer_index = _check_answer_index(where, raw, choices or ("", ""), allow_bool=True)
    elif kind is QuestionKind.FREE:
        _forbid(where, raw, "choices", "free questions take 'answers' (canonical answer first, then aliases)")
        _forbid(where, raw, "answer", "free questions take 'answers' (canonical answer first, then aliases)")
        answers = _check_answers(where, raw)

    if len(report.errors) > errors_before:
        # Checks run field by field; reading them top to bottom is easier when fixing the file.
        found = report.errors[errors_before:]
        found.sort(key=lambda error: error.line if error.line is not None else 0)
        report.errors[errors_before:] = found
        return None
    assert question_id is not None and language is not None and kind is not None
    assert difficulty is not None and text is not None and explanation is not None
    return Question(
        bank=bank_id,
        id=question_id,
        language=language,
        topic=topic,
        tags=tags,
        difficulty=difficulty,
        kind=kind,
        text=text,
        choices=choices,
        answer_index=answer_index,
        answers=answers,
        explanation=explanation,
        source=source,
    )


def _check_identifier(
    where: _Where, field_name: str, value: Any, node: yaml.Node | None, pattern: re.Pattern[str], rule: str
) -> str | None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        where.add(field_name, f"must be {rule}, found {_show(value)}", node)
        return None
    return value


def _check_version(where: _Where, value: Any, node: yaml.Node | None) -> int | None:
    if not _is_int(value) or value < 1:
        where.add("version", f"must be a whole number of at least 1, found {_show(value)}", node)
        return None
    return int(value)


def _check_name(where: _Where, value: Any, node: yaml.Node | None) -> dict[str, str] | None:
    where = _Where(where.report, node=node)
    if isinstance(value, str):
        where.add("name", f'must map languages to names, e.g. {{ko: "{value}", en: "{value}"}}')
        return None
    if not isinstance(value, dict) or not value:
        where.add("name", f"must map languages ({', '.join(LANGUAGES)}) to names, found {_describe_type(value)}")
        return None
    names: dict[str, str] = {}
    for language, text in value.items():
        if language not in LANGUAGES:
            where.add("name", f"{_show(language)} is not a language; use {', '.join(LANGUAGES)}")
        elif not isinstance(text, str) or not text.strip():
            where.add("name", f"the {language} name must be non-empty text, found {_show(text)}")
        elif len(text.strip()) > MAX_NAME_CHARS:
            where.add("name", f"the {language} name is {len(text.strip())} characters; the limit is {MAX_NAME_CHARS}")
        else:
            names[language] = text.strip()
    return names if len(names) == len(value) else None


def _check_tags(where: _Where, raw: Mapping[str, Any]) -> tuple[str, ...]:
    if "tags" not in raw:
        return ()
    value = raw["tags"]
    if not isinstance(value, list):
        where.add("tags", f"must be a list of tags, e.g. [ec2, pricing], found {_describe_type(value)}")
        return ()
    if len(value) > MAX_TAGS:
        where.add("tags", f"has {len(value)} tags; the limit is {MAX_TAGS}")
        return ()
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str) or not TAG.fullmatch(tag) or len(tag) > MAX_TAG_CHARS:
            where.add("tags", f"{_show(tag)} is not a tag: up to {MAX_TAG_CHARS} characters, no spaces or commas")
        elif tag in tags:
            where.add("tags", f"'{tag}' is listed twice")
        else:
            tags.append(tag)
    return tuple(tags)


def _check_difficulty(where: _Where, raw: Mapping[str, Any]) -> int | None:
    if "difficulty" not in raw:
        where.add("difficulty", f"this required field is missing ({MIN_DIFFICULTY} easy .. {MAX_DIFFICULTY} hard)")
        return None
    value = raw["difficulty"]
    if not _is_int(value) or not MIN_DIFFICULTY <= value <= MAX_DIFFICULTY:
        where.add(
            "difficulty",
            f"must be a whole number from {MIN_DIFFICULTY} (easy) to {MAX_DIFFICULTY} (hard), found {_show(value)}",
        )
        return None
    return int(value)


def _check_text(where: _Where, raw: Mapping[str, Any], field_name: str, limit: int) -> str | None:
    if field_name not in raw:
        where.add(field_name, "this required field is missing")
        return None
    value = raw[field_name]
    if not isinstance(value, str):
        where.add(field_name, f"must be text, found {_describe_type(value)} (put it in quotes)")
        return None
    text = value.strip()
    if not text:
        where.add(field_name, "must not be empty")
        return None
    if len(text) > limit:
        where.add(field_name, f"is {len(text)} characters; the limit is {limit}")
        return None
    return text


def _check_source(where: _Where, raw: Mapping[str, Any]) -> str | None:
    if "source" not in raw:
        return None
    value = raw["source"]
    if not isinstance(value, str) or not SOURCE.fullmatch(value.strip()) or len(value.strip()) > MAX_SOURCE_CHARS:
        where.add(
            "source", f"must be an http(s) address of at most {MAX_SOURCE_CHARS} characters, found {_show(value)}"
        )
        return None
    return value.strip()


def _check_choices(where: _Where, raw: Mapping[str, Any], least: int, most: int) -> tuple[str, ...]:
    if "choices" not in raw:
        where.add("choices", f"this required field is missing ({least} to {most} choices)")
        return ()
    value = raw["choices"]
    if not isinstance(value, list):
        where.add("choices", f"must be a list of {least} to {most} choices, found {_describe_type(value)}")
        return ()
    if not least <= len(value) <= most:
        needed = f"exactly {least}" if least == most else f"{least} to {most}"
        where.add("choices", f"has {len(value)} choices; it needs {needed}")
        return ()
    choice_nodes = _item_nodes(where.nodes.get("choices"))
    choices: list[str] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(value, start=1):
        node = choice_nodes[number - 1] if number <= len(choice_nodes) else None
        if not isinstance(item, str):
            where.add("choices", f"choice {number} must be text, found {_show(item)} (put it in quotes)", node)
            continue
        text = item.strip()
        if not text:
            where.add("choices", f"choice {number} is empty", node)
        elif len(text) > MAX_CHOICE_CHARS:
            where.add(
                "choices", f"choice {number} is {len(text)} characters; a button label holds {MAX_CHOICE_CHARS}", node
            )
        elif text.casefold() in seen:
            where.add("choices", f"choice {number} repeats choice {seen[text.casefold()]} ('{text}')", node)
        else:
            seen[text.casefold()] = number
            choices.append(text)
    return tuple(choices) if len(choices) == len(value) else ()


def _check_answer_index(
    where: _Where, raw: Mapping[str, Any], choices: Sequence[str], *, allow_bool: bool
) -> int | None:
    if "answer" not in raw:
        hint = "true or false" if allow_bool else "the 0-based index of the correct choice"
        where.add("answer", f"this required field is missing ({hint})")
        return None
    value = raw["answer"]
    if allow_bool and isinstance(value, bool):
        return 0 if value else 1
    if not _is_int(value):
        hint = ""
        if isinstance(value, str):
            matches = [index for index, choice in enumerate(choices) if choice.casefold() == value.strip().casefold()]
            hint = f"; did you mean {matches[0]}?" if matches else ""
        expected = "true, false or a choice index" if allow_bool else "the 0-based index of the correct choice"
        where.add("answer", f"must be {expected}, found {_show(value)}{hint}")
        return None
    if not choices:
        return None  # the choices were reported already; an index cannot be judged against them
    if not 0 <= value < len(choices):
        where.add("answer", f"index {value} is out of range for {len(choices)} choices (the first choice is 0)")
        return None
    return int(value)


def _check_answers(where: _Where, raw: Mapping[str, Any]) -> tuple[str, ...]:
    if "answers" not in raw:
        where.add("answers", "this required field is missing (the canonical answer first, then aliases)")
        return ()
    value = raw["answers"]
    if not isinstance(value, list):
        where.add("answers", f"must be a list (canonical answer first, then aliases), found {_describe_type(value)}")
        return ()
    if not 1 <= len(value) <= MAX_ANSWERS:
        where.add("answers", f"has {len(value)} answers; it needs 1 to {MAX_ANSWERS}")
        return ()
    answer_nodes = _item_nodes(where.nodes.get("answers"))
    answers: list[str] = []
    seen: set[str] = set()
    for number, item in enumerate(value, start=1):
        node = answer_nodes[number - 1] if number <= len(answer_nodes) else None
        if not isinstance(item, str):
            where.add("answers", f"answer {number} must be text, found {_show(item)} (put it in quotes)", node)
            continue
        text = item.strip()
        if not text:
            where.add("answers", f"answer {number} is empty", node)
        elif len(text) > MAX_ANSWER_CHARS:
            where.add("answers", f"answer {number} is {len(text)} characters; the limit is {MAX_ANSWER_CHARS}", node)
        elif text.casefold() in seen:
            where.add("answers", f"answer {number} ('{text}') is listed twice", node)
        else:
            seen.add(text.casefold())
            answers.append(text)
    return tuple(answers) if len(answers) == len(value) else ()


def _forbid(where: _Where, raw: Mapping[str, Any], field_name: str, hint: str) -> None:
    if field_name in raw:
        where.add(field_name, f"does not belong to a {raw['type']} question: {hint}")


def _check_translations(checked: Sequence[tuple[Question, _Where]]) -> None:
    """The same id in another language is a translation: a quiz may ask it in either and must score it the same."""
    originals: dict[str, Question] = {}
    for question, where in checked:
        original = originals.setdefault(question.id, question)
        if original is question:
            continue
        other = original.language
        if question.kind != original.kind:
            where.add("type", f"is {question.kind}, but the {other} version is {original.kind}; translations agree")
        elif len(question.choices) != len(original.choices):
            where.add(
                "choices", f"has {len(question.choices)} choices, but the {other} version has {len(original.choices)}"
            )
        elif question.answer_index != original.answer_index:
            where.add(
                "answer", f"is {question.answer_index}, but the {other} version's answer is {original.answer_index}"
            )
        if question.difficulty != original.difficulty:
            where.add(
                "difficulty", f"is {question.difficulty}, but the {other} version's difficulty is {original.difficulty}"
            )


def _looks_like_red_trivia(document: Mapping[Any, Any]) -> bool:
    questions = [key for key in document if key not in ("AUTHOR", "CONFIG", "DESCRIPTION", "$schema")]
    return bool(questions) and all(isinstance(document[key], list) for key in questions)


def _unknown_field_problem(name: Any, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; the fields are {', '.join(known)}"
    return f"unknown field{hint}"


def _field_nodes(node: yaml.Node | None) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _item_nodes(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _is_int(value: Any) -> bool:
    # YAML's `true` is a Python bool, which is also an int; it is never a valid number here.
    return isinstance(value, int) and not isinstance(value, bool)


def _describe_type(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a true/false value ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    return _describe_type(value)


# --- writing ---------------------------------------------------------------------------------------------------


def _question_document(question: Question, bank_topic: str) -> dict[str, Any]:
    document: dict[str, Any] = {"id": question.id, "language": question.language}
    if question.topic != bank_topic:
        document["topic"] = question.topic
    if question.tags:
        document["tags"] = list(question.tags)
    document["difficulty"] = question.difficulty
    document["type"] = str(question.kind)
    document["question"] = question.text
    if question.kind is QuestionKind.CHOICE:
        document["choices"] = list(question.choices)
        document["answer"] = question.answer_index
    elif question.kind is QuestionKind.TRUE_FALSE:
        if question.choices != TRUE_FALSE_CHOICES[question.language]:
            document["choices"] = list(question.choices)
        document["answer"] = question.answer_index == 0
    else:
        document["answers"] = list(question.answers)
    document["explanation"] = question.explanation
    if question.source is not None:
        document["source"] = question.source
    return document


class _BankDumper(yaml.SafeDumper):
    """Writes multi-line text as `|` blocks, the way people write explanations by hand."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BankDumper.add_representer(str, _represent_text)
