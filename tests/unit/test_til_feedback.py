"""`/til feedback` with an in-process fake chat model and a real SQLite file: the prompt it sends, the stream it
returns, and the admission and usage rules it shares with /explain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import Field

from bot.errors import TryLater
from bot.i18n import Catalog
from bot.llm.chains import ChainFactory
from bot.llm.prompts import PromptLibrary
from bot.llm.runner import ChainRunner
from bot.services.admission import AdmissionGate
from bot.services.explain import ExplainService
from bot.services.til.feedback import TilFeedbackService
from bot.services.til.model import TilPost
from bot.services.usage import UsageService
from bot.storage import ConversationRepository, Database, GuildSettingsRepository, UsageRepository

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
GUILD, ALICE = 10, 1
RUNNER = ChainRunner()
PROMPTS = PromptLibrary.load()


@pytest.fixture(scope="module", autouse=True)
def close_runner() -> Iterator[None]:
    yield
    RUNNER.close()


class RecordingModel(FakeListChatModel):
    """Streams its responses character by character, like FakeListChatModel, and keeps the messages it got."""

    received: list[list[BaseMessage]] = Field(default_factory=list)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self.received.append(messages)
        async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
            yield chunk


def post(**changes: Any) -> TilPost:
    values: dict[str, Any] = {
        "id": 7,
        "guild_id": GUILD,
        "author_id": ALICE,
        "title": "TIL 2026-11-25",
        "learned": "EC2 인스턴스가 정지됨(Stopped) 상태면 과금되지 않는다.",
        "hard": "AWS 요금 구조",
        "curious": "LangChain 의 활용",
        "reflection": "",
        "tags": ("AWS", "LangChain"),
        "local_date": date(2026, 11, 25),
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return TilPost(**values)


def build(db: Database, model: FakeListChatModel) -> tuple[TilFeedbackService, UsageService]:
    usage = UsageService(UsageRepository(db), GuildSettingsRepository(db), now=lambda: NOW)
    gate = AdmissionGate(capacity=4, queue_limit=10, cooldown_s=0, clock=lambda: 0.0)
    chains = ChainFactory(model, PROMPTS)
    explain = ExplainService(chains, usage, ConversationRepository(db), gate, Catalog.load(), RUNNER)
    return TilFeedbackService(explain, chains), usage


async def test_the_review_streams_in_chunks_and_its_usage_is_recorded(db: Database) -> None:
    review = "## 어려웠던 내용\nEBS 볼륨은 정지된 인스턴스에서도 과금돼요."
    feedback, _ = build(db, RecordingModel(responses=[review]))
    ticket = await feedback.admit(ALICE, GUILD)
    async with ticket:
        generation = feedback.feedback(ticket, post(), "ko")
        chunks = [chunk async for chunk in generation.chunks]
        await generation.settle("".join(chunks), completed=True)
    assert "".join(chunks) == review
    assert len(chunks) > 1  # streamed, not one piece at the end
    totals = await UsageRepository(db).totals("2026-11-25", GUILD, ALICE)
    assert totals.requests == 1


async def test_the_prompt_carries_every_section_and_marks_empty_ones(db: Database) -> None:
    model = RecordingModel(responses=["ok"])
    feedback, _ = build(db, model)
    ticket = await feedback.admit(ALICE, GUILD)
    async with ticket:
        generation = feedback.feedback(ticket, post(), "ko")
        [chunk async for chunk in generation.chunks]
    [messages] = model.received
    system, human = (str(message.content) for message in messages)
    assert system.startswith("당신은 StudyBuddy")  # the shared system prompt, in the member's language
    assert "어려웠던 내용:\nAWS 요금 구조" in human
    assert "궁금한 내용과 부족한 내용:\nLangChain 의 활용" in human
    assert "느낀 점:\n-" in human  # left empty: the prompt says what "-" means
    assert "태그: AWS, LangChain" in human and "날짜: 2026-11-25" in human
    assert "정지됨(Stopped)" in human


async def test_english_members_get_the_english_prompt(db: Database) -> None:
    model = RecordingModel(responses=["ok"])
    feedback, _ = build(db, model)
    ticket = await feedback.admit(ALICE, GUILD)
    async with ticket:
        generation = feedback.feedback(ticket, post(hard="", tags=()), "en")
        [chunk async for chunk in generation.chunks]
    human = str(model.received[0][-1].content)
    assert "What was hard:\n-" in human and "Tags: -" in human


async def test_admission_and_budgets_are_those_of_explanations(db: Database) -> None:
    feedback, usage = build(db, RecordingModel(responses=["ok"]))
    held = await feedback.admit(ALICE, GUILD)
    with pytest.raises(TryLater) as busy:
        await feedback.admit(ALICE, GUILD)
    assert busy.value.key == "error.generation_in_progress"
    held.release()
    await usage.set_budget(GUILD, guild_daily_tokens=0, user_daily_tokens=10)
    await usage.record(GUILD, ALICE, input_tokens=5, output_tokens=5)
    with pytest.raises(TryLater) as spent:
        await feedback.admit(ALICE, GUILD)
    assert spent.value.key == "error.budget_user"
