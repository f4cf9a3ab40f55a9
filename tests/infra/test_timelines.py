"""One contract for the timeline store, run against SQL (embedded) and Redis (scale-out)."""

from __future__ import annotations

import datetime as dt

import pytest
import redis.asyncio as aioredis

from glint.infra.breaker import CircuitBreaker
from glint.infra.runtime import Runtime
from glint.infra.timelines import (
    RedisTimelineStore,
    SqlTimelineStore,
    TimelineStore,
    TimelineUnavailable,
)


@pytest.fixture
def store(clean_runtime: Runtime) -> TimelineStore:
    """The runtime's store: SQL embedded, Redis scale-out."""
    expected = RedisTimelineStore if clean_runtime.redis is not None else SqlTimelineStore
    assert isinstance(clean_runtime.timelines, expected)
    return clean_runtime.timelines


async def test_unbuilt_timeline_is_not_fresh(store: TimelineStore) -> None:
    assert await store.read(1, before_id=None, limit=10, generation=0) is None
    await store.push(100, [1])  # a push alone does not make a timeline fresh
    assert await store.read(1, before_id=None, limit=10, generation=0) is None


async def test_rebuild_then_read_newest_first_with_keyset(store: TimelineStore) -> None:
    await store.rebuild(7, [10, 30, 20, 30], generation=0)
    assert await store.read(7, before_id=None, limit=10, generation=0) == [30, 20, 10]
    assert await store.read(7, before_id=30, limit=1, generation=0) == [20]
    assert await store.read(7, before_id=10, limit=5, generation=0) == []
    assert await store.read(8, before_id=None, limit=5, generation=0) is None


async def test_push_add_remove_retract(store: TimelineStore) -> None:
    for user in (1, 2, 3):
        await store.rebuild(user, [], generation=0)
    await store.push(50, [1, 2])
    await store.push(50, [1])  # idempotent
    await store.add(3, [40, 45])
    assert await store.read(1, before_id=None, limit=5, generation=0) == [50]
    assert await store.read(3, before_id=None, limit=5, generation=0) == [45, 40]
    await store.remove(3, [45, 999])
    assert await store.read(3, before_id=None, limit=5, generation=0) == [40]
    await store.retract(50, [1, 2])
    assert await store.read(1, before_id=None, limit=5, generation=0) == []
    assert await store.read(2, before_id=None, limit=5, generation=0) == []


async def test_cap_keeps_the_newest(store: TimelineStore) -> None:
    cap = store.cap
    await store.rebuild(1, list(range(1, cap + 11)), generation=0)
    ids = await store.read(1, before_id=None, limit=cap + 50, generation=0)
    assert ids is not None
    assert len(ids) == cap and ids[0] == cap + 10 and ids[-1] == 11
    await store.push(cap + 100, [1])
    await store.trim()
    ids = await store.read(1, before_id=None, limit=cap + 50, generation=0)
    assert ids is not None
    assert len(ids) == cap and ids[0] == cap + 100 and 11 not in ids


async def test_generation_and_forget_make_it_stale(store: TimelineStore) -> None:
    await store.rebuild(1, [5], generation=3)
    assert await store.read(1, before_id=None, limit=5, generation=3) == [5]
    assert await store.read(1, before_id=None, limit=5, generation=4) is None
    await store.forget(1)
    assert await store.read(1, before_id=None, limit=5, generation=3) is None


async def test_redis_down_fails_fast_through_the_breaker() -> None:
    client = aioredis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.5, socket_timeout=0.5
    )
    breaker = CircuitBreaker("redis", reset_after=60)
    store = RedisTimelineStore(client, prefix="t:", fresh_for=dt.timedelta(days=1), breaker=breaker)
    try:
        with pytest.raises(TimelineUnavailable):
            await store.read(1, before_id=None, limit=5, generation=0)
        assert breaker.is_open
        failures = breaker.failures
        with pytest.raises(TimelineUnavailable):
            await store.push(1, [1, 2])
        assert breaker.failures == failures  # refused without trying the connection
    finally:
        await client.aclose()


async def test_a_push_leaves_unbuilt_redis_timelines_alone(clean_runtime: Runtime) -> None:
    """Fan-out skips followers whose timeline is not built: their next read rebuilds it, and
    a key written anyway would live forever (it has no expiry)."""
    if clean_runtime.redis is None:
        pytest.skip("the SQL store keeps entries in a table with the timeline's state")
    store = clean_runtime.timelines
    await store.rebuild(1, [], generation=0)
    await store.push(70, [1, 2])
    assert await store.read(1, before_id=None, limit=5, generation=0) == [70]
    prefix = clean_runtime.settings.redis_prefix
    assert await clean_runtime.redis.exists(f"{prefix}tl:2") == 0
    assert await clean_runtime.redis.ttl(f"{prefix}tl:1") > 0
