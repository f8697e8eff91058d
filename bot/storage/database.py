"""The one place that owns SQLite connections, transactions, migrations and backups.

One writer connection serialised by an asyncio lock (SQLite allows one writer at a time, so
queueing writers in-process is what keeps many concurrent interactions from ever seeing
"database is locked"), plus one reader connection that WAL lets run beside the writer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
BUSY_TIMEOUT_MS = 10_000
Params = Sequence[Any] | dict[str, Any]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """Migrations shipped in the package, in version order (works from a wheel too)."""
    found = []
    for entry in resources.files("bot.storage").joinpath("migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found


def split_statements(script: str) -> list[str]:
    """Splits a migration script into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement at end of migration: {buffer.strip()[:80]!r}")
    return statements


class Database:
    """Async SQLite access. Build with `await Database.open(path)` and `await db.close()`."""

    def __init__(self, path: Path | str, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, migrations: Iterable[Migration] | None = None) -> Database:
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = await cls._connect(path)
        # An in-memory database is private to its connection, so it must read through the writer.
        reader = writer if in_memory else await cls._connect(path)
        db = cls(path, writer, reader)
        try:
            await db.migrate(bundled_migrations() if migrations is None else list(migrations))
        except BaseException:
            await db.close()
            raise
        return db

    @staticmethod
    async def _connect(path: Path | str) -> aiosqlite.Connection:
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE in `transaction`).
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        return conn

    async def close(self) -> None:
        async with self._write_lock:
            if self._reader is not self._writer:
                await self._reader.close()
            await self._writer.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; commits on success, rolls back on any error."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Runs one write statement in its own transaction; returns the number of rows changed."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        """Runs one INSERT in its own transaction; returns the new rowid (None if ignored)."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.lastrowid if cursor.rowcount else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._reader.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def migrate(self, migrations: Sequence[Migration]) -> list[Migration]:
        """Applies pending migrations forward only, each in its own transaction; returns those applied."""
        async with self._write_lock:
            await self._writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        applied_rows = await self._writer.execute_fetchall("SELECT version FROM schema_migrations")
        applied = {row[0] for row in applied_rows}
        newest = max(applied, default=0)
        known = {m.version for m in migrations}
        if newest > max(known, default=0):
            raise RuntimeError(
                f"database schema version {newest} is newer than this StudyBuddy knows ({max(known, default=0)}); "
                "upgrade StudyBuddy instead of downgrading the database"
            )
        done = []
        for migration in migrations:
            if migration.version in applied:
                continue
            async with self.transaction() as conn:
                for statement in split_statements(migration.sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, datetime.now(UTC).isoformat()),
                )
            log.info("applied migration %04d_%s", migration.version, migration.name)
            done.append(migration)
        return done

    async def schema_version(self) -> int:
        return int(await self.fetch_value("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") or 0)

    async def backup(self, target: Path) -> None:
        """An online, consistent copy through SQLite's backup API (safe while the bot writes)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        async with aiosqlite.connect(partial) as destination:
            await self._reader.backup(destination)
        partial.replace(target)
