"""The live stream connections of this process, and the signals that reach them on any instance.

Knows no domain: a connection is a (user, session) pair waiting for signals. Producers call
`wake` after storing events in the event log (each connection then re-reads the log after the
last ID it sent), `signal` for ephemeral payloads that are never stored (typing), and
`close_sessions` / `close_user` to close sockets on every instance at once (sign-out, password
change, ban). Everything travels over pub/sub on one channel per user plus a control channel;
a process subscribes a user's channel while it holds at least one of their connections.

Memory stays bounded however slow a client is: wakes coalesce into one flag, ephemeral
payloads wait in a small queue whose overflow closes the connection (the client is too slow).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from prometheus_client import Counter, Gauge

from glint.infra.eventlog import EventLog
from glint.infra.logging import get_logger
from glint.infra.metrics import Metrics
from glint.infra.pubsub import PubSub, PubSubUnavailable
from glint.infra.sessioncache import SessionCache

log = get_logger(__name__)

CONTROL_CHANNEL = "stream:control"
USER_CHANNEL_PREFIX = "stream:u:"
CLOSE_GOING_AWAY = 1001
CLOSE_REVOKED = 4401
CLOSE_TOO_SLOW = 4008
_WAKE = b"w"
_EPHEMERAL = b"e"


def user_channel(user_id: int) -> str:
    """The pub/sub channel of one user's connections."""
    return f"{USER_CHANNEL_PREFIX}{user_id}"


@dataclass(frozen=True, slots=True)
class Wake:
    """Stored events are waiting: read the log after the last ID sent."""


@dataclass(frozen=True, slots=True)
class Ephemeral:
    """A payload for connected devices only (typing), never stored."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """The connection must close with this WebSocket code and reason."""

    code: int
    reason: str


Signal = Wake | Ephemeral | Close
WAKE = Wake()


class Connection:
    """One registered stream connection: what is waiting for it, and a way to wait."""

    def __init__(self, user_id: int, session_id: int, *, queue_size: int) -> None:
        self.user_id = user_id
        self.session_id = session_id
        self._queue_size = queue_size
        self._woken = False
        self._ephemeral: deque[bytes] = deque()
        self._closed: Close | None = None
        self._ready = asyncio.Event()

    @property
    def closing(self) -> Close | None:
        """The close it was told to make, if any."""
        return self._closed

    @property
    def queued(self) -> int:
        """Ephemeral payloads waiting to be taken."""
        return len(self._ephemeral)

    def wake(self) -> None:
        """Stored events are waiting (several wakes before the next read are one)."""
        self._woken = True
        self._ready.set()

    def push(self, payload: bytes) -> None:
        """Queue an ephemeral payload; a full queue means the client is too slow: close it."""
        if self._closed is not None:
            return
        if len(self._ephemeral) >= self._queue_size:
            self._ephemeral.clear()
            self.close(CLOSE_TOO_SLOW, "too slow")
            return
        self._ephemeral.append(payload)
        self._ready.set()

    def close(self, code: int, reason: str) -> None:
        """Ask the connection to close (the first reason given wins)."""
        if self._closed is None:
            self._closed = Close(code, reason)
        self._ready.set()

    async def next(self) -> Signal:
        """The next signal: a close first, then waiting stored events, then ephemeral ones."""
        while True:
            if self._closed is not None:
                return self._closed
            if self._woken:
                self._woken = False
                return WAKE
            if self._ephemeral:
                return Ephemeral(self._ephemeral.popleft())
            self._ready.clear()
            await self._ready.wait()


@dataclass
class _User:
    """A user's local connections and whether this process listens on their channel."""

    connections: set[Connection] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    refs: int = 0
    subscribed: bool = False


class Hub:
    """The registry of this process's stream connections; the pub/sub listener of the process.

    Without a shared pub/sub (embedded, or no Redis), events stored by another process
    (`glint serve --workers N`) are found by polling the log's heads every `poll_seconds`.
    """

    def __init__(
        self,
        pubsub: PubSub,
        *,
        eventlog: EventLog | None = None,
        queue_size: int = 256,
        poll_seconds: float | None = None,
        session_cache: SessionCache[Any] | None = None,
    ) -> None:
        self._pubsub = pubsub
        self._session_cache = session_cache
        self._eventlog = eventlog
        self._queue_size = queue_size
        self._poll_seconds = poll_seconds
        self._users: dict[int, _User] = {}
        self._sessions: dict[int, set[Connection]] = {}
        self._control_lock = asyncio.Lock()
        self._control = False
        self._heads: dict[int, str] = {}
        self._poller: asyncio.Task[None] | None = None
        self._closed = False
        pubsub.bind(self)

    @property
    def process_local(self) -> bool:
        """Whether signals and closes reach this process only (in-process pub/sub): stored
        events still arrive through polling, closes only through the sockets' own rechecks."""
        return self._poll_seconds is not None

    @property
    def connection_count(self) -> int:
        """Connections registered in this process now."""
        return sum(len(entry.connections) for entry in self._users.values())

    def listening(self, user_id: int) -> bool:
        """Whether this process is subscribed to the user's channel."""
        entry = self._users.get(user_id)
        return entry is not None and entry.subscribed

    @asynccontextmanager
    async def connect(self, user_id: int, session_id: int) -> AsyncIterator[Connection]:
        """Register a connection; once entered, every signal for the user reaches it.

        So a caller reads the log's position *after* entering: nothing stored between the
        two can be missed.
        """
        conn = Connection(user_id, session_id, queue_size=self._queue_size)
        if self._closed:
            conn.close(CLOSE_GOING_AWAY, "server shutting down")
            yield conn
            return
        entry = self._users.setdefault(user_id, _User())
        entry.refs += 1
        entry.connections.add(conn)
        self._sessions.setdefault(session_id, set()).add(conn)
        try:
            await self.listen_control()
            async with entry.lock:
                if not entry.subscribed:
                    await self._pubsub.subscribe(user_channel(user_id))
                    entry.subscribed = True
            self._start_poller()
            yield conn
        finally:
            entry.connections.discard(conn)
            sessions = self._sessions.get(session_id)
            if sessions is not None:
                sessions.discard(conn)
                if not sessions:
                    del self._sessions[session_id]
            entry.refs -= 1
            await self._release(user_id, entry)

    async def _release(self, user_id: int, entry: _User) -> None:
        if entry.refs:
            return
        async with entry.lock:
            if entry.refs == 0 and entry.subscribed:
                entry.subscribed = False
                await self._pubsub.unsubscribe(user_channel(user_id))
        if entry.refs == 0 and self._users.get(user_id) is entry:
            del self._users[user_id]

    async def listen_control(self) -> None:
        """Join the control channel (closes, evictions); a serving process joins at start, so
        a sign-out elsewhere evicts the token here even with no socket open."""
        if self._control:
            return
        async with self._control_lock:
            if not self._control:
                await self._pubsub.subscribe(CONTROL_CHANNEL)
                self._control = True
                if self._session_cache is not None:
                    self._session_cache.listening = True

    async def wake(self, user_ids: Iterable[int]) -> None:
        """Tell every connection of these users, on any instance, that events were stored.

        Never raises: the events are in the log, and a connection that missed the wake finds
        them at its next wake, reconnection or periodic re-read.
        """
        await self._publish(user_ids, _WAKE)

    async def signal(self, user_ids: Iterable[int], payload: bytes) -> None:
        """Send an ephemeral payload to every connection of these users (best effort)."""
        await self._publish(user_ids, _EPHEMERAL + payload)

    async def _publish(self, user_ids: Iterable[int], data: bytes) -> None:
        users = sorted(set(user_ids))
        if not users:
            return
        try:
            await self._pubsub.publish_many([(user_channel(uid), data) for uid in users])
        except PubSubUnavailable as exc:
            # This instance's own connections need no pub/sub; the others are told later.
            log.warning("stream_publish_failed", users=len(users), error=str(exc))
            for user_id in users:
                self._deliver(user_id, data)

    async def close_sessions(
        self, session_ids: Iterable[int], *, code: int = CLOSE_REVOKED, reason: str = "signed out"
    ) -> None:
        """Close every connection of these sessions on every instance (sign-out, revoke)."""
        await self._broadcast(
            {"sessions": sorted(set(session_ids)), "code": code, "reason": reason}
        )

    async def close_user(
        self, user_id: int, *, code: int = CLOSE_REVOKED, reason: str = "signed out"
    ) -> None:
        """Close every connection of a user on every instance (password change, ban)."""
        await self._broadcast({"users": [user_id], "code": code, "reason": reason})

    async def _broadcast(self, command: dict[str, Any]) -> None:
        if not command.get("sessions") and not command.get("users"):
            return
        # Here first, without waiting for the round trip (or for a pub/sub that is down).
        self._apply_control(command)
        try:
            await self._pubsub.publish(CONTROL_CHANNEL, orjson.dumps(command))
        except PubSubUnavailable as exc:
            log.warning("stream_close_not_broadcast", error=str(exc))

    def on_message(self, channel: str, data: bytes) -> None:
        """Pub/sub delivery: a control command, or a signal for one user's connections."""
        if channel == CONTROL_CHANNEL:
            try:
                command = orjson.loads(data)
            except orjson.JSONDecodeError:
                log.warning("stream_control_garbage")
                return
            if isinstance(command, dict):
                self._apply_control(command)
            return
        if channel.startswith(USER_CHANNEL_PREFIX):
            suffix = channel[len(USER_CHANNEL_PREFIX) :]
            if suffix.isdigit():
                self._deliver(int(suffix), data)

    def on_lost(self) -> None:
        """Signals may have been lost: every connection re-reads the log, and every cached
        token is asked of the database again (an eviction may have been among them)."""
        if self._session_cache is not None:
            self._session_cache.clear()
        for entry in list(self._users.values()):
            for conn in entry.connections:
                conn.wake()

    def _deliver(self, user_id: int, data: bytes) -> None:
        entry = self._users.get(user_id)
        if entry is None:
            return
        kind, body = data[:1], data[1:]
        for conn in list(entry.connections):
            if kind == _WAKE:
                conn.wake()
            elif kind == _EPHEMERAL:
                conn.push(body)

    def _apply_control(self, command: dict[str, Any]) -> None:
        if self._session_cache is not None:
            # A closed session must stop authenticating here at once, sockets or not.
            self._session_cache.evict(
                session_ids=_ints(command.get("sessions")), user_ids=_ints(command.get("users"))
            )
        code, reason = command.get("code"), command.get("reason")
        if not isinstance(code, int) or not isinstance(reason, str):
            return
        targets: list[Connection] = []
        for session_id in _ints(command.get("sessions")):
            targets.extend(self._sessions.get(session_id, ()))
        for user_id in _ints(command.get("users")):
            entry = self._users.get(user_id)
            if entry is not None:
                targets.extend(entry.connections)
        for conn in targets:
            conn.close(code, reason)

    def _start_poller(self) -> None:
        if self._poller is None and self._poll_seconds and self._eventlog is not None:
            self._poller = asyncio.create_task(self._poll(), name="stream-hub-poller")

    async def _poll(self) -> None:
        """Wake users whose log moved since the last look (events stored by another process)."""
        assert self._eventlog is not None and self._poll_seconds
        while True:
            await asyncio.sleep(self._poll_seconds)
            users = list(self._users)
            try:
                heads = await self._eventlog.latest_ids(users) if users else {}
            except Exception as exc:  # the database is down: try again next time
                log.warning("stream_poll_failed", error=f"{type(exc).__name__}: {exc}")
                continue
            # A user first seen here is woken too: their log may have moved before this look.
            for user_id, head in heads.items():
                if self._heads.get(user_id) != head:
                    self._deliver(user_id, _WAKE)
            self._heads = heads

    async def close(self) -> None:
        """Close every local connection (server shutting down) and stop polling."""
        self._closed = True
        for entry in list(self._users.values()):
            for conn in entry.connections:
                conn.close(CLOSE_GOING_AWAY, "server shutting down")
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None


def _ints(value: object) -> list[int]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, int) and not isinstance(item, bool)]


class StreamMetrics:
    """Stream counters, registered on an app's metrics registry (one set per registry)."""

    def __init__(self, metrics: Metrics) -> None:
        registry = metrics.registry
        self.connections = Gauge(
            "glint_stream_connections", "Stream WebSockets open in this process.", registry=registry
        )
        self.frames = Counter(
            "glint_stream_frames_total",
            "Frames sent on stream WebSockets, by type.",
            ["type"],
            registry=registry,
        )
        self.closes = Counter(
            "glint_stream_closes_total",
            "Stream WebSockets closed by the server, by close code.",
            ["code"],
            registry=registry,
        )


_metrics: weakref.WeakKeyDictionary[Metrics, StreamMetrics] = weakref.WeakKeyDictionary()


def stream_metrics(metrics: Metrics) -> StreamMetrics:
    """The stream counters of a metrics registry, made on first use."""
    found = _metrics.get(metrics)
    if found is None:
        found = _metrics[metrics] = StreamMetrics(metrics)
    return found
