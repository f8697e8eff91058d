"""Every SQL statement of the daily quiz: schedules, claimed posts, send leases, and the daily answer history.

The claim is the heart of it: `DailyTransaction.claim_scheduled` inserts the day's post under a unique
index and moves the schedule to its next time in the same transaction, so two processes (or one that
restarted half-way) cannot both claim a day. Sending is a separate, short lease (`lease_post`), so a post
whose sender died is finished by whoever comes next instead of being lost.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime

from bot.storage.database import Database
from bot.storage.quiz import QuizTransaction, from_text, to_text


@dataclass(frozen=True)
class ScheduleRow:
    guild_id: int
    channel_id: int
    local_time: str
    timezone: str
    topics: list[str]
    language: str
    reveal_minutes: int
    no_repeat_days: int
    alert_channel_id: int | None
    configured_by: int
    status: str
    paused_reason: str | None
    next_due_at: datetime


@dataclass(frozen=True)
class PostRow:
    id: int
    guild_id: int
    channel_id: int
    kind: str
    local_date: date
    due_at: datetime
    session_id: int | None
    status: str
    late: bool
    attempts: int
    message_id: int | None
    failure: str | None


@dataclass(frozen=True)
class DueReveal:
    session_id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    closes_at: datetime


SCHEDULE_COLUMNS = (
    "guild_id, channel_id, local_time, timezone, topics_json, language, reveal_minutes, no_repeat_days,"
    " alert_channel_id, configured_by, status, paused_reason, next_due_at"
)
POST_COLUMNS = (
    "id, guild_id, channel_id, kind, local_date, due_at, session_id, status, late, attempts, message_id, failure"
)


def _schedule(row: sqlite3.Row) -> ScheduleRow:
    return ScheduleRow(
        guild_id=int(row["guild_id"]),
        channel_id=int(row["channel_id"]),
        local_time=row["local_time"],
        timezone=row["timezone"],
        topics=list(json.loads(row["topics_json"])),
        language=row["language"],
        reveal_minutes=int(row["reveal_minutes"]),
        no_repeat_days=int(row["no_repeat_days"]),
        alert_channel_id=row["alert_channel_id"],
        configured_by=int(row["configured_by"]),
        status=row["status"],
        paused_reason=row["paused_reason"],
        next_due_at=from_text(row["next_due_at"]),
    )


def _post(row: sqlite3.Row) -> PostRow:
    return PostRow(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        channel_id=int(row["channel_id"]),
        kind=row["kind"],
        local_date=date.fromisoformat(row["local_date"]),
        due_at=from_text(row["due_at"]),
        session_id=row["session_id"],
        status=row["status"],
        late=bool(row["late"]),
        attempts=int(row["attempts"]),
        message_id=row["message_id"],
        failure=row["failure"],
    )


class DailyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[DailyTransaction]:
        async with self._db.transaction() as conn:
            yield DailyTransaction(conn)

    async def schedule(self, guild_id: int) -> ScheduleRow | None:
        row = await self._db.fetch_one(
            f"SELECT {SCHEDULE_COLUMNS} FROM daily_schedules WHERE guild_id = ?", (guild_id,)
        )
        return None if row is None else _schedule(row)

    async def save_schedule(self, schedule: ScheduleRow, at: datetime) -> None:
        """Creates or replaces a guild's schedule (active, with its next time); its post history stays."""
        await self._db.execute(
            f"INSERT INTO daily_schedules ({SCHEDULE_COLUMNS}, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id, local_time = excluded.local_time,"
            " timezone = excluded.timezone, topics_json = excluded.topics_json, language = excluded.language,"
            " reveal_minutes = excluded.reveal_minutes, no_repeat_days = excluded.no_repeat_days,"
            " alert_channel_id = excluded.alert_channel_id, configured_by = excluded.configured_by,"
            " status = excluded.status, paused_reason = excluded.paused_reason, next_due_at = excluded.next_due_at,"
            " updated_at = excluded.updated_at",
            (
                schedule.guild_id,
                schedule.channel_id,
                schedule.local_time,
                schedule.timezone,
                json.dumps(schedule.topics),
                schedule.language,
                schedule.reveal_minutes,
                schedule.no_repeat_days,
                schedule.alert_channel_id,
                schedule.configured_by,
                schedule.status,
                schedule.paused_reason,
                to_text(schedule.next_due_at),
                to_text(at),
            ),
        )

    async def set_status(
        self, guild_id: int, status: str, reason: str | None, at: datetime, *, next_due_at: datetime | None = None
    ) -> bool:
        """Pauses or resumes; False when the guild has no schedule or it already was in that state for that reason."""
        changed = await self._db.execute(
            "UPDATE daily_schedules SET status = ?, paused_reason = ?, next_due_at = COALESCE(?, next_due_at),"
            " updated_at = ? WHERE guild_id = ? AND NOT (status = ? AND paused_reason IS ?)",
            (
                status,
                reason,
                None if next_due_at is None else to_text(next_due_at),
                to_text(at),
                guild_id,
                status,
                reason,
            ),
        )
        return changed > 0

    async def due_guilds(self, now: datetime, limit: int) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT guild_id FROM daily_schedules WHERE status = 'active' AND next_due_at <= ? ORDER BY next_due_at"
            " LIMIT ?",
            (to_text(now), limit),
        )
        return [int(row[0]) for row in rows]

    async def sendable_posts(self, now: datetime, limit: int) -> list[int]:
        """Pending posts whose next attempt has come and that nobody is sending now."""
        rows = await self._db.fetch_all(
            "SELECT id FROM daily_posts WHERE status = 'pending' AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?",
            (to_text(now), to_text(now), limit),
        )
        return [int(row[0]) for row in rows]

    async def due_reveals(self, now: datetime, limit: int) -> list[DueReveal]:
        rows = await self._db.fetch_all(
            "SELECT s.id, s.guild_id, s.channel_id, q.message_id, q.closes_at FROM quiz_sessions s"
            " JOIN quiz_session_questions q ON q.session_id = s.id AND q.position = 0"
            " WHERE s.daily = 1 AND s.status = 'running' AND q.closes_at <= ? ORDER BY q.closes_at LIMIT ?",
            (to_text(now), limit),
        )
        return [DueReveal(int(row[0]), int(row[1]), int(row[2]), row[3], from_text(row[4])) for row in rows]

    async def next_wake(self) -> datetime | None:
        """The earliest moment anything is due: a schedule, a post's next attempt or lease end, a reveal."""
        value = await self._db.fetch_value(
            "SELECT MIN(t) FROM ("
            " SELECT MIN(next_due_at) AS t FROM daily_schedules WHERE status = 'active'"
            " UNION ALL SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, next_attempt_at))) FROM daily_posts"
            "  WHERE status = 'pending'"
            " UNION ALL SELECT MIN(q.closes_at) FROM quiz_sessions s JOIN quiz_session_questions q"
            "  ON q.session_id = s.id AND q.position = 0 WHERE s.daily = 1 AND s.status = 'running')"
        )
        return None if value is None else from_text(str(value))

    async def post(self, post_id: int) -> PostRow | None:
        row = await self._db.fetch_one(f"SELECT {POST_COLUMNS} FROM daily_posts WHERE id = ?", (post_id,))
        return None if row is None else _post(row)

    async def post_of_session(self, session_id: int) -> PostRow | None:
        row = await self._db.fetch_one(f"SELECT {POST_COLUMNS} FROM daily_posts WHERE session_id = ?", (session_id,))
        return None if row is None else _post(row)

    async def daily_question_history(self, guild_id: int, since: datetime) -> list[tuple[str, datetime]]:
        """(question key, when asked) of the guild's daily questions since `since`, most recent first."""
        rows = await self._db.fetch_all(
            "SELECT q.question_key, s.created_at FROM quiz_sessions s"
            " JOIN quiz_session_questions q ON q.session_id = s.id"
            " WHERE s.guild_id = ? AND s.daily = 1 AND s.created_at >= ? ORDER BY s.created_at DESC",
            (guild_id, to_text(since)),
        )
        return [(row[0], from_text(row[1])) for row in rows]

    async def has_scheduled_post(self, guild_id: int, local_date: date) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM daily_posts WHERE guild_id = ? AND local_date = ? AND kind = 'scheduled'"
            " AND status IN ('pending', 'posted')",
            (guild_id, local_date.isoformat()),
        )
        return row is not None

    async def posted_days(self, guild_id: int, limit: int) -> list[tuple[date, int]]:
        """(local date, session id) of the guild's scheduled posts that went out, newest first."""
        rows = await self._db.fetch_all(
            "SELECT local_date, session_id FROM daily_posts WHERE guild_id = ? AND kind = 'scheduled'"
            " AND status = 'posted' ORDER BY local_date DESC LIMIT ?",
            (guild_id, limit),
        )
        return [(date.fromisoformat(row[0]), int(row[1])) for row in rows]

    async def answerers(self, session_ids: list[int]) -> dict[int, set[int]]:
        """Who answered each of these sessions."""
        if not session_ids:
            return {}
        marks = ", ".join("?" * len(session_ids))
        rows = await self._db.fetch_all(
            f"SELECT DISTINCT session_id, user_id FROM quiz_answers WHERE session_id IN ({marks})", tuple(session_ids)
        )
        found: dict[int, set[int]] = {session_id: set() for session_id in session_ids}
        for row in rows:
            found[int(row[0])].add(int(row[1]))
        return found


class DailyTransaction(QuizTransaction):
    """The quiz transaction plus the daily tables: a claim writes the post and its quiz session together."""

    async def schedule(self, guild_id: int) -> ScheduleRow | None:
        row = await self._one(f"SELECT {SCHEDULE_COLUMNS} FROM daily_schedules WHERE guild_id = ?", (guild_id,))
        return None if row is None else _schedule(row)

    async def move_schedule(self, guild_id: int, expected_due: datetime, next_due: datetime) -> bool:
        """Moves the schedule from the time this process saw to its next one; False if someone else moved it."""
        changed = await self._change(
            "UPDATE daily_schedules SET next_due_at = ? WHERE guild_id = ? AND next_due_at = ? AND status = 'active'",
            (to_text(next_due), guild_id, to_text(expected_due)),
        )
        return changed > 0

    async def insert_post(
        self,
        *,
        guild_id: int,
        channel_id: int,
        kind: str,
        local_date: date,
        due_at: datetime,
        now: datetime,
        session_id: int | None,
        status: str,
        late: bool = False,
    ) -> int | None:
        """The new post's id, or None when this guild's day was already claimed (scheduled posts only)."""
        cursor = await self._conn.execute(
            "INSERT INTO daily_posts (guild_id, channel_id, kind, local_date, due_at, claimed_at, session_id, status,"
            " late, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                guild_id,
                channel_id,
                kind,
                local_date.isoformat(),
                to_text(due_at),
                to_text(now),
                session_id,
                status,
                int(late),
                to_text(now),
            ),
        )
        return cursor.lastrowid if cursor.rowcount == 1 else None

    async def set_post_session(self, post_id: int, session_id: int) -> None:
        await self._change("UPDATE daily_posts SET session_id = ? WHERE id = ?", (session_id, post_id))

    async def lease_post(self, post_id: int, now: datetime, until: datetime) -> PostRow | None:
        """Takes the right to send a pending post until `until`; None if it is sent, leased, or not due."""
        changed = await self._change(
            "UPDATE daily_posts SET lease_until = ?, attempts = attempts + 1 WHERE id = ? AND status = 'pending'"
            " AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)",
            (to_text(until), post_id, to_text(now), to_text(now)),
        )
        if not changed:
            return None
        row = await self._one(f"SELECT {POST_COLUMNS} FROM daily_posts WHERE id = ?", (post_id,))
        return None if row is None else _post(row)

    async def mark_posted(self, post_id: int, session_id: int, message_id: int, at: datetime) -> None:
        """Records the message on the post and on its quiz question (which the reveal edits)."""
        await self._change(
            "UPDATE daily_posts SET status = 'posted', message_id = ?, posted_at = ?, lease_until = NULL,"
            " failure = NULL WHERE id = ?",
            (message_id, to_text(at), post_id),
        )
        await self._change(
            "UPDATE quiz_session_questions SET message_id = ? WHERE session_id = ? AND position = 0",
            (message_id, session_id),
        )

    async def retry_post(self, post_id: int, at: datetime, failure: str) -> None:
        await self._change(
            "UPDATE daily_posts SET next_attempt_at = ?, lease_until = NULL, failure = ? WHERE id = ?",
            (to_text(at), failure, post_id),
        )

    async def fail_post(self, post_id: int, failure: str) -> None:
        await self._change(
            "UPDATE daily_posts SET status = 'failed', lease_until = NULL, failure = ? WHERE id = ?",
            (failure, post_id),
        )

    async def pause_schedule(self, guild_id: int, reason: str, at: datetime) -> bool:
        """Pauses an active schedule for a fault; False if it was already paused (so the admin hears once)."""
        changed = await self._change(
            "UPDATE daily_schedules SET status = 'paused', paused_reason = ?, updated_at = ?"
            " WHERE guild_id = ? AND status = 'active'",
            (reason, to_text(at), guild_id),
        )
        return changed > 0
