"""`studybuddy playground`: the real bot on an embedded fake Discord, in a terminal, with no token.

Light on purpose: the CLI imports this for its help text; the bot, discord.py and the fake are imported
only when a playground starts.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.playground._lines import HELP

__all__ = ["HELP", "run_playground"]

EXIT_OK, EXIT_FAILED = 0, 1


def _not_about_voice(record: logging.LogRecord) -> bool:
    """discord.py warns at start that voice libraries are missing; the playground has no voice, so it is noise."""
    return "voice will NOT be supported" not in record.getMessage()


async def run_playground(
    settings: Settings,
    *,
    script: Sequence[str] | None = None,
    db: Path | None = None,
    out: TextIO = sys.stdout,
    start: datetime | None = None,
) -> int:
    """Runs `script` (printing the transcript to `out`), or the interactive terminal UI when None.

    0 once the session ends, 1 if the bot could not start."""
    from bot.playground._session import Playground, PrintOutput

    voice = logging.getLogger("discord.client")
    if _not_about_voice not in voice.filters:
        voice.addFilter(_not_about_voice)

    if script is None:
        from bot.playground._tui import run_interactive

        return await run_interactive(settings, db=db)
    playground = Playground(settings, output=PrintOutput(out.write), db=db, start=start)
    try:
        await playground.start()
    except Exception as error:
        print(f"The bot failed to start: {error!r}", file=sys.stderr)
        return EXIT_FAILED
    try:
        for line in script:
            if not await playground.execute(line):
                break
        await playground.finish()
    finally:
        await playground.stop()
    return EXIT_OK
