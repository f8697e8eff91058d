"""TIL search on a real SQLite file: Korean inside words, short terms, any characters, ranking and pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import InvalidInput
from bot.services.til import posts as posts_module
from bot.services.til.model import TilDraft, TilPost, clean_draft
from bot.services.til.posts import MAX_QUERY_CHARS, MAX_QUERY_TERMS, TilService, snippet
from bot.storage import Database, TilRepository
from tests.fakes.clock import FakeClock

GUILD, OTHER_GUILD = 1, 2
ALICE, BOB = 11, 12
START = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def service(tmp_path: Path, clock: FakeClock) -> AsyncIterator[TilService]:
    db = await Database.open(tmp_path / "bot.db")
    yield TilService(TilRepository(db), clock.now)
    await db.close()


def draft(learned: str, title: str | None = None, tags: str | None = None, **fields: str) -> TilDraft:
    return clean_draft(title=title, learned=learned, tags=tags, day=date(2026, 11, 25), **fields)


async def post(service: TilService, clock: FakeClock, learned: str, guild: int = GUILD, **fields: str) -> TilPost:
    clock.advance(timedelta(minutes=1))  # each post a little newer than the one before
    return await service.create(guild, ALICE, draft(learned, **fields))


async def found(service: TilService, query: str, guild: int = GUILD) -> list[str]:
    page = await service.search(guild, query, per_page=25)
    return [hit.post.learned for hit in page.items]


async def test_korean_words_are_found_inside_longer_words(service: TilService, clock: FakeClock) -> None:
    await post(service, clock, "EC2 인스턴스를 생성하고 종료했다")
    await post(service, clock, "Auto Scaling 그룹의 최소 인스턴스 수")
    await post(service, clock, "LangChain 프롬프트 템플릿")
    assert sorted(await found(service, "인스턴스")) == [
        "Auto Scaling 그룹의 최소 인스턴스 수",
        "EC2 인스턴스를 생성하고 종료했다",
    ]
    assert await found(service, "템플릿") == ["LangChain 프롬프트 템플릿"]
    assert await found(service, "스냅샷") == []


async def test_english_is_found_in_any_letter_case(service: TilService, clock: FakeClock) -> None:
    await post(service, clock, "Chains compose with the pipe operator", tags="LangChain")
    await post(service, clock, "batch runs many inputs")
    assert await found(service, "LANGCHAIN") == ["Chains compose with the pipe operator"]
    assert await found(service, "chains") == ["Chains compose with the pipe operator"]
    assert await found(service, "Batch") == ["batch runs many inputs"]


async def test_every_word_of_the_query_must_be_there(service: TilService, clock: FakeClock) -> None:
    await post(service, clock, "EC2 인스턴스 유형")
    await post(service, clock, "RDS 인스턴스 백업")
    await post(service, clock, "EC2 요금")
    assert await found(service, "ec2 인스턴스") == ["EC2 인스턴스 유형"]
    assert await found(service, "  인스턴스   EC2  ec2 ") == ["EC2 인스턴스 유형"]


async def test_short_terms_are_substrings_anywhere_even_at_the_end(service: TilService, clock: FakeClock) -> None:
    await post(service, clock, "서버를 배포했다", title="배포 연습")
    await post(service, clock, "모델 정리", title="오늘은 ML", tags="Python, AI")
    await post(service, clock, "C 포인터", reflection="어렵다")
    await post(service, clock, "nothing here")
    assert await found(service, "서버") == ["서버를 배포했다"]
    assert await found(service, "ML") == ["모델 정리"]  # the last word of the title
    assert await found(service, "ai") == ["모델 정리"]  # the last tag
    assert await found(service, "정리") == ["모델 정리"]  # the end of the body
    assert sorted(await found(service, "다")) == ["C 포인터", "서버를 배포했다"]  # the last character of two sections
    assert await found(service, "없는말") == []
    assert await found(service, "쀍") == []


async def test_short_and_long_terms_together(service: TilService, clock: FakeClock) -> None:
    await post(service, clock, "EC2 인스턴스에 AI 모델 배포")
    await post(service, clock, "EC2 인스턴스 정리")
    assert await found(service, "AI 인스턴스") == ["EC2 인스턴스에 AI 모델 배포"]
    assert await found(service, "인스턴스 정") == ["EC2 인스턴스 정리"]


async def test_short_terms_too_common_to_list_are_still_exact(
    service: TilService, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a tiny trigram budget every short term takes the LIKE path.
    monkeypatch.setattr(posts_module, "MAX_TRIGRAMS_PER_TERM", 0)
    await post(service, clock, "50% 할인 받음 a_b")
    await post(service, clock, "5000원 할인 abb")
    assert await found(service, "%") == ["50% 할인 받음 a_b"]
    assert await found(service, "0%") == ["50% 할인 받음 a_b"]
    assert await found(service, "_") == ["50% 할인 받음 a_b"]
    assert await found(service, "할인 b") == ["5000원 할인 abb", "50% 할인 받음 a_b"]
    assert await found(service, "\\") == []


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        '"인스턴스',
        "*",
        "인스*",
        "(",
        "())",
        "NEAR",
        "NEAR(a b)",
        "a AND b",
        "OR",
        "NOT x",
        "-x",
        "title:x",
        "^start",
        "{title learned}: x",
        "a + b",
        "'; DROP TABLE til_posts; --",
        "%_\\",
        "🙂",
        "ﷺ",
        "e\u0301",
    ],
)
async def test_query_syntax_characters_are_searched_for_as_text(
    service: TilService, clock: FakeClock, query: str
) -> None:
    await post(service, clock, "평범한 글")
    await post(service, clock, f"특수 문자 {query} 가 들어간 글")
    assert f"특수 문자 {query} 가 들어간 글" in await found(service, query)
    assert "평범한 글" not in await found(service, query)
    assert (await service.list_posts(GUILD, None)).total == 2  # nothing was dropped


async def test_blank_and_oversized_queries_are_refused(service: TilService) -> None:
    for query, key in [
        ("", "til.search_empty"),
        (" \n\t ", "til.search_empty"),
        ("x" * (MAX_QUERY_CHARS + 1), "til.search_too_long"),
        (" ".join(f"w{n}" for n in range(MAX_QUERY_TERMS + 1)), "til.search_too_many_terms"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            await service.search(GUILD, query)
        assert refused.value.key == key
    # A NUL character ends strings in parts of SQLite: nothing is found, and nothing fails.
    assert (await service.search(GUILD, "\x00 a\x00bc")).total == 0


async def test_search_stays_in_its_guild(service: TilService, clock: FakeClock) -> None:
    await post(service, clock, "인스턴스 여기", guild=GUILD)
    await post(service, clock, "인스턴스 저기", guild=OTHER_GUILD)
    assert await found(service, "인스턴스") == ["인스턴스 여기"]
    assert await found(service, "인스턴스", guild=OTHER_GUILD) == ["인스턴스 저기"]
    assert await found(service, "여", guild=OTHER_GUILD) == []


async def test_a_title_or_tag_match_ranks_above_a_passing_mention(service: TilService, clock: FakeClock) -> None:
    passing = await post(service, clock, "오늘은 네트워크 공부. " + "기타 내용 " * 40 + "Kubernetes 잠깐")
    titled = await post(service, clock, "파드와 디플로이먼트", title="Kubernetes 입문")
    dense = await post(service, clock, "Kubernetes Kubernetes 클러스터 Kubernetes")
    page = await service.search(GUILD, "kubernetes")
    ranked = [hit.post.id for hit in page.items]
    assert ranked.index(titled.id) < ranked.index(passing.id)
    assert ranked.index(dense.id) < ranked.index(passing.id)
    assert ranked[-1] == passing.id


async def test_results_come_a_page_at_a_time(service: TilService, clock: FakeClock) -> None:
    for number in range(12):
        await post(service, clock, f"스냅샷 {number}번")
    first = await service.search(GUILD, "스냅샷", per_page=5)
    assert (first.page, first.pages, first.total, first.more, len(first.items)) == (1, 3, 12, False, 5)
    seen = [hit.post.id for page in (1, 2, 3) for hit in (await service.search(GUILD, "스냅샷", page, 5)).items]
    assert len(seen) == len(set(seen)) == 12
    beyond = await service.search(GUILD, "스냅샷", page=9, per_page=5)
    assert (beyond.page, len(beyond.items)) == (3, 2)
    nothing = await service.search(GUILD, "없음없음")
    assert (nothing.items, nothing.page, nothing.pages, nothing.total) == ([], 1, 1, 0)


async def test_a_very_common_word_ranks_the_newest_matches_and_says_there_are_more(
    service: TilService, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(posts_module, "SEARCH_LIMIT", 4)
    ids = [(await post(service, clock, f"공통 단어 {number}")).id for number in range(6)]
    page = await service.search(GUILD, "공통 단어", per_page=10)
    assert (page.total, page.more) == (4, True)
    assert {hit.post.id for hit in page.items} == set(ids[-4:])
    short = await service.search(GUILD, "공통", per_page=10)
    assert (short.total, short.more) == (4, True)


async def test_edits_and_deletions_reach_the_index(service: TilService, clock: FakeClock) -> None:
    first = await post(service, clock, "CloudWatch 경보 설정")
    await service.edit(GUILD, first.id, ALICE, draft("Load Balancer 대상 그룹"))
    assert await found(service, "CloudWatch") == []
    assert await found(service, "대상 그룹") == ["Load Balancer 대상 그룹"]
    await service.delete(GUILD, first.id, ALICE, moderator=False)
    assert await found(service, "대상") == []
    assert await found(service, "Balancer") == []


async def test_the_snippet_shows_the_match_in_bold(service: TilService, clock: FakeClock) -> None:
    learned = "처음 부분. " + "가나다라 " * 60 + "EBS 스냅샷을 만들고 다시 스냅샷 복원 " + "마바사 " * 60
    await post(service, clock, learned, title="AWS")
    [hit] = (await service.search(GUILD, "스냅샷")).items
    assert "EBS **스냅샷**을 만들고 다시 **스냅샷** 복원" in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) <= 200


def test_the_snippet_escapes_markdown_and_prefers_the_body() -> None:
    stamp = datetime(2026, 11, 25, tzinfo=UTC)
    til = TilPost(
        1, GUILD, ALICE, "# 제목 LCEL", "**굵게** `코드` ~~취소~~ LCEL 체인", "", "", "", ("LCEL",), date(2026, 11, 25),
        stamp, stamp,
    )  # fmt: skip
    text = snippet(til, ["lcel"])
    assert text == "\\*\\*굵게\\*\\* \\`코드\\` \\~\\~취소\\~\\~ **LCEL** 체인"
    assert snippet(til, ["제목"]) == "\\# **제목** LCEL"
    assert snippet(til, ["없는"]) == "\\*\\*굵게\\*\\* \\`코드\\` \\~\\~취소\\~\\~ LCEL 체인"
    starry = TilPost(1, GUILD, ALICE, "t", "*" * 3000 + " 끝", "", "", "", (), date(2026, 11, 25), stamp, stamp)
    assert len(snippet(starry, ["끝"])) <= 200
