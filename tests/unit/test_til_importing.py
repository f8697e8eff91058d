"""A TIL from a file: the group's real daily post, small synthetic ones, our own export, and files to refuse."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.errors import InvalidInput
from bot.i18n import Catalog
from bot.services.til.export import ExportFormat, export_posts
from bot.services.til.importing import MAX_FILE_BYTES, check_file, draft_from_file, parse_file, parse_text_post
from bot.services.til.model import FORM_FIELD_LIMIT, LIMITS, Section, TilDraft, TilPost, fits_form, form_limit

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "til-example.txt"
DAY = date(2026, 11, 25)


@pytest.fixture
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"the study group's example TIL is not beside the clone ({SEED})")
    return SEED.read_text(encoding="utf-8")


# --- the limits ----------------------------------------------------------------------------------------------------


def test_a_til_holds_more_than_one_message_but_the_form_keeps_discords_field_limit() -> None:
    assert LIMITS[Section.TITLE] == 100  # a forum post's name
    assert LIMITS[Section.LEARNED] == 20_000 and LIMITS[Section.LEARNED] > 4096
    assert all(LIMITS[s] == 4000 for s in (Section.HARD, Section.CURIOUS, Section.REFLECTION))
    assert {s: form_limit(s) for s in Section} == {s: min(LIMITS[s], FORM_FIELD_LIMIT) for s in Section}
    assert max(form_limit(s) for s in Section) == 4000
    assert fits_form(TilDraft(title="t", learned="가" * 4000, hard="나" * 4000))
    assert not fits_form(TilDraft(title="t", learned="가" * 4001))


def test_the_largest_til_fits_a_file_we_accept() -> None:
    largest = sum(LIMITS.values()) * 3  # Korean is 3 bytes a character in UTF-8
    assert largest * 2 < MAX_FILE_BYTES


# --- the real daily post ----------------------------------------------------------------------------------------------


def test_the_real_daily_post_reads_into_its_sections(seed_text: str) -> None:
    parsed = parse_text_post(seed_text)
    assert parsed.title == "Today I Learned (2024-07-12)"
    assert parsed.learned.startswith("1. KDT (AWS)\nEC2 (Elastic Compute Cloud)")
    assert "목차" not in parsed.learned and "오늘 공부한 내용" not in parsed.learned
    assert "chain = prompt | model | output_parser" in parsed.learned  # past the unclosed ```python
    assert parsed.learned.endswith("지역 식료품점에서 구매할 수 있습니다.'}]")
    assert parsed.hard == "- AWS"
    assert parsed.curious == "- LangChain 의 활용"
    assert parsed.reflection.startswith("- 앞으로 어떻게 Chain을 결합해서 어떤 프로그램을 만들지 기대가 된다.")
    assert parsed.reflection.endswith('"구독👍🏻" 해주세요!')  # the blog's footer stays in the last section
    assert len(parsed.learned) > 4096  # more than one embed: why files exist


def test_the_real_daily_post_is_a_valid_til_that_no_form_could_hold(seed_text: str) -> None:
    draft = draft_from_file("til-example.txt", seed_text.encode(), tags="AWS, LangChain, ADsP", day=DAY)
    assert draft.title == "Today I Learned (2024-07-12)" and draft.tags == ("AWS", "LangChain", "ADsP")
    assert len(draft.learned) <= LIMITS[Section.LEARNED] and not fits_form(draft)
    assert draft.learned.count("```") % 2 == 0  # the open fence is closed when cleaned
    assert draft.hard == "- AWS"


# --- synthetic posts -----------------------------------------------------------------------------------------------


def test_markdown_headings_in_english_with_a_heading_title() -> None:
    text = (
        "# TIL 2026-11-25\n\n## What I learned\n\nEC2 and EBS\n\n- snapshots\n\n"
        "## What was hard\nIAM\n## Curious / lacking\nVPC peering\n## Reflection:\nFun!\n"
    )
    assert parse_text_post(text) == TilDraft(
        title="TIL 2026-11-25",
        learned="EC2 and EBS\n\n- snapshots",
        hard="IAM",
        curious="VPC peering",
        reflection="Fun!",
    )


def test_headings_ignore_case_spacing_emoji_and_punctuation_but_not_extra_words() -> None:
    text = "제목\n💬 느낀점\n좋았다\n**어려웠던 내용**:\n어려웠던 내용이 많았다\n"
    parsed = parse_text_post(text)
    assert parsed.reflection == "좋았다"
    assert parsed.hard == "어려웠던 내용이 많았다"  # a line that mentions a heading is notes


def test_a_table_of_contents_listing_every_heading_is_harmless() -> None:
    text = (
        "TIL\n목차\n오늘 공부한 내용\n어려웠던 내용\n궁금한 내용과 부족한 내용\n느낀 점\n"
        "오늘 공부한 내용\nS3\n어려웠던 내용\n버킷 정책\n궁금한 내용과 부족한 내용\nCORS\n느낀 점\n재밌다"
    )
    assert parse_text_post(text) == TilDraft(
        title="TIL", learned="S3", hard="버킷 정책", curious="CORS", reflection="재밌다"
    )


def test_text_without_headings_is_what_i_learned_and_a_missing_title_gets_the_default() -> None:
    assert parse_text_post("\n\nEC2\nEBS\r\n") == TilDraft(title="EC2", learned="EBS")
    no_title = parse_text_post("## 오늘 공부한 내용\nLCEL\n")
    assert no_title == TilDraft(title="", learned="LCEL")
    assert draft_from_file("a.md", "## 오늘 공부한 내용\nLCEL".encode(), tags=None, day=DAY).title == "TIL 2026-11-25"
    paragraph = " ".join(["긴 문단"] * 30)
    assert parse_text_post(paragraph).learned == paragraph.strip() and parse_text_post(paragraph).title == ""


def test_a_byte_order_mark_and_windows_line_ends_are_fine() -> None:
    data = "\ufeffTIL\r\n오늘 공부한 내용\r\nEC2\r\n".encode()
    assert parse_file("til.txt", data) == TilDraft(title="TIL", learned="EC2")


def test_an_empty_learned_section_is_refused_like_the_forms() -> None:
    with pytest.raises(InvalidInput) as refused:
        draft_from_file("a.md", "TIL\n느낀 점\n좋았다".encode(), tags=None, day=DAY)
    assert refused.value.key == "til.learned_required"


def test_a_section_over_its_limit_is_refused_with_the_numbers() -> None:
    text = "TIL\n어려웠던 내용\n" + "가" * (LIMITS[Section.HARD] + 1) + "\n오늘 공부한 내용\nEC2"
    with pytest.raises(InvalidInput) as refused:
        draft_from_file("a.md", text.encode(), tags=None, day=DAY)
    assert refused.value.key == "til.too_long_hard"
    assert refused.value.params == {"limit": LIMITS[Section.HARD], "length": LIMITS[Section.HARD] + 1}


# --- our own export --------------------------------------------------------------------------------------------------


def exported(learned: str, tags: tuple[str, ...] = ("AWS",)) -> bytes:
    stamp = datetime(2026, 11, 25, tzinfo=UTC)
    post = TilPost(1, 10, 20, "## 제목", learned, "", "", "느낀 점", tags, DAY, stamp, stamp)
    return export_posts([post], ExportFormat.MARKDOWN, language="ko").data


def test_our_export_reads_back_exactly_with_its_tags_unless_the_command_gives_some() -> None:
    learned = "## 오늘 공부한 내용\n어려웠던 내용\n" + "배" * 9000  # headings inside are the member's text
    draft = draft_from_file("2026-11-25-til.md", exported(learned), tags=None, day=DAY)
    assert draft == TilDraft(title="## 제목", learned=learned, reflection="느낀 점", tags=("AWS",))
    assert draft_from_file("x.txt", exported(learned), tags="LangChain", day=DAY).tags == ("LangChain",)
    untagged = exported("EC2", tags=())
    assert draft_from_file("x.md", untagged, tags=None, day=DAY, keep_tags=("ADsP",)).tags == ("ADsP",)


def test_an_export_of_several_posts_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_file("two.md", exported("EC2") + b"\n" + exported("S3"))
    assert refused.value.key == "til.file_many_posts" and refused.value.params == {"count": 2}


# --- files to refuse -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "key"),
    [
        ("til.pdf", b"%PDF-1.7", "til.file_type"),
        ("til.md.exe", b"MZ", "til.file_type"),
        ("til", b"EC2", "til.file_type"),
        ("til.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "til.file_binary"),
        ("til.txt", "오늘 공부한 내용\nEC2".encode("cp949"), "til.file_not_utf8"),
        ("til.md", b"x" * (MAX_FILE_BYTES + 1), "til.file_too_large"),
    ],
)
def test_files_that_are_no_til_are_refused_with_a_reason(filename: str, data: bytes, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_file(filename, data)
    assert refused.value.key == key


def test_size_and_kind_are_checked_before_downloading() -> None:
    check_file("TIL.MD", MAX_FILE_BYTES)
    with pytest.raises(InvalidInput) as refused:
        check_file("til.txt", 2 * 1024 * 1024)
    assert refused.value.params == {"size_kb": "2,048", "limit_kb": "512"}


def test_every_file_error_is_in_both_catalogs_with_its_placeholders() -> None:
    catalog = Catalog.load()
    raised: dict[str, dict[str, object]] = {
        "til.file_type": {"filename": "a.pdf"},
        "til.file_too_large": {"size_kb": "600", "limit_kb": "512"},
        "til.file_binary": {"filename": "a.md"},
        "til.file_not_utf8": {"filename": "a.md"},
        "til.file_many_posts": {"count": 2},
        "til_ui.preview_title": {},
        "til_ui.preview_note": {"file": "a.md"},
        "til_ui.edit_needs_file": {"id": 3},
    }
    for language in ("ko", "en"):
        for key, params in raised.items():
            message = catalog.text(language, key, **params)
            assert message and message != key and "{" not in message, (language, key)
