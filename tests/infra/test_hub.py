"""The stream hub in both run modes; across instances on Redis; with a pub/sub that fails."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import orjson
import pytest

from glint.infra.hub import (
    CLOSE_GOING_AWAY,
    CLOSE_REVOKED,
    CLOSE_TOO_SLOW,
    CONTROL_CHANNEL,
    WAKE,
    Close,
    Connection,
    Ephemeral,
    Hub,
    user_channel,
)
from glint.infra.pubsub import FailingPubSub, MemoryPubSub, PubSub, RedisPubSub
from glint.infra.redis_client import connect
from glint.infra.runtime import Runtime
from tests.conftest import REDIS_URL

WITHIN = 5.0
MakeHub = Callable[..., Hub]


async def eventually(check: Callable[[], bool], *, within: float = WITHIN) -> None:
    """Return once check() holds (pub/sub may deliver from another task); fail after `within`."""
    async with asyncio.timeout(within):
        while True:
            if check():
                return
            await asyncio.sleep(0.01)


async def next_signal(conn: Connection) -> object:
    """The connection's next signal, failing instead of hanging."""
    async with asyncio.timeout(WITHIN):
        return await conn.next()


@pytest.fixture
async def make_hub(clean_runtime: Runtime) -> AsyncIterator[MakeHub]:
    """Builds hubs of the run mode, each with a pub/sub of its own (Redis: same prefix)."""
    made: list[tuple[Hub, PubSub]] = []
    prefix = f"{clean_runtime.settings.redis_prefix}h{uuid.uuid4().hex[:6]}:"

    def make(
        *, queue_size: int = 16, poll_seconds: float | None = None, failing: bool = False
    ) -> Hub:
        pubsub: PubSub
        if failing:
            pubsub = FailingPubSub()
        elif clean_runtime.redis is None:
            pubsub = MemoryPubSub()
        else:
            pubsub = RedisPubSub(
                clean_runtime.redis, url=clean_runtime.settings.redis_url, prefix=prefix
            )
        hub = Hub(
            pubsub,
            eventlog=clean_runtime.eventlog,
            queue_size=queue_size,
            poll_seconds=poll_seconds,
        )
        made.append((hub, pubsub))
        return hub

    yield make
    for hub, pubsub in made:
        await hub.close()
        await pubsub.close()


async def test_wakes_coalesce_behind_one_flag(make_hub: MakeHub) -> None:
    hub = make_hub()
    async with hub.connect(1, 10) as conn:
        for _ in range(100):
            await hub.wake([1])
        await hub.signal([1], b"typing")  # published after every wake: it arrives last
        await eventually(lambda: conn.queued == 1)
        assert await next_signal(conn) == WAKE
        assert await next_signal(conn) == Ephemeral(b"typing")
        await hub.wake([1, 1, 2])
        assert await next_signal(conn) == WAKE


async def test_signals_reach_only_their_users(make_hub: MakeHub) -> None:
    hub = make_hub()
    async with hub.connect(1, 10) as one, hub.connect(2, 20) as two:
        await hub.signal([2], b"for two")
        await hub.signal([1], b"for one")
        assert await next_signal(one) == Ephemeral(b"for one")
        assert await next_signal(two) == Ephemeral(b"for two")
        assert one.queued == two.queued == 0


async def test_too_many_ephemeral_signals_close_the_slow_connection(make_hub: MakeHub) -> None:
    hub = make_hub(queue_size=4)
    async with hub.connect(1, 10) as slow, hub.connect(1, 11) as quick:
        for index in range(5):
            await hub.signal([1], b"%d" % index)
            await eventually(lambda: quick.queued == 1)
            assert await next_signal(quick) == Ephemeral(b"%d" % index)
        await eventually(lambda: slow.closing is not None)
        assert await next_signal(slow) == Close(CLOSE_TOO_SLOW, "too slow")
        assert slow.queued == 0  # its backlog is dropped, not kept
        await hub.signal([1], b"more")
        assert await next_signal(quick) == Ephemeral(b"more")


async def test_close_sessions_and_close_user_pick_their_connections(make_hub: MakeHub) -> None:
    hub = make_hub()
    async with (
        hub.connect(1, 10) as phone,
        hub.connect(1, 11) as laptop,
        hub.connect(2, 20) as other,
    ):
        await hub.close_sessions([10, 999])
        assert phone.closing == Close(CLOSE_REVOKED, "signed out")
        assert laptop.closing is None
        await hub.wake([1])
        assert await next_signal(phone) == Close(CLOSE_REVOKED, "signed out")  # before a wake
        await hub.close_user(1, code=4403, reason="banned")
        assert laptop.closing == Close(4403, "banned")
        assert phone.closing == Close(CLOSE_REVOKED, "signed out")  # the first reason stays
        await hub.close_sessions([])
        assert other.closing is None


async def test_a_channel_is_listened_to_while_a_connection_needs_it(make_hub: MakeHub) -> None:
    hub = make_hub()
    assert not hub.listening(1)
    async with hub.connect(1, 10):
        assert hub.listening(1)  # on entry: nothing published from now on can be missed
        async with hub.connect(1, 11):
            assert hub.connection_count == 2
        assert hub.listening(1)
    assert not hub.listening(1)
    assert hub.connection_count == 0
    await hub.wake([1])  # nobody here: fine
    await hub.signal([1], b"x")


async def test_concurrent_connects_and_leaves_keep_the_subscription_right(
    make_hub: MakeHub,
) -> None:
    hub = make_hub()

    async def visit() -> None:
        async with hub.connect(1, 10):
            await asyncio.sleep(0)

    await asyncio.gather(*(visit() for _ in range(30)))
    assert not hub.listening(1)
    async with hub.connect(1, 10) as conn:
        await hub.signal([1], b"still delivered")
        assert await next_signal(conn) == Ephemeral(b"still delivered")


async def test_a_lost_pubsub_wakes_every_connection(make_hub: MakeHub) -> None:
    hub = make_hub()
    async with hub.connect(1, 10) as one, hub.connect(2, 20) as two:
        hub.on_lost()
        assert await next_signal(one) == WAKE
        assert await next_signal(two) == WAKE


async def test_garbage_on_the_channels_is_ignored(make_hub: MakeHub) -> None:
    hub = make_hub()
    async with hub.connect(1, 10) as conn:
        hub.on_message(CONTROL_CHANNEL, b"not json")
        hub.on_message(CONTROL_CHANNEL, b"[1, 2]")
        hub.on_message(CONTROL_CHANNEL, orjson.dumps({"sessions": [10], "code": "x"}))
        hub.on_message(
            CONTROL_CHANNEL, orjson.dumps({"sessions": "10", "code": 4401, "reason": ""})
        )
        hub.on_message(user_channel(1) + "x", b"w")
        hub.on_message(user_channel(1), b"?unknown")
        hub.on_message(user_channel(1), b"")
        hub.on_message("elsewhere", b"w")
        assert conn.closing is None and conn.queued == 0
        hub.on_message(
            CONTROL_CHANNEL, orjson.dumps({"sessions": [10], "code": 4401, "reason": "r"})
        )
        assert conn.closing == Close(4401, "r")


async def test_a_failing_pubsub_still_reaches_this_process(make_hub: MakeHub) -> None:
    hub = make_hub(failing=True)
    async with hub.connect(1, 10) as conn:
        await hub.wake([1])  # never raises: the events are stored, the wake is best effort
        assert await next_signal(conn) == WAKE
        await hub.signal([1], b"typing")
        assert await next_signal(conn) == Ephemeral(b"typing")
        await hub.close_sessions([10])
        assert conn.closing == Close(CLOSE_REVOKED, "signed out")


async def test_polling_finds_events_stored_by_another_process(
    clean_runtime: Runtime, make_hub: MakeHub
) -> None:
    # Embedded with several `glint serve` workers: the event was stored (and its wake
    # published) in another process; this hub finds it by looking at the log.
    hub = make_hub(poll_seconds=0.05)
    async with hub.connect(1, 10) as conn:
        assert await next_signal(conn) == WAKE  # a first look always wakes: it may have moved
        await clean_runtime.eventlog.append(1, b"stored elsewhere")
        assert await next_signal(conn) == WAKE


async def test_closing_the_hub_closes_its_connections(make_hub: MakeHub) -> None:
    hub = make_hub()
    async with hub.connect(1, 10) as conn:
        await hub.close()
        assert await next_signal(conn) == Close(CLOSE_GOING_AWAY, "server shutting down")
    async with hub.connect(1, 11) as late:
        assert late.closing == Close(CLOSE_GOING_AWAY, "server shutting down")
    assert hub.connection_count == 0


# Two instances on one Redis.


@pytest.fixture
async def redis_prefix() -> str:
    """A key prefix of one test on the machine's Redis."""
    client = connect(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # the scale-out half of the suite reports this too
        pytest.skip(f"Redis at {REDIS_URL} did not answer ({type(exc).__name__})")
    finally:
        await client.aclose()
    return f"glint-test-hub-{uuid.uuid4().hex[:8]}:"


async def test_every_instance_hears_wakes_signals_and_closes(redis_prefix: str) -> None:
    async with AsyncExitStack() as stack:
        client = connect(REDIS_URL)
        stack.push_async_callback(client.aclose)
        hubs = []
        for _ in range(2):
            pubsub = RedisPubSub(client, url=REDIS_URL, prefix=redis_prefix)
            stack.push_async_callback(pubsub.close)
            hub = Hub(pubsub)
            stack.push_async_callback(hub.close)
            hubs.append(hub)
        first, second = hubs
        here = await stack.enter_async_context(first.connect(1, 10))
        there = await stack.enter_async_context(second.connect(1, 11))
        elsewhere = await stack.enter_async_context(second.connect(2, 20))

        await first.wake([1])
        assert await next_signal(there) == WAKE
        assert await next_signal(here) == WAKE
        await first.signal([1], b"typing")
        assert await next_signal(there) == Ephemeral(b"typing")
        await first.close_sessions([11])
        await eventually(lambda: there.closing is not None)
        assert there.closing == Close(CLOSE_REVOKED, "signed out")
        assert here.closing is None
        await first.close_user(2, code=4403, reason="banned")
        await eventually(lambda: elsewhere.closing is not None)
        assert elsewhere.closing == Close(4403, "banned")
        assert await next_signal(here) == Ephemeral(b"typing")
