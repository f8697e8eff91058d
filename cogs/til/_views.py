"""The TIL form and the page buttons of lists and search results.

Page buttons are dynamic items: the custom id carries what to show (list or search, the page, the author or the
query), so paging keeps working after a restart with nothing kept in memory.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.bot import studybuddy_of
from bot.services.til.model import Section, TilDraft, form_limit

if TYPE_CHECKING:
    from cogs.til._cog import Til

CUSTOM_ID_LIMIT = 100
PAGE_PREFIX = "til:p"
# "til:p:s:999999:" leaves the rest of Discord's 100 characters to the query.
SEARCH_QUERY_LIMIT = CUSTOM_ID_LIMIT - len(f"{PAGE_PREFIX}:s:999999:")
MODAL_TIMEOUT_S = 30 * 60  # a TIL takes a while to write


def _til(interaction: discord.Interaction) -> Til:
    cog = studybuddy_of(interaction).get_cog("Til")
    assert cog is not None
    return cast("Til", cog)


FormSubmit = Callable[[discord.Interaction, dict[Section, str]], Awaitable[None]]


class TilModal(discord.ui.Modal):
    """The example post's sections; tags come from the command's option (a modal holds five fields only)."""

    def __init__(
        self,
        title: str,
        labels: dict[Section, str],
        placeholder_title: str,
        draft: TilDraft | None,
        submit: FormSubmit,
        placeholder_learned: str | None = None,
    ) -> None:
        super().__init__(title=title[:45], timeout=MODAL_TIMEOUT_S)
        self._submit = submit
        self.fields: dict[Section, discord.ui.TextInput[TilModal]] = {}
        placeholders = {Section.TITLE: placeholder_title, Section.LEARNED: placeholder_learned}
        for section in Section:
            single_line = section is Section.TITLE
            placeholder = placeholders.get(section)
            text_input: discord.ui.TextInput[TilModal] = discord.ui.TextInput(
                label=labels[section][:45],
                custom_id=section.value,
                style=discord.TextStyle.short if single_line else discord.TextStyle.paragraph,
                required=section is Section.LEARNED,
                max_length=form_limit(section),
                placeholder=placeholder[:100] if placeholder else None,
                default=getattr(draft, section.value) or None if draft else None,
            )
            self.fields[section] = text_input
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await self._submit(interaction, {section: field.value for section, field in self.fields.items()})


class RetryView(discord.ui.View):
    """Under a refused form: reopens it. Kept in memory only, like the form itself (an ephemeral message, its
    member's alone)."""

    def __init__(self, label: str, reopen: Callable[[discord.Interaction], Awaitable[object]]) -> None:
        super().__init__(timeout=MODAL_TIMEOUT_S)
        self._reopen = reopen
        button: discord.ui.Button[RetryView] = discord.ui.Button(
            label=label, emoji="✏️", style=discord.ButtonStyle.primary
        )
        button.callback = self._clicked  # type: ignore[method-assign]
        self.add_item(button)

    async def _clicked(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await self._reopen(interaction)


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"(?s)til:p:(?P<kind>[ls]):(?P<page>\d{1,6}):(?P<arg>.*)",
):
    """Shows page `page` of a list (`arg`: the author's id, or empty for everyone) or a search (`arg`: the query)."""

    def __init__(self, kind: str, page: int, arg: str, *, label: str = "", emoji: str = "", disabled: bool = False):
        super().__init__(
            discord.ui.Button(
                label=label or None,
                emoji=emoji or None,
                style=discord.ButtonStyle.secondary,
                custom_id=f"{PAGE_PREFIX}:{kind}:{page}:{arg}"[:CUSTOM_ID_LIMIT],
                disabled=disabled,
            )
        )
        self.kind, self.page, self.arg = kind, page, arg

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        return cls(match["kind"], int(match["page"]), match["arg"])

    async def callback(self, interaction: discord.Interaction) -> None:
        async with studybuddy_of(interaction).answering_errors(interaction):
            await _til(interaction).on_page(interaction, self.kind, self.page, self.arg)


def pages_view(kind: str, arg: str, page: int, pages: int, previous: str, following: str) -> discord.ui.View | None:
    """Previous/Next, or nothing when everything fits on one page."""
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(kind, page - 1, arg, label=previous, emoji="◀️", disabled=page <= 1))
    view.add_item(PageButton(kind, page + 1, arg, label=following, emoji="▶️", disabled=page >= pages))
    return view


DYNAMIC_ITEMS = (PageButton,)
