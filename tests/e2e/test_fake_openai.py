"""The fake OpenAI server against the real langchain_openai.ChatOpenAI, and what the client does on each fault.

The test names state the client's observed behaviour: the bot's error handling relies on these exception types.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import AsyncIterator

import openai
import pytest
from langchain_core.messages import AIMessageChunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate
from langchain_core.runnables import Runnable, RunnableParallel
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models._client_utils import StreamChunkTimeoutError

from tests.fakes.openai_server import FakeOpenAI, Fault, RecordedChatRequest, Reply, expected_answer, tokenize

EXPLAIN = PromptTemplate.from_template("{topic}에 대해 {how} 설명해주세요.")
QUESTION = {"topic": "양자역학", "how": "쉽게"}
PROMPT = "양자역학에 대해 쉽게 설명해주세요."
ANSWER = "양자역학은 아주 작은 세계의 물리학입니다.\n\n예를 들어, 전자는  입자이면서 파동처럼 움직여요. "


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI(tokens=12)
    await fake.start()
    yield fake
    await fake.stop()


def chat_model(llm: FakeOpenAI, **kwargs: object) -> ChatOpenAI:
    options: dict[str, object] = {"model": "gpt-fake", "stream_usage": True, "max_retries": 0, **kwargs}
    return ChatOpenAI(base_url=llm.base_url, api_key=llm.api_key, **options)  # type: ignore[arg-type]


def explain_chain(llm: FakeOpenAI, **kwargs: object) -> Runnable[dict[str, str], str]:
    return EXPLAIN | chat_model(llm, **kwargs) | StrOutputParser()


async def collect(stream: AsyncIterator[str], into: list[str]) -> None:
    async for piece in stream:
        into.append(piece)


async def test_astream_yields_token_chunks_that_join_to_the_exact_text(llm: FakeOpenAI) -> None:
    llm.queue(Reply(text=ANSWER))

    pieces = [piece async for piece in explain_chain(llm).astream(QUESTION)]

    assert "".join(pieces) == ANSWER
    assert [p for p in pieces if p] == tokenize(ANSWER)
    (request,) = llm.requests
    assert request.prompt_text == PROMPT
    assert request.stream
    assert request.stream_options == {"include_usage": True}
    assert llm.completed == 1


async def test_ainvoke_gets_a_plain_json_completion_with_the_default_echo(llm: FakeOpenAI) -> None:
    answer = await explain_chain(llm).ainvoke(QUESTION)

    assert answer == expected_answer(PROMPT, 12)
    assert not llm.requests[0].stream


async def test_stream_usage_arrives_in_a_usage_chunk_after_finish_reason(llm: FakeOpenAI) -> None:
    llm.queue(Reply(text=ANSWER))

    chunks = [chunk async for chunk in chat_model(llm).astream(PROMPT)]

    total = sum(chunks[1:], chunks[0])
    assert isinstance(total, AIMessageChunk)
    assert total.usage_metadata is not None
    assert total.usage_metadata["output_tokens"] == len(tokenize(ANSWER))
    assert total.usage_metadata["input_tokens"] == len(PROMPT) // 4
    assert total.response_metadata["finish_reason"] == "stop"


async def test_ainvoke_reports_usage_too(llm: FakeOpenAI) -> None:
    message = await chat_model(llm).ainvoke(PROMPT)

    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] == 12


async def test_abatch_max_concurrency_keeps_two_requests_in_flight(llm: FakeOpenAI) -> None:
    llm.token_delay_s = 0.01
    topics = [{"topic": f"주제{i}", "how": "짧게"} for i in range(6)]

    answers = await explain_chain(llm).abatch(topics, config={"max_concurrency": 2})

    assert answers == [expected_answer(f"주제{i}에 대해 짧게 설명해주세요.", 12) for i in range(6)]
    assert llm.max_in_flight == 2
    assert llm.completed == 6


async def test_runnable_parallel_runs_two_chains_at_once(llm: FakeOpenAI) -> None:
    llm.first_token_delay_s = 0.05
    llm.responder = lambda request: Reply(text="quiz!" if "퀴즈" in request.prompt_text else "explained.")
    quiz = PromptTemplate.from_template("{topic} 퀴즈를 내주세요.") | chat_model(llm) | StrOutputParser()
    both = RunnableParallel(explain=explain_chain(llm), quiz=quiz)

    result = await both.ainvoke(QUESTION)

    assert result == {"explain": "explained.", "quiz": "quiz!"}
    assert llm.max_in_flight == 2


async def test_429_is_retried_after_the_servers_retry_after_then_succeeds(llm: FakeOpenAI) -> None:
    llm.queue(Fault.status(429, retry_after_s=0.01), Reply(text="after the retry"))

    answer = await explain_chain(llm, max_retries=1).ainvoke(QUESTION)

    assert answer == "after the retry"
    first, retry = llm.requests
    assert (first.retry_count, retry.retry_count) == (0, 1)
    # Without retry-after-ms the client would back off 0.375-0.5 s.
    assert retry.at - first.at < 0.3


async def test_429_with_no_retries_left_raises_rate_limit_error(llm: FakeOpenAI) -> None:
    llm.queue(Fault.status(429, retry_after_s=0.01))

    with pytest.raises(openai.RateLimitError) as raised:
        await explain_chain(llm).ainvoke(QUESTION)

    assert raised.value.status_code == 429
    assert raised.value.code == "rate_limit_exceeded"


async def test_500_without_retries_raises_internal_server_error_with_openais_error_body(llm: FakeOpenAI) -> None:
    llm.queue(Fault.status(500, message="The server had an error while processing your request."))

    with pytest.raises(openai.InternalServerError) as raised:
        await explain_chain(llm).ainvoke(QUESTION)

    assert raised.value.status_code == 500
    assert raised.value.body == {
        "message": "The server had an error while processing your request.",
        "type": "server_error",
        "param": None,
        "code": None,
    }


async def test_500_on_astream_raises_before_any_chunk(llm: FakeOpenAI) -> None:
    llm.queue(Fault.status(500))
    pieces: list[str] = []

    with pytest.raises(openai.InternalServerError):
        await collect(explain_chain(llm).astream(QUESTION), pieces)

    assert pieces == []


async def test_cut_stream_raises_api_connection_error_after_the_chunks_already_sent(llm: FakeOpenAI) -> None:
    llm.queue(Fault.cut_after(5, reply=Reply(text=ANSWER)))
    pieces: list[str] = []

    # The dropped connection is an incomplete chunked body to httpx: openai.APIConnectionError, not retried
    # because the stream had already started.
    with pytest.raises(openai.APIConnectionError):
        await collect(explain_chain(llm, max_retries=2).astream(QUESTION), pieces)

    assert "".join(pieces) == "".join(tokenize(ANSWER)[:5])
    assert len(llm.requests) == 1


async def test_stream_ended_cleanly_without_done_ends_silently_and_without_finish_reason(llm: FakeOpenAI) -> None:
    llm.queue(Fault.cut_after(3, clean=True, reply=Reply(text=ANSWER)))

    chunks = [chunk async for chunk in chat_model(llm).astream(PROMPT)]

    total = sum(chunks[1:], chunks[0])
    assert total.content == "".join(tokenize(ANSWER)[:3])
    assert "finish_reason" not in total.response_metadata
    assert isinstance(total, AIMessageChunk)
    assert total.usage_metadata is None


async def test_malformed_chunk_raises_json_decode_error_which_is_not_an_openai_error(llm: FakeOpenAI) -> None:
    llm.queue(Fault.malformed_after(3, reply=Reply(text=ANSWER)))
    pieces: list[str] = []

    with pytest.raises(json.JSONDecodeError):
        await collect(explain_chain(llm).astream(QUESTION), pieces)

    assert "".join(pieces) == "".join(tokenize(ANSWER)[:3])


async def test_error_event_mid_stream_raises_the_base_openai_api_error(llm: FakeOpenAI) -> None:
    llm.queue(Fault.error_event_after(2, message="overloaded", reply=Reply(text=ANSWER)))
    pieces: list[str] = []

    with pytest.raises(openai.APIError, match="overloaded") as raised:
        await collect(explain_chain(llm).astream(QUESTION), pieces)

    assert type(raised.value) is openai.APIError
    assert len(pieces) == 3  # the role chunk's "" and two tokens


async def test_finish_reason_length_is_in_the_final_chunks_response_metadata(llm: FakeOpenAI) -> None:
    llm.queue(Reply(text=ANSWER, finish_reason="length"))

    chunks = [chunk async for chunk in chat_model(llm).astream(PROMPT)]

    finishing = [c for c in chunks if "finish_reason" in c.response_metadata]
    assert [c.response_metadata["finish_reason"] for c in finishing] == ["length"]
    assert "".join(str(c.content) for c in chunks) == ANSWER


async def test_stream_with_done_but_no_finish_reason_ends_without_one(llm: FakeOpenAI) -> None:
    llm.queue(Reply(text=ANSWER, finish_reason=None))

    chunks = [chunk async for chunk in chat_model(llm).astream(PROMPT)]

    assert not any("finish_reason" in c.response_metadata for c in chunks)
    assert "".join(str(c.content) for c in chunks) == ANSWER
    assert llm.completed == 1


async def test_hang_with_client_timeout_raises_api_timeout_error_and_server_sees_the_disconnect(
    llm: FakeOpenAI,
) -> None:
    llm.queue(Fault.hang())

    with pytest.raises(openai.APITimeoutError):
        await explain_chain(llm, timeout=0.5).ainvoke(QUESTION)

    await llm.wait_until(lambda: llm.disconnects == 1)
    assert llm.in_flight == 0
    assert llm.completed == 0


async def test_cancelled_consumer_closes_the_stream_and_the_server_counts_a_disconnect(llm: FakeOpenAI) -> None:
    llm.token_delay_s = 0.05
    first_piece = asyncio.Event()

    async def consume() -> None:
        async for piece in explain_chain(llm).astream(QUESTION):
            if piece:
                first_piece.set()

    consumer = asyncio.create_task(consume())
    await asyncio.wait_for(first_piece.wait(), timeout=5)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    await llm.wait_until(lambda: llm.disconnects == 1)
    assert (llm.in_flight, llm.completed) == (0, 0)


async def test_slow_first_token_trips_stream_chunk_timeout_which_is_an_asyncio_timeout(llm: FakeOpenAI) -> None:
    llm.queue(Fault.slow_first_token(2.0))

    with pytest.raises(StreamChunkTimeoutError) as raised:
        await collect(explain_chain(llm, stream_chunk_timeout=0.2).astream(QUESTION), [])

    assert isinstance(raised.value, TimeoutError)
    await llm.wait_until(lambda: llm.disconnects == 1)


async def test_slow_first_token_within_the_timeouts_just_arrives_late(llm: FakeOpenAI) -> None:
    llm.queue(Fault.slow_first_token(0.2, reply=Reply(text="late")))
    started = time.monotonic()

    assert await explain_chain(llm).ainvoke(QUESTION) == "late"
    assert time.monotonic() - started >= 0.2


async def test_think_block_arrives_as_plain_content_before_the_answer(llm: FakeOpenAI) -> None:
    llm.queue(Reply(text="답입니다.", think="사용자는 쉬운 설명을 원한다."))

    pieces = [piece async for piece in explain_chain(llm).astream(QUESTION)]

    assert "".join(pieces) == "<think>사용자는 쉬운 설명을 원한다.</think>\n\n답입니다."
    assert pieces[1] == "<think>"


async def test_reply_tokens_repeats_the_text_to_that_many_chunks(llm: FakeOpenAI) -> None:
    llm.queue(Reply(text="one two", tokens=5))

    pieces = [p async for p in explain_chain(llm).astream(QUESTION) if p]

    assert pieces == ["one", " two", " one", " two", " one"]


async def test_responder_decides_per_request_and_the_queue_goes_first(llm: FakeOpenAI) -> None:
    def by_topic(request: RecordedChatRequest) -> Reply | Fault:
        return Fault.status(500) if "수학" in request.prompt_text else Reply(text="ok")

    llm.responder = by_topic
    llm.queue(Reply(text="scripted"))
    chain = explain_chain(llm)

    assert await chain.ainvoke({"topic": "수학", "how": "쉽게"}) == "scripted"
    assert await chain.ainvoke(QUESTION) == "ok"
    with pytest.raises(openai.InternalServerError):
        await chain.ainvoke({"topic": "수학", "how": "쉽게"})


async def test_wrong_api_key_is_refused_with_authentication_error(llm: FakeOpenAI) -> None:
    model = ChatOpenAI(base_url=llm.base_url, api_key="sk-wrong", max_retries=0)  # type: ignore[arg-type]

    with pytest.raises(openai.AuthenticationError):
        await model.ainvoke(PROMPT)


async def test_models_endpoint_lists_the_fake_model(llm: FakeOpenAI) -> None:
    client = openai.AsyncOpenAI(base_url=llm.base_url, api_key=llm.api_key)

    models = await client.models.list()

    assert [m.id for m in models.data] == ["gpt-fake"]
    await client.close()


async def test_stop_ends_a_hung_request_without_counting_a_disconnect() -> None:
    fake = FakeOpenAI()
    await fake.start()
    fake.queue(Fault.hang())
    call = asyncio.create_task(explain_chain(fake).ainvoke(QUESTION))
    await fake.wait_requests(1)

    await asyncio.wait_for(fake.stop(), timeout=2)

    with pytest.raises(openai.APIConnectionError):
        await asyncio.wait_for(call, timeout=2)
    assert fake.disconnects == 0


async def test_as_a_process_it_prints_its_base_url_and_serves_expected_answers() -> None:
    command = [sys.executable, "-m", "tests.fakes.openai_server", "--port", "0", "--token-delay", "0", "--tokens", "7"]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), timeout=10))
        model = ChatOpenAI(base_url=ready["base_url"], api_key=ready["api_key"], max_retries=0)
        chain = EXPLAIN | model | StrOutputParser()

        assert await chain.ainvoke(QUESTION) == expected_answer(PROMPT, 7)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
    assert process.returncode == 0
    assert json.loads(stderr.decode().splitlines()[-1])["completed"] == 1


def test_expected_answer_has_exactly_the_requested_number_of_tokens() -> None:
    answer = expected_answer("  what is  a\nmonad?  ", 9)

    assert answer == "Answer about: what is a monad? what is a"
    assert len(tokenize(answer)) == 9
    assert tokenize(ANSWER) and "".join(tokenize(ANSWER)) == ANSWER
