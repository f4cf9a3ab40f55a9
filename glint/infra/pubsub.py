"""Publish/subscribe between processes: in-process embedded, Redis at scale.

One listener per process receives every message of every channel the process subscribed to,
so a single Redis connection serves every WebSocket of an instance. Delivery is at most once:
a subscriber that loses its connection misses what was published meanwhile, and is told so
(`Listener.on_lost`) once it is back, so it can re-read whatever durable log it relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from glint.infra import redis_client
from glint.infra.breaker import CircuitBreaker
from glint.infra.logging import get_logger

log = get_logger(__name__)


class PubSubUnavailable(Exception):
    """A message could not be published (the backend did not answer)."""


class Listener(Protocol):
    """Receives what a process's subscriptions deliver; must return quickly and never block."""

    def on_message(self, channel: str, data: bytes) -> None:
        """One message published on a subscribed channel."""
        ...

    def on_lost(self) -> None:
        """Messages may have been lost (the connection was down); every channel is back."""
        ...


class PubSub(Protocol):
    """Fire-and-forget messages on named channels; one listener per process."""

    def bind(self, listener: Listener) -> None:
        """Set the process's one listener (before the first subscription)."""
        ...

    async def publish(self, channel: str, data: bytes) -> None:
        """Send a message to every current subscriber of the channel; PubSubUnavailable if down."""
        ...

    async def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """Publish several (channel, data) messages in one round trip."""
        ...

    async def subscribe(self, channel: str) -> None:
        """Receive the channel's messages; returns once they are being delivered (or it gave up
        waiting because the backend is down: the listener hears `on_lost` when it is back)."""
        ...

    async def unsubscribe(self, channel: str) -> None:
        """Stop receiving a channel (never fails)."""
        ...

    async def close(self) -> None:
        """Stop listening and release connections."""
        ...


class MemoryPubSub:
    """Embedded: delivery inside this process only, synchronously from `publish`."""

    def __init__(self) -> None:
        self._listener: Listener | None = None
        self._channels: set[str] = set()

    def bind(self, listener: Listener) -> None:
        """Set the listener."""
        self._listener = listener

    async def publish(self, channel: str, data: bytes) -> None:
        """Hand the message to the listener when the channel is subscribed."""
        if self._listener is not None and channel in self._channels:
            self._listener.on_message(channel, data)

    async def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """Publish each message in order."""
        for channel, data in messages:
            await self.publish(channel, data)

    async def subscribe(self, channel: str) -> None:
        """Start delivering the channel."""
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        """Stop delivering the channel."""
        self._channels.discard(channel)

    async def close(self) -> None:
        """Forget every subscription."""
        self._channels.clear()


class FailingPubSub(MemoryPubSub):
    """For failure-path tests: subscriptions work locally, but every publish fails."""

    async def publish(self, channel: str, data: bytes) -> None:
        """Raise PubSubUnavailable, as a publish to a dead Redis would."""
        raise PubSubUnavailable("publishing is broken (test double)")


class _ConnectionLost(Exception):
    """The subscriber connection went silent or failed; it is rebuilt from scratch."""


class RedisPubSub:
    """Scale-out: Redis channels under a prefix, read by one task on one dedicated connection.

    The reader owns the subscriber connection and is the only task writing to it (callers queue
    SUBSCRIBE/UNSUBSCRIBE), so a failure anywhere has one outcome: the connection is dropped,
    rebuilt with backoff, every wanted channel is subscribed again, and the listener hears
    `on_lost`. Redis's client library would otherwise reconnect behind our back and hide the
    gap. A keepalive PING every `keepalive_seconds` catches a connection that died silently.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        url: str,
        prefix: str,
        breaker: CircuitBreaker | None = None,
        confirm_timeout: float = 2.0,
        keepalive_seconds: float = 15.0,
        backoff: tuple[float, float] = (0.1, 5.0),
    ) -> None:
        self._client = client  # publishes go through the shared client
        self._url = url
        self._prefix = prefix + "ps:"
        self._breaker = breaker or CircuitBreaker("redis")
        self._confirm_timeout = confirm_timeout
        self._keepalive = keepalive_seconds
        self._backoff = backoff
        self._listener: Listener | None = None
        self._wanted: set[str] = set()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._snapshot: set[str] = set()  # what the current connection subscribed at its start
        # Commands for the current connection's writer; None between connections.
        self._commands: asyncio.Queue[tuple[str, ...] | None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = False
        self._closed = False
        # The marker channel is subscribed last on every (re)connection: its confirmation
        # means every channel before it is live again.
        self._marker = self._prefix + "_live"

    @property
    def connected(self) -> bool:
        """Whether the subscriber connection is up and every wanted channel subscribed."""
        return self._connected

    def bind(self, listener: Listener) -> None:
        """Set the listener."""
        self._listener = listener

    async def publish(self, channel: str, data: bytes) -> None:
        """PUBLISH through the shared client and its breaker."""
        await self.publish_many([(channel, data)])

    async def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """PUBLISH each message in one pipelined round trip."""
        if not messages:
            return

        async def publish() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                for channel, data in messages:
                    pipe.publish(self._prefix + channel, data)
                await pipe.execute()

        await redis_client.guarded(self._breaker, publish, unavailable=PubSubUnavailable)

    async def subscribe(self, channel: str) -> None:
        """Queue the SUBSCRIBE and wait (briefly) for Redis to confirm it."""
        if self._closed:
            return
        full = self._prefix + channel
        self._wanted.add(full)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(full, []).append(waiter)
        self._ensure_reader()
        self._send("SUBSCRIBE", full)
        # Unless connected: the reader subscribes every wanted channel once it (re)connects.
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self._confirm_timeout)
        except TimeoutError:
            log.warning("pubsub_subscribe_unconfirmed", channel=channel)
        finally:
            waiters = self._waiters.get(full, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(full, None)

    async def unsubscribe(self, channel: str) -> None:
        """Queue the UNSUBSCRIBE; a reconnection forgets the channel anyway."""
        full = self._prefix + channel
        if full not in self._wanted:
            return
        self._wanted.discard(full)
        self._send("UNSUBSCRIBE", full)

    def _send(self, *command: str) -> None:
        """Queue a command for the live connection (a new one starts from the wanted set)."""
        if self._connected and self._commands is not None:
            self._commands.put_nowait(command)

    async def close(self) -> None:
        """Stop the reader and drop the subscriber connection."""
        self._closed = True
        self._connected = False
        if self._reader is not None:
            self._reader.cancel()
            # Bounded: the client library has been seen to swallow a cancellation.
            await asyncio.wait({self._reader}, timeout=5)
            self._reader = None

    def _ensure_reader(self) -> None:
        if self._reader is None and not self._closed:
            self._reader = asyncio.create_task(self._run(), name="redis-pubsub-reader")

    async def _run(self) -> None:
        delay = self._backoff[0]
        failed = False
        while not self._closed:
            client = self._subscriber_client()
            pubsub = client.pubsub()
            error = ""
            try:
                await self._session(pubsub, after_failure=failed)
            except (RedisError, OSError, _ConnectionLost) as exc:
                error = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a bug must not end real-time delivery for good
                log.exception("pubsub_reader_failed")
                error = type(exc).__name__
            finally:
                was_up = self._connected
                self._connected = False
                with contextlib.suppress(Exception):  # the connection may be half dead
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                with contextlib.suppress(Exception):
                    await client.aclose()
            if was_up or not failed:  # say it once per outage, not once per retry
                log.warning("pubsub_connection_lost", error=error)
            if was_up:
                delay = self._backoff[0]
            failed = True
            # Jitter keeps every instance from reconnecting in the same millisecond.
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 (not security)
            delay = min(delay * 2, self._backoff[1])

    def _subscriber_client(self) -> aioredis.Redis:
        # Its own connection without retries: every failure must surface here, not be retried
        # (and the channels silently resubscribed) by the client library.
        return aioredis.Redis.from_url(
            self._url,
            socket_connect_timeout=1.0,
            socket_timeout=5.0,
            health_check_interval=0,
            retry=Retry(NoBackoff(), 0),
            decode_responses=False,
            client_name=(self._prefix + "subscriber").replace(" ", "_"),
        )

    async def _session(self, pubsub: aioredis.client.PubSub, *, after_failure: bool) -> None:
        """Subscribe everything wanted, then read until the connection fails."""
        commands: asyncio.Queue[tuple[str, ...] | None] = asyncio.Queue()
        self._commands = commands
        self._snapshot = set(self._wanted)
        await pubsub.subscribe(*sorted(self._snapshot), self._marker)
        redis_client.honour_cancellation()
        reader = asyncio.create_task(self._read(pubsub, after_failure=after_failure))
        writer = asyncio.create_task(self._write(pubsub, commands))
        try:
            done, _ = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # raises what ended it
            raise _ConnectionLost("the subscriber stopped")
        finally:
            self._commands = None
            commands.put_nowait(None)  # the writer stops even if its cancellation is swallowed
            for task in (reader, writer):
                task.cancel()
            await asyncio.wait({reader, writer}, timeout=1)

    async def _write(
        self, pubsub: aioredis.client.PubSub, commands: asyncio.Queue[tuple[str, ...] | None]
    ) -> None:
        while (command := await commands.get()) is not None:
            await pubsub.execute_command(*command)
            redis_client.honour_cancellation()

    async def _read(self, pubsub: aioredis.client.PubSub, *, after_failure: bool) -> None:
        loop = asyncio.get_running_loop()
        heard = pinged = loop.time()
        while True:
            message = await pubsub.get_message(timeout=self._keepalive / 3)
            redis_client.honour_cancellation()
            now = loop.time()
            if message is None:
                if now - heard > self._keepalive * 2:
                    raise _ConnectionLost("no answer to keepalive pings")
                if now - pinged > self._keepalive:
                    self._send("PING", "keepalive")
                    pinged = now
                continue
            heard = now
            if self._handle(message) and after_failure:
                after_failure = False
                log.info("pubsub_reconnected", channels=len(self._wanted))
                if self._listener is not None:
                    self._listener.on_lost()

    def _handle(self, message: dict[str, Any]) -> bool:
        """Dispatch one message; True when it confirms the marker (every channel is live)."""
        kind = message.get("type")
        channel = _text(message.get("channel"))
        if kind == "subscribe":
            for waiter in self._waiters.get(channel, []):
                if not waiter.done():
                    waiter.set_result(None)
            if channel == self._marker:
                self._connected = True
                # Channels asked for or dropped while the connection was being made.
                for full in sorted(self._wanted - self._snapshot):
                    self._send("SUBSCRIBE", full)
                for full in sorted(self._snapshot - self._wanted):
                    self._send("UNSUBSCRIBE", full)
                return True
            return False
        if kind != "message" or not channel.startswith(self._prefix) or channel == self._marker:
            return False
        data = message.get("data")
        if self._listener is not None and isinstance(data, bytes):
            try:
                self._listener.on_message(channel[len(self._prefix) :], data)
            except Exception:  # one bad message must not stop delivery of the others
                log.exception("pubsub_listener_failed", channel=channel)
        return False


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value) if value is not None else ""
