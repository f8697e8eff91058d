"""The `studybuddy` command: run the bot, check the configuration, back up the database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from bot.playground import HELP as PLAYGROUND_LINES

# discord.py and LangChain are imported inside the commands that need them: together they take
# most of a second to import, and a missing token must be reported at once.

log = logging.getLogger(__name__)

PORTAL = "https://discord.com/developers/applications"
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

NO_TOKEN = f"""\
DISCORD_TOKEN is not set.
  1. Open {PORTAL}, choose (or create) your application, then Bot -> Reset Token and copy it.
  2. Put it in a .env file next to where you run studybuddy:  DISCORD_TOKEN=your-token
     (or export DISCORD_TOKEN in your shell). See .env.example for every setting."""

BAD_TOKEN = f"""\
Discord rejected DISCORD_TOKEN (401 Unauthorized).
  The token may have been reset or mistyped. Copy a fresh one from {PORTAL} -> your application -> Bot
  -> Reset Token (not the Client Secret or the Application ID)."""


def _settings_or_exit(out: TextIO) -> Settings | None:
    try:
        return load_settings()
    except ConfigError as exc:
        print(exc, file=out)
        return None


def looks_like_bot_token(token: str) -> bool:
    """Bot tokens are three dot-separated parts; a client secret or application id is not."""
    return token.count(".") == 2 and all(token.split("."))


async def run_bot(settings: Settings, out: TextIO = sys.stderr) -> int:
    if settings.discord_token is None:
        print(NO_TOKEN, file=out)
        return EXIT_CONFIG
    token = settings.discord_token.get_secret_value().strip()
    if not looks_like_bot_token(token):
        print(
            "DISCORD_TOKEN does not look like a bot token (it should have three parts separated by dots).\n"
            + BAD_TOKEN.split("\n", 1)[1],
            file=out,
        )
        return EXIT_CONFIG
    import discord

    from bot.app import build_services
    from bot.bot import StudyBuddy

    services = await build_services(settings)
    bot = StudyBuddy(services)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        print(BAD_TOKEN, file=out)
        return EXIT_CONFIG
    except discord.PrivilegedIntentsRequired as exc:
        print(f"Discord refused a privileged intent for shard {exc.shard_id}: enable it in the Portal.", file=out)
        return EXIT_CONFIG
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if not bot.is_closed():
            await bot.close()
    log.info("StudyBuddy stopped")
    return EXIT_OK


def _mask(value: object | None) -> str:
    return "(not set)" if value is None else "******** (set)"


async def check(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Validates configuration, migrates the database and loads every prompt; prints what is set."""
    from bot.llm.prompts import PromptError, PromptLibrary
    from bot.storage import Database

    rows: list[tuple[str, str, str]] = [
        (
            "DISCORD_TOKEN",
            _mask(settings.discord_token),
            "ok" if settings.discord_token else f"MISSING: required by `studybuddy run` ({PORTAL})",
        ),
        (
            "OPENAI_API_KEY",
            _mask(settings.openai_api_key),
            "ok" if settings.openai_api_key else "optional: without it or OPENAI_BASE_URL, LLM commands are off",
        ),
        ("OPENAI_BASE_URL", settings.openai_base_url or "(default: OpenAI)", "ok"),
        ("STUDYBUDDY_MODEL", settings.model, "ok"),
        ("STUDYBUDDY_DB", str(settings.database), ""),
        ("STUDYBUDDY_DEV_GUILD", str(settings.dev_guild or "(not set: commands sync globally)"), "ok"),
        ("STUDYBUDDY_LOG_LEVEL", settings.log_level, "ok"),
    ]
    healthy = settings.discord_token is not None
    if settings.discord_token and not looks_like_bot_token(settings.discord_token.get_secret_value().strip()):
        rows[0] = (rows[0][0], rows[0][1], "INVALID: does not look like a bot token")
        healthy = False
    try:
        db = await Database.open(settings.database)
        try:
            version = await db.schema_version()
        finally:
            await db.close()
        rows[4] = (rows[4][0], rows[4][1], f"ok (schema version {version})")
    except Exception as exc:
        rows[4] = (rows[4][0], rows[4][1], f"FAILED: {exc}")
        healthy = False
    try:
        library = PromptLibrary.load()
        rows.append(("prompts", f"{len(library.files())} files", "ok: " + ", ".join(library.names())))
    except PromptError as exc:
        rows.append(("prompts", "", f"FAILED: {exc}"))
        healthy = False
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    for name, value, status in rows:
        print(f"{name:<{width}}  {value:<{value_width}}  {status}", file=out)
    print("\nready to run" if healthy else "\nnot ready: fix the lines marked MISSING, INVALID or FAILED", file=out)
    return EXIT_OK if healthy else EXIT_FAILED


async def backup(settings: Settings, target: Path, out: TextIO = sys.stdout) -> int:
    from bot.storage import Database

    db = await Database.open(settings.database)
    try:
        await db.backup(target)
    finally:
        await db.close()
    print(f"Backed up {settings.database} to {target}", file=out)
    return EXIT_OK


PLAYGROUND_DESCRIPTION = """\
Try the real bot in a terminal: the same cogs, services and storage, through the real discord.py
client, against an embedded local Discord with a small study server (#study, #lounge, #quiz, a `til`
forum; members alice (ko), bob (en) and mod, a moderator). No DISCORD_TOKEN is needed. LLM commands use
OPENAI_API_KEY / OPENAI_BASE_URL from your configuration, or answer "not configured" without one.
Interactively, time flows and `time` jumps it; in a script, time moves only on `time` lines.

"""


def playground_script(path: Path) -> list[str] | None:
    """The lines of a script file (`-`: standard input), or None when it cannot be read."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"Cannot read the script {path}: {exc}", file=sys.stderr)
        return None
    return text.splitlines()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studybuddy", description="StudyBuddy, a Discord study-group bot.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot")
    commands.add_parser("check", help="validate configuration, database and prompts")
    db = commands.add_parser("db", help="database tools").add_subparsers(dest="db_command", required=True)
    db_backup = db.add_parser("backup", help="online, consistent copy of the database")
    db_backup.add_argument("path", type=Path)
    playground = commands.add_parser(
        "playground",
        help="try the bot in a terminal on a simulated Discord (no token needed)",
        description=PLAYGROUND_DESCRIPTION + PLAYGROUND_LINES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    playground.add_argument(
        "--script", type=Path, metavar="FILE", help="run FILE's lines (- for standard input) and print the transcript"
    )
    playground.add_argument(
        "--db", type=Path, metavar="PATH", help="SQLite file to use and keep (default: a temporary one)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = _settings_or_exit(sys.stderr)
    if settings is None:
        return EXIT_CONFIG
    secrets = [s.get_secret_value() for s in (settings.discord_token, settings.openai_api_key) if s is not None]
    level = settings.log_level_number
    if args.command == "playground" and "log_level" not in settings.model_fields_set:
        level = logging.WARNING  # the transcript is the point; INFO lines would bury it
    configure_logging(level, secrets)
    if args.command == "playground":
        return playground(settings, args.script, args.db)
    if args.command == "run":
        return asyncio.run(run_bot(settings))
    if args.command == "check":
        return asyncio.run(check(settings))
    if args.path.resolve() == settings.database.resolve():
        print("The backup path must differ from STUDYBUDDY_DB.", file=sys.stderr)
        return EXIT_CONFIG
    return asyncio.run(backup(settings, args.path))


def playground(settings: Settings, script_path: Path | None, db: Path | None) -> int:
    from bot.playground import run_playground

    script = None
    if script_path is not None:
        script = playground_script(script_path)
        if script is None:
            return EXIT_CONFIG
    elif not sys.stdin.isatty():
        script = sys.stdin.read().splitlines()  # piped in: the same as --script -
    return asyncio.run(run_playground(settings, script=script, db=db))


if __name__ == "__main__":
    sys.exit(main())
