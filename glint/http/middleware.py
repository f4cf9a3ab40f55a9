"""ASGI middleware: X-Request-ID on every response, one access-log line and metrics per request,
and the quota hits a request counts only once its response shows it succeeded."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import unquote_to_bytes

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from glint.infra.logging import get_logger
from glint.infra.metrics import Metrics

log = get_logger("glint.access")

RATE_LIMIT_HEADERS_KEY = "rate_limit_headers"
# Counters to run when the response starts, given its status; each may answer the
# X-RateLimit-* headers it leaves (glint.http.deps.count_action_if_done puts them here).
COUNT_IF_DONE_KEY = "rate_limit_count_if_done"
CountIfDone = Callable[[int], Awaitable[dict[str, str] | None]]
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Binds a request ID, times the request and records it by route template."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        if _has_unstorable_bytes(scope):
            await _refuse_unstorable(scope, send, request_id)
            return
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                await _count_if_done(scope, status)
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                # Time spent in the app until the response starts, for clients and benchmarks.
                spent = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={spent:.2f}".encode()))
                # Rate-limit headers belong on errors too, which replace the endpoint's response.
                known = {name.lower() for name, _ in headers}
                for name, value in scope["state"].get(RATE_LIMIT_HEADERS_KEY, {}).items():
                    if name.lower().encode() not in known:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe_request(scope["method"], route, status, elapsed)
            if route != "/metrics":
                log.info(
                    "request",
                    method=scope["method"],
                    route=route,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id")


async def _count_if_done(scope: Scope, status: int) -> None:
    counters: list[CountIfDone] = scope["state"].pop(COUNT_IF_DONE_KEY, [])
    for count in counters:
        try:
            headers = await count(status)
        except Exception:  # the action is done and answered: a counter must not undo that
            log.exception("rate_limit_count_failed", status=status)
            continue
        if headers:
            scope["state"][RATE_LIMIT_HEADERS_KEY] = headers


def _has_unstorable_bytes(scope: Scope) -> bool:
    # A NUL or a broken UTF-8 sequence in the path or query would only reach the database as
    # an error (PostgreSQL refuses them in text); refuse the request up front instead.
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    for part in (raw_path, scope.get("query_string", b"")):
        decoded = unquote_to_bytes(part)
        if b"\x00" in decoded:
            return True
        try:
            decoded.decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


async def _refuse_unstorable(scope: Scope, send: Send, request_id: str) -> None:
    body = orjson.dumps(
        {"error": {"code": "bad_request", "message": "The URL contains bytes that are not text."}}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            # Echo only sane IDs: a client must not inject newlines or megabytes into our logs.
            return text if _VALID_REQUEST_ID.match(text) else None
    return None


def _route_template(scope: Scope) -> str:
    # FastAPI keeps the full template (router prefixes included) in its effective route
    # context; the route object itself only knows its path within its own router.
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    route = scope.get("route")
    path = getattr(context, "path", None) or getattr(route, "path_format", None)
    if isinstance(path, str) and path:
        return path
    # Unmatched paths would explode the label space: lump them together.
    return "unmatched"
