"""The REST front door: routing, auth, request records, fault injection and rate limits.

Every reply goes through here so each one gets exactly ``Content-Type: application/json`` and, for
rate-limited routes, the ``X-RateLimit-*`` headers discord.py uses to wait ahead of time.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from ._http import BODY, DiscordError, read_body, reply
from ._models import RecordedRequest
from ._ratelimit import BucketSpec, Decision, RateLimitPolicy
from ._routes_app import AppRoutes
from ._routes_channels import ChannelRoutes
from ._routes_interactions import InteractionRoutes

if TYPE_CHECKING:
    from ._fake import FakeDiscord

API_PREFIX = "/api/v10"
log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FailRule:
    """``fail_next``: answer the next ``count`` matching requests with ``status``."""

    method: str
    pattern: re.Pattern[str]
    status: int
    count: int

    def matches(self, method: str, template: str, url_path: str) -> bool:
        if self.count <= 0 or self.method not in {method, "*"}:
            return False
        return bool(self.pattern.search(template) or self.pattern.search(url_path))


def ratelimit_headers(spec: BucketSpec, decision: Decision) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": f"{time.time() + decision.reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{decision.reset_after:.3f}",
        "X-RateLimit-Bucket": spec.hash,
    }


def too_many_requests(spec: BucketSpec, decision: Decision, *, is_global: bool) -> web.Response:
    headers = ratelimit_headers(spec, decision) | {
        "Via": "1.1 google",
        "Retry-After": str(max(1, math.ceil(decision.reset_after))),
        "X-RateLimit-Scope": "global" if is_global else "user",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    body = {
        "message": "You are being rate limited.",
        "retry_after": round(decision.reset_after, 3),
        "global": is_global,
    }
    return reply(body, 429, headers)


class RestServer:
    def __init__(self, fake: FakeDiscord, policy: RateLimitPolicy, *, send_ratelimit_headers: bool) -> None:
        self.fake = fake
        self.policy = policy
        self.send_ratelimit_headers = send_ratelimit_headers
        self.fail_rules: list[FailRule] = []

    def build_app(self, gateway_handler: Handler) -> web.Application:
        app = web.Application(middlewares=[self.middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", gateway_handler)
        for group in (AppRoutes(self.fake), ChannelRoutes(self.fake), InteractionRoutes(self.fake)):
            for method, template, handler in group.routes():
                app.router.add_route(method, API_PREFIX + template, handler)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self.attachment)
        app.router.add_route("*", "/{tail:.*}", self.unknown)
        return app

    async def attachment(self, request: web.Request) -> web.Response:
        """The CDN: what a user uploaded with a command, fetched by `Attachment.read()`."""
        blob = self.fake.world.attachments.get(int(request.match_info["attachment_id"]))
        if blob is None:
            return web.Response(status=404)
        return web.Response(body=blob, content_type="application/octet-stream")

    async def unknown(self, request: web.Request) -> web.Response:
        log.warning("fake discord: no route for %s %s", request.method, request.path)
        return reply({"message": "404: Not Found", "code": 0}, 404)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        template = canonical.removeprefix(API_PREFIX) if canonical.startswith(API_PREFIX) else "?"
        url_path = request.path.removeprefix(API_PREFIX)
        exempt = RateLimitPolicy.is_global_exempt(template)
        record = RecordedRequest(request.method, template, url_path, None, is_interaction_endpoint=exempt)
        self.fake.requests.append(record)
        try:
            body = await read_body(request)
        except (ValueError, json.JSONDecodeError):
            record.status = 400
            return reply({"message": "The request body contains invalid JSON.", "code": 50109}, 400)
        request[BODY] = body
        record.json = body.json
        record.files = list(body.files.values())
        response = await self._answer(request, handler, record, template)
        record.status = response.status
        if response.status == 429:
            self.fake.count_429 += 1
        return response

    async def _answer(
        self, request: web.Request, handler: Handler, record: RecordedRequest, template: str
    ) -> web.StreamResponse:
        self.fake.touch_interaction(request.match_info)
        if template == "?":
            return await handler(request)
        if not record.is_interaction_endpoint and request.headers.get("Authorization") != f"Bot {self.fake.bot_token}":
            return reply({"message": "401: Unauthorized", "code": 0}, 401)
        injected = self._injected_failure(request.method, template, record.url_path)
        if injected is not None:
            return injected
        limited, headers = self._rate_limit(request, template, record)
        if limited is not None:
            return limited
        try:
            response = await handler(request)
        except DiscordError as error:
            response = error.response()
        if self.send_ratelimit_headers:
            response.headers.update(headers)
        return response

    def _injected_failure(self, method: str, template: str, url_path: str) -> web.Response | None:
        for rule in self.fail_rules:
            if rule.matches(method, template, url_path):
                rule.count -= 1
                if rule.status == 429:
                    spec = BucketSpec("injected", 1, 0.05)
                    return too_many_requests(spec, Decision(False, 1, 0, 0.05), is_global=False)
                return reply({"message": f"{rule.status}: injected failure", "code": 0}, rule.status)
        return None

    def _rate_limit(
        self, request: web.Request, template: str, record: RecordedRequest
    ) -> tuple[web.Response | None, dict[str, str]]:
        """Global window first (unless exempt), then the route's bucket for its top-level resource."""
        limiter = self.fake.limiter
        if not record.is_interaction_endpoint:
            spec = self.policy.global_spec
            decision = limiter.hit("global", spec)
            if not decision.allowed:
                self.fake.global_429 += 1
                return too_many_requests(spec, decision, is_global=True), {}
        spec_or_none = self.policy.bucket_for(request.method, template)
        if spec_or_none is None:
            return None, {}
        key = f"{spec_or_none.name}:{RateLimitPolicy.major_key(template, dict(request.match_info))}"
        record.bucket = key
        decision = limiter.hit(key, spec_or_none)
        if not decision.allowed:
            return too_many_requests(spec_or_none, decision, is_global=False), {}
        return None, ratelimit_headers(spec_or_none, decision)
