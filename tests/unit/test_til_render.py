"""How a TIL longer than one Discord message is shown: a preview cut at a paragraph, and the whole as a file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.services.til.export import ExportFile, parse_export
from bot.services.til.model import LIMITS, Section, TilPost
from bot.services.til.posts import Streak
from cogs.til._render import (
    CUT_MARK,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_LIMIT,
    post_embed,
    post_message,
    preview,
)

STAMP = datetime(2026, 11, 25, tzinfo=UTC)


def text(key: str, **params: Any) -> str:
    return f"{key} {params}" if params else key


def post(**changes: Any) -> TilPost:
    fields: dict[str, Any] = {"title": "TIL 2026-11-25", "learned": "EC2", "hard": "", "curious": "", "reflection": ""}
    fields |= changes
    return TilPost(
        id=7, guild_id=1, author_id=2, tags=("AWS",), local_date=date(2026, 11, 25), created_at=STAMP,
        updated_at=STAMP, **fields,
    )  # fmt: skip


def shown(til: TilPost) -> Any:
    return post_message(text, til, author_name="alice", author_icon=None, streak=Streak(3, 3, 3, True), language="ko")


def test_text_that_fits_is_left_alone() -> None:
    assert preview("EC2\n\nEBS", 9) == "EC2\n\nEBS"


def test_a_cut_falls_on_the_last_paragraph_then_line_that_fits() -> None:
    paragraphs = "\n\n".join(f"문단 {n} " + "가" * 50 for n in range(10))
    cut = preview(paragraphs, 200)
    assert len(cut) <= 200 and cut.endswith(f"\n{CUT_MARK}")
    assert cut.removesuffix(f"\n{CUT_MARK}") == "\n\n".join(f"문단 {n} " + "가" * 50 for n in range(3))
    lines = "\n".join("줄" * 30 for _ in range(10))
    assert preview(lines, 100) == "\n".join("줄" * 30 for _ in range(3)) + f"\n{CUT_MARK}"


def test_a_cut_inside_a_code_block_closes_it() -> None:
    code = "설명\n```python\n" + "\n".join(f"x = {n}" for n in range(200)) + "\n```\n끝"
    cut = preview(code, 300)
    assert len(cut) <= 300 and cut.count("```") == 2 and cut.endswith(f"```\n{CUT_MARK}")


def test_one_long_word_is_cut_anyway() -> None:
    assert len(preview("가" * 5000, 1024)) <= 1024


def test_a_post_that_fits_one_message_is_shown_whole_without_a_file() -> None:
    til = post(learned="가" * DESCRIPTION_LIMIT, hard="나" * FIELD_LIMIT)
    message = shown(til)
    assert message.markdown is None and message.files() == []
    assert message.embed.description == til.learned
    assert post_embed(text, til, author_name="alice", author_icon=None, streak=None) is not None


@pytest.mark.parametrize(
    "changes",
    [
        {"learned": "가" * (DESCRIPTION_LIMIT + 1)},
        {"hard": "나" * (FIELD_LIMIT + 1)},
        {"learned": "가" * 3000, "hard": "나" * 1000, "curious": "다" * 1000, "reflection": "라" * 1000},
        {s.value: "\n".join(["줄 " * 20] * 1000)[: LIMITS[s]] for s in Section if s is not Section.TITLE},
    ],
)
def test_a_longer_post_is_a_preview_within_discords_limits_with_the_whole_attached(changes: dict[str, str]) -> None:
    til = post(**changes)
    message = shown(til)
    embed = message.embed
    assert message.markdown is not None and len(embed) <= EMBED_TOTAL_LIMIT
    assert embed.description is not None and len(embed.description) <= DESCRIPTION_LIMIT
    assert all(len(field.value or "") <= FIELD_LIMIT for field in embed.fields)
    assert embed.fields[-1].name == "til_ui.preview_title"
    assert message.filename == "2026-11-25-til-2026-11-25.md" and message.filename in (embed.fields[-1].value or "")
    [upload] = message.files()
    assert upload.filename == message.filename
    assert parse_export(ExportFile(message.filename, upload.fp.read())) == [til.draft]
    assert message.files()[0].fp.read()  # a fresh upload for every send
