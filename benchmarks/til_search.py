"""TIL search over a big guild: how long `/til search` takes the database when a server has 100,000 TILs.

Builds a SQLite file in a temporary directory with the real migrations, fills one guild with generated TILs
(seeded random mixes of the lines of ../shared/seed/til-example.txt and English study notes, a few hundred
characters each, like the group's posts), then runs searches through `TilService.search` and times each one.
Prints one JSON object per scenario: `scenario`, `posts`, `queries`, `query_ms_p50`, `query_ms_p99`,
`hits_median` (matching posts per query), plus one `build` object with how long filling the database took.

Scenarios: `korean` (words inside Korean text, where the particle follows without a space), `english`,
`short` (one- and two-character terms, which the trigram index cannot look up), `multi_term`, `rare`
(a handful of posts match) and `common` (a third of the posts or more match), each on pages 1 to 3.

    python -m benchmarks.til_search [--posts 100000] [--repeat 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._harness import ROOT, percentile
from bot.services.til.posts import TilService
from bot.storage import Database, TilRepository

GUILD = 1
AUTHORS = 400
BATCH = 5000
SEED_TIL = ROOT.parent / "shared" / "seed" / "til-example.txt"
ENGLISH = [
    "Learned how a Python generator keeps its state between next() calls.",
    "Docker layers are cached, so put the requirements install before copying the source.",
    "A database index speeds up reads but every insert has to update it too.",
    "Read about the CAP theorem: under a partition you pick consistency or availability.",
    "Practised binary search on a rotated sorted array; off-by-one errors everywhere.",
    "React re-renders a component when its state or props change.",
    "Git rebase rewrites history, so never rebase a branch others already pulled.",
    "HTTP caching headers: Cache-Control max-age and ETag revalidation.",
    "Wrote unit tests with pytest fixtures and parametrize.",
    "The event loop runs one coroutine at a time; await gives control back.",
    "SQL window functions like ROW_NUMBER() OVER (PARTITION BY ...) are great for rankings.",
    "Gradient descent takes steps against the gradient of the loss.",
    "Overfitting: the model memorises the training data and fails on new data.",
    "TCP has a three-way handshake; UDP sends without one.",
    "Kafka keeps messages in partitions, ordered within each partition.",
    "Studied the statistics chapter of ADsP: variance, standard deviation, correlation.",
]
HARD = [
    "AWS 네트워크 설정이 헷갈렸다",
    "LCEL 체인 결합 순서",
    "Recursion is still hard to trace",
    "통계 문제 풀이 시간",
]
CURIOUS = ["LangChain 의 활용", "How does the GIL affect async code?", "VPC 피어링은 언제 쓰나", "벡터 DB 비교"]
REFLECTION = ["앞으로 어떻게 Chain을 결합해서 어떤 프로그램을 만들지 기대가 된다.", "Tired but happy.", "꾸준히 하자!"]
TAGS = ["AWS", "LangChain", "ADsP", "Python", "Network", "SQL", "Docker", "ML", "React", "Git"]
# Words put into a few posts only, so some searches find a handful of posts among 100,000.
RARE = ["쿠버네티스오퍼레이터", "Terraform", "gRPC스트리밍", "Zookeeper", "카산드라", "WebAssembly"]

QUERIES = {
    "korean": ["인스턴스", "스냅샷", "트래픽", "프롬프트", "비동기", "모니터링", "스토리지", "템플릿", "딕셔너리"],
    "english": ["LangChain", "invoke", "CloudWatch", "generator", "pytest", "handshake", "Kafka", "gradient"],
    "short": ["AI", "DB", "서버", "체인", "C", "ML", "카산", "가", "a", '"', "(*"],
    "multi_term": ["EC2 인스턴스", "chain invoke", "Auto Scaling 정책", "Docker cache", "LLM 프롬프트 변수"],
    "rare": RARE,
    "common": ["인스턴스", "AWS", "the", "사용", "가능"],
}


def seed_lines() -> list[str]:
    lines = [line.strip() for line in SEED_TIL.read_text(encoding="utf-8").splitlines()]
    # Keep study notes, not the blog's footer or the long pasted model outputs.
    return [line for line in lines if 8 <= len(line) <= 160]


def generate(rng: random.Random, lines: list[str], count: int, start: date) -> list[tuple[Any, ...]]:
    rows = []
    created = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(count):
        day = start + timedelta(days=number * 730 // count)
        learned = [*rng.sample(lines, rng.randint(3, 7)), *rng.sample(ENGLISH, rng.randint(1, 3))]
        rng.shuffle(learned)
        if rng.random() < 0.0002:
            learned.append(f"{rng.choice(RARE)} 를 처음 써 봤다")
        tags = rng.sample(TAGS, rng.randint(1, 3))
        at = (created + timedelta(minutes=number * 10)).isoformat(timespec="microseconds")
        rows.append(
            (
                GUILD,
                rng.randrange(AUTHORS),
                f"TIL {day.isoformat()} ({'/'.join(tags)})",
                "\n".join(learned),
                rng.choice(HARD),
                rng.choice(CURIOUS),
                rng.choice(REFLECTION),
                ", ".join(tags),
                day.isoformat(),
                at,
                at,
            )
        )
    return rows


async def fill(db: Database, posts: int, seed: int) -> None:
    rng = random.Random(seed)
    lines = seed_lines()
    for offset in range(0, posts, BATCH):
        rows = generate(rng, lines, min(BATCH, posts - offset), date(2024, 1, 1))
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO til_posts (guild_id, author_id, title, learned, hard, curious, reflection, tags,"
                " local_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )


async def run(posts: int, repeat: int, seed: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as workdir:
        db = await Database.open(Path(workdir) / "bench.db")
        try:
            began = time.perf_counter()
            await fill(db, posts, seed)
            results.append({"scenario": "build", "posts": posts, "fill_s": round(time.perf_counter() - began, 1)})
            service = TilService(TilRepository(db), lambda: datetime.now(UTC))
            rng = random.Random(seed)
            for scenario, queries in QUERIES.items():
                timings, hits = [], []
                for number in range(repeat):
                    query = queries[number % len(queries)]
                    started = time.perf_counter()
                    page = await service.search(GUILD, query, page=rng.choice((1, 1, 2, 3)))
                    timings.append((time.perf_counter() - started) * 1000)
                    hits.append(page.total)
                results.append(
                    {
                        "scenario": scenario,
                        "posts": posts,
                        "queries": repeat,
                        "query_ms_p50": percentile(timings, 0.5),
                        "query_ms_p99": percentile(timings, 0.99),
                        "hits_median": statistics.median(hits),
                    }
                )
        finally:
            await db.close()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=60, help="searches per scenario")
    parser.add_argument("--seed", type=int, default=6)
    arguments = parser.parse_args()
    for figures in asyncio.run(run(arguments.posts, arguments.repeat, arguments.seed)):
        print(json.dumps(figures, ensure_ascii=False), flush=True)
