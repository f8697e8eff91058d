"""Reasoning removal, Markdown splitting and stable pagination of streamed replies."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from bot.streaming.text import (
    DISCORD_MESSAGE_LIMIT,
    Paginator,
    RenderedPage,
    paginate_stream,
    render_pages,
    split_message,
    strip_reasoning,
)

ADDED_OPENER = re.compile(r"\A`{3,}[^\n`]*\n")
ADDED_CLOSER = re.compile(r"\n`{3,}\Z")


def assert_pages_rebuild(pages: list[str], original: str) -> None:
    """Joining the pages minus the added fence lines gives the original back, modulo whitespace at the cuts."""
    pos = 0
    for index, page in enumerate(pages):
        without_opener = ADDED_OPENER.sub("", page, count=1)
        candidates = [page, without_opener, ADDED_CLOSER.sub("", page), ADDED_CLOSER.sub("", without_opener)]
        matches = [
            (len(body), found + len(body))
            for body in candidates
            if body and (found := original.find(body, pos)) != -1 and not original[pos:found].strip()
        ]
        if not matches:
            pytest.fail(f"page {index} is not the next part of the original: {page!r}")
        pos = max(matches)[1]
    assert not original[pos:].strip(), f"text left over: {original[pos:]!r}"


def assert_fences_balanced(pages: list[str]) -> None:
    for page in pages:
        fence_lines = [line for line in page.split("\n") if re.fullmatch(r" {0,3}`{3,}[^`]*", line)]
        assert len(fence_lines) % 2 == 0, page


def markdown_sample(seed: int, blocks: int = 40) -> str:
    """A reply mixing prose, lists, Korean, long words and code blocks, as a model writes them."""
    rng = random.Random(seed)
    words = ["study", "the", "mitochondria", "is", "energy", "recursion", "a", "function", "calls", "itself"]
    korean = ["미토콘드리아는", "세포의", "발전소입니다.", "재귀는", "함수가", "자기", "자신을", "호출하는", "것이다."]
    parts: list[str] = []
    for _ in range(blocks):
        kind = rng.choice(["prose", "prose", "korean", "list", "code", "long", "step"])
        if kind == "prose":
            sentences = [" ".join(rng.choices(words, k=rng.randint(3, 14))).capitalize() + "." for _ in range(5)]
            parts.append(" ".join(sentences))
        elif kind == "korean":
            parts.append(" ".join(rng.choices(korean, k=rng.randint(8, 40))))
        elif kind == "list":
            parts.append(
                "\n".join(f"{i}. **{rng.choice(words)}** {' '.join(rng.choices(words, k=6))}" for i in range(5))
            )
        elif kind == "code":
            lines = [f"{'    ' * rng.randint(0, 3)}x_{i} = compute({i})  # {rng.choice(words)}" for i in range(12)]
            parts.append(f"```{rng.choice(['python', '', 'js'])}\n" + "\n".join(lines) + "\n```")
        elif kind == "step":
            commands = "".join(f"   {rng.choice(words)} --flag {i}\n" for i in range(rng.randint(1, 8)))
            parts.append(f"{rng.randint(1, 9)}. Run this:\n   ```bash\n{commands}   ```")
        else:
            parts.append("https://example.com/" + "a" * rng.randint(50, 400) + " then " + "가" * rng.randint(20, 300))
    return "\n\n".join(parts)


# strip_reasoning


def test_strip_reasoning_removes_a_closed_block_and_the_whitespace_after_it() -> None:
    assert strip_reasoning("<think>Let me think.\nOK.</think>\n\nThe answer is 42.") == "The answer is 42."


def test_strip_reasoning_keeps_text_around_blocks() -> None:
    text = "Intro.\n\n<think>a</think>\n\nMiddle <think>b</think> end."
    assert strip_reasoning(text) == "Intro.\n\nMiddle end."


def test_an_unclosed_block_hides_everything_after_it() -> None:
    assert strip_reasoning("Before <think>still reasoning about the") == "Before "
    assert strip_reasoning("<think>still reasoning", final=True) == ""


@pytest.mark.parametrize("partial", ["<", "<t", "<thi", "<think", "</", "</thin"])
def test_a_partial_tag_at_the_end_is_held_back(partial: str) -> None:
    assert strip_reasoning("Hello " + partial) == "Hello "


def test_a_partial_tag_is_shown_when_final_and_unrelated_tags_are_never_held() -> None:
    assert strip_reasoning("a <thi", final=True) == "a <thi"
    assert strip_reasoning("x < y and <b>bold") == "x < y and <b>bold"


def test_a_stray_closing_tag_is_removed_without_taking_back_text() -> None:
    assert strip_reasoning("reasoning leaked</think>\n\nAnswer") == "reasoning leaked\n\nAnswer"


def test_strip_reasoning_only_grows_while_the_stream_grows() -> None:
    raw = "<think>plan: a < b</think>\n\nFirst <b>x</b>.\n<think>more</think>  Second</think> third <thi"
    shown = [strip_reasoning(raw[:end]) for end in range(len(raw) + 1)]
    for before, after in itertools.pairwise(shown):
        assert after.startswith(before), (before, after)
    assert shown[-1] == "First <b>x</b>.\nSecond third "


# split_message


def test_short_text_is_one_page_and_empty_text_none() -> None:
    assert split_message("Hello") == ["Hello"]
    assert split_message("   \n ") == []
    assert DISCORD_MESSAGE_LIMIT == 2000


def test_prefers_a_paragraph_break_in_the_second_half() -> None:
    text = "a" * 50 + " " + "b" * 20 + "\n\n" + "c " * 30
    assert split_message(text, 100)[0] == "a" * 50 + " " + "b" * 20


def test_prefers_a_line_break_then_a_sentence_end_then_a_space() -> None:
    line = "word " * 12 + "\n" + "more words here. And then some"
    assert split_message(line + " x" * 20, 80)[0] == ("word " * 12).strip()
    sentence = "This is the first sentence, and a long one. " + "This is another one, and it goes on for a while"
    assert split_message(sentence + " and on" * 10, 60)[0] == "This is the first sentence, and a long one."
    early = "Short one. " + "This is another sentence that goes on and on for a while"
    assert split_message(early, 60)[0] != "Short one.", "a boundary must keep the page at least half full"
    assert split_message("alpha beta gamma delta " * 5, 30)[0] == "alpha beta gamma delta alpha"


def test_korean_sentence_ends_and_full_width_stops_are_break_points() -> None:
    text = "재귀는 함수가 자기 자신을 호출하는 것이다. 그래서 종료 조건이 반드시 필요합니다 그리고 또"
    assert split_message(text, 40)[0] == "재귀는 함수가 자기 자신을 호출하는 것이다."
    assert split_message("これはペンです。" * 6, 20)[0] == "これはペンです。これはペンです。"


def test_a_list_number_is_not_a_sentence_end() -> None:
    text = "Steps to follow now 1. open the file and read it carefully please"
    assert not split_message(text, 40)[0].endswith("1.")


def test_never_cuts_inside_a_word_unless_it_alone_is_too_long() -> None:
    pages = split_message("short " + "x" * 250 + " tail", 100)
    assert pages == ["short", "x" * 100, "x" * 100, "x" * 50 + " tail"]


def test_a_long_korean_run_without_spaces_is_cut_hard() -> None:
    pages = split_message("가" * 450, 200)
    assert [len(page) for page in pages] == [200, 200, 50]


def test_a_hard_cut_keeps_a_joined_emoji_together() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    pages = split_message("a" * 18 + family + "b" * 30, 20)
    assert all(family in page or "\u200d" not in page for page in pages)
    assert "".join(pages) == "a" * 18 + family + "b" * 30


def test_a_code_block_across_pages_is_closed_and_reopened_with_its_info_string() -> None:
    code = "\n".join(f"line_{i} = {i}" for i in range(30))
    pages = split_message(f"Here is code:\n\n```python\n{code}\n```\n\nDone.", 120)
    assert pages[0].startswith("Here is code:\n\n```python\n")
    assert all(page.startswith("```python\n") for page in pages[1:-1])
    assert all(page.endswith("\n```") for page in pages[:-1])
    assert all(len(page) <= 120 for page in pages)
    assert_fences_balanced(pages)


def test_a_page_never_ends_on_an_opening_fence_nor_starts_with_an_empty_block() -> None:
    text = "x" * 60 + "\n```python\n" + "print('hi')\n" * 8 + "```\nafter"
    for limit in range(30, 160):
        pages = split_message(text, limit)
        assert not any(re.search(r"`{3}\w*\n`{3}\Z", page) for page in pages), (limit, pages)
        assert not any(page.startswith("```python\n```") for page in pages), (limit, pages)
        assert not any(page.rstrip().endswith("```python") for page in pages), (limit, pages)


def test_an_indented_closing_fence_never_starts_a_page() -> None:
    text = (
        "1. Install it:\n   ```bash\n" + "   pip install studybuddy\n" * 6 + "   ```\n2. Run it and see what happens."
    )
    for limit in range(40, 200):
        pages = split_message(text, limit)
        assert not any(re.match(r"```bash\n +```", page) for page in pages), (limit, pages)
        assert_pages_rebuild(pages, text)


def test_inline_triple_backticks_on_one_line_do_not_open_a_block() -> None:
    text = "Use ```code``` inline. " * 20
    assert all("\n```" not in page for page in split_message(text, 100))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("limit", [60, 137, 500, 2000])
def test_pages_fit_render_and_rebuild_the_original(seed: int, limit: int) -> None:
    text = markdown_sample(seed)
    pages = split_message(text, limit)
    assert all(0 < len(page) <= limit for page in pages)
    assert all(page == page.strip("\n") for page in pages)
    assert_fences_balanced(pages)
    assert_pages_rebuild(pages, text)


def test_indentation_survives_a_cut_inside_code() -> None:
    code = "def f():\n" + "".join(f"    step_{i}()\n" for i in range(40))
    pages = split_message(f"```python\n{code}```", 150)
    for page in pages[1:]:
        assert page.startswith("```python\n    step_"), page


def test_limits_too_small_for_a_fenced_page_are_rejected() -> None:
    with pytest.raises(ValueError):
        split_message("text", 10)
    with pytest.raises(ValueError):
        Paginator(limit=20, reserve=10)


# Paginator and paginate_stream


def feed_in_chunks(text: str, sizes: list[int], limit: int, reserve: int) -> tuple[Paginator, list[str]]:
    paginator = Paginator(limit, reserve)
    handed_out: list[str] = []
    end = 0
    for size in sizes:
        end = min(len(text), end + size)
        new, tail = paginator.feed(text[:end])
        handed_out += new
        assert len(tail) + reserve <= limit
        assert paginator.frozen == handed_out
    return paginator, handed_out


@pytest.mark.parametrize(
    ("seed", "limit", "reserve"), [(seed, 300, 2) for seed in range(6)] + [(6, 64, 2), (7, 90, 34)]
)
def test_frozen_pages_do_not_depend_on_how_the_text_arrived(seed: int, limit: int, reserve: int) -> None:
    text = markdown_sample(seed, blocks=25)
    rng = random.Random(seed)
    by_char, frozen_by_char = feed_in_chunks(text, [1] * len(text), limit, reserve)
    _, frozen_by_token = feed_in_chunks(text, [rng.randint(1, 12) for _ in range(len(text))], limit, reserve)
    _, frozen_at_once = feed_in_chunks(text, [len(text)], limit, reserve)
    assert frozen_by_char == frozen_by_token == frozen_at_once
    assert all(len(page) <= limit - reserve for page in frozen_by_char)
    rest = by_char.finish(text)
    assert all(len(page) <= limit for page in rest)
    pages = frozen_by_char + rest
    assert_pages_rebuild(pages, text)
    assert_fences_balanced(pages)
    assert not any(re.match(r"`{3,}\w*\n *`{3,}", page) for page in pages), "a page opens with an empty block"


def test_frozen_pages_never_change_as_the_text_grows() -> None:
    text = markdown_sample(3, blocks=30)
    previous: list[str] = []
    for end in range(0, len(text), 7):
        pages = paginate_stream(text[:end], limit=250)
        frozen = pages[:-1]
        assert frozen[: len(previous)] == previous
        assert all(len(page) <= 250 for page in pages)
        assert pages[-1].endswith("▌")
        previous = frozen


def test_a_page_freezes_only_once_the_text_runs_past_it() -> None:
    paginator = Paginator(limit=50, reserve=2)
    assert paginator.feed("a" * 48) == ([], "a" * 48)
    frozen, tail = paginator.feed("a" * 30 + " " + "b" * 17 + "c")
    assert frozen == ["a" * 30]
    assert tail == "b" * 17 + "c"


def test_the_tail_closes_an_open_block_and_holds_back_a_half_typed_fence() -> None:
    paginator = Paginator(limit=200, reserve=2)
    assert paginator.feed("Code:\n\n```py\nx = 1\n``")[1] == "Code:\n\n```py\nx = 1\n```"
    assert paginator.feed("Code:\n\n```py\nx = 1\n```\n\nDone")[1] == "Code:\n\n```py\nx = 1\n```\n\nDone"
    assert Paginator(limit=200).feed("Intro\n```pyth")[1] == "Intro"
    assert Paginator(limit=200).feed("Intro\n```python\n")[1] == "Intro"


def test_the_tail_in_a_reopened_block_never_exceeds_the_room() -> None:
    text = "```python\n" + "".join(f"value_{i} = {i}\n" for i in range(200))
    paginator = Paginator(limit=120, reserve=3)
    for end in range(len(text)):
        frozen, tail = paginator.feed(text[:end])
        assert all(len(page) <= 117 for page in frozen)
        assert len(tail) <= 117
        assert not tail or tail.endswith("```")


def test_finish_returns_every_page_not_handed_out_and_accepts_a_stripped_text() -> None:
    text = "\n\n  " + markdown_sample(5, blocks=20) + "\n\n"
    paginator = Paginator(limit=400, reserve=34)
    handed_out: list[str] = []
    for end in range(0, len(text) // 2, 50):
        handed_out += paginator.feed(text[:end])[0]
    pages = handed_out + paginator.finish(text.strip())
    assert paginator.frozen == pages
    assert all(len(page) <= 400 for page in pages)
    assert_pages_rebuild(pages, text)
    with pytest.raises(RuntimeError):
        paginator.feed(text)


def test_the_text_must_not_shrink() -> None:
    paginator = Paginator()
    paginator.feed("Hello world")
    with pytest.raises(ValueError):
        paginator.feed("Hello")


def test_render_pages_marks_frozen_pages_final_and_puts_the_cursor_last() -> None:
    pages = render_pages("word " * 100, limit=100)
    assert all(page.final for page in pages[:-1])
    assert pages[-1] == RenderedPage(pages[-1].text, final=False)
    assert pages[-1].text.endswith(" ▌")
    assert all(len(page.text) <= 100 for page in pages)
    assert paginate_stream("") == ["▌"]
