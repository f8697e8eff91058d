"""Judging free answers: forgiving about spacing, case, punctuation and small typos, strict about numbers.

`normalize` turns an answer into a comparison key:

1. NFKC, so full-width letters and digits (typed in a Korean IME) are plain ASCII and compatibility
   characters fold to their plain forms;
2. casefold;
3. punctuation and symbols (Unicode categories P* and S*) become spaces, except a decimal point or
   fraction slash between digits and a minus sign before a number, which change a number's meaning;
4. a leading English article (a, an, the) is dropped when other words follow;
5. all spaces are removed: Korean answers are written with or without spaces ("오토 스케일링" and
   "오토스케일링" are the same answer), and "EC 2" is "EC2".

If nothing is left (an answer such as "%" or ";"), the casefolded text without spaces is the key, so
symbol answers still compare.

`judge` accepts an exact key match with the canonical answer or an alias. Otherwise it allows a typo
when the `difflib.SequenceMatcher` ratio reaches a threshold that grows more lenient with the
answer's length, because one wrong letter in "EBS" is another service while one in "CloudWatch" is a typo:

=================  ==========
answer key length  ratio
=================  ==========
1 to 3             exact only
4 to 6             0.85
7 to 12            0.80
13 and more        0.75
=================  ==========

Hangul is compared as jamo (NFD), so "오토스캐일링" for "오토스케일링" is one letter off, not a whole
syllable. Two guards keep fuzzy matching honest: the numbers in both must be identical ("S3" is never
"S4", "1종 오류" never "2종 오류"), and a guess that differs only by letters added or dropped at the
front is refused, because that is where negations live ("supervised"/"unsupervised", "지도"/"비지도").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

ARTICLES = frozenset({"a", "an", "the"})
THRESHOLDS = ((3, None), (6, 0.85), (12, 0.80))
LONG_ANSWER_THRESHOLD = 0.75
DIGITS = re.compile(r"\d+")
# Kept between digits: "3.14" is not "314", and "1/2" is not "12".
NUMBER_PUNCTUATION = frozenset("./")
MINUS_SIGNS = frozenset("-\u2212")


@dataclass(frozen=True)
class Judgement:
    correct: bool
    matched: str | None
    """The canonical answer or alias that was accepted, as written in the bank."""
    similarity: float
    """The best ratio against any accepted answer, 1.0 for an exact match; lets a quiz say "close!"."""


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = _without_punctuation(folded).split()
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    key = "".join(words)
    return key or "".join(folded.split())


def judge(given: str, answers: Sequence[str]) -> Judgement:
    guess = normalize(given)
    if not guess:
        return Judgement(correct=False, matched=None, similarity=0.0)
    keys = [(answer, normalize(answer)) for answer in answers]
    for answer, key in keys:
        if guess == key:
            return Judgement(correct=True, matched=answer, similarity=1.0)

    closest = 0.0
    accepted: list[tuple[float, str]] = []
    for answer, key in keys:
        ratio = SequenceMatcher(None, _letters(guess), _letters(key), autojunk=False).ratio()
        closest = max(closest, ratio)
        threshold = _threshold(len(key))
        if threshold is not None and ratio >= threshold and _typo_not_meaning(guess, key):
            accepted.append((ratio, answer))
    if accepted:
        ratio, answer = max(accepted, key=lambda pair: pair[0])
        return Judgement(correct=True, matched=answer, similarity=round(ratio, 3))
    return Judgement(correct=False, matched=None, similarity=round(closest, 3))


def _without_punctuation(text: str) -> str:
    kept: list[str] = []
    for index, char in enumerate(text):
        if unicodedata.category(char)[0] not in "PS":
            kept.append(char)
            continue
        before = text[index - 1] if index > 0 else ""
        after = text[index + 1] if index + 1 < len(text) else ""
        if char in NUMBER_PUNCTUATION and before.isdigit() and after.isdigit():
            kept.append(char)
        elif char in MINUS_SIGNS and after.isdigit() and not before.isalnum():
            kept.append("-")
        else:
            kept.append(" ")
    return "".join(kept)


def _letters(key: str) -> str:
    return unicodedata.normalize("NFD", key)


def _threshold(length: int) -> float | None:
    for longest, threshold in THRESHOLDS:
        if length <= longest:
            return threshold
    return LONG_ANSWER_THRESHOLD


def _typo_not_meaning(guess: str, key: str) -> bool:
    if DIGITS.findall(guess) != DIGITS.findall(key):
        return False
    shorter, longer = sorted((guess, key), key=len)
    return not longer.endswith(shorter)
