"""Every SQL statement of the quiz feature: guild banks, sessions, the answer log, review cards, drafts.

Rows go in and out as plain dataclasses; what a question *is* (JSON payloads) is the services' business.
Reads use the reader connection. Work that must see and change state atomically (answering, revealing,
advancing, scheduling a review) runs in `QuizRepository.transaction()`, whose `QuizTransaction` reads
through the one writer connection, so every check and the write it guards happen under the write lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from bot.storage.database import Database, Params


def to_text(moment: datetime) -> str:
    """Fixed-width UTC text, so SQL comparisons of the text order the instants."""
    if moment.tzinfo is None:
        raise ValueError("quiz storage takes aware datetimes only")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else from_text(text)


# --- rows ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuildBankRow:
    guild_id: int
    bank_id: str
    name: dict[str, str]
    topic: str
    version: int
    enabled: bool
    imported_by: int
    imported_at: datetime
    source_filename: str
    questions: int = 0
    """How many questions (all languages) the bank holds; filled in on reads."""


@dataclass(frozen=True)
class StoredQuestion:
    bank_id: str
    question_id: str
    language: str
    topic: str
    payload: str


@dataclass(frozen=True)
class TopicCount:
    topic: str
    bank_id: str
    language: str
    questions: int


@dataclass(frozen=True)
class NewSession:
    guild_id: int | None
    channel_id: int
    starter_id: int
    topic: str
    language: str
    question_count: int
    seconds_per_question: int
    solo: bool
    created_at: datetime
    daily: bool = False


@dataclass(frozen=True)
class SessionRow:
    id: int
    guild_id: int | None
    channel_id: int
    starter_id: int
    topic: str
    language: str
    question_count: int
    seconds_per_question: int
    solo: bool
    status: str
    current_index: int
    message_id: int | None
    created_at: datetime
    ended_at: datetime | None
    stopped_by: int | None
    daily: bool = False


@dataclass(frozen=True)
class SlotRow:
    """One question of a session: where it stands and what it was when the session chose it."""

    session_id: int
    position: int
    question_key: str
    payload: str
    opened_at: datetime | None
    closes_at: datetime | None
    revealed_at: datetime | None
    message_id: int | None


@dataclass(frozen=True)
class AnswerRow:
    guild_id: int | None
    user_id: int
    question_key: str
    topic: str
    source: str
    correct: bool
    answered_at: datetime
    session_id: int | None = None
    position: int | None = None
    review_of: datetime | None = None
    choice: int | None = None
    text: str | None = None
    latency_ms: int | None = None


@dataclass(frozen=True)
class SlotAnswer:
    user_id: int
    choice: int | None
    correct: bool
    latency_ms: int | None


@dataclass(frozen=True)
class CardRow:
    user_id: int
    question_key: str
    card: str
    """fsrs.Card as JSON."""
    due_at: datetime
    last_reviewed_at: datetime
    reviews: int
    lapses: int


@dataclass(frozen=True)
class AnswerTotals:
    """One member's answers within a session, a period or a topic."""

    user_id: int
    correct: int
    answered: int
    correct_latency_ms: int
    """Summed over correct answers only: what separates members tied on correct answers is who was faster."""


@dataclass(frozen=True)
class TopicTotals:
    topic: str
    answered: int
    correct: int


@dataclass(frozen=True)
class DraftRow:
    id: int
    guild_id: int
    requested_by: int
    topic: str
    language: str
    payload: str
    status: str
    created_at: datetime
    decided_at: datetime | None


def _bank(row: sqlite3.Row) -> GuildBankRow:
    return GuildBankRow(
        guild_id=int(row["guild_id"]),
        bank_id=row["bank_id"],
        name=json.loads(row["name_json"]),
        topic=row["topic"],
        version=int(row["version"]),
        enabled=bool(row["enabled"]),
        imported_by=int(row["imported_by"]),
        imported_at=from_text(row["imported_at"]),
        source_filename=row["source_filename"],
        questions=int(row["questions"]),
    )


def _stored(row: sqlite3.Row) -> StoredQuestion:
    return StoredQuestion(row["bank_id"], row["question_id"], row["language"], row["topic"], row["payload"])


def _session(row: sqlite3.Row) -> SessionRow:
    return SessionRow(
        id=int(row["id"]),
        guild_id=row["guild_id"],
        channel_id=int(row["channel_id"]),
        starter_id=int(row["starter_id"]),
        topic=row["topic"],
        language=row["language"],
        question_count=int(row["question_count"]),
        seconds_per_question=int(row["seconds_per_question"]),
        solo=bool(row["solo"]),
        status=row["status"],
        current_index=int(row["current_index"]),
        message_id=row["message_id"],
        created_at=from_text(row["created_at"]),
        ended_at=_maybe_time(row["ended_at"]),
        stopped_by=row["stopped_by"],
        daily=bool(row["daily"]),
    )


def _slot(row: sqlite3.Row) -> SlotRow:
    return SlotRow(
        session_id=int(row["session_id"]),
        position=int(row["position"]),
        question_key=row["question_key"],
        payload=row["payload"],
        opened_at=_maybe_time(row["opened_at"]),
        closes_at=_maybe_time(row["closes_at"]),
        revealed_at=_maybe_time(row["revealed_at"]),
        message_id=row["message_id"],
    )


def _card(row: sqlite3.Row) -> CardRow:
    return CardRow(
        user_id=int(row["user_id"]),
        question_key=row["question_key"],
        card=row["card"],
        due_at=from_text(row["due_at"]),
        last_reviewed_at=from_text(row["last_reviewed_at"]),
        reviews=int(row["reviews"]),
        lapses=int(row["lapses"]),
    )


def _draft(row: sqlite3.Row) -> DraftRow:
    return DraftRow(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        requested_by=int(row["requested_by"]),
        topic=row["topic"],
        language=row["language"],
        payload=row["payload"],
        status=row["status"],
        created_at=from_text(row["created_at"]),
        decided_at=_maybe_time(row["decided_at"]),
    )


def _totals(row: sqlite3.Row) -> AnswerTotals:
    return AnswerTotals(int(row["user_id"]), int(row["n_correct"]), int(row["n_answered"]), int(row["latency"]))


BANK_COLUMNS = (
    "b.guild_id, b.bank_id, b.name_json, b.topic, b.version, b.enabled, b.imported_by, b.imported_at,"
    " b.source_filename,"
    " (SELECT COUNT(*) FROM guild_questions q WHERE q.guild_id = b.guild_id AND q.bank_id = b.bank_id) AS questions"
)
SESSION_COLUMNS = (
    "id, guild_id, channel_id, starter_id, topic, language, question_count, seconds_per_question, solo, status,"
    " current_index, message_id, created_at, ended_at, stopped_by, daily"
)
SLOT_COLUMNS = "session_id, position, question_key, payload, opened_at, closes_at, revealed_at, message_id"
CARD_COLUMNS = "user_id, question_key, card, due_at, last_reviewed_at, reviews, lapses"
DRAFT_COLUMNS = "id, guild_id, requested_by, topic, language, payload, status, created_at, decided_at"
TOTALS_COLUMNS = (
    "user_id, SUM(correct) AS n_correct, COUNT(*) AS n_answered,"
    " COALESCE(SUM(CASE WHEN correct = 1 THEN latency_ms END), 0) AS latency"
)


# --- the repository ------------------------------------------------------------------------------------------


class QuizRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[QuizTransaction]:
        """One write transaction: checks made through it hold until it commits."""
        async with self._db.transaction() as conn:
            yield QuizTransaction(conn)

    # guild banks

    async def guild_banks(self, guild_id: int) -> list[GuildBankRow]:
        rows = await self._db.fetch_all(
            f"SELECT {BANK_COLUMNS} FROM guild_banks b WHERE b.guild_id = ? ORDER BY b.bank_id", (guild_id,)
        )
        return [_bank(row) for row in rows]

    async def guild_bank(self, guild_id: int, bank_id: str) -> GuildBankRow | None:
        row = await self._db.fetch_one(
            f"SELECT {BANK_COLUMNS} FROM guild_banks b WHERE b.guild_id = ? AND b.bank_id = ?", (guild_id, bank_id)
        )
        return None if row is None else _bank(row)

    async def count_guild_banks(self, guild_id: int) -> int:
        return int(await self._db.fetch_value("SELECT COUNT(*) FROM guild_banks WHERE guild_id = ?", (guild_id,)))

    async def guild_questions(
        self, guild_id: int, *, bank_id: str | None = None, topic: str | None = None, enabled_only: bool = True
    ) -> list[StoredQuestion]:
        """A guild's questions in bank and file order, optionally of one bank or one topic."""
        rows = await self._db.fetch_all(
            "SELECT q.bank_id, q.question_id, q.language, q.topic, q.payload"
            " FROM guild_questions q JOIN guild_banks b ON b.guild_id = q.guild_id AND b.bank_id = q.bank_id"
            " WHERE q.guild_id = ? AND (? IS NULL OR q.bank_id = ?) AND (? IS NULL OR q.topic = ?)"
            " AND (b.enabled = 1 OR ? = 0)"
            " ORDER BY q.bank_id, q.position",
            (guild_id, bank_id, bank_id, topic, topic, int(enabled_only)),
        )
        return [_stored(row) for row in rows]

    async def guild_question(
        self, guild_id: int, bank_id: str, question_id: str, language: str, *, enabled_only: bool = True
    ) -> StoredQuestion | None:
        row = await self._db.fetch_one(
            "SELECT q.bank_id, q.question_id, q.language, q.topic, q.payload"
            " FROM guild_questions q JOIN guild_banks b ON b.guild_id = q.guild_id AND b.bank_id = q.bank_id"
            " WHERE q.guild_id = ? AND q.bank_id = ? AND q.question_id = ? AND q.language = ?"
            " AND (b.enabled = 1 OR ? = 0)",
            (guild_id, bank_id, question_id, language, int(enabled_only)),
        )
        return None if row is None else _stored(row)

    async def guild_topic_counts(self, guild_id: int) -> list[TopicCount]:
        """Questions per topic, bank and language in the guild's enabled banks."""
        rows = await self._db.fetch_all(
            "SELECT q.topic, q.bank_id, q.language, COUNT(*)"
            " FROM guild_questions q JOIN guild_banks b ON b.guild_id = q.guild_id AND b.bank_id = q.bank_id"
            " WHERE q.guild_id = ? AND b.enabled = 1"
            " GROUP BY q.topic, q.bank_id, q.language ORDER BY q.topic, q.bank_id, q.language",
            (guild_id,),
        )
        return [TopicCount(row[0], row[1], row[2], int(row[3])) for row in rows]

    async def replace_guild_bank(self, bank: GuildBankRow, questions: Sequence[StoredQuestion]) -> None:
        """Stores a bank and exactly these questions in one transaction: readers see the old bank or the new one.

        A re-import keeps the bank's enabled switch: replacing the questions is not a decision to show them.
        """
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_banks (guild_id, bank_id, name_json, topic, version, enabled, imported_by,"
                " imported_at, source_filename) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id, bank_id) DO UPDATE SET name_json = excluded.name_json,"
                " topic = excluded.topic, version = excluded.version, imported_by = excluded.imported_by,"
                " imported_at = excluded.imported_at, source_filename = excluded.source_filename",
                (
                    bank.guild_id,
                    bank.bank_id,
                    json.dumps(bank.name, ensure_ascii=False),
                    bank.topic,
                    bank.version,
                    int(bank.enabled),
                    bank.imported_by,
                    to_text(bank.imported_at),
                    bank.source_filename,
                ),
            )
            await conn.execute(
                "DELETE FROM guild_questions WHERE guild_id = ? AND bank_id = ?", (bank.guild_id, bank.bank_id)
            )
            await conn.executemany(
                "INSERT INTO guild_questions (guild_id, bank_id, question_id, language, topic, position, payload)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (bank.guild_id, bank.bank_id, q.question_id, q.language, q.topic, position, q.payload)
                    for position, q in enumerate(questions)
                ],
            )

    async def set_guild_bank_enabled(self, guild_id: int, bank_id: str, enabled: bool) -> bool:
        """False when the guild has no such bank."""
        changed = await self._db.execute(
            "UPDATE guild_banks SET enabled = ? WHERE guild_id = ? AND bank_id = ?", (int(enabled), guild_id, bank_id)
        )
        return changed > 0

    async def set_builtin_enabled(self, guild_id: int, bank_id: str, enabled: bool, at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO guild_bank_settings (guild_id, bank_id, enabled, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (guild_id, bank_id) DO UPDATE SET enabled = excluded.enabled,"
            " updated_at = excluded.updated_at",
            (guild_id, bank_id, int(enabled), to_text(at)),
        )

    async def disabled_builtin_banks(self, guild_id: int) -> set[str]:
        rows = await self._db.fetch_all(
            "SELECT bank_id FROM guild_bank_settings WHERE guild_id = ? AND enabled = 0", (guild_id,)
        )
        return {row[0] for row in rows}

    # sessions

    async def session(self, session_id: int) -> SessionRow | None:
        row = await self._db.fetch_one(f"SELECT {SESSION_COLUMNS} FROM quiz_sessions WHERE id = ?", (session_id,))
        return None if row is None else _session(row)

    async def running_sessions(self) -> list[SessionRow]:
        rows = await self._db.fetch_all(
            f"SELECT {SESSION_COLUMNS} FROM quiz_sessions WHERE status = 'running' ORDER BY id"
        )
        return [_session(row) for row in rows]

    async def slot(self, session_id: int, position: int) -> SlotRow | None:
        row = await self._db.fetch_one(
            f"SELECT {SLOT_COLUMNS} FROM quiz_session_questions WHERE session_id = ? AND position = ?",
            (session_id, position),
        )
        return None if row is None else _slot(row)

    async def recent_question_keys(self, guild_id: int | None, channel_id: int, since: datetime) -> set[str]:
        """Keys of questions the guild (in DMs: the channel) was given in sessions started since `since`."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT q.question_key FROM quiz_session_questions q JOIN quiz_sessions s ON s.id = q.session_id"
            " WHERE s.created_at >= ? AND (s.guild_id = ? OR (? IS NULL AND s.channel_id = ?))",
            (to_text(since), guild_id, guild_id, channel_id),
        )
        return {row[0] for row in rows}

    async def session_totals(self, session_id: int) -> list[AnswerTotals]:
        rows = await self._db.fetch_all(
            f"SELECT {TOTALS_COLUMNS} FROM quiz_answers WHERE session_id = ? GROUP BY user_id", (session_id,)
        )
        return [_totals(row) for row in rows]

    async def set_slot_message(self, session_id: int, position: int, message_id: int) -> bool:
        changed = await self._db.execute(
            "UPDATE quiz_session_questions SET message_id = ? WHERE session_id = ? AND position = ?",
            (message_id, session_id, position),
        )
        return changed > 0

    async def set_session_message(self, session_id: int, message_id: int) -> bool:
        changed = await self._db.execute(
            "UPDATE quiz_sessions SET message_id = ? WHERE id = ?", (message_id, session_id)
        )
        return changed > 0

    # the answer log

    async def leaderboard(self, guild_id: int, since: datetime | None, limit: int) -> list[AnswerTotals]:
        rows = await self._db.fetch_all(
            f"SELECT {TOTALS_COLUMNS} FROM quiz_answers WHERE guild_id = ? AND (? IS NULL OR answered_at >= ?)"
            " GROUP BY user_id"
            " ORDER BY n_correct DESC, CAST(n_correct AS REAL) / n_answered DESC, latency, user_id LIMIT ?",
            (guild_id, *_since(since), limit),
        )
        return [_totals(row) for row in rows]

    async def topic_totals(self, guild_id: int | None, user_id: int) -> list[TopicTotals]:
        """A member's answers per topic, in one guild or (guild_id None) everywhere."""
        rows = await self._db.fetch_all(
            "SELECT topic, COUNT(*), SUM(correct) FROM quiz_answers"
            " WHERE user_id = ? AND (? IS NULL OR guild_id = ?) GROUP BY topic ORDER BY COUNT(*) DESC, topic",
            (user_id, guild_id, guild_id),
        )
        return [TopicTotals(row[0], int(row[1]), int(row[2])) for row in rows]

    async def answer_times(self, guild_id: int | None, user_id: int) -> list[datetime]:
        rows = await self._db.fetch_all(
            "SELECT answered_at FROM quiz_answers WHERE user_id = ? AND (? IS NULL OR guild_id = ?)"
            " ORDER BY answered_at",
            (user_id, guild_id, guild_id),
        )
        return [from_text(row[0]) for row in rows]

    # review cards

    async def due_cards(self, user_id: int, now: datetime, limit: int, offset: int = 0) -> list[CardRow]:
        rows = await self._db.fetch_all(
            f"SELECT {CARD_COLUMNS} FROM review_cards WHERE user_id = ? AND due_at <= ?"
            " ORDER BY due_at, question_key LIMIT ? OFFSET ?",
            (user_id, to_text(now), limit, offset),
        )
        return [_card(row) for row in rows]

    async def due_count(self, user_id: int, now: datetime) -> int:
        return int(
            await self._db.fetch_value(
                "SELECT COUNT(*) FROM review_cards WHERE user_id = ? AND due_at <= ?", (user_id, to_text(now))
            )
        )

    async def card(self, user_id: int, question_key: str) -> CardRow | None:
        row = await self._db.fetch_one(
            f"SELECT {CARD_COLUMNS} FROM review_cards WHERE user_id = ? AND question_key = ?", (user_id, question_key)
        )
        return None if row is None else _card(row)

    # drafts

    async def insert_drafts(
        self, guild_id: int, user_id: int, topic: str, language: str, payloads: Sequence[str], at: datetime
    ) -> list[int]:
        ids: list[int] = []
        async with self._db.transaction() as conn:
            for payload in payloads:
                cursor = await conn.execute(
                    "INSERT INTO generated_drafts (guild_id, requested_by, topic, language, payload, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (guild_id, user_id, topic, language, payload, to_text(at)),
                )
                assert cursor.lastrowid is not None  # a plain INSERT always makes a row
                ids.append(cursor.lastrowid)
        return ids

    async def drafts(self, guild_id: int, status: str = "pending") -> list[DraftRow]:
        rows = await self._db.fetch_all(
            f"SELECT {DRAFT_COLUMNS} FROM generated_drafts WHERE guild_id = ? AND status = ? ORDER BY id",
            (guild_id, status),
        )
        return [_draft(row) for row in rows]

    async def reject_draft(self, guild_id: int, draft_id: int, at: datetime) -> bool:
        """False when the guild has no such pending draft."""
        changed = await self._db.execute(
            "UPDATE generated_drafts SET status = 'rejected', decided_at = ?"
            " WHERE guild_id = ? AND id = ? AND status = 'pending'",
            (to_text(at), guild_id, draft_id),
        )
        return changed > 0


def _since(since: datetime | None) -> tuple[str | None, str | None]:
    text = None if since is None else to_text(since)
    return text, text


class QuizTransaction:
    """Reads and writes on the writer connection, inside one transaction (see `QuizRepository.transaction`)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def _one(self, sql: str, params: Params) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def _all(self, sql: str, params: Params) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _change(self, sql: str, params: Params) -> int:
        cursor = await self._conn.execute(sql, params)
        count: int = cursor.rowcount
        return count

    # sessions

    async def session(self, session_id: int) -> SessionRow | None:
        row = await self._one(f"SELECT {SESSION_COLUMNS} FROM quiz_sessions WHERE id = ?", (session_id,))
        return None if row is None else _session(row)

    async def insert_session(self, new: NewSession) -> int | None:
        """The new session's id, or None when the channel already runs a session this one may not run beside."""
        cursor = await self._conn.execute(
            "INSERT INTO quiz_sessions (guild_id, channel_id, starter_id, topic, language, question_count,"
            " seconds_per_question, solo, daily, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (
                new.guild_id,
                new.channel_id,
                new.starter_id,
                new.topic,
                new.language,
                new.question_count,
                new.seconds_per_question,
                int(new.solo),
                int(new.daily),
                to_text(new.created_at),
            ),
        )
        return cursor.lastrowid if cursor.rowcount == 1 else None

    async def stop_running_solo(self, channel_id: int, user_id: int, at: datetime) -> int:
        return await self._change(
            "UPDATE quiz_sessions SET status = 'stopped', ended_at = ?, stopped_by = ?"
            " WHERE channel_id = ? AND starter_id = ? AND solo = 1 AND status = 'running'",
            (to_text(at), user_id, channel_id, user_id),
        )

    async def insert_slots(self, session_id: int, questions: Sequence[tuple[str, str]]) -> None:
        """(question_key, payload) pairs, at positions 0, 1, ..."""
        await self._conn.executemany(
            "INSERT INTO quiz_session_questions (session_id, position, question_key, payload) VALUES (?, ?, ?, ?)",
            [(session_id, position, key, payload) for position, (key, payload) in enumerate(questions)],
        )

    async def slot(self, session_id: int, position: int) -> SlotRow | None:
        row = await self._one(
            f"SELECT {SLOT_COLUMNS} FROM quiz_session_questions WHERE session_id = ? AND position = ?",
            (session_id, position),
        )
        return None if row is None else _slot(row)

    async def open_slot(self, session_id: int, position: int, opened_at: datetime, closes_at: datetime) -> None:
        await self._change("UPDATE quiz_sessions SET current_index = ? WHERE id = ?", (position, session_id))
        await self._change(
            "UPDATE quiz_session_questions SET opened_at = ?, closes_at = ?"
            " WHERE session_id = ? AND position = ? AND opened_at IS NULL",
            (to_text(opened_at), to_text(closes_at), session_id, position),
        )

    async def mark_revealed(self, session_id: int, position: int, at: datetime) -> bool:
        """True the first time only."""
        changed = await self._change(
            "UPDATE quiz_session_questions SET revealed_at = ?"
            " WHERE session_id = ? AND position = ? AND revealed_at IS NULL",
            (to_text(at), session_id, position),
        )
        return changed > 0

    async def end_session(self, session_id: int, status: str, at: datetime, stopped_by: int | None = None) -> bool:
        """Ends a running session; False when it had already ended."""
        changed = await self._change(
            "UPDATE quiz_sessions SET status = ?, ended_at = ?, stopped_by = ? WHERE id = ? AND status = 'running'",
            (status, to_text(at), stopped_by, session_id),
        )
        return changed > 0

    async def slot_answers(self, session_id: int, position: int) -> list[SlotAnswer]:
        """Answers to one session question, fastest first."""
        rows = await self._all(
            "SELECT user_id, choice, correct, latency_ms FROM quiz_answers WHERE session_id = ? AND position = ?"
            " ORDER BY latency_ms, id",
            (session_id, position),
        )
        return [SlotAnswer(int(row[0]), row[1], bool(row[2]), row[3]) for row in rows]

    # the answer log and review cards

    async def insert_answer(self, answer: AnswerRow) -> bool:
        """Logs an answer unless this member already answered this question (or review); True if logged.

        The unique indexes decide, not a prior read: concurrent clicks cannot both get in.
        """
        changed = await self._change(
            "INSERT INTO quiz_answers (guild_id, user_id, question_key, topic, session_id, position, review_of,"
            " choice, text, correct, latency_ms, source, answered_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                answer.guild_id,
                answer.user_id,
                answer.question_key,
                answer.topic,
                answer.session_id,
                answer.position,
                None if answer.review_of is None else to_text(answer.review_of),
                answer.choice,
                answer.text,
                int(answer.correct),
                answer.latency_ms,
                answer.source,
                to_text(answer.answered_at),
            ),
        )
        return changed == 1

    async def card(self, user_id: int, question_key: str) -> CardRow | None:
        row = await self._one(
            f"SELECT {CARD_COLUMNS} FROM review_cards WHERE user_id = ? AND question_key = ?", (user_id, question_key)
        )
        return None if row is None else _card(row)

    async def save_card(self, card: CardRow) -> None:
        await self._change(
            f"INSERT INTO review_cards ({CARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, question_key) DO UPDATE SET card = excluded.card, due_at = excluded.due_at,"
            " last_reviewed_at = excluded.last_reviewed_at, reviews = excluded.reviews, lapses = excluded.lapses",
            (
                card.user_id,
                card.question_key,
                card.card,
                to_text(card.due_at),
                to_text(card.last_reviewed_at),
                card.reviews,
                card.lapses,
            ),
        )

    # drafts

    async def pending_draft(self, guild_id: int, draft_id: int) -> DraftRow | None:
        row = await self._one(
            f"SELECT {DRAFT_COLUMNS} FROM generated_drafts WHERE guild_id = ? AND id = ? AND status = 'pending'",
            (guild_id, draft_id),
        )
        return None if row is None else _draft(row)

    async def decide_draft(self, draft_id: int, status: str, at: datetime) -> None:
        await self._change(
            "UPDATE generated_drafts SET status = ?, decided_at = ? WHERE id = ?", (status, to_text(at), draft_id)
        )

    async def add_guild_question(self, bank: GuildBankRow, question: StoredQuestion) -> bool:
        """Appends one question to a guild bank, creating the bank if needed; False if the id is taken."""
        await self._change(
            "INSERT INTO guild_banks (guild_id, bank_id, name_json, topic, version, enabled, imported_by,"
            " imported_at, source_filename) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                bank.guild_id,
                bank.bank_id,
                json.dumps(bank.name, ensure_ascii=False),
                bank.topic,
                bank.version,
                int(bank.enabled),
                bank.imported_by,
                to_text(bank.imported_at),
                bank.source_filename,
            ),
        )
        changed = await self._change(
            "INSERT INTO guild_questions (guild_id, bank_id, question_id, language, topic, position, payload)"
            " SELECT ?, ?, ?, ?, ?, COALESCE(MAX(position) + 1, 0), ? FROM guild_questions"
            " WHERE guild_id = ? AND bank_id = ? ON CONFLICT DO NOTHING",
            (
                bank.guild_id,
                bank.bank_id,
                question.question_id,
                question.language,
                question.topic,
                question.payload,
                bank.guild_id,
                bank.bank_id,
            ),
        )
        return changed == 1
