"""Every SQL statement that finds or erases what the bot stores about one member, across all tables.

Two kinds of rows mention a member. Rows *about* them (`PERSONAL`: their settings, TILs, answers, review
cards, usage, DM history, TIL preferences) are exported and deleted. Rows a guild keeps that merely name
them (`ATTRIBUTED`: the bank they imported, the quiz they started, the questions they asked the LLM for)
are exported too, and on deletion keep their content while the member's id becomes `DELETED_MEMBER`.

A migration that adds a column holding a user id must add it here as well; tests/unit/test_mydata.py
checks the schema against these two lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.database import Database

# Stands in for a member who asked to be forgotten, where a guild's own record needs some id.
DELETED_MEMBER = 0


@dataclass(frozen=True)
class UserColumn:
    table: str
    column: str


PERSONAL = (
    UserColumn("user_settings", "user_id"),
    UserColumn("til_posts", "author_id"),
    UserColumn("til_members", "user_id"),
    UserColumn("quiz_answers", "user_id"),
    UserColumn("review_cards", "user_id"),
    UserColumn("llm_usage", "user_id"),
    UserColumn("dm_messages", "user_id"),
)
ATTRIBUTED = (
    UserColumn("quiz_sessions", "starter_id"),
    UserColumn("quiz_sessions", "stopped_by"),
    UserColumn("guild_banks", "imported_by"),
    UserColumn("generated_drafts", "requested_by"),
    UserColumn("daily_schedules", "configured_by"),
)


class MyDataRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def rows_of(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every row about the member (by table), then every guild record naming them (by "table.column"),
        and the quiz questions made from their TILs ("til_questions"); read in one transaction, so the
        parts agree with each other."""
        found: dict[str, list[dict[str, Any]]] = {}
        async with self._db.transaction() as conn:
            for personal in PERSONAL:
                found[personal.table] = await _select(
                    conn, f"SELECT * FROM {personal.table} WHERE {personal.column} = ? ORDER BY rowid", (user_id,)
                )
            found["til_questions"] = await _select(
                conn,
                "SELECT q.* FROM til_questions AS q JOIN til_posts AS p ON p.id = q.post_id"
                " WHERE p.author_id = ? ORDER BY q.id",
                (user_id,),
            )
            for attributed in ATTRIBUTED:
                found[f"{attributed.table}.{attributed.column}"] = await _select(
                    conn,
                    f"SELECT * FROM {attributed.table} WHERE {attributed.column} = ? ORDER BY rowid",
                    (user_id,),
                )
        return found

    async def delete(self, user_id: int) -> dict[str, int]:
        """Erases the member in one transaction: "table" -> rows deleted, "table.column" -> guild records
        whose mention of them became `DELETED_MEMBER`. Deleting TILs takes their search index entries (the
        til_posts triggers) and the quiz questions made from them along."""
        counts: dict[str, int] = {}
        async with self._db.transaction() as conn:
            counts["til_questions"] = await _change(
                conn,
                "DELETE FROM til_questions WHERE post_id IN (SELECT id FROM til_posts WHERE author_id = ?)",
                (user_id,),
            )
            # The guild's token budget counts what the member used: their usage joins the deleted-members
            # row instead of vanishing, or deleting one's data would reset the guild's budget for the day.
            await conn.execute(
                "INSERT INTO llm_usage (day, guild_id, user_id, requests, input_tokens, output_tokens)"
                " SELECT day, guild_id, ?, requests, input_tokens, output_tokens FROM llm_usage WHERE user_id = ?"
                " ON CONFLICT (day, guild_id, user_id) DO UPDATE SET requests = requests + excluded.requests,"
                " input_tokens = input_tokens + excluded.input_tokens,"
                " output_tokens = output_tokens + excluded.output_tokens",
                (DELETED_MEMBER, user_id),
            )
            for personal in PERSONAL:
                counts[personal.table] = await _change(
                    conn, f"DELETE FROM {personal.table} WHERE {personal.column} = ?", (user_id,)
                )
            # A finished solo quiz is the member's alone; once their answers are gone nothing else refers
            # to it. A running one is left to end as usual (its timers hold its id).
            counts["quiz_sessions"] = await _change(
                conn,
                "DELETE FROM quiz_sessions WHERE starter_id = ? AND solo = 1 AND status != 'running'"
                " AND NOT EXISTS (SELECT 1 FROM quiz_answers WHERE session_id = quiz_sessions.id)"
                " AND NOT EXISTS (SELECT 1 FROM daily_posts WHERE session_id = quiz_sessions.id)",
                (user_id,),
            )
            for attributed in ATTRIBUTED:
                counts[f"{attributed.table}.{attributed.column}"] = await _change(
                    conn,
                    f"UPDATE {attributed.table} SET {attributed.column} = ? WHERE {attributed.column} = ?",
                    (DELETED_MEMBER, user_id),
                )
        return counts


async def _select(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    async with conn.execute(sql, params) as cursor:
        return [dict(row) for row in await cursor.fetchall()]


async def _change(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> int:
    cursor = await conn.execute(sql, params)
    return int(cursor.rowcount)
