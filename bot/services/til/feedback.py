"""`/til feedback`: a short, kind review of a member's TIL (`prompts/til_feedback.*.md`), streamed like `/explain`.

The review is an ordinary explain-style generation: the same admission gate, budgets and usage metering
(`ExplainService.admit` and `ExplainService.metered`), so the cog renders it with the streaming reply engine
exactly as it renders an explanation.
"""

from __future__ import annotations

from bot.llm.chains import ChainFactory
from bot.services.admission import Ticket
from bot.services.explain import ExplainService, Generation
from bot.services.til.model import TilPost

# What the prompt shows for a section the member left empty (the prompt says so).
EMPTY = "-"
# A TIL may hold 20,000 characters of what-I-learned (model.LIMITS); the review answers what was hard, so the
# prompt keeps the first part of a long post and stays within the explain budgets.
MAX_LEARNED_CHARS = 8000


class TilFeedbackService:
    def __init__(self, explain: ExplainService, chains: ChainFactory) -> None:
        self._explain = explain
        self._chains = chains

    async def admit(self, user_id: int, guild_id: int | None) -> Ticket:
        """Budgets, cooldown and a turn at the model, as for an explanation (raises TryLater or NotConfigured)."""
        return await self._explain.admit(user_id, guild_id)

    def feedback(self, ticket: Ticket, post: TilPost, language: str) -> Generation:
        """The review of `post` as a stream of text chunks; `settle()` it when the stream ends to record usage."""
        inputs = {
            "title": post.title,
            "date": post.local_date.isoformat(),
            "tags": ", ".join(post.tags) or EMPTY,
            "learned": post.learned[:MAX_LEARNED_CHARS],
            "hard": post.hard or EMPTY,
            "curious": post.curious or EMPTY,
            "reflection": post.reflection or EMPTY,
        }
        return self._explain.metered(ticket, post.guild_id, self._chains.til_feedback(language), inputs)
