"""Every SQL statement on TIL posts, their search index, the guild's TIL settings and members' TIL choices.

Posts go in and out as `TilPost`, the guild's settings as `TilSettings` (plain dataclasses with no behaviour
beyond the fields, so storage may share them with the services instead of keeping twin row types). The search
index `til_search` (FTS5, trigram) is kept in step with `til_posts` by the migration's triggers: nothing here
writes to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.services.til.model import TilDraft, TilPost, TilSettings
from bot.storage.database import Database
from bot.storage.quiz import from_text, to_text

POST_COLUMNS = (
    "p.id, p.guild_id, p.author_id, p.title, p.learned, p.hard, p.curious, p.reflection, p.tags, p.local_date,"
    " p.created_at, p.updated_at, p.channel_id, p.message_id, p.thread_id, p.publish_error"
)
# Everything a member wrote, in the order the search index holds it: what a substring (LIKE) search looks at.
SEARCHED_TEXT = (
    "(p.title || char(10) || p.learned || char(10) || p.hard || char(10) || p.curious || char(10)"
    " || p.reflection || char(10) || p.tags)"
)
# bm25 weights per indexed column (title, learned, hard, curious, reflection, tags): a hit in the title or the
# tags says more about what the post is about than one somewhere in a long body.
BM25 = "bm25(til_search, 5.0, 1.0, 1.0, 1.0, 1.0, 3.0)"
TAG_SEPARATOR = ", "
LAST_CHARACTER = "\U0010ffff"


@dataclass(frozen=True)
class SearchQuery:
    """`match`: an FTS5 expression of quoted strings (None: nothing to look up in the index);
    `substrings`: LIKE patterns, escaped with a backslash, that every hit must contain as well."""

    match: str | None
    substrings: Sequence[str]


def _post(row: sqlite3.Row) -> TilPost:
    return TilPost(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        author_id=int(row["author_id"]),
        title=row["title"],
        learned=row["learned"],
        hard=row["hard"],
        curious=row["curious"],
        reflection=row["reflection"],
        tags=tuple(row["tags"].split(TAG_SEPARATOR)) if row["tags"] else (),
        local_date=date.fromisoformat(row["local_date"]),
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        thread_id=row["thread_id"],
        publish_error=row["publish_error"],
    )


def _draft_values(draft: TilDraft) -> tuple[str, str, str, str, str, str]:
    return (
        draft.title,
        draft.learned,
        draft.hard,
        draft.curious,
        draft.reflection,
        TAG_SEPARATOR.join(draft.tags),
    )


class TilRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- time zones ------------------------------------------------------------------------------------------

    async def user_timezone(self, user_id: int) -> str | None:
        value = await self._db.fetch_value("SELECT timezone FROM user_settings WHERE user_id = ?", (user_id,))
        return None if value is None else str(value)

    async def guild_timezone(self, guild_id: int) -> str | None:
        value = await self._db.fetch_value("SELECT timezone FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return None if value is None else str(value)

    async def user_timezones(self, user_ids: Iterable[int]) -> dict[int, str]:
        """The members among `user_ids` who chose a time zone, with their choice."""
        ids = list(user_ids)
        if not ids:
            return {}
        rows = await self._db.fetch_all(
            "SELECT user_id, timezone FROM user_settings WHERE timezone IS NOT NULL"
            " AND user_id IN (SELECT value FROM json_each(?))",
            (_json_ints(ids),),
        )
        return {int(row[0]): str(row[1]) for row in rows}

    async def set_user_timezone(self, user_id: int, timezone: str, at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO user_settings (user_id, timezone, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at",
            (user_id, timezone, to_text(at)),
        )

    # --- posts -----------------------------------------------------------------------------------------------

    async def insert_post(
        self, guild_id: int, author_id: int, draft: TilDraft, local_date: date, at: datetime
    ) -> TilPost:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO til_posts (guild_id, author_id, title, learned, hard, curious, reflection, tags,"
                " local_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (guild_id, author_id, *_draft_values(draft), local_date.isoformat(), to_text(at), to_text(at)),
            )
            post_id = cursor.lastrowid
            async with conn.execute(f"SELECT {POST_COLUMNS} FROM til_posts p WHERE p.id = ?", (post_id,)) as rows:
                row = await rows.fetchone()
        assert row is not None  # inserted just now, in the same transaction
        return _post(row)

    async def post(self, post_id: int) -> TilPost | None:
        row = await self._db.fetch_one(f"SELECT {POST_COLUMNS} FROM til_posts p WHERE p.id = ?", (post_id,))
        return None if row is None else _post(row)

    async def latest(self, guild_id: int, author_id: int) -> TilPost | None:
        row = await self._db.fetch_one(
            f"SELECT {POST_COLUMNS} FROM til_posts p WHERE p.guild_id = ? AND p.author_id = ?"
            " ORDER BY p.local_date DESC, p.id DESC LIMIT 1",
            (guild_id, author_id),
        )
        return None if row is None else _post(row)

    async def update_post(self, post_id: int, draft: TilDraft, at: datetime) -> None:
        await self._db.execute(
            "UPDATE til_posts SET title = ?, learned = ?, hard = ?, curious = ?, reflection = ?, tags = ?,"
            " updated_at = ? WHERE id = ?",
            (*_draft_values(draft), to_text(at), post_id),
        )

    async def delete_post(self, post_id: int) -> bool:
        return await self._db.execute("DELETE FROM til_posts WHERE id = ?", (post_id,)) > 0

    async def set_published(self, post_id: int, channel_id: int, message_id: int, thread_id: int | None) -> None:
        await self._db.execute(
            "UPDATE til_posts SET channel_id = ?, message_id = ?, thread_id = ?, publish_error = NULL WHERE id = ?",
            (channel_id, message_id, thread_id, post_id),
        )

    async def set_publish_error(self, post_id: int, reason: str) -> None:
        await self._db.execute("UPDATE til_posts SET publish_error = ? WHERE id = ?", (reason, post_id))

    async def count_posts(self, guild_id: int, author_id: int | None) -> int:
        value = await self._db.fetch_value(
            "SELECT COUNT(*) FROM til_posts WHERE guild_id = ? AND (? IS NULL OR author_id = ?)",
            (guild_id, author_id, author_id),
        )
        return int(value or 0)

    async def list_posts(self, guild_id: int, author_id: int | None, limit: int, offset: int) -> list[TilPost]:
        """Newest first."""
        if author_id is None:
            sql = (
                f"SELECT {POST_COLUMNS} FROM til_posts p WHERE p.guild_id = ?"
                " ORDER BY p.created_at DESC, p.id DESC LIMIT ? OFFSET ?"
            )
            params: tuple[int, ...] = (guild_id, limit, offset)
        else:
            sql = (
                f"SELECT {POST_COLUMNS} FROM til_posts p WHERE p.guild_id = ? AND p.author_id = ?"
                " ORDER BY p.local_date DESC, p.id DESC LIMIT ? OFFSET ?"
            )
            params = (guild_id, author_id, limit, offset)
        return [_post(row) for row in await self._db.fetch_all(sql, params)]

    async def published_posts_by(self, author_id: int) -> list[TilPost]:
        """The member's posts that have a message in a TIL channel, in every guild."""
        rows = await self._db.fetch_all(
            f"SELECT {POST_COLUMNS} FROM til_posts p WHERE p.author_id = ? AND p.message_id IS NOT NULL ORDER BY p.id",
            (author_id,),
        )
        return [_post(row) for row in rows]

    async def posts_between(self, guild_id: int, start: date, end: date) -> list[TilPost]:
        rows = await self._db.fetch_all(
            f"SELECT {POST_COLUMNS} FROM til_posts p WHERE p.guild_id = ? AND p.local_date BETWEEN ? AND ?"
            " ORDER BY p.local_date, p.id",
            (guild_id, start.isoformat(), end.isoformat()),
        )
        return [_post(row) for row in rows]

    # --- search ---------------------------------------------------------------------------------------------

    async def trigrams_starting(self, prefix: str, limit: int) -> list[str] | None:
        """The index's trigrams that begin with `prefix` (in lower case, as the index holds them); None when
        there are more than `limit` of them."""
        rows = await self._db.fetch_all(
            "SELECT term FROM til_search_vocab WHERE term >= ? AND term < ? LIMIT ?",
            (prefix, prefix + LAST_CHARACTER, limit + 1),
        )
        return None if len(rows) > limit else [str(row[0]) for row in rows]

    async def search_ids(self, guild_id: int, query: SearchQuery, limit: int) -> list[int]:
        """Up to `limit` matching posts, best first.

        With index terms, the guild's newest `limit` matches are taken and ordered by bm25 (ties: newest): the
        index is read newest first and stops there, so a word in half of all posts costs no more than a rare
        one. Without index terms, the newest posts containing the substrings.
        """
        likes = "".join(f" AND {SEARCHED_TEXT} LIKE ? ESCAPE '\\'" for _ in query.substrings)
        if query.match is None:
            rows = await self._db.fetch_all(
                f"SELECT p.id FROM til_posts p WHERE p.guild_id = ?{likes} ORDER BY p.created_at DESC, p.id DESC"
                " LIMIT ?",
                (guild_id, *query.substrings, limit),
            )
        else:
            # CROSS JOIN keeps the index as the outer loop: otherwise SQLite may walk the guild's posts and run
            # the full-text query once for each of them.
            rows = await self._db.fetch_all(
                f"SELECT id FROM (SELECT p.id AS id, {BM25} AS score FROM til_search"
                " CROSS JOIN til_posts p ON p.id = til_search.rowid"
                f" WHERE til_search MATCH ? AND p.guild_id = ?{likes} ORDER BY til_search.rowid DESC LIMIT ?)"
                " ORDER BY score, id DESC",
                (query.match, guild_id, *query.substrings, limit),
            )
        return [int(row[0]) for row in rows]

    async def posts(self, post_ids: Sequence[int]) -> list[TilPost]:
        """These posts, in this order (ids of deleted posts are skipped)."""
        if not post_ids:
            return []
        rows = await self._db.fetch_all(
            f"SELECT {POST_COLUMNS} FROM til_posts p WHERE p.id IN (SELECT value FROM json_each(?))",
            (_json_ints(post_ids),),
        )
        found = {post.id: post for post in map(_post, rows)}
        return [found[post_id] for post_id in post_ids if post_id in found]

    # --- days with posts -------------------------------------------------------------------------------------

    async def author_days(self, guild_id: int, author_id: int) -> list[date]:
        rows = await self._db.fetch_all(
            "SELECT DISTINCT local_date FROM til_posts WHERE guild_id = ? AND author_id = ?", (guild_id, author_id)
        )
        return [date.fromisoformat(row[0]) for row in rows]

    async def guild_days(self, guild_id: int) -> dict[int, set[date]]:
        """Every author of the guild, with the local days they posted on."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT author_id, local_date FROM til_posts WHERE guild_id = ?", (guild_id,)
        )
        days: dict[int, set[date]] = {}
        for row in rows:
            days.setdefault(int(row[0]), set()).add(date.fromisoformat(row[1]))
        return days

    async def posts_per_day(self, guild_id: int, author_id: int, start: date, end: date) -> dict[date, int]:
        rows = await self._db.fetch_all(
            "SELECT local_date, COUNT(*) FROM til_posts WHERE guild_id = ? AND author_id = ?"
            " AND local_date BETWEEN ? AND ? GROUP BY local_date",
            (guild_id, author_id, start.isoformat(), end.isoformat()),
        )
        return {date.fromisoformat(row[0]): int(row[1]) for row in rows}

    # --- guild settings and member choices -------------------------------------------------------------------

    async def settings(self, guild_id: int, timezone: str) -> TilSettings:
        """The guild's settings, read in `timezone` (the guild's, as the service resolves it); all off for a guild
        that chose nothing yet."""
        row = await self._db.fetch_one(
            "SELECT guild_id, channel_id, thread_per_member, reminder_time, reminder_role_id, reminder_channel_id,"
            " digest_weekday, digest_time, digest_channel_id FROM til_settings WHERE guild_id = ?",
            (guild_id,),
        )
        if row is None:
            return TilSettings(guild_id, None, False, None, None, None, None, None, None, timezone)
        return TilSettings(
            guild_id=int(row[0]),
            channel_id=row[1],
            thread_per_member=bool(row[2]),
            reminder_time=row[3],
            reminder_role_id=row[4],
            reminder_channel_id=row[5],
            digest_weekday=row[6],
            digest_time=row[7],
            digest_channel_id=row[8],
            timezone=timezone,
        )

    async def set_channel(self, guild_id: int, channel_id: int | None, thread_per_member: bool, at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO til_settings (guild_id, channel_id, thread_per_member, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,"
            " thread_per_member = excluded.thread_per_member, updated_at = excluded.updated_at",
            (guild_id, channel_id, int(thread_per_member), to_text(at)),
        )

    async def member_choice(self, guild_id: int, user_id: int, column: str) -> int | None:
        """One column of the member's row (None without a row): `quiz_opt_out`, `reminder_dm` or `thread_id`."""
        _check_member_column(column)
        value = await self._db.fetch_value(
            f"SELECT {column} FROM til_members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return None if value is None else int(value)

    async def set_member_choice(
        self, guild_id: int, user_id: int, column: str, value: int | None, at: datetime
    ) -> None:
        _check_member_column(column)
        await self._db.execute(
            f"INSERT INTO til_members (guild_id, user_id, {column}, updated_at) VALUES (?, ?, ?, ?)"
            f" ON CONFLICT (guild_id, user_id) DO UPDATE SET {column} = excluded.{column},"
            " updated_at = excluded.updated_at",
            (guild_id, user_id, value, to_text(at)),
        )


MEMBER_COLUMNS = frozenset({"quiz_opt_out", "reminder_dm", "thread_id"})


def _check_member_column(column: str) -> None:
    # The column name goes into the SQL text, so only the known ones may.
    if column not in MEMBER_COLUMNS:
        raise ValueError(f"not a til_members choice: {column!r}")


def _json_ints(values: Sequence[int]) -> str:
    return "[" + ",".join(str(int(value)) for value in values) + "]"
