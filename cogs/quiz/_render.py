"""Quiz messages as Discord shows them: question embeds, reveals, scoreboards and stats."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import discord

from bot.services.quiz.bank import Question, QuestionKind

LETTERS = "ABCDE"
QUESTION_COLOUR = discord.Colour.blurple()
REVEAL_COLOUR = discord.Colour.green()
EMBED_DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024

Text = Callable[..., str]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def question_embed(
    text: Text, question: Question, *, position: int, count: int, closes_at_unix: int | None
) -> discord.Embed:
    """The question, its choices lettered A-E, and a timer Discord counts down by itself (<t:…:R>)."""
    lines = [question.text, ""]
    if question.kind is not QuestionKind.FREE:
        lines += [f"**{LETTERS[index]}.** {choice}" for index, choice in enumerate(question.choices)]
    else:
        lines.append(text("quiz.free_answer_hint"))
    embed = discord.Embed(
        title=text("quiz.question_title", position=position + 1, count=count, topic=question.topic),
        description=_clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT),
        colour=QUESTION_COLOUR,
    )
    if closes_at_unix is not None:
        embed.add_field(name=text("quiz.time_left"), value=f"<t:{closes_at_unix}:R>", inline=False)
    return embed


def correct_label(question: Question) -> str:
    if question.kind is QuestionKind.FREE or question.answer_index is None:
        return question.correct_answer
    return f"{LETTERS[question.answer_index]}. {question.correct_answer}"


def reveal_embed(
    text: Text,
    question: Question,
    *,
    position: int,
    count: int,
    correct_user_ids: Sequence[int],
    answered: int,
) -> discord.Embed:
    embed = question_embed(text, question, position=position, count=count, closes_at_unix=None)
    embed.colour = REVEAL_COLOUR
    embed.add_field(name=text("quiz.answer"), value=_clip(correct_label(question), FIELD_LIMIT), inline=False)
    embed.add_field(name=text("quiz.why"), value=_clip(question.explanation, FIELD_LIMIT), inline=False)
    winners = " ".join(f"<@{user_id}>" for user_id in correct_user_ids) or text("quiz.nobody_right")
    embed.add_field(
        name=text("quiz.who_got_it", right=len(correct_user_ids), answered=answered),
        value=_clip(winners, FIELD_LIMIT),
        inline=False,
    )
    return embed


MEDALS = ("🥇", "🥈", "🥉")


def rank_labels(scores: Sequence[int]) -> list[str]:
    """Labels for scores sorted best first: equal scores share a rank (1, 1, 3), and a medal goes only to a rank
    within the top three with a score above zero."""
    labels: list[str] = []
    rank = 0
    for index, score in enumerate(scores):
        if index == 0 or score != scores[index - 1]:
            rank = index
        labels.append(MEDALS[rank] if rank < len(MEDALS) and score > 0 else f"{rank + 1}.")
    return labels


def scoreboard_embed(text: Text, topic: str, rows: Sequence[tuple[int, int, int]], *, stopped: bool) -> discord.Embed:
    """rows: (user id, correct, answered), best first."""
    shown = rows[:25]
    labels = rank_labels([correct for _, correct, _ in shown])
    lines = [
        f"{label} <@{user_id}> — {correct}/{answered}"
        for label, (user_id, correct, answered) in zip(labels, shown, strict=True)
    ]
    return discord.Embed(
        title=text("quiz.stopped_title" if stopped else "quiz.finished_title", topic=topic),
        description="\n".join(lines) or text("quiz.nobody_played"),
        colour=REVEAL_COLOUR,
    )


def percent(value: float) -> str:
    return f"{round(value * 100)}%"
