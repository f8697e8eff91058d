"""TIL posts as files a member can keep or paste elsewhere: Markdown shaped like the group's daily post
(../shared/seed/til-example.txt), or JSON; and the way back (`parse_export`).

A Markdown file reads like the example: the title as a heading, a date and tags line, then one `##` section
per part of the TIL (empty optional parts left out). Invisible HTML comments make it machine-readable too:
`<!-- til {...} -->` before each post carries its exact title, date and tags as JSON, and `<!-- til:learned -->`
and friends open the sections. Only those comment lines delimit anything, so a member's own `## ` lines,
code blocks or Korean text inside a section come back unchanged. A line of member text that itself looks
like one of those comments is escaped with one more leading backslash (`\\<!-- til...`), which Markdown shows
as the text it is, and the reader takes off again.
"""

from __future__ import annotations

import functools
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from bot.errors import InvalidInput
from bot.i18n import Catalog, language_of_text
from bot.services.til.model import Section, TilDraft, TilPost

# Discord lets a bot attach 10 MiB to a message on a server without boosts.
MAX_EXPORT_BYTES = 10 * 1024 * 1024
# Reading back: a zip is inflated only this far, so a crafted archive cannot fill the memory.
MAX_ARCHIVE_ENTRIES = 5_000
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
MAX_SLUG_CHARS = 60

BODY_SECTIONS = (Section.LEARNED, Section.HARD, Section.CURIOUS, Section.REFLECTION)
_COMMENT = "<!-- til"
_POST_LINE = re.compile(r"^<!-- til (\{.*\}) -->$")
_SECTION_LINE = re.compile(r"^<!-- til:([a-z]+) -->$")
_SLUG_GAP = re.compile(r"[^\w]+|_+")


class ExportFormat(StrEnum):
    MARKDOWN = "markdown"
    JSON = "json"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    data: bytes


def post_markdown(post: TilPost, *, language: str | None = None) -> str:
    """One post as Markdown in the example's shape. Headings are in `language` ("ko" or "en"); without one,
    in Korean when the post has Hangul in it, as the member most likely wrote for Korean readers."""
    lang = language or language_of_text(f"{post.title}\n{post.learned}")
    text = functools.partial(bundled_catalog().text, lang)
    meta = {"title": post.title, "date": post.local_date.isoformat(), "tags": list(post.tags)}
    # ">" only ever occurs inside JSON strings, so writing it as \u003e keeps "-->" out of the comment.
    meta_json = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).replace(">", "\\u003e")
    info = f"**{text('til_export.date')}** {post.local_date.isoformat()}"
    if post.tags:
        info += f" · **{text('til_export.tags')}** {', '.join(post.tags)}"
    lines = [f"{_COMMENT} {meta_json} -->", f"# {' '.join(post.title.split())}", "", info, ""]
    for section in BODY_SECTIONS:
        content = getattr(post, section.value)
        if section is not Section.LEARNED and not content:
            continue
        lines += [f"{_COMMENT}:{section.value} -->", f"## {text(f'til_export.section.{section.value}')}", ""]
        lines += [_escape(line) for line in content.split("\n")]
        lines.append("")
    return "\n".join(lines)


def export_posts(posts: Sequence[TilPost], fmt: ExportFormat, *, language: str) -> ExportFile:
    """One post: a `.md` or `.json` file named after its date and title. Several: a `.zip` of `.md` files or
    one `.json` array, in the order given. Raises InvalidInput "til_export.no_posts" for none and
    "til_export.too_large" when the file would not fit in a Discord attachment."""
    if not posts:
        raise InvalidInput("til_export.no_posts")
    if fmt is ExportFormat.JSON:
        data = json.dumps([_post_json(post) for post in posts], ensure_ascii=False, indent=2).encode()
        name = post_filename(posts[0]) if len(posts) == 1 else _collection_name(posts)
        exported = ExportFile(f"{name}.json", data)
    elif len(posts) == 1:
        exported = ExportFile(f"{post_filename(posts[0])}.md", post_markdown(posts[0], language=language).encode())
    else:
        exported = ExportFile(f"{_collection_name(posts)}.zip", _zip_markdown(posts, language))
    _check_size(exported)
    return exported


def _check_size(exported: ExportFile) -> None:
    if len(exported.data) > MAX_EXPORT_BYTES:
        raise InvalidInput(
            "til_export.too_large",
            size_mib=f"{len(exported.data) / 1024 / 1024:.1f}",
            limit_mib=MAX_EXPORT_BYTES // 1024 // 1024,
        )


def parse_export(file: ExportFile) -> list[TilDraft]:
    """Reads back what `export_posts` wrote (`.md`, `.zip` of `.md`, `.json`), posts in the file's order.
    Raises InvalidInput "til_export.unreadable" for anything else."""
    name = file.filename.lower()
    try:
        if name.endswith(".json"):
            return [_draft_from_json(item) for item in _json_list(file.data)]
        if name.endswith(".md"):
            return _drafts_from_markdown(file.data.decode())
        if name.endswith(".zip"):
            return [draft for text in _zip_texts(file.data) for draft in _drafts_from_markdown(text)]
    except (ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:  # UnicodeDecodeError is a ValueError
        raise InvalidInput("til_export.unreadable") from error
    raise InvalidInput("til_export.unreadable")


def post_filename(post: TilPost) -> str:
    """`2024-07-12-aws-ec2-정리`: the date, then the title's letters and digits joined by dashes; no path
    separators, dots, spaces or characters a file system could refuse."""
    slug = _SLUG_GAP.sub("-", unicodedata.normalize("NFC", post.title).casefold()).strip("-")
    slug = slug[:MAX_SLUG_CHARS].rstrip("-") or "til"
    return f"{post.local_date.isoformat()}-{slug}"


# --- writing ---------------------------------------------------------------------------------------------------


def _escape(line: str) -> str:
    return "\\" + line if line.lstrip("\\").startswith(_COMMENT) else line


def _unescape(line: str) -> str:
    return line[1:] if line.startswith("\\") and line.lstrip("\\").startswith(_COMMENT) else line


def _post_json(post: TilPost) -> dict[str, Any]:
    # Discord ids go out as strings: JSON readers such as JavaScript lose digits of integers past 2**53.
    return {
        "id": post.id,
        "guild_id": str(post.guild_id),
        "author_id": str(post.author_id),
        "date": post.local_date.isoformat(),
        "title": post.title,
        "tags": list(post.tags),
        "learned": post.learned,
        "hard": post.hard,
        "curious": post.curious,
        "reflection": post.reflection,
        "created_at": post.created_at.isoformat(),
        "updated_at": post.updated_at.isoformat(),
    }


def _zip_markdown(posts: Sequence[TilPost], language: str) -> bytes:
    buffer = io.BytesIO()
    taken: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for post in posts:
            base = post_filename(post)
            name, n = f"{base}.md", 1
            while name in taken:
                n += 1
                name = f"{base}-{n}.md"
            taken.add(name)
            # The entry's time is the post's own, so the same posts always give the same archive.
            stamp = post.created_at.timetuple()[:6]
            entry = zipfile.ZipInfo(name, date_time=(max(stamp[0], 1980), *stamp[1:]))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, post_markdown(post, language=language))
    return buffer.getvalue()


def _collection_name(posts: Sequence[TilPost]) -> str:
    days = sorted(post.local_date for post in posts)
    return f"til-{days[0].isoformat()}-to-{days[-1].isoformat()}"


# --- reading ---------------------------------------------------------------------------------------------------


def _drafts_from_markdown(text: str) -> list[TilDraft]:
    drafts: list[TilDraft] = []
    meta: dict[str, Any] | None = None
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        post_match, section_match = _POST_LINE.match(line), _SECTION_LINE.match(line)
        if post_match:
            if meta is not None:
                drafts.append(_draft_from_sections(meta, sections))
            meta, sections, current = json.loads(post_match[1]), {}, None
        elif section_match:
            if meta is None or section_match[1] not in {s.value for s in BODY_SECTIONS}:
                raise ValueError(f"unexpected section marker {line!r}")
            current = sections[section_match[1]] = []
        elif current is not None:
            current.append(line)
    if meta is None:
        raise ValueError("no TIL in this Markdown")
    drafts.append(_draft_from_sections(meta, sections))
    return drafts


def _draft_from_sections(meta: dict[str, Any], sections: dict[str, list[str]]) -> TilDraft:
    texts: dict[str, str] = {}
    for name, block in sections.items():
        # A section is written as: "## heading", "", the content's lines, "".
        if len(block) < 3 or not block[0].startswith("## ") or block[1] or block[-1]:
            raise ValueError(f"section {name!r} is not in the exported shape")
        texts[name] = "\n".join(_unescape(line) for line in block[2:-1])
    date.fromisoformat(meta["date"])  # a date that does not parse marks a damaged file
    return _draft(meta["title"], meta["tags"], texts)


def _draft_from_json(item: Any) -> TilDraft:
    if not isinstance(item, dict):
        raise TypeError("a TIL must be a JSON object")
    return _draft(item["title"], item.get("tags", []), {s.value: item.get(s.value, "") for s in BODY_SECTIONS})


def _draft(title: Any, tags: Any, texts: dict[str, Any]) -> TilDraft:
    values = {s.value: texts.get(s.value, "") for s in BODY_SECTIONS}
    if not isinstance(title, str) or not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise TypeError("title and tags must be text")
    if not all(isinstance(value, str) for value in values.values()):
        raise TypeError("sections must be text")
    return TilDraft(title=title, tags=tuple(tags), **values)


def _json_list(data: bytes) -> list[Any]:
    loaded = json.loads(data)
    if not isinstance(loaded, list):
        raise TypeError("a TIL export in JSON is an array")
    return loaded


def _zip_texts(data: bytes) -> Iterator[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = [entry for entry in archive.infolist() if entry.filename.lower().endswith(".md")]
        if len(entries) > MAX_ARCHIVE_ENTRIES or sum(entry.file_size for entry in entries) > MAX_ARCHIVE_BYTES:
            raise ValueError("archive too large to read")
        if not entries:
            raise ValueError("no Markdown in the archive")
        for entry in entries:
            yield archive.read(entry).decode()


@functools.cache
def bundled_catalog() -> Catalog:
    """The package's message catalog, for the words inside files and pictures (headings, labels); it is
    read-only package data, so one load serves every export and heatmap."""
    return Catalog.load()
