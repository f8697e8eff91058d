"""The one door to the embedded fake Discord: every name the playground uses from it comes through here.

The fake lives in `tests/fakes/discord/` for now; when it moves into the package only these imports change.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

# Until the fake moves into the package it is only importable from a source checkout: make it importable
# from the checkout this package sits in, whatever the working directory. (Goes away with the move.)
_CHECKOUT = Path(__file__).resolve().parents[2]
if (_CHECKOUT / "tests" / "fakes" / "discord").is_dir() and str(_CHECKOUT) not in sys.path:
    sys.path.append(str(_CHECKOUT))

from tests.fakes.discord import (  # noqa: E402 - after the path fix above
    FakeChannel,
    FakeDiscord,
    FakeDiscordUsageError,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
)
from tests.fakes.discord._builder import InteractionBuilder  # noqa: E402
from tests.fakes.discord._pytest import running_fake_discord, start_bot  # noqa: E402
from tests.fakes.discord._state import World  # noqa: E402

__all__ = [
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordUsageError",
    "FakeGuild",
    "FakeInteraction",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "running_fake_discord",
    "start_bot",
    "with_stable_ids",
]

# 2025-01-01 00:00 UTC in Discord's epoch: the timestamp part of the ids the simulated guild is built with.
STABLE_MS = 1_735_689_600_000 - 1_420_070_400_000


class _StableWorld(World):
    """A world whose guild, channels, roles and members get the same ids every run, so a database kept with
    `--db` finds its guild again. Everything made at run time (messages, interactions, the application) keeps
    Discord's time-based ids."""

    def __init__(self, **kwargs: Any) -> None:
        self.stable = False
        self._stable_ids = itertools.count(1)
        super().__init__(**kwargs)

    def snowflake(self) -> int:
        if getattr(self, "stable", False):
            return (STABLE_MS << 22) | next(self._stable_ids)
        return super().snowflake()


def with_stable_ids(fake: FakeDiscord) -> _StableWorld:
    """Gives a new, not yet started `fake` a world with stable ids; set `.stable` while building the guild."""
    world = _StableWorld(bot_name=fake.world.bot_user.name, bot_permissions=fake.world.bot_permissions)
    fake.world = world
    fake._builder = InteractionBuilder(world, fake._commands)
    return world
