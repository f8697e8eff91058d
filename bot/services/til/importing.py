"""A TIL from a file (`/til post file:`, `/til edit file:`): for posts longer than a form field holds.

Two shapes are read:

- the group's daily post as members write it (../shared/seed/til-example.txt), plain text or Markdown: the
  first line is the title ("Today I Learned (2024-07-12)", "# TIL 2024-07-12"), then the sections under their
  headings, 오늘 공부한 내용 / 어려웠던 내용 / 궁금한 내용과 부족한 내용 / 느낀 점 or What I learned / What was hard /
  Curious / lacking / Reflection, with or without "## ". A heading is a line that is nothing but one of those
  names (case, spaces, "#", emoji and punctuation aside), so a line of notes that merely mentions one stays
  notes. A "목차" (table of contents) line is dropped; a section named twice (a table of contents that lists
  the headings) collects what follows each. Text before the first heading belongs to what I learned, and
  whatever follows the last section (a blog's footer) stays in it: nothing a member wrote is lost.
- the bot's own Markdown export (`export.parse_export`), so a downloaded TIL can be changed and sent back.

Code fences are not tracked: a blog copy often leaves one open (as the example does), which would otherwise
swallow every heading after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from bot.errors import InvalidInput
from bot.services.til.export import ExportFile, parse_export
from bot.services.til.model import LIMITS, Section, TilDraft, clean_draft

# A TIL at every limit is ~100 KB of UTF-8 in Korean; a file four times that leaves room for Markdown and
# spacing, and anything larger cannot hold one TIL (so it is refused before it is downloaded).
MAX_FILE_BYTES = 512 * 1024
FILE_SUFFIXES = (".md", ".txt")

_EXPORT_LINE = re.compile(r"^<!-- til \{", re.MULTILINE)
_NOT_NAME = re.compile(r"[\W_]+")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
# Names are compared without case, spaces or punctuation: "## 느낀 점:", "느낀점" and "💬 느낀 점" are one heading.
HEADINGS: dict[Section, tuple[str, ...]] = {
    Section.LEARNED: (
        "오늘 공부한 내용",
        "공부한 내용",
        "오늘 배운 내용",
        "배운 내용",
        "오늘 배운 것",
        "배운 것",
        "What I learned",
        "What I learned today",
    ),
    Section.HARD: (
        "어려웠던 내용",
        "어려웠던 점",
        "어려웠던 것",
        "What was hard",
        "What was difficult",
        "Difficulties",
    ),
    Section.CURIOUS: (
        "궁금한 내용과 부족한 내용",
        "궁금한 내용",
        "궁금한 점",
        "부족한 내용",
        "부족한 점",
        "궁금한 것 / 부족한 것",
        "Curious / lacking",
        "Curious about / lacking",
        "What I'm curious about / lacking",
        "What I'm curious about",
        "Curious",
    ),
    Section.REFLECTION: ("느낀 점", "소감", "회고", "Reflection", "Reflections", "How I feel"),
}
_TABLE_OF_CONTENTS = ("목차", "Table of contents", "Contents")


def _key(line: str) -> str:
    return _NOT_NAME.sub("", line).casefold()


_SECTION_OF = {_key(name): section for section, names in HEADINGS.items() for name in names}
_CONTENTS = {_key(name) for name in _TABLE_OF_CONTENTS}


def heading(line: str) -> Section | None:
    """The section a line opens, if the line is nothing but a section's name."""
    return _SECTION_OF.get(_key(line)) if len(line) <= 80 else None


def parse_text_post(text: str) -> TilDraft:
    """The sections of a post written like the example (see the module's docstring), as the file has them:
    not yet cleaned or checked (`clean_draft` does that), the title empty when the file has none."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    title = ""
    first = _MARKDOWN_HEADING.sub("", lines[0].strip()).strip() if lines else ""
    # A first line that is a heading, a table of contents or a paragraph is no title: the TIL gets the default.
    if first and heading(first) is None and _key(first) not in _CONTENTS and len(first) <= LIMITS[Section.TITLE]:
        title = first
        lines.pop(0)
    sections: dict[Section, list[str]] = {section: [] for section in HEADINGS}
    current = Section.LEARNED
    seen_heading = False
    for line in lines:
        opened = heading(line)
        if opened is not None:
            current, seen_heading = opened, True
            sections[current].append("")  # a section named twice: its parts stay apart
        elif not seen_heading and _key(line) in _CONTENTS:
            continue
        else:
            sections[current].append(line)
    texts = {section: "\n".join(block).strip("\n") for section, block in sections.items()}
    return TilDraft(
        title=title,
        learned=texts[Section.LEARNED],
        hard=texts[Section.HARD],
        curious=texts[Section.CURIOUS],
        reflection=texts[Section.REFLECTION],
    )


def check_file(filename: str, size: int) -> None:
    """What can be told before downloading: the kind of file (by its name) and its size."""
    if not filename.lower().endswith(FILE_SUFFIXES):
        raise InvalidInput("til.file_type", filename=filename[:100])
    if size > MAX_FILE_BYTES:
        raise InvalidInput("til.file_too_large", size_kb=_kb(size), limit_kb=_kb(MAX_FILE_BYTES))


def parse_file(filename: str, data: bytes) -> TilDraft:
    """One TIL from a `.md` or `.txt` file, uncleaned: our export (with its tags) or a post like the example.

    Raises InvalidInput "til.file_type", "til.file_too_large", "til.file_binary", "til.file_not_utf8",
    "til.file_many_posts" or "til_export.unreadable" (an export that was damaged)."""
    check_file(filename, len(data))
    if b"\x00" in data:
        raise InvalidInput("til.file_binary", filename=filename[:100])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("til.file_not_utf8", filename=filename[:100]) from error
    if _EXPORT_LINE.search(text):
        drafts = parse_export(ExportFile("exported-til.md", text.encode()))
        if len(drafts) != 1:
            raise InvalidInput("til.file_many_posts", count=len(drafts))
        return drafts[0]
    return parse_text_post(text)


def draft_from_file(
    filename: str, data: bytes, *, tags: str | None, day: date, keep_tags: Sequence[str] = ()
) -> TilDraft:
    """A file's TIL, cleaned and checked like a form's (`clean_draft`). Tags: the command's option when given,
    else the file's own (an export carries them), else `keep_tags` (an edited post's)."""
    raw = parse_file(filename, data)
    chosen = tags if tags is not None else " ".join(raw.tags or keep_tags)
    return clean_draft(
        title=raw.title,
        learned=raw.learned,
        hard=raw.hard,
        curious=raw.curious,
        reflection=raw.reflection,
        tags=chosen,
        day=day,
    )


def _kb(size: int) -> str:
    return f"{size / 1024:,.0f}"
