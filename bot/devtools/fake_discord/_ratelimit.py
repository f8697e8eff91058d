"""Discord's rate limits, modelled as fixed windows.

Discord documents two layers (https://discord.com/developers/docs/topics/rate-limits):

* per-route buckets, keyed by the route's *top-level resource* (the channel id for
  ``/channels/{channel_id}/...``, the guild id for ``/guilds/{guild_id}/...``, the webhook id and
  token for ``/webhooks/{id}/{token}/...``). Several routes may share a bucket; the response's
  ``X-RateLimit-Bucket`` hash tells the client which ones do.
* a global limit of 50 requests per second per bot, from which interaction endpoints
  (``/interactions/...`` and ``/webhooks/{application_id}/{token}/...``) are exempt.

A window opens on the first request after the previous one expired and admits ``limit`` requests
until it resets ``per`` seconds later, which is what discord.py's ``Ratelimit`` expects from the
``X-RateLimit-Remaining``/``-Reset-After`` headers. The clock is injectable so the limiter can be
unit tested without sleeping.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass(frozen=True)
class BucketSpec:
    """``limit`` requests per ``per`` seconds for every resource sharing the bucket ``name``."""

    name: str
    limit: int
    per: float

    @property
    def hash(self) -> str:
        """An opaque ``X-RateLimit-Bucket`` value, stable per bucket name like Discord's."""
        return hashlib.sha1(self.name.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Decision:
    """The outcome of one request against one window."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float


@dataclass
class _Window:
    reset_at: float
    used: int = 0


@dataclass
class FixedWindowLimiter:
    """Counts requests per key in fixed windows of ``spec.per`` seconds."""

    clock: Clock = time.monotonic
    _windows: dict[str, _Window] = field(default_factory=dict)

    def hit(self, key: str, spec: BucketSpec) -> Decision:
        """Count one request for ``key``; refuse it when the window is already full."""
        now = self.clock()
        window = self._windows.get(key)
        if window is None or now >= window.reset_at:
            window = self._windows[key] = _Window(reset_at=now + spec.per)
        reset_after = max(window.reset_at - now, 0.0)
        if window.used >= spec.limit:
            return Decision(False, spec.limit, 0, reset_after)
        window.used += 1
        return Decision(True, spec.limit, spec.limit - window.used, reset_after)

    def reset(self) -> None:
        self._windows.clear()


@dataclass(frozen=True)
class RateLimitPolicy:
    """Which bucket a route belongs to, with Discord-like defaults (all configurable)."""

    message_limit: int = 5
    message_per: float = 5.0
    webhook_limit: int = 5
    webhook_per: float = 2.0
    default_limit: int = 50
    default_per: float = 1.0
    global_limit: int = 50
    global_per: float = 1.0

    @property
    def global_spec(self) -> BucketSpec:
        return BucketSpec("global", self.global_limit, self.global_per)

    def bucket_for(self, method: str, template: str) -> BucketSpec | None:
        """The bucket of a route template such as ``/channels/{channel_id}/messages``; None if unlimited."""
        if template.startswith("/interactions/"):
            # Interaction callbacks are answered once per interaction; Discord does not bucket them.
            return None
        if template.startswith("/webhooks/{application_id}/{token}"):
            return BucketSpec("webhook-token", self.webhook_limit, self.webhook_per)
        if template.startswith("/channels/{channel_id}/messages") and method in {"POST", "PATCH"}:
            if template.endswith("/threads"):
                return BucketSpec(f"{method} {template}", self.default_limit, self.default_per)
            # Creating and editing messages share one bucket per channel.
            return BucketSpec("channel-messages", self.message_limit, self.message_per)
        return BucketSpec(f"{method} {template}", self.default_limit, self.default_per)

    @staticmethod
    def is_global_exempt(template: str) -> bool:
        return template.startswith(("/interactions/", "/webhooks/{application_id}/{token}"))

    @staticmethod
    def major_key(template: str, params: dict[str, str]) -> str:
        """The top-level resource a bucket is counted against."""
        if template.startswith("/channels/"):
            return f"channel={params['channel_id']}"
        if template.startswith("/guilds/"):
            return f"guild={params['guild_id']}"
        if template.startswith("/webhooks/{application_id}/{token}"):
            return f"webhook={params['application_id']}+{params['token']}"
        return "-"
