"""Redis unreachable: the feed is still served, from the database, without waiting on Redis."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import sqlalchemy as sa

from glint.infra.queue import Job
from glint.infra.runtime import Runtime
from glint.infra.timelines import RedisTimelineStore
from tests.conftest import base_settings, own_app
from tests.factories import images
from tests.factories.accounts import register
from tests.factories.posts import upload, wait_for_post
from tests.feeds.helpers import feed_ids
from tests.live import free_port


async def test_feed_served_from_the_database_while_redis_is_down(tmp_path: Path) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    settings = base_settings(tmp_path, redis_url=dead_redis, redis_retry_seconds=60)
    async with own_app(settings) as (rt, client):
        assert isinstance(rt.timelines, RedisTimelineStore)
        await rt.jobs.start()
        alice, bob = await register(client, "alice"), await register(client, "bob")
        assert (await client.post("/users/alice/follow", headers=bob.auth)).status_code == 200
        posted = (await upload(client, alice, files=[images.jpeg(64, 48)])).json()["id"]
        assert (await wait_for_post(client, alice, posted))["status"] == "published"
        started = time.monotonic()
        for _ in range(10):
            assert await feed_ids(client, bob) == [posted]
        # The breaker is open: ten reads do not wait ten times for a connection timeout.
        assert time.monotonic() - started < 5
        await client.post("/users/alice/mute", headers=bob.auth)
        assert await feed_ids(client, bob) == []
        assert await feed_ids(client, alice) == [posted]
        # The fan-out job keeps failing; once it is dead, the lost write makes every stored
        # timeline stale, so each is rebuilt from the database when Redis is back.
        deadline = time.monotonic() + 30
        while await _fanout_status(rt) != "dead":
            assert time.monotonic() < deadline, "fan-out job never gave up"
            await asyncio.sleep(0.2)
        assert await rt.generations.current() >= 1


async def _fanout_status(rt: Runtime) -> str | None:
    async with rt.db.session() as session:
        return await session.scalar(
            sa.select(Job.status).where(Job.name == "post.published:feeds.fan_out")
        )
