"""The `studybuddy` command as a new user meets it."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiosqlite

from bot.cli import backup, check, run_bot
from bot.config import Settings
from bot.devtools.fake_discord import FakeDiscord, running_fake_discord

ROOT = Path(__file__).resolve().parents[2]
CLEAN_ENV = {
    key: value for key, value in os.environ.items() if not key.startswith(("DISCORD_", "OPENAI_", "STUDYBUDDY_"))
}


def studybuddy(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**CLEAN_ENV, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_a_token_explains_what_to_set_within_a_second(tmp_path: Path) -> None:
    started = time.monotonic()
    result = studybuddy("run", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert "DISCORD_TOKEN is not set" in result.stderr
    assert "discord.com/developers/applications" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 1.0, elapsed


def test_an_invalid_setting_names_the_variable(tmp_path: Path) -> None:
    result = studybuddy("check", cwd=tmp_path, STUDYBUDDY_LOG_LEVEL="loud")
    assert result.returncode == 2
    assert "STUDYBUDDY_LOG_LEVEL" in result.stderr and "Traceback" not in result.stderr


def test_check_prints_a_table_with_secrets_masked(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=MTIz.abc.secret-part-of-token\nOPENAI_API_KEY=sk-supersecret\n")
    result = studybuddy("check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "secret" not in result.stdout
    assert "ready to run" in result.stdout
    assert "schema version" in result.stdout
    assert "explain" in result.stdout  # prompts were loaded
    assert (tmp_path / "studybuddy.db").exists()


def test_check_reports_what_is_missing(tmp_path: Path) -> None:
    result = studybuddy("check", cwd=tmp_path)
    assert result.returncode == 1
    assert "MISSING" in result.stdout and "DISCORD_TOKEN" in result.stdout


def test_db_backup_writes_a_consistent_copy(tmp_path: Path) -> None:
    assert studybuddy("check", cwd=tmp_path).returncode == 1  # creates and migrates the database
    result = studybuddy("db", "backup", "backups/copy.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "backups" / "copy.db"
    assert copy.exists()
    refused = studybuddy("db", "backup", "studybuddy.db", cwd=tmp_path)
    assert refused.returncode == 2


async def test_backup_copy_has_the_schema(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database=tmp_path / "bot.db")  # type: ignore[call-arg]
    out = io.StringIO()
    await check(settings, out)
    await backup(settings, tmp_path / "copy.db", out)
    async with (
        aiosqlite.connect(tmp_path / "copy.db") as copy,
        copy.execute("SELECT MAX(version) FROM schema_migrations") as cursor,
    ):
        assert (await cursor.fetchone())[0] >= 2  # type: ignore[index]


async def test_a_wrong_token_gives_a_clear_message(tmp_path: Path) -> None:
    async with running_fake_discord(FakeDiscord()):
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, discord_token="MTIz.wrong.token", database=tmp_path / "bot.db"
        )
        out = io.StringIO()
        assert await run_bot(settings, out) == 2
    assert "rejected DISCORD_TOKEN" in out.getvalue()


async def test_a_token_that_is_not_a_bot_token_is_caught_before_connecting(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, discord_token="1234567890", database=tmp_path / "bot.db")  # type: ignore[call-arg]
    out = io.StringIO()
    assert await run_bot(settings, out) == 2
    assert "does not look like a bot token" in out.getvalue()


async def test_sigterm_shuts_down_gracefully_and_closes_the_database(tmp_path: Path) -> None:
    """`studybuddy run` traps SIGTERM: the bot logs out, in-flight answers are marked, the database closes."""
    async with running_fake_discord(FakeDiscord()) as fake:
        fake.add_guild("Study Group")
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, discord_token=fake.bot_token, database=tmp_path / "bot.db"
        )
        out = io.StringIO()
        running = asyncio.create_task(run_bot(settings, out))
        await fake.wait_ready(10)
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(running, 10) == 0
    assert out.getvalue() == ""
    async with aiosqlite.connect(tmp_path / "bot.db") as db, db.execute("PRAGMA integrity_check") as cursor:
        assert await cursor.fetchone() == ("ok",)
