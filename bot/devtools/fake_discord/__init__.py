"""A fake Discord (REST + gateway on 127.0.0.1) that the real discord.py client logs into.

See ``tests/README.md`` ("Fake Discord") for usage. It is part of the package because `studybuddy playground` runs
the real bot against it; the tests use it from here too.
"""

from ._commands import FakeDiscordUsageError
from ._fake import FakeDiscord
from ._interaction import FakeInteraction
from ._models import FakeChannel, FakeGuild, FakeMessage, FakeRole, FakeUser, RecordedRequest
from ._ratelimit import BucketSpec, Decision, FixedWindowLimiter, RateLimitPolicy
from ._running import running_fake_discord, start_bot

__all__ = [
    "BucketSpec",
    "Decision",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordUsageError",
    "FakeGuild",
    "FakeInteraction",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "FixedWindowLimiter",
    "RateLimitPolicy",
    "RecordedRequest",
    "running_fake_discord",
    "start_bot",
]
