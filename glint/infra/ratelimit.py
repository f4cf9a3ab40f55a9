"""Rate limiting with the `limits` library: in-memory embedded, Redis at scale (moving window)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


@dataclass(frozen=True, slots=True)
class RateLimitResult:
    """The verdict on one request, with what the X-RateLimit-* headers need."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window frees a slot."""
        return max(1, math.ceil(self.reset_at - time.time()))

    def headers(self) -> dict[str, str]:
        """The X-RateLimit-* headers (and Retry-After when refused)."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


@lru_cache(maxsize=64)
def _parse(limit: str) -> RateLimitItem:
    return parse(limit)


class RateLimiter:
    """Counts hits per (limit, identifiers) in a moving window; can be switched off."""

    def __init__(self, storage: Storage, *, enabled: bool = True) -> None:
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(storage)
        self.enabled = enabled

    async def hit(self, limit: str, *identifiers: str) -> RateLimitResult:
        """Count one hit and say whether it was within the limit."""
        item = _parse(limit)
        if not self.enabled:
            return RateLimitResult(True, item.amount, item.amount, time.time())
        allowed = await self._strategy.hit(item, *identifiers)
        return await self._result(item, identifiers, allowed)

    async def peek(self, limit: str, *identifiers: str) -> RateLimitResult:
        """Say whether one more hit would be allowed, without counting it."""
        item = _parse(limit)
        if not self.enabled:
            return RateLimitResult(True, item.amount, item.amount, time.time())
        allowed = await self._strategy.test(item, *identifiers)
        return await self._result(item, identifiers, allowed)

    async def reset(self, limit: str, *identifiers: str) -> None:
        """Forget the hits of one key (after a successful login, say)."""
        await self._strategy.clear(_parse(limit), *identifiers)

    async def _result(
        self, item: RateLimitItem, identifiers: tuple[str, ...], allowed: bool
    ) -> RateLimitResult:
        stats = await self._strategy.get_window_stats(item, *identifiers)
        return RateLimitResult(allowed, item.amount, stats.remaining, stats.reset_time)

    async def clear_all(self) -> None:
        """Forget every counter (tests and benchmarks)."""
        await self._storage.reset()


def memory_rate_limiter(*, enabled: bool) -> RateLimiter:
    """Embedded: counters in this process."""
    return RateLimiter(MemoryStorage(), enabled=enabled)


def redis_rate_limiter(url: str, *, prefix: str, enabled: bool) -> RateLimiter:
    """Scale-out: counters in Redis, shared by every instance."""
    storage = RedisStorage(
        "async+" + url, implementation="redispy", key_prefix=prefix + "rl", wrap_exceptions=True
    )
    return RateLimiter(storage, enabled=enabled)
