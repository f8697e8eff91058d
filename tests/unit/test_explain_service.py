"""The explain service with LangChain's in-process fake chat models and a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from bot.errors import InvalidInput, NotConfigured, TryLater
from bot.i18n import Catalog
from bot.llm.chains import ChainFactory
from bot.llm.metering import GenerationMeter
from bot.llm.prompts import PromptLibrary
from bot.llm.runner import ChainRunner
from bot.services.admission import AdmissionGate
from bot.services.explain import ExplainService, clean_text, split_topics
from bot.services.usage import UsageService
from bot.storage import ConversationRepository, Database, GuildSettingsRepository, UsageRepository

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # 23:30 in Seoul


RUNNER = ChainRunner()


@pytest.fixture(scope="module", autouse=True)
def close_runner() -> Iterator[None]:
    yield
    RUNNER.close()


def service(db: Database, responses: list[str] | None, now: datetime = NOW) -> ExplainService:
    prompts = PromptLibrary.load()
    model = FakeListChatModel(responses=responses) if responses is not None else None
    usage = UsageService(UsageRepository(db), GuildSettingsRepository(db), now=lambda: now)
    gate = AdmissionGate(capacity=4, queue_limit=10, cooldown_s=0, clock=lambda: 0.0)
    chains = ChainFactory(model, prompts) if model is not None else None
    return ExplainService(chains, usage, ConversationRepository(db), gate, Catalog.load(), RUNNER)


async def collect(chunks: AsyncIterator[str]) -> str:
    return "".join([chunk async for chunk in chunks])


def test_text_cleaning_treats_invisible_characters_as_empty() -> None:
    assert clean_text(" \u200b \ufeff ") == ""
    assert clean_text("  EC2   Auto\nScaling ") == "EC2 Auto Scaling"


def test_topics_split_on_commas_and_drop_duplicates() -> None:
    assert split_topics("EC2, EBS\uff0cELB\u3001 ec2\nCloudWatch") == ["EC2", "EBS", "ELB", "CloudWatch"]


@pytest.mark.parametrize("topic", ["", "   ", "\u200b", None])
def test_empty_topics_are_refused(topic: str | None) -> None:
    with pytest.raises(InvalidInput) as raised:
        ExplainService.clean_topic(topic)
    assert raised.value.key == "explain.topic_empty"


def test_over_long_input_is_refused_with_the_limit(db: Database) -> None:
    with pytest.raises(InvalidInput) as raised:
        ExplainService.clean_topic("x" * 201)
    assert raised.value.params == {"limit": 200}
    with pytest.raises(InvalidInput):
        service(db, ["ok"]).clean_topics(", ".join(f"t{n}" for n in range(6)))


def test_how_defaults_to_a_gentle_explanation_in_the_readers_language(db: Database) -> None:
    explain = service(db, ["ok"])
    assert explain.clean_how(None, "ko") == "처음 배우는 사람도 이해하기 쉽게"
    assert explain.clean_how("  simply ", "en") == "simply"


async def test_explain_streams_the_chain_and_records_usage(db: Database) -> None:
    explain = service(db, ["EC2는 가상 서버예요."])
    ticket = await explain.admit(user_id=1, guild_id=10)
    generation = explain.explain(ticket, 10, "ko", "EC2", "쉽게")
    text = await collect(generation.chunks)
    await generation.settle(text, completed=True)
    assert text == "EC2는 가상 서버예요."
    totals = await UsageRepository(db).totals("2026-11-25", 10, 1)
    assert totals.requests == 1


async def test_without_a_model_nothing_is_called(db: Database) -> None:
    with pytest.raises(NotConfigured):
        await service(db, None).admit(user_id=1, guild_id=10)


async def test_budgets_refuse_before_any_model_call(db: Database) -> None:
    explain = service(db, ["ok"])
    usage = UsageService(UsageRepository(db), GuildSettingsRepository(db), now=lambda: NOW)
    await usage.set_budget(10, guild_daily_tokens=0, user_daily_tokens=100)
    await usage.record(10, 1, input_tokens=60, output_tokens=40)
    with pytest.raises(TryLater) as raised:
        await explain.admit(user_id=1, guild_id=10)
    assert raised.value.key == "error.budget_user"
    await explain.admit(user_id=2, guild_id=10)  # another member still has budget
    await usage.set_budget(10, guild_daily_tokens=100, user_daily_tokens=0)
    with pytest.raises(TryLater) as raised:
        await explain.admit(user_id=3, guild_id=10)
    assert raised.value.key == "error.budget_guild"


async def test_budget_days_follow_the_guild_time_zone(db: Database) -> None:
    usage = UsageService(UsageRepository(db), GuildSettingsRepository(db), now=lambda: NOW)
    assert await usage.day(10) == "2026-11-25"  # 23:30 in Seoul
    late = UsageService(UsageRepository(db), GuildSettingsRepository(db), now=lambda: NOW.replace(hour=15))
    assert await late.day(10) == "2026-11-26"  # 00:00 in Seoul: a new budget day


async def test_aspects_run_in_parallel_and_come_out_as_ordered_sections(db: Database) -> None:
    explain = service(db, ["same answer"])
    ticket = await explain.admit(user_id=1, guild_id=None, weight=2)
    generation = explain.explain_aspects(ticket, None, "en", "EC2", "simply", ["concept", "pitfalls"])
    text = await collect(generation.chunks)
    assert text == "## Concept\nsame answer\n\n## Pitfalls\nsame answer"


async def test_several_topics_come_out_in_the_order_asked(db: Database) -> None:
    explain = service(db, ["A", "B", "C"])
    ticket = await explain.admit(user_id=1, guild_id=None, weight=3)
    generation = explain.explain_topics(ticket, None, "en", ["EC2", "EBS", "ELB"], "simply")
    text = await collect(generation.chunks)
    assert [line for line in text.splitlines() if line.startswith("## ")] == ["## EC2", "## EBS", "## ELB"]
    assert generation.progress() == "3/3"


async def test_a_conversation_remembers_completed_exchanges_and_can_forget(db: Database) -> None:
    explain = service(db, ["first answer", "second answer"])
    for question in ("EBS가 뭐야?", "스냅샷은?"):
        ticket = await explain.admit(user_id=5, guild_id=None)
        generation = explain.converse(ticket, 5, "ko", question)
        await generation.settle(await collect(generation.chunks), completed=True)
        ticket.release()
    history = await ConversationRepository(db).recent(5, 10)
    assert [turn.content for turn in history] == ["EBS가 뭐야?", "first answer", "스냅샷은?", "second answer"]
    assert await explain.forget_conversation(5) == 4


async def test_an_unfinished_answer_is_not_kept_in_the_history(db: Database) -> None:
    explain = service(db, ["partial"])
    ticket = await explain.admit(user_id=5, guild_id=None)
    generation = explain.converse(ticket, 5, "en", "question")
    await generation.settle("part", completed=False)
    assert await ConversationRepository(db).recent(5, 10) == []


def test_the_meter_reads_usage_and_a_length_finish() -> None:
    meter = GenerationMeter()
    message = AIMessage(
        "cut",
        response_metadata={"finish_reason": "length"},
        usage_metadata={"input_tokens": 12, "output_tokens": 30, "total_tokens": 42},
    )
    meter.on_llm_end(LLMResult(generations=[[ChatGeneration(message=message)]]))
    assert (meter.input_tokens, meter.output_tokens, meter.truncated) == (12, 30, True)
    assert GenerationMeter.run_inline  # per-token callbacks must not go through a thread pool
