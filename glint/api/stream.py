"""GET /api/v1/stream: the WebSocket that carries a signed-in device's real-time events.

**Signing in**, one of (first match wins; a bad token is refused, never tried as the next):
- `?token=<session token>`;
- the subprotocols `["glint", "bearer.<session token>"]` (browsers cannot set headers on a
  WebSocket); the server accepts `glint` and never echoes the token;
- the `glint_session` cookie, only with an `Origin` whose host and port are the request's
  `Host` (another site's page must not ride the cookie: cross-site WebSocket hijacking).

**Server frames** are JSON `{"id", "type", "data"}`. Stored events carry their `id`: keep the
last one and reconnect with `?since=<id>` to receive what was missed, in order. Ephemeral ones
(`typing`) and control frames have `"id": null`, except `resync` (events were missed and are no
longer kept: refetch, then carry on), whose `id` is the position to reconnect from; `ping`
(every GLINT_STREAM_PING_SECONDS), `pong`.

**Client frames**: `{"type": "pong"}` answers a ping (any frame counts; a client silent between
two pings is dropped), `{"type": "ping"}` is answered with a pong. Nothing else is accepted.

**Close codes**: 4401 not signed in, or the session ended (sign-out, password change, ban);
4403 cookie without a same-origin `Origin`; 4429 connecting too often (the `default` rate
limit, per user); 4008 too slow (a frame not taken within
GLINT_STREAM_SEND_TIMEOUT_SECONDS, or too many signals waiting); 4408 no pong; 1003 binary
frame; 1008 unexpected frame or too many; 1009 frame over 1 KiB; 1011 server trouble (retry with
`since`); 1001 server shutting down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
from fastapi import APIRouter, WebSocket
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected, WebSocketState

from glint.accounts import sessions as accounts_sessions
from glint.accounts.models import User
from glint.errors import RateLimited
from glint.http.deps import SESSION_COOKIE, count_action, resolve_session
from glint.infra.eventlog import EventLogUnavailable, StoredEvent
from glint.infra.hub import Close, Connection, Ephemeral, StreamMetrics, Wake, stream_metrics
from glint.infra.logging import get_logger
from glint.infra.runtime import Runtime
from glint.media.urls import MediaUrls
from glint.realtime import presenter as realtime_presenter

log = get_logger(__name__)
router = APIRouter()

SUBPROTOCOL = "glint"
BEARER_PREFIX = "bearer."
MAX_CLIENT_FRAME = 1024
MAX_CLIENT_FRAMES_PER_PING = 20
BATCH = 100
CLOSE_TIMEOUT = 2.0
UNAUTHENTICATED = Close(4401, "sign in first")
SESSION_ENDED = Close(4401, "session ended")
BAD_ORIGIN = Close(4403, "cookie sign-in needs a same-origin Origin header")
TOO_SLOW = Close(4008, "too slow")
NO_PONG = Close(4408, "no pong")
TRY_AGAIN = Close(1011, "try again later")
TOO_MANY = Close(4429, "too many connections; wait a little")


class _Gone(Exception):
    """The client went away while we were sending."""


class _TooSlow(Exception):
    """A frame was not taken in time."""


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """The signed-in user's real-time events (the protocol is in this module's docstring)."""
    runtime: Runtime = websocket.app.state.runtime
    metrics = stream_metrics(runtime.metrics)
    offered = websocket.scope.get("subprotocols") or []
    credentials = _credentials(websocket, offered)
    _hide_token(websocket)
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    # Refusals come after the accept, so that clients (browsers) see the close code.
    if isinstance(credentials, Close):
        await _close(websocket, credentials, metrics)
        return
    try:
        async with runtime.db.session() as session:
            signed = await resolve_session(runtime, session, credentials)
    except SQLAlchemyError:
        log.warning("stream_sign_in_unavailable")
        await _close(websocket, TRY_AGAIN, metrics)
        return
    if signed is None:
        await _close(websocket, UNAUTHENTICATED, metrics)
        return
    try:  # a connection counts as a request: a reconnecting loop is held back like one
        await count_action(runtime, "default", f"user:{signed.user.id}")
    except RateLimited:
        await _close(websocket, TOO_MANY, metrics)
        return
    gateway = _Gateway(websocket, runtime, signed, credentials)
    started = time.monotonic()
    metrics.connections.inc()
    try:
        outcome = await gateway.run()
    finally:
        metrics.connections.dec()
    log.info(
        "stream_closed",
        user_id=signed.user.id,
        code=outcome.code if outcome else "client",
        seconds=round(time.monotonic() - started, 1),
    )
    await _close(websocket, outcome, metrics)


def _credentials(websocket: WebSocket, offered: Sequence[str]) -> str | Close:
    """The session token the client presents, or why it is refused."""
    token = websocket.query_params.get("token")
    if token:
        return token
    for protocol in offered:
        if protocol.startswith(BEARER_PREFIX) and len(protocol) > len(BEARER_PREFIX):
            return protocol[len(BEARER_PREFIX) :]
    cookie = websocket.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie if _same_origin(websocket.headers) else BAD_ORIGIN
    return UNAUTHENTICATED


def _hide_token(websocket: WebSocket) -> None:
    """Take `token` out of the query string the server logs when it accepts the socket
    (uvicorn writes the path and query at INFO): a session token must not reach the logs."""
    query = websocket.query_params  # read (and kept) before the scope changes
    if "token" in query:
        kept = [(key, value) for key, value in query.multi_items() if key != "token"]
        websocket.scope["query_string"] = urlencode(kept).encode()


def _same_origin(headers: Headers) -> bool:
    """Whether the Origin header names the host (and port) the request was sent to."""
    origin, host = headers.get("origin"), headers.get("host")
    if not origin or not host:
        return False
    try:
        source, target = urlsplit(origin), urlsplit("//" + host)
        if source.scheme not in ("http", "https") or not source.hostname:
            return False
        default = 443 if source.scheme == "https" else 80
        return (source.hostname, source.port or default) == (
            target.hostname,
            target.port or default,
        )
    except ValueError:  # a port that is not a number
        return False


async def _close(websocket: WebSocket, outcome: Close | None, metrics: StreamMetrics) -> None:
    """Close with the outcome's code, unless the client is already gone."""
    if outcome is None or websocket.application_state != WebSocketState.CONNECTED:
        return
    metrics.closes.labels(str(outcome.code)).inc()
    with contextlib.suppress(TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
        await asyncio.wait_for(websocket.close(outcome.code, outcome.reason), CLOSE_TIMEOUT)


async def _stop(*tasks: asyncio.Task[Close | None]) -> None:
    """Cancel tasks until they end: a driver may swallow one cancellation (redis-py does)."""
    for _ in range(50):
        for task in tasks:
            task.cancel()
        _, pending = await asyncio.wait(tasks, timeout=0.1)
        if not pending:
            return
    log.error("stream_task_would_not_stop")


class _Gateway:
    """One open stream: sends what the hub signals, answers the client, keeps it honest."""

    def __init__(
        self,
        websocket: WebSocket,
        runtime: Runtime,
        signed: accounts_sessions.SignedIn,
        token: str,
    ) -> None:
        self._ws = websocket
        self._runtime = runtime
        self._settings = runtime.settings
        self._viewer: User = signed.user
        self._session_id = signed.session.id
        self._token = token
        self._urls: MediaUrls = websocket.app.state.media_urls
        self._metrics = stream_metrics(runtime.metrics)
        self._send_lock = asyncio.Lock()
        self._last_id = ""
        self._heard = 0  # client frames since the last ping
        self._pinged = False
        self._recheck_seconds = self._settings.stream_recheck_seconds
        if runtime.hub.process_local:
            # A sign-out in a sibling process (`--workers`) cannot close this socket itself.
            self._recheck_seconds = min(self._recheck_seconds, self._settings.stream_ping_seconds)

    async def run(self) -> Close | None:
        """Serve until the client leaves (None) or the socket must close (its Close)."""
        hub = self._runtime.hub
        async with hub.connect(self._viewer.id, self._session_id) as conn:
            receiver = asyncio.create_task(self._guard(self._receive()))
            sender = asyncio.create_task(self._guard(self._send_signals(conn)))
            try:
                done, _ = await asyncio.wait(
                    {receiver, sender}, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                await _stop(receiver, sender)
            outcomes = [task.result() for task in done]
        return next((outcome for outcome in outcomes if outcome is not None), None)

    async def _guard(self, work: Any) -> Close | None:
        """Turn how a task ended into an outcome; a bug closes this socket, not the server."""
        try:
            outcome: Close | None = await work
        except _Gone:
            return None
        except _TooSlow:
            return TOO_SLOW
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stream_failed", user_id=self._viewer.id)
            return TRY_AGAIN
        return outcome

    async def _receive(self) -> Close | None:
        """Read client frames: pings are answered, pongs noted, anything else closes."""
        while True:
            try:
                message = await self._ws.receive()
            except (WebSocketDisconnect, WebSocketDisconnected):
                return None
            if message["type"] == "websocket.disconnect":
                return None
            self._heard += 1
            if self._heard > MAX_CLIENT_FRAMES_PER_PING:
                return Close(1008, "too many frames")
            text = message.get("text")
            if text is None:
                return Close(1003, "text frames only")
            if len(text) > MAX_CLIENT_FRAME:
                return Close(1009, "frame too large")
            try:
                frame = orjson.loads(text)
            except orjson.JSONDecodeError:
                return Close(1008, "frames are JSON objects")
            kind = frame.get("type") if isinstance(frame, dict) else None
            if kind == "ping":
                await self._send(None, "pong", {})
            elif kind != "pong":
                return Close(1008, "unexpected frame")

    async def _send_signals(self, conn: Connection) -> Close | None:
        """Start at `since` or the log's end, then follow the hub's signals and the clock."""
        started = await self._start()
        if started is not None:
            return started
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self._settings.stream_ping_seconds
        next_check = loop.time() + self._recheck_seconds
        while True:
            try:
                async with asyncio.timeout_at(next_ping):
                    signal = await conn.next()
            except TimeoutError:
                next_ping += self._settings.stream_ping_seconds
                recheck = loop.time() >= next_check
                if recheck:
                    next_check = loop.time() + self._recheck_seconds
                outcome = await self._tick(recheck=recheck)
                if outcome is not None:
                    return outcome
                continue
            if isinstance(signal, Close):
                return signal
            if isinstance(signal, Wake):
                await self._catch_up()
            elif isinstance(signal, Ephemeral):
                await self._ephemeral(signal.payload)

    async def _start(self) -> Close | None:
        """Where this connection starts; with `since`, send the backlog (or resync) first."""
        since = self._ws.query_params.get("since")
        try:
            if not since:
                self._last_id = await self._runtime.eventlog.latest_id(self._viewer.id)
                return None
        except EventLogUnavailable:
            return TRY_AGAIN
        self._last_id = since
        await self._catch_up()
        return None

    async def _tick(self, *, recheck: bool) -> Close | None:
        """Every ping interval: drop a silent client, ping, maybe re-check the session, and
        re-read the log (a safety net under lost wakes)."""
        if self._pinged and not self._heard:
            return NO_PONG
        self._heard, self._pinged = 0, True
        if recheck and not await self._session_is_valid():
            return SESSION_ENDED
        await self._send(None, "ping", {})
        await self._catch_up()
        return None

    async def _session_is_valid(self) -> bool:
        """Whether the token still opens a live session (a database hiccup is not a no)."""
        try:
            async with self._runtime.db.session() as session:
                signed = await resolve_session(self._runtime, session, self._token)
        except SQLAlchemyError:
            log.warning("stream_recheck_unavailable", user_id=self._viewer.id)
            return True
        if signed is None:
            return False
        self._viewer = signed.user  # fresher for the presenter
        return True

    async def _catch_up(self) -> None:
        """Send every stored event after the last one sent, in order (or resync on a gap)."""
        log_ = self._runtime.eventlog
        while True:
            try:
                batch = await log_.read(self._viewer.id, self._last_id, limit=BATCH)
                if batch.gap:
                    self._last_id = await log_.latest_id(self._viewer.id)
            except EventLogUnavailable:
                # Kept for later: the next wake, the pub/sub's recovery or the next ping retries.
                log.warning("stream_log_unavailable", user_id=self._viewer.id)
                return
            if batch.gap:
                # The resync carries the new position: reconnecting with it starts from here.
                await self._send(self._last_id, "resync", {})
                return
            shaped = await self._present_stored(batch.events)
            for event_id, frame in shaped:
                if frame is not None:
                    await self._send(event_id, *frame)
                self._last_id = event_id  # skipped events are passed over too
            if len(shaped) < BATCH:
                return

    async def _present_stored(
        self, events: Sequence[StoredEvent]
    ) -> list[tuple[str, tuple[str, dict[str, Any]] | None]]:
        """Each event as this viewer may see it now; stops early if the database fails."""
        shaped: list[tuple[str, tuple[str, dict[str, Any]] | None]] = []
        try:
            async with self._runtime.db.session() as session:
                for event in events:
                    shaped.append((event.id, await self._present(session, event.payload)))
        except SQLAlchemyError:
            log.warning("stream_present_unavailable", user_id=self._viewer.id)
        return shaped

    async def _present(
        self, session: AsyncSession, payload: bytes
    ) -> tuple[str, dict[str, Any]] | None:
        try:
            return await realtime_presenter.present(
                session, viewer=self._viewer, urls=self._urls, payload=payload
            )
        except SQLAlchemyError:
            raise
        except Exception:  # one event that cannot be shaped must not block those after it
            log.exception("stream_event_not_presented", user_id=self._viewer.id)
            return None

    async def _ephemeral(self, payload: bytes) -> None:
        """Shape and send one ephemeral payload (dropped if the database fails)."""
        try:
            async with self._runtime.db.session() as session:
                shaped = await self._present(session, payload)
        except SQLAlchemyError:
            return
        if shaped is not None:
            await self._send(None, *shaped)

    async def _send(self, event_id: str | None, kind: str, data: dict[str, Any]) -> None:
        """One frame, within the send timeout; _TooSlow or _Gone otherwise."""
        text = orjson.dumps({"id": event_id, "type": kind, "data": data}).decode()
        timeout = self._settings.stream_send_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                async with self._send_lock:
                    await self._ws.send_text(text)
        except TimeoutError as exc:
            raise _TooSlow from exc
        except (WebSocketDisconnect, WebSocketDisconnected, RuntimeError, OSError) as exc:
            raise _Gone from exc
        self._metrics.frames.labels(kind).inc()
