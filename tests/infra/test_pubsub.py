"""One contract for pub/sub, run in-process and on Redis; Redis outages through a TCP relay."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import suppress

import pytest

from glint.infra.pubsub import (
    FailingPubSub,
    MemoryPubSub,
    PubSub,
    PubSubUnavailable,
    RedisPubSub,
)
from glint.infra.redis_client import connect
from glint.infra.runtime import Runtime
from tests.conftest import REDIS_URL
from tests.live import free_port

WITHIN = 5.0


class Recorder:
    """A listener that keeps what it hears and lets a test wait for it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.lost = 0
        self._changed = asyncio.Event()

    def on_message(self, channel: str, data: bytes) -> None:
        """Keep the message."""
        self.messages.append((channel, data))
        self._changed.set()

    def on_lost(self) -> None:
        """Count the losses."""
        self.lost += 1
        self._changed.set()

    async def wait_for(self, check: Callable[[], bool], *, within: float = WITHIN) -> None:
        """Return once check() holds; fail after `within` seconds."""
        async with asyncio.timeout(within):
            while not check():
                self._changed.clear()
                # Woken by what it hears, or after a moment for state it cannot hear about.
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.02)

    def data(self, channel: str) -> list[bytes]:
        """What arrived on one channel, in order."""
        return [data for name, data in self.messages if name == channel]


@pytest.fixture
async def make_pubsub(clean_runtime: Runtime) -> AsyncIterator[Callable[[], PubSub]]:
    """Builds pub/subs of the run mode (in-process, or Redis under this run's prefix)."""
    made: list[PubSub] = []
    prefix = f"{clean_runtime.settings.redis_prefix}t{uuid.uuid4().hex[:6]}:"

    def make() -> PubSub:
        pubsub: PubSub
        if clean_runtime.redis is None:
            pubsub = MemoryPubSub()
        else:
            pubsub = RedisPubSub(
                clean_runtime.redis, url=clean_runtime.settings.redis_url, prefix=prefix
            )
        made.append(pubsub)
        return pubsub

    yield make
    for pubsub in made:
        await pubsub.close()


def test_runtime_picks_the_mode_s_pubsub(clean_runtime: Runtime) -> None:
    expected = RedisPubSub if clean_runtime.redis is not None else MemoryPubSub
    assert isinstance(clean_runtime.pubsub, expected)


async def test_subscribed_channels_only_in_publish_order(
    make_pubsub: Callable[[], PubSub],
) -> None:
    pubsub, heard = make_pubsub(), Recorder()
    pubsub.bind(heard)
    await pubsub.subscribe("a")
    await pubsub.subscribe("b")
    await pubsub.publish("elsewhere", b"never")
    for index in range(20):
        await pubsub.publish("a", b"a%d" % index)
    await pubsub.publish_many([("b", b"b0"), ("a", b"a20"), ("b", b"b1")])
    await heard.wait_for(lambda: len(heard.messages) == 23)
    assert heard.data("a") == [b"a%d" % index for index in range(21)]
    assert heard.data("b") == [b"b0", b"b1"]
    assert heard.lost == 0


async def test_unsubscribe_stops_delivery(make_pubsub: Callable[[], PubSub]) -> None:
    pubsub, heard = make_pubsub(), Recorder()
    pubsub.bind(heard)
    await pubsub.subscribe("a")
    await pubsub.unsubscribe("a")
    await pubsub.unsubscribe("never-subscribed")  # fine
    # Commands reach Redis in order: once "b" is confirmed, "a" is gone.
    await pubsub.subscribe("b")
    await pubsub.publish("a", b"dropped")
    await pubsub.publish("b", b"kept")
    await heard.wait_for(lambda: bool(heard.messages))
    assert heard.messages == [("b", b"kept")]
    await pubsub.subscribe("a")  # and back
    await pubsub.publish("a", b"again")
    await heard.wait_for(lambda: len(heard.messages) == 2)
    assert heard.data("a") == [b"again"]


async def test_a_listener_that_raises_does_not_stop_delivery(
    make_pubsub: Callable[[], PubSub],
) -> None:
    class Fussy(Recorder):
        def on_message(self, channel: str, data: bytes) -> None:
            super().on_message(channel, data)
            if data == b"boom":
                raise RuntimeError("listener bug")

    pubsub, heard = make_pubsub(), Fussy()
    pubsub.bind(heard)
    await pubsub.subscribe("a")
    if isinstance(pubsub, MemoryPubSub):
        # In-process delivery runs in the publisher's call: its error is the publisher's.
        with pytest.raises(RuntimeError):
            await pubsub.publish("a", b"boom")
    else:
        await pubsub.publish("a", b"boom")
    await pubsub.publish("a", b"fine")
    await heard.wait_for(lambda: heard.data("a") == [b"boom", b"fine"])


async def test_failing_pubsub_raises_on_publish_but_subscribes() -> None:
    pubsub, heard = FailingPubSub(), Recorder()
    pubsub.bind(heard)
    await pubsub.subscribe("a")
    with pytest.raises(PubSubUnavailable):
        await pubsub.publish("a", b"x")
    with pytest.raises(PubSubUnavailable):
        await pubsub.publish_many([("a", b"x")])
    assert heard.messages == []


# Redis only: several instances, dead servers and outages.


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of one test on the machine's Redis."""
    client = connect(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # the scale-out half of the suite reports this too
        await client.aclose()
        pytest.skip(f"Redis at {REDIS_URL} did not answer ({type(exc).__name__})")
    yield f"glint-test-ps-{uuid.uuid4().hex[:8]}:"
    await client.aclose()


async def test_two_instances_share_channels(redis_prefix: str) -> None:
    client = connect(REDIS_URL)
    first = RedisPubSub(client, url=REDIS_URL, prefix=redis_prefix)
    second = RedisPubSub(client, url=REDIS_URL, prefix=redis_prefix)
    heard_first, heard_second = Recorder(), Recorder()
    first.bind(heard_first)
    second.bind(heard_second)
    try:
        await first.subscribe("u")
        await second.subscribe("u")
        await first.publish("u", b"from first")
        await second.publish("u", b"from second")
        for heard in (heard_first, heard_second):
            await heard.wait_for(lambda heard=heard: len(heard.messages) == 2)  # type: ignore[misc]
            assert heard.data("u") == [b"from first", b"from second"]
    finally:
        await first.close()
        await second.close()
        await client.aclose()


async def test_dead_redis_fails_fast_and_never_hangs() -> None:
    dead_url = f"redis://127.0.0.1:{free_port()}/0"
    client = connect(dead_url)
    pubsub = RedisPubSub(client, url=dead_url, prefix="x:", confirm_timeout=0.3)
    heard = Recorder()
    pubsub.bind(heard)
    try:
        async with asyncio.timeout(5):
            with pytest.raises(PubSubUnavailable):
                await pubsub.publish("a", b"x")
            with pytest.raises(PubSubUnavailable):  # the breaker is open now: no waiting
                await pubsub.publish("a", b"x")
            await pubsub.subscribe("a")  # gives up waiting, keeps wanting the channel
            await pubsub.unsubscribe("a")
        assert not pubsub.connected
    finally:
        async with asyncio.timeout(5):
            await pubsub.close()
        await client.aclose()


class TcpRelay:
    """A TCP relay to Redis that a test can cut (drop and refuse), freeze (go silent) or heal."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self._target_port = target_port
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.frozen = False

    @property
    def url(self) -> str:
        """The Redis URL through the relay."""
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Accept connections (again)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        self._writers.update((writer, up_writer))
        frozen_at_start = self.frozen
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink, frozen_at_start))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, was_frozen: bool
    ) -> None:
        with suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                # A freeze swallows traffic of connections made before it: a silent death.
                if self.frozen and not was_frozen:
                    continue
                sink.write(data)
                await sink.drain()
        sink.close()

    async def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def close(self) -> None:
        """Cut, and stop the relay tasks."""
        await self.cut()
        for task in list(self._pipes):
            task.cancel()


@pytest.fixture
async def relay(redis_prefix: str) -> AsyncIterator[TcpRelay]:
    """A relay in front of the machine's Redis."""
    target = int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpRelay(target)
    await proxy.start()
    yield proxy
    await proxy.close()


async def test_outage_reconnects_resubscribes_and_reports_the_loss(
    relay: TcpRelay, redis_prefix: str
) -> None:
    publisher = connect(REDIS_URL)  # publishes straight to Redis, past the relay
    sender = RedisPubSub(publisher, url=REDIS_URL, prefix=redis_prefix)
    pubsub = RedisPubSub(
        publisher,
        url=relay.url,
        prefix=redis_prefix,
        confirm_timeout=0.3,
        keepalive_seconds=1.0,
        backoff=(0.05, 0.2),
    )
    heard = Recorder()
    pubsub.bind(heard)
    try:
        await pubsub.subscribe("a")
        await pubsub.subscribe("b")
        await sender.publish("a", b"before")
        await heard.wait_for(lambda: heard.data("a") == [b"before"])

        await relay.cut()
        await heard.wait_for(lambda: not pubsub.connected)
        await sender.publish("a", b"during")  # nobody listens: lost
        await pubsub.subscribe("c")  # asked for while down: gives up waiting, not wanting
        await relay.start()

        await heard.wait_for(lambda: heard.lost == 1)
        assert pubsub.connected
        await sender.publish_many([("a", b"after"), ("b", b"after"), ("c", b"after")])
        await heard.wait_for(lambda: len(heard.messages) == 4)
        assert heard.data("a") == [b"before", b"after"]
        assert heard.data("b") == heard.data("c") == [b"after"]
    finally:
        await pubsub.close()
        await sender.close()
        await publisher.aclose()


async def test_a_silent_connection_is_noticed_by_keepalive(
    relay: TcpRelay, redis_prefix: str
) -> None:
    publisher = connect(REDIS_URL)
    sender = RedisPubSub(publisher, url=REDIS_URL, prefix=redis_prefix)
    pubsub = RedisPubSub(
        publisher, url=relay.url, prefix=redis_prefix, keepalive_seconds=0.3, backoff=(0.05, 0.2)
    )
    heard = Recorder()
    pubsub.bind(heard)
    try:
        await pubsub.subscribe("a")
        relay.frozen = True  # the connection stays open, but nothing comes through
        await heard.wait_for(lambda: heard.lost == 1)
        await sender.publish("a", b"after")
        await heard.wait_for(lambda: heard.data("a") == [b"after"])
    finally:
        await pubsub.close()
        await sender.close()
        await publisher.aclose()
