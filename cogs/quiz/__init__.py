"""Quizzes: /quiz start, solo, stop, review, stats, leaderboard, generate, the server's banks, and /daily."""

from bot.bot import StudyBuddy
from cogs.quiz._cog import Quiz
from cogs.quiz._daily import Daily
from cogs.quiz._views import DYNAMIC_ITEMS


async def setup(bot: StudyBuddy) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Quiz(bot))
    await bot.add_cog(Daily(bot))
