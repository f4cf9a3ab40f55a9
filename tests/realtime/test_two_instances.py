"""Two real `glint serve` processes on one PostgreSQL and Redis: an event sent through one
reaches a socket on the other at once, and a device whose instance is killed picks up on the
other instance, with `since`, exactly what it missed.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from glint import migrate as migrate_mod
from glint.app import create_app
from glint.config import Settings
from tests import conftest
from tests.factories.accounts import TestUser, register
from tests.factories.messaging import conversation, send
from tests.live import LiveServer, settings_env
from tests.realtime.test_stream_gateway import mounts_stream

pytestmark = pytest.mark.slow
WITHIN = 10.0


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Settings]:
    """Scale-out settings on a database and Redis prefix of their own (no broker: each
    `glint serve` works the job table, as a small deployment may)."""
    problem = await conftest._check_services()
    if problem:
        if conftest.IN_CI:
            pytest.fail(f"CI=true and a scale-out service is unreachable: {problem}")
        pytest.skip(f"scale-out services unreachable: {problem}")
    run = uuid.uuid4().hex[:8]
    database = f"glint_test_instances_{run}"
    await conftest._create_database(database)
    settings = conftest.base_settings(
        tmp_path,
        database_url=conftest.PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}",
        redis_url=conftest.REDIS_URL,
        redis_prefix=f"glint-test-instances-{run}:",
        db_pool_size=5,
    )
    try:
        await migrate_mod.upgrade_async(settings.effective_database_url)
        yield settings
    finally:
        await conftest._drop_database(database)
        client = aioredis.Redis.from_url(conftest.REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"{settings.redis_prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
async def instances(deployment: Settings) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    """Instances A and B of the deployment, serving."""
    assert mounts_stream(create_app(deployment).routes), "glint/app.py must mount the stream"
    env = settings_env(deployment)
    servers = (LiveServer(env), LiveServer(env))
    try:
        for server in servers:
            await asyncio.to_thread(server.wait_ready)
        yield servers
    finally:
        for server in servers:
            server.stop()


def stream_url(server: LiveServer, **query: str) -> str:
    """The stream's address on one instance."""
    return f"ws://127.0.0.1:{server.port}/api/v1/stream?{httpx.QueryParams(query)}"


async def next_event(ws: ClientConnection) -> dict[str, Any]:
    """The next frame that is not a ping or pong."""
    while True:
        frame: dict[str, Any] = orjson.loads(await ws.recv())
        if frame["type"] not in ("ping", "pong"):
            return frame


async def ready(ws: ClientConnection) -> None:
    """One ping round trip: the socket is registered on its instance."""
    await ws.send('{"type": "ping"}')
    async with asyncio.timeout(WITHIN):
        while orjson.loads(await ws.recv())["type"] != "pong":
            pass


async def test_events_cross_instances_and_survive_a_killed_instance(
    instances: tuple[LiveServer, LiveServer],
) -> None:
    a, b = instances
    async with httpx.AsyncClient(base_url=f"{a.url}/api/v1", timeout=WITHIN) as http:
        alice, bob = await register(http, "alice"), await register(http, "bob")
        chat = str((await conversation(http, alice, bob))["id"])
        async with connect(stream_url(b, token=bob.token), proxy=None) as on_b:
            await ready(on_b)
            last_id = await _across(http, on_b, alice, chat)
            b.stop(signal.SIGKILL)  # bob's device loses its instance
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(WITHIN):
                    await next_event(on_b)
        missed = [await send(http, alice, chat, text) for text in ("while away", "and this")]

        async with connect(stream_url(a, token=bob.token, since=last_id), proxy=None) as on_a:
            async with asyncio.timeout(WITHIN):
                replayed = [await next_event(on_a) for _ in missed]
    assert [frame["data"]["id"] for frame in replayed] == [m["id"] for m in missed]
    assert [frame["data"]["text"] for frame in replayed] == ["while away", "and this"]
    assert len({last_id, *(frame["id"] for frame in replayed)}) == 3


async def _across(http: httpx.AsyncClient, ws: ClientConnection, alice: TestUser, chat: str) -> str:
    """Messages sent through A reach the socket on B, the second within a second; the last
    event ID seen there."""
    async with asyncio.timeout(WITHIN):  # the first one also warms B up
        await send(http, alice, chat, "warm-up")
        assert (await next_event(ws))["data"]["text"] == "warm-up"
    async with asyncio.timeout(1.0):
        message = await send(http, alice, chat, "across")
        frame = await next_event(ws)
    assert frame["type"] == "message.created"
    assert frame["data"]["id"] == message["id"]
    return str(frame["id"])
