"""TIL: /til post, the home channel (text, forum or a thread per member), lists, search, streaks, export,
feedback, reminders and the weekly digest."""

from bot.bot import StudyBuddy
from cogs.til._cog import Til
from cogs.til._views import DYNAMIC_ITEMS


async def setup(bot: StudyBuddy) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Til(bot))
