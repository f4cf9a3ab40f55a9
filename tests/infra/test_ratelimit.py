"""One contract for rate limits, run against in-memory and Redis storage."""

from __future__ import annotations

import pytest

from glint.infra.ratelimit import RateLimiter
from glint.infra.runtime import Runtime


@pytest.fixture
def limiter(clean_runtime: Runtime) -> RateLimiter:
    """The runtime's limiter, switched on."""
    clean_runtime.limiter.enabled = True
    return clean_runtime.limiter


async def test_allows_up_to_the_limit_then_refuses(limiter: RateLimiter) -> None:
    for expected_remaining in (2, 1, 0):
        result = await limiter.hit("3/minute", "posts", "user:1")
        assert result.allowed
        assert result.remaining == expected_remaining
        assert result.limit == 3
    refused = await limiter.hit("3/minute", "posts", "user:1")
    assert not refused.allowed
    assert refused.headers()["Retry-After"].isdigit()
    assert 1 <= refused.retry_after <= 60
    # Other keys and other actions have their own windows.
    assert (await limiter.hit("3/minute", "posts", "user:2")).allowed
    assert (await limiter.hit("3/minute", "likes", "user:1")).allowed


async def test_peek_does_not_count(limiter: RateLimiter) -> None:
    for _ in range(5):
        assert (await limiter.peek("1/minute", "failed_logins", "ip:1")).allowed
    await limiter.hit("1/minute", "failed_logins", "ip:1")
    assert not (await limiter.peek("1/minute", "failed_logins", "ip:1")).allowed


async def test_reset_forgets_a_key(limiter: RateLimiter) -> None:
    await limiter.hit("1/minute", "a", "k")
    assert not (await limiter.hit("1/minute", "a", "k")).allowed
    await limiter.reset("1/minute", "a", "k")
    assert (await limiter.hit("1/minute", "a", "k")).allowed


async def test_switched_off_allows_everything(limiter: RateLimiter) -> None:
    limiter.enabled = False
    for _ in range(10):
        assert (await limiter.hit("1/minute", "a", "k")).allowed
