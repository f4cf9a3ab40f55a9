"""One contract for the cache, run against the in-process LRU and Redis."""

from __future__ import annotations

import asyncio

import pytest

from glint.infra import cache as cache_mod
from glint.infra.cache import Cache, CacheUnavailable, MemoryCache, RedisCache
from glint.infra.redis_client import connect
from glint.infra.runtime import Runtime


@pytest.fixture
def cache(clean_runtime: Runtime) -> Cache:
    """The runtime's cache: MemoryCache embedded, RedisCache scale-out."""
    expected = RedisCache if clean_runtime.redis is not None else MemoryCache
    assert isinstance(clean_runtime.cache, expected)
    return clean_runtime.cache


async def test_set_get_delete(cache: Cache) -> None:
    assert await cache.get("missing") is None
    await cache.set("k", b"value")
    assert await cache.get("k") == b"value"
    await cache.set("k", b"other")
    assert await cache.get("k") == b"other"
    await cache.delete("k", "never-there")
    assert await cache.get("k") is None


async def test_many(cache: Cache) -> None:
    await cache.set_many({"a": b"1", "b": b"2"})
    assert await cache.get_many(["a", "x", "b"]) == [b"1", None, b"2"]
    assert await cache.get_many([]) == []


async def test_expiry(cache: Cache) -> None:
    await cache.set("short", b"x", ttl=0.05)
    await cache.set("long", b"y", ttl=60)
    await asyncio.sleep(0.12)
    assert await cache.get("short") is None
    assert await cache.get("long") == b"y"


async def test_incr_is_atomic_under_concurrency(cache: Cache) -> None:
    results = await asyncio.gather(*(cache.incr("counter", ttl=60) for _ in range(100)))
    assert sorted(results) == list(range(1, 101))
    assert await cache.incr("counter", 5) == 105


async def test_ping(cache: Cache) -> None:
    await cache.ping()


def test_memory_cache_is_bounded() -> None:
    async def fill() -> list[bytes | None]:
        small = MemoryCache(max_entries=3)
        for key in "abcd":
            await small.set(key, key.encode())
        return await small.get_many(list("abcd"))

    assert asyncio.run(fill()) == [None, b"b", b"c", b"d"]


async def test_dead_redis_fails_fast_with_cache_unavailable() -> None:
    client = connect("redis://127.0.0.1:1/0")
    dead = RedisCache(client, prefix="x:")
    try:
        with pytest.raises(CacheUnavailable):
            await asyncio.wait_for(dead.get("k"), timeout=5)
        with pytest.raises(CacheUnavailable):
            await dead.ping()
    finally:
        await client.aclose()


async def test_json_values_round_trip_and_a_cache_down_keeps_nothing() -> None:
    cache = MemoryCache()
    await cache_mod.store_json(cache, "k", {"ids": [1, 2]}, ttl=60)
    assert await cache_mod.load_json(cache, "k") == {"ids": [1, 2]}
    await cache.set("garbled", b"{not json", ttl=60)
    assert await cache_mod.load_json(cache, "garbled") is None
    assert await cache_mod.load_json(cache, "missing") is None
    down = connect("redis://127.0.0.1:1/0")
    try:
        dead = RedisCache(down, prefix="t:")
        await cache_mod.store_json(dead, "k", [1], ttl=60)  # no error: nothing kept
        assert await cache_mod.load_json(dead, "k") is None
    finally:
        await down.aclose()
