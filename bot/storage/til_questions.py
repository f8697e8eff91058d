"""Every SQL statement on quiz questions generated from TIL posts (`til_questions`), and the reads of `til_posts`
and `til_members` that choosing posts for questions needs.

An author's opt-out is checked in every statement here, not only remembered: posts of an author who opted out are
never sent to the model, a question is not stored for them even if they opted out while the model was writing it,
and their unused questions are never handed out (the migration's triggers delete those too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.storage.database import Database
from bot.storage.quiz import to_text

# The author has not opted out of TIL quizzes in the post's guild (no member row means they have not).
_AUTHOR_IN = (
    "NOT EXISTS (SELECT 1 FROM til_members m"
    " WHERE m.guild_id = p.guild_id AND m.user_id = p.author_id AND m.quiz_opt_out = 1)"
)


@dataclass(frozen=True)
class QuizSourcePost:
    """What of a TIL post goes into the question prompt."""

    id: int
    guild_id: int
    title: str
    learned: str
    hard: str
    tags: str


@dataclass(frozen=True)
class NewTilQuestion:
    guild_id: int
    post_id: int
    language: str
    payload: str


@dataclass(frozen=True)
class TilQuestionRow:
    id: int
    guild_id: int
    post_id: int
    language: str
    payload: str


class TilQuestionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def posts_without_questions(
        self, guild_id: int, since: date, language: str, limit: int
    ) -> list[QuizSourcePost]:
        """The guild's posts of local days since `since` that have no question in `language` yet, newest first,
        leaving out authors who opted out."""
        rows = await self._db.fetch_all(
            "SELECT p.id, p.guild_id, p.title, p.learned, p.hard, p.tags FROM til_posts p"
            f" WHERE p.guild_id = ? AND p.local_date >= ? AND {_AUTHOR_IN}"
            " AND NOT EXISTS (SELECT 1 FROM til_questions q WHERE q.post_id = p.id AND q.language = ?)"
            " ORDER BY p.local_date DESC, p.id DESC LIMIT ?",
            (guild_id, since.isoformat(), language, limit),
        )
        return [QuizSourcePost(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    async def guilds_with_posts_without_questions(self, since: date) -> list[int]:
        """Guilds with a post since `since` that has no question in any language yet (opted-out authors aside)."""
        rows = await self._db.fetch_all(
            f"SELECT DISTINCT p.guild_id FROM til_posts p WHERE p.local_date >= ? AND {_AUTHOR_IN}"
            " AND NOT EXISTS (SELECT 1 FROM til_questions q WHERE q.post_id = p.id) ORDER BY p.guild_id",
            (since.isoformat(),),
        )
        return [int(row[0]) for row in rows]

    async def insert(self, questions: Sequence[NewTilQuestion], now: datetime) -> int:
        """Stores questions in one transaction; returns how many were stored. A question whose post was deleted,
        or whose author opted out, while the model was writing it is not stored, nor one for a post that got a
        question meanwhile (another process wrote it)."""
        stored = 0
        async with self._db.transaction() as conn:
            for question in questions:
                cursor = await conn.execute(
                    "INSERT OR IGNORE INTO til_questions (guild_id, post_id, language, payload, created_at)"
                    " SELECT p.guild_id, p.id, ?, ?, ? FROM til_posts p"
                    f" WHERE p.id = ? AND p.guild_id = ? AND {_AUTHOR_IN}",
                    (question.language, question.payload, to_text(now), question.post_id, question.guild_id),
                )
                stored += cursor.rowcount
        return stored

    async def unused(self, guild_id: int, language: str, since: date, limit: int) -> list[TilQuestionRow]:
        """Questions not asked yet from the guild's posts of local days since `since`, oldest post first (the
        group is quizzed in the order its members learned things)."""
        rows = await self._db.fetch_all(
            "SELECT q.id, q.guild_id, q.post_id, q.language, q.payload FROM til_questions q"
            " JOIN til_posts p ON p.id = q.post_id"
            f" WHERE q.guild_id = ? AND q.language = ? AND q.used_at IS NULL AND p.local_date >= ? AND {_AUTHOR_IN}"
            " ORDER BY p.local_date, p.id, q.id LIMIT ?",
            (guild_id, language, since.isoformat(), limit),
        )
        return [TilQuestionRow(int(r[0]), int(r[1]), int(r[2]), r[3], r[4]) for r in rows]

    async def get(self, guild_id: int, question_id: int) -> TilQuestionRow | None:
        """A question by id, asked or not (a review card may refer to it long after)."""
        row = await self._db.fetch_one(
            "SELECT id, guild_id, post_id, language, payload FROM til_questions WHERE id = ? AND guild_id = ?",
            (question_id, guild_id),
        )
        return None if row is None else TilQuestionRow(int(row[0]), int(row[1]), int(row[2]), row[3], row[4])

    async def mark_used(self, guild_id: int, question_id: int, now: datetime) -> bool:
        changed = await self._db.execute(
            "UPDATE til_questions SET used_at = ? WHERE id = ? AND guild_id = ? AND used_at IS NULL",
            (to_text(now), question_id, guild_id),
        )
        return changed > 0
