import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from bot.storage import BotStateRepository, Database, GuildSettingsRepository, Migration, bundled_migrations
from bot.storage.database import split_statements


async def test_bundled_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    db = await Database.open(path)
    version = await db.schema_version()
    assert version == bundled_migrations()[-1].version
    await db.close()
    again = await Database.open(path)
    try:
        assert await again.migrate(bundled_migrations()) == []
        rows = await again.fetch_all("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in rows] == [m.version for m in bundled_migrations()]
    finally:
        await again.close()


async def test_wal_and_foreign_keys_are_on(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        assert await db.fetch_value("PRAGMA journal_mode") == "wal"
        assert await db.fetch_value("PRAGMA foreign_keys") == 1
    finally:
        await db.close()


async def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    broken = [
        Migration(1, "first", "CREATE TABLE kept (id INTEGER PRIMARY KEY);"),
        Migration(2, "broken", "CREATE TABLE half (id INTEGER);\nINSERT INTO missing_table VALUES (1);"),
    ]
    with pytest.raises(sqlite3.OperationalError):
        await Database.open(tmp_path / "bot.db", migrations=broken)
    db = await Database.open(tmp_path / "bot.db", migrations=broken[:1])
    try:
        assert await db.schema_version() == 1
        tables = {row[0] for row in await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "kept" in tables
        assert "half" not in tables
    finally:
        await db.close()


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    future = [*bundled_migrations(), Migration(9999, "future", "CREATE TABLE future (id INTEGER);")]
    db = await Database.open(tmp_path / "bot.db", migrations=future)
    await db.close()
    with pytest.raises(RuntimeError, match="newer"):
        await Database.open(tmp_path / "bot.db")


def test_statement_splitting_keeps_trigger_bodies_whole() -> None:
    script = """
    CREATE TABLE t (id INTEGER);
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET id = id + 1;
        UPDATE t SET id = id - 1;
    END;
    CREATE INDEX i ON t (id);
    """
    statements = split_statements(script)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


async def test_many_concurrent_writers_never_see_database_locked(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    state = BotStateRepository(db)
    try:
        await asyncio.gather(*(state.set(f"key-{n}", str(n)) for n in range(300)))
        assert await db.fetch_value("SELECT COUNT(*) FROM bot_state") == 300
        assert await state.get("key-299") == "299"
    finally:
        await db.close()


async def test_two_processes_worth_of_connections_share_the_file(tmp_path: Path) -> None:
    """A second bot process (its own connections) writes while we write: busy_timeout queues, no error."""
    first = await Database.open(tmp_path / "bot.db")
    second = await Database.open(tmp_path / "bot.db")
    try:
        await asyncio.gather(
            *(BotStateRepository(first).set(f"a{n}", "1") for n in range(50)),
            *(BotStateRepository(second).set(f"b{n}", "1") for n in range(50)),
        )
        assert await first.fetch_value("SELECT COUNT(*) FROM bot_state") == 100
    finally:
        await first.close()
        await second.close()


async def test_backup_is_a_consistent_copy_taken_while_writing(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    state = BotStateRepository(db)
    try:
        await state.set("before", "yes")
        writer = asyncio.gather(*(state.set(f"during-{n}", "x") for n in range(100)))
        await db.backup(tmp_path / "backups" / "copy.db")
        await writer
    finally:
        await db.close()
    async with aiosqlite.connect(tmp_path / "backups" / "copy.db") as copy:
        async with copy.execute("PRAGMA integrity_check") as cursor:
            assert (await cursor.fetchone()) == ("ok",)
        async with copy.execute("SELECT value FROM bot_state WHERE key = 'before'") as cursor:
            assert (await cursor.fetchone()) == ("yes",)


async def test_guild_language_override_round_trip(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        guilds = GuildSettingsRepository(db)
        assert await guilds.locale(1) is None
        await guilds.set_locale(1, "ko")
        assert await guilds.locale(1) == "ko"
        await guilds.set_locale(1, None)
        assert await guilds.locale(1) is None
    finally:
        await db.close()


async def test_parameters_are_never_interpolated(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        hostile = "x'); DROP TABLE bot_state; --"
        await BotStateRepository(db).set(hostile, hostile)
        assert await BotStateRepository(db).get(hostile) == hostile
    finally:
        await db.close()
