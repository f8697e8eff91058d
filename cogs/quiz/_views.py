"""Quiz buttons and modals. Buttons are dynamic items whose custom ids carry the session and question,
so they keep working after a restart; the state lives in the database."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.bot import studybuddy_of
from bot.services.quiz.bank import Question, QuestionKind
from cogs.quiz._render import LETTERS

if TYPE_CHECKING:
    from cogs.quiz._cog import Quiz

ANSWER_MODAL_MAX = 200


def _quiz(interaction: discord.Interaction) -> Quiz:
    """The quiz cog: its handlers do the work, the items only route clicks to it."""
    cog = studybuddy_of(interaction).get_cog("Quiz")
    assert cog is not None
    return cast("Quiz", cog)


def question_digest(question_key: str) -> str:
    """A short stable id for a question in a custom id (bank and question ids may exceed Discord's 100 chars)."""
    return hashlib.sha1(question_key.encode()).hexdigest()[:12]


class ChoiceButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"quiz:(?P<s>\d+):(?P<p>\d+):(?P<c>\d)"):
    def __init__(self, session_id: int, position: int, choice: int, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=LETTERS[choice],
                style=discord.ButtonStyle.primary,
                custom_id=f"quiz:{session_id}:{position}:{choice}",
                disabled=disabled,
            )
        )
        self.session_id, self.position, self.choice = session_id, position, choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChoiceButton:
        return cls(int(match["s"]), int(match["p"]), int(match["c"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await _quiz(interaction).on_answer(interaction, self.session_id, self.position, choice=self.choice)


class FreeAnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"quiz:(?P<s>\d+):(?P<p>\d+):free"):
    def __init__(self, session_id: int, position: int, label: str = "Answer") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji="✍️",
                style=discord.ButtonStyle.primary,
                custom_id=f"quiz:{session_id}:{position}:free",
            )
        )
        self.session_id, self.position = session_id, position

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FreeAnswerButton:
        return cls(int(match["s"]), int(match["p"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await _quiz(interaction).on_free_answer_button(interaction, self.session_id, self.position)


class ExplainMoreButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"quiz:(?P<s>\d+):(?P<p>\d+):more"):
    def __init__(self, session_id: int, position: int, label: str = "Explain more") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji="💡",
                style=discord.ButtonStyle.secondary,
                custom_id=f"quiz:{session_id}:{position}:more",
            )
        )
        self.session_id, self.position = session_id, position

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ExplainMoreButton:
        return cls(int(match["s"]), int(match["p"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await _quiz(interaction).on_explain_more(interaction, self.session_id, self.position)


class NextButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"quiz:(?P<s>\d+):(?P<p>\d+):next"):
    """Solo quizzes go at the member's own pace: the next question comes when they ask for it."""

    def __init__(self, session_id: int, position: int, label: str = "Next") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji="➡️",
                style=discord.ButtonStyle.success,
                custom_id=f"quiz:{session_id}:{position}:next",
            )
        )
        self.session_id, self.position = session_id, position

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> NextButton:
        return cls(int(match["s"]), int(match["p"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await _quiz(interaction).on_solo_next(interaction, self.session_id, self.position)


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"quiz:review:(?P<q>[0-9a-f]{12}):(?P<c>\d|free|next)"
):
    """Answers a due review card (or asks for the next one); the card is found again by its digest."""

    def __init__(self, digest: str, action: str, label: str) -> None:
        style = discord.ButtonStyle.success if action == "next" else discord.ButtonStyle.primary
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"quiz:review:{digest}:{action}"))
        self.digest, self.action = digest, action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewButton:
        return cls(match["q"], match["c"], "")

    async def callback(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await _quiz(interaction).on_review(interaction, self.digest, self.action)


ModalSubmit = Callable[[discord.Interaction, str], Awaitable[None]]


class AnswerModal(discord.ui.Modal):
    """A free answer, typed: no message-content intent needed."""

    def __init__(self, title: str, label: str, on_submit: ModalSubmit) -> None:
        super().__init__(title=title[:45], timeout=900)
        self.answer: discord.ui.TextInput[AnswerModal] = discord.ui.TextInput(
            label=label[:45], max_length=ANSWER_MODAL_MAX, custom_id="answer"
        )
        self.add_item(self.answer)
        self._on_submit = on_submit

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await self._on_submit(interaction, self.answer.value)


def answer_view(session_id: int, position: int, question: Question, answer_label: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if question.kind is QuestionKind.FREE:
        view.add_item(FreeAnswerButton(session_id, position, answer_label))
    else:
        for choice in range(len(question.choices)):
            view.add_item(ChoiceButton(session_id, position, choice))
    return view


def after_reveal_view(session_id: int, position: int, more_label: str, next_label: str | None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ExplainMoreButton(session_id, position, more_label))
    if next_label is not None:
        view.add_item(NextButton(session_id, position, next_label))
    return view


def review_view(question: Question, answer_label: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    digest = question_digest(question.key)
    if question.kind is QuestionKind.FREE:
        view.add_item(ReviewButton(digest, "free", answer_label))
    else:
        for choice in range(len(question.choices)):
            view.add_item(ReviewButton(digest, str(choice), LETTERS[choice]))
    return view


def review_next_view(digest: str, next_label: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton(digest, "next", next_label))
    return view


class DraftsButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"quiz:drafts:(?P<action>approve|reject):(?P<ids>[\d,]+)"
):
    """Approves or rejects a batch of generated questions (moderators)."""

    def __init__(self, action: str, draft_ids: list[int], label: str) -> None:
        style = discord.ButtonStyle.success if action == "approve" else discord.ButtonStyle.danger
        custom_id = f"quiz:drafts:{action}:{','.join(map(str, draft_ids))}"
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))
        self.action, self.draft_ids = action, draft_ids

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DraftsButton:
        return cls(match["action"], [int(n) for n in match["ids"].split(",") if n], "")

    async def callback(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await _quiz(interaction).on_drafts(interaction, self.action, self.draft_ids)


def drafts_view(draft_ids: list[int], approve_label: str, reject_label: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(DraftsButton("approve", draft_ids, approve_label))
    view.add_item(DraftsButton("reject", draft_ids, reject_label))
    return view


DYNAMIC_ITEMS = (ChoiceButton, FreeAnswerButton, ExplainMoreButton, NextButton, ReviewButton, DraftsButton)
