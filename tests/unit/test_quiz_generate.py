"""Generated quiz questions: LangChain's in-process fake models, and once the real ChatOpenAI on the fake server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel, FakeListChatModel
from langchain_openai import ChatOpenAI
from pydantic import Field

from bot.errors import InvalidInput
from bot.llm.prompts import PromptLibrary
from bot.llm.runner import ChainRunner
from bot.services.quiz.bank import QuestionKind
from bot.services.quiz.generate import (
    ANGLES,
    QuestionGenerator,
    extract_json_object,
    normalise_tags,
    question_key,
    topic_slug,
)
from tests.fakes.chat_models import ConcurrentFakeModel
from tests.fakes.openai_server import FakeOpenAI, Reply

RUNNER = ChainRunner()
PROMPTS = PromptLibrary.load()


@pytest.fixture(scope="module", autouse=True)
def close_runner() -> Iterator[None]:
    yield
    RUNNER.close()


def answer(question: str = "Which AWS service provides resizable virtual servers?", **changes: Any) -> str:
    document: dict[str, Any] = {
        "question": question,
        "choices": ["EC2", "S3", "IAM", "Route 53"],
        "answer": 0,
        "explanation": "EC2 runs virtual machines; S3 stores objects.",
        "difficulty": 1,
        "tags": ["ec2", "Compute Basics"],
    }
    document.update(changes)
    return json.dumps(document, ensure_ascii=False)


def generator(model: BaseChatModel, max_concurrency: int = 3) -> QuestionGenerator:
    return QuestionGenerator(model, PROMPTS, RUNNER, max_concurrency=max_concurrency)


async def generate_with(responses: list[str], count: int = 1, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"topic": "EC2", "count": count, "language": "en", **kwargs}
    return await generator(FakeListChatModel(responses=responses)).generate(**options)


class ScriptedModel(ConcurrentFakeModel):
    """Answers from a script (an exception is raised), then with a question numbered as the prompt asks."""

    script: list[str | Exception] = Field(default_factory=list)

    def reply(self, prompt: str) -> str:
        number = re.search(r"question (\d+) of", prompt)
        default = answer(f"Question {number[1] if number else '?'} about EC2?")
        item = self.script.pop(0) if self.script else default
        if isinstance(item, Exception):
            raise item
        return item


# --- parsing -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"question": "Q?", "choices": ["a", "b"]}',
        'Sure! Here is your question:\n```json\n{"question": "Q?", "choices": ["a", "b"]}\n```\nGood luck {:)}',
        'A set {of things} first, then {"question": "Q?", "choices": ["a", "b"]}',
        '{"questions": [{"question": "Q?", "choices": ["a", "b"]}]}',
    ],
)
def test_the_question_object_is_found_wherever_it_sits(text: str) -> None:
    assert extract_json_object(text) == {"question": "Q?", "choices": ["a", "b"]}


@pytest.mark.parametrize("text", ["", "no json here", '{"question": "Q?", "choices": ["a", ', '["a", "b"]', '{"a": 1}'])
def test_text_without_a_question_object_gives_nothing(text: str) -> None:
    assert extract_json_object(text) is None


def test_tags_are_mended_rather_than_refused() -> None:
    assert normalise_tags(["EC2", "Auto Scaling", "ec2", 3, "a,b", "x" * 41]) == ["ec2", "auto-scaling", "ab"]
    assert normalise_tags("ec2") == []


def test_question_keys_ignore_case_spacing_and_punctuation() -> None:
    assert question_key("What is  EC2?") == question_key("what is ec2")
    assert question_key("EC2란 무엇인가?") == question_key("ec2란 무엇인가")


def test_topic_slugs_are_topic_ids() -> None:
    assert topic_slug("EC2 Auto Scaling") == "ec2-auto-scaling"
    assert topic_slug("오토스케일링") == "generated"


def test_both_prompts_list_every_angle_and_take_the_same_variables() -> None:
    for language in ("ko", "en"):
        text = resources.files("prompts").joinpath(f"quiz_generate.{language}.md").read_text(encoding="utf-8")
        numbered = re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE)
        assert numbered == [str(n) for n in range(1, ANGLES + 1)], language
    assert set(PROMPTS.get("quiz_generate", "ko").input_variables) == {
        "topic",
        "context",
        "number",
        "count",
        "angle",
        "max_choice_chars",
    }


# --- generating ----------------------------------------------------------------------------------------------


async def test_a_valid_answer_becomes_a_bank_question() -> None:
    report = await generate_with([answer()], topic="EC2 basics", language="en", guild_bank_id="g-123")
    assert (report.dropped, report.retried) == (0, 0)
    [question] = report.questions
    assert re.fullmatch(r"gen-[0-9a-f]{8}", question.id)
    assert question.bank == "g-123" and question.topic == "ec2-basics" and question.language == "en"
    assert question.kind is QuestionKind.CHOICE
    assert question.choices == ("EC2", "S3", "IAM", "Route 53") and question.correct_answer == "EC2"
    assert question.tags == ("ec2", "compute-basics") and question.difficulty == 1


async def test_the_same_question_text_gets_the_same_id() -> None:
    first = await generate_with([answer()])
    again = await generate_with([answer()])
    assert first.questions[0].id == again.questions[0].id


async def test_fenced_json_with_chatter_around_it_is_accepted() -> None:
    chatty = f"Here is a question for you!\n```json\n{answer()}\n```\nLet me know if you want more."
    report = await generate_with([chatty])
    assert len(report.questions) == 1 and report.retried == 0


async def test_a_malformed_answer_is_asked_again_once() -> None:
    report = await generate_with(["I cannot answer in JSON today.", answer()])
    assert (len(report.questions), report.retried, report.dropped) == (1, 1, 0)


async def test_an_answer_malformed_twice_is_dropped() -> None:
    report = await generate_with(["not json", '{"question": "Only a question?"}'])
    assert (report.questions, report.retried, report.dropped) == ([], 1, 1)


@pytest.mark.parametrize(
    "bad",
    [
        answer(choices=["EC2", "ec2", "IAM", "S3"]),  # a repeated choice
        answer(answer=4),  # out of range
        answer(answer=-1),
        answer(answer="EC2"),  # the text, not the index
        answer(choices=["EC2"]),  # one choice cannot be a question
        answer(choices=["EC2", "x" * 81, "IAM", "S3"]),  # wider than a button label
        answer(difficulty=5),
        answer(explanation=""),
        answer(question="x" * 1001),
    ],
)
async def test_answers_the_bank_validator_refuses_are_retried(bad: str) -> None:
    report = await generate_with([bad, answer()])
    assert (len(report.questions), report.retried, report.dropped) == (1, 1, 0)


async def test_repeated_questions_in_a_batch_are_dropped() -> None:
    responses = [answer("What is EC2?"), answer("what is EC2"), answer("What is S3?")]
    report = await generate_with(responses, count=3)
    assert [question.text for question in report.questions] == ["What is EC2?", "What is S3?"]
    assert (report.retried, report.dropped) == (0, 1)


async def test_korean_questions_are_asked_with_the_korean_prompt() -> None:
    model = ScriptedModel(
        script=[answer("EC2는 무엇인가요?", choices=["가상 서버", "객체 저장소", "DNS", "권한 관리"])]
    )
    report = await generator(model).generate(topic="EC2", count=1, language="ko", context="EC2는 가상 서버다.")
    assert report.questions[0].language == "ko" and report.questions[0].correct_answer == "가상 서버"
    assert "한국어로" in model.prompts[0] and "EC2는 가상 서버다." in model.prompts[0]


async def test_each_question_is_asked_from_another_angle_with_bounded_concurrency() -> None:
    model = ScriptedModel()
    report = await generator(model, max_concurrency=3).generate(topic="EC2", count=7, language="en")
    assert len(report.questions) == 7
    assert model.max_in_flight == 3
    angles = sorted(int(re.search(r"from angle (\d+)", prompt)[1]) for prompt in model.prompts)  # type: ignore[index]
    assert angles == [1, 1, 2, 3, 4, 5, 6]
    assert all("<source>\n\n</source>" in prompt for prompt in model.prompts)  # no context: an empty source


async def test_retries_run_as_a_second_bounded_batch() -> None:
    model = ScriptedModel(script=["nope", "nope", "nope", "nope"])
    report = await generator(model, max_concurrency=2).generate(topic="EC2", count=4, language="en")
    assert (len(report.questions), report.retried, report.dropped) == (4, 4, 0)
    assert len(model.prompts) == 8 and model.max_in_flight == 2


async def test_model_failures_drop_their_question_without_a_retry() -> None:
    model = ScriptedModel(script=[RuntimeError("rate limited"), answer()])
    report = await generator(model).generate(topic="EC2", count=2, language="en")
    assert (len(report.questions), report.retried, report.dropped) == (1, 0, 1)


async def test_when_every_call_fails_at_the_model_the_error_reaches_the_caller() -> None:
    model = ScriptedModel(script=[ConnectionError("down"), ConnectionError("down")])
    with pytest.raises(ConnectionError):
        await generator(model).generate(topic="EC2", count=2, language="en")


@pytest.mark.parametrize("topic", ["", "  \u200b "])
async def test_an_empty_topic_is_refused_before_any_call(topic: str) -> None:
    model = ScriptedModel()
    with pytest.raises(InvalidInput):
        await generator(model).generate(topic=topic, count=1, language="en")
    assert model.prompts == []


@pytest.mark.parametrize(
    "options",
    [{"count": 0}, {"count": 11}, {"language": "ja"}, {"guild_bank_id": "Not A Bank"}, {"bank_topic": "A B"}],
)
async def test_arguments_the_cog_should_never_send_are_programming_errors(options: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"topic": "EC2", "count": 1, "language": "en", **options}
    with pytest.raises(ValueError):
        await generator(ScriptedModel()).generate(**arguments)


async def test_the_real_openai_client_against_the_fake_server() -> None:
    async with FakeOpenAI() as llm:
        llm.queue(
            Reply(text=f"```json\n{answer('What does EC2 provide?')}\n```"),
            Reply(text="Sorry, here it is: " + answer("Which service stores objects?", answer=1)),
        )
        model = ChatOpenAI(base_url=llm.base_url, api_key=llm.api_key, model="gpt-fake", max_retries=0)  # type: ignore[arg-type]
        report = await generator(model, max_concurrency=2).generate(
            topic="AWS", count=2, language="en", bank_topic="aws"
        )
        requests = await llm.wait_requests(2)
    assert sorted(question.text for question in report.questions) == [
        "What does EC2 provide?",
        "Which service stores objects?",
    ]
    assert {question.correct_answer for question in report.questions} == {"EC2", "S3"}
    assert all(question.topic == "aws" for question in report.questions)
    assert all('"AWS"' in request.prompt_text for request in requests)
    assert report.input_tokens > 0 and report.output_tokens > 0
