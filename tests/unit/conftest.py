"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A real SQLite file with every migration applied, closed after the test."""
    database = await Database.open(tmp_path / "bot.db")
    yield database
    await database.close()
