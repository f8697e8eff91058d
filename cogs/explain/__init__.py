"""Explanations: /explain, DM conversations and the "Explain this message" context menu."""

from bot.bot import StudyBuddy
from cogs.explain._cog import Explain
from cogs.explain._views import ResetConversationButton, StopButton


async def setup(bot: StudyBuddy) -> None:
    bot.add_dynamic_items(StopButton, ResetConversationButton)
    await bot.add_cog(Explain(bot))
