"""Text shaping for streamed replies: hide model reasoning and cut Markdown into Discord-sized pages.

Pure functions and one small state machine; no Discord, no clock. Lengths are Python `len()` (code points),
which is how Discord counts its 2000-character content limit (discord/discord-api-docs#1315).

Pages are cut at the best boundary the page leaves room for: a paragraph break, then a line break, then a
sentence end, then a space; each only if it keeps the page at least half full, otherwise the last boundary of
any kind. A word is cut only when a page's room holds no whitespace at all. A ``` code block that spans a cut
is closed at the end of one page and reopened, with the same info string, at the start of the next, so each
page renders on its own. Inline pairs (`code`, **bold**) that span a cut are not repaired: a cut prefers line
and paragraph breaks, which they rarely cross.

Fences follow a line rule close to CommonMark: a line starting with three or more backticks (at most three
spaces of indent) opens a block unless more backticks follow on it (then it is inline code); a line of at
least as many backticks and nothing else closes it. `~~~` fences are not treated as fences, since Discord
does not render them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DISCORD_MESSAGE_LIMIT = 2000

_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"

# Below this, a reopened fence plus its closer could eat most of a page. (Pages of a few dozen characters
# still work, but a code block may then show up empty on one of them.)
_MIN_PAGE_ROOM = 16

_FENCE_LINE = re.compile(r" {0,3}(`{3,})(.*)")
# A sentence end is punctuation then a space; a digit before it is more likely a list number ("2. ") or a
# version than the end of a sentence, so it does not count. Korean "다. " and "요. " are covered by the rule.
_SENTENCE_END = re.compile(r"(?<=[^\d\s][.!?])[ \t]")
# Full-width sentence ends need no space after them.
_CJK_SENTENCE_END = re.compile("[\u3002\uff01\uff1f]")
# The known start of a line that may turn out to close a block.
_MAYBE_CLOSING_LINE = re.compile(r" {0,3}(?:`+[ \t]*)?")
_UNKNOWN = -1
# An incomplete last line that may become a fence line once its newline arrives.
_PARTIAL_FENCE_LINE = re.compile(r" {0,3}`+[^`\s]*")


def strip_reasoning(text: str, *, final: bool = False) -> str:
    """The visible part of a (possibly partial) model answer, without `<think>…</think>` blocks.

    Reasoning models (DeepSeek-R1, Qwen via Ollama) emit their reasoning inline. An unclosed `<think>` hides
    everything after it. Unless `final`, a trailing partial tag (`"<thi"`, `"</th"`) is held back, so the
    user never sees it flash by. Whitespace right after a removed block is dropped. A stray `</think>` (some
    chat templates put the opening tag into the prompt) is removed on its own: dropping the text before it
    would take back text already shown.

    For a growing input the output only grows: each result is a prefix of the next one, which is what
    `Paginator` needs.
    """
    visible: list[str] = []
    after_block = False
    pos = 0
    while pos != -1:
        opening = text.find(_THINK_OPEN, pos)
        closing = text.find(_THINK_CLOSE, pos)
        if closing != -1 and (opening == -1 or closing < opening):
            segment, next_pos, hides = text[pos:closing], closing + len(_THINK_CLOSE), False
        elif opening != -1:
            end = text.find(_THINK_CLOSE, opening + len(_THINK_OPEN))
            segment, next_pos, hides = text[pos:opening], -1 if end == -1 else end + len(_THINK_CLOSE), True
        else:
            held = 0 if final else _partial_tag_length(text, pos)
            segment, next_pos, hides = text[pos : len(text) - held], -1, False
        if after_block:
            segment = segment.lstrip()
        visible.append(segment)
        after_block = hides or (after_block and not segment)
        pos = next_pos
    return "".join(visible)


def _partial_tag_length(text: str, start: int) -> int:
    """How many trailing characters (at or after `start`) could be the start of a think tag."""
    for length in range(min(len(_THINK_CLOSE) - 1, len(text) - start), 0, -1):
        tail = text[-length:]
        if _THINK_OPEN.startswith(tail) or _THINK_CLOSE.startswith(tail):
            return length
    return 0


@dataclass(frozen=True)
class _Fence:
    run: str
    info: str

    def opener(self, room: int) -> str:
        """The line that reopens this block on a new page; the info string goes if it would crowd the page."""
        full = f"{self.run}{self.info}\n"
        if len(full) + len(self.run) + 1 <= room // 2:
            return full
        bare = f"{self.run}\n"
        return bare if len(bare) + len(self.run) + 1 <= room // 2 else ""

    def closer(self, room: int) -> str:
        return f"\n{self.run}" if self.opener(room) else ""


def _next_fence(fence: _Fence | None, line: str) -> _Fence | None:
    match = _FENCE_LINE.fullmatch(line)
    if match is None:
        return fence
    run, rest = match.group(1), match.group(2)
    if fence is None:
        return fence if "`" in rest else _Fence(run, rest.strip())
    return None if len(run) >= len(fence.run) and not rest.strip() else fence


def _is_opening_fence_line(line: str) -> bool:
    match = _FENCE_LINE.fullmatch(line)
    return match is not None and "`" not in match.group(2)


def _fence_after(text: str, start: int, end: int, fence: _Fence | None) -> _Fence | None:
    """The open fence at `end`, given the one open at `start`."""
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip():
        # The line began on an earlier page and was already accounted for there.
        newline = text.find("\n", start, end)
        if newline == -1:
            return fence
        line_start = newline + 1
    while line_start < end:
        newline = text.find("\n", line_start, end)
        line_end = end if newline == -1 else newline
        fence = _next_fence(fence, text[line_start:line_end])
        line_start = line_end + 1
    return fence


def _first_content(text: str, pos: int, end: int) -> int:
    """The first non-whitespace position in `text[pos:end]`, or `end`."""
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def _skip_break(text: str, pos: int, room: int) -> int:
    """Where a page's content starts after a cut at `pos`: past the whitespace, keeping a line's indentation
    unless it would crowd the page.

    Returns `len(text)` while the whitespace runs to the end, since more of it may still arrive.
    """
    end = _first_content(text, pos, len(text))
    if end == len(text):
        return end
    line_start = text.rfind("\n", pos, end) + 1
    return line_start if line_start and end - line_start <= room // 4 else end


@dataclass(frozen=True)
class _Cut:
    page: str
    end: int
    fence: _Fence | None


def _cut(text: str, start: int, fence: _Fence | None, room: int, *, complete: bool) -> _Cut:
    """The next page from `start` (as given by `_skip_break`), at most `room` long.

    Unless `complete`, the caller guarantees the text holds more than the page's room, and the result
    depends only on `text[: start + room + 1]`, so a page cut from a stream never changes as it grows.
    """
    opener = fence.opener(room) if fence else ""
    space = room - len(opener)
    if complete and len(text) - start <= space:
        end_fence = _fence_after(text, start, len(text), fence)
        page = opener + text[start:].rstrip() + (end_fence.closer(room) if end_fence else "")
        if len(page) <= room:
            return _Cut(page, len(text), end_fence)
    known_end = min(len(text), start + space + 1)
    window = text[start:known_end]
    min_space = len(window) - len(window.lstrip()) + 1
    # Every pass either returns or shrinks `space`, never below one character of content.
    while True:
        end = _find_break(text, start, space, fence)
        end_fence = _fence_after(text, start, end, fence)
        if end_fence is not None:
            closing_end = _closing_line_end(text, end, end_fence, known_end, complete=complete)
            body_length = len(text[start:end].rstrip())
            if closing_end == _UNKNOWN and body_length > min_space:
                # The next page could open with an empty block; cut before this line's end instead.
                space = body_length - 1
                continue
            if closing_end is not None and closing_end != _UNKNOWN:
                end, end_fence = closing_end, None
        page = opener + text[start:end].rstrip() + (end_fence.closer(room) if end_fence else "")
        if len(page) <= room:
            return _Cut(page, end, end_fence)
        if space == min_space:
            break
        space = max(min_space, space - (len(page) - room))
    # Only a closing line taken onto a page of one character can get here; a closer is shorter.
    end = start + min_space
    end_fence = _fence_after(text, start, end, fence)
    return _Cut(opener + text[start:end] + (end_fence.closer(room) if end_fence else ""), end, end_fence)


def _find_break(text: str, start: int, space: int, fence: _Fence | None) -> int:
    """The cut position for a page body starting at `start` that may hold `space` characters."""
    limit = start + space
    window = text[start : limit + 1]
    content = start + len(window) - len(window.lstrip())
    floor = start + space // 2
    tiers = [
        [start + m.start() for m in re.finditer(r"(?=\n\n)", window)],
        [start + m.start() for m in re.finditer(r"\n", window)],
        [start + m.start() for m in _SENTENCE_END.finditer(window)]
        + [start + m.end() for m in _CJK_SENTENCE_END.finditer(window) if start + m.end() <= limit],
        [start + m.start() for m in re.finditer(r"\s", window)],
    ]
    first_line_end = text.find("\n", content, limit)
    if fence is None and first_line_end != -1 and _is_opening_fence_line(text[content:first_line_end]):
        # A page holding only a fence line would show an empty block: take some of the block along.
        after_fence = _first_content(text, first_line_end, limit)
        if after_fence < limit:
            content = after_fence
    candidates = [[pos for pos in tier if content < pos <= limit] for tier in tiers]
    best = next((max(tier) for tier in candidates if tier and max(tier) > floor), None)
    if best is None:
        best = max((max(tier) for tier in candidates if tier), default=None)
    if best is None:
        return _hard_break(text, content, limit)
    return _before_opening_fence(text, start, content, best, fence)


def _hard_break(text: str, content: int, limit: int) -> int:
    # Keep a combining mark, variation selector or joined emoji with the character it belongs to.
    pos = min(limit, len(text))
    while content + 1 < pos < len(text) and (
        unicodedata.combining(text[pos]) or text[pos] in "\u200d\ufe0e\ufe0f" or text[pos - 1] == "\u200d"
    ):
        pos -= 1
    return pos


def _before_opening_fence(text: str, start: int, content: int, end: int, fence: _Fence | None) -> int:
    """Move a cut inside or right after an opening fence line to before that line: a fence line is never
    split, and a page should not end on an empty code block."""
    body_end = start + len(text[start:end].rstrip())
    line_start = text.rfind("\n", start, body_end) + 1 or start
    if line_start <= content or _fence_after(text, start, line_start, fence) is not None:
        return end
    if not _is_opening_fence_line(text[line_start:body_end]):
        return end
    # At the newline, so the next page keeps the fence line's indentation.
    return line_start - 1


def _closing_line_end(text: str, end: int, fence: _Fence, known_end: int, *, complete: bool) -> int | None:
    """Where the block's own closing line ends when it is the next line after a cut at `end`, so the page
    can take it instead of an added closer; None if another line comes next; `_UNKNOWN` if the next line
    is not known in full yet."""
    known_to_the_end = complete and known_end == len(text)
    content = _first_content(text, end, known_end)
    if content == known_end and not known_to_the_end:
        return _UNKNOWN
    line_start = text.rfind("\n", end, content) + 1
    if not line_start:
        return None
    newline = text.find("\n", content, known_end)
    if newline == -1 and not known_to_the_end:
        maybe_closing = _MAYBE_CLOSING_LINE.fullmatch(text, line_start, known_end)
        return _UNKNOWN if maybe_closing else None
    line_end = len(text) if newline == -1 else newline
    return line_end if _next_fence(fence, text[line_start:line_end]) is None else None


@dataclass(frozen=True)
class RenderedPage:
    """One Discord message of a reply: `final` pages never change again."""

    text: str
    final: bool


class Paginator:
    """Cuts a growing reply into pages, freezing each page for good once it is full.

    Feed it the whole text so far; it must only grow, though whitespace at either end may come and go. A
    page is frozen only when the text runs past the page's room, so the cut point is certain; frozen pages
    are the same however the text was chunked. Every page, the tail included, leaves `reserve` characters
    free for a suffix such as a cursor, except the pages `finish` cuts from the last tail, which may use the
    full limit.
    """

    def __init__(self, limit: int = DISCORD_MESSAGE_LIMIT, reserve: int = 0) -> None:
        if reserve < 0 or limit - reserve < _MIN_PAGE_ROOM:
            raise ValueError(f"limit - reserve must be at least {_MIN_PAGE_ROOM}, got {limit} - {reserve}")
        self.limit = limit
        self.reserve = reserve
        self._frozen: list[str] = []
        self._handed_out = 0
        self._offset = 0
        self._fence: _Fence | None = None
        self._seen = 0
        self._finished = False

    @property
    def frozen(self) -> list[str]:
        """Every page frozen so far, in order."""
        return list(self._frozen)

    def feed(self, text: str) -> tuple[list[str], str]:
        """(pages frozen since the last call, the current tail) for the full text so far.

        The tail has any open code block closed and a trailing half-typed fence line held back; it is at
        most `limit - reserve` long and may be empty.
        """
        text = self._advance(text)
        return self._take_new_pages(), self._render_tail(text)

    def finish(self, text: str) -> list[str]:
        """Every page not handed out by `feed` yet, for the complete text: newly frozen ones, then the tail
        cut to the full limit. No cursor room is kept."""
        text = self._advance(text)
        start, fence = _skip_break(text, self._offset, self.limit), self._fence
        while start < len(text):
            cut = _cut(text, start, fence, self.limit, complete=True)
            self._frozen.append(cut.page)
            start, fence = _skip_break(text, cut.end, self.limit), cut.fence
        self._finished = True
        return self._take_new_pages()

    def _advance(self, text: str) -> str:
        """Freezes the pages the text has filled; returns the text in the paginator's coordinates."""
        if self._finished:
            raise RuntimeError("Paginator.finish() was already called")
        # Whitespace around the text is never shown, so a stripped final text lines up with the streamed one.
        text = text.lstrip()
        if len(text.rstrip()) < self._seen:
            raise ValueError("the text must only grow")
        self._seen = len(text.rstrip())
        room = self.limit - self.reserve
        while True:
            start = _skip_break(text, self._offset, room)
            opener = self._fence.opener(room) if self._fence else ""
            if len(text) - start <= room - len(opener):
                return text
            cut = _cut(text, start, self._fence, room, complete=False)
            self._frozen.append(cut.page)
            self._offset, self._fence = cut.end, cut.fence

    def _take_new_pages(self) -> list[str]:
        pages = self._frozen[self._handed_out :]
        self._handed_out = len(self._frozen)
        return pages

    def _render_tail(self, text: str) -> str:
        room = self.limit - self.reserve
        start = _skip_break(text, self._offset, room)
        if start == len(text):
            return ""
        at_line_start = not text[text.rfind("\n", 0, start) + 1 : start].strip()
        # Hold back a last line that may still become a fence line, and an opening fence line with nothing
        # in its block yet: either would flash a broken or empty block.
        end = len(text)
        last_line = text.rfind("\n", start) + 1 or start
        if (last_line > start or at_line_start) and _PARTIAL_FENCE_LINE.fullmatch(text, last_line):
            end = last_line
        body = text[start:end].rstrip()
        opener = self._fence.opener(room) if self._fence else ""
        while True:
            last_line = body.rfind("\n") + 1
            if (
                (last_line or at_line_start)
                and _is_opening_fence_line(body[last_line:])
                and _fence_after(text, start, start + last_line, self._fence) is None
            ):
                body = body[:last_line].rstrip()
            if not body:
                return ""
            end_fence = _fence_after(text, start, start + len(body), self._fence)
            closer = end_fence.closer(room) if end_fence else ""
            # Only an added closer can overflow, and only inside a code block, so a few hidden characters
            # show up on the next edit without breaking the rendering.
            overflow = len(opener) + len(body) + len(closer) - room
            if overflow <= 0:
                return opener + body + closer
            body = body[: len(body) - overflow].rstrip()


def split_message(text: str, limit: int = DISCORD_MESSAGE_LIMIT) -> list[str]:
    """Split complete Markdown into pages of at most `limit` characters that each render on their own;
    no pages for blank text."""
    return Paginator(limit).finish(text)


def render_pages(text: str, *, limit: int = DISCORD_MESSAGE_LIMIT, cursor: str = " ▌") -> list[RenderedPage]:
    """The pages of a reply in progress as they should be shown now; only the last one has the cursor.

    Stateless and stable: for a longer text extending the same prefix, the final pages stay the same.
    """
    paginator = Paginator(limit, reserve=len(cursor))
    frozen, tail = paginator.feed(text)
    last = tail + cursor if tail else cursor.strip() or cursor
    return [RenderedPage(page, final=True) for page in frozen] + [RenderedPage(last, final=False)]


def paginate_stream(text: str, *, limit: int = DISCORD_MESSAGE_LIMIT, cursor: str = " ▌") -> list[str]:
    """`render_pages` as plain strings: all but the last page are frozen, the last one carries the cursor."""
    return [page.text for page in render_pages(text, limit=limit, cursor=cursor)]
