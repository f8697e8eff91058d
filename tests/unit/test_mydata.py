"""`/mydata` on a real SQLite file: two members with rows in every table; one exports, then erases, their data."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import Catalog
from bot.services.mydata import MyDataService
from bot.storage.database import Database, bundled_migrations, split_statements
from bot.storage.mydata import ATTRIBUTED, DELETED_MEMBER, PERSONAL, MyDataRepository
from bot.storage.quiz import to_text

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
# Real Discord ids are past 2**53, where JSON readers such as JavaScript start losing digits.
ALICE, BOB = 300_000_000_000_000_011, 300_000_000_000_000_012
GUILD, OTHER_GUILD, CHANNEL = 900_000_000_000_000_001, 900_000_000_000_000_002, 100
USER_ID_COLUMN = ("user_id", "author_id", "starter_id")


async def seed(db: Database, user: int, word: str) -> None:
    """Rows about `user` in every table that holds member data, with `word` in their TIL text."""
    at = to_text(NOW)
    await db.execute(
        "INSERT INTO user_settings (user_id, locale, timezone, updated_at) VALUES (?, 'ko', 'Asia/Seoul', ?)",
        (user, at),
    )
    post_ids = []
    for guild, day in ((GUILD, "2026-11-25"), (OTHER_GUILD, "2026-11-26")):
        post_id = await db.insert(
            "INSERT INTO til_posts (guild_id, author_id, title, learned, hard, tags, local_date, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, 'AWS', 'AWS, LangChain', ?, ?, ?)",
            (guild, user, f"TIL {day}", f"인스턴스를 {word} 배웠다", day, at, at),
        )
        post_ids.append(post_id)
        await db.execute(
            "INSERT INTO til_members (guild_id, user_id, quiz_opt_out, reminder_dm, updated_at) VALUES (?, ?, 0, 1, ?)",
            (guild, user, at),
        )
    await db.execute(
        "INSERT INTO til_questions (guild_id, post_id, language, payload, created_at) VALUES (?, ?, 'ko', '{}', ?)",
        (GUILD, post_ids[0], at),
    )
    solo = await db.insert(
        "INSERT INTO quiz_sessions (guild_id, channel_id, starter_id, topic, language, question_count,"
        " seconds_per_question, solo, status, created_at, ended_at) VALUES (?, ?, ?, 'aws', 'ko', 1, 30, 1,"
        " 'finished', ?, ?)",
        (GUILD, CHANNEL + user % 100, user, at, at),
    )
    await add_question(db, solo)
    await answer(db, user, solo, source="solo")
    await db.execute(
        "INSERT INTO quiz_answers (guild_id, user_id, question_key, topic, review_of, correct, source, answered_at)"
        " VALUES (?, ?, 'aws:q1:ko', 'aws', ?, 0, 'review', ?)",
        (GUILD, user, at, at),
    )
    await db.execute(
        "INSERT INTO review_cards (user_id, question_key, card, due_at, last_reviewed_at) VALUES (?, 'aws:q1:ko',"
        " '{}', ?, ?)",
        (user, at, at),
    )
    for day in ("2026-11-25", "2026-11-26"):
        await db.execute(
            "INSERT INTO llm_usage (day, guild_id, user_id, requests, input_tokens, output_tokens)"
            " VALUES (?, ?, ?, 2, 100, 50)",
            (day, GUILD, user),
        )
    await db.execute(
        "INSERT INTO dm_messages (user_id, role, content, created_at)"
        " VALUES (?, 'human', ?, ?), (?, 'ai', 'answer', ?)",
        (user, f"what is {word}?", at, user, at),
    )


async def add_question(db: Database, session_id: int | None) -> None:
    await db.execute(
        "INSERT INTO quiz_session_questions (session_id, position, question_key, payload)"
        " VALUES (?, 0, 'aws:q1:ko', '{}')",
        (session_id,),
    )


async def answer(db: Database, user: int, session_id: int | None, *, source: str) -> None:
    await db.execute(
        "INSERT INTO quiz_answers (guild_id, user_id, question_key, topic, session_id, position, choice, correct,"
        " latency_ms, source, answered_at) VALUES (?, ?, 'aws:q1:ko', 'aws', ?, 0, 1, 1, 900, ?, ?)",
        (GUILD, user, session_id, source, to_text(NOW)),
    )


async def seed_guild_records_naming(db: Database, user: int) -> int:
    """What a guild keeps that names `user`: a bank, a group quiz others answered, drafts, the daily schedule."""
    at = to_text(NOW)
    await db.execute(
        "INSERT INTO guild_banks (guild_id, bank_id, name_json, topic, version, imported_by, imported_at,"
        " source_filename) VALUES (?, 'aws', '{}', 'aws', 1, ?, ?, 'aws.yaml')",
        (GUILD, user, at),
    )
    group = await db.insert(
        "INSERT INTO quiz_sessions (guild_id, channel_id, starter_id, topic, language, question_count,"
        " seconds_per_question, status, created_at, ended_at, stopped_by) VALUES (?, ?, ?, 'aws', 'ko', 1, 30,"
        " 'stopped', ?, ?, ?)",
        (GUILD, CHANNEL, user, at, at, user),
    )
    assert group is not None
    await add_question(db, group)
    await answer(db, user, group, source="session")
    await answer(db, BOB, group, source="session")
    await db.execute(
        "INSERT INTO generated_drafts (guild_id, requested_by, topic, language, payload, created_at)"
        " VALUES (?, ?, 'aws', 'ko', '{}', ?)",
        (GUILD, user, at),
    )
    await db.execute(
        "INSERT INTO daily_schedules (guild_id, channel_id, local_time, timezone, topics_json, language,"
        " reveal_minutes, no_repeat_days, configured_by, next_due_at, updated_at)"
        " VALUES (?, ?, '09:00', 'Asia/Seoul', '[]', 'ko', 60, 7, ?, ?, ?)",
        (GUILD, CHANNEL, user, at, at),
    )
    return group


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.db")
    await seed(database, ALICE, "alicewords")
    await seed(database, BOB, "bobwords")
    await seed_guild_records_naming(database, ALICE)
    yield database
    await database.close()


@pytest.fixture
def service(db: Database) -> MyDataService:
    return MyDataService(MyDataRepository(db), now=lambda: NOW)


async def count(db: Database, sql: str, *params: Any) -> int:
    return int(await db.fetch_value(f"SELECT COUNT(*) FROM {sql}", params))


async def search(db: Database, text: str) -> int:
    return await count(db, "til_search WHERE til_search MATCH ?", f'"{text}"')


def test_every_column_holding_a_member_id_is_known() -> None:
    """A new table or column with a user id must be exported and erased too: this fails until it is listed."""
    conn = sqlite3.connect(":memory:")
    for migration in bundled_migrations():
        for statement in split_statements(migration.sql):
            conn.execute(statement)
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    holding_ids = {
        (table, column[1])
        for table in tables
        for column in conn.execute(f"PRAGMA table_info({table})")
        if column[1] in USER_ID_COLUMN or column[1].endswith("_by")
    }
    known = {(c.table, c.column) for c in (*PERSONAL, *ATTRIBUTED)}
    assert holding_ids == known


async def test_export_holds_everything_about_the_member_and_nothing_of_others(service: MyDataService) -> None:
    exported = await service.export(ALICE)
    assert exported.filename == f"studybuddy-mydata-{ALICE}-2026-11-26.json"
    document = json.loads(exported.data)
    assert document["user_id"] == str(ALICE) and document["exported_at"] == NOW.isoformat()
    tables = document["tables"]
    sizes = {name: len(rows) for name, rows in tables.items()}
    assert sizes == {
        "user_settings": 1,
        "til_posts": 2,
        "til_members": 2,
        "quiz_answers": 3,  # solo, review and the group quiz
        "review_cards": 1,
        "llm_usage": 2,
        "dm_messages": 2,
        "til_questions": 1,
        "quiz_sessions.starter_id": 2,
        "quiz_sessions.stopped_by": 1,
        "guild_banks.imported_by": 1,
        "generated_drafts.requested_by": 1,
        "daily_schedules.configured_by": 1,
    }
    assert {post["guild_id"] for post in tables["til_posts"]} == {str(GUILD), str(OTHER_GUILD)}
    assert all(post["author_id"] == str(ALICE) for post in tables["til_posts"])
    assert tables["dm_messages"][0]["content"] == "what is alicewords?"
    assert "인스턴스를 alicewords 배웠다" in exported.data.decode()
    assert "bobwords" not in exported.data.decode()


async def test_a_member_without_data_exports_empty_tables(service: MyDataService) -> None:
    document = json.loads((await service.export(12345)).data)
    assert document["user_id"] == "12345"
    assert all(rows == [] for rows in document["tables"].values())


async def test_delete_erases_the_member_everywhere_and_keeps_everyone_else(db: Database) -> None:
    repo = MyDataRepository(db)
    service = MyDataService(repo, now=lambda: NOW)
    bob_before = await repo.rows_of(BOB)
    guild_tokens = await db.fetch_value("SELECT SUM(input_tokens + output_tokens) FROM llm_usage")
    assert await search(db, "alicewords") == 2 and await search(db, "bobwords") == 2

    removed = await service.delete(ALICE)

    assert removed == {
        "til_questions": 1,
        "user_settings": 1,
        "til_posts": 2,
        "til_members": 2,
        "quiz_answers": 3,
        "review_cards": 1,
        "llm_usage": 2,
        "dm_messages": 2,
        "quiz_sessions": 1,  # the finished solo quiz; the group quiz Bob answered stays
        "quiz_sessions.starter_id": 1,
        "quiz_sessions.stopped_by": 1,
        "guild_banks.imported_by": 1,
        "generated_drafts.requested_by": 1,
        "daily_schedules.configured_by": 1,
    }
    after = await repo.rows_of(ALICE)
    assert all(rows == [] for rows in after.values()), {name: rows for name, rows in after.items() if rows}
    # The search index followed the posts out (the til_posts triggers), and kept Bob's.
    assert await search(db, "alicewords") == 0
    assert await search(db, "인스턴스를 alice") == 0
    assert await search(db, "bobwords") == 2
    assert await repo.rows_of(BOB) == bob_before
    # The guild keeps its records, naming nobody now, and its token budget still counts what Alice used.
    assert await count(db, "guild_banks WHERE imported_by = ?", DELETED_MEMBER) == 1
    assert await count(db, "quiz_sessions WHERE starter_id = ? AND stopped_by = ?", DELETED_MEMBER, DELETED_MEMBER) == 1
    assert await count(db, "quiz_answers WHERE user_id = ?", BOB) == 3
    assert await db.fetch_value("SELECT SUM(input_tokens + output_tokens) FROM llm_usage") == guild_tokens
    assert await count(db, "llm_usage WHERE user_id = ?", DELETED_MEMBER) == 2

    again = await service.delete(ALICE)
    assert set(again.values()) == {0}
    # /mydata delete names every table it emptied in words, never by its table name.
    catalog = Catalog.load()
    for language in ("ko", "en"):
        labels = {f"mydata_ui.count.{name}" for name in removed if "." not in name}
        assert labels <= catalog.keys(language), labels - catalog.keys(language)


async def test_a_running_solo_quiz_is_left_to_finish(db: Database, service: MyDataService) -> None:
    running = await db.insert(
        "INSERT INTO quiz_sessions (guild_id, channel_id, starter_id, topic, language, question_count,"
        " seconds_per_question, solo, created_at) VALUES (?, 555, ?, 'aws', 'ko', 3, 30, 1, ?)",
        (GUILD, ALICE, to_text(NOW + timedelta(minutes=1))),
    )
    removed = await service.delete(ALICE)
    assert removed["quiz_sessions"] == 1
    assert await count(db, "quiz_sessions WHERE id = ? AND starter_id = ?", running, DELETED_MEMBER) == 1


async def test_delete_is_one_transaction(db: Database, service: MyDataService) -> None:
    # A failure half-way (here a trigger refusing the DM history) must leave every row where it was.
    await db.execute("CREATE TRIGGER refuse BEFORE DELETE ON dm_messages BEGIN SELECT RAISE(ABORT, 'refused'); END")
    before = await MyDataRepository(db).rows_of(ALICE)
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        await service.delete(ALICE)
    assert await MyDataRepository(db).rows_of(ALICE) == before
    assert await search(db, "alicewords") == 2
