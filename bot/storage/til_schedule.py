"""Every SQL statement of the TIL reminders and the weekly digest: their settings, claims and who to remind.

The claim mirrors the daily quiz's (`bot.storage.daily`): `TilScheduleTransaction.move_next` moves a job's next
time on only if it still holds the time this process read, and the run is inserted under the unique
(guild, kind, period) in the same transaction, so two processes, or one that restarted half-way, cannot both
claim a day's reminder or a week's digest.

The reminder and digest columns of `til_settings` are written here; its other columns (the TIL home channel)
belong to `bot.storage.til.TilRepository`, so every write here touches only its own columns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.storage.database import Database
from bot.storage.quiz import QuizTransaction, from_text, to_text


class TilJob(StrEnum):
    REMINDER = "reminder"
    DIGEST = "digest"


# Column names by job, never user input: safe to format into SQL.
_NEXT_AT = {TilJob.REMINDER: "reminder_next_at", TilJob.DIGEST: "digest_next_at"}


def _maybe(text: str | None) -> datetime | None:
    return None if text is None else from_text(text)


@dataclass(frozen=True)
class TilJobSettings:
    """A guild's reminder and digest settings, and the guild's time zone they are read in."""

    guild_id: int
    timezone: str
    home_channel_id: int | None
    reminder_time: str | None
    reminder_role_id: int | None
    reminder_channel_id: int | None
    reminder_next_at: datetime | None
    digest_weekday: int | None
    digest_time: str | None
    digest_channel_id: int | None
    digest_next_at: datetime | None

    def next_at(self, job: TilJob) -> datetime | None:
        return self.reminder_next_at if job is TilJob.REMINDER else self.digest_next_at


@dataclass(frozen=True)
class TilRunRow:
    id: int
    guild_id: int
    kind: TilJob
    period: date
    status: str
    due_at: datetime
    claimed_at: datetime
    retry_at: datetime | None
    attempts: int
    failure: str | None
    message_id: int | None


RUN_COLUMNS = "id, guild_id, kind, period, status, due_at, claimed_at, retry_at, attempts, failure, message_id"


def _run(row: sqlite3.Row) -> TilRunRow:
    return TilRunRow(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        kind=TilJob(row["kind"]),
        period=date.fromisoformat(row["period"]),
        status=row["status"],
        due_at=from_text(row["due_at"]),
        claimed_at=from_text(row["claimed_at"]),
        retry_at=_maybe(row["retry_at"]),
        attempts=int(row["attempts"]),
        failure=row["failure"],
        message_id=row["message_id"],
    )


class TilScheduleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[TilScheduleTransaction]:
        async with self._db.transaction() as conn:
            yield TilScheduleTransaction(conn)

    async def settings(self, guild_id: int, default_timezone: str) -> TilJobSettings:
        """The guild's settings; all off (and `default_timezone`) for a guild that chose nothing yet."""
        row = await self._db.fetch_one(
            "SELECT COALESCE(g.timezone, ?) AS timezone, s.channel_id, s.reminder_time, s.reminder_role_id,"
            " s.reminder_channel_id, s.reminder_next_at, s.digest_weekday, s.digest_time, s.digest_channel_id,"
            " s.digest_next_at FROM (SELECT ? AS guild_id) AS wanted"
            " LEFT JOIN til_settings s ON s.guild_id = wanted.guild_id"
            " LEFT JOIN guild_settings g ON g.guild_id = wanted.guild_id",
            (default_timezone, guild_id),
        )
        assert row is not None  # the one-row subquery always yields a row
        return TilJobSettings(
            guild_id=guild_id,
            timezone=row["timezone"],
            home_channel_id=row["channel_id"],
            reminder_time=row["reminder_time"],
            reminder_role_id=row["reminder_role_id"],
            reminder_channel_id=row["reminder_channel_id"],
            reminder_next_at=_maybe(row["reminder_next_at"]),
            digest_weekday=row["digest_weekday"],
            digest_time=row["digest_time"],
            digest_channel_id=row["digest_channel_id"],
            digest_next_at=_maybe(row["digest_next_at"]),
        )

    async def save_reminder(
        self,
        guild_id: int,
        *,
        local_time: str | None,
        role_id: int | None,
        channel_id: int | None,
        next_at: datetime | None,
        at: datetime,
    ) -> None:
        await self._db.execute(
            "INSERT INTO til_settings (guild_id, reminder_time, reminder_role_id, reminder_channel_id,"
            " reminder_next_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET reminder_time = excluded.reminder_time,"
            " reminder_role_id = excluded.reminder_role_id, reminder_channel_id = excluded.reminder_channel_id,"
            " reminder_next_at = excluded.reminder_next_at, updated_at = excluded.updated_at",
            (guild_id, local_time, role_id, channel_id, None if next_at is None else to_text(next_at), to_text(at)),
        )

    async def save_digest(
        self,
        guild_id: int,
        *,
        weekday: int | None,
        local_time: str | None,
        channel_id: int | None,
        next_at: datetime | None,
        at: datetime,
    ) -> None:
        await self._db.execute(
            "INSERT INTO til_settings (guild_id, digest_weekday, digest_time, digest_channel_id, digest_next_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET digest_weekday = excluded.digest_weekday,"
            " digest_time = excluded.digest_time, digest_channel_id = excluded.digest_channel_id,"
            " digest_next_at = excluded.digest_next_at, updated_at = excluded.updated_at",
            (guild_id, weekday, local_time, channel_id, None if next_at is None else to_text(next_at), to_text(at)),
        )

    async def turn_off(self, guild_id: int, job: TilJob, at: datetime) -> bool:
        """Switches a job off after a fault that only an admin can fix; False if it was off already."""
        if job is TilJob.REMINDER:
            sql = (
                "UPDATE til_settings SET reminder_time = NULL, reminder_next_at = NULL, updated_at = ?"
                " WHERE guild_id = ? AND reminder_time IS NOT NULL"
            )
        else:
            sql = (
                "UPDATE til_settings SET digest_weekday = NULL, digest_time = NULL, digest_next_at = NULL,"
                " updated_at = ? WHERE guild_id = ? AND digest_weekday IS NOT NULL"
            )
        return await self._db.execute(sql, (to_text(at), guild_id)) > 0

    async def has_run(self, guild_id: int, job: TilJob, period: date) -> bool:
        """Whether this day's reminder (or week's digest) was claimed already (a failed one may run again)."""
        value = await self._db.fetch_value(
            "SELECT 1 FROM til_runs WHERE guild_id = ? AND kind = ? AND period = ? AND status IN ('pending', 'done')",
            (guild_id, job.value, period.isoformat()),
        )
        return value is not None

    async def due_jobs(self, now: datetime, limit: int) -> list[tuple[int, TilJob]]:
        rows = await self._db.fetch_all(
            "SELECT guild_id, kind FROM ("
            " SELECT guild_id, 'reminder' AS kind, reminder_next_at AS due FROM til_settings"
            "  WHERE reminder_next_at <= ?"
            " UNION ALL SELECT guild_id, 'digest', digest_next_at FROM til_settings WHERE digest_next_at <= ?)"
            " ORDER BY due, guild_id, kind LIMIT ?",
            (to_text(now), to_text(now), limit),
        )
        return [(int(row[0]), TilJob(row[1])) for row in rows]

    async def retryable_runs(self, now: datetime, limit: int) -> list[tuple[int, TilJob]]:
        """Pending runs nobody holds any more: their claimer died, or a retry's backoff is over."""
        rows = await self._db.fetch_all(
            "SELECT id, kind FROM til_runs WHERE status = 'pending' AND retry_at <= ? ORDER BY retry_at, id LIMIT ?",
            (to_text(now), limit),
        )
        return [(int(row[0]), TilJob(row[1])) for row in rows]

    async def next_wake(self) -> datetime | None:
        """The earliest moment anything is due: a reminder, a digest, or a pending run's retry."""
        value = await self._db.fetch_value(
            "SELECT MIN(t) FROM ("
            " SELECT MIN(reminder_next_at) AS t FROM til_settings"
            " UNION ALL SELECT MIN(digest_next_at) FROM til_settings"
            " UNION ALL SELECT MIN(retry_at) FROM til_runs WHERE status = 'pending')"
        )
        return None if value is None else from_text(str(value))

    async def run(self, run_id: int) -> TilRunRow | None:
        row = await self._db.fetch_one(f"SELECT {RUN_COLUMNS} FROM til_runs WHERE id = ?", (run_id,))
        return None if row is None else _run(row)

    async def finish_run(self, run_id: int, message_id: int | None) -> None:
        await self._db.execute(
            "UPDATE til_runs SET status = 'done', retry_at = NULL, failure = NULL, message_id = ? WHERE id = ?",
            (message_id, run_id),
        )

    async def retry_run(self, run_id: int, at: datetime, failure: str) -> None:
        await self._db.execute(
            "UPDATE til_runs SET retry_at = ?, failure = ? WHERE id = ? AND status = 'pending'",
            (to_text(at), failure, run_id),
        )

    async def fail_run(self, run_id: int, failure: str) -> None:
        await self._db.execute(
            "UPDATE til_runs SET status = 'failed', retry_at = NULL, failure = ? WHERE id = ?", (failure, run_id)
        )

    async def reminder_candidates(self, guild_id: int, since: date) -> list[tuple[int, str | None, set[date]]]:
        """Members who asked for a DM reminder: (user id, their own time zone or None, their TIL days since
        `since`). Whether one posted "today" depends on their zone, which is the caller's arithmetic."""
        rows = await self._db.fetch_all(
            "SELECT m.user_id, u.timezone, p.local_date FROM til_members m"
            " LEFT JOIN user_settings u ON u.user_id = m.user_id"
            " LEFT JOIN til_posts p ON p.guild_id = m.guild_id AND p.author_id = m.user_id AND p.local_date >= ?"
            " WHERE m.guild_id = ? AND m.reminder_dm = 1 ORDER BY m.user_id",
            (since.isoformat(), guild_id),
        )
        found: dict[int, tuple[str | None, set[date]]] = {}
        for row in rows:
            days = found.setdefault(int(row[0]), (row[1], set()))[1]
            if row[2] is not None:
                days.add(date.fromisoformat(row[2]))
        return [(user_id, zone, days) for user_id, (zone, days) in found.items()]


class TilScheduleTransaction(QuizTransaction):
    """Claims and leases, each a check and the write it guards under the one write lock."""

    async def move_next(self, guild_id: int, job: TilJob, expected: datetime, following: datetime) -> bool:
        """Moves the job's next time from the one this process read; False if another process moved it first."""
        column = _NEXT_AT[job]
        changed = await self._change(
            f"UPDATE til_settings SET {column} = ? WHERE guild_id = ? AND {column} = ?",
            (to_text(following), guild_id, to_text(expected)),
        )
        return changed > 0

    async def insert_run(
        self, guild_id: int, job: TilJob, period: date, *, due_at: datetime, now: datetime, hold_until: datetime
    ) -> int | None:
        """A pending run held by this process until `hold_until`; None if the period had its run already.

        A run that failed (its channel was gone, and an admin has set the job up again since) may run again.
        """
        row = await self._one(
            "INSERT INTO til_runs (guild_id, kind, period, status, due_at, claimed_at, retry_at, attempts)"
            " VALUES (?, ?, ?, 'pending', ?, ?, ?, 1) ON CONFLICT (guild_id, kind, period) DO UPDATE SET"
            " status = 'pending', due_at = excluded.due_at, claimed_at = excluded.claimed_at,"
            " retry_at = excluded.retry_at, attempts = 1, failure = NULL, message_id = NULL"
            " WHERE til_runs.status = 'failed' RETURNING id",
            (guild_id, job.value, period.isoformat(), to_text(due_at), to_text(now), to_text(hold_until)),
        )
        return None if row is None else int(row[0])

    async def lease_run(self, run_id: int, now: datetime, until: datetime) -> TilRunRow | None:
        """Takes over a pending run whose holder is gone or whose backoff is over; None if someone has it."""
        changed = await self._change(
            "UPDATE til_runs SET retry_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'pending'"
            " AND retry_at <= ?",
            (to_text(until), run_id, to_text(now)),
        )
        if not changed:
            return None
        row = await self._one(f"SELECT {RUN_COLUMNS} FROM til_runs WHERE id = ?", (run_id,))
        return None if row is None else _run(row)

    async def run(self, run_id: int) -> TilRunRow | None:
        row = await self._one(f"SELECT {RUN_COLUMNS} FROM til_runs WHERE id = ?", (run_id,))
        return None if row is None else _run(row)
