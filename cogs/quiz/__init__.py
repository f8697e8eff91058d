"""Quizzes: /quiz start, solo, stop, review, stats, leaderboard, generate, and the server's banks."""

from bot.bot import StudyBuddy
from cogs.quiz._cog import Quiz
from cogs.quiz._views import DYNAMIC_ITEMS


async def setup(bot: StudyBuddy) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Quiz(bot))
