"""The shared Redis client of the scale-out implementations."""

from __future__ import annotations

import redis.asyncio as aioredis


def connect(url: str) -> aioredis.Redis:
    """A pooled client with short timeouts, so a dead Redis fails fast instead of hanging."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=1.0,
        socket_timeout=2.0,
        health_check_interval=30,
        decode_responses=False,
    )


class RedisShardAllocator:
    """Scale-out: a counter in Redis numbers every process that starts."""

    def __init__(self, client: aioredis.Redis, *, prefix: str) -> None:
        self._client = client
        self._key = f"{prefix}ids:next_shard"

    async def allocate(self) -> int:
        """The next shard number, wrapping at the shard space."""
        from glint.infra.ids import MAX_SHARD

        value = int(await self._client.incr(self._key))
        return value & MAX_SHARD
