"""TIL exports: Markdown shaped like the group's daily post, zips and JSON, and reading them back unchanged."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.errors import InvalidInput
from bot.services.til.export import (
    MAX_EXPORT_BYTES,
    ExportFile,
    ExportFormat,
    export_posts,
    parse_export,
    post_filename,
    post_markdown,
)
from bot.services.til.model import LIMITS, Section, TilPost

CREATED = datetime(2024, 7, 12, 13, 5, tzinfo=UTC)
# The section headings of the group's example post (../shared/seed/til-example.txt), in its order.
KOREAN_HEADINGS = ["## 오늘 공부한 내용", "## 어려웠던 내용", "## 궁금한 내용과 부족한 내용", "## 느낀 점"]
ENGLISH_HEADINGS = ["## What I learned", "## What was hard", "## What I'm curious about / lacking", "## Reflection"]
SAFE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-[\w-]+$")

LEARNED = """1. KDT (AWS)
EC2 (Elastic Compute Cloud)
- 인스턴스 스토어: 블록 수준 임시 스토리지, 인스턴스 수명 동안 지속
## 정리 (a heading of my own, inside the section)
## 어려웠던 내용
<!-- til:hard -->
\\<!-- til {"title": "not a post"} -->
2. LangChain
```python
template = \"\"\"
# 상황:
{{question}}
\"\"\"
chain = prompt | model | output_parser
```

   indented, after a blank line"""


def post(post_id: int = 1, **changes: object) -> TilPost:
    base = TilPost(
        id=post_id,
        guild_id=300_000_000_000_000_001,
        author_id=400_000_000_000_000_002,
        title="TIL 2024-07-12 (AWS/LangChain/ADsP)",
        learned=LEARNED,
        hard="- AWS",
        curious="- LangChain 의 활용",
        reflection="- 앞으로 어떻게 Chain을 결합해서 어떤 프로그램을 만들지 기대가 된다.",
        tags=("AWS", "LangChain", "ADsP"),
        local_date=date(2024, 7, 12),
        created_at=CREATED,
        updated_at=CREATED + timedelta(minutes=3),
    )
    return replace(base, **changes)


SPARSE = post(
    2,
    title="TIL 2024-07-13",
    learned="Only this.",
    hard="",
    curious="",
    reflection="",
    tags=(),
    local_date=date(2024, 7, 13),
)


def test_markdown_has_the_shape_of_the_example_post() -> None:
    text = post_markdown(post(), language="ko")
    visible = [line for line in text.split("\n") if not line.startswith("<!--")]
    assert visible[0] == "# TIL 2024-07-12 (AWS/LangChain/ADsP)"
    assert visible[2] == "**날짜** 2024-07-12 · **태그** AWS, LangChain, ADsP"
    positions = [visible.index(heading) for heading in KOREAN_HEADINGS]
    assert positions == sorted(positions)
    # The section's text follows its heading as written, Korean and code block included.
    learned_at = positions[0]
    assert visible[learned_at + 2 : learned_at + 5] == LEARNED.split("\n")[:3]
    assert "```python" in visible and "chain = prompt | model | output_parser" in visible


def test_markdown_headings_follow_the_language_and_empty_sections_are_left_out() -> None:
    english = post_markdown(SPARSE, language="en")
    assert ENGLISH_HEADINGS[0] in english.split("\n")
    assert not any(heading in english for heading in ENGLISH_HEADINGS[1:])
    assert "**Date** 2024-07-13" in english and "Tags" not in english
    # Without a language, a post written in Korean gets Korean headings, an English one English headings.
    assert KOREAN_HEADINGS[0] in post_markdown(post()).split("\n")
    assert ENGLISH_HEADINGS[0] in post_markdown(SPARSE).split("\n")


@pytest.mark.parametrize("language", ["ko", "en"])
def test_one_markdown_post_round_trips(language: str) -> None:
    exported = export_posts([post()], ExportFormat.MARKDOWN, language=language)
    assert exported.filename == "2024-07-12-til-2024-07-12-aws-langchain-adsp.md"
    assert exported.data.decode().startswith("<!-- til ")
    assert parse_export(exported) == [post().draft]


def test_many_posts_make_a_zip_of_markdown_files_with_unique_names() -> None:
    same_day_twice = [post(1), post(3), SPARSE, post(4, title="AWS: EC2 & EBS / 정리")]
    exported = export_posts(same_day_twice, ExportFormat.MARKDOWN, language="ko")
    assert exported.filename == "til-2024-07-12-to-2024-07-13.zip"
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        names = archive.namelist()
    assert names == [
        "2024-07-12-til-2024-07-12-aws-langchain-adsp.md",
        "2024-07-12-til-2024-07-12-aws-langchain-adsp-2.md",
        "2024-07-13-til-2024-07-13.md",
        "2024-07-12-aws-ec2-ebs-정리.md",
    ]
    assert parse_export(exported) == [p.draft for p in same_day_twice]
    # The same posts always make the same archive, byte for byte.
    assert export_posts(same_day_twice, ExportFormat.MARKDOWN, language="ko") == exported


def test_json_round_trips_and_keeps_ids_dates_and_tags() -> None:
    posts = [post(), SPARSE]
    exported = export_posts(posts, ExportFormat.JSON, language="ko")
    assert exported.filename == "til-2024-07-12-to-2024-07-13.json"
    items = json.loads(exported.data)
    assert items[0] == {
        "id": 1,
        "guild_id": "300000000000000001",
        "author_id": "400000000000000002",
        "date": "2024-07-12",
        "title": "TIL 2024-07-12 (AWS/LangChain/ADsP)",
        "tags": ["AWS", "LangChain", "ADsP"],
        "learned": LEARNED,
        "hard": "- AWS",
        "curious": "- LangChain 의 활용",
        "reflection": "- 앞으로 어떻게 Chain을 결합해서 어떤 프로그램을 만들지 기대가 된다.",
        "created_at": "2024-07-12T13:05:00+00:00",
        "updated_at": "2024-07-12T13:08:00+00:00",
    }
    assert "인스턴스" in exported.data.decode()  # Korean stays readable, not \\u-escaped
    assert parse_export(exported) == [p.draft for p in posts]
    one = export_posts([SPARSE], ExportFormat.JSON, language="en")
    assert one.filename == "2024-07-13-til-2024-07-13.json"
    assert parse_export(one) == [SPARSE.draft]


@pytest.mark.parametrize(
    "title",
    [
        "Today I Learned (2024-07-12)",
        "\"quoted\" --> <!-- til:learned --> {'a': 1}",
        "multi\nline\ttitle",
        "제목 > 화살표 -->",
        "# already a heading",
    ],
)
def test_any_title_and_tags_round_trip(title: str) -> None:
    original = post(title=title, tags=("C++", "k8s", "자료구조"))
    for fmt in ExportFormat:
        assert parse_export(export_posts([original], fmt, language="ko")) == [original.draft]


def test_text_at_the_limits_round_trips() -> None:
    full = post(
        title="가" * LIMITS[Section.TITLE],
        learned="\n".join(["## " + "배" * 40] * 70)[: LIMITS[Section.LEARNED]],
        hard="<!-- til:curious -->\n" * 40,
        curious="\\" * LIMITS[Section.CURIOUS],
        reflection="\n\n  느낀 점  \n\n",
    )
    assert parse_export(export_posts([full], ExportFormat.MARKDOWN, language="en")) == [full.draft]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("../../etc/passwd", "2024-07-12-etc-passwd"),
        ('a/b\\c:d*e?f"g<h>i|j', "2024-07-12-a-b-c-d-e-f-g-h-i-j"),
        ("   ...   ", "2024-07-12-til"),
        ("오늘 배운 것: EC2", "2024-07-12-오늘-배운-것-ec2"),
        ("snake_case and CAPS", "2024-07-12-snake-case-and-caps"),
    ],
)
def test_file_names_are_safe(title: str, expected: str) -> None:
    name = post_filename(post(title=title))
    assert name == expected
    assert SAFE_NAME.match(name)


def test_long_titles_make_short_file_names() -> None:
    name = post_filename(post(title="word " * 40))
    assert SAFE_NAME.match(name) and len(name) <= 71 and not name.endswith("-")


def test_nothing_to_export_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        export_posts([], ExportFormat.MARKDOWN, language="ko")
    assert refused.value.key == "til_export.no_posts"


def test_an_export_over_the_attachment_limit_is_refused() -> None:
    # JSON does not compress: enough full-size Korean posts pass Discord's 10 MiB for bots.
    big = post(learned="배" * LIMITS[Section.LEARNED], hard="움" * LIMITS[Section.HARD])
    count = MAX_EXPORT_BYTES // len(big.learned.encode() + big.hard.encode()) + 10
    with pytest.raises(InvalidInput) as refused:
        export_posts([replace(big, id=n) for n in range(count)], ExportFormat.JSON, language="ko")
    assert refused.value.key == "til_export.too_large"
    assert refused.value.params["limit_mib"] == 10


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "file",
    [
        ExportFile("notes.md", b"# Just some notes\n\n## What I learned\n\nnothing marked"),
        ExportFile("til.md", b"\xff\xfe not utf-8"),
        ExportFile("til.md", b'<!-- til {"title": "t", "date": "yesterday", "tags": []} -->\n'),
        ExportFile("til.md", b'<!-- til {"title": "t", "date": "2024-07-12", "tags": []} -->\n<!-- til:other -->\n'),
        ExportFile("til.md", b'<!-- til {"title": 5, "date": "2024-07-12", "tags": []} -->\n'),
        ExportFile("til.json", b'{"title": "an object, not an array", "learned": "x"}'),
        ExportFile("til.json", b'[{"learned": "no title"}]'),
        ExportFile("til.json", b"[1, 2]"),
        ExportFile("til.json", b"[{"),
        ExportFile("til.zip", b"PK not really a zip"),
        ExportFile("til.zip", zipped({"readme.txt": b"hello"})),
        ExportFile("til.txt", b"anything"),
    ],
    ids=lambda file: file.filename,
)
def test_files_that_are_not_exports_are_refused(file: ExportFile) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_export(file)
    assert refused.value.key == "til_export.unreadable"
