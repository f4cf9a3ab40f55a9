"""Key-value cache: an in-process LRU embedded, Redis at scale. Values are bytes, TTLs seconds."""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from glint.infra import redis_client
from glint.infra.breaker import CircuitBreaker

T = TypeVar("T")


class CacheUnavailable(Exception):
    """The cache backend did not answer."""


class Cache(Protocol):
    """A small key-value store with expiry; a miss is never an error."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired."""
        ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Values in the order of the keys."""
        ...

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Store a value, expiring after ttl seconds when given."""
        ...

    async def set_many(self, items: dict[str, bytes], *, ttl: float | None = None) -> None:
        """Store several values with one expiry."""
        ...

    async def delete(self, *keys: str) -> None:
        """Forget keys; missing ones are fine."""
        ...

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add to an integer counter (created at 0), setting the expiry when it is created."""
        ...

    async def ping(self) -> None:
        """Raise CacheUnavailable if the backend does not answer."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryCache:
    """Embedded: a bounded LRU dictionary in this process."""

    def __init__(self, *, max_entries: int = 100_000) -> None:
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._max_entries = max_entries

    def _live(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    def _store(self, key: str, value: bytes, ttl: float | None) -> None:
        expires = None if ttl is None else time.monotonic() + ttl
        self._data[key] = (value, expires)
        self._data.move_to_end(key)
        while len(self._data) > self._max_entries:
            self._data.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired."""
        return self._live(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Values in the order of the keys."""
        return [self._live(key) for key in keys]

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Store a value."""
        self._store(key, value, ttl)

    async def set_many(self, items: dict[str, bytes], *, ttl: float | None = None) -> None:
        """Store several values."""
        for key, value in items.items():
            self._store(key, value, ttl)

    async def delete(self, *keys: str) -> None:
        """Forget keys."""
        for key in keys:
            self._data.pop(key, None)

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add to a counter."""
        current = self._live(key)
        if current is None:
            value = amount
            self._store(key, str(value).encode(), ttl)
        else:
            value = int(current) + amount
            expires = self._data[key][1]
            self._data[key] = (str(value).encode(), expires)
        return value

    async def ping(self) -> None:
        """Always answers: it lives in this process."""

    async def close(self) -> None:
        """Drop everything."""
        self._data.clear()


class RedisCache:
    """Scale-out: Redis strings under a prefix, shared by every instance."""

    def __init__(
        self, client: aioredis.Redis, *, prefix: str, breaker: CircuitBreaker | None = None
    ) -> None:
        self._client = client
        self._prefix = prefix + "cache:"
        # While Redis is down, calls fail at once instead of each waiting for a timeout.
        self._breaker = breaker or CircuitBreaker("redis")

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        return await redis_client.guarded(self._breaker, operation, unavailable=CacheUnavailable)

    def _key(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired."""
        value = await self._call(lambda: self._client.get(self._key(key)))
        return _as_bytes(value)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Values in the order of the keys, in one round trip."""
        if not keys:
            return []
        values = await self._call(lambda: self._client.mget([self._key(k) for k in keys]))
        return [_as_bytes(value) for value in values]

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Store a value."""
        await self._call(lambda: self._client.set(self._key(key), value, px=_ms(ttl)))

    async def set_many(self, items: dict[str, bytes], *, ttl: float | None = None) -> None:
        """Store several values in one pipeline."""
        if not items:
            return

        async def write() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, value in items.items():
                    pipe.set(self._key(key), value, px=_ms(ttl))
                await pipe.execute()

        await self._call(write)

    async def delete(self, *keys: str) -> None:
        """Forget keys."""
        if keys:
            await self._call(lambda: self._client.delete(*[self._key(k) for k in keys]))

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add to a counter atomically."""
        full = self._key(key)

        async def add() -> list[object]:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incrby(full, amount)
                if ttl is not None:
                    pipe.pexpire(full, _ms(ttl) or 1, nx=True)
                return list(await pipe.execute())

        results = await self._call(add)
        return int(str(results[0]))

    async def ping(self) -> None:
        """Raise CacheUnavailable unless Redis answers (the breaker does not stop a ping)."""
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            raise CacheUnavailable(str(exc)) from exc

    async def close(self) -> None:
        """Nothing to do: the shared client is closed by its owner."""


def _ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))


def _as_bytes(value: bytes | str | None) -> bytes | None:
    # The client is built with decode_responses=False, so str never comes back; typing says it may.
    return value.encode() if isinstance(value, str) else value


async def load_json(cache: Cache, key: str) -> Any:
    """The JSON value cached under `key`; None when absent, unreadable or the cache is down
    (the caller computes afresh)."""
    try:
        raw = await cache.get(key)
    except CacheUnavailable:
        return None
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


async def store_json(cache: Cache, key: str, value: Any, *, ttl: float) -> None:
    """Cache a JSON value for `ttl` seconds; with the cache down nothing is kept (the next
    reader computes afresh)."""
    with contextlib.suppress(CacheUnavailable):
        await cache.set(key, orjson.dumps(value), ttl=ttl)
